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

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use utoipa_actix_web::service_config::ServiceConfig;
use weir_identity::Principal;

use self::envelope::{ErrorCode, ThingsKitError};
use crate::native::extract::{State, bearer_token};

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

/// Runs a blocking use-case on the blocking pool and converts its error.
pub async fn blocking<T, E>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, ThingsKitError>
where
    T: Send + 'static,
    E: Into<ThingsKitError> + Send + 'static,
{
    match web::block(f).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(ThingsKitError::internal()),
    }
}

/// The authenticated caller. A missing, malformed or revoked token answers 10, an expired
/// one 11 (both 401).
#[derive(Debug)]
pub struct ThingsKitCaller(pub Principal);

impl ThingsKitCaller {
    /// Role management is for the super admin (20 otherwise). Checked before the request's
    /// values, so a caller who may not manage roles learns nothing from a bad one.
    pub fn admin(self) -> Result<Principal, ThingsKitError> {
        self.0.require_super_admin()?;
        Ok(self.0)
    }
}

/// The token of `X-Authorization` when sent, else of `Authorization`; both `Bearer <token>`.
pub fn header_token(req: &HttpRequest) -> Result<String, ThingsKitError> {
    let value = req
        .headers()
        .get(X_AUTHORIZATION)
        .or_else(|| req.headers().get(AUTHORIZATION))
        .ok_or_else(|| {
            ThingsKitError::new(
                ErrorCode::Authentication,
                "missing access token (X-Authorization: Bearer ... or Authorization: Bearer ...)",
            )
        })?;
    let value = value
        .to_str()
        .map_err(|_| ThingsKitError::new(ErrorCode::Authentication, "access token is malformed"))?;
    Ok(bearer_token(value)?)
}

impl FromRequest for ThingsKitCaller {
    type Error = ThingsKitError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ThingsKitError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<State>().cloned();
        let token = header_token(req);
        Box::pin(async move {
            let state = state.ok_or_else(ThingsKitError::internal)?;
            let token = token?;
            // The identity error itself, not the native one: an expired token is 11 here.
            blocking(move || state.identity.authenticate(&token))
                .await
                .map(ThingsKitCaller)
        })
    }
}
