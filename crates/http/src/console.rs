//! The web console served from `http.static_dir`: telling a browser's navigation from an
//! API call, and the cache headers of the console's files.
//!
//! The console's client-side routes (`/dashboard`, `/device/detail/123`, `/workflow/editor`)
//! share their first segment with the native API's bare paths (`/dashboard`, `/device`), which
//! the native dialect rewrites under `/api/v1`. A request is a **navigation**, and goes to
//! the console instead, when all of these hold:
//!
//! - a console is configured (`http.static_dir`);
//! - the method is `GET` or `HEAD`;
//! - it carries no credentials header (`Authorization`, `X-Authorization`): an API client
//!   sends its token, a browser's address bar never does;
//! - it asks for no protocol upgrade (`Upgrade`): the console's WebSocket, at the bare
//!   `/websocket`, stays the API's;
//! - its path is not under `/api/` (nor `/api` itself);
//! - its `Accept` header names `text/html` with a non-zero quality. Browsers send
//!   `text/html,application/xhtml+xml,...` when they navigate; API clients send
//!   `application/json`, `*/*` or nothing (a bare `*/*` is not enough).
//!
//! Anything else keeps the bare-path rewrite. See `docs/console.md`.

use actix_web::Error;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web;

use crate::core::state::ApiState;
use crate::native;

/// `Cache-Control` of the console's hashed bundles (`/assets/...`): their names change with
/// their content, so a browser may keep them for a year without asking again.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of every other console file (`index.html` above all): revalidated on each
/// use (by its `ETag` and `Last-Modified`), so a new build is picked up at once.
pub const REVALIDATE: &str = "no-cache";

/// Whether `accept` names `text/html` with a quality above zero.
pub fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or("");
            let zero = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            media.eq_ignore_ascii_case("text/html") && !zero
        })
}

fn under_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// Whether `req` is a browser's navigation to the console (see the module's rules).
pub fn is_navigation(req: &ServiceRequest) -> bool {
    let console = req
        .app_data::<web::Data<ApiState>>()
        .is_some_and(|s| s.settings.static_dir.is_some());
    let headers = req.headers();
    console
        && matches!(*req.method(), Method::GET | Method::HEAD)
        && !headers.contains_key(header::AUTHORIZATION)
        && !headers.contains_key("x-authorization")
        && !headers.contains_key(header::UPGRADE)
        && !under_api(req.path())
        && accepts_html(headers)
}

/// The native dialect's bare-path rewrite, for every request but a navigation, which is
/// left to the console.
pub async fn bare_paths_unless_navigation(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, impl MessageBody>>, Error> {
    if is_navigation(&req) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_right_body);
    }
    native::bare_paths(req, next)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// Sets `Cache-Control` on what the console's folder answers: [`IMMUTABLE`] under
/// `/assets/`, [`REVALIDATE`] elsewhere (`index.html`, whether asked for or the fallback of a
/// client-side route). Refusals (the JSON 404 of an API path) get none.
pub async fn cache_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let assets = req.path().starts_with("/assets/");
    let mut res = next.call(req).await?;
    let status = res.status();
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        let value = if assets { IMMUTABLE } else { REVALIDATE };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT,
            HeaderValue::from_str(value).expect("header"),
        );
        h
    }

    #[test]
    fn a_browser_navigation_accepts_html() {
        assert!(accepts_html(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(accepts_html(&accept("TEXT/HTML; q=0.5")));
    }

    #[test]
    fn api_clients_do_not() {
        assert!(!accepts_html(&HeaderMap::new()));
        assert!(!accepts_html(&accept("application/json, text/plain, */*")));
        assert!(!accepts_html(&accept("*/*")));
        assert!(!accepts_html(&accept("text/html;q=0, application/json")));
        assert!(!accepts_html(&accept("text/htmlx")));
    }
}
