//! One error type per area of use-cases; each presents itself as a [`Problem`].

use weir_kernel::{AsProblem, Id, PageRequestError, Problem, ProblemKind, StoreError};

/// A request field that breaks a rule; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
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
    TenantNotFound(String),
    #[error("invalid client credentials")]
    InvalidClient,
    #[error("unsupported grant_type `{0}` (use password or refresh_token)")]
    UnsupportedGrant(String),
    #[error("email or password is incorrect")]
    InvalidCredentials,
    #[error("this account is disabled")]
    Disabled,
    #[error("refresh token is invalid, expired or already used")]
    InvalidRefreshToken,
    #[error("too many failed logins, try again in {retry_after_secs} seconds")]
    TooManyAttempts { retry_after_secs: i64 },
    #[error("the tenant already has its first user; ask an administrator for an account")]
    AlreadyInitialized,
    #[error("email {0} is already registered")]
    EmailTaken(String),
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error(transparent)]
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
    Malformed,
    #[error("access token has expired")]
    Expired,
    #[error("access token has been revoked")]
    Revoked,
    #[error("this account is disabled")]
    Disabled,
    #[error(transparent)]
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
    NotFound(Id),
    #[error("user `{0}` not found")]
    NotFoundNamed(String),
    #[error("email {0} is already used by another user")]
    EmailTaken(String),
    #[error("username `{0}` is already used by another user")]
    UsernameTaken(String),
    #[error("group `{0}` not found")]
    GroupNotFound(String),
    #[error("old_password is incorrect")]
    WrongPassword,
    #[error("too many wrong old_password attempts, try again in {retry_after_secs} seconds")]
    TooManyAttempts { retry_after_secs: i64 },
    #[error("you cannot delete your own account")]
    DeleteSelf,
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error(transparent)]
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
    NotFound(Id),
    #[error("role `{0}` not found")]
    NotFoundNamed(String),
    #[error("a role named `{0}` already exists")]
    NameTaken(String),
    #[error("the built-in super admin role cannot be changed or deleted")]
    BuiltIn,
    #[error("the permissions of role `{0}` are locked and cannot be edited")]
    PermissionsLocked(String),
    #[error("`{0}` is not a known permission")]
    UnknownPermission(String),
    #[error("group `{0}` not found")]
    GroupNotFound(String),
    #[error("role still has {0} user(s); disassociate them first")]
    HasUsers(i64),
    #[error("role is still granted to {0} user group(s); take it from them first")]
    HasGroups(usize),
    #[error("user {0} not found")]
    UserNotFound(Id),
    #[error("menu {0} not found")]
    MenuNotFound(Id),
    #[error("{0} {1} not found")]
    ResourceNotFound(&'static str, String),
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error(transparent)]
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
    NotFound(String),
    #[error("parent group `{0}` not found")]
    ParentNotFound(String),
    #[error("a group with id `{0}` already exists")]
    IdTaken(String),
    #[error("the root group DEPARTMENT cannot be changed or deleted")]
    Root,
    #[error("a group cannot be moved under itself or one of its subgroups")]
    Cycle,
    #[error("group has {0} subgroup(s); delete them first")]
    HasChildren(usize),
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error(transparent)]
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
    NotFound(Id),
    #[error("parent_id {0}: no such menu")]
    ParentNotFound(Id),
    #[error("a menu with code `{0}` already exists")]
    CodeTaken(String),
    #[error("menu has {0} child menu(s); delete them first")]
    HasChildren(i64),
    #[error("built-in menus gate the API and cannot be changed or deleted")]
    BuiltIn,
    #[error("parent_id: a FUNCTION cannot have children")]
    ParentIsFunction,
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error(transparent)]
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
    Exists(String),
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error(transparent)]
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
