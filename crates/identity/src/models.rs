//! Identity entities and the validated values they are made of.

use std::fmt;

use serde::{Deserialize, Serialize};
use weir_kernel::{Id, Millis, TenantId};

use crate::errors::FieldError;

/// An email address, trimmed and lower-cased: the login name, unique per tenant.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Trims and lower-cases `raw`; refuses, naming `field`, an empty value, one over 254
    /// characters, or one that is not `name@domain` (with a dot in the domain, no spaces).
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let v = raw.trim().to_lowercase();
        let bad = |m: &str| Err(FieldError::new(field, m));
        if v.is_empty() {
            return bad("must not be empty");
        }
        if v.len() > 254 {
            return bad("must be at most 254 characters");
        }
        let Some((local, domain)) = v.split_once('@') else {
            return bad("must be an email address (name@domain)");
        };
        if local.is_empty()
            || domain.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || v.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return bad("must be an email address (name@domain)");
        }
        Ok(Self(v))
    }

    /// The address, trimmed and lower-cased.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For values read back from storage, which were validated when written.
    pub fn from_trusted(v: String) -> Self {
        Self(v)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A plain-text password on its way to the hasher. Never printed.
#[derive(Clone)]
pub struct Password(String);

/// The fewest characters a password may have.
pub const PASSWORD_MIN: usize = 8;
/// The most characters a password may have (see also [`PASSWORD_MAX_BYTES`]).
pub const PASSWORD_MAX: usize = 64;
/// The most bytes of a password bcrypt reads.
pub const PASSWORD_MAX_BYTES: usize = 72;

impl Password {
    /// Checks a new password: [`PASSWORD_MIN`] to [`PASSWORD_MAX`] characters and at most
    /// [`PASSWORD_MAX_BYTES`] bytes; errors name `field`. Not trimmed.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let n = raw.chars().count();
        if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&n) {
            return Err(FieldError::new(
                field,
                format!("must be {PASSWORD_MIN} to {PASSWORD_MAX} characters"),
            ));
        }
        // bcrypt reads 72 bytes and ignores the rest: a longer password would be matched by
        // its prefix alone. Refused rather than pre-digested, so hashes stay plain bcrypt.
        if raw.len() > PASSWORD_MAX_BYTES {
            return Err(FieldError::new(
                field,
                format!(
                    "must be at most {PASSWORD_MAX_BYTES} bytes in UTF-8 (this one has {}): \
                     bcrypt reads no further; use fewer non-ASCII characters",
                    raw.len()
                ),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The password as typed, for the hasher only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Checks a short free-text name: trimmed, 1 to `max` characters, no control characters.
pub fn parse_name(field: &'static str, raw: &str, max: usize) -> Result<String, FieldError> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(v.to_owned())
}

/// Checks optional free text (descriptions): at most `max` characters.
pub fn parse_text(
    field: &'static str,
    raw: Option<&str>,
    max: usize,
) -> Result<String, FieldError> {
    let v = raw.unwrap_or("").trim();
    if v.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(v.to_owned())
}

/// [`parse_name`] of a change that may be absent (`None`: leave the field as it is).
pub fn parse_changed_name(
    field: &'static str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<String>, FieldError> {
    raw.map(|v| parse_name(field, v, max)).transpose()
}

/// [`parse_text`] of a change that may be absent (`None`: leave the field as it is).
pub fn parse_changed_text(
    field: &'static str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<String>, FieldError> {
    raw.map(|v| parse_text(field, Some(v), max)).transpose()
}

/// The most characters of a user's display name, a role's name or a group's code.
pub const NAME_MAX: usize = 64;
/// The most characters of a description.
pub const DESCRIPTION_MAX: usize = 255;

/// A tenant, which is also an organisation: tenants form a tree. The tree is for
/// display and administration; nothing of one tenant is visible from another, parent or
/// child alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// The tenant's id, unique; the last segment of [`Tenant::path`].
    pub id: TenantId,
    /// The display name, 1 to 128 characters.
    pub name: String,
    /// The parent organisation; `None` at the top of the tree.
    pub parent_id: Option<TenantId>,
    /// Ids from the root down to this tenant, joined by '/' (`/default/east`).
    pub path: String,
    /// Position among its siblings.
    pub order: i32,
    /// A disabled tenant's users cannot sign in and their tokens stop working.
    pub enabled: bool,
    /// When it was created (epoch milliseconds).
    pub created_at: Millis,
}

impl Tenant {
    /// An enabled tenant at the top of the tree.
    pub fn top_level(id: TenantId, name: String, now: Millis) -> Self {
        Self {
            path: format!("/{id}"),
            id,
            name,
            parent_id: None,
            order: 0,
            enabled: true,
            created_at: now,
        }
    }
}

/// Whether a user may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UserStatus {
    /// May sign in.
    Normal,
    /// Cannot sign in; every token of the user stops working.
    Disabled,
}

impl UserStatus {
    /// The stored and API spelling: `NORMAL` or `DISABLED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "NORMAL",
            Self::Disabled => "DISABLED",
        }
    }

    /// Reads [`UserStatus::as_str`]'s spelling back; `None` for anything else.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "NORMAL" => Some(Self::Normal),
            "DISABLED" => Some(Self::Disabled),
            _ => None,
        }
    }

    /// `Normal` when `enabled`, else `Disabled`.
    pub fn from_enabled(enabled: bool) -> Self {
        if enabled {
            Self::Normal
        } else {
            Self::Disabled
        }
    }

    /// Whether the user may sign in.
    pub fn is_enabled(self) -> bool {
        self == Self::Normal
    }
}

