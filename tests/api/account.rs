//! The caller's own account: `POST /user/register`, `GET /user/status`, `GET /user` and
//! `PUT /user/password`.

use serde_json::{Value, json};
use weir_test_kit::{PASSWORD, Session, TestApp};

use crate::support::{
    Answer, assert_login_refused, assert_syntax_error, assert_tokens_revoked, grant_menu_via_role,
    invalid, me, ok, password_grant, refused, send, setup, setup_with_user, unauthenticated,
};

async fn status(app: &TestApp) -> Answer {
    app.call("GET", "/user/status", None, None).await
}

async fn register(app: &TestApp, body: Value) -> Answer {
    app.call("POST", "/user/register", None, Some(body)).await
}

async fn change_password(app: &TestApp, who: &Session, body: Value) -> Answer {
    app.call("PUT", "/api/v1/user/password", Some(who), Some(body))
        .await
}

const NEW_PASSWORD: &str = "brand-new-pass-7";

#[tokio::test]
async fn the_first_registration_initializes_the_tenant_and_closes_registration() {
    let app = TestApp::spawn().await;
    assert_eq!(ok(&status(&app).await)["init"], false);
    let first = json!({"email": " First@Weir.test ", "nickname": "First", "password": PASSWORD});
    assert_eq!(ok(&register(&app, first).await), &json!({}));
    assert_eq!(ok(&status(&app).await)["init"], true);
    // The email was trimmed and lower-cased.
    ok(&password_grant(&app, "first@weir.test", PASSWORD).await);
    let second = json!({"email": "second@weir.test", "nickname": "Second", "password": PASSWORD});
    refused(&register(&app, second).await, 400, "tenant_user_inited");
    // The refused registration created nobody.
    assert_login_refused(&app, "second@weir.test", PASSWORD).await;
}

