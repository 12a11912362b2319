//! Writing a JSON answer, the same way in every dialect.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use serde::Serialize;

/// `body` as JSON with this status (a bare 500 in the unlikely case it cannot be written).
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> HttpResponse {
    match serde_json::to_vec(body) {
        Ok(bytes) => HttpResponse::build(status)
            .insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")))
            .body(bytes),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}
