//! The ThingsKit (ThingsBoard-style) error body: `{errorCode, message, status, timestamp}`.
//!
//! Successes are the bare answer (no envelope). A failure has the HTTP status of its
//! `errorCode` (see [`ErrorCode::status`]) and says it again in `status`. **Decision:**
//! `timestamp` is when the error was answered, as an ISO-8601 UTC string with milliseconds
//! (`2025-01-02T03:04:05.678Z`), since the document types it `string(date-time)`; the
//! role times (`createTime`, `updateTime`) use the same format. See docs/thingskit.md.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;
use weir_identity::errors::AuthenticateError;
use weir_kernel::{AsProblem, Clock, Millis, Problem, SystemClock};

use crate::core::{Refusal, RefusalKind};

/// The document's platform error codes. 34 (WebSocket updates) and 40 (subscription) have
/// no cause in Weir and are never sent; 15 (credentials expired) neither, as Weir's
/// passwords do not expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 2: the server failed (500).
    General,
    /// 10: no token, or a malformed, revoked or disabled account's token (401).
    Authentication,
    /// 11: the access token has expired (401).
    JwtExpired,
    /// 20: the caller may not do this (403).
    PermissionDenied,
    /// 30: a value breaks a rule (unknown roleType, status 7, page 0...) (400).
    InvalidArguments,
    /// 31: the request cannot be read (malformed JSON, a field of the wrong type, a missing
    /// or non-integer query parameter) (400).
    BadRequestParams,
    /// 32: no such role, menu or endpoint in the caller's tenant (404).
    ItemNotFound,
    /// 33: too many requests (429).
    TooManyRequests,
}

impl ErrorCode {
    pub fn number(self) -> u16 {
        match self {
            Self::General => 2,
            Self::Authentication => 10,
            Self::JwtExpired => 11,
            Self::PermissionDenied => 20,
            Self::InvalidArguments => 30,
            Self::BadRequestParams => 31,
            Self::ItemNotFound => 32,
            Self::TooManyRequests => 33,
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Self::General => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Authentication | Self::JwtExpired => StatusCode::UNAUTHORIZED,
            Self::PermissionDenied => StatusCode::FORBIDDEN,
            Self::InvalidArguments | Self::BadRequestParams => StatusCode::BAD_REQUEST,
            Self::ItemNotFound => StatusCode::NOT_FOUND,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// How a kind of refusal (or of domain problem) reads in this dialect. A request that
    /// cannot be read (malformed JSON, a field of the wrong type, a body over the limit) is
    /// 31, a value that breaks a rule 30.
    pub fn of(kind: impl Into<RefusalKind>) -> Self {
        match kind.into() {
            RefusalKind::Malformed | RefusalKind::TooLarge => Self::BadRequestParams,
            RefusalKind::Invalid | RefusalKind::Conflict => Self::InvalidArguments,
            RefusalKind::Unauthenticated => Self::Authentication,
            RefusalKind::Forbidden => Self::PermissionDenied,
            RefusalKind::NotFound => Self::ItemNotFound,
            RefusalKind::TooManyRequests => Self::TooManyRequests,
            RefusalKind::Internal | RefusalKind::Unavailable => Self::General,
        }
    }
}

/// The error body, as the OpenAPI document shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// 2, 10, 11, 20, 30, 31, 32 or 33.
    pub error_code: u16,
    /// What is wrong: the field, the id or the rule.
    pub message: String,
    /// The HTTP status of the answer.
    pub status: u16,
    /// When the error was answered: ISO-8601 UTC with milliseconds.
    pub timestamp: String,
}

/// What any ThingsKit endpoint may refuse with.
#[derive(Debug, utoipa::IntoResponses)]
pub enum Refusals {
    /// 30 invalid arguments, or 31 a request that cannot be read.
    #[response(status = 400)]
    BadRequest(#[to_schema] ErrorBody),
    /// 10 no valid token, 11 expired token.
    #[response(status = 401)]
    Unauthenticated(#[to_schema] ErrorBody),
    /// 20: role management is for the super admin; the built-in role cannot change.
    #[response(status = 403)]
    Forbidden(#[to_schema] ErrorBody),
    /// 32: the role (or a menu) does not exist in the caller's tenant.
    #[response(status = 404)]
    NotFound(#[to_schema] ErrorBody),
}

/// A refused ThingsKit call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThingsKitError {
    pub code: ErrorCode,
    /// The code's status, except 413 for a body over the size limit.
    pub status: StatusCode,
    pub message: String,
}

impl ThingsKitError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            status: code.status(),
            message: message.into(),
        }
    }

    /// 30: a value that breaks a rule.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArguments, message)
    }

    /// 31: a request that cannot be read.
    pub fn bad_params(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequestParams, message)
    }

    /// 32: no such object.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ItemNotFound, message)
    }

    /// A domain error; the core logs the cause of a server-side failure (the client only
    /// sees the generic message).
    pub fn from_domain<E: AsProblem + std::fmt::Display>(e: E) -> Self {
        Refusal::from_domain(&e).into()
    }

    pub fn body(&self, now: Millis) -> ErrorBody {
        ErrorBody {
            error_code: self.code.number(),
            message: self.message.clone(),
            status: self.status.as_u16(),
            timestamp: iso8601(now),
        }
    }
}