#[tokio::test]
async fn registration_refuses_bad_fields_and_stays_open() {
    let app = TestApp::spawn().await;
    let good = json!({"email": "admin@weir.test", "nickname": "Admin", "password": PASSWORD});
    let with = |field: &str, value: Value| {
        let mut body = good.clone();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = good.clone();
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let cases = [
        (with("email", json!("not-an-email")), "email"),
        (with("email", json!(5)), "email"),
        (with("password", json!("a".repeat(7))), "password"),
        (with("password", json!("a".repeat(65))), "password"),
        (with("nickname", json!("")), "nickname"),
        (with("nickname", json!("n".repeat(65))), "nickname"),
        (without("nickname"), "nickname"),
        (without("password"), "password"),
    ];
    for (body, field) in cases {
        invalid(&register(&app, body).await, field);
    }
    assert_syntax_error(&app, "POST", "/user/register", None, "{\"email\"").await;
    assert_eq!(ok(&status(&app).await)["init"], false);
    // 8 and 64 characters are the bounds.
    ok(&register(&app, with("password", json!("p".repeat(64)))).await);
    ok(&password_grant(&app, "admin@weir.test", &"p".repeat(64)).await);
}

#[tokio::test]
async fn status_and_register_refuse_an_unknown_tenant() {
    let app = TestApp::spawn().await;
    let request = app.client().get(app.url("/api/v1/user/status"));
    let (answer, _) = send(request.header("TENANT-ID", "nope")).await;
    refused(&answer, 400, "tenant_not_found");
    let body = json!({"email": "a@weir.test", "nickname": "A", "password": PASSWORD});
    let request = app.client().post(app.url("/api/v1/user/register"));
    let (answer, _) = send(request.header("TENANT-ID", "nope").json(&body)).await;
    refused(&answer, 400, "tenant_not_found");
    assert_eq!(ok(&status(&app).await)["init"], false);
}

#[tokio::test]
async fn me_describes_the_super_admin() {
    let (app, admin) = setup().await;
    let answer = me(&app, &admin).await;
    let data = ok(&answer);
    assert_eq!(data["tenant_id"], "default");
    let user_id = data["user_id"].as_str().expect("user_id is a string");
    assert!(user_id.parse::<i64>().unwrap() > 0, "{data}");
    assert_eq!(data["nickname"], "Admin");
    assert_eq!(data["email"], "admin@weir.test");
    // Epoch milliseconds, after 2024-01-01.
    assert!(
        data["created_at"].as_i64().unwrap() > 1_704_067_200_000,
        "{data}"
    );
    let roles = data["roles"].as_array().unwrap();
    assert_eq!(roles.len(), 1, "{data}");
    assert_eq!(roles[0]["role_name"], "super_admin");
    assert!(roles[0]["role_id"].is_string(), "{data}");
    assert_eq!(data["is_super_admin"], true);
    assert_eq!(data["super_admin"], true);
    let codes: Vec<&str> = data["menus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap())
        .collect();
    for code in ["dashboard", "device.view", "workflow.export", "user_role"] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    let menu = &data["menus"][0];
    assert!(
        menu["menu_id"].is_string() && menu["name"].is_string(),
        "{menu}"
    );
    assert!(
        menu["type"] == "MENU" || menu["type"] == "FUNCTION",
        "{menu}"
    );
    unauthenticated(&app.call("GET", "/user", None, None).await, "missing");
}

#[tokio::test]
async fn a_plain_user_sees_only_the_menus_of_their_roles() {
    let (app, admin, user) = setup_with_user("plain@weir.test").await;
    let answer = me(&app, &user).await;
    let data = ok(&answer);
    assert_eq!(data["email"], "plain@weir.test");
    assert_eq!(data["nickname"], "plain");
    assert_eq!(data["is_super_admin"], false);
    assert_eq!(data["super_admin"], false);
    assert_eq!(data["roles"], json!([]));
    assert_eq!(data["menus"], json!([]));

    let (role_id, menu_id) = grant_menu_via_role(&app, &admin, &user.user_id, "device.view").await;
    let answer = me(&app, &user).await;
    let data = ok(&answer);
    assert_eq!(data["is_super_admin"], false);
    assert_eq!(
        data["roles"],
        json!([{"role_id": role_id, "role_name": "viewers"}])
    );
    let menus = data["menus"].as_array().unwrap();
    assert_eq!(menus.len(), 1, "{data}");
    assert_eq!(menus[0]["code"], "device.view");
    assert_eq!(menus[0]["menu_id"], menu_id.as_str());
}

#[tokio::test]
async fn joining_the_super_admin_role_takes_effect_on_the_next_request() {
    let (app, admin, user) = setup_with_user("plain@weir.test").await;
    let answer = me(&app, &admin).await;
    let super_admin = ok(&answer)["roles"][0]["role_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/user/roles/{super_admin}/associate-user");
    let body = json!({"user_ids": [user.user_id]});
    ok(&app.call("POST", &path, Some(&admin), Some(body)).await);
    // The same access token now speaks for a super admin.
    let answer = me(&app, &user).await;
    let data = ok(&answer);
    assert_eq!(
        (&data["is_super_admin"], &data["super_admin"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(data["roles"][0]["role_name"], "super_admin");
    assert_eq!(
        data["menus"].as_array().unwrap().len(),
        ok(&me(&app, &admin).await)["menus"]
            .as_array()
            .unwrap()
            .len()
    );
}

#[tokio::test]
async fn changing_the_password_revokes_every_token() {
    let (app, admin, user) = setup_with_user("plain@weir.test").await;
    let body = json!({"old_password": PASSWORD, "new_password": NEW_PASSWORD});
    assert_eq!(
        ok(&app
            .call("PUT", "/user/password", Some(&user), Some(body))
            .await),
        &json!({})
    );
    assert_tokens_revoked(&app, &user).await;
    assert_login_refused(&app, &user.email, PASSWORD).await;
    let renewed = app.login(&user.email, NEW_PASSWORD).await;
    assert_eq!(renewed.user_id, user.user_id);
    // Other users keep their sessions.
    ok(&me(&app, &admin).await);
}

#[tokio::test]
async fn a_refused_password_change_changes_nothing() {
    let (app, admin) = setup().await;
    let wrong_old = json!({"old_password": "not-my-password", "new_password": NEW_PASSWORD});
    let message = refused(
        &change_password(&app, &admin, wrong_old).await,
        400,
        "password_incorrect",
    );
    assert!(message.contains("old_password"), "{message}");
    let cases = [
        (
            json!({"old_password": PASSWORD, "new_password": "short-7"}),
            "new_password",
        ),
        (
            json!({"old_password": PASSWORD, "new_password": "x".repeat(65)}),
            "new_password",
        ),
        (json!({"old_password": PASSWORD}), "new_password"),
        (json!({"new_password": NEW_PASSWORD}), "old_password"),
        (
            json!({"old_password": "", "new_password": NEW_PASSWORD}),
            "old_password",
        ),
        (
            json!({"old_password": PASSWORD, "new_password": 12345678}),
            "new_password",
        ),
    ];
    for (body, field) in cases {
        invalid(&change_password(&app, &admin, body).await, field);
    }
    assert_syntax_error(&app, "PUT", "/user/password", Some(&admin), "{,}").await;
    let anonymous = json!({"old_password": PASSWORD, "new_password": NEW_PASSWORD});
    unauthenticated(
        &app.call("PUT", "/user/password", None, Some(anonymous))
            .await,
        "missing",
    );
    // Nothing changed: the token and the old password still work.
    ok(&me(&app, &admin).await);
    ok(&password_grant(&app, &admin.email, PASSWORD).await);
    assert_login_refused(&app, &admin.email, NEW_PASSWORD).await;
}

#[tokio::test]
async fn wrong_old_passwords_are_throttled_like_logins() {
    let app = TestApp::spawn_with(|s| s.auth.throttle.account_failures = 3).await;
    let admin = app.register_admin().await;
    let wrong_old = json!({"old_password": "not-my-password", "new_password": NEW_PASSWORD});
    for _ in 0..3 {
        let answer = change_password(&app, &admin, wrong_old.clone()).await;
        refused(&answer, 400, "password_incorrect");
    }
    // Locked: even the right old password is not checked now, and nothing changes.
    let right_old = json!({"old_password": PASSWORD, "new_password": NEW_PASSWORD});
    let request = app
        .client()
        .put(app.url("/api/v1/user/password"))
        .bearer_auth(&admin.access_token)
        .json(&right_old);
    let (answer, headers) = send(request).await;
    refused(&answer, 429, "request_too_frequently");
    assert!(headers.get("retry-after").is_some(), "{headers:?}");
    ok(&password_grant(&app, "admin@weir.test", PASSWORD).await);
}

#[tokio::test]
async fn throttle_counts_wrong_old_passwords_of_two_servers_on_one_database() {
    let limits = |s: &mut weir_test_kit::Settings| s.auth.throttle.account_failures = 2;
    let a = TestApp::spawn_with(limits).await;
    let b = a.spawn_beside(limits).await;
    let admin = a.register_admin().await;
    let wrong_old = json!({"old_password": "not-my-password", "new_password": NEW_PASSWORD});
    for app in [&a, &b] {
        let answer = change_password(app, &admin, wrong_old.clone()).await;
        refused(&answer, 400, "password_incorrect");
    }
    let right_old = json!({"old_password": PASSWORD, "new_password": NEW_PASSWORD});
    for app in [&a, &b] {
        let answer = change_password(app, &admin, right_old.clone()).await;
        refused(&answer, 429, "request_too_frequently");
    }
}

#[tokio::test]
async fn passwords_longer_than_72_bytes_are_refused() {
    let app = TestApp::spawn().await;
    // 24 characters of 3 bytes: 72 bytes, every one of them read by bcrypt.
    let longest = "€".repeat(24);
    let body =
        json!({"email": "admin@weir.test", "nickname": "Admin", "password": format!("{longest}a")});
    let message = refused(
        &register(&app, body).await,
        400,
        "parameter_validation_failed",
    );
    assert!(
        message.contains("password") && message.contains("72 bytes"),
        "{message}"
    );
    let body = json!({"email": "admin@weir.test", "nickname": "Admin", "password": longest});
    ok(&register(&app, body).await);
    ok(&password_grant(&app, "admin@weir.test", &longest).await);
    // A longer guess that starts with the password does not sign in.
    assert_login_refused(&app, "admin@weir.test", &format!("{longest}x")).await;
}
