//! `POST /oauth2/token`: the `password` and `refresh_token` grants.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa::openapi::{RefOr, Schema};

use weir_identity::TokenPair;
use weir_identity::service::ClientCredentials;

use super::envelope::{Failure, NativeError, Success};
use super::extract::{State, blocking, parse_json, read_body, tenant_header};
use crate::openapi::one_of;

/// Form-urlencoded or JSON. Any `Authorization` header is ignored: the reference console
/// sends its old token when it refreshes.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// `password` or `refresh_token`.
    #[schema(schema_with = grant_types)]
    pub grant_type: Option<String>,
    /// The user's email (password grant).
    pub username: Option<String>,
    pub password: Option<String>,
    pub refresh_token: Option<String>,
    /// Default `iab`.
    pub client_id: Option<String>,
    /// Default `milesight*iab`.
    pub client_secret: Option<String>,
}

fn grant_types() -> RefOr<Schema> {
    one_of(["password", "refresh_token"])
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct TokenData {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

impl From<TokenPair> for TokenData {
    fn from(t: TokenPair) -> Self {
        Self {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            token_type: t.token_type,
            expires_in: t.expires_in,
        }
    }
}

/// Log in (password grant) or refresh (refresh_token grant). The `TENANT-ID` header picks
/// the tenant (default `default`).
#[utoipa::path(
    tag = "auth",
    request_body(content(
        (TokenRequest = "application/x-www-form-urlencoded"),
        (TokenRequest = "application/json"),
    )),
    params(("TENANT-ID" = Option<String>, Header, description = "tenant; default `default`")),
    responses(
        (status = 200, body = Envelope<TokenData>),
        (status = 400, body = Failure, description = "parameter_validation_failed, tenant_not_found"),
        (status = 401, body = Failure, description = "authentication_failed: wrong credentials, client or refresh token"),
        (status = 413, body = Failure, description = "data_too_large: the body is over the configured limit"),
        (status = 429, body = Failure, description = "request_too_frequently: too many failed logins"),
    )
)]
#[post("/oauth2/token")]
pub async fn token(
    state: State,
    req: HttpRequest,
    mut payload: web::Payload,
) -> Result<Success<TokenData>, NativeError> {
    let bytes = read_body(&req, &mut payload).await?;
    let is_json = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
    let body: TokenRequest = if is_json {
        parse_json(&bytes)?
    } else {
        serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| NativeError::invalid(format!("request body: {e}")))?
    };
    let tenant = tenant_header(&req);
    let address = req.peer_addr().map(|a| a.ip().to_string());
    let client = ClientCredentials {
        client_id: body.client_id.clone(),
        client_secret: body.client_secret.clone(),
    };
    let pair = match body.grant_type.as_deref() {
        Some("password") => {
            let username = body.username.ok_or_else(|| {
                NativeError::invalid("username is required for the password grant")
            })?;
            let password = body.password.ok_or_else(|| {
                NativeError::invalid("password is required for the password grant")
            })?;
            let result = crate::core::blocking(move || {
                state.identity.token_by_password(
                    &tenant,
                    &client,
                    &username,
                    &password,
                    address.as_deref(),
                )
            })
            .await?;
            crate::measure::login(&result);
            result.map_err(NativeError::from)?
        }
        Some("refresh_token") => {
            let refresh = body.refresh_token.ok_or_else(|| {
                NativeError::invalid("refresh_token is required for the refresh_token grant")
            })?;
            blocking(move || state.identity.token_by_refresh(&client, &refresh)).await?
        }
        Some(other) => {
            return Err(NativeError::invalid(format!(
                "grant_type `{}` is not supported (use password or refresh_token)",
                other.chars().take(40).collect::<String>()
            )));
        }
        None => {
            return Err(NativeError::invalid(
                "grant_type is required (password or refresh_token)",
            ));
        }
    };
    Ok(Success(pair.into()))
}

use super::envelope::Envelope;
