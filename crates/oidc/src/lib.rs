//! Weir's OpenID Connect adapter: [`OidcClient`] implements the identity domain's
//! [`OpenIdClient`] port, so that a tenant's users sign in through the tenant's identity
//! provider (docs/operations.md, "Single sign-on").
//!
//! - [`discovery`]: the provider's metadata (`/.well-known/openid-configuration`) and
//!   signing keys (JWKS), fetched once and kept, keys fetched again when a token names an
//!   unknown key.
//! - The authorization code grant with PKCE (S256), state and nonce: the `oauth2` crate.
//! - [`id_token`]: the ID token's checks (signature, issuer, audience, expiry, nonce):
//!   `jsonwebtoken`.
//! - [`transport`]: every request goes through Weir's outbound policy ([`PolicyClient`]):
//!   a provider on an internal address must be opened by `outbound.allow`.

pub mod discovery;
pub mod id_token;
pub mod transport;

use std::time::Duration;

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, StandardRevocableToken, StandardTokenResponse, TokenUrl,
};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use weir_identity::sso::{
    AuthorizationRequest, ExternalClaims, OpenIdClient, SsoError, SsoProvider,
};
use weir_outbound::{ClientBuildError, OutboundPolicy, PolicyClient};

use crate::discovery::Discovery;
use crate::transport::Transport;

/// The `User-Agent` of every request to a provider.
pub const USER_AGENT: &str = concat!("Weir-SSO/", env!("CARGO_PKG_VERSION"));

/// How long one request to a provider may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The token endpoint's answer: OAuth 2.0's, plus OpenID Connect's `id_token`.
#[derive(Debug, Clone, Deserialize, Serialize)]
struct IdTokenField {
    id_token: Option<String>,
}

impl ExtraTokenFields for IdTokenField {}

type TokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;

/// An `oauth2` client with a token endpoint, answering [`TokenResponse`]s.
type CodeClient<HasAuthUrl, HasTokenUrl> = oauth2::Client<
    BasicErrorResponse,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    HasAuthUrl,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    HasTokenUrl,
>;

/// The [`OpenIdClient`] port over HTTP(S); see the [crate] documentation.
/// Blocking: call it on a blocking thread.
#[derive(Debug)]
pub struct OidcClient {
    transport: Transport,
    discovery: Discovery,
}

impl OidcClient {
    /// A client whose requests follow `policy`.
    pub fn new(policy: OutboundPolicy) -> Result<Self, ClientBuildError> {
        Ok(Self {
            transport: Transport::new(PolicyClient::new(policy, USER_AGENT)?, REQUEST_TIMEOUT),
            discovery: Discovery::default(),
        })
    }

    fn client(
        provider: &SsoProvider,
        redirect_uri: &str,
        auth_url: &str,
    ) -> Result<CodeClient<EndpointSet, EndpointNotSet>, SsoError> {
        let bad = |what: &str, e: url::ParseError| {
            SsoError::ProviderUnavailable(format!("{what} is not a URL: {e}"))
        };
        Ok(CodeClient::new(ClientId::new(provider.client_id.clone()))
            .set_client_secret(ClientSecret::new(provider.client_secret.clone()))
            .set_auth_type(AuthType::BasicAuth)
            .set_auth_uri(
                AuthUrl::new(auth_url.to_owned()).map_err(|e| bad("authorization_endpoint", e))?,
            )
            .set_redirect_uri(
                RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| bad("the callback", e))?,
            ))
    }

    /// Redeems `code` at the provider's token endpoint; answers the ID token, unchecked.
    pub fn id_token(
        &self,
        provider: &SsoProvider,
        redirect_uri: &str,
        code: &str,
        pkce_verifier: &str,
    ) -> Result<String, SsoError> {
        let found = self.discovery.provider(&self.transport, &provider.issuer)?;
        let token_url = TokenUrl::new(found.metadata.token_endpoint.clone()).map_err(|e| {
            SsoError::ProviderUnavailable(format!("token_endpoint is not a URL: {e}"))
        })?;
        let client = Self::client(
            provider,
            redirect_uri,
            &found.metadata.authorization_endpoint,
        )?
        .set_token_uri(token_url);
        let answer = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request(&|request| self.transport.send(request))
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r) => {
                    let mut why = r.error().to_string();
                    if let Some(d) = r.error_description() {
                        why = format!("{why}: {}", d.chars().take(200).collect::<String>());
                    }
                    SsoError::ProviderRefused(why)
                }
                RequestTokenError::Request(e) => SsoError::ProviderUnavailable(e.to_string()),
                RequestTokenError::Parse(e, _) => SsoError::ProviderUnavailable(format!(
                    "the token endpoint's answer is not a token response: {e}"
                )),
                RequestTokenError::Other(e) => SsoError::ProviderUnavailable(e),
            })?;
        answer.extra_fields().id_token.clone().ok_or_else(|| {
            SsoError::InvalidIdToken("the token endpoint answered no id_token".into())
        })
    }

    /// Checks an ID token for a sign-in to `provider` that sent `nonce` (see [`id_token`]),
    /// with the provider's published keys.
    pub fn check_id_token(
        &self,
        token: &str,
        provider: &SsoProvider,
        nonce: &str,
    ) -> Result<ExternalClaims, SsoError> {
        let found = self.discovery.provider(&self.transport, &provider.issuer)?;
        let keys = |refresh: bool| self.discovery.keys(&self.transport, &found, refresh);
        id_token::check(token, provider, &found.metadata, nonce, keys)
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

impl OpenIdClient for OidcClient {
    #[tracing::instrument(level = "debug", name = "sso_authorization_request", skip_all, fields(issuer = %provider.issuer))]
    fn authorization_request(
        &self,
        provider: &SsoProvider,
        redirect_uri: &str,
    ) -> Result<AuthorizationRequest, SsoError> {
        let found = self.discovery.provider(&self.transport, &provider.issuer)?;
        let client = Self::client(
            provider,
            redirect_uri,
            &found.metadata.authorization_endpoint,
        )?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let nonce = random_hex(32);
        let (url, state) = client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(provider.scopes.iter().cloned().map(Scope::new))
            .add_extra_param("nonce", nonce.clone())
            .set_pkce_challenge(challenge)
            .url();
        Ok(AuthorizationRequest {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce,
            pkce_verifier: verifier.secret().clone(),
        })
    }

    #[tracing::instrument(level = "debug", name = "sso_redeem", skip_all, fields(issuer = %provider.issuer))]
    fn redeem(
        &self,
        provider: &SsoProvider,
        redirect_uri: &str,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<ExternalClaims, SsoError> {
        let token = self.id_token(provider, redirect_uri, code, pkce_verifier)?;
        self.check_id_token(&token, provider, nonce)
    }
}
