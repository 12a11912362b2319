//! Single sign-on with OpenID Connect: what a tenant's identity provider is, what a sign-in
//! in progress remembers, what the provider says about the user, and the port through which
//! the use-cases talk to the provider ([`OpenIdClient`]).
//!
//! The protocol itself (discovery, the authorization code grant with PKCE, checking the ID
//! token's signature, issuer, audience, expiry and nonce) is the adapter's; the use-cases in
//! [`crate::service`] decide who the user is in Weir, provision them, map their groups and
//! issue Weir's own tokens.

use std::fmt;

use weir_kernel::{AsProblem, Id, Millis, Problem, ProblemKind, StoreError, TenantId};

use crate::errors::{AccessDenied, FieldError};

/// The longest issuer URL, client id, client secret, claim name or scope accepted.
pub const SSO_FIELD_MAX: usize = 512;
/// How long a sign-in may take between leaving for the provider and coming back.
pub const SSO_ATTEMPT_TTL_MS: Millis = 10 * 60 * 1000;
/// The most groups of one ID token that are looked at.
pub const SSO_MAX_GROUPS: usize = 256;

/// A tenant's OpenID Connect provider (one per tenant).
#[derive(Clone, PartialEq, Eq)]
pub struct SsoProvider {
    /// The tenant whose users sign in through it.
    pub tenant_id: TenantId,
    /// The provider's issuer URL, exactly as its discovery document and ID tokens name it.
    pub issuer: String,
    /// Weir's client id at the provider; ID tokens must name it as their audience.
    pub client_id: String,
    /// Weir's client secret at the provider. Never answered by the API.
    pub client_secret: String,
    /// The scopes asked for; always includes `openid`.
    pub scopes: Vec<String>,
    /// The ID token claim holding the user's group names (`groups`); `None`: groups are
    /// not mapped.
    pub groups_claim: Option<String>,
    /// The role a user gets when their first sign-in provisions them; `None`: no role.
    pub default_role_id: Option<Id>,
    /// Whether sign-in through the provider is open.
    pub enabled: bool,
    /// When it was last saved (epoch milliseconds).
    pub updated_at: Millis,
}

impl fmt::Debug for SsoProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoProvider")
            .field("tenant_id", &self.tenant_id)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("scopes", &self.scopes)
            .field("groups_claim", &self.groups_claim)
            .field("default_role_id", &self.default_role_id)
            .field("enabled", &self.enabled)
            .finish()
    }
}

/// A sign-in on its way through the provider, stored until the browser comes back (at
/// most [`SSO_ATTEMPT_TTL_MS`]) and used once.
#[derive(Clone, PartialEq, Eq)]
pub struct SsoAttempt {
    /// SHA-256 (hex) of the `state` sent to the provider: the key it comes back with.
    pub state_hash: String,
    /// SHA-256 (hex) of the secret given to the browser in a cookie; the callback must
    /// carry the same, so a code cannot be replayed into another browser (login CSRF).
    pub binding_hash: String,
    /// The tenant being signed in to.
    pub tenant_id: TenantId,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier the code is redeemed with.
    pub pkce_verifier: String,
    /// The callback URL the provider was given; the code is redeemed with the same.
    pub redirect_uri: String,
    /// Where the browser goes with its tokens afterwards: a path on Weir itself.
    pub return_to: Option<String>,
    /// When the sign-in started (epoch milliseconds).
    pub created_at: Millis,
}

impl fmt::Debug for SsoAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoAttempt")
            .field("tenant_id", &self.tenant_id)
            .field("return_to", &self.return_to)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// What the provider's checked ID token says about the user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExternalClaims {
    /// The issuer (`iss`), already checked against the configured one.
    pub issuer: String,
    /// The provider's stable id of the user (`sub`).
    pub subject: String,
    /// `email`, if given.
    pub email: Option<String>,
    /// `email_verified`; an email the provider has not verified is not used.
    pub email_verified: bool,
    /// `name`, if given.
    pub name: Option<String>,
    /// `preferred_username`, if given.
    pub preferred_username: Option<String>,
    /// The values of the configured groups claim (empty when none).
    pub groups: Vec<String>,
}

/// Where to send the browser to sign in, with the secrets the callback needs.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// The provider's authorization URL, with state, nonce and PKCE challenge.
    pub url: String,
    /// The `state` in `url`.
    pub state: String,
    /// The `nonce` in `url`.
    pub nonce: String,
    /// The PKCE verifier whose challenge is in `url`.
    pub pkce_verifier: String,
}

