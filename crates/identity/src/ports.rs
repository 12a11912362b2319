//! The ports the identity use-cases need: one repository port per aggregate (tenants,
//! users, roles, groups, menus, resource grants, refresh tokens, login throttle records,
//! single sign-on),
//! composed into [`IdentityTx`], which the storage adapter implements. [`crate::crypto`]
//! has ready-made [`PasswordHasher`] and [`TokenCodec`] implementations.

use weir_kernel::{Id, Millis, PageRequest, StoreError, TenantId, Transactions};

use crate::models::*;
use crate::sso::{ExternalIdentity, SsoAttempt, SsoProvider};
use crate::throttle::ThrottleRecord;

type R<T> = Result<T, StoreError>;

/// Tenants: the organisation tree every other identity row belongs to.
pub trait TenantRepo {
    /// The tenant with this id, if any.
    fn tenant(&mut self, id: &TenantId) -> R<Option<Tenant>>;
    /// Every tenant, enabled or not.
    fn tenants(&mut self) -> R<Vec<Tenant>>;
    /// Adds a tenant; its id must be new.
    fn insert_tenant(&mut self, tenant: &Tenant) -> R<()>;
    /// Writes name, parent, path, order and enabled.
    fn update_tenant(&mut self, tenant: &Tenant) -> R<()>;
    /// Marks the tenant as having its first user; false if it already had one. Concurrent
    /// callers are serialised by the database, so only one of them gets true.
    fn claim_tenant_initialization(&mut self, id: &TenantId) -> R<bool>;
}

/// Users of a tenant, by id, login name or email, and searched.
pub trait UserRepo {
    /// Adds a user; its id must be new.
    fn insert_user(&mut self, user: &User) -> R<()>;
    /// Writes every field but the id, tenant and creation time.
    fn update_user(&mut self, user: &User) -> R<()>;
    /// The user with this id in tenant `t`, if any.
    fn user(&mut self, t: &TenantId, id: Id) -> R<Option<User>>;
    /// The user with whether their tenant is enabled, in one statement: the per-request
    /// token check.
    fn user_and_tenant_state(&mut self, t: &TenantId, id: Id) -> R<Option<(User, bool)>>;
    /// The user of tenant `t` with this email, if any.
    fn user_by_email(&mut self, t: &TenantId, email: &Email) -> R<Option<User>>;
    /// The user of tenant `t` with this login name (exact), if any.
    fn user_by_username(&mut self, t: &TenantId, username: &str) -> R<Option<User>>;
    /// The users of tenant `t` among `ids`; unknown ids are left out.
    fn users(&mut self, t: &TenantId, ids: &[Id]) -> R<Vec<User>>;
    /// Users whose nickname or email contains `keyword` (case-insensitive), newest first
    /// unless the page says otherwise.
    fn search_users(
        &mut self,
        t: &TenantId,
        keyword: Option<&str>,
        page: &PageRequest,
    ) -> R<(Vec<User>, i64)>;
    /// Deletes users with their role links and refresh tokens; returns how many went.
    fn delete_users(&mut self, t: &TenantId, ids: &[Id]) -> R<usize>;
    /// How many users tenant `t` has.
    fn count_users(&mut self, t: &TenantId) -> R<i64>;
}

/// Which roles a listing answers.
#[derive(Debug, Clone, Default)]
pub struct RoleFilter {
    /// Only roles without an organisation.
    pub global_only: bool,
    /// Only roles whose name contains this (trimmed; case-insensitive; blank: any).
    pub name_contains: Option<String>,
    /// Only enabled (`Some(true)`) or disabled (`Some(false)`) roles; `None`: either.
    pub enabled: Option<bool>,
}

