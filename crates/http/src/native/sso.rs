//! Single sign-on through the tenant's OpenID Connect provider (docs/operations.md, "Single
//! sign-on"):
//!
//! - `GET /oauth2/sso/authorize?tenant=&return_to=`: sends the browser to the provider,
//!   with a cookie that binds the sign-in to this browser.
//! - `GET /oauth2/sso/callback`: where the provider sends it back. Answers Weir's own
//!   tokens, as `POST /oauth2/token` does; with a `return_to`, redirects there instead with
//!   the tokens in the URL fragment (which browsers never send to a server).
//! - `GET`, `PUT` and `DELETE /oauth2/sso/provider`: the tenant's provider (super admin).

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieAge};
use actix_web::http::header::{CACHE_CONTROL, LOCATION};
use actix_web::{HttpRequest, HttpResponse, Responder, delete, get, put, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use weir_identity::service::{SsoCallback, SsoProviderView};
use weir_identity::sso::{SSO_ATTEMPT_TTL_MS, SsoProviderInput};
use weir_kernel::Id;

use super::PREFIX;
use super::envelope::{Envelope, Failure, NativeError, Refusals, Success};
use super::extract::{Body, Caller, State, blocking, tenant_header};
use super::oauth::TokenData;
use crate::core::body::Empty;

/// The cookie that ties a sign-in to the browser that started it.
const BINDING_COOKIE: &str = "weir_sso";
/// The path the binding cookie is sent to: the callback's.
const CALLBACK_PATH: &str = "/oauth2/sso/callback";

/// Where to sign in, and where to go afterwards.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeQuery {
    /// The tenant; default the `TENANT-ID` header, else `default`.
    pub tenant: Option<String>,
    /// A path on this server to redirect to with the tokens in the fragment
    /// (`#access_token=...&refresh_token=...&token_type=Bearer&expires_in=...`); without
    /// it, the callback answers the tokens as JSON.
    pub return_to: Option<String>,
}

/// What the provider sends the browser back with.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    pub state: Option<String>,
    pub code: Option<String>,
    /// The provider's refusal (`access_denied`, ...).
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// The tenant's provider, as its super admin sees it (the client secret never appears).
#[derive(Debug, Serialize, ToSchema)]
pub struct SsoProviderDto {
    pub issuer: String,
    pub client_id: String,
    /// Always true once saved: the secret itself is never answered.
    pub has_client_secret: bool,
    /// `openid` first.
    pub scopes: Vec<String>,
    /// The ID token claim naming the user's groups; `null`: groups are not mapped.
    pub groups_claim: Option<String>,
    /// The role given to users on their first sign-in, as a string id.
    pub default_role_id: Option<String>,
    pub enabled: bool,
    /// Epoch milliseconds.
    pub updated_at: i64,
}

impl From<SsoProviderView> for SsoProviderDto {
    fn from(v: SsoProviderView) -> Self {
        Self {
            issuer: v.issuer,
            client_id: v.client_id,
            has_client_secret: v.has_client_secret,
            scopes: v.scopes,
            groups_claim: v.groups_claim,
            default_role_id: v.default_role_id.map(|id| id.to_string()),
            enabled: v.enabled,
            updated_at: v.updated_at,
        }
    }
}

/// The tenant's provider: how Weir signs its users in through it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SsoProviderRequest {
    /// The issuer URL, exactly as the provider's discovery document names it.
    #[schema(example = "https://id.example.com/realms/weir")]
    pub issuer: String,
    #[schema(example = "weir")]
    pub client_id: String,
    /// Required the first time; left out, the stored one is kept.
    pub client_secret: Option<String>,
    /// Scopes besides `openid`; default `["email", "profile"]`.
    pub scopes: Option<Vec<String>>,
    /// The ID token claim with the user's groups (`groups`; dotted for nested claims,
    /// `realm_access.roles`); each value maps to the Weir user group of that id or code.
    pub groups_claim: Option<String>,
    /// The role given to users on their first sign-in (string or number).
    #[schema(value_type = Option<String>)]
    pub default_role_id: Option<serde_json::Value>,
    /// Default true.
    pub enabled: Option<bool>,
}

/// The callback URL given to providers: `http.public_url` when set, else this request's
/// scheme and host (behind a proxy, set `http.public_url`).
fn redirect_uri(state: &State, req: &HttpRequest) -> String {
    let base = match &state.settings.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    };
    format!("{base}{PREFIX}{CALLBACK_PATH}")
}

/// Start signing in through the tenant's identity provider: answers 302 to the provider.
#[utoipa::path(
    tag = "auth",
    params(AuthorizeQuery),
    responses(
        (status = 302, description = "to the provider's authorization endpoint, with the binding cookie"),
        (status = 400, body = Failure, description = "parameter_validation_failed (return_to), tenant_not_found"),
        (status = 404, body = Failure, description = "sso_not_configured"),
        (status = 503, body = Failure, description = "sso_provider_unavailable: discovery failed"),
    )
)]
#[get("/oauth2/sso/authorize")]
pub async fn authorize(
    state: State,
    req: HttpRequest,
    query: web::Query<AuthorizeQuery>,
) -> Result<HttpResponse, NativeError> {
    let q = query.into_inner();
    let tenant = q
        .tenant
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| tenant_header(&req));
    let back_to = redirect_uri(&state, &req);
    let secure = back_to.starts_with("https:");
    let start = blocking(move || {
        state
            .identity
            .begin_sso(&tenant, q.return_to.as_deref(), &back_to)
    })
    .await?;
    let cookie = Cookie::build(BINDING_COOKIE, start.binding)
        .path(format!("{PREFIX}{CALLBACK_PATH}"))
        .http_only(true)
        .secure(secure)
        // Lax: sent on the provider's top-level redirect back, never on cross-site posts.
        .same_site(SameSite::Lax)
        .max_age(CookieAge::milliseconds(SSO_ATTEMPT_TTL_MS))
        .finish();
    Ok(HttpResponse::Found()
        .insert_header((LOCATION, start.redirect_url))
        .insert_header((CACHE_CONTROL, "no-store"))
        .cookie(cookie)
        .finish())
}