impl fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationRequest")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Speaks OpenID Connect to a tenant's provider. Blocking: it makes network calls.
pub trait OpenIdClient: Send + Sync {
    /// Discovers the provider (when not already known) and builds the authorization URL
    /// that returns to `redirect_uri`.
    fn authorization_request(
        &self,
        provider: &SsoProvider,
        redirect_uri: &str,
    ) -> Result<AuthorizationRequest, SsoError>;

    /// Redeems `code` with `pkce_verifier` at the provider's token endpoint and checks the
    /// ID token it answers: signature, issuer, audience, expiry and `nonce`.
    fn redeem(
        &self,
        provider: &SsoProvider,
        redirect_uri: &str,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<ExternalClaims, SsoError>;
}

/// What a tenant administrator sends to configure the provider.
#[derive(Debug, Clone, Default)]
pub struct SsoProviderInput {
    /// See [`SsoProvider::issuer`]; `http` or `https`.
    pub issuer: String,
    /// See [`SsoProvider::client_id`].
    pub client_id: String,
    /// The client secret; `None` keeps the stored one (required the first time).
    pub client_secret: Option<String>,
    /// Scopes besides `openid`; `None`: `openid email profile`.
    pub scopes: Option<Vec<String>>,
    /// See [`SsoProvider::groups_claim`].
    pub groups_claim: Option<String>,
    /// See [`SsoProvider::default_role_id`].
    pub default_role_id: Option<Id>,
    /// See [`SsoProvider::enabled`]; `None`: true.
    pub enabled: Option<bool>,
}

/// Checks a required short field: trimmed, 1 to [`SSO_FIELD_MAX`] characters, no control
/// characters.
pub(crate) fn parse_sso_field(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if v.chars().count() > SSO_FIELD_MAX {
        return Err(FieldError::new(
            field,
            format!("must be at most {SSO_FIELD_MAX} characters"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(v.to_owned())
}

/// Checks an issuer: an absolute `http` or `https` URL with a host, no query, no fragment
/// and no user info (OpenID Connect Discovery 1.0, section 3).
pub(crate) fn parse_issuer(raw: &str) -> Result<String, FieldError> {
    let v = parse_sso_field("issuer", raw)?;
    let bad = || {
        FieldError::new(
            "issuer",
            "must be an http or https URL with a host, and no query or fragment",
        )
    };
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"))
        .ok_or_else(bad)?;
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') || v.contains(['?', '#', ' ']) {
        return Err(bad());
    }
    Ok(v)
}

/// Checks scopes: each 1 to 64 characters of visible ASCII but `"` and `\` (RFC 6749,
/// section 3.3); `openid` is put first when missing; duplicates go.
pub(crate) fn parse_scopes(raw: Option<&[String]>) -> Result<Vec<String>, FieldError> {
    let given: Vec<String> = match raw {
        Some(s) => s.iter().map(|s| s.trim().to_owned()).collect(),
        None => vec!["email".into(), "profile".into()],
    };
    if given.len() > 32 {
        return Err(FieldError::new("scopes", "must name at most 32 scopes"));
    }
    let mut scopes = vec!["openid".to_owned()];
    for (i, s) in given.into_iter().enumerate() {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\');
        if !ok {
            return Err(FieldError::new(
                format!("scopes[{i}]"),
                "must be 1 to 64 visible ASCII characters, without quotes or backslashes",
            ));
        }
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    Ok(scopes)
}

/// Checks a `return_to`: a path on Weir itself (`/` followed by anything but a second `/`
/// or `\`), so a sign-in can never hand tokens to another site.
pub(crate) fn parse_return_to(raw: &str) -> Result<String, FieldError> {
    let bad = || {
        FieldError::new(
            "return_to",
            "must be a path on this server, starting with a single /",
        )
    };
    let v = raw.trim();
    let mut bytes = v.bytes();
    if bytes.next() != Some(b'/') || matches!(bytes.next(), Some(b'/' | b'\\')) {
        return Err(bad());
    }
    if v.len() > 2048 || v.chars().any(char::is_control) || v.contains('#') {
        return Err(bad());
    }
    Ok(v.to_owned())
}

/// Single sign-on refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// The tenant does not exist.
    #[error("tenant `{0}` does not exist")]
    TenantNotFound(String),
    /// The tenant has no provider, or it is switched off.
    #[error("single sign-on is not configured for this tenant")]
    NotConfigured,
    /// The callback's state is unknown, used, expired, or not this browser's.
    #[error(
        "this sign-in is unknown, expired, already used, or was started in another browser; start again"
    )]
    InvalidState,
    /// The provider answered the callback with an error (the user refused, for example).
    #[error("the identity provider refused the sign-in: {0}")]
    ProviderRefused(String),
    /// The provider could not be reached or answered something unusable (discovery, keys,
    /// token endpoint).
    #[error("the identity provider cannot be used: {0}")]
    ProviderUnavailable(String),
    /// The ID token failed a check: signature, issuer, audience, expiry or nonce.
    #[error("the identity provider's ID token was refused: {0}")]
    InvalidIdToken(String),
    /// The provider names a user Weir cannot provision (no usable name, or one another
    /// account of the tenant has).
    #[error("{0}")]
    AccountConflict(String),
    /// The user, or their tenant, is disabled.
    #[error("this account is disabled")]
    Disabled,
    /// The configured default role does not exist in the tenant.
    #[error("role {0} does not exist")]
    RoleNotFound(Id),
    /// The caller may not configure the provider.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// A request field breaks a rule.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AsProblem for SsoError {
    fn problem(&self) -> Problem {
        let msg = self.to_string();
        match self {
            Self::TenantNotFound(_) => Problem::new(ProblemKind::Invalid, "tenant_not_found", msg),
            Self::NotConfigured => Problem::new(ProblemKind::NotFound, "sso_not_configured", msg),
            Self::InvalidState | Self::ProviderRefused(_) | Self::InvalidIdToken(_) => {
                Problem::new(ProblemKind::Unauthenticated, "authentication_failed", msg)
            }
            Self::ProviderUnavailable(_) => {
                Problem::new(ProblemKind::Unavailable, "sso_provider_unavailable", msg)
            }
            Self::AccountConflict(_) => {
                Problem::new(ProblemKind::Conflict, "sso_account_conflict", msg)
            }
            Self::Disabled => Problem::new(ProblemKind::Unauthenticated, "user_disabled", msg),
            Self::RoleNotFound(_) => Problem::new(ProblemKind::Invalid, "role_not_found", msg),
            Self::Denied(_) => Problem::forbidden(msg),
            Self::Invalid(_) => Problem::invalid(msg),
            Self::Store(e) => e.problem(),
        }
    }
}

/// Links a provider's user (`issuer`, `subject`) to a Weir user of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIdentity {
    /// The tenant of the Weir user.
    pub tenant_id: TenantId,
    /// The provider's issuer.
    pub issuer: String,
    /// The provider's `sub`.
    pub subject: String,
    /// The Weir user.
    pub user_id: Id,
    /// When the link was made (epoch milliseconds).
    pub created_at: Millis,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_must_be_plain_http_urls() {
        assert_eq!(
            parse_issuer(" https://id.example.com/realms/a ").unwrap(),
            "https://id.example.com/realms/a"
        );
        assert!(parse_issuer("http://127.0.0.1:9000").is_ok());
        for bad in [
            "",
            "ftp://x",
            "https://",
            "https://u@x",
            "https://x/?a=1",
            "https://x/#f",
            "x.com",
        ] {
            assert!(parse_issuer(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_start_with_openid_once() {
        assert_eq!(parse_scopes(None).unwrap(), ["openid", "email", "profile"]);
        let given = vec!["groups".to_owned(), "openid".into(), "groups".into()];
        assert_eq!(parse_scopes(Some(&given)).unwrap(), ["openid", "groups"]);
        let bad = vec!["a b".to_owned()];
        assert_eq!(parse_scopes(Some(&bad)).unwrap_err().field, "scopes[0]");
    }

    #[test]
    fn return_to_stays_on_this_server() {
        assert_eq!(parse_return_to("/dashboard?x=1").unwrap(), "/dashboard?x=1");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "dashboard",
            "/a#b",
            "",
        ] {
            assert!(parse_return_to(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let p = SsoProvider {
            tenant_id: TenantId::parse("default").unwrap(),
            issuer: "https://id".into(),
            client_id: "weir".into(),
            client_secret: "s3cret".into(),
            scopes: vec![],
            groups_claim: None,
            default_role_id: None,
            enabled: true,
            updated_at: 0,
        };
        assert!(!format!("{p:?}").contains("s3cret"));
    }
}