/// Roles with their named permissions and their direct members (users). What a role
/// grants beyond names lives in [`MenuRepo`] and [`ResourceGrantRepo`]; roles given to
/// groups in [`GroupRepo`].
pub trait RoleRepo {
    /// Adds a role; its id must be new.
    fn insert_role(&mut self, role: &Role) -> R<()>;
    /// Writes every field but the id, tenant, creator and creation time.
    fn update_role(&mut self, role: &Role) -> R<()>;
    /// The role with this id in tenant `t`, if any.
    fn role(&mut self, t: &TenantId, id: Id) -> R<Option<Role>>;
    /// The role of tenant `t` with this name (exact), if any.
    fn role_by_name(&mut self, t: &TenantId, name: &str) -> R<Option<Role>>;
    /// The roles of tenant `t` among `ids`; unknown ids are left out.
    fn roles_by_ids(&mut self, t: &TenantId, ids: &[Id]) -> R<Vec<Role>>;
    /// Every role of the tenant, by name.
    fn all_roles(&mut self, t: &TenantId) -> R<Vec<Role>>;
    /// Deletes the role with its permissions, members, menus, resource grants and group grants.
    fn delete_role(&mut self, t: &TenantId, id: Id) -> R<()>;
    /// One page of the roles of tenant `t` matching `keyword` (`None`: all), with their
    /// counts, and how many match in all.
    fn search_roles(
        &mut self,
        t: &TenantId,
        keyword: Option<&str>,
        page: &PageRequest,
    ) -> R<(Vec<RoleSummary>, i64)>;
    /// One page of the roles that pass `filter`, sorted by the page's terms (checked
    /// against `service::ROLE_PROFILE_SORTS`; newest first when there are none), with how
    /// many pass in all.
    fn filtered_roles(
        &mut self,
        t: &TenantId,
        filter: &RoleFilter,
        page: &PageRequest,
    ) -> R<(Vec<Role>, i64)>;
    /// Roles given directly to each of the given users, as (user id, role) pairs.
    fn roles_of_users(&mut self, t: &TenantId, users: &[Id]) -> R<Vec<(Id, Role)>>;
    /// The enabled roles a user holds, directly or through a group: the per-request
    /// lookup, kept to a statement the database can keep prepared.
    fn roles_of_user(&mut self, t: &TenantId, user: Id) -> R<Vec<Role>>;
    /// Roles given directly to one user, enabled or not.
    fn direct_roles_of_user(&mut self, t: &TenantId, user: Id) -> R<Vec<Role>>;

    // Named permissions
    /// The role's named permissions.
    fn role_permissions(&mut self, t: &TenantId, role: Id) -> R<Vec<String>>;
    /// Replaces the role's named permissions.
    fn set_role_permissions(&mut self, t: &TenantId, role: Id, names: &[String]) -> R<()>;
    /// The named permissions of the given roles (each once).
    fn permissions_of_roles(&mut self, t: &TenantId, roles: &[Id]) -> R<Vec<String>>;

    // Members
    /// Gives the role directly to users (existing members stay); `now` is when they joined.
    fn add_role_users(&mut self, t: &TenantId, role: Id, users: &[Id], now: Millis) -> R<()>;
    /// Takes the role from users who hold it directly; others are ignored.
    fn remove_role_users(&mut self, t: &TenantId, role: Id, users: &[Id]) -> R<()>;
    /// The role's direct members, those matching `keyword` (`None`: all).
    fn role_members(&mut self, t: &TenantId, role: Id, keyword: Option<&str>) -> R<Vec<User>>;
    /// Direct members of each of the given roles, as (role id, user id) pairs.
    fn members_of_roles(&mut self, t: &TenantId, roles: &[Id]) -> R<Vec<(Id, Id)>>;
    /// How many users hold the role directly.
    fn count_role_users(&mut self, t: &TenantId, role: Id) -> R<i64>;
    /// Users not in the role, matching `keyword`.
    fn users_outside_role(&mut self, t: &TenantId, role: Id, keyword: Option<&str>)
    -> R<Vec<User>>;
}

