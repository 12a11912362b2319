//! Entities and their values over HTTP: search, children, meta, status, batch status,
//! history, aggregates, property updates and service calls.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::support::{assert_guarded, declared, error_code as code, user_with};
use serde_json::{Value, json};
use weir_iot::Viewer;
use weir_iot::integration::Integration;
use weir_iot::service::WriteKind;
use weir_kernel::TenantId;
use weir_test_kit::{Session, TestApp};

/// Heaters: a read-only temperature, a settable mode, a reboot service and a position.
fn heaters() -> Arc<dyn Integration> {
    declared(
        "heat",
        "Heaters",
        vec![
            json!({"identifier": "temp", "name": "Temperature", "type": "PROPERTY", "access_mod": "R", "value_type": "LONG", "value_attribute": {"min": -40, "max": 125}}),
            json!({"identifier": "mode", "name": "Mode", "type": "PROPERTY", "access_mod": "RW", "value_type": "STRING", "value_attribute": {"enum": {"eco": "Eco", "comfort": "Comfort"}}}),
            json!({"identifier": "reboot", "name": "Reboot", "type": "SERVICE", "access_mod": "W", "value_type": "BOOLEAN"}),
            json!({"identifier": "pos", "name": "Position", "type": "PROPERTY", "access_mod": "R", "value_type": "OBJECT", "children": [
                    {"identifier": "lat", "name": "Latitude", "type": "PROPERTY", "access_mod": "R", "value_type": "DOUBLE"}]}),
        ],
    )
}

