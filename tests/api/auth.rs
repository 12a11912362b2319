//! `POST /oauth2/token` (password and refresh_token grants, client credentials, tenants,
//! throttling) and how a protected endpoint checks the access token.

use serde_json::json;
use weir_test_kit::{PASSWORD, Session, TestApp};

use crate::support::{
    Answer, assert_login_refused, assert_syntax_error, invalid, me, ok, password_form,
    password_grant, refresh_grant, refused, send, session_of, setup, unauthenticated,
};

/// A password-grant form with the default client credentials.
fn login_form<'a>(email: &'a str, password: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut form = password_form(email, password).to_vec();
    form.extend([("client_id", "iab"), ("client_secret", "milesight*iab")]);
    form
}

/// Asserts a token answer's shape and that its access token works.
async fn assert_token_pair(app: &TestApp, answer: &Answer) -> Session {
    let data = ok(answer);
    assert_eq!(data["token_type"], "Bearer", "{data}");
    assert!(data["expires_in"].as_i64().unwrap() >= 3600, "{data}");
    let refresh = data["refresh_token"].as_str().unwrap();
    assert_eq!(refresh.len(), 64, "{data}");
    assert!(refresh.chars().all(|c| c.is_ascii_hexdigit()), "{data}");
    assert_eq!(data["access_token"].as_str().unwrap().split('.').count(), 3);
    let session = session_of(answer, "admin@weir.test");
    assert_eq!(ok(&me(app, &session).await)["email"], "admin@weir.test");
    session
}

const ADMIN: &str = "admin@weir.test";

#[tokio::test]
async fn password_grant_with_a_form_answers_a_bearer_pair() {
    let (app, _admin) = setup().await;
    let answer = password_grant(&app, ADMIN, PASSWORD).await;
    assert_token_pair(&app, &answer).await;
    // Emails are matched case-insensitively.
    let answer = password_grant(&app, "ADMIN@weir.test", PASSWORD).await;
    assert_token_pair(&app, &answer).await;
}

#[tokio::test]
async fn password_grant_accepts_json_at_the_bare_path_and_without_client_credentials() {
    let (app, _admin) = setup().await;
    let with_client = json!({"grant_type": "password", "username": ADMIN, "password": PASSWORD,
        "client_id": "iab", "client_secret": "milesight*iab"});
    let answer = app
        .call("POST", "/api/v1/oauth2/token", None, Some(with_client))
        .await;
    assert_token_pair(&app, &answer).await;
    let without_client = json!({"grant_type": "password", "username": ADMIN, "password": PASSWORD});
    let answer = app
        .call("POST", "/oauth2/token", None, Some(without_client))
        .await;
    assert_token_pair(&app, &answer).await;
}

#[tokio::test]
async fn wrong_password_and_unknown_email_answer_the_same_401() {
    let (app, _admin) = setup().await;
    let answer = password_grant(&app, ADMIN, "not-the-password").await;
    let wrong_password = refused(&answer, 401, "authentication_failed");
    let answer = password_grant(&app, "nobody@weir.test", PASSWORD).await;
    let unknown_email = refused(&answer, 401, "authentication_failed");
    assert_eq!(wrong_password, unknown_email);
    assert!(wrong_password.contains("incorrect"), "{wrong_password}");
}

#[tokio::test]
async fn wrong_or_partial_client_credentials_answer_401() {
    let (app, _admin) = setup().await;
    let login = json!({"grant_type": "password", "username": ADMIN, "password": PASSWORD});
    for client in [
        json!({"client_id": "iab", "client_secret": "wrong"}),
        json!({"client_id": "other", "client_secret": "milesight*iab"}),
        json!({"client_id": "iab"}),
        json!({"client_secret": "milesight*iab"}),
    ] {
        let mut body = login.clone();
        body.as_object_mut()
            .unwrap()
            .extend(client.as_object().unwrap().clone());
        let answer = app.call("POST", "/oauth2/token", None, Some(body)).await;
        unauthenticated(&answer, "client");
    }
}

