//! The native envelope: `{request_id, status, data}` on success and
//! `{request_id, status, error_code, error_message, detail_message}` on failure.

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, Responder, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;
use weir_identity::errors::{AuthError, AuthenticateError, MenuError, RoleError, UserError};
use weir_identity::sso::SsoError;
use weir_iot::errors::IotError;
use weir_kernel::{AsProblem, Problem, StoreError};
use weir_workflow::WorkflowError;

use crate::core::response::json as json_response;
use crate::core::{Refusal, RefusalKind};
use crate::request_id;

/// Every native answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Envelope<T> {
    /// 32 hex characters, or the request's `traceId` header.
    pub request_id: String,
    /// `Success` or `Failed`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail_message: Option<String>,
}

/// The failure envelope's fields, as the OpenAPI document shows them.
#[derive(Debug, ToSchema)]
pub struct Failure {
    pub request_id: String,
    /// `Failed`.
    pub status: String,
    pub error_code: String,
    pub error_message: String,
    pub detail_message: Option<String>,
}

/// What any endpoint behind a token may refuse with; the precise codes of each endpoint are
/// in docs/native-api.md.
#[derive(Debug, utoipa::IntoResponses)]
pub enum Refusals {
    /// parameter_validation_failed, parameter_syntax_error, or a precise code of the endpoint.
    #[response(status = 400)]
    BadRequest(#[to_schema] Failure),
    /// authentication_failed: the token is missing, malformed, expired or revoked.
    #[response(status = 401)]
    Unauthenticated(#[to_schema] Failure),
    /// forbidden_permission, or a precise code (role_built_in, menu_built_in).
    #[response(status = 403)]
    Forbidden(#[to_schema] Failure),
    /// data_no_found: the id does not exist in the caller's tenant.
    #[response(status = 404)]
    NotFound(#[to_schema] Failure),
    /// data_too_large: the body is over the configured limit.
    #[response(status = 413)]
    TooLarge(#[to_schema] Failure),
}

/// An empty `data` object (`{}`), as the document answers for most writes.
pub use crate::core::body::Empty;

/// A successful answer: 200 with `data`.
#[derive(Debug)]
pub struct Success<T>(pub T);

impl<T: Serialize> Responder for Success<T> {
    type Body = BoxBody;
    fn respond_to(self, _req: &HttpRequest) -> HttpResponse {
        json_response(
            StatusCode::OK,
            &Envelope {
                request_id: request_id::current(),
                status: "Success",
                data: Some(self.0),
                error_code: None,
                error_message: None,
                detail_message: None,
            },
        )
    }
}

/// A failed answer in the native envelope.
#[derive(Debug, Clone)]
pub struct NativeError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub detail: Option<String>,
    pub retry_after_secs: Option<i64>,
}

impl NativeError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            detail: None,
            retry_after_secs: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "parameter_validation_failed",
            message,
        )
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "authentication_failed", message)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "internal server error",
        )
    }
}

impl std::fmt::Display for NativeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ResponseError for NativeError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = json_response(
            self.status,
            &Envelope::<()> {
                request_id: request_id::current(),
                status: "Failed",
                data: None,
                error_code: Some(self.code),
                error_message: Some(self.message.clone()),
                detail_message: self.detail.clone(),
            },
        );
        if let Some(v) = self
            .retry_after_secs
            .and_then(|s| HeaderValue::from_str(&s.to_string()).ok())
        {
            res.headers_mut().insert(RETRY_AFTER, v);
        }
        res
    }
}

/// The status the native dialect answers each kind of refusal with (the code is the
/// refusal's own).
pub fn status_of(kind: RefusalKind) -> StatusCode {
    match kind {
        RefusalKind::Malformed | RefusalKind::Invalid | RefusalKind::Conflict => {
            StatusCode::BAD_REQUEST
        }
        RefusalKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        RefusalKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        RefusalKind::Forbidden => StatusCode::FORBIDDEN,
        RefusalKind::NotFound => StatusCode::NOT_FOUND,
        RefusalKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        RefusalKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        RefusalKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl From<Refusal> for NativeError {
    fn from(r: Refusal) -> Self {
        Self::new(status_of(r.kind), r.code, r.message)
    }
}

impl From<Problem> for NativeError {
    fn from(p: Problem) -> Self {
        Refusal::from(p).into()
    }
}

/// Converts a domain error; the core logs the cause of server-side failures (clients only
/// ever see a generic message for those).
fn from_domain<E: AsProblem + std::fmt::Display>(e: E) -> NativeError {
    Refusal::from_domain(&e).into()
}

macro_rules! from_domain_errors {
    ($($t:ty),*) => {$(
        impl From<$t> for NativeError {
            fn from(e: $t) -> Self {
                from_domain(e)
            }
        }
    )*};
}

from_domain_errors!(
    StoreError,
    AuthenticateError,
    RoleError,
    MenuError,
    IotError,
    WorkflowError,
    SsoError
);

/// Throttled password checks carry a `Retry-After`.
impl From<AuthError> for NativeError {
    fn from(e: AuthError) -> Self {
        let retry = match &e {
            AuthError::TooManyAttempts { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        retrying(from_domain(e), retry)
    }
}

impl From<UserError> for NativeError {
    fn from(e: UserError) -> Self {
        let retry = match &e {
            UserError::TooManyAttempts { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        retrying(from_domain(e), retry)
    }
}

fn retrying(error: NativeError, retry_after_secs: Option<i64>) -> NativeError {
    NativeError {
        retry_after_secs,
        ..error
    }
}
