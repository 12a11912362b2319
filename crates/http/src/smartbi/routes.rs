//! `POST /smartbi/vision/api/{module}/{action}` (and the same under `/vision/api`): reads
//! the parameters, finds the caller, parses `paramsInfo` and dispatches the action. Every
//! answer is 200 with `{success, msg, result}`.

use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, guard, post, web};
use serde_json::json;
use weir_identity::Principal;
use weir_identity::errors::AuthError;
use weir_kernel::{Clock, SystemClock};

use super::actions::{Action, Handler, find};
use super::envelope::{SmartbiEnvelope, SmartbiError, SmartbiResult, respond};
use super::params::{self, SmartbiRequestBody};
use super::{catalog, identity, token};
use crate::core::auth::{authenticate, header_token};
use crate::core::body::read_body;
use crate::core::{Refusal, State, blocking};

/// The document's prefix.
pub const PREFIX: &str = "/smartbi/vision/api";
/// The same routes without `/smartbi`, as Smartbi serves them behind its context path.
pub const SHORT_PREFIX: &str = "/vision/api";

/// Calls a Smartbi action. Parameters come from a form body, a JSON body or the query
/// string; the caller from `smartbiToken` or `Authorization: Bearer <access token>`. Also
/// served at `/vision/api/{module}/{action}`. Every answer, refusals included, is 200 with
/// `{success, msg, result}`.
#[utoipa::path(
    post,
    path = "/smartbi/vision/api/{module}/{action}",
    tag = "smartbi",
    security((), ("bearer" = [])),
    params(
        ("module" = String, Path, description = "e.g. `datasource`, `folder`, `system`"),
        ("action" = String, Path, description = "e.g. `create`, `get`, `whoami`"),
        ("smartbiToken" = Option<String>, Query, description = "when not in the body"),
        ("paramsInfo" = Option<String>, Query, description = "when not in the body"),
    ),
    request_body(
        description = "smartbiToken and paramsInfo",
        content(
            (SmartbiRequestBody = "application/x-www-form-urlencoded"),
            (SmartbiRequestBody = "application/json"),
        )
    ),
    responses((
        status = 200,
        body = SmartbiEnvelope,
        description = "success true with the action's result, or success false with msg \
                       saying what is wrong"
    ))
)]
#[post("/smartbi/vision/api/{module}/{action}")]
pub async fn call(state: State, req: HttpRequest, payload: web::Payload) -> HttpResponse {
    handle(state, req, payload).await
}

/// The short prefix, and the Smartbi envelope (not the native 404) for any other path or
/// method under either prefix. Register after [`call`], before the default service.
pub fn aliases(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(format!("{SHORT_PREFIX}/{{module}}/{{action}}"))
            .guard(guard::Post())
            .to(handle),
    )
    // The one action of three segments (document 2.9): `perm` and `assignee/resource`.
    .service(
        web::resource([
            format!("{PREFIX}/{{module:perm}}/{{action:assignee/resource}}"),
            format!("{SHORT_PREFIX}/{{module:perm}}/{{action:assignee/resource}}"),
        ])
        .guard(guard::Post())
        .to(handle),
    )
    .service(
        web::resource([
            PREFIX.to_owned(),
            format!("{PREFIX}/{{tail:.*}}"),
            SHORT_PREFIX.to_owned(),
            format!("{SHORT_PREFIX}/{{tail:.*}}"),
        ])
        .to(no_endpoint),
    );
}

async fn handle(state: State, req: HttpRequest, mut payload: web::Payload) -> HttpResponse {
    respond(run(&state, &req, &mut payload).await)
}

async fn no_endpoint(req: HttpRequest) -> HttpResponse {
    respond(Err(SmartbiError::new(format!(
        "no endpoint {} {}: Smartbi actions are POST {PREFIX}/{{module}}/{{action}}",
        req.method(),
        req.path()
    ))))
}