/// Checks a login name: 1 to 64 characters, no white space or control characters. Unique
/// per tenant; users created with an email have it as their username.
pub fn parse_username(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let v = raw.trim();
    if v.is_empty() || v.chars().count() > 254 {
        return Err(FieldError::new(field, "must be 1 to 254 characters"));
    }
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(FieldError::new(
            field,
            "must not contain spaces or control characters",
        ));
    }
    Ok(v.to_owned())
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// A user account of a tenant. Its roles come directly and through its groups.
pub struct User {
    /// The user's id, unique across tenants.
    pub id: Id,
    /// The tenant the user belongs to; a user never sees another tenant.
    pub tenant_id: TenantId,
    /// The login name, unique per tenant (the email for users made with one).
    pub username: String,
    /// Unique per tenant when present; users made through the Smartbi API may have none.
    pub email: Option<Email>,
    /// The display name (Smartbi's `alias`).
    pub nickname: String,
    /// Free text, at most [`DESCRIPTION_MAX`] characters; empty when none.
    pub description: String,
    /// Whether the user may sign in.
    pub status: UserStatus,
    /// bcrypt hash; never leaves the domain through any API.
    pub password_hash: String,
    /// Bumped to revoke every token of the user at once.
    pub session_epoch: i64,
    /// When it was created (epoch milliseconds).
    pub created_at: Millis,
    /// When it was last changed (epoch milliseconds).
    pub updated_at: Millis,
}

impl User {
    /// A new enabled user with no description.
    pub fn new(
        id: Id,
        tenant_id: TenantId,
        username: String,
        email: Option<Email>,
        nickname: String,
        password_hash: String,
        now: Millis,
    ) -> Self {
        Self {
            id,
            tenant_id,
            username,
            email,
            nickname,
            description: String::new(),
            status: UserStatus::Normal,
            password_hash,
            session_epoch: 0,
            created_at: now,
            updated_at: now,
        }
    }

    /// The email if the user has one, else the login name: what lists show as `email`.
    pub fn email_or_username(&self) -> &str {
        self.email.as_ref().map_or(&self.username, Email::as_str)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// A role: a set of menus (function codes), named permissions and resource grants,
/// held by users directly or through their groups.
pub struct Role {
    /// The role's id, unique across tenants.
    pub id: Id,
    /// The tenant the role belongs to.
    pub tenant_id: TenantId,
    /// The role's name, unique in its tenant, 1 to [`NAME_MAX`] characters.
    pub name: String,
    /// Free text, at most [`DESCRIPTION_MAX`] characters; empty when none.
    pub description: String,
    /// A display name (Smartbi's `alias`); may be empty.
    pub alias: String,
    /// The built-in super-admin role: all menus, all resources; cannot be changed.
    pub built_in: bool,
    /// Whether its named permissions and menus may be edited.
    pub allow_edit_permissions: bool,
    /// A disabled role grants nothing until enabled again.
    pub enabled: bool,
    /// What kind of account the role is meant for; informational only.
    pub role_type: RoleType,
    /// The organisation the role belongs to; `None` for a global role. Always the role's
    /// own tenant when set (organisations never see each other's roles).
    pub organisation_id: Option<TenantId>,
    /// The user who created the role; `None` for seeded roles and roles made without one.
    pub creator_id: Option<Id>,
    /// The user group the role belongs to (where directory APIs list it). Belonging is
    /// not a grant: granting the role to groups is a separate link.
    pub group_id: Option<String>,
    /// When it was created (epoch milliseconds).
    pub created_at: Millis,
    /// When it was last changed (epoch milliseconds).
    pub updated_at: Millis,
}

impl Role {
    /// A new enabled, editable, global CUSTOMER_USER role with no description.
    pub fn new(id: Id, tenant_id: TenantId, name: String, now: Millis) -> Self {
        Self {
            id,
            tenant_id,
            name,
            description: String::new(),
            alias: String::new(),
            built_in: false,
            allow_edit_permissions: true,
            enabled: true,
            role_type: RoleType::CustomerUser,
            organisation_id: None,
            creator_id: None,
            group_id: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// What kind of account a role is meant for (ThingsKit's `roleType`). Informational:
/// what a role allows comes from its menus, named permissions and resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RoleType {
    /// `CUSTOMER_USER`: an ordinary user of the tenant (the default).
    CustomerUser,
    /// `PLATFORM_ADMIN`: an administrator of the platform.
    PlatformAdmin,
    /// `SYS_ADMIN`: a system administrator.
    SysAdmin,
    /// `TENANT_ADMIN`: an administrator of one tenant.
    TenantAdmin,
}

impl RoleType {
    /// Every role type, in the order the API lists them.
    pub const ALL: [RoleType; 4] = [
        Self::CustomerUser,
        Self::PlatformAdmin,
        Self::SysAdmin,
        Self::TenantAdmin,
    ];

    /// The stored and API spelling (`CUSTOMER_USER`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomerUser => "CUSTOMER_USER",
            Self::PlatformAdmin => "PLATFORM_ADMIN",
            Self::SysAdmin => "SYS_ADMIN",
            Self::TenantAdmin => "TENANT_ADMIN",
        }
    }

    /// Reads [`RoleType::as_str`]'s spelling; anything else is refused, naming `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == raw)
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "must be one of CUSTOMER_USER, PLATFORM_ADMIN, SYS_ADMIN, TENANT_ADMIN",
                )
            })
    }
}

