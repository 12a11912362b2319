//! The identity use-cases (single sign-on in `sso`). One [`IdentityService`] holds the ports; its methods are split
//! by area into the modules below. Every method is blocking (it may hash a password or
//! wait on the database): async callers run it on a blocking thread.

mod accounts;
mod auth;
mod groups;
mod menus;
mod role_profiles;
mod roles;
mod sso;
mod tenants;
mod users;

use std::sync::{Arc, OnceLock, RwLock};

use weir_kernel::store::write;
use weir_kernel::{Clock, IdGenerator, StoreError, TenantId};

use crate::cache::PrincipalCache;
use crate::ports::{
    IdentityChange, IdentityChanges, IdentityStore, IdentityTx, PasswordHasher, ResourceDirectory,
    TokenCodec,
};
use crate::sso::OpenIdClient;
use crate::throttle::{LoginThrottle, ThrottleLimits};

pub use accounts::{Account, AccountInput, AccountUpdate};
pub use auth::{ClientCredentials, RegisterInput};
pub use groups::{GroupInput, GroupUpdate, LinkFailure, LinkMode};
pub use menus::{MenuInput, MenuNode, MenuUpdate};
pub use role_profiles::{ROLE_PROFILE_SORTS, RoleChanges, RoleFilter, RoleProfile};
pub use roles::{ROLE_SORTS, RoleInput};
pub use sso::{SsoCallback, SsoProviderView, SsoSignIn, SsoStart};
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
    /// How long an authenticated user's principal (roles, codes, grants, menus) is kept in
    /// memory, in milliseconds; 0 reads it from the store on every request. Every identity
    /// change made through this service (or applied with
    /// [`IdentityService::apply_peer_change`]) drops it at once; the age limit only bounds
    /// how long a change made behind the service's back goes unseen. Default 5 s.
    pub principal_cache_ttl_ms: i64,
    /// At most this many users' principals are kept; 0 disables the cache. Default 10,000.
    pub principal_cache_entries: usize,
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
            principal_cache_ttl_ms: 5_000,
            principal_cache_entries: 10_000,
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
    /// Who the authenticated users are, kept between requests (see [`crate::cache`]).
    cache: PrincipalCache,
    /// Told of every identity change made here ([`Self::observe_changes`]).
    observers: RwLock<Vec<Arc<dyn IdentityChanges>>>,
    /// Speaks OpenID Connect for single sign-on, once set ([`Self::sign_in_with`]).
    openid: OnceLock<Arc<dyn OpenIdClient>>,
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
            cache: PrincipalCache::new(
                settings.principal_cache_ttl_ms,
                settings.principal_cache_entries,
            ),
            observers: RwLock::new(Vec::new()),
            store: ports.store,
            hasher: ports.hasher,
            tokens: ports.tokens,
            ids: ports.ids,
            clock: ports.clock,
            settings,
            dummy_hash: OnceLock::new(),
            resources: OnceLock::new(),
            openid: OnceLock::new(),
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

    /// Tells `observer` of every identity change this service makes from now on (after the
    /// local cache has forgotten it), e.g. to relay it to the other nodes of a cluster.
    pub fn observe_changes(&self, observer: Arc<dyn IdentityChanges>) {
        self.observers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(observer);
    }

    /// Applies a change another node made: forgets the cached principals of its tenant.
    /// Observers are not told (the change is not this node's to relay).
    pub fn apply_peer_change(&self, change: &IdentityChange) {
        self.cache.invalidate_tenant(&change.tenant);
    }

    /// How many users' principals are cached now.
    pub fn cached_principals(&self) -> usize {
        self.cache.len()
    }

    /// Tenant `t`'s identity data changed here: forget its cached principals, tell observers.
    fn changed(&self, t: &TenantId) {
        self.cache.invalidate_tenant(t);
        let change = IdentityChange { tenant: t.clone() };
        for o in self
            .observers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            o.changed(&change);
        }
    }

    /// Runs `f` in a write transaction that changes tenant `t`'s identity data, then
    /// signals the change. Signalled whatever `f` answers: a failed commit may still have
    /// landed, and a needless invalidation only costs a re-read.
    fn write_changing<R, E: From<StoreError>>(
        &self,
        t: &TenantId,
        f: impl FnOnce(&mut (dyn IdentityTx + 'static)) -> Result<R, E>,
    ) -> Result<R, E> {
        let out = write(self.store(), f);
        self.changed(t);
        out
    }
}
