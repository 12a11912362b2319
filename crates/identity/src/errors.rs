//! One error type per area of use-cases; each presents itself as a [`Problem`].

use weir_kernel::{AsProblem, Id, PageRequestError, Problem, ProblemKind, StoreError};

/// A request field that breaks a rule; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {message}")]
pub struct FieldError {
    /// The request field at fault, as the API names it (`page_size`, `sorts[0].property`).
    pub field: String,
    /// What is wrong with it, phrased to follow the field's name.
    pub message: String,
}

impl FieldError {
    /// A refusal of `field` for `message` (`must not be empty`).
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<PageRequestError> for FieldError {
    fn from(e: PageRequestError) -> Self {
        match e {
            PageRequestError::Number => Self::new("page_number", "must be 1 or more"),
            PageRequestError::Size => Self::new("page_size", "must be 1 or more"),
            PageRequestError::Keyword(k) => Self::new("keyword", k.to_string()),
            PageRequestError::Property {
                index,
                property,
                allowed,
            } => Self::new(
                format!("sorts[{index}].property"),
                format!("`{property}` is not sortable here (allowed: {allowed})"),
            ),
        }
    }
}

impl FieldError {
    fn problem(&self) -> Problem {
        Problem::invalid(self.to_string())
    }
}

/// Refusals of the permission checks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AccessDenied(pub String);

/// Logging in, refreshing and registering.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("tenant `{0}` does not exist")]
    /// The tenant named at login or registration does not exist.
    TenantNotFound(String),
    #[error("invalid client credentials")]
    /// The client id or secret of the token request is wrong.
    InvalidClient,
    #[error("unsupported grant_type `{0}` (use password or refresh_token)")]
    /// The token request's `grant_type` is neither `password` nor `refresh_token`.
    UnsupportedGrant(String),
    #[error("email or password is incorrect")]
    /// No such user, or the password is wrong; which of them is not told.
    InvalidCredentials,
    #[error("this account is disabled")]
    /// The user, or their tenant, is disabled.
    Disabled,
    #[error("refresh token is invalid, expired or already used")]
    /// The refresh token is unknown, expired, or was already exchanged.
    InvalidRefreshToken,
    #[error("too many failed logins, try again in {retry_after_secs} seconds")]
    /// The login throttle locks this address out of this account, or out of every account.
    TooManyAttempts {
        /// Seconds until the lock ends, rounded up.
        retry_after_secs: i64,
    },
    #[error("the tenant already has its first user; ask an administrator for an account")]
    /// Registering the first user of a tenant that already has users.
    AlreadyInitialized,
    #[error("email {0} is already registered")]
    /// Registering with an email another user of the tenant has.
    EmailTaken(String),
    #[error(transparent)]
    /// A request field breaks a rule.
    Invalid(#[from] FieldError),
    #[error(transparent)]
    /// The store failed.
    Store(#[from] StoreError),
}

impl AsProblem for AuthError {
    fn problem(&self) -> Problem {
        let msg = self.to_string();
        match self {
            Self::TenantNotFound(_) => Problem::new(ProblemKind::Invalid, "tenant_not_found", msg),
            Self::InvalidClient | Self::InvalidCredentials | Self::InvalidRefreshToken => {
                Problem::new(ProblemKind::Unauthenticated, "authentication_failed", msg)
            }
            Self::Disabled => Problem::new(ProblemKind::Unauthenticated, "user_disabled", msg),
            Self::UnsupportedGrant(_) => Problem::invalid(format!("grant_type: {msg}")),
            Self::TooManyAttempts { .. } => {
                Problem::new(ProblemKind::TooManyRequests, "request_too_frequently", msg)
            }
            Self::AlreadyInitialized => {
                Problem::new(ProblemKind::Conflict, "tenant_user_inited", msg)
            }
            Self::EmailTaken(_) => {
                Problem::new(ProblemKind::Conflict, "user_register_email_exist", msg)
            }
            Self::Invalid(e) => e.problem(),
            Self::Store(e) => e.problem(),
        }
    }
}

/// Checking an access token on a request.
#[derive(Debug, thiserror::Error)]
pub enum AuthenticateError {
    #[error("access token is malformed or its signature is invalid")]
    /// The token is not a JWT, or its signature or claims do not check out.
    Malformed,
    #[error("access token has expired")]
    /// The token's `exp` has passed.
    Expired,
    #[error("access token has been revoked")]
    /// The user's session epoch moved on since issue (a logout, a password change), or the
    /// user no longer exists.
    Revoked,
    #[error("this account is disabled")]
    /// The user, or their tenant, is disabled.
    Disabled,
    #[error(transparent)]
    /// The store failed.
    Store(#[from] StoreError),
}

impl AsProblem for AuthenticateError {
    fn problem(&self) -> Problem {
        match self {
            Self::Store(e) => e.problem(),
            _ => Problem::new(
                ProblemKind::Unauthenticated,
                "authentication_failed",
                self.to_string(),
            ),
        }
    }
}

/// Managing users (and one's own password).
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("user {0} not found")]
    /// No user with this id in the caller's tenant.
    NotFound(Id),
    #[error("user `{0}` not found")]
    /// No user with this login name in the caller's tenant.
    NotFoundNamed(String),
    #[error("email {0} is already used by another user")]
    /// Another user of the tenant has this email.
    EmailTaken(String),
    #[error("username `{0}` is already used by another user")]
    /// Another user of the tenant has this login name.
    UsernameTaken(String),
    #[error("group `{0}` not found")]
    /// A group to put the user in does not exist in the tenant.
    GroupNotFound(String),
    #[error("old_password is incorrect")]
    /// The `old_password` of a password change is wrong.
    WrongPassword,
    #[error("too many wrong old_password attempts, try again in {retry_after_secs} seconds")]
    /// The login throttle locks the caller out of checking `old_password` for now.
    TooManyAttempts {
        /// Seconds until the lock ends, rounded up.
        retry_after_secs: i64,
    },
    #[error("you cannot delete your own account")]
    /// A user asked to delete their own account.
    DeleteSelf,
    #[error(transparent)]
    /// The caller lacks the permission the use-case needs.
    Denied(#[from] AccessDenied),
    #[error(transparent)]
    /// A request field breaks a rule.
    Invalid(#[from] FieldError),
    #[error(transparent)]
    /// The store failed.
    Store(#[from] StoreError),
}

impl AsProblem for UserError {
    fn problem(&self) -> Problem {
        let msg = self.to_string();
        match self {
            Self::NotFound(_) | Self::NotFoundNamed(_) | Self::GroupNotFound(_) => {
                Problem::not_found(msg)
            }
            Self::EmailTaken(_) => Problem::new(ProblemKind::Conflict, "user_email_exist", msg),
            Self::UsernameTaken(_) => {
                Problem::new(ProblemKind::Conflict, "user_username_exist", msg)
            }
            Self::WrongPassword => Problem::new(ProblemKind::Invalid, "password_incorrect", msg),
            Self::TooManyAttempts { .. } => {
                Problem::new(ProblemKind::TooManyRequests, "request_too_frequently", msg)
            }
            Self::DeleteSelf => Problem::new(ProblemKind::Invalid, "user_delete_self", msg),
            Self::Denied(_) => Problem::forbidden(msg),
            Self::Invalid(e) => e.problem(),
            Self::Store(e) => e.problem(),
        }
    }
}

/// Managing roles and what they grant.
#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error("role {0} not found")]
    /// No role with this id in the caller's tenant.
    NotFound(Id),
    #[error("role `{0}` not found")]
    /// No role with this name in the caller's tenant.
    NotFoundNamed(String),
    #[error("a role named `{0}` already exists")]
    /// Another role of the tenant has this name.
    NameTaken(String),
    #[error("the built-in super admin role cannot be changed or deleted")]
    /// Changing or deleting the built-in super-admin role.
    BuiltIn,
    #[error("the permissions of role `{0}` are locked and cannot be edited")]
    /// Editing the permissions or menus of a role whose `allow_edit_permissions` is off.
    PermissionsLocked(String),
    #[error("`{0}` is not a known permission")]
    /// A named permission that is not in [`crate::permissions`]' catalogue.
    UnknownPermission(String),
    #[error("group `{0}` not found")]
    /// A group named for the role does not exist in the tenant.
    GroupNotFound(String),
    #[error("role still has {0} user(s); disassociate them first")]
    /// Deleting a role users still hold (how many).
    HasUsers(i64),
    #[error("role is still granted to {0} user group(s); take it from them first")]
    /// Deleting a role still granted to user groups (how many).
    HasGroups(usize),
    #[error("user {0} not found")]
    /// A user to add to the role does not exist in the tenant.
    UserNotFound(Id),
    #[error("menu {0} not found")]
    /// A menu to give the role does not exist in the tenant.
    MenuNotFound(Id),
    #[error("{0} {1} not found")]
    /// A resource to grant does not exist in the tenant: its type and id.
    ResourceNotFound(&'static str, String),
    #[error(transparent)]
    /// The caller lacks the permission the use-case needs.
    Denied(#[from] AccessDenied),
    #[error(transparent)]
    /// A request field breaks a rule.
    Invalid(#[from] FieldError),
    #[error(transparent)]
    /// The store failed.
    Store(#[from] StoreError),
}

impl AsProblem for RoleError {
    fn problem(&self) -> Problem {
        let msg = self.to_string();
        match self {
            Self::NotFound(_)
            | Self::NotFoundNamed(_)
            | Self::UserNotFound(_)
            | Self::ResourceNotFound(..)
            | Self::MenuNotFound(_)
            | Self::GroupNotFound(_) => Problem::not_found(msg),
            Self::NameTaken(_) => Problem::new(ProblemKind::Conflict, "name_repeated", msg),
            Self::BuiltIn => Problem::new(ProblemKind::Forbidden, "role_built_in", msg),
            Self::PermissionsLocked(_) => {
                Problem::new(ProblemKind::Forbidden, "role_permissions_locked", msg)
            }
            Self::UnknownPermission(_) => {
                Problem::new(ProblemKind::Invalid, "permission_not_found", msg)
            }
            Self::HasUsers(_) => Problem::new(ProblemKind::Conflict, "role_still_has_user", msg),
            Self::HasGroups(_) => Problem::new(ProblemKind::Conflict, "role_still_has_group", msg),
            Self::Denied(_) => Problem::forbidden(msg),
            Self::Invalid(e) => e.problem(),
            Self::Store(e) => e.problem(),
        }
    }
}

/// Managing user groups.
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    #[error("group `{0}` not found")]
    /// No group with this id in the caller's tenant.
    NotFound(String),
    #[error("parent group `{0}` not found")]
    /// The parent named for a group does not exist in the tenant.
    ParentNotFound(String),
    #[error("a group with id `{0}` already exists")]
    /// Creating a group with an id another group of the tenant has.
    IdTaken(String),
    #[error("the root group DEPARTMENT cannot be changed or deleted")]
    /// Changing or deleting the root group [`crate::models::ROOT_GROUP`].
    Root,
    #[error("a group cannot be moved under itself or one of its subgroups")]
    /// Moving a group under itself or one of its subgroups.
    Cycle,
    #[error("group has {0} subgroup(s); delete them first")]
    /// Deleting a group that has subgroups (how many).
    HasChildren(usize),
    #[error(transparent)]
    /// The caller lacks the permission the use-case needs.
    Denied(#[from] AccessDenied),
    #[error(transparent)]
    /// A request field breaks a rule.
    Invalid(#[from] FieldError),
    #[error(transparent)]
    /// The store failed.
    Store(#[from] StoreError),
}

impl AsProblem for GroupError {
    fn problem(&self) -> Problem {
        let msg = self.to_string();
        match self {
            Self::NotFound(_) => Problem::not_found(msg),
            Self::ParentNotFound(_) | Self::Cycle => Problem::invalid(msg),
            Self::IdTaken(_) => Problem::new(ProblemKind::Conflict, "group_id_exist", msg),
            Self::Root => Problem::new(ProblemKind::Forbidden, "group_root", msg),
            Self::HasChildren(_) => Problem::new(ProblemKind::Conflict, "group_has_children", msg),
            Self::Denied(_) => Problem::forbidden(msg),
            Self::Invalid(e) => e.problem(),
            Self::Store(e) => e.problem(),
        }
    }
}

/// Managing menus and function codes.
#[derive(Debug, thiserror::Error)]
pub enum MenuError {
    #[error("menu {0} not found")]
    /// No menu with this id in the caller's tenant.
    NotFound(Id),
    #[error("parent_id {0}: no such menu")]
    /// The parent named for a menu does not exist in the tenant.
    ParentNotFound(Id),
    #[error("a menu with code `{0}` already exists")]
    /// Another menu of the tenant has this code.
    CodeTaken(String),
    #[error("menu has {0} child menu(s); delete them first")]
    /// Deleting a menu that has child menus (how many).
    HasChildren(i64),
    #[error("built-in menus gate the API and cannot be changed or deleted")]
    /// Changing or deleting a built-in menu, which the API's checks depend on.
    BuiltIn,
    #[error("parent_id: a FUNCTION cannot have children")]
    /// Putting a menu under a `FUNCTION`, which has no children.
    ParentIsFunction,
    #[error(transparent)]
    /// The caller lacks the permission the use-case needs.
    Denied(#[from] AccessDenied),
    #[error(transparent)]
    /// A request field breaks a rule.
    Invalid(#[from] FieldError),
    #[error(transparent)]
    /// The store failed.
    Store(#[from] StoreError),
}

impl AsProblem for MenuError {
    fn problem(&self) -> Problem {
        let msg = self.to_string();
        match self {
            Self::NotFound(_) => Problem::not_found(msg),
            Self::ParentNotFound(_) | Self::ParentIsFunction => Problem::invalid(msg),
            Self::CodeTaken(_) => Problem::new(ProblemKind::Conflict, "menu_code_exist", msg),
            Self::HasChildren(_) => Problem::new(ProblemKind::Conflict, "menu_has_children", msg),
            Self::BuiltIn => Problem::new(ProblemKind::Forbidden, "menu_built_in", msg),
            Self::Denied(_) => Problem::forbidden(msg),
            Self::Invalid(e) => e.problem(),
            Self::Store(e) => e.problem(),
        }
    }
}

/// Adding tenants (an operator's command, not an API).
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error("tenant `{0}` already exists")]
    /// A tenant with this id already exists.
    Exists(String),
    #[error(transparent)]
    /// A request field breaks a rule.
    Invalid(#[from] FieldError),
    #[error(transparent)]
    /// The store failed.
    Store(#[from] StoreError),
}

impl AsProblem for TenantError {
    fn problem(&self) -> Problem {
        match self {
            Self::Exists(_) => {
                Problem::new(ProblemKind::Conflict, "tenant_exist", self.to_string())
            }
            Self::Invalid(e) => e.problem(),
            Self::Store(e) => e.problem(),
        }
    }
}
