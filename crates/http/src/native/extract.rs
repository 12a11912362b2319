//! Extractors of the native dialect: JSON bodies with precise errors, the caller behind a
//! bearer token, ids in paths, and running use-cases off the async workers.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use weir_identity::Principal;
use weir_kernel::Id;

use super::envelope::NativeError;
use crate::state::ApiState;

pub type State = web::Data<ApiState>;

/// Runs a blocking use-case on the blocking pool and converts its error.
pub async fn blocking<T, E>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, NativeError>
where
    T: Send + 'static,
    E: Into<NativeError> + Send + 'static,
{
    match web::block(f).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(NativeError::internal()),
    }
}

/// Reads the whole body (or one part of a multipart body), refusing more than the
/// configured limit with 413, and text holding NUL with 400 naming the field
/// ([`crate::text_guard`]).
pub async fn read_body<E: std::fmt::Display>(
    req: &HttpRequest,
    payload: &mut (impl futures_util::Stream<Item = Result<web::Bytes, E>> + Unpin),
) -> Result<web::BytesMut, NativeError> {
    let limit = req
        .app_data::<State>()
        .map_or(1024 * 1024, |s| s.settings.max_body_bytes);
    let too_large = || {
        NativeError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "data_too_large",
            format!("request body exceeds {limit} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            NativeError::new(
                StatusCode::BAD_REQUEST,
                "parameter_syntax_error",
                format!("request body could not be read: {e}"),
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    if let Some(field) = crate::text_guard::body_field(&body) {
        return Err(crate::text_guard::refusal(&field));
    }
    Ok(body)
}

/// Parses JSON, naming the offending field on a type error. An empty body reads as `{}`,
/// since the document marks most bodies optional.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, NativeError> {
    parse_json_of("request body", bytes)
}

/// [`parse_json`] of something other than a request body (`what` names it in messages).
pub fn parse_json_of<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, NativeError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            NativeError::new(
                StatusCode::BAD_REQUEST,
                "parameter_syntax_error",
                format!("{what} is not valid JSON: {inner}"),
            )
        } else if path == "." {
            NativeError::invalid(format!("{what}: {inner}"))
        } else {
            NativeError::invalid(format!("{path}: {inner}"))
        }
    })
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
            parse_json(&bytes).map(Body)
        })
    }
}

/// The authenticated caller. Missing, malformed, expired and revoked tokens answer 401
/// `authentication_failed`, saying which.
#[derive(Debug)]
pub struct Caller(pub Principal);

impl Caller {
    pub async fn authenticate(state: &State, token: String) -> Result<Self, NativeError> {
        authenticate(state, token).await.map(Caller)
    }
}

/// Implements `FromRequest` for an extractor of the caller behind the bearer token: a type
/// with `async fn authenticate(state: &State, token: String) -> Result<Self, NativeError>`.
macro_rules! from_bearer_token {
    ($extractor:ty) => {
        impl actix_web::FromRequest for $extractor {
            type Error = $crate::native::envelope::NativeError;
            type Future =
                std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

            fn from_request(
                req: &actix_web::HttpRequest,
                _: &mut actix_web::dev::Payload,
            ) -> Self::Future {
                let state = req.app_data::<$crate::native::extract::State>().cloned();
                let token = $crate::native::extract::header_token(req);
                Box::pin(async move {
                    let state =
                        state.ok_or_else($crate::native::envelope::NativeError::internal)?;
                    Self::authenticate(&state, token?).await
                })
            }
        }
    };
}
pub(crate) use from_bearer_token;

from_bearer_token!(Caller);

/// The token of the `Authorization: Bearer <token>` header.
pub fn header_token(req: &HttpRequest) -> Result<String, NativeError> {
    let Some(value) = req.headers().get(AUTHORIZATION) else {
        return Err(NativeError::unauthenticated(
            "missing access token (Authorization: Bearer ...)",
        ));
    };
    let value = value
        .to_str()
        .map_err(|_| NativeError::unauthenticated("access token is malformed"))?;
    bearer_token(value)
}

/// The token of an `Authorization` value, `Bearer <token>` (the scheme in any case).
pub fn bearer_token(value: &str) -> Result<String, NativeError> {
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(NativeError::unauthenticated(
            "access token is malformed (expected `Bearer <token>`)",
        )),
    }
}

/// Checks an access token (signature, expiry, revocation) on the blocking pool.
pub async fn authenticate(state: &State, token: String) -> Result<Principal, NativeError> {
    let state = state.clone();
    blocking(move || state.identity.authenticate(&token)).await
}

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