#[tokio::test]
async fn missing_or_unsupported_grant_type_and_missing_fields_answer_400() {
    let (app, _admin) = setup().await;
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("username", ADMIN), ("password", PASSWORD)], "grant_type"),
        (&[("grant_type", "client_credentials")], "grant_type"),
        (
            &[("grant_type", "password"), ("password", PASSWORD)],
            "username",
        ),
        (
            &[("grant_type", "password"), ("username", ADMIN)],
            "password",
        ),
        (&[("grant_type", "refresh_token")], "refresh_token"),
    ];
    for (form, field) in cases {
        invalid(&app.token_request(form, None).await, field);
    }
    // Login names may be any name without spaces (users made through Smartbi have no
    // email), so only a malformed one is refused as bad input.
    invalid(
        &password_grant(&app, "not a login name", PASSWORD).await,
        "username",
    );
    assert_syntax_error(&app, "POST", "/oauth2/token", None, "{\"grant_type\": ").await;
    let answer = app
        .call(
            "POST",
            "/oauth2/token",
            None,
            Some(json!({"grant_type": 7})),
        )
        .await;
    invalid(&answer, "grant_type");
}

#[tokio::test]
async fn refresh_grant_issues_a_new_pair_and_each_refresh_token_works_once() {
    let (app, admin) = setup().await;
    let answer = refresh_grant(&app, &admin.refresh_token).await;
    let renewed = assert_token_pair(&app, &answer).await;
    assert_ne!(renewed.refresh_token, admin.refresh_token);
    assert_ne!(renewed.access_token, admin.access_token);
    unauthenticated(
        &refresh_grant(&app, &admin.refresh_token).await,
        "refresh token",
    );
    // Wrong client credentials are refused before the refresh token is used up.
    let wrong_client = json!({"grant_type": "refresh_token", "refresh_token": renewed.refresh_token,
        "client_id": "iab", "client_secret": "wrong"});
    let answer = app
        .call("POST", "/oauth2/token", None, Some(wrong_client))
        .await;
    unauthenticated(&answer, "client");
    for bogus in ["0".repeat(64), admin.access_token.clone()] {
        unauthenticated(&refresh_grant(&app, &bogus).await, "refresh token");
    }
    // The new refresh token still works after the refusals.
    let answer = refresh_grant(&app, &renewed.refresh_token).await;
    assert_token_pair(&app, &answer).await;
}

#[tokio::test]
async fn the_token_endpoint_ignores_an_authorization_header() {
    let (app, _admin) = setup().await;
    let request = app
        .client()
        .post(app.url("/api/v1/oauth2/token"))
        .header("Authorization", "Bearer garbage.not.a-token")
        .form(&login_form(ADMIN, PASSWORD));
    let (answer, _) = send(request).await;
    assert_token_pair(&app, &answer).await;
}

#[tokio::test]
async fn an_unknown_tenant_header_answers_tenant_not_found() {
    let (app, _admin) = setup().await;
    let form = &password_form(ADMIN, PASSWORD);
    let message = refused(
        &app.token_request(form, Some("nope")).await,
        400,
        "tenant_not_found",
    );
    assert!(message.contains("nope"), "{message}");
    // The same credentials work in the default tenant, named or not.
    ok(&app.token_request(form, Some("default")).await);
}

