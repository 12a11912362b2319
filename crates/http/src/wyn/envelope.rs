//! Wyn's failure answer, `ApiErrorResult`: `{"errors": [{"code", "message", "context"}]}`
//! with the HTTP status the document lists. Successes are the bare models (no envelope).
//!
//! The codes are stable, PascalCase like Wyn's own; docs/wyn.md lists each with its
//! status and when it is answered.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;
use weir_identity::errors::RoleError;

use crate::core::refusal::codes;
use crate::core::{Refusal, RefusalKind};

/// The body is not JSON, or a field has the wrong type, or a value breaks a rule.
pub const INVALID_ARGUMENT: &str = "InvalidArgument";
/// The body is not valid JSON at all.
pub const INVALID_JSON: &str = "InvalidJson";
/// The role the path names does not exist in the caller's organisation (or the id is
/// malformed).
pub const ROLE_NOT_FOUND: &str = "RoleNotFound";
/// A user id (in the path: 404; in the body: 400) names no user of the caller's
/// organisation, or not a member of the role.
pub const USER_NOT_FOUND: &str = "UserNotFound";
/// Another role already has this name.
pub const ROLE_NAME_EXISTS: &str = "RoleNameExists";
/// `DELETE` of the built-in role.
pub const BUILTIN_ROLE_CANNOT_BE_DELETED: &str = "BuiltinRoleCannotBeDeleted";
/// Any other change of the built-in role (its name, its permissions, importing over it,
/// creating a role marked `isBuiltin`).
pub const BUILTIN_ROLE_CANNOT_BE_MODIFIED: &str = "BuiltinRoleCannotBeModified";
/// The role's `allowEditPermissions` is false.
pub const PERMISSIONS_LOCKED: &str = "PermissionsLocked";
/// A permission name outside the catalogue.
pub const UNKNOWN_PERMISSION: &str = "UnknownPermission";
/// `DELETE` of a role that still has members.
pub const ROLE_HAS_MEMBERS: &str = "RoleHasMembers";
/// Missing, malformed, expired or revoked access token; or a disabled account.
pub const UNAUTHORIZED: &str = "Unauthorized";
/// The caller is signed in but may not do this (not a super admin).
pub const FORBIDDEN: &str = "Forbidden";
/// The body is larger than `http.max_body_bytes`.
pub const PAYLOAD_TOO_LARGE: &str = "PayloadTooLarge";
/// No such operation under `/api/v2/identity` (method and path).
pub const NOT_FOUND: &str = "NotFound";
/// A concurrent change won a race on a unique key.
pub const CONFLICT: &str = "Conflict";
pub const TOO_MANY_REQUESTS: &str = "TooManyRequests";
pub const INTERNAL_SERVER_ERROR: &str = "InternalServerError";
pub const SERVICE_UNAVAILABLE: &str = "ServiceUnavailable";

/// `ApiErrorResult`: all the errors of one request (Weir always answers one).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiErrorResult {
    pub errors: Vec<ApiError>,
}

/// `ApiError`: one error.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiError {
    /// A stable code (`RoleNotFound`, `InvalidArgument`, ...).
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
    /// What the error is about: the field (`name`, `userIds[2]`, `roles[0].name`), the query
    /// parameter, or the id; `null` when nothing more precise applies.
    pub context: Option<String>,
}

/// What every endpoint may refuse with (each lists its own in docs/wyn.md).
#[derive(Debug, utoipa::IntoResponses)]
pub enum Refusals {
    /// InvalidArgument, InvalidJson, or a precise code of the endpoint.
    #[response(status = 400)]
    BadRequest(#[to_schema] ApiErrorResult),
    /// Unauthorized: the bearer token is missing, malformed, expired or revoked.
    #[response(status = 401)]
    Unauthorized(#[to_schema] ApiErrorResult),
    /// Forbidden: the caller is not a super admin.
    #[response(status = 403)]
    Forbidden(#[to_schema] ApiErrorResult),
    /// RoleNotFound or UserNotFound: what the path names does not exist.
    #[response(status = 404)]
    NotFound(#[to_schema] ApiErrorResult),
    /// PayloadTooLarge.
    #[response(status = 413)]
    TooLarge(#[to_schema] ApiErrorResult),
}

/// A refused Wyn call.
#[derive(Debug, Clone)]
pub struct WynError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub context: Option<String>,
}

impl WynError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            context: None,
        }
    }

    pub fn with_context(mut self, context: impl Into<String>) -> Self {
        self.context = Some(context.into());
        self
    }

    /// 400 `InvalidArgument` about `context`.
    pub fn invalid(context: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, INVALID_ARGUMENT, message).with_context(context)
    }

