//! Prometheus metrics over HTTP: what every request adds (by route template, never by raw
//! path, so ids do not multiply the series), and `GET /metrics`, which renders the
//! process's metrics in the Prometheus text format.
//!
//! The recorder is the app's ([`MetricsEndpoint::render`]); this module records through
//! the `metrics` facade, which does nothing until a recorder is installed. `/metrics` on
//! the main address asks for `metrics.token` as a bearer token and answers 404 when none
//! is configured, so nothing leaks by default; on the separate `metrics.listen` address it
//! answers without one, and that address serves nothing else. See docs/operations.md.

use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, HttpResponse, ResponseError, get, web};

use crate::core::state::{ApiState, MetricsEndpoint};
use crate::native::envelope::NativeError;

/// The `route` label of a request no route took (the JSON 404, the console's files).
pub const UNMATCHED: &str = "unmatched";

/// The content type of the Prometheus text exposition format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Counts each request and its time by method, route template and status.
pub async fn requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    let result = next.call(req).await;
    let (route, status) = match &result {
        Ok(res) => (route_label(res.request()), res.status()),
        Err(e) => (UNMATCHED.to_owned(), e.as_response_error().status_code()),
    };
    record(method, route, status, started);
    result
}

fn record(method: &'static str, route: String, status: StatusCode, started: Instant) {
    metrics::counter!(
        "weir_http_requests_total",
        "method" => method,
        "route" => route.clone(),
        "status" => status.as_str().to_owned()
    )
    .increment(1);
    metrics::histogram!(
        "weir_http_request_duration_seconds",
        "method" => method,
        "route" => route
    )
    .record(started.elapsed().as_secs_f64());
}

/// The route template that took the request (`/api/v1/device/{id}`), or [`UNMATCHED`].
fn route_label(req: &HttpRequest) -> String {
    match req.match_pattern() {
        // The console's files are served under the pattern of their scope, "".
        Some(pattern) if !pattern.is_empty() && !is_catch_all(&pattern) => pattern,
        _ => UNMATCHED.to_owned(),
    }
}

/// A pattern that takes any path, as the console's files: not a route of Weir's API.
fn is_catch_all(pattern: &str) -> bool {
    pattern == "/" || pattern.ends_with("{tail}*")
}

/// The method, or `OTHER` for one of a client's own making (they must not add series).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// On the `metrics.listen` address: `GET /metrics` without a token, and a 404 for
/// anything else. Requests on the main address go on.
pub async fn separate_address(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let endpoint = req
        .app_data::<web::Data<ApiState>>()
        .and_then(|s| s.metrics.clone())
        .filter(|m| m.listen.is_some_and(|a| a == req.app_config().local_addr()));
    let Some(endpoint) = endpoint else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let response = if req.path() == "/metrics" && req.method() == Method::GET {
        exposition(&endpoint)
    } else {
        HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("only /metrics is served on this address\n")
    };
    Ok(req.into_response(response).map_into_right_body())
}

/// Prometheus metrics, in the text exposition format.
///
/// On the main address, the bearer token of `metrics.token` is required; without one
/// configured (or with `metrics.enabled = false`) this answers 404, as for a path that
/// does not exist. On the separate `metrics.listen` address no token is asked for.
#[utoipa::path(
    tag = "health",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the metrics (`text/plain; version=0.0.4`)", body = String, content_type = "text/plain"),
        (status = 401, description = "no token, or not `metrics.token`"),
        (status = 404, description = "metrics are off, or no `metrics.token` is configured"),
    )
)]
#[get("/metrics")]
pub async fn scrape(req: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let endpoint = state.metrics.as_ref();
    let Some((endpoint, token)) =
        endpoint.and_then(|m| m.token.as_deref().map(|t| (m, t.to_owned())))
    else {
        return NativeError::new(
            StatusCode::NOT_FOUND,
            "data_no_found",
            format!("no endpoint {} {}", req.method(), req.path()),
        )
        .error_response();
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if !given.is_some_and(|g| same(g.as_bytes(), token.as_bytes())) {
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"weir-metrics\""))
            .content_type("text/plain; charset=utf-8")
            .body("metrics need the bearer token of metrics.token\n");
    }
    exposition(endpoint)
}

fn exposition(endpoint: &MetricsEndpoint) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(TEXT_FORMAT)
        .body((endpoint.render)())
}

/// Compares two secrets in a time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An open WebSocket: counted in `weir_websocket_connections_open` until dropped.
#[derive(Debug)]
pub(crate) struct WebSocketOpen(());

impl WebSocketOpen {
    pub(crate) fn new() -> Self {
        metrics::gauge!("weir_websocket_connections_open").increment(1.0);
        Self(())
    }
}

impl Drop for WebSocketOpen {
    fn drop(&mut self) {
        metrics::gauge!("weir_websocket_connections_open").decrement(1.0);
    }
}

/// Counts a password login by how it ended: `weir_logins_total`,
/// `weir_login_failures_total` (a wrong login name or password) or
/// `weir_login_lockouts_total` (refused while locked out). Other refusals (a bad client, a
/// disabled account, an unknown tenant) are none of these.
pub(crate) fn login<T>(result: &Result<T, weir_identity::AuthError>) {
    use weir_identity::AuthError;
    let name = match result {
        Ok(_) => "weir_logins_total",
        Err(AuthError::InvalidCredentials) => "weir_login_failures_total",
        Err(AuthError::TooManyAttempts { .. }) => "weir_login_lockouts_total",
        Err(_) => return,
    };
    metrics::counter!(name).increment(1);
}

/// Values stored from one report over HTTP.
pub(crate) fn values_ingested_over_http(values: usize) {
    metrics::counter!("weir_values_ingested_total", "channel" => "http")
        .increment(u64::try_from(values).unwrap_or(u64::MAX));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"secret", b"secret"));
        assert!(!same(b"secret", b"secreT"));
        assert!(!same(b"secret", b"secret2"));
        assert!(!same(b"", b"x"));
    }

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        let custom = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&custom), "OTHER");
    }
}