#[tokio::test]
async fn repeated_failures_lock_the_account_with_retry_after() {
    let app = TestApp::spawn_with(|s| s.auth.throttle.account_failures = 3).await;
    let admin = app.register_admin().await;
    app.create_user(&admin, "other@weir.test").await;
    for _ in 0..3 {
        let answer = password_grant(&app, ADMIN, "wrong-password").await;
        refused(&answer, 401, "authentication_failed");
    }
    let request = app
        .client()
        .post(app.url("/api/v1/oauth2/token"))
        .form(&login_form(ADMIN, PASSWORD));
    let (answer, headers) = send(request).await;
    refused(&answer, 429, "request_too_frequently");
    let retry_after: i64 = headers
        .get("retry-after")
        .expect("Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry_after), "{retry_after}");
    // Only that account is locked, and tokens issued before still work.
    ok(&password_grant(&app, "other@weir.test", PASSWORD).await);
    ok(&me(&app, &admin).await);
}

#[tokio::test]
async fn a_successful_login_clears_the_accounts_failures() {
    let app = TestApp::spawn_with(|s| s.auth.throttle.account_failures = 3).await;
    app.register_admin().await;
    for _ in 0..2 {
        for _ in 0..2 {
            assert_login_refused(&app, ADMIN, "wrong-password").await;
        }
        ok(&password_grant(&app, ADMIN, PASSWORD).await);
    }
}

#[tokio::test]
async fn repeated_failures_from_one_address_lock_every_account() {
    let app = TestApp::spawn_with(|s| s.auth.throttle.address_failures = 2).await;
    let admin = app.register_admin().await;
    app.create_user(&admin, "other@weir.test").await;
    assert_login_refused(&app, "nobody@weir.test", PASSWORD).await;
    assert_login_refused(&app, "somebody@weir.test", PASSWORD).await;
    for email in [ADMIN, "other@weir.test"] {
        let answer = password_grant(&app, email, PASSWORD).await;
        let message = refused(&answer, 429, "request_too_frequently");
        assert!(message.contains("seconds"), "{message}");
    }
}

#[tokio::test]
async fn throttle_counts_the_failures_of_two_servers_on_one_database() {
    let limits = |s: &mut weir_test_kit::Settings| s.auth.throttle.account_failures = 4;
    let a = TestApp::spawn_with(limits).await;
    let b = a.spawn_beside(limits).await;
    let admin = a.register_admin().await;
    a.create_user(&admin, "other@weir.test").await;
    // Two failures through each: four in all, the limit, though each saw only two.
    for app in [&a, &b, &a, &b] {
        assert_login_refused(app, ADMIN, "wrong-password").await;
    }
    for app in [&a, &b] {
        let answer = password_grant(app, ADMIN, PASSWORD).await;
        refused(&answer, 429, "request_too_frequently");
        // Only that account is locked.
        ok(&password_grant(app, "other@weir.test", PASSWORD).await);
    }
}

/// `who` with another access token.
fn with_token(who: &Session, token: String) -> Session {
    Session {
        access_token: token,
        ..who.clone()
    }
}

#[tokio::test]
async fn protected_endpoints_refuse_missing_and_malformed_tokens() {
    let (app, admin) = setup().await;
    unauthenticated(
        &app.call("GET", "/api/v1/user", None, None).await,
        "missing",
    );
    unauthenticated(
        &me(&app, &with_token(&admin, "garbage".into())).await,
        "malformed",
    );
    // Flip the first character of the signature.
    let (unsigned, signature) = admin.access_token.rsplit_once('.').unwrap();
    let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
    let forged = format!("{unsigned}.{flipped}{}", &signature[1..]);
    unauthenticated(&me(&app, &with_token(&admin, forged)).await, "signature");
    // A token without the Bearer scheme.
    let request = app
        .client()
        .get(app.url("/api/v1/user"))
        .header("Authorization", format!("Basic {}", admin.access_token));
    unauthenticated(&send(request).await.0, "malformed");
    // The genuine token still works.
    ok(&me(&app, &admin).await);
}

/// A password grant sent from `address` (any of 127.0.0.0/8 reaches the test server).
async fn password_grant_from(app: &TestApp, address: &str, email: &str, password: &str) -> Answer {
    let client = reqwest::Client::builder()
        .local_address(address.parse::<std::net::IpAddr>().expect("an address"))
        .build()
        .expect("a client");
    send(
        client
            .post(app.url("/api/v1/oauth2/token"))
            .form(&login_form(email, password)),
    )
    .await
    .0
}

#[tokio::test]
async fn a_stranger_cannot_lock_the_owner_out() {
    let app = TestApp::spawn_with(|s| s.auth.throttle.account_failures = 3).await;
    app.register_admin().await;
    const STRANGER: &str = "127.0.0.2";
    const OWNER: &str = "127.0.0.3";
    for _ in 0..3 {
        let answer = password_grant_from(&app, STRANGER, ADMIN, "wrong-password").await;
        refused(&answer, 401, "authentication_failed");
    }
    // The stranger's address is locked out of the account, even with the right password ...
    let answer = password_grant_from(&app, STRANGER, ADMIN, PASSWORD).await;
    refused(&answer, 429, "request_too_frequently");
    // ... and the owner, from an address that has not failed, signs in.
    ok(&password_grant_from(&app, OWNER, ADMIN, PASSWORD).await);
}

#[tokio::test]
async fn locks_in_a_row_last_longer() {
    let app = TestApp::spawn_with(|s| {
        s.auth.throttle.account_failures = 1;
        s.auth.throttle.lockout_secs = 1;
        s.auth.throttle.max_lockout_secs = 60;
    })
    .await;
    app.register_admin().await;
    let retry_after = |answer: &Answer| {
        refused(answer, 429, "request_too_frequently");
        let message = answer.1["error_message"].as_str().unwrap().to_owned();
        message
            .split_whitespace()
            .find_map(|w| w.parse::<i64>().ok())
            .unwrap_or_else(|| panic!("no seconds in {message}"))
    };
    assert_login_refused(&app, ADMIN, "wrong-password").await;
    assert_eq!(retry_after(&password_grant(&app, ADMIN, PASSWORD).await), 1);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_login_refused(&app, ADMIN, "wrong-password").await;
    assert_eq!(retry_after(&password_grant(&app, ADMIN, PASSWORD).await), 2);
}
