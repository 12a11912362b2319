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

/// One page of a role list as the web console asks for it (`{keyword, page_size,
/// page_number}`); the `data` it answers.
async fn page(
    app: &TestApp,
    admin: &Session,
    role: &str,
    what: &str,
    keyword: &str,
    (size, number): (i64, i64),
) -> Value {
    let (s, body) = app
        .call(
            "POST",
            &format!("/user/roles/{role}/{what}"),
            Some(admin),
            Some(json!({"keyword": keyword, "page_size": size, "page_number": number})),
        )
        .await;
    assert_eq!(s, 200, "{what}: {body}");
    body["data"].clone()
}

/// The page's `(page_number, page_size, total)` and its items.
fn parts(page: &Value) -> ((i64, i64, i64), Vec<Value>) {
    let n = |f: &str| page[f].as_i64().unwrap_or_else(|| panic!("{f} in {page}"));
    let items = page["content"].as_array().expect("content").clone();
    ((n("page_number"), n("page_size"), n("total")), items)
}

/// Asserts `item` has every field the console reads.
fn has_fields(item: &Value, fields: &[&str]) {
    for f in fields {
        assert!(!item[f].is_null(), "`{f}` missing in {item}");
    }
}

#[tokio::test]
async fn role_lists_are_paged_as_the_console_asks() {
    let app = TestApp::spawn_with_integrations(|_| {}, vec![Thermostats::arc()]).await;
    let admin = app.register_admin().await;
    let mut devices = Vec::new();
    for (name, sn) in [("Alpha", "SN-A1"), ("Beta", "SN-B1")] {
        let body = json!({"name": name, "integration": "thermo", "param_entities": {"sn": sn}});
        devices.push(id_of(&app, &admin, "/device", body, "device_id").await);
    }
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
    const DEVICE: &[&str] = &[
        "device_id",
        "device_name",
        "created_at",
        "integration_id",
        "integration_name",
        "role_integration",
    ];
    const DASHBOARD: &[&str] = &[
        "dashboard_id",
        "dashboard_name",
        "created_at",
        "user_id",
        "user_email",
        "user_nickname",
    ];
    const INTEGRATION: &[&str] = &[
        "integration_id",
        "integration_name",
        "device_num",
        "entity_num",
    ];

    // Two undistributed devices, one a page.
    let first = page(&app, &admin, &role, "undistributed-devices", "", (1, 1)).await;
    let (meta, items) = parts(&first);
    assert_eq!((meta, items.len()), ((1, 1, 2), 1), "{first}");
    has_fields(&items[0], DEVICE);
    assert_eq!(items[0]["integration_name"], "Thermostats");
    let second = page(&app, &admin, &role, "undistributed-devices", "", (1, 2)).await;
    let (meta, rest) = parts(&second);
    assert_eq!((meta, rest.len()), ((2, 1, 2), 1), "{second}");
    assert_ne!(items[0]["device_id"], rest[0]["device_id"], "pages overlap");
    let past = page(&app, &admin, &role, "undistributed-devices", "", (10, 9)).await;
    assert_eq!(parts(&past), ((9, 10, 2), vec![]), "{past}");

    let (meta, items) = parts(
        &page(
            &app,
            &admin,
            &role,
            "undistributed-integrations",
            "",
            (10, 1),
        )
        .await,
    );
    assert!(meta.2 >= 2 && items.len() as i64 == meta.2, "{items:?}");
    items.iter().for_each(|i| has_fields(i, INTEGRATION));
    let (meta, items) = parts(
        &page(
            &app,
            &admin,
            &role,
            "undistributed-integrations",
            "THERMO",
            (10, 1),
        )
        .await,
    );
    assert_eq!(
        (meta.2, items[0]["integration_id"].as_str()),
        (1, Some("thermo"))
    );
    let (meta, _) = parts(&page(&app, &admin, &role, "integrations", "", (10, 1)).await);
    assert_eq!(meta, (1, 10, 0));

    grant(&app, &admin, &role, "DEVICE", &devices[0]).await;
    grant(&app, &admin, &role, "DASHBOARD", &d1).await;
    let (meta, items) = parts(&page(&app, &admin, &role, "devices", "", (10, 1)).await);
    assert_eq!(meta.2, 1);
    has_fields(&items[0], DEVICE);
    assert_eq!(
        (&items[0]["device_id"], &items[0]["role_integration"]),
        (&json!(devices[0]), &json!(false))
    );
    let (meta, items) = parts(&page(&app, &admin, &role, "dashboards", "", (10, 1)).await);
    assert_eq!(meta.2, 1);
    has_fields(&items[0], DASHBOARD);
    assert_eq!(
        (&items[0]["dashboard_name"], &items[0]["user_email"]),
        (&json!("Floor 1"), &json!("admin@weir.test"))
    );
    let (meta, items) = parts(
        &page(
            &app,
            &admin,
            &role,
            "undistributed-dashboards",
            "floor",
            (10, 1),
        )
        .await,
    );
    assert_eq!(
        (meta.2, &items[0]["dashboard_name"]),
        (1, &json!("Floor 2"))
    );
    let (meta, _) = parts(
        &page(
            &app,
            &admin,
            &role,
            "undistributed-dashboards",
            "floor 1",
            (10, 1),
        )
        .await,
    );
    assert_eq!(meta.2, 0, "keyword");

    grant(&app, &admin, &role, "INTEGRATION", "thermo").await;
    let (meta, items) = parts(&page(&app, &admin, &role, "integrations", "", (10, 1)).await);
    assert_eq!(meta, (1, 10, 1));
    has_fields(&items[0], INTEGRATION);
    assert_eq!(items[0]["device_num"], 2);
    let (meta, items) = parts(&page(&app, &admin, &role, "devices", "bet", (10, 1)).await);
    assert_eq!((meta.2, &items[0]["device_name"]), (1, &json!("Beta")));
    assert_eq!(items[0]["role_integration"], true);
    let (meta, _) = parts(&page(&app, &admin, &role, "undistributed-devices", "", (10, 1)).await);
    assert_eq!(meta.2, 0);

    // Either paging field alone asks for a page (the other one defaults); neither, the list.
    for body in [json!({"page_number": 1}), json!({"page_size": 10})] {
        let (s, answer) = app
            .call(
                "POST",
                &format!("/user/roles/{role}/devices"),
                Some(&admin),
                Some(body),
            )
            .await;
        assert_eq!(s, 200, "{answer}");
        assert_eq!(parts(&answer["data"]).0, (1, 10, 2), "{answer}");
    }
    assert_eq!(list(&app, &admin, &role, "devices", None).await.len(), 2);
}

