//! Every request gets an id: the client's `traceId` header, or 32 random hex characters.
//! It is kept in a task-local for the length of the request, so that every envelope,
//! success or error, carries it without threading it through every handler.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use rand::RngCore;
use std::time::Instant;
use tracing::Instrument;

tokio::task_local! {
    static REQUEST_ID: String;
}

fn fresh_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The current request's id (a fresh one outside a request).
pub fn current() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| fresh_id())
}

fn acceptable(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 128
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get("traceId")
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_owned)
        .unwrap_or_else(fresh_id);
    // Every line logged while the request runs carries its id, through this span
    // (`request{request_id=...}` in text, `span.request_id` in JSON).
    // Exported as a trace (docs/operations.md, "Traces"), the span also names the method,
    // the route's template and the status, filled in once the route has answered.
    let method = req.method().to_string();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    // A caller's W3C `traceparent` makes this span a child of the caller's.
    crate::trace_context::adopt_parent(&span, req.headers());
    let started = Instant::now();
    let peer = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    // The path without its query string: the WebSocket takes its token in the query.
    let path = req.path().to_owned();
    let result = REQUEST_ID
        .scope(id.clone(), next.call(req).instrument(span.clone()))
        .await;
    let status = match &result {
        Ok(res) => {
            if let Some(route) = res.request().match_pattern() {
                span.record("route", route.as_str());
            }
            res.status()
        }
        Err(e) => e.as_response_error().status_code(),
    };
    span.record("status", status.as_u16());
    span.in_scope(|| {
        tracing::info!(
            target: ACCESS_LOG,
            peer = %peer,
            method = %method,
            path = %path,
            status = status.as_u16(),
            duration_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request"
        );
    });
    let mut res = result?;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), v);
    }
    Ok(res)
}

/// The target of the access log's lines (one per request): `RUST_LOG=weir::access=warn`
/// silences them.
pub const ACCESS_LOG: &str = "weir::access";