    /// 404 `RoleNotFound` for the id as the path wrote it.
    pub fn role_not_found(raw: &str) -> Self {
        let raw: String = raw.chars().take(64).collect();
        Self::new(
            StatusCode::NOT_FOUND,
            ROLE_NOT_FOUND,
            format!("role `{raw}` not found"),
        )
        .with_context(raw)
    }

    /// 404 `UserNotFound` for the id as the path wrote it.
    pub fn user_not_found(raw: &str) -> Self {
        let raw: String = raw.chars().take(64).collect();
        Self::new(
            StatusCode::NOT_FOUND,
            USER_NOT_FOUND,
            format!("user `{raw}` not found"),
        )
        .with_context(raw)
    }
}

impl std::fmt::Display for WynError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ResponseError for WynError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let body = ApiErrorResult {
            errors: vec![ApiError {
                code: self.code.to_owned(),
                message: self.message.clone(),
                context: self.context.clone(),
            }],
        };
        json(self.status, &body)
    }
}

/// A JSON answer with this status.
pub use crate::core::response::json;

/// A refusal of no more precise code: Wyn's code and status for its kind. A body that is
/// not JSON (the core's `parameter_syntax_error`) is `InvalidJson`, any other request that
/// cannot be read `InvalidArgument`.
impl From<Refusal> for WynError {
    fn from(r: Refusal) -> Self {
        let (status, code) = match r.kind {
            RefusalKind::Malformed if r.code == codes::SYNTAX => {
                (StatusCode::BAD_REQUEST, INVALID_JSON)
            }
            RefusalKind::Malformed | RefusalKind::Invalid => {
                (StatusCode::BAD_REQUEST, INVALID_ARGUMENT)
            }
            RefusalKind::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, PAYLOAD_TOO_LARGE),
            RefusalKind::Conflict => (StatusCode::BAD_REQUEST, CONFLICT),
            RefusalKind::Unauthenticated => (StatusCode::UNAUTHORIZED, UNAUTHORIZED),
            RefusalKind::Forbidden => (StatusCode::FORBIDDEN, FORBIDDEN),
            RefusalKind::NotFound => (StatusCode::NOT_FOUND, NOT_FOUND),
            RefusalKind::TooManyRequests => (StatusCode::TOO_MANY_REQUESTS, TOO_MANY_REQUESTS),
            RefusalKind::Internal => (StatusCode::INTERNAL_SERVER_ERROR, INTERNAL_SERVER_ERROR),
            RefusalKind::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, SERVICE_UNAVAILABLE),
        };
        Self::new(status, code, r.message)
    }
}

/// Role refusals. The document lists 400 for every refusal of a well-formed request that
/// is not about a missing object, so conflicts and the built-in role's refusals are 400
/// here (the native API answers 403 for the latter). A user id named in a body that does
/// not resolve is bad input (400 `UserNotFound`); handlers turn it into 404 where the user
/// is named by the path.
impl From<RoleError> for WynError {
    fn from(e: RoleError) -> Self {
        let refusal = Refusal::from_domain(&e);
        let bad = |code| WynError::new(StatusCode::BAD_REQUEST, code, refusal.message.clone());
        match &e {
            RoleError::NotFound(id) => WynError::new(
                StatusCode::NOT_FOUND,
                ROLE_NOT_FOUND,
                refusal.message.clone(),
            )
            .with_context(id.to_string()),
            RoleError::NotFoundNamed(name) => WynError::new(
                StatusCode::NOT_FOUND,
                ROLE_NOT_FOUND,
                refusal.message.clone(),
            )
            .with_context(name.clone()),
            RoleError::UserNotFound(id) => bad(USER_NOT_FOUND).with_context(id.to_string()),
            RoleError::NameTaken(_) => bad(ROLE_NAME_EXISTS).with_context("name"),
            RoleError::BuiltIn => bad(BUILTIN_ROLE_CANNOT_BE_MODIFIED),
            RoleError::PermissionsLocked(_) => bad(PERMISSIONS_LOCKED).with_context("permissions"),
            RoleError::UnknownPermission(name) => {
                bad(UNKNOWN_PERMISSION).with_context(name.clone())
            }
            RoleError::HasUsers(_) | RoleError::HasGroups(_) => bad(ROLE_HAS_MEMBERS),
            RoleError::Invalid(f) => bad(INVALID_ARGUMENT).with_context(f.field.clone()),
            _ => refusal.into(),
        }
    }
}

/// Whatever no Wyn route takes under the dialect's prefix.
pub async fn no_route(req: HttpRequest) -> Result<HttpResponse, WynError> {
    Err(WynError::new(
        StatusCode::NOT_FOUND,
        NOT_FOUND,
        format!("no endpoint {} {}", req.method(), req.path()),
    ))
}
