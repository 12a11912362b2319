//! Text no backend can store and keywords too long to search: refused with 400 naming the
//! field, in every dialect, on both backends, before anything changes (docs/security.md,
//! "Bad input"). The NUL rule is decided in one place (the body reader and a middleware),
//! so these cases stand for every endpoint.

use serde_json::{Value, json};
use weir_test_kit::{Session, TestApp};

use crate::smartbi_models::{act, failure};
use crate::support::{all_roles, invalid, new_role, ok, refused, setup};

const NUL: &str = "must not contain the NUL character (U+0000)";

/// Asserts a native 400 `parameter_validation_failed` naming `field` and the NUL rule.
fn nul_refused(answer: &(u16, Value), field: &str) {
    invalid(answer, field);
    assert!(
        answer.1["error_message"].as_str().unwrap().contains(NUL),
        "{}",
        answer.1
    );
}

/// A device of the `http-device` integration and its ingest token.
async fn http_device(app: &TestApp, admin: &Session) -> (String, String) {
    let body = json!({"name": "Hall", "integration": "http-device",
                      "param_entities": {"identifier": "hall-1"}});
    let answer = app
        .call("POST", "/api/v1/device", Some(admin), Some(body))
        .await;
    let id = ok(&answer)["device_id"]
        .as_str()
        .expect("device_id")
        .to_owned();
    let path = format!("/api/v1/device/{id}/token");
    let answer = app.call("POST", &path, Some(admin), None).await;
    let token = ok(&answer)["token"].as_str().expect("token").to_owned();
    (id, token)
}

#[tokio::test]
async fn nul_in_native_bodies_is_refused_naming_the_field() {
    let (app, admin) = setup().await;
    let role = new_role(&app, &admin, "operators").await;
    let roles_before = all_roles(&app, &admin).await;
    let k = json!({"keyword": "lamp\u{0}"});
    let on_role = |tail: &str| format!("/api/v1/user/roles/{role}/{tail}");
    for (method, path, body, field) in [
        (
            "POST",
            "/api/v1/user/members/search".to_owned(),
            k.clone(),
            "keyword",
        ),
        (
            "POST",
            "/api/v1/user/roles/search".to_owned(),
            k.clone(),
            "keyword",
        ),
        ("POST", on_role("undistributed-users"), k.clone(), "keyword"),
        (
            "POST",
            on_role("undistributed-devices"),
            k.clone(),
            "keyword",
        ),
        (
            "POST",
            "/api/v1/device/search".to_owned(),
            json!({"name": "\u{0}"}),
            "name",
        ),
        (
            "POST",
            "/api/v1/workflow/flows/search".to_owned(),
            json!({"name": "a\u{0}"}),
            "name",
        ),
        (
            "POST",
            "/api/v1/entity/search".to_owned(),
            k.clone(),
            "keyword",
        ),
        (
            "POST",
            "/api/v1/user/roles".to_owned(),
            json!({"name": "night", "description": "x\u{0}y"}),
            "description",
        ),
        (
            "POST",
            "/api/v1/entity/property/update".to_owned(),
            json!({"exchange": {"demo.device.x.note": "a\u{0}"}}),
            "exchange.demo.device.x.note",
        ),
    ] {
        let answer = app.call(method, &path, Some(&admin), Some(body)).await;
        nul_refused(&answer, field);
    }
    // Names of members too, and nothing was stored.
    let answer = app
        .call(
            "POST",
            "/api/v1/user/roles",
            Some(&admin),
            Some(json!({"name": "a", "x\u{0}": 1})),
        )
        .await;
    refused(&answer, 400, "parameter_validation_failed");
    assert_eq!(all_roles(&app, &admin).await, roles_before);
}

#[tokio::test]
async fn nul_in_paths_query_strings_and_forms_is_refused() {
    let (app, admin) = setup().await;
    let role = new_role(&app, &admin, "operators").await;
    let path = format!("/api/v1/user/roles/{role}/members?keyword=a%00b");
    nul_refused(&app.call("GET", &path, Some(&admin), None).await, "keyword");
    let path = "/api/v1/entity/demo.device%00.x/status";
    nul_refused(&app.call("GET", path, Some(&admin), None).await, "path");
    // A form body: the token endpoint.
    let form = [
        ("grant_type", "password"),
        ("username", "a\u{0}@weir.test"),
        ("password", "x"),
    ];
    nul_refused(&app.token_request(&form, None).await, "username");
}

