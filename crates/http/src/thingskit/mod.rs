//! The ThingsKit dialect (`003_abd85975f278bbf3.txt`): the tenant-role API under `/api/yt`,
//! ThingsBoard style.
//!
//! - [`roles`]: `POST /api/yt/role/save_with_menu`, `PUT /api/yt/role/update_status/{roleId}/{status}`,
//!   `DELETE /api/yt/role` and `GET /api/yt/role`;
//! - [`envelope`]: the error body `{errorCode, message, status, timestamp}`; successes
//!   answer the bare object;
//! - [`ThingsKitCaller`]: the caller behind `X-Authorization: Bearer <token>` (ThingsBoard's
//!   header) or `Authorization: Bearer <token>`, the native `/oauth2/token` access tokens.
//!
//! Mounted as one scope whose default ([`envelope::no_endpoint`]) answers 32 for any other path or method under
//! `/api/yt`. See docs/thingskit.md.

pub mod envelope;
pub mod roles;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use utoipa_actix_web::service_config::ServiceConfig;
use weir_identity::Principal;

use self::envelope::ThingsKitError;
use crate::core::auth::{from_bearer_token, token_of};
use crate::core::body::read_body;
use crate::core::{Refusal, State, blocking};

/// Where the ThingsKit routes are mounted.
pub const PREFIX: &str = "/api/yt";

/// ThingsBoard's token header, read before `Authorization`.
pub const X_AUTHORIZATION: &str = "X-Authorization";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(roles::save_with_menu)
        .service(roles::update_status)
        .service(roles::delete)
        .service(roles::list);
}

/// The authenticated caller. A missing, malformed or revoked token answers 10, an expired
/// one 11 (both 401).
#[derive(Debug)]
pub struct ThingsKitCaller(pub Principal);

impl ThingsKitCaller {
    /// Checks the token with the identity service, keeping its error rather than the
    /// core's refusal: an expired token is 11 here, not 10.
    pub async fn authenticate(state: &State, token: String) -> Result<Self, ThingsKitError> {
        if let Some(known) = state.identity.authenticate_cached(&token) {
            return Ok(ThingsKitCaller(known?));
        }
        let state = state.clone();
        Ok(ThingsKitCaller(
            blocking(move || state.identity.authenticate(&token)).await??,
        ))
    }

    /// Role management is for the super admin (20 otherwise). Checked before the request's
    /// values, so a caller who may not manage roles learns nothing from a bad one.
    pub fn admin(self) -> Result<Principal, ThingsKitError> {
        self.0.require_super_admin()?;
        Ok(self.0)
    }
}

/// The super admin's raw request body (JSON or a form, as the endpoint reads it): the
/// caller is authenticated and checked by [`ThingsKitCaller::admin`] before the body is read.
pub struct AdminBody(pub Principal, pub BytesMut);

impl FromRequest for AdminBody {
    type Error = ThingsKitError;
    type Future = LocalBoxFuture<'static, Result<Self, ThingsKitError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = ThingsKitCaller::from_request(req, payload);
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let p = caller.await?.admin()?;
            let body = read_body(&req, &mut payload).await?;
            Ok(AdminBody(p, body))
        })
    }
}

/// The token of `X-Authorization` when sent, else of `Authorization`; both `Bearer <token>`.
pub fn header_token(req: &HttpRequest) -> Result<String, Refusal> {
    token_of(
        req,
        &[X_AUTHORIZATION, AUTHORIZATION.as_str()],
        "missing access token (X-Authorization: Bearer ... or Authorization: Bearer ...)",
    )
}

from_bearer_token!(ThingsKitCaller, ThingsKitError, header_token);