/// The id of the fixed root of every tenant's user-group tree.
pub const ROOT_GROUP: &str = "DEPARTMENT";

/// A user group: a node of the tenant's group tree under [`ROOT_GROUP`]. Roles granted to
/// a group apply to its members. Ids are text, because Smartbi clients may choose them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The group's id, unique in its tenant (see [`parse_group_id`]); [`ROOT_GROUP`] for the root.
    pub id: String,
    /// The tenant the group belongs to.
    pub tenant_id: TenantId,
    /// The display name, 1 to 128 characters.
    pub name: String,
    /// A second display name (Smartbi's `alias`), at most 128 characters; may be empty.
    pub alias: String,
    /// Free text, at most [`DESCRIPTION_MAX`] characters; empty when none.
    pub description: String,
    /// A free code for the client's own use, at most [`NAME_MAX`] characters; may be empty.
    pub code: String,
    /// `None` only for the root.
    pub parent_id: Option<String>,
    /// Ids from the root down to this group, joined by '/' (`/DEPARTMENT/sales`).
    pub path: String,
    /// The user who created the group; `None` for the root and groups made without one.
    pub creator_id: Option<Id>,
    /// When it was created (epoch milliseconds).
    pub created_at: Millis,
}

/// Checks a group id a client chose: 1 to 64 characters of letters, digits, '-', '_', '.'.
pub fn parse_group_id(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let v = raw.trim();
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(v.to_owned())
    } else {
        Err(FieldError::new(
            field,
            "must be 1 to 64 characters of letters, digits, '-', '_' and '.'",
        ))
    }
}

/// A membership of a user or role in a group; one of each user's (or role's) groups is
/// the default one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupLink {
    /// The group.
    pub group: Group,
    /// Whether it is the member's default group.
    pub is_default: bool,
}

/// The name of each tenant's built-in super-admin role.
pub const SUPER_ADMIN_ROLE: &str = "super_admin";

#[derive(Debug, Clone, PartialEq, Eq)]
/// A role as role lists show it, with counts of what it reaches.
pub struct RoleSummary {
    /// The role itself.
    pub role: Role,
    /// How many users hold the role directly (not through groups).
    pub user_count: i64,
    /// How many integrations the role is granted.
    pub integration_count: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
/// Whether a [`Menu`] is a part of the console or an operation.
pub enum MenuType {
    /// A page or section of the console.
    Menu,
    /// An operation gated by its code (`device.add`).
    Function,
}

impl MenuType {
    /// The stored and API spelling: `MENU` or `FUNCTION`.
    pub fn as_str(self) -> &'static str {
        match self {
            MenuType::Menu => "MENU",
            MenuType::Function => "FUNCTION",
        }
    }

