#![warn(missing_docs)]
//! Weir's identity domain: tenants (organisations), users, user groups, roles, menus
//! (function codes), named permissions, resource grants,
//! login with rotating refresh tokens, and the permission checks every API uses.
//!
//! No web framework and no database here: the use-cases in [`service`] are generic over
//! the ports in [`ports`], so another Rust program can run them with its own storage.
//! Ready-made port implementations that need no I/O live in [`crypto`] (bcrypt, JWT).

pub(crate) mod cache;
pub mod crypto;
pub mod errors;
pub mod models;
pub mod permissions;
pub mod ports;
pub mod principal;
pub mod seed;
pub mod service;
pub mod sso;
pub mod throttle;

pub use errors::{
    AuthError, AuthenticateError, FieldError, GroupError, MenuError, RoleError, UserError,
};
pub use models::*;
pub use ports::{
    GroupRepo, IdentityChange, IdentityChanges, IdentityStore, IdentityTx, MenuRepo,
    PasswordHasher, RefreshTokenRepo, ResourceDirectory, ResourceGrantRepo, RoleRepo, SsoRepo,
    TenantRepo, ThrottleRepo, TokenCodec, UserRepo,
};
pub use principal::Principal;
pub use service::{IdentityService, IdentitySettings};
pub use sso::{OpenIdClient, SsoError, SsoProvider};
