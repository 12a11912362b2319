//! A role's integrations, devices and dashboards, and those it does not reach yet.

use crate::support::error_code as code;
use serde_json::{Value, json};
use weir_test_kit::{Session, TestApp};

use crate::iot_smoke::Thermostats;

async fn id_of(app: &TestApp, admin: &Session, path: &str, body: Value, field: &str) -> String {
    let (s, answer) = app.call("POST", path, Some(admin), Some(body)).await;
    assert_eq!(s, 200, "{answer}");
    answer["data"][field].as_str().unwrap().to_owned()
}

async fn list(
    app: &TestApp,
    admin: &Session,
    role: &str,
    what: &str,
    keyword: Option<&str>,
) -> Vec<Value> {
    let (s, body) = app
        .call(
            "POST",
            &format!("/user/roles/{role}/{what}"),
            Some(admin),
            Some(json!({"keyword": keyword})),
        )
        .await;
    assert_eq!(s, 200, "{what}: {body}");
    body["data"].as_array().unwrap().clone()
}

fn field(items: &[Value], name: &str) -> Vec<String> {
    items
        .iter()
        .map(|i| i[name].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn grant(app: &TestApp, admin: &Session, role: &str, kind: &str, id: &str) {
    let (s, body) = app
        .call(
            "POST",
            &format!("/user/roles/{role}/associate-resource"),
            Some(admin),
            Some(json!({"resources": [{"id": id, "type": kind}]})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
}

#[tokio::test]
async fn role_lists_follow_the_grants() {
    let app = TestApp::spawn_with_integrations(|_| {}, vec![Thermostats::arc()]).await;
    let admin = app.register_admin().await;
    let a = id_of(
        &app,
        &admin,
        "/device",
        json!({"name": "Alpha", "integration": "thermo", "param_entities": {"sn": "SN-A1"}}),
        "device_id",
    )
    .await;
    let b = id_of(
        &app,
        &admin,
        "/device",
        json!({"name": "Beta", "integration": "thermo", "param_entities": {"sn": "SN-B1"}}),
        "device_id",
    )
    .await;
    let d1 = id_of(
        &app,
        &admin,
        "/dashboard",
        json!({"name": "Floor 1"}),
        "dashboard_id",
    )
    .await;
    id_of(
        &app,
        &admin,
        "/dashboard",
        json!({"name": "Floor 2"}),
        "dashboard_id",
    )
    .await;
    let role = id_of(
        &app,
        &admin,
        "/user/roles",
        json!({"name": "operators"}),
        "role_id",
    )
    .await;

    assert!(
        list(&app, &admin, &role, "integrations", None)
            .await
            .is_empty()
    );
    // The built-in integrations (mqtt-device...) are undistributed too.
    let undistributed = field(
        &list(&app, &admin, &role, "undistributed-integrations", None).await,
        "integration_id",
    );
    assert!(
        ["mqtt-device", "thermo"]
            .iter()
            .all(|i| undistributed.contains(&i.to_string())),
        "{undistributed:?}"
    );
    assert_eq!(
        field(
            &list(&app, &admin, &role, "undistributed-devices", None).await,
            "device_name"
        )
        .len(),
        2
    );

    grant(&app, &admin, &role, "DEVICE", &a).await;
    grant(&app, &admin, &role, "DASHBOARD", &d1).await;
    let devices = list(&app, &admin, &role, "devices", None).await;
    assert_eq!(field(&devices, "device_id"), vec![a.clone()]);
    assert_eq!(
        (
            devices[0]["integration_name"].as_str(),
            devices[0]["role_integration"].as_bool()
        ),
        (Some("Thermostats"), Some(false))
    );
    assert_eq!(
        field(
            &list(&app, &admin, &role, "undistributed-devices", None).await,
            "device_id"
        ),
        vec![b.clone()]
    );
    let dashboards = list(&app, &admin, &role, "dashboards", None).await;
    assert_eq!(field(&dashboards, "dashboard_name"), vec!["Floor 1"]);
    assert_eq!(dashboards[0]["user_email"], "admin@weir.test");
    assert_eq!(
        field(
            &list(&app, &admin, &role, "undistributed-dashboards", None).await,
            "dashboard_name"
        ),
        vec!["Floor 2"]
    );
    assert!(
        list(
            &app,
            &admin,
            &role,
            "undistributed-dashboards",
            Some("floor 1")
        )
        .await
        .is_empty(),
        "keyword"
    );

    grant(&app, &admin, &role, "INTEGRATION", "thermo").await;
    let devices = list(&app, &admin, &role, "devices", None).await;
    assert_eq!(devices.len(), 2);
    assert!(devices.iter().all(|d| d["role_integration"] == true));
    assert!(
        list(&app, &admin, &role, "undistributed-devices", None)
            .await
            .is_empty()
    );
    let integrations = list(&app, &admin, &role, "integrations", None).await;
    assert_eq!(
        (
            integrations[0]["integration_id"].as_str(),
            integrations[0]["device_num"].as_i64()
        ),
        (Some("thermo"), Some(2))
    );
    assert_eq!(
        field(
            &list(&app, &admin, &role, "devices", Some("bet")).await,
            "device_name"
        ),
        vec!["Beta"]
    );
}

#[tokio::test]
async fn role_lists_are_for_the_super_admin_and_known_roles() {
    let app = TestApp::spawn_with_integrations(|_| {}, vec![Thermostats::arc()]).await;
    let admin = app.register_admin().await;
    let role = id_of(
        &app,
        &admin,
        "/user/roles",
        json!({"name": "operators"}),
        "role_id",
    )
    .await;
    let plain = app.create_user(&admin, "plain@weir.test").await;
    for what in [
        "integrations",
        "devices",
        "dashboards",
        "undistributed-integrations",
        "undistributed-devices",
        "undistributed-dashboards",
    ] {
        let path = format!("/user/roles/{role}/{what}");
        let (s, body) = app.call("POST", &path, None, Some(json!({}))).await;
        assert_eq!((s, code(&body)), (401, "authentication_failed"), "{what}");
        let (s, body) = app.call("POST", &path, Some(&plain), Some(json!({}))).await;
        assert_eq!((s, code(&body)), (403, "forbidden_permission"), "{what}");
        let (s, body) = app
            .call(
                "POST",
                &format!("/user/roles/999999999/{what}"),
                Some(&admin),
                Some(json!({})),
            )
            .await;
        assert_eq!((s, code(&body)), (404, "data_no_found"), "{what}");
        let (s, body) = app
            .call(
                "POST",
                &format!("/user/roles/abc/{what}"),
                Some(&admin),
                Some(json!({})),
            )
            .await;
        assert_eq!(
            (s, code(&body)),
            (400, "parameter_validation_failed"),
            "{what}"
        );
        let (s, body) = app
            .call("POST", &path, Some(&admin), Some(json!({"keyword": 5})))
            .await;
        assert_eq!(
            (s, code(&body)),
            (400, "parameter_validation_failed"),
            "{what}: {body}"
        );
    }
}
