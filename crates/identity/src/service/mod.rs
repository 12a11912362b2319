//! The identity use-cases. One [`IdentityService`] holds the ports; its methods are split
//! by area into the modules below. Every method is blocking (it may hash a password or
//! wait on the database): async callers run it on a blocking thread.

mod accounts;
mod auth;
mod groups;
mod menus;
mod role_profiles;
mod roles;
mod tenants;
mod users;

use std::sync::{Arc, OnceLock};

use weir_kernel::{Clock, IdGenerator};

use crate::ports::{IdentityStore, PasswordHasher, ResourceDirectory, TokenCodec};
use crate::throttle::{LoginThrottle, ThrottleLimits};

pub use accounts::{Account, AccountInput, AccountUpdate};
pub use auth::{ClientCredentials, RegisterInput};
pub use groups::{GroupInput, GroupUpdate, LinkFailure, LinkMode};
pub use menus::{MenuInput, MenuNode, MenuUpdate};
pub use role_profiles::{ROLE_PROFILE_SORTS, RoleChanges, RoleFilter, RoleProfile};
pub use roles::{ROLE_SORTS, RoleInput};
pub use users::{MEMBER_SORTS, Me, Member, NewMember, UpdateMember};

pub use weir_kernel::SearchQuery;

/// The most ids one batch request may name.
pub const MAX_BATCH: usize = 1000;

#[derive(Debug, Clone)]
/// How the identity use-cases behave: token lifetimes, the OAuth client, throttling and
/// paging. The default suits the reference web console.
pub struct IdentitySettings {
    /// Access tokens live this long. Default 3 hours: the reference web console refreshes
    /// on a 60-minute timer and ignores `expires_in`.
    pub access_token_ttl_secs: i64,
    /// Refresh tokens live this long, in seconds. Default 14 days.
    pub refresh_token_ttl_secs: i64,
    /// The OAuth client id the token endpoint accepts. Default `iab`, the reference console's.
    pub client_id: String,
    /// The OAuth client secret going with [`IdentitySettings::client_id`].
    pub client_secret: String,
    /// How failed logins and `old_password` checks are throttled.
    pub throttle: ThrottleLimits,
    /// Largest page a search answers; larger requests are capped.
    pub max_page_size: u32,
}

impl Default for IdentitySettings {
    fn default() -> Self {
        Self {
            access_token_ttl_secs: 3 * 3600,
            refresh_token_ttl_secs: 14 * 24 * 3600,
            client_id: "iab".into(),
            client_secret: "milesight*iab".into(),
            throttle: ThrottleLimits::default(),
            max_page_size: 1000,
        }
    }
}

/// The ports the identity use-cases run on.
pub struct IdentityPorts {
    /// Where identity data lives.
    pub store: Arc<IdentityStore>,
    /// Hashes and checks passwords ([`crate::crypto::BcryptHasher`]).
    pub hasher: Arc<dyn PasswordHasher>,
    /// Signs and checks access tokens ([`crate::crypto::JwtCodec`]).
    pub tokens: Arc<dyn TokenCodec>,
    /// Hands out the ids of new users, roles and menus.
    pub ids: Arc<IdGenerator>,
    /// The time tokens, rows and the throttle are stamped with.
    pub clock: Arc<dyn Clock>,
}

/// Every identity use-case: login and tokens, users, roles, groups, menus, tenants. Each
/// method taking a [`Principal`](crate::Principal) acts within the caller's tenant and
/// checks what the caller may do first.
pub struct IdentityService {
    store: Arc<IdentityStore>,
    hasher: Arc<dyn PasswordHasher>,
    tokens: Arc<dyn TokenCodec>,
    ids: Arc<IdGenerator>,
    clock: Arc<dyn Clock>,
    throttle: LoginThrottle,
    settings: IdentitySettings,
    /// A hash to verify against when the account does not exist, so that a wrong email
    /// takes as long as a wrong password.
    dummy_hash: OnceLock<String>,
    /// Set once by the program that wires the other domains ([`Self::check_resources_with`]).
    resources: OnceLock<Arc<dyn ResourceDirectory>>,
}

impl std::fmt::Debug for IdentityService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityService").finish_non_exhaustive()
    }
}

impl IdentityService {
    /// A service on `ports`, whose login throttle keeps its records in `ports.store`, and
    /// with no resource directory (see [`Self::check_resources_with`]).
    pub fn new(ports: IdentityPorts, settings: IdentitySettings) -> Self {
        Self {
            throttle: LoginThrottle::new(settings.throttle, ports.clock.clone()),
            store: ports.store,
            hasher: ports.hasher,
            tokens: ports.tokens,
            ids: ports.ids,
            clock: ports.clock,
            settings,
            dummy_hash: OnceLock::new(),
            resources: OnceLock::new(),
        }
    }

    /// Checks grant targets against `directory` from now on: a role is granted only objects
    /// of its own tenant. Without one (identity embedded alone), targets are stored as given.
    pub fn check_resources_with(&self, directory: Arc<dyn ResourceDirectory>) {
        let _ = self.resources.set(directory);
    }

    /// The settings the service was made with.
    pub fn settings(&self) -> &IdentitySettings {
        &self.settings
    }

    fn store(&self) -> &IdentityStore {
        &*self.store
    }
}
