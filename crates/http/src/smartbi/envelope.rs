//! The Smartbi envelope: `{"success": bool, "msg": string, "result": ...}`.
//!
//! **Decision:** every answer of the dialect is HTTP 200, success or failure, as Smartbi's
//! own API answers: its clients read `success` and `msg`, and common Java HTTP clients
//! (Spring's `RestTemplate`) throw on a 4xx before the body is read. See docs/smartbi.md.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;
use weir_kernel::{AsProblem, Problem};

use crate::core::Refusal;
use crate::core::response::json;

/// What a successful answer says in `msg`.
pub const SUCCESS_MSG: &str = "ok";

/// A refused Smartbi call: `success: false` and `msg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmartbiError {
    pub msg: String,
}

impl SmartbiError {
    pub fn new(msg: impl Into<String>) -> Self {
        Self { msg: msg.into() }
    }

    /// A domain error; the core logs the cause of a server-side failure (the client only
    /// sees the generic message).
    pub fn from_domain<E: AsProblem + std::fmt::Display>(e: E) -> Self {
        Refusal::from_domain(&e).into()
    }
}

impl std::fmt::Display for SmartbiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.msg)
    }
}

impl From<Problem> for SmartbiError {
    fn from(p: Problem) -> Self {
        Self { msg: p.message }
    }
}

/// Any refusal: Smartbi has no codes, only `msg`.
impl From<Refusal> for SmartbiError {
    fn from(r: Refusal) -> Self {
        Self { msg: r.message }
    }
}

/// What an action answers: its `result`, or why it failed.
pub type SmartbiResult = Result<serde_json::Value, SmartbiError>;

/// Every Smartbi answer, as the OpenAPI document shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SmartbiEnvelope {
    /// Whether the call succeeded.
    pub success: bool,
    /// `ok` on success; on failure, what is wrong (the field, the id).
    pub msg: String,
    /// The action's result (an object, an array, an id, `true`...); `null` on failure.
    pub result: serde_json::Value,
}

impl SmartbiEnvelope {
    pub fn of(result: SmartbiResult) -> Self {
        match result {
            Ok(result) => Self {
                success: true,
                msg: SUCCESS_MSG.into(),
                result,
            },
            Err(e) => Self {
                success: false,
                msg: e.msg,
                result: serde_json::Value::Null,
            },
        }
    }
}

/// The answer to send: always 200, the envelope as JSON.
pub fn respond(result: SmartbiResult) -> HttpResponse {
    json(StatusCode::OK, &SmartbiEnvelope::of(result))
}

/// Lets handlers return `Result<_, SmartbiError>`: a refusal is 200 with `success: false`.
impl ResponseError for SmartbiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::OK
    }

    fn error_response(&self) -> HttpResponse {
        respond(Err(self.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_have_the_three_fields() {
        let ok = serde_json::to_value(SmartbiEnvelope::of(Ok(serde_json::json!({"a": 1}))));
        assert_eq!(
            ok.unwrap(),
            serde_json::json!({"success": true, "msg": "ok", "result": {"a": 1}})
        );
        let failed = serde_json::to_value(SmartbiEnvelope::of(Err(SmartbiError::new("no"))));
        assert_eq!(
            failed.unwrap(),
            serde_json::json!({"success": false, "msg": "no", "result": null})
        );
    }
}
