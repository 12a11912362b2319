//! Extractors of the native dialect: JSON bodies with precise errors, the caller behind a
//! bearer token, ids in paths, and running use-cases off the async workers. What is not
//! native (reading bodies, tokens, the blocking pool) is [`crate::core`]'s, re-exported here
//! for the native handlers.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use weir_kernel::Id;

use super::envelope::NativeError;
pub use crate::core::State;
pub(crate) use crate::core::auth::from_bearer_token;
pub use crate::core::auth::{authenticate, bearer_token, header_token};
pub use crate::core::body::{parse_json, parse_json_of, read_body};

/// Runs a blocking use-case on the blocking pool and converts its error.
#[track_caller]
pub fn blocking<T, E>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> impl Future<Output = Result<T, NativeError>>
where
    T: Send + 'static,
    E: Into<NativeError> + Send + 'static,
{
    let call = crate::core::blocking(f);
    async move { call.await?.map_err(Into::into) }
}

/// A JSON request body.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = NativeError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, NativeError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let bytes = read_body(&req, &mut payload).await?;
            Ok(Body(parse_json(&bytes)?))
        })
    }
}

/// The authenticated caller. Missing, malformed, expired and revoked tokens answer 401
/// `authentication_failed`, saying which.
pub type Caller = crate::core::auth::Caller<NativeError>;

from_bearer_token!(Caller, NativeError);

/// Parses an id from a path segment.
pub fn path_id(field: &str, raw: &str) -> Result<Id, NativeError> {
    raw.parse().map_err(|_| {
        NativeError::invalid(format!(
            "{field} must be a numeric id, got `{}`",
            raw.chars().take(40).collect::<String>()
        ))
    })
}

/// The tenant a login, registration or status request names (`TENANT-ID`), else `default`.
pub fn tenant_header(req: &HttpRequest) -> String {
    req.headers()
        .get("TENANT-ID")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| weir_kernel::tenant::DEFAULT_TENANT.to_owned())
}