/// The provider's redirect back: finishes the sign-in and issues Weir's tokens.
#[utoipa::path(
    tag = "auth",
    params(CallbackQuery),
    responses(
        (status = 200, body = Envelope<TokenData>, description = "signed in (no return_to)"),
        (status = 302, description = "to return_to, the tokens in the fragment"),
        (status = 400, body = Failure, description = "parameter_validation_failed: no code"),
        (status = 401, body = Failure, description = "authentication_failed: unknown, used, expired or foreign state; the provider refused; the ID token failed a check. user_disabled"),
        (status = 409, body = Failure, description = "sso_account_conflict: a user of that name or email exists and is not linked"),
        (status = 503, body = Failure, description = "sso_provider_unavailable"),
    )
)]
#[get("/oauth2/sso/callback")]
pub async fn callback(
    state: State,
    req: HttpRequest,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, NativeError> {
    let q = query.into_inner();
    let input = SsoCallback {
        state: q.state.unwrap_or_default(),
        code: q.code,
        error: q.error.map(|e| match q.error_description {
            Some(d) => format!("{e}: {d}"),
            None => e,
        }),
        binding: req.cookie(BINDING_COOKIE).map(|c| c.value().to_owned()),
    };
    let signed_in = blocking(move || state.identity.finish_sso(&input)).await?;
    // The binding is used up whatever the outcome below.
    let mut gone = Cookie::build(BINDING_COOKIE, "")
        .path(format!("{PREFIX}{CALLBACK_PATH}"))
        .finish();
    gone.make_removal();
    let tokens = TokenData::from(signed_in.tokens);
    let mut answer = match signed_in.return_to {
        Some(path) => {
            let fragment = serde_urlencoded::to_string([
                ("access_token", tokens.access_token.as_str()),
                ("refresh_token", tokens.refresh_token.as_str()),
                ("token_type", tokens.token_type),
                ("expires_in", &tokens.expires_in.to_string()),
            ])
            .unwrap_or_default();
            HttpResponse::Found()
                .insert_header((LOCATION, format!("{path}#{fragment}")))
                .finish()
        }
        None => Success(tokens).respond_to(&req),
    };
    answer.headers_mut().insert(
        CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    let _ = answer.add_cookie(&gone);
    Ok(answer)
}

/// The tenant's identity provider (`null` when none); super admin only.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Option<SsoProviderDto>>), Refusals)
)]
#[get("/oauth2/sso/provider")]
pub async fn provider(
    state: State,
    caller: Caller,
) -> Result<Success<Option<SsoProviderDto>>, NativeError> {
    let view = blocking(move || state.identity.sso_provider(&caller.0)).await?;
    Ok(Success(view.map(Into::into)))
}

/// Configures the tenant's identity provider, replacing any; super admin only.
#[utoipa::path(
    tag = "auth",
    request_body = SsoProviderRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<SsoProviderDto>), Refusals)
)]
#[put("/oauth2/sso/provider")]
pub async fn save_provider(
    state: State,
    caller: Caller,
    body: Body<SsoProviderRequest>,
) -> Result<Success<SsoProviderDto>, NativeError> {
    let b = body.0;
    let default_role_id = match b.default_role_id {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(role_id(&v)?),
    };
    let input = SsoProviderInput {
        issuer: b.issuer,
        client_id: b.client_id,
        client_secret: b.client_secret,
        scopes: b.scopes,
        groups_claim: b.groups_claim,
        default_role_id,
        enabled: b.enabled,
    };
    let view = blocking(move || state.identity.set_sso_provider(&caller.0, input)).await?;
    Ok(Success(view.into()))
}

/// Removes the tenant's identity provider; super admin only. Users it provisioned stay.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Empty>), Refusals)
)]
#[delete("/oauth2/sso/provider")]
pub async fn delete_provider(state: State, caller: Caller) -> Result<Success<Empty>, NativeError> {
    blocking(move || state.identity.delete_sso_provider(&caller.0)).await?;
    Ok(Success(Empty {}))
}

/// A role id as the console sends ids: a string of digits, or a number.
fn role_id(v: &serde_json::Value) -> Result<Id, NativeError> {
    let parsed = match v {
        serde_json::Value::String(s) => s.trim().parse::<i64>().ok(),
        serde_json::Value::Number(n) => n.as_i64(),
        _ => None,
    };
    parsed
        .filter(|n| *n > 0)
        .map(Id)
        .ok_or_else(|| NativeError::invalid("default_role_id must be a role id (digits)"))
}