/// User groups (a tree of paths), the users in them and the roles granted to them.
pub trait GroupRepo {
    /// Adds a group; its id must be new in the tenant.
    fn insert_group(&mut self, group: &Group) -> R<()>;
    /// Writes name, alias, description, code, parent and path.
    fn update_group(&mut self, group: &Group) -> R<()>;
    /// The group with this id in tenant `t`, if any.
    fn group(&mut self, t: &TenantId, id: &str) -> R<Option<Group>>;
    /// The groups of tenant `t` among `ids`; unknown ids are left out.
    fn groups_by_ids(&mut self, t: &TenantId, ids: &[String]) -> R<Vec<Group>>;
    /// Groups whose path starts with `path/` (every descendant).
    fn groups_under(&mut self, t: &TenantId, path: &str) -> R<Vec<Group>>;
    /// Deletes groups with their memberships and role grants; roles that belonged to
    /// them belong to no group.
    fn delete_groups(&mut self, t: &TenantId, ids: &[String]) -> R<()>;
    /// The groups the user is in, each with whether it is the user's default.
    fn groups_of_user(&mut self, t: &TenantId, user: Id) -> R<Vec<GroupLink>>;
    /// The ids of the user's groups: the per-request lookup.
    fn group_ids_of_user(&mut self, t: &TenantId, user: Id) -> R<Vec<String>>;
    /// The groups the role is granted to.
    fn groups_of_role(&mut self, t: &TenantId, role: Id) -> R<Vec<Group>>;
    /// Adds memberships (existing ones stay) and, when `default` is given, makes that
    /// group the user's only default one.
    fn add_user_groups(
        &mut self,
        t: &TenantId,
        user: Id,
        groups: &[String],
        default: Option<&str>,
    ) -> R<()>;
    /// Takes the user out of groups; groups the user is not in are ignored.
    fn remove_user_groups(&mut self, t: &TenantId, user: Id, groups: &[String]) -> R<()>;
    /// Grants the role to groups (existing grants stay).
    fn add_role_groups(&mut self, t: &TenantId, role: Id, groups: &[String]) -> R<()>;
    /// Takes the role from groups; groups it is not granted to are ignored.
    fn remove_role_groups(&mut self, t: &TenantId, role: Id, groups: &[String]) -> R<()>;
}

/// Menus (function codes, a tree by parent) and the roles that grant them.
pub trait MenuRepo {
    /// Adds a menu; its id must be new.
    fn insert_menu(&mut self, menu: &Menu) -> R<()>;
    /// Writes code, name, type and parent.
    fn update_menu(&mut self, menu: &Menu) -> R<()>;
    /// The menu with this id in tenant `t`, if any.
    fn menu(&mut self, t: &TenantId, id: Id) -> R<Option<Menu>>;
    /// The menu of tenant `t` with this code, if any.
    fn menu_by_code(&mut self, t: &TenantId, code: &str) -> R<Option<Menu>>;
    /// Every menu of tenant `t`.
    fn menus(&mut self, t: &TenantId) -> R<Vec<Menu>>;
    /// The menus of tenant `t` among `ids`; unknown ids are left out.
    fn menus_by_ids(&mut self, t: &TenantId, ids: &[Id]) -> R<Vec<Menu>>;
    /// How many menus sit directly under menu `id`.
    fn count_menu_children(&mut self, t: &TenantId, id: Id) -> R<i64>;
    /// Deletes the menu and its role links.
    fn delete_menu(&mut self, t: &TenantId, id: Id) -> R<()>;
    /// Gives the role menus (existing ones stay).
    fn add_role_menus(&mut self, t: &TenantId, role: Id, menus: &[Id]) -> R<()>;
    /// Takes menus from the role; menus it does not have are ignored.
    fn remove_role_menus(&mut self, t: &TenantId, role: Id, menus: &[Id]) -> R<()>;
    /// The menus the role grants.
    fn role_menus(&mut self, t: &TenantId, role: Id) -> R<Vec<Menu>>;
    /// Menus granted to the user through any of their roles (each once).
    fn menus_of_user(&mut self, t: &TenantId, user: Id) -> R<Vec<Menu>>;
    /// The codes of the menus the given roles grant (each once): the per-request lookup.
    fn menu_codes_of_roles(&mut self, t: &TenantId, roles: &[Id]) -> R<Vec<String>>;
    /// Replaces the menus a role grants.
    fn set_role_menus(&mut self, t: &TenantId, role: Id, menus: &[Id]) -> R<()>;
}