/// A server with one heater `h1` whose temperature was reported at t = 1000, 2000, 3000.
async fn setup() -> (TestApp, Session, BTreeMap<String, String>) {
    let app = TestApp::spawn_with_integrations(|_| {}, vec![heaters()]).await;
    let admin = app.register_admin().await;
    let (s, body) = app
        .call(
            "POST",
            "/device",
            Some(&admin),
            Some(json!({"name": "H1", "integration": "heat"})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let id = body["data"]["device_id"].as_str().unwrap().to_owned();
    let (_, body) = app
        .call("GET", &format!("/device/{id}"), Some(&admin), None)
        .await;
    let ids = body["data"]["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["key"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("heat.device.h1.")
                    .to_owned(),
                e["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let iot = app.weir.iot.clone();
    tokio::task::spawn_blocking(move || {
        let system = Viewer::system(TenantId::default_tenant());
        for (ts, t) in [(1000, 20), (2000, 22), (3000, 21)] {
            let values = json!({"heat.device.h1.temp": t})
                .as_object()
                .unwrap()
                .clone();
            iot.write_values(&system, &values, WriteKind::Report, Some(ts))
                .unwrap();
        }
    })
    .await
    .unwrap();
    (app, admin, ids)
}

#[tokio::test]
async fn entities_are_searched_and_described() {
    let (app, admin, ids) = setup().await;
    let (s, body) = app
        .call(
            "POST",
            "/entity/search",
            Some(&admin),
            Some(json!({"keyword": "TEMPER"})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let row = &body["data"]["content"][0];
    assert_eq!(
        (
            row["entity_key"].as_str(),
            row["entity_value_type"].as_str()
        ),
        (Some("heat.device.h1.temp"), Some("LONG"))
    );
    assert_eq!(
        (
            row["device_name"].as_str(),
            row["integration_name"].as_str()
        ),
        (Some("H1"), Some("Heaters"))
    );
    assert_eq!(row["entity_value_attribute"]["max"], 125.0);
    let (_, body) = app.call("POST", "/entity/search", Some(&admin), Some(json!({"exclude_children": true, "entity_type": ["PROPERTY"], "entity_access_mod": ["RW"]}))).await;
    assert_eq!(body["data"]["total"], 1, "only the mode: {body}");
    let (s, body) = app
        .call(
            "POST",
            "/entity/search",
            Some(&admin),
            Some(json!({"entity_type": ["NOPE"]})),
        )
        .await;
    assert_eq!(
        (s, code(&body)),
        (400, "parameter_validation_failed"),
        "{body}"
    );
    assert!(
        body["error_message"]
            .as_str()
            .unwrap()
            .contains("entity_type"),
        "{body}"
    );

    let (_, body) = app
        .call(
            "GET",
            &format!("/entity/{}/children", ids["pos"]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(body["data"][0]["entity_key"], "heat.device.h1.pos.lat");
    let (_, body) = app
        .call(
            "GET",
            &format!("/api/v1/entity/{}/meta", ids["mode"]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        body["data"],
        json!({"key": "heat.device.h1.mode", "name": "Mode", "type": "PROPERTY", "access_mod": "RW", "value_type": "STRING", "value_attribute": {"enum": {"comfort": "Comfort", "eco": "Eco"}}})
    );
    let (s, body) = app
        .call("GET", "/entity/999999999/meta", Some(&admin), None)
        .await;
    assert_eq!((s, code(&body)), (404, "data_no_found"));
    let (s, body) = app
        .call("GET", "/entity/abc/meta", Some(&admin), None)
        .await;
    assert_eq!((s, code(&body)), (400, "parameter_validation_failed"));
}

#[tokio::test]
async fn values_are_read_latest_history_and_aggregated() {
    let (app, admin, ids) = setup().await;
    let temp = &ids["temp"];
    let (_, body) = app
        .call("GET", &format!("/entity/{temp}/status"), Some(&admin), None)
        .await;
    assert_eq!(
        body["data"],
        json!({"value": 21, "updated_at": 3000, "value_type": "LONG"})
    );
    let (_, body) = app
        .call(
            "GET",
            &format!("/entity/{}/status", ids["mode"]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        body["data"],
        json!({"value_type": "STRING"}),
        "no value yet"
    );
    let (_, body) = app
        .call(
            "POST",
            "/entity/batch-get-status",
            Some(&admin),
            Some(json!({"entity_ids": [temp, ids["mode"], "999999999"]})),
        )
        .await;
    assert_eq!(body["data"][temp]["value"], 21);
    assert_eq!(
        body["data"].as_object().unwrap().len(),
        2,
        "unknown ids are left out: {body}"
    );

    let (_, body) = app.call("POST", "/entity/history/search", Some(&admin), Some(json!({"entity_id": temp, "start_timestamp": 0, "end_timestamp": 2500, "page_size": 1}))).await;
    assert_eq!(body["data"]["total"], 2);
    assert_eq!(
        body["data"]["content"][0],
        json!({"timestamp": 2000, "value": 22, "value_type": "LONG"})
    );
    let (s, body) = app
        .call(
            "POST",
            "/entity/history/search",
            Some(&admin),
            Some(json!({"entity_id": temp, "start_timestamp": 10, "end_timestamp": 0})),
        )
        .await;
    assert_eq!((s, code(&body)), (400, "parameter_validation_failed"));
    let (s, body) = app
        .call(
            "POST",
            "/entity/history/search",
            Some(&admin),
            Some(json!({"entity_id": temp})),
        )
        .await;
    // Issue 14: no range is all of the history (the web console's history popup sends none).
    assert_eq!((s, code(&body)), (200, ""), "missing range: {body}");
    assert_eq!(body["data"]["total"], 3, "missing range: {body}");

    let agg = |kind: &str| json!({"entity_id": temp, "aggregate_type": kind, "start_timestamp": 0, "end_timestamp": 5000});
    for (kind, want) in [
        ("MAX", json!({"value": 22, "value_type": "LONG"})),
        ("AVG", json!({"value": 21.0, "value_type": "DOUBLE"})),
        ("LAST", json!({"value": 21, "value_type": "LONG"})),
    ] {
        let (_, body) = app
            .call(
                "POST",
                "/entity/history/aggregate",
                Some(&admin),
                Some(agg(kind)),
            )
            .await;
        assert_eq!(body["data"], want, "{kind}");
    }
    let (_, body) = app
        .call(
            "POST",
            "/entity/history/aggregate",
            Some(&admin),
            Some(agg("COUNT")),
        )
        .await;
    assert_eq!(body["data"]["count_result"].as_array().unwrap().len(), 3);
    let (s, body) = app
        .call(
            "POST",
            "/entity/history/aggregate",
            Some(&admin),
            Some(agg("MEDIAN")),
        )
        .await;
    assert_eq!((s, code(&body)), (400, "parameter_validation_failed"));
    let on_text = json!({"entity_id": ids["mode"], "aggregate_type": "SUM", "start_timestamp": 0, "end_timestamp": 5000});
    let (s, body) = app
        .call(
            "POST",
            "/entity/history/aggregate",
            Some(&admin),
            Some(on_text),
        )
        .await;
    assert_eq!(
        (s, code(&body)),
        (400, "parameter_validation_failed"),
        "{body}"
    );
}

#[tokio::test]
async fn writes_are_checked_and_all_or_nothing() {
    let (app, admin, ids) = setup().await;
    let update = |exchange: Value| json!({"exchange": exchange});
    let (s, body) = app
        .call(
            "POST",
            "/entity/property/update",
            Some(&admin),
            Some(update(json!({"heat.device.h1.mode": "eco"}))),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (_, body) = app
        .call(
            "GET",
            &format!("/entity/{}/status", ids["mode"]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(body["data"]["value"], "eco");
    let cases = [
        (
            json!({"heat.device.h1.mode": "turbo"}),
            "entity_value_invalid_enum",
        ),
        (
            json!({"heat.device.h1.mode": 3}),
            "entity_value_not_match_type",
        ),
        (json!({"heat.device.h1.temp": 20}), "entity_not_writable"),
        (
            json!({"heat.device.h1.mode": "comfort", "heat.device.h1.nope": 1}),
            "data_no_found",
        ),
        (json!({"not a key": 1}), "parameter_validation_failed"),
        (json!({}), "parameter_validation_failed"),
    ];
    for (exchange, want) in cases {
        let (s, body) = app
            .call(
                "POST",
                "/entity/property/update",
                Some(&admin),
                Some(update(exchange.clone())),
            )
            .await;
        assert_eq!(
            (s, code(&body)),
            (400 + u16::from(want == "data_no_found") * 4, want),
            "{exchange}: {body}"
        );
    }
    let (_, body) = app
        .call(
            "GET",
            &format!("/entity/{}/status", ids["mode"]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        body["data"]["value"], "eco",
        "no refused write changed the mode"
    );
    let (s, _) = app
        .call(
            "POST",
            "/entity/service/call",
            Some(&admin),
            Some(update(json!({"heat.device.h1.reboot": true}))),
        )
        .await;
    assert_eq!(s, 200);
    let (s, body) = app
        .call(
            "POST",
            "/entity/service/call",
            Some(&admin),
            Some(update(json!({"heat.device.h1.mode": "eco"}))),
        )
        .await;
    assert_eq!((s, code(&body)), (400, "entity_not_writable"));
    let (s, body) = app
        .call(
            "POST",
            "/entity/property/update",
            Some(&admin),
            Some(json!({"exchange": "x"})),
        )
        .await;
    assert_eq!(
        (s, code(&body)),
        (400, "parameter_validation_failed"),
        "{body}"
    );
}

#[tokio::test]
async fn callers_need_the_function_and_a_grant() {
    let (app, admin, ids) = setup().await;
    let temp = ids["temp"].clone();
    let reads: Vec<(&str, String, Option<Value>)> = vec![
        ("POST", "/entity/search".into(), Some(json!({}))),
        ("GET", format!("/entity/{temp}/meta"), None),
        ("GET", format!("/entity/{temp}/status"), None),
        ("GET", format!("/entity/{}/children", ids["pos"]), None),
        (
            "POST",
            "/entity/batch-get-status".into(),
            Some(json!({"entity_ids": [temp]})),
        ),
        (
            "POST",
            "/entity/history/search".into(),
            Some(json!({"entity_id": temp, "start_timestamp": 0, "end_timestamp": 1})),
        ),
        (
            "POST",
            "/entity/history/aggregate".into(),
            Some(
                json!({"entity_id": temp, "aggregate_type": "LAST", "start_timestamp": 0, "end_timestamp": 1}),
            ),
        ),
        (
            "POST",
            "/entity/property/update".into(),
            Some(json!({"exchange": {"heat.device.h1.mode": "eco"}})),
        ),
        (
            "POST",
            "/entity/service/call".into(),
            Some(json!({"exchange": {"heat.device.h1.reboot": true}})),
        ),
    ];
    let plain = app.create_user(&admin, "plain@weir.test").await;
    assert_guarded(&app, &plain, &reads).await;
    // With the functions but no grant, the heater does not exist for the user.
    let (_, role) = app
        .call(
            "POST",
            "/user/roles",
            Some(&admin),
            Some(json!({"name": "data"})),
        )
        .await;
    let role = role["data"]["role_id"].as_str().unwrap().to_owned();
    let menus = [
        app.menu_id(&admin, "entity_data.view").await,
        app.menu_id(&admin, "entity_data.edit").await,
    ];
    app.call(
        "POST",
        &format!("/user/roles/{role}/associate-menu"),
        Some(&admin),
        Some(json!({"menu_ids": menus})),
    )
    .await;
    app.call(
        "POST",
        &format!("/user/roles/{role}/associate-user"),
        Some(&admin),
        Some(json!({"user_ids": [plain.user_id]})),
    )
    .await;
    let (s, body) = app
        .call("GET", &format!("/entity/{temp}/meta"), Some(&plain), None)
        .await;
    assert_eq!((s, code(&body)), (404, "data_no_found"));
    let (_, body) = app
        .call("POST", "/entity/search", Some(&plain), Some(json!({})))
        .await;
    assert_eq!(body["data"]["total"], 0);
    // An ENTITY grant reaches that entity only.
    app.call(
        "POST",
        &format!("/user/roles/{role}/associate-resource"),
        Some(&admin),
        Some(json!({"resources": [{"id": temp, "type": "ENTITY"}]})),
    )
    .await;
    let (s, body) = app
        .call("GET", &format!("/entity/{temp}/status"), Some(&plain), None)
        .await;
    assert_eq!((s, body["data"]["value"].clone()), (200, json!(21)));
    let (_, body) = app
        .call("POST", "/entity/search", Some(&plain), Some(json!({})))
        .await;
    assert_eq!(body["data"]["total"], 1);
    let (s, body) = app
        .call(
            "POST",
            "/entity/property/update",
            Some(&plain),
            Some(json!({"exchange": {"heat.device.h1.mode": "eco"}})),
        )
        .await;
    assert_eq!(
        (s, code(&body)),
        (404, "data_no_found"),
        "the mode is not granted"
    );
}

#[tokio::test]
async fn history_exports_as_csv() {
    let (app, admin, ids) = setup().await;
    let url = app.url(&format!(
        "/entity/export?ids={},{}&start_timestamp=0&end_timestamp=2500",
        ids["temp"], ids["mode"]
    ));
    let res = app
        .client()
        .get(&url)
        .bearer_auth(&admin.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let text = res.text().await.unwrap();
    assert_eq!(
        text,
        "entity_key,entity_name,timestamp,value\nheat.device.h1.temp,Temperature,1000,20\nheat.device.h1.temp,Temperature,2000,22\n"
    );
    let bad = [
        "/entity/export?ids=abc&start_timestamp=0&end_timestamp=1".to_owned(),
        format!(
            "/entity/export?ids={}&start_timestamp=5&end_timestamp=1",
            ids["temp"]
        ),
        "/entity/export?ids=&start_timestamp=0&end_timestamp=1".to_owned(),
        format!("/entity/export?ids={}&start_timestamp=now", ids["temp"]),
    ];
    for path in &bad {
        let (s, body) = app.call("GET", path, Some(&admin), None).await;
        assert_eq!(
            (s, code(&body)),
            (400, "parameter_validation_failed"),
            "{path}: {body}"
        );
    }
    // The console may leave the range out: the whole history, 3000 included.
    let res = app
        .client()
        .get(app.url(&format!("/entity/export?ids={}", ids["temp"])))
        .bearer_auth(&admin.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert_eq!(
        text,
        "entity_key,entity_name,timestamp,value\nheat.device.h1.temp,Temperature,1000,20\nheat.device.h1.temp,Temperature,2000,22\nheat.device.h1.temp,Temperature,3000,21\n"
    );
    let only_start = app
        .client()
        .get(app.url(&format!(
            "/entity/export?ids={}&start_timestamp=1500",
            ids["temp"]
        )))
        .bearer_auth(&admin.access_token)
        .send()
        .await
        .unwrap();
    let text = only_start.text().await.unwrap();
    assert!(!text.contains(",1000,"), "{text}");
    assert!(
        text.contains(",2000,22") && text.contains(",3000,21"),
        "{text}"
    );

    let path = format!(
        "/entity/export?ids={}&start_timestamp=0&end_timestamp=1",
        ids["temp"]
    );
    let (s, body) = app.call("GET", &path, None, None).await;
    assert_eq!((s, code(&body)), (401, "authentication_failed"));
    let viewer = user_with(
        &app,
        &admin,
        "viewer@weir.test",
        &["entity_data.view"],
        None,
    )
    .await;
    let (s, body) = app.call("GET", &path, Some(&viewer), None).await;
    assert_eq!(
        (s, code(&body)),
        (403, "forbidden_permission"),
        "exporting needs entity_data.export: {body}"
    );
}
