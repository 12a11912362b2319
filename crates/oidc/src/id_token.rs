//! Checking an ID token (OpenID Connect Core 1.0, 3.1.3.7): its signature by one of the
//! provider's keys, with an asymmetric algorithm the provider announced; its issuer (the
//! configured one); its audience (Weir's client id, and `azp` when there are several); its
//! expiry; and the sign-in's `nonce`. Then what Weir reads of it ([`ExternalClaims`]).

use std::sync::Arc;

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::{Map, Value};
use weir_identity::sso::{ExternalClaims, SSO_MAX_GROUPS, SsoError, SsoProvider};

use crate::discovery::Metadata;

/// Seconds of clock difference tolerated on `exp`, `iat` and `nbf`.
pub const LEEWAY_SECS: u64 = 60;

/// The algorithms an ID token may be signed with: asymmetric only, so a token can never be
/// made with the client secret (which Weir also holds) or with no signature at all.
const ACCEPTED: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

fn invalid(why: impl Into<String>) -> SsoError {
    SsoError::InvalidIdToken(why.into())
}

/// Checks `token` for a sign-in to `provider` that sent `nonce`; `keys(refresh)` answers
/// the provider's keys, fetched again when `refresh` (a token naming a key not known yet).
pub fn check(
    token: &str,
    provider: &SsoProvider,
    metadata: &Metadata,
    nonce: &str,
    keys: impl Fn(bool) -> Result<Arc<JwkSet>, SsoError>,
) -> Result<ExternalClaims, SsoError> {
    let header = decode_header(token).map_err(|e| invalid(format!("not a signed JWT: {e}")))?;
    let alg = header.alg;
    let announced = &metadata.id_token_signing_alg_values_supported;
    let alg_name = format!("{alg:?}");
    let announced_ok = if announced.is_empty() {
        alg == Algorithm::RS256
    } else {
        announced.contains(&alg_name)
    };
    if !ACCEPTED.contains(&alg) || !announced_ok {
        return Err(invalid(format!(
            "signed with {alg_name}, which is not accepted"
        )));
    }
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[&provider.issuer]);
    validation.set_audience(&[&provider.client_id]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    validation.leeway = LEEWAY_SECS;
    let claims = verify(token, header.kid.as_deref(), &validation, &keys)?;

    if claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
        return Err(invalid("its nonce is not this sign-in's"));
    }
    // Several audiences: the token must have been issued to Weir itself (Core 1.0, 3.1.3.7,
    // steps 4 and 5).
    if let Some(Value::Array(aud)) = claims.get("aud")
        && aud.len() > 1
        && claims.get("azp").and_then(Value::as_str) != Some(provider.client_id.as_str())
    {
        return Err(invalid(
            "it has several audiences and its azp is not Weir's client id",
        ));
    }
    // Text with control characters (NUL among them) is never stored: PostgreSQL refuses
    // NUL, and such a name is no name.
    let text = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.trim().is_empty() && !v.chars().any(char::is_control))
            .map(str::to_owned)
    };
    if claims
        .get("sub")
        .and_then(Value::as_str)
        .is_some_and(|s| s.chars().any(char::is_control))
    {
        return Err(invalid("its sub contains control characters"));
    }
    let subject = text("sub").ok_or_else(|| invalid("it has no sub"))?;
    if subject.len() > 255 {
        return Err(invalid("its sub is longer than 255 characters"));
    }
    Ok(ExternalClaims {
        issuer: provider.issuer.clone(),
        subject,
        email: text("email"),
        email_verified: claims.get("email_verified").and_then(Value::as_bool) == Some(true),
        name: text("name"),
        preferred_username: text("preferred_username"),
        groups: provider
            .groups_claim
            .as_deref()
            .map(|c| groups(&claims, c))
            .unwrap_or_default(),
    })
}

/// Verifies the signature with the key the header names (keys fetched again once when it
/// is unknown), or, with no key id, with each key until one fits.
fn verify(
    token: &str,
    kid: Option<&str>,
    validation: &Validation,
    keys: &impl Fn(bool) -> Result<Arc<JwkSet>, SsoError>,
) -> Result<Map<String, Value>, SsoError> {
    let decode_with = |jwk: &Jwk| {
        let key = DecodingKey::from_jwk(jwk)
            .map_err(|e| invalid(format!("the provider's key cannot be used: {e}")))?;
        decode::<Map<String, Value>>(token, &key, validation)
            .map(|d| d.claims)
            .map_err(|e| invalid(describe(&e)))
    };
    match kid {
        Some(kid) => {
            let known = keys(false)?;
            let jwk = match known.find(kid) {
                Some(jwk) => jwk.clone(),
                None => keys(true)?.find(kid).cloned().ok_or_else(|| {
                    invalid("it is signed by a key the provider does not publish")
                })?,
            };
            decode_with(&jwk)
        }
        None => {
            let known = keys(false)?;
            let mut last = invalid("the provider publishes no key");
            for jwk in &known.keys {
                match decode_with(jwk) {
                    Ok(claims) => return Ok(claims),
                    Err(e) => last = e,
                }
            }
            Err(last)
        }
    }
}

fn describe(e: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::InvalidSignature => "its signature does not verify".into(),
        ErrorKind::ExpiredSignature => "it has expired".into(),
        ErrorKind::ImmatureSignature => "it is not valid yet".into(),
        ErrorKind::InvalidIssuer => "it was issued by another issuer".into(),
        ErrorKind::InvalidAudience => "it was issued to another client (audience)".into(),
        ErrorKind::MissingRequiredClaim(c) => format!("it has no {c}"),
        ErrorKind::Base64(_)
        | ErrorKind::Json(_)
        | ErrorKind::Utf8(_)
        | ErrorKind::InvalidToken => "it is not a well-formed JWT".into(),
        other => format!("{other:?}"),
    }
}

/// The group names under claim `name`: an array of strings, or one string; a dotted name
/// (`realm_access.roles`) is followed through nested objects when no claim has it whole.
fn groups(claims: &Map<String, Value>, name: &str) -> Vec<String> {
    let value = claims.get(name).or_else(|| {
        let mut parts = name.split('.');
        let first = claims.get(parts.next()?)?;
        parts.try_fold(first, |v, p| v.get(p))
    });
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter(|g| !g.chars().any(char::is_control))
            .take(SSO_MAX_GROUPS)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(one)) if !one.chars().any(char::is_control) => vec![one.clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn groups_come_from_arrays_strings_and_nested_claims() {
        let claims = json!({
            "groups": ["a", 3, "b", "nul\u{0}"],
            "team": "c",
            "realm_access": {"roles": ["d"]},
        });
        let claims = claims.as_object().unwrap();
        assert_eq!(groups(claims, "groups"), ["a", "b"]);
        assert_eq!(groups(claims, "team"), ["c"]);
        assert_eq!(groups(claims, "realm_access.roles"), ["d"]);
        assert!(groups(claims, "missing").is_empty());
    }
}