#[tokio::test]
async fn nul_in_device_reports_is_refused_and_nothing_is_stored() {
    let (app, admin) = setup().await;
    let (id, token) = http_device(&app, &admin).await;
    let report = |body: &'static str| {
        app.client()
            .post(app.url("/api/v1/device/report"))
            .header("X-Device-Token", token.clone())
            .header("Content-Type", "application/json")
            .body(body)
    };
    let res = report(r#"{"note": "a\u0000", "temp": 1}"#)
        .send()
        .await
        .unwrap();
    let answer = (res.status().as_u16(), res.json::<Value>().await.unwrap());
    nul_refused(&answer, "note");
    let answer = app
        .call("GET", &format!("/api/v1/device/{id}"), Some(&admin), None)
        .await;
    let keys: Vec<String> = ok(&answer)["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        !keys
            .iter()
            .any(|k| k.ends_with(".temp") || k.ends_with(".note")),
        "{keys:?}"
    );
    // The same report without NUL is taken.
    let res = report(r#"{"note": "a", "temp": 1}"#).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200, "{}", res.text().await.unwrap());
}

#[tokio::test]
async fn nul_is_refused_in_every_dialect() {
    let (app, admin) = setup().await;
    // Wyn: 400 with its validation code.
    let (status, body) = app
        .call(
            "POST",
            "/api/v2/identity/roles",
            Some(&admin),
            Some(json!({"name": "a\u{0}"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains(NUL), "{body}");
    // ThingsKit: 400, errorCode 31 (bad request parameters).
    let (status, body) = app
        .call(
            "POST",
            "/api/yt/role/save_with_menu",
            Some(&admin),
            Some(json!({"name": "ops", "roleType": "TENANT_ADMIN", "remark": "\u{0}", "menu": []})),
        )
        .await;
    assert_eq!((status, &body["errorCode"]), (400, &json!(31)), "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("remark"),
        "{body}"
    );
    // Smartbi: its envelope, naming the field inside paramsInfo.
    for (action, params, field) in [
        ("role/create", json!({"name": "a\u{0}"}), "paramsInfo.name"),
        (
            "group/create",
            json!({"name": "G", "id": "g\u{0}"}),
            "paramsInfo.id",
        ),
        ("user/get", json!({"name": "\u{0}"}), "paramsInfo.name"),
        (
            "usergroup/update",
            json!({"userid": "admin", "groupList": ["a\u{0}"]}),
            "paramsInfo.groupList[0]",
        ),
        (
            "datasource/create",
            json!({"name": "d", "url": "jdbc:sqlite:/tmp/x\u{0}.db"}),
            "paramsInfo.url",
        ),
    ] {
        let msg = failure(&act(&app, &admin, action, params).await, field);
        assert!(msg.contains(NUL), "{action}: {msg}");
    }
    assert_eq!(
        app.call(
            "POST",
            "/api/v2/identity/roles",
            Some(&admin),
            Some(json!({"name": "ok"}))
        )
        .await
        .0,
        201
    );
}

#[tokio::test]
async fn keywords_longer_than_the_limit_are_refused_everywhere() {
    let (app, admin) = setup().await;
    let role = new_role(&app, &admin, "operators").await;
    let long = "x".repeat(50_000);
    let at_limit = "é".repeat(256);
    for path in [
        "/api/v1/user/members/search".to_owned(),
        "/api/v1/user/roles/search".to_owned(),
        "/api/v1/entity/search".to_owned(),
    ] {
        let answer = app
            .call("POST", &path, Some(&admin), Some(json!({"keyword": long})))
            .await;
        invalid(&answer, "keyword must be at most 256 characters");
        let answer = app
            .call(
                "POST",
                &path,
                Some(&admin),
                Some(json!({"keyword": at_limit})),
            )
            .await;
        ok(&answer);
    }
    for path in ["/api/v1/device/search", "/api/v1/workflow/flows/search"] {
        let answer = app
            .call("POST", path, Some(&admin), Some(json!({"name": long})))
            .await;
        invalid(&answer, "keyword");
    }
    // Query strings are bounded by the request line, so a shorter one here.
    let path = format!(
        "/api/v1/user/roles/{role}/members?keyword={}",
        "x".repeat(1000)
    );
    invalid(&app.call("GET", &path, Some(&admin), None).await, "keyword");
    let path = format!("/api/v1/user/roles/{role}/undistributed-users");
    let answer = app
        .call("POST", &path, Some(&admin), Some(json!({"keyword": long})))
        .await;
    invalid(&answer, "keyword");
}
