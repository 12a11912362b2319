//! The caller behind a bearer token, the same way in every dialect: the token of a header
//! (`Bearer <token>`, the scheme in any case), checked by the identity service.

use std::marker::PhantomData;

use actix_web::HttpRequest;
use actix_web::http::header::AUTHORIZATION;
use weir_identity::Principal;

use super::blocking::blocking;
use super::refusal::Refusal;
use super::state::State;

/// The token of the `Authorization: Bearer <token>` header.
pub fn header_token(req: &HttpRequest) -> Result<String, Refusal> {
    token_of(
        req,
        &[AUTHORIZATION.as_str()],
        "missing access token (Authorization: Bearer ...)",
    )
}

/// The token of the first of `headers` the request sends; `missing` says which headers
/// were expected when it sends none.
pub fn token_of(req: &HttpRequest, headers: &[&str], missing: &str) -> Result<String, Refusal> {
    let Some(value) = headers.iter().find_map(|h| req.headers().get(*h)) else {
        return Err(Refusal::unauthenticated(missing));
    };
    let value = value
        .to_str()
        .map_err(|_| Refusal::unauthenticated("access token is malformed"))?;
    bearer_token(value)
}

/// The token of an `Authorization` value, `Bearer <token>` (the scheme in any case).
pub fn bearer_token(value: &str) -> Result<String, Refusal> {
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(Refusal::unauthenticated(
            "access token is malformed (expected `Bearer <token>`)",
        )),
    }
}

/// Checks an access token (signature, expiry, revocation) on the blocking pool.
/// A cached principal (or a token refused by its signature or expiry) is answered in place,
/// without the trip to the blocking pool.
pub async fn authenticate(state: &State, token: String) -> Result<Principal, Refusal> {
    if let Some(known) = state.identity.authenticate_cached(&token) {
        return known.map_err(|e| Refusal::from_domain(&e));
    }
    let state = state.clone();
    blocking(move || state.identity.authenticate(&token))
        .await?
        .map_err(|e| Refusal::from_domain(&e))
}

/// The caller behind `Authorization: Bearer <token>`, in any dialect: `E` is the dialect's
/// error, in which a missing or bad token is refused. A dialect names it
/// (`type Caller = core::auth::Caller<WynError>`) and makes it an extractor with
/// `from_bearer_token!`.
#[derive(Debug)]
pub struct Caller<E>(pub Principal, PhantomData<fn() -> E>);

impl<E: From<Refusal>> Caller<E> {
    pub async fn authenticate(state: &State, token: String) -> Result<Self, E> {
        Ok(Self(authenticate(state, token).await?, PhantomData))
    }
}

/// Implements `FromRequest` for an extractor of the caller behind the bearer token: a type
/// with `async fn authenticate(state: &State, token: String) -> Result<Self, $error>`,
/// where `$error` (the dialect's error) converts from [`Refusal`]. The token is read by
/// [`header_token`], or by `$token` (a `fn(&HttpRequest) -> Result<String, Refusal>`).
macro_rules! from_bearer_token {
    ($extractor:ty, $error:ty) => {
        $crate::core::auth::from_bearer_token!(
            $extractor,
            $error,
            $crate::core::auth::header_token
        );
    };
    ($extractor:ty, $error:ty, $token:path) => {
        impl actix_web::FromRequest for $extractor {
            type Error = $error;
            type Future =
                std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

            fn from_request(
                req: &actix_web::HttpRequest,
                _: &mut actix_web::dev::Payload,
            ) -> Self::Future {
                let state = req.app_data::<$crate::core::state::State>().cloned();
                let token = $token(req);
                Box::pin(async move {
                    let state = state.ok_or_else($crate::core::refusal::Refusal::internal)?;
                    Self::authenticate(&state, token?).await
                })
            }
        }
    };
}
pub(crate) use from_bearer_token;