async fn run(state: &State, req: &HttpRequest, payload: &mut web::Payload) -> SmartbiResult {
    let module = req
        .match_info()
        .get("module")
        .unwrap_or_default()
        .to_owned();
    let action = req
        .match_info()
        .get("action")
        .unwrap_or_default()
        .to_owned();
    let body = read_body(req, payload).await?;
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let request = params::parse(content_type, &body, req.query_string())?;
    let who = caller(state, req, request.token).await?;
    let params = params::params_value(request.params_info)?;
    let Some(found) = find(&module, &action) else {
        return Err(SmartbiError::new(format!(
            "unknown action {}/{}",
            clip(&module),
            clip(&action)
        )));
    };
    match found.run {
        Handler::Caller(run) => run(&who),
        Handler::Catalog(run) => catalog::dispatch(state, &who, run, params).await,
        Handler::Identity => identity::dispatch(state, &who, &module, &action, params).await,
    }
}

/// Weir's own actions, under the module `system`.
pub const BUILTIN: &[Action] = &[Action {
    module: "system",
    action: "whoami",
    summary: "The caller: their user name and tenant",
    params: None,
    run: Handler::Caller(whoami),
}];

fn whoami(who: &Principal) -> SmartbiResult {
    Ok(json!({
        "username": who.user.username.as_str(),
        "tenant": who.tenant_id.to_string(),
    }))
}

/// The caller: `smartbiToken` when the request has one, else the bearer token.
async fn caller(
    state: &State,
    req: &HttpRequest,
    smartbi_token: Option<String>,
) -> Result<Principal, SmartbiError> {
    if let Some(raw) = smartbi_token {
        return by_smartbi_token(state, &raw).await;
    }
    if req.headers().contains_key(AUTHORIZATION) {
        let refused = |e: Refusal| SmartbiError::new(format!("Authorization: {}", e.message));
        let bearer = header_token(req).map_err(refused)?;
        return authenticate(state, bearer).await.map_err(refused);
    }
    Err(SmartbiError::new(
        "smartbiToken is missing: send it in the form or JSON body or in the query string \
         (or send Authorization: Bearer <access token>)",
    ))
}

async fn by_smartbi_token(state: &State, raw: &str) -> Result<Principal, SmartbiError> {
    let settings = &state.smartbi;
    let Some(key) = &settings.token_key else {
        return Err(SmartbiError::new(
            "smartbiToken cannot be checked: smartbi.token_key is not configured \
             (an Authorization: Bearer token from /oauth2/token still works)",
        ));
    };
    let claims = token::open(key, raw, SystemClock.now_ms(), settings.token_window_secs)
        .map_err(|e| SmartbiError::new(e.to_string()))?;
    let tenant = claims
        .tenant()
        .map_err(|e| SmartbiError::new(e.to_string()))?
        .to_owned();
    let username = claims.username.trim().to_owned();
    let password = claims.password;
    let found = {
        let (state, tenant, username) = (state.clone(), tenant.clone(), username.clone());
        blocking(move || {
            state
                .identity
                .principal_by_username(&tenant, &username, password.as_deref())
        })
        .await?
    };
    match found {
        Ok(Some(principal)) => Ok(principal),
        Ok(None) => Err(SmartbiError::new(format!(
            "smartbiToken: user `{}` not found in tenant `{}` (Weir users are named by \
             their email)",
            clip(&username),
            clip(&tenant)
        ))),
        Err(AuthError::InvalidCredentials) => Err(SmartbiError::new(format!(
            "smartbiToken: the password of user `{}` is incorrect",
            clip(&username)
        ))),
        Err(AuthError::TenantNotFound(_)) => Err(SmartbiError::new(format!(
            "smartbiToken: extend.tenant `{}` names no tenant",
            clip(&tenant)
        ))),
        Err(e) => Err(SmartbiError::from_domain(e)),
    }
}

/// Client-supplied text in a message, cut to a readable length.
fn clip(s: &str) -> String {
    const MAX: usize = 100;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        format!("{}...", s.chars().take(MAX).collect::<String>())
    }
}