/// Objects of other domains (devices, entities, integrations, dashboards, flows) granted
/// to roles, and what reaches a user through their roles.
pub trait ResourceGrantRepo {
    /// Grants the role resources (existing grants stay).
    fn add_role_resources(&mut self, t: &TenantId, role: Id, items: &[ResourceRef]) -> R<()>;
    /// Takes resource grants from the role; ones it does not have are ignored.
    fn remove_role_resources(&mut self, t: &TenantId, role: Id, items: &[ResourceRef]) -> R<()>;
    /// The resources granted to the role, of type `kind` only when given.
    fn role_resources(
        &mut self,
        t: &TenantId,
        role: Id,
        kind: Option<ResourceType>,
    ) -> R<Vec<ResourceRef>>;
    /// Whether any of the user's roles grants `item`.
    fn user_has_resource(&mut self, t: &TenantId, user: Id, item: &ResourceRef) -> R<bool>;
    /// Every resource granted to the user through any of their roles (each once).
    fn resources_of_user(&mut self, t: &TenantId, user: Id) -> R<Vec<ResourceRef>>;
}

/// Refresh tokens, stored by hash, each usable once.
pub trait RefreshTokenRepo {
    /// Stores a refresh token's record.
    fn insert_refresh_token(&mut self, token: &RefreshTokenRecord) -> R<()>;
    /// Removes and returns the token with this hash; `None` if it is unknown or was
    /// already taken (single use, even under concurrent refreshes).
    fn take_refresh_token(&mut self, token_hash: &str) -> R<Option<RefreshTokenRecord>>;
    /// Deletes every refresh token of the user (a logout everywhere).
    fn delete_refresh_tokens_of_user(&mut self, t: &TenantId, user: Id) -> R<()>;
}

/// The login throttle's records ([`crate::throttle`]), by key. Kept in the store so that
/// every process on one database counts the same failures.
pub trait ThrottleRepo {
    /// The records of `keys`, in that order; a key without one has an empty record.
    fn throttle_records(&mut self, keys: &[&str]) -> R<Vec<ThrottleRecord>>;
    /// Like [`Self::throttle_records`], but each key gets a stored record, locked until the
    /// transaction ends: a failure counted on another process waits for this one, so none
    /// is lost. Call it in a write transaction.
    fn lock_throttle_records(&mut self, keys: &[&str]) -> R<Vec<ThrottleRecord>>;
    /// Writes the record of `key`, which [`Self::lock_throttle_records`] locked.
    fn save_throttle_record(&mut self, key: &str, record: &ThrottleRecord) -> R<()>;
    /// Deletes the record of `key`, if any.
    fn delete_throttle_record(&mut self, key: &str) -> R<()>;
    /// Deletes at most `limit` records whose [`ThrottleRecord::last_event`] is before
    /// `before`, skipping any another transaction holds; answers how many went.
    fn purge_throttle_records(&mut self, before: Millis, limit: i64) -> R<usize>;
}

/// Single sign-on: each tenant's OpenID Connect provider, the sign-ins on their way
/// through a provider, and which provider user is which Weir user.
pub trait SsoRepo {
    /// The tenant's provider, if one is configured.
    fn sso_provider(&mut self, t: &TenantId) -> R<Option<SsoProvider>>;
    /// Stores the tenant's provider, replacing the one it had.
    fn save_sso_provider(&mut self, provider: &SsoProvider) -> R<()>;
    /// Deletes the tenant's provider; false if it had none.
    fn delete_sso_provider(&mut self, t: &TenantId) -> R<bool>;
    /// Stores a sign-in that has left for the provider.
    fn insert_sso_attempt(&mut self, attempt: &SsoAttempt) -> R<()>;
    /// Removes and returns the sign-in with this state hash; `None` if it is unknown or was
    /// already taken (single use, even when two callbacks race).
    fn take_sso_attempt(&mut self, state_hash: &str) -> R<Option<SsoAttempt>>;
    /// Deletes at most `limit` sign-ins started before `before`; answers how many went.
    fn purge_sso_attempts(&mut self, before: Millis, limit: i64) -> R<usize>;
    /// The Weir user linked to the provider user (`issuer`, `subject`) in tenant `t`.
    fn external_identity(&mut self, t: &TenantId, issuer: &str, subject: &str) -> R<Option<Id>>;
    /// Links a provider user to a Weir user; the pair (tenant, issuer, subject) must be new.
    fn insert_external_identity(&mut self, link: &ExternalIdentity) -> R<()>;
    /// The ids of tenant `t`'s groups whose id or (non-empty) code is one of `names`: the
    /// groups a provider's groups claim maps to.
    fn groups_named(&mut self, t: &TenantId, names: &[String]) -> R<Vec<String>>;
}