impl std::fmt::Display for ThingsKitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.number(), self.message)
    }
}

impl From<Problem> for ThingsKitError {
    fn from(p: Problem) -> Self {
        Refusal::from(p).into()
    }
}

/// The code of the refusal's kind; the status is the code's, except 413 for a body over the
/// size limit.
impl From<Refusal> for ThingsKitError {
    fn from(r: Refusal) -> Self {
        let code = ErrorCode::of(r.kind);
        Self {
            code,
            status: if r.kind == RefusalKind::TooLarge {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                code.status()
            },
            message: r.message,
        }
    }
}

/// An expired token is 11, every other token refusal 10.
impl From<AuthenticateError> for ThingsKitError {
    fn from(e: AuthenticateError) -> Self {
        match e {
            AuthenticateError::Expired => Self::new(ErrorCode::JwtExpired, e.to_string()),
            AuthenticateError::Store(_) => Self::from_domain(e),
            _ => Self::new(ErrorCode::Authentication, e.to_string()),
        }
    }
}

impl From<weir_identity::errors::RoleError> for ThingsKitError {
    fn from(e: weir_identity::errors::RoleError) -> Self {
        Self::from_domain(e)
    }
}

impl From<weir_identity::errors::AccessDenied> for ThingsKitError {
    fn from(e: weir_identity::errors::AccessDenied) -> Self {
        Self::new(ErrorCode::PermissionDenied, e.0)
    }
}

/// A JSON answer with this status.
pub use crate::core::response::json;

impl ResponseError for ThingsKitError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        json(self.status, &self.body(SystemClock.now_ms()))
    }
}

/// Whatever no ThingsKit route takes under the dialect's prefix: 32, as JSON.
pub async fn no_endpoint(req: HttpRequest) -> Result<HttpResponse, ThingsKitError> {
    Err(ThingsKitError::not_found(format!(
        "no endpoint {} {}",
        req.method(),
        req.path()
    )))
}

/// Epoch milliseconds as ISO-8601 UTC with milliseconds (`1970-01-01T00:00:00.000Z`), as
/// JavaScript's `toISOString` and Java's `Instant` write them.
pub fn iso8601(ms: Millis) -> String {
    crate::times::utc(ms, "%Y-%m-%dT%H:%M:%S%.3fZ")
}

#[cfg(test)]
mod tests {
    use weir_kernel::ProblemKind;

    use super::*;

    #[test]
    fn times_are_iso_8601_utc_with_milliseconds() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(1_795_000_000_123), "2026-11-18T11:06:40.123Z");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn codes_have_the_documented_statuses() {
        let pairs = [
            (ErrorCode::General, 2, 500),
            (ErrorCode::Authentication, 10, 401),
            (ErrorCode::JwtExpired, 11, 401),
            (ErrorCode::PermissionDenied, 20, 403),
            (ErrorCode::InvalidArguments, 30, 400),
            (ErrorCode::BadRequestParams, 31, 400),
            (ErrorCode::ItemNotFound, 32, 404),
            (ErrorCode::TooManyRequests, 33, 429),
        ];
        for (code, number, status) in pairs {
            assert_eq!((code.number(), code.status().as_u16()), (number, status));
        }
        assert_eq!(
            ErrorCode::of(ProblemKind::Conflict),
            ErrorCode::InvalidArguments
        );
        assert_eq!(ErrorCode::of(ProblemKind::Unavailable), ErrorCode::General);
    }

    #[test]
    fn the_body_has_the_four_fields() {
        let e = ThingsKitError::not_found("role 5 not found");
        assert_eq!(
            serde_json::to_value(e.body(0)).unwrap(),
            serde_json::json!({
                "errorCode": 32,
                "message": "role 5 not found",
                "status": 404,
                "timestamp": "1970-01-01T00:00:00.000Z",
            })
        );
    }

    #[test]
    fn an_expired_token_is_11_and_other_token_refusals_10() {
        let code = |e| ThingsKitError::from(e).code.number();
        assert_eq!(code(AuthenticateError::Expired), 11);
        assert_eq!(code(AuthenticateError::Malformed), 10);
        assert_eq!(code(AuthenticateError::Revoked), 10);
        assert_eq!(code(AuthenticateError::Disabled), 10);
    }

    #[test]
    fn http_layer_refusals_are_bad_request_params() {
        let syntax = Refusal::syntax("x");
        assert_eq!(
            ThingsKitError::from(syntax).code,
            ErrorCode::BadRequestParams
        );
        let big = Refusal::new(RefusalKind::TooLarge, "data_too_large", "x");
        let big = ThingsKitError::from(big);
        assert_eq!(
            (big.code, big.status.as_u16()),
            (ErrorCode::BadRequestParams, 413)
        );
        assert_eq!(
            ThingsKitError::from(Refusal::internal()).code,
            ErrorCode::General
        );
    }
}
