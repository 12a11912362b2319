//! `/workflow-http-in/{path}`: HTTP requests that start `httpIn` flows.
//!
//! The request carries the flow's credential (`Authorization: Bearer <credential>`, made by
//! `POST /workflow/flows/{id}/http-credential`); the credential names the flow, so two
//! tenants may use the same path. The flow's message is the JSON body's members (another
//! JSON value, or text, under `body`), the query parameters under `queryParams` and the
//! path variables under `pathVariables`. When the run ends in an `output` node, that
//! output is the response body (200); a run that ends elsewhere answers 200 with `{}`; a
//! failed run answers 422 `workflow_run_failed` with the failing node's message. Mounted
//! outside the native prefix, but refusing in the native envelope.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, route, web};
use serde_json::{Map, Value as Json};
use weir_workflow::RunStatus;

use super::runs::runtime;
use crate::core::State;
use crate::core::auth::header_token;
use crate::core::body::read_body;
use crate::native::envelope::{NativeError, Refusals};

/// Starts the `httpIn` flow the credential opens. Any of GET, POST, PUT and DELETE, as the
/// node says.
#[utoipa::path(
    post,
    path = "/workflow-http-in/{path}",
    tag = "workflows",
    security(("flow_credential" = [])),
    params(("path" = String, Path, description = "The node's url, below /workflow-http-in/")),
    request_body(content = Object, description = "Any JSON; its members are the flow's message"),
    responses((status = 200, description = "The output node's result", body = Object), Refusals)
)]
#[route(
    "/workflow-http-in/{path:.*}",
    method = "GET",
    method = "POST",
    method = "PUT",
    method = "DELETE"
)]
pub async fn run(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<Map<String, Json>>,
    mut payload: web::Payload,
) -> Result<HttpResponse, NativeError> {
    let credential = header_token(&req)?;
    let body = read_body(&req, &mut payload).await?;
    let mut message = match serde_json::from_slice::<Json>(&body) {
        _ if body.iter().all(u8::is_ascii_whitespace) => Map::new(),
        Ok(Json::Object(members)) => members,
        Ok(other) => Map::from_iter([("body".to_string(), other)]),
        Err(_) => Map::from_iter([(
            "body".to_string(),
            Json::String(String::from_utf8_lossy(&body).into_owned()),
        )]),
    };
    let query = query.into_inner();
    if !query.is_empty() {
        message.insert("queryParams".into(), Json::Object(query));
    }
    let outcome = runtime(&state)?
        .http_in(&credential, req.method().as_str(), &path, message)
        .await?;
    if outcome.status == RunStatus::Error {
        return Err(NativeError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "workflow_run_failed",
            outcome.message,
        ));
    }
    Ok(HttpResponse::Ok().json(outcome.output.unwrap_or_else(|| Json::Object(Map::new()))))
}