/// The whole identity repository, as seen inside one transaction: every aggregate's
/// port, so one unit of work can change several of them atomically. Every method that
/// touches tenant-owned rows takes the tenant and filters by it. A helper that needs one
/// aggregate takes its narrower port (`&mut dyn UserRepo`); `&mut dyn IdentityTx`
/// coerces to it.
pub trait IdentityTx:
    TenantRepo
    + UserRepo
    + RoleRepo
    + GroupRepo
    + MenuRepo
    + ResourceGrantRepo
    + RefreshTokenRepo
    + ThrottleRepo
    + SsoRepo
{
}

impl<T> IdentityTx for T where
    T: TenantRepo
        + UserRepo
        + RoleRepo
        + GroupRepo
        + MenuRepo
        + ResourceGrantRepo
        + RefreshTokenRepo
        + ThrottleRepo
        + SsoRepo
{
}

/// Where identity data lives: runs units of work on [`IdentityTx`] in transactions.
pub type IdentityStore = dyn Transactions<dyn IdentityTx>;

/// Which grant targets (devices, entities, integrations, dashboards, flows) exist in a
/// tenant. They live in other domains, so the program that wires Weir answers; a role may be
/// granted only what its tenant has.
pub trait ResourceDirectory: Send + Sync {
    /// The first of `items` that is not an object of tenant `t`, if any.
    fn first_missing(
        &self,
        t: &TenantId,
        items: &[ResourceRef],
    ) -> Result<Option<ResourceRef>, StoreError>;
}

/// Password hashing. Implementations must be slow on purpose (bcrypt, cost >= 10).
pub trait PasswordHasher: Send + Sync {
    /// Hashes a new password; the string is stored as [`User::password_hash`].
    fn hash(&self, password: &Password) -> Result<String, StoreError>;
    /// Whether `password` matches `hash`; false too for a malformed hash.
    fn verify(&self, password: &str, hash: &str) -> bool;
}

/// Signs and checks access tokens.
pub trait TokenCodec: Send + Sync {
    /// Signs claims into an access token.
    fn encode(&self, claims: &AccessClaims) -> Result<String, StoreError>;
    /// Checks an access token's signature and expiry and answers its claims.
    fn decode(&self, token: &str) -> Result<AccessClaims, TokenDecodeError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// Why [`TokenCodec::decode`] refused a token.
pub enum TokenDecodeError {
    /// Not a token, a bad signature, or missing claims.
    Malformed,
    /// Well-formed and signed, but past its `exp`.
    Expired,
}

/// Something about a tenant's identity data changed: a user (created, edited, enabled or
/// disabled, deleted, a new password, tokens revoked), a role, a group, a membership, a
/// menu or its association, a resource grant, or the tenant's state. Whoever caches what
/// a user may do in that tenant must forget it. Issuing tokens (login, refresh) and the
/// login throttle are no change: what a user may do stays the same.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdentityChange {
    /// The tenant whose identity data changed.
    pub tenant: TenantId,
}

/// Told of every identity change after it commits (or after a changing use-case failed,
/// since a failed commit may still have landed), on the thread that made it. The cluster
/// relays these to the other nodes, which apply them with
/// [`IdentityService::apply_peer_change`](crate::IdentityService::apply_peer_change).
/// Implementations must return quickly and never block (queue, then send elsewhere).
pub trait IdentityChanges: Send + Sync {
    /// `change` happened on this node.
    fn changed(&self, change: &IdentityChange);
}