    /// Reads `MENU` or `FUNCTION`; anything else is refused, naming `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        match raw {
            "MENU" => Ok(Self::Menu),
            "FUNCTION" => Ok(Self::Function),
            _ => Err(FieldError::new(field, "must be MENU or FUNCTION")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// A menu or function code of a tenant; roles hold menus, and the API checks their codes.
pub struct Menu {
    /// The menu's id, unique across tenants.
    pub id: Id,
    /// The tenant the menu belongs to.
    pub tenant_id: TenantId,
    /// Unique per tenant; function codes gate the API (`device.view`).
    pub code: String,
    /// The display name, 1 to 128 characters.
    pub name: String,
    /// A console page or an operation.
    pub menu_type: MenuType,
    /// The menu it sits under; `None` at the top.
    pub parent_id: Option<Id>,
    /// Seeded at tenant creation; the API's permission checks depend on these.
    pub built_in: bool,
    /// When it was created (epoch milliseconds).
    pub created_at: Millis,
}

/// Checks a menu code: 1 to 128 characters of a-z, 0-9, '.', '_' and '-'.
pub fn parse_menu_code(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let v = raw.trim();
    let ok = !v.is_empty()
        && v.len() <= 128
        && v.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if ok {
        Ok(v.to_owned())
    } else {
        Err(FieldError::new(
            field,
            "must be 1 to 128 characters of a-z, 0-9, '.', '_' and '-'",
        ))
    }
}

/// The kinds of object a role can be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ResourceType {
    /// A generic entity (`ENTITY`).
    Entity,
    /// A device (`DEVICE`).
    Device,
    /// An integration, named rather than numbered (`INTEGRATION`).
    Integration,
    /// A dashboard (`DASHBOARD`).
    Dashboard,
    /// A workflow (`WORKFLOW`).
    Workflow,
}

impl ResourceType {
    /// Every resource type, in the order the API lists them.
    pub const ALL: [ResourceType; 5] = [
        Self::Entity,
        Self::Device,
        Self::Integration,
        Self::Dashboard,
        Self::Workflow,
    ];

    /// The stored and API spelling (`ENTITY`, `DEVICE`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Entity => "ENTITY",
            Self::Device => "DEVICE",
            Self::Integration => "INTEGRATION",
            Self::Dashboard => "DASHBOARD",
            Self::Workflow => "WORKFLOW",
        }
    }

    /// Reads [`ResourceType::as_str`]'s spelling; anything else is refused, naming `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == raw)
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "must be one of ENTITY, DEVICE, INTEGRATION, DASHBOARD, WORKFLOW",
                )
            })
    }
}

impl From<ResourceType> for weir_kernel::access::GrantKind {
    fn from(t: ResourceType) -> Self {
        match t {
            ResourceType::Entity => Self::Entity,
            ResourceType::Device => Self::Device,
            ResourceType::Integration => Self::Integration,
            ResourceType::Dashboard => Self::Dashboard,
            ResourceType::Workflow => Self::Workflow,
        }
    }
}

/// A grant target: a resource type and the resource's id (integration ids are names,
/// the others numeric ids; both are kept as text).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceRef {
    /// What kind of object.
    pub resource_type: ResourceType,
    /// The object's id as text, 1 to 128 characters.
    pub resource_id: String,
}

impl ResourceRef {
    /// Checks a grant target; errors name `kind_field` or `id_field`.
    pub fn parse(
        kind_field: &str,
        id_field: &str,
        kind: &str,
        id: &str,
    ) -> Result<Self, FieldError> {
        let resource_type = ResourceType::parse(kind_field, kind)?;
        let id = id.trim();
        if id.is_empty() || id.len() > 128 || id.chars().any(char::is_control) {
            return Err(FieldError::new(id_field, "must be 1 to 128 characters"));
        }
        Ok(Self {
            resource_type,
            resource_id: id.to_owned(),
        })
    }
}

impl From<ResourceRef> for weir_kernel::access::Grant {
    fn from(r: ResourceRef) -> Self {
        Self {
            kind: r.resource_type.into(),
            id: r.resource_id,
        }
    }
}

/// A stored refresh token; only its SHA-256 is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    /// The token's SHA-256, hex-encoded; the token itself is never stored.
    pub token_hash: String,
    /// The tenant of the user it was issued to.
    pub tenant_id: TenantId,
    /// The user it was issued to.
    pub user_id: Id,
    /// When it stops working (epoch milliseconds).
    pub expires_at: Millis,
    /// When it was issued (epoch milliseconds).
    pub created_at: Millis,
}

/// What the token endpoint hands out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenPair {
    /// The signed access token (a JWT carrying [`AccessClaims`]).
    pub access_token: String,
    /// An opaque token to exchange, once, for a new pair.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// The claims inside an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id.
    pub sub: String,
    /// The tenant id.
    pub tid: String,
    /// The user's session epoch when the token was issued.
    pub sep: i64,
    /// Issued at (epoch seconds).
    pub iat: i64,
    /// Expires at (epoch seconds).
    pub exp: i64,
    /// A random id for the token, 32 hex digits.
    pub jti: String,
}