#[tokio::test]
async fn role_list_pages_check_the_caller_then_the_page() {
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
        "undistributed-users",
        "integrations",
        "devices",
        "dashboards",
        "undistributed-integrations",
        "undistributed-devices",
        "undistributed-dashboards",
    ] {
        let path = format!("/user/roles/{role}/{what}");
        // Who may not manage roles learns nothing from a bad page.
        let bad = json!({"page_size": 0, "page_number": 1});
        let (s, body) = app
            .call("POST", &path, Some(&plain), Some(bad.clone()))
            .await;
        assert_eq!((s, code(&body)), (403, "forbidden_permission"), "{what}");
        let (s, body) = app.call("POST", &path, None, Some(bad)).await;
        assert_eq!((s, code(&body)), (401, "authentication_failed"), "{what}");
        for (bad, field) in [
            (json!({"page_size": 0, "page_number": 1}), "page_size"),
            (json!({"page_size": -3}), "page_size"),
            (json!({"page_size": 10, "page_number": 0}), "page_number"),
            (json!({"page_size": "ten"}), "page_size"),
            (json!({"page_number": 1.5}), "page_number"),
        ] {
            let (s, body) = app.call("POST", &path, Some(&admin), Some(bad)).await;
            assert_eq!(
                (s, code(&body)),
                (400, "parameter_validation_failed"),
                "{what}: {body}"
            );
            let message = body["error_message"].as_str().unwrap_or_default();
            assert!(message.contains(field), "{what}: `{field}` not in {body}");
        }
        // Over the maximum, the size is capped as on every native search.
        let (s, body) = app
            .call(
                "POST",
                &path,
                Some(&admin),
                Some(json!({"page_size": 5000, "page_number": 1})),
            )
            .await;
        assert_eq!(
            (s, &body["data"]["page_size"]),
            (200, &json!(1000)),
            "{what}: {body}"
        );
        let (s, body) = app
            .call(
                "POST",
                &format!("/user/roles/999999999/{what}"),
                Some(&admin),
                Some(json!({"page_size": 10, "page_number": 1})),
            )
            .await;
        assert_eq!((s, code(&body)), (404, "data_no_found"), "{what}");
    }
}
