//! The Smartbi dialect's frame over HTTP: both prefixes, the three ways of sending
//! `smartbiToken` and `paramsInfo`, the token's refusals, bearer tokens, the envelope
//! (always 200) and the built-in `system/whoami` action.

use serde_json::{Value, json};
use weir::smartbi_token::{TokenClaims, TokenKey, encrypt};
use weir_test_kit::{PASSWORD, Session, TestApp};

use crate::support::{ACME, add_tenant, register_in};

/// The test servers' `smartbi.token_key`.
const KEY: &str = "5f1c0a9e8d7b6c5a4f3e2d1c0b0a99887766554433221100ffeeddccbbaa9988";
const ADMIN: &str = "admin@weir.test";
const WHOAMI: &str = "/smartbi/vision/api/system/whoami";

type Answer = (u16, Value);

fn key() -> TokenKey {
    TokenKey::parse(KEY).expect("test key")
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

/// A token for `username` made now, in the default tenant, without a password.
fn token(username: &str) -> String {
    encrypt(&key(), &TokenClaims::new(now_ms(), username))
}

/// A server with the test key, its admin registered.
async fn setup_with(tweak: impl FnOnce(&mut weir_test_kit::Settings)) -> (TestApp, Session) {
    let app = TestApp::spawn_with(|s| {
        s.smartbi.token_key = Some(KEY.into());
        tweak(s);
    })
    .await;
    let admin = app.register_admin().await;
    (app, admin)
}

async fn setup() -> (TestApp, Session) {
    setup_with(|_| {}).await
}

async fn read(req: reqwest::RequestBuilder) -> Answer {
    let res = req.send().await.expect("request sent");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Posts a form body.
async fn form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> Answer {
    read(app.client().post(app.url(path)).form(fields)).await
}

/// Posts a JSON body.
async fn json_body(app: &TestApp, path: &str, body: Value) -> Answer {
    read(app.client().post(app.url(path)).json(&body)).await
}

/// Asserts a 200 `success: true` envelope and returns its `result`.
fn success(answer: &Answer) -> &Value {
    let (status, body) = answer;
    assert_eq!(
        (*status, body["success"].as_bool(), body["msg"].as_str()),
        (200, Some(true), Some("ok")),
        "{body}"
    );
    &body["result"]
}

/// Asserts a 200 `success: false` envelope whose `msg` contains every needle; returns it.
fn failure(answer: &Answer, needles: &[&str]) -> String {
    let (status, body) = answer;
    assert_eq!(
        (*status, body["success"].as_bool()),
        (200, Some(false)),
        "{body}"
    );
    assert!(body["result"].is_null(), "{body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(3), "{body}");
    let msg = body["msg"].as_str().expect("msg").to_owned();
    for needle in needles {
        assert!(msg.contains(needle), "`{needle}` not in: {msg}");
    }
    msg
}

/// Asserts `system/whoami` answered for `username` in `tenant`.
fn is_whoami(answer: &Answer, username: &str, tenant: &str) {
    assert_eq!(
        success(answer),
        &json!({"username": username, "tenant": tenant}),
    );
}

#[tokio::test]
async fn a_token_calls_an_action_by_form_json_or_query_under_both_prefixes() {
    let (app, _) = setup().await;
    let t = token(ADMIN);
    // A form body, under both prefixes.
    for path in [WHOAMI, "/vision/api/system/whoami"] {
        let answer = form(&app, path, &[("smartbiToken", &t), ("paramsInfo", "{}")]).await;
        is_whoami(&answer, ADMIN, "default");
    }
    // A JSON body, with paramsInfo as a string, an object, an array, or left out.
    for params in [json!("{\"a\":1}"), json!({"a": 1}), json!([1]), Value::Null] {
        let answer = json_body(
            &app,
            WHOAMI,
            json!({"smartbiToken": t, "paramsInfo": params}),
        )
        .await;
        is_whoami(&answer, ADMIN, "default");
    }
    // The query string.
    let answer = read(
        app.client()
            .post(app.url(WHOAMI))
            .query(&[("smartbiToken", t.as_str()), ("paramsInfo", "{}")]),
    )
    .await;
    is_whoami(&answer, ADMIN, "default");
    // A `+` sent unescaped arrives as a space and still reads, even as the first character
    // (one token in 64), which a plain trim would drop.
    let plus = (0..2000)
        .map(|_| token(ADMIN))
        .find(|t| t.starts_with('+'))
        .expect("a token starting with `+`");
    let raw = format!("smartbiToken={plus}");
    let answer = read(
        app.client()
            .post(app.url(WHOAMI))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(raw),
    )
    .await;
    is_whoami(&answer, ADMIN, "default");
    // The password, when the token has one, is checked.
    let with_password = encrypt(
        &key(),
        &TokenClaims::new(now_ms(), ADMIN).with_password(PASSWORD),
    );
    let answer = form(&app, WHOAMI, &[("smartbiToken", &with_password)]).await;
    is_whoami(&answer, ADMIN, "default");
}

#[tokio::test]
async fn a_bearer_token_works_in_place_of_smartbi_token() {
    let (app, admin) = setup().await;
    let answer = read(
        app.client()
            .post(app.url("/vision/api/system/whoami"))
            .bearer_auth(&admin.access_token)
            .form(&[("paramsInfo", "{}")]),
    )
    .await;
    is_whoami(&answer, ADMIN, "default");
    // A bad bearer token is refused in the envelope, saying why.
    let answer = read(
        app.client()
            .post(app.url(WHOAMI))
            .bearer_auth("not-a-token"),
    )
    .await;
    failure(&answer, &["Authorization", "malformed"]);
    let answer = read(
        app.client()
            .post(app.url(WHOAMI))
            .header("authorization", "Basic abc"),
    )
    .await;
    failure(&answer, &["Authorization", "Bearer"]);
}

#[tokio::test]
async fn bad_tokens_are_refused_saying_what_is_wrong() {
    let (app, _) = setup().await;
    let call = |t: String| {
        let app = &app;
        async move { form(app, WHOAMI, &[("smartbiToken", &t), ("paramsInfo", "{}")]).await }
    };
    let now = now_ms();
    // Too old, too far ahead, and in seconds rather than milliseconds.
    let old = encrypt(&key(), &TokenClaims::new(now - 301_000, ADMIN));
    failure(&call(old).await, &["smartbiToken has expired", "300 s"]);
    let ahead = encrypt(&key(), &TokenClaims::new(now + 600_000, ADMIN));
    failure(&call(ahead).await, &["smartbiToken", "in the future"]);
    let seconds = encrypt(&key(), &TokenClaims::new(now / 1000, ADMIN));
    failure(&call(seconds).await, &["expired", "milliseconds"]);
    // Garbage, and a token under another key.
    failure(
        &call("garbage!".into()).await,
        &["smartbiToken is not base64"],
    );
    failure(
        &call("AAAAAAAA".into()).await,
        &["smartbiToken is too short"],
    );
    let other = encrypt(
        &TokenKey::from_bytes([9; 32]),
        &TokenClaims::new(now, ADMIN),
    );
    failure(
        &call(other).await,
        &["smartbiToken does not decrypt", "smartbi.token_key"],
    );
    // Unknown users, a wrong password, an unknown tenant.
    failure(
        &call(token("nobody@weir.test")).await,
        &["user `nobody@weir.test` not found in tenant `default`"],
    );
    failure(&call(token("admin")).await, &["user `admin` not found"]);
    let wrong = encrypt(
        &key(),
        &TokenClaims::new(now, ADMIN).with_password("wrong-password-1"),
    );
    failure(
        &call(wrong).await,
        &["password of user `admin@weir.test` is incorrect"],
    );
    let elsewhere = encrypt(&key(), &TokenClaims::new(now, ADMIN).with_tenant("nowhere"));
    failure(
        &call(elsewhere).await,
        &["extend.tenant `nowhere` names no tenant"],
    );
    // No token at all.
    let answer = form(&app, WHOAMI, &[("paramsInfo", "{}")]).await;
    failure(&answer, &["smartbiToken is missing"]);
    let answer = json_body(&app, WHOAMI, json!({"smartbiToken": ""})).await;
    failure(&answer, &["smartbiToken is missing"]);
}

#[tokio::test]
async fn extend_tenant_picks_the_tenant() {
    let (app, _) = setup().await;
    add_tenant(&app, ACME).await.expect("tenant added");
    let (status, body) = register_in(&app, ACME, "boss@acme.test", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let t = encrypt(
        &key(),
        &TokenClaims::new(now_ms(), "boss@acme.test").with_tenant(ACME),
    );
    is_whoami(
        &form(&app, WHOAMI, &[("smartbiToken", &t)]).await,
        "boss@acme.test",
        ACME,
    );
    // The same user is unknown in the default tenant.
    failure(
        &form(&app, WHOAMI, &[("smartbiToken", &token("boss@acme.test"))]).await,
        &["not found in tenant `default`"],
    );
}

#[tokio::test]
async fn malformed_requests_and_unknown_actions_are_refused() {
    let (app, _) = setup_with(|s| s.http.max_body_bytes = 4096).await;
    let t = token(ADMIN);
    let answer = form(
        &app,
        WHOAMI,
        &[("smartbiToken", &t), ("paramsInfo", "{oops")],
    )
    .await;
    failure(&answer, &["paramsInfo is not valid JSON"]);
    let answer = json_body(&app, WHOAMI, json!({"smartbiToken": t, "paramsInfo": 5})).await;
    failure(
        &answer,
        &["paramsInfo must be a JSON string, object or array"],
    );
    let answer = read(
        app.client()
            .post(app.url(WHOAMI))
            .header("content-type", "application/json")
            .body("{\"smartbiToken\":"),
    )
    .await;
    failure(&answer, &["request body is not valid JSON"]);
    // Over http.max_body_bytes.
    let big = format!("{{\"x\":\"{}\"}}", "a".repeat(5000));
    let answer = form(&app, WHOAMI, &[("smartbiToken", &t), ("paramsInfo", &big)]).await;
    failure(&answer, &["request body exceeds 4096 bytes"]);
    // Unknown actions, paths and methods answer in the Smartbi envelope too.
    let answer = form(
        &app,
        "/smartbi/vision/api/nosuch/thing",
        &[("smartbiToken", &t), ("paramsInfo", "{}")],
    )
    .await;
    failure(&answer, &["unknown action nosuch/thing"]);
    let answer = form(
        &app,
        "/vision/api/system/whoami/extra",
        &[("smartbiToken", &t)],
    )
    .await;
    failure(
        &answer,
        &["no endpoint POST /vision/api/system/whoami/extra"],
    );
    let answer = read(app.client().get(app.url(WHOAMI))).await;
    failure(
        &answer,
        &[
            "no endpoint GET",
            "POST /smartbi/vision/api/{module}/{action}",
        ],
    );
}

#[tokio::test]
async fn without_a_key_smartbi_tokens_are_refused_and_bearer_tokens_work() {
    let app = TestApp::spawn().await;
    let admin = app.register_admin().await;
    let answer = form(&app, WHOAMI, &[("smartbiToken", &token(ADMIN))]).await;
    failure(&answer, &["smartbi.token_key is not configured"]);
    let answer = read(
        app.client()
            .post(app.url(WHOAMI))
            .bearer_auth(&admin.access_token),
    )
    .await;
    is_whoami(&answer, ADMIN, "default");
}

/// The document lists each action as its own operation, whose JSON body shows the shape
/// of its `paramsInfo`; every listed action is one the dialect runs.
#[tokio::test]
async fn openapi_lists_every_smartbi_action_as_its_own_operation() {
    let (app, admin) = setup().await;
    let (status, doc) = app.call("GET", "/openapi.json", None, None).await;
    assert_eq!(status, 200);
    let paths = doc["paths"].as_object().expect("paths");
    assert!(!paths.contains_key("/smartbi/vision/api/{module}/{action}"));
    let actions: Vec<&String> = paths
        .keys()
        .filter(|p| p.starts_with("/smartbi/vision/api/"))
        .collect();
    // Weir's whoami, section 3's 21 actions and the catalog's 22.
    assert_eq!(actions.len(), 44, "{actions:?}");
    let op = &doc["paths"]["/smartbi/vision/api/datasource/create"]["post"];
    assert_eq!(op["tags"], json!(["smartbi"]), "{op}");
    assert_eq!(op["operationId"], "smartbi_datasource_create", "{op}");
    assert!(op["responses"]["200"].is_object(), "{op}");
    assert!(
        op["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .all(|p| p["in"] == "query")
    );
    let content = &op["requestBody"]["content"];
    assert_eq!(
        content["application/x-www-form-urlencoded"]["schema"]["properties"]["paramsInfo"]["type"],
        "string",
        "{op}"
    );
    let params = &content["application/json"]["schema"]["properties"]["paramsInfo"];
    assert_eq!(
        params["$ref"],
        "#/components/schemas/smartbi.DatasourceParams"
    );
    let schema = &doc["components"]["schemas"]["smartbi.DatasourceParams"];
    for field in [
        "parentId",
        "name",
        "url",
        "driverType",
        "connectUserName",
        "maxConnection",
    ] {
        assert!(schema["properties"][field].is_object(), "{field}: {schema}");
    }
    let three = &doc["paths"]["/smartbi/vision/api/perm/assignee/resource"]["post"];
    assert_eq!(three["operationId"], "smartbi_perm_assignee_resource");
    let whoami = &doc["paths"][WHOAMI]["post"]["requestBody"]["content"]["application/json"];
    assert!(
        whoami["schema"]["properties"]["paramsInfo"].is_null(),
        "{whoami}"
    );
    for path in actions {
        let answer = read(
            app.client()
                .post(app.url(path))
                .bearer_auth(&admin.access_token)
                .json(&json!({"paramsInfo": {}})),
        )
        .await;
        let msg = answer.1["msg"].as_str().unwrap_or_default();
        assert!(!msg.starts_with("unknown action"), "{path}: {}", answer.1);
    }
}
