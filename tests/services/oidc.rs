//! The OpenID Connect adapter (`weir-oidc`) against a real provider (`oidc-provider` from
//! npm; `WEIR_TEST_OIDC_PROVIDER`): the ID token checks, each fed a real token the provider
//! issued. A token for another client, from another issuer, with another sign-in's nonce,
//! with its signature altered, or signed with the client secret is refused; the real one
//! passes. The outbound policy keeps a provider on loopback out unless allowed.

use std::sync::Arc;

use jsonwebtoken::jwk::JwkSet;
use weir_identity::sso::{OpenIdClient, SsoError, SsoProvider};
use weir_kernel::TenantId;
use weir_oidc::OidcClient;
use weir_oidc::discovery::Metadata;
use weir_oidc::id_token::check;
use weir_outbound::OutboundPolicy;
use weir_test_kit::oidc::{Browser, OidcClient as Registered, OidcProvider, provider_dir};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

fn registered(id: &str) -> Registered {
    Registered {
        client_id: id.into(),
        client_secret: format!("{id}-secret"),
        redirect_uris: vec![REDIRECT.into()],
    }
}

fn configured(issuer: &str, client: &str) -> SsoProvider {
    SsoProvider {
        tenant_id: TenantId::parse("default").unwrap(),
        issuer: issuer.into(),
        client_id: client.into(),
        client_secret: format!("{client}-secret"),
        scopes: vec!["openid".into(), "email".into(), "profile".into()],
        groups_claim: None,
        default_role_id: None,
        enabled: true,
        updated_at: 0,
    }
}

/// Signs `login` in through `client`'s authorization URL; answers the raw ID token and the
/// nonce the sign-in sent.
async fn real_id_token(
    client: &Arc<OidcClient>,
    provider: &SsoProvider,
    login: &str,
) -> (String, String) {
    let (c, p) = (client.clone(), provider.clone());
    let request = tokio::task::spawn_blocking(move || c.authorization_request(&p, REDIRECT))
        .await
        .unwrap()
        .unwrap();
    let mut browser = Browser::new();
    let page = browser.go(&request.url, None, &[REDIRECT]).await;
    let back = browser.sign_in_at(&page, login, &[REDIRECT]).await;
    let location = back.location.expect("redirected back");
    let url = reqwest::Url::parse(&location).unwrap();
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("no {name} in {location}"))
    };
    assert_eq!(param("state"), request.state);
    let code = param("code");
    let (c, p, verifier) = (
        client.clone(),
        provider.clone(),
        request.pkce_verifier.clone(),
    );
    let token = tokio::task::spawn_blocking(move || c.id_token(&p, REDIRECT, &code, &verifier))
        .await
        .unwrap()
        .unwrap();
    (token, request.nonce)
}

async fn get_json<T: serde::de::DeserializeOwned>(url: &str) -> T {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

fn refused(result: Result<weir_identity::sso::ExternalClaims, SsoError>, why: &str) {
    match result {
        Err(SsoError::InvalidIdToken(message)) => {
            assert!(message.contains(why), "`{why}` not in: {message}")
        }
        other => panic!("expected a refused ID token ({why}), got {other:?}"),
    }
}

#[tokio::test]
async fn id_tokens_are_checked_for_issuer_audience_nonce_and_signature() {
    let Some(dir) = provider_dir() else { return };
    let op = OidcProvider::start(
        &dir,
        &[registered("weir"), registered("other")],
        serde_json::json!({"hana": {"email_verified": false}}),
    );
    let client =
        Arc::new(OidcClient::new(OutboundPolicy::allowing(["127.0.0.0/8"]).unwrap()).unwrap());
    let weir = configured(&op.issuer, "weir");
    let (token, nonce) = real_id_token(&client, &weir, "hana").await;

    // The real token, for its own sign-in, passes; an unverified email is kept as such.
    let (c, p, t, n) = (client.clone(), weir.clone(), token.clone(), nonce.clone());
    let claims = tokio::task::spawn_blocking(move || c.check_id_token(&t, &p, &n))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claims.subject, "hana");
    assert_eq!(claims.issuer, op.issuer);
    assert_eq!(claims.preferred_username.as_deref(), Some("hana"));
    assert!(!claims.email_verified);

    let metadata: Metadata =
        get_json(&format!("{}/.well-known/openid-configuration", op.issuer)).await;
    let keys: Arc<JwkSet> = Arc::new(get_json(&metadata.jwks_uri).await);
    let with_keys = |_refresh: bool| Ok(keys.clone());

    // Issued to Weir, but checked as another client's: another audience.
    refused(
        check(
            &token,
            &configured(&op.issuer, "other"),
            &metadata,
            &nonce,
            with_keys,
        ),
        "another client",
    );
    // From this provider, but another issuer is configured.
    let elsewhere = configured("https://id.example.com", "weir");
    refused(
        check(&token, &elsewhere, &metadata, &nonce, with_keys),
        "another issuer",
    );
    // Another sign-in's nonce (a replayed token).
    refused(
        check(&token, &weir, &metadata, "another-nonce", with_keys),
        "nonce",
    );
    // The payload altered: the signature no longer verifies.
    let parts: Vec<&str> = token.split('.').collect();
    let forged = format!("{}.{}x.{}", parts[0], parts[1], parts[2]);
    refused(check(&forged, &weir, &metadata, &nonce, with_keys), "");
    // One character in the middle changes (the last one's spare bits could make the text
    // invalid base64 instead of a wrong signature).
    let mut signature = parts[2].to_owned();
    let middle = signature.len() / 2;
    let other = if &signature[middle..=middle] == "A" {
        "B"
    } else {
        "A"
    };
    signature.replace_range(middle..=middle, other);
    let resigned = format!("{}.{}.{signature}", parts[0], parts[1]);
    refused(
        check(&resigned, &weir, &metadata, &nonce, with_keys),
        "signature",
    );
    // The same claims signed with the client secret (HS256): never accepted.
    let payload: serde_json::Value = {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &payload,
        &jsonwebtoken::EncodingKey::from_secret(b"weir-secret"),
    )
    .unwrap();
    refused(check(&hs, &weir, &metadata, &nonce, with_keys), "HS256");
}

#[tokio::test]
async fn a_provider_on_loopback_is_refused_unless_the_policy_allows_it() {
    let Some(dir) = provider_dir() else { return };
    let op = OidcProvider::start(&dir, &[registered("weir")], serde_json::json!({}));
    let closed = OidcClient::new(OutboundPolicy::default()).unwrap();
    let provider = configured(&op.issuer, "weir");
    let answer =
        tokio::task::spawn_blocking(move || closed.authorization_request(&provider, REDIRECT))
            .await
            .unwrap();
    match answer {
        Err(SsoError::ProviderUnavailable(why)) => assert!(why.contains("127.0.0.1"), "{why}"),
        other => panic!("expected the policy's refusal, got {other:?}"),
    }
}
