//! `POST /oauth2/token` (password and refresh_token grants, client credentials, tenants,
//! throttling) and how a protected endpoint checks the access token.
//!
//! The envelope helpers at the top are shared with `account` and `members`.

use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use weir_test_kit::{PASSWORD, Session, TestApp};

/// An HTTP status and the parsed JSON body, as [`TestApp::call`] answers.
pub(crate) type Answer = (u16, Value);

/// Asserts a 200 success envelope and returns its `data`.
pub(crate) fn ok(answer: &Answer) -> &Value {
    let (status, body) = answer;
    assert_eq!(
        (*status, body["status"].as_str()),
        (200, Some("Success")),
        "{body}"
    );
    assert!(body.get("error_code").is_none(), "{body}");
    assert!(body["request_id"].is_string(), "{body}");
    &body["data"]
}

/// Asserts a failure envelope with this HTTP status and error code and returns its
/// `error_message`.
pub(crate) fn failed(answer: &Answer, status: u16, code: &str) -> String {
    let (got, body) = answer;
    assert_eq!(
        (*got, body["status"].as_str(), body["error_code"].as_str()),
        (status, Some("Failed"), Some(code)),
        "{body}"
    );
    assert!(body.get("data").is_none(), "{body}");
    assert!(body["request_id"].is_string(), "{body}");
    body["error_message"]
        .as_str()
        .expect("error_message")
        .to_owned()
}

/// Asserts a 400 `parameter_validation_failed` whose message names `field`.
pub(crate) fn invalid(answer: &Answer, field: &str) {
    let message = failed(answer, 400, "parameter_validation_failed");
    assert!(message.contains(field), "`{field}` not named in: {message}");
}

/// Asserts a 401 `authentication_failed` whose message contains `why`.
pub(crate) fn unauthenticated(answer: &Answer, why: &str) {
    let message = failed(answer, 401, "authentication_failed");
    assert!(message.contains(why), "`{why}` not in: {message}");
}

/// Asserts a 403 `forbidden_permission`.
pub(crate) fn forbidden(answer: &Answer) {
    failed(answer, 403, "forbidden_permission");
}

/// Asserts a 404 `data_no_found` naming the id.
pub(crate) fn not_found(answer: &Answer, id: &str) {
    let message = failed(answer, 404, "data_no_found");
    assert!(message.contains(id), "`{id}` not named in: {message}");
}

/// `GET /api/v1/user` as `who`.
pub(crate) async fn me(app: &TestApp, who: &Session) -> Answer {
    app.call("GET", "/api/v1/user", Some(who), None).await
}

/// Asserts `who`'s access token is refused as revoked.
pub(crate) async fn assert_revoked(app: &TestApp, who: &Session) {
    unauthenticated(&me(app, who).await, "revoked");
}

/// A password grant with the default client credentials.
pub(crate) async fn password_grant(app: &TestApp, email: &str, password: &str) -> Answer {
    // `token_request` adds the client credentials itself.
    app.token_request(&login_form(email, password)[..3], None)
        .await
}

/// Asserts a password grant is refused with 401.
pub(crate) async fn assert_login_refused(app: &TestApp, email: &str, password: &str) {
    let answer = password_grant(app, email, password).await;
    unauthenticated(&answer, "incorrect");
}

/// Sends a request built on [`TestApp::client`] (for headers the helpers do not
/// send); returns the answer and the response headers.
pub(crate) async fn send(request: reqwest::RequestBuilder) -> (Answer, HeaderMap) {
    let res = request.send().await.expect("request sent");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.json().await.unwrap_or(Value::Null);
    ((status, body), headers)
}

/// A password-grant form with the default client credentials.
fn login_form<'a>(email: &'a str, password: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("grant_type", "password"),
        ("username", email),
        ("password", password),
        ("client_id", "iab"),
        ("client_secret", "milesight*iab"),
    ]
}

/// A refresh_token grant with the default client credentials.
pub(crate) async fn refresh_grant(app: &TestApp, refresh_token: &str) -> Answer {
    app.token_request(
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
        None,
    )
    .await
}

/// A session from a token answer (no user id).
pub(crate) fn session_of(answer: &Answer, email: &str) -> Session {
    let data = ok(answer);
    Session {
        access_token: data["access_token"].as_str().expect("access_token").into(),
        refresh_token: data["refresh_token"]
            .as_str()
            .expect("refresh_token")
            .into(),
        email: email.into(),
        user_id: String::new(),
    }
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
    let app = TestApp::spawn().await;
    app.register_admin().await;
    let answer = password_grant(&app, ADMIN, PASSWORD).await;
    assert_token_pair(&app, &answer).await;
    // Emails are matched case-insensitively.
    let answer = password_grant(&app, "ADMIN@weir.test", PASSWORD).await;
    assert_token_pair(&app, &answer).await;
}

#[tokio::test]
async fn password_grant_accepts_json_at_the_bare_path_and_without_client_credentials() {
    let app = TestApp::spawn().await;
    app.register_admin().await;
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
    let app = TestApp::spawn().await;
    app.register_admin().await;
    let answer = password_grant(&app, ADMIN, "not-the-password").await;
    let wrong_password = failed(&answer, 401, "authentication_failed");
    let answer = password_grant(&app, "nobody@weir.test", PASSWORD).await;
    let unknown_email = failed(&answer, 401, "authentication_failed");
    assert_eq!(wrong_password, unknown_email);
    assert!(wrong_password.contains("incorrect"), "{wrong_password}");
}

#[tokio::test]
async fn wrong_or_partial_client_credentials_answer_401() {
    let app = TestApp::spawn().await;
    app.register_admin().await;
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
    let app = TestApp::spawn().await;
    app.register_admin().await;
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
    invalid(
        &password_grant(&app, "not-an-email", PASSWORD).await,
        "username",
    );
    let answer = app
        .call_raw(
            "POST",
            "/oauth2/token",
            None,
            "application/json",
            "{\"grant_type\": ",
        )
        .await;
    failed(&answer, 400, "parameter_syntax_error");
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
    let app = TestApp::spawn().await;
    let admin = app.register_admin().await;
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
    let app = TestApp::spawn().await;
    app.register_admin().await;
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
    let app = TestApp::spawn().await;
    app.register_admin().await;
    let form = &login_form(ADMIN, PASSWORD)[..3];
    let message = failed(
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
        failed(&answer, 401, "authentication_failed");
    }
    let request = app
        .client()
        .post(app.url("/api/v1/oauth2/token"))
        .form(&login_form(ADMIN, PASSWORD));
    let (answer, headers) = send(request).await;
    failed(&answer, 429, "request_too_frequently");
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
        let message = failed(&answer, 429, "request_too_frequently");
        assert!(message.contains("seconds"), "{message}");
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
    let app = TestApp::spawn().await;
    let admin = app.register_admin().await;
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
