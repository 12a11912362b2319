//! One widget at a time, as the console's `dashboard.ts` declares it (issue 14):
//! `POST /dashboard/{id}/widget`, `PUT /dashboard/{id}/widget/{widget_id}`,
//! `DELETE /dashboard/{id}/widget/{widget_id}`, over the same dashboards.

use serde_json::{Value, json};
use weir_test_kit::{Session, TestApp};

use crate::support::{
    UNKNOWN_ID, assert_guarded, invalid, not_found, ok, setup, two_tenants, user_with,
};

async fn new_dashboard(app: &TestApp, who: &Session, name: &str) -> String {
    let answer = app
        .call("POST", "/dashboard", Some(who), Some(json!({"name": name})))
        .await;
    ok(&answer)["dashboard_id"].as_str().unwrap().to_owned()
}

async fn widgets(app: &TestApp, who: &Session, dashboard: &str) -> Vec<Value> {
    let answer = app
        .call("GET", "/dashboard/dashboards", Some(who), None)
        .await;
    ok(&answer)
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["dashboard_id"] == dashboard)
        .map(|d| d["widgets"].as_array().unwrap().clone())
        .unwrap_or_default()
}

async fn add(app: &TestApp, who: &Session, dashboard: &str, body: Value) -> (u16, Value) {
    let path = format!("/dashboard/{dashboard}/widget");
    app.call("POST", &path, Some(who), Some(body)).await
}

#[tokio::test]
async fn widgets_are_added_updated_and_removed_one_at_a_time() {
    let (app, admin) = setup().await;
    let d = new_dashboard(&app, &admin, "Plant").await;
    // The dashboard's own widgets stay beside the ones added alone.
    let body = json!({"name": "Plant", "widgets": [{"widget_id": "w1", "data": {"type": "line"}}]});
    ok(&app
        .call("PUT", &format!("/dashboard/{d}"), Some(&admin), Some(body))
        .await);

    let answer = add(
        &app,
        &admin,
        &d,
        json!({"data": {"type": "gauge"}, "tempId": 17}),
    )
    .await;
    let added = ok(&answer).clone();
    let id = added["widget_id"].as_str().unwrap().to_owned();
    assert_eq!(added["data"], json!({"type": "gauge"}));
    assert_ne!(id, "w1");
    assert_eq!(
        widgets(&app, &admin, &d).await,
        vec![
            json!({"widget_id": "w1", "data": {"type": "line"}}),
            json!({"widget_id": id, "data": {"type": "gauge"}}),
        ]
    );

    let path = format!("/dashboard/{d}/widget/w1");
    let body = json!({"widget_id": "w1", "data": {"type": "bar", "pos": [1, 2]}});
    ok(&app.call("PUT", &path, Some(&admin), Some(body)).await);
    assert_eq!(
        widgets(&app, &admin, &d).await[0],
        json!({"widget_id": "w1", "data": {"type": "bar", "pos": [1, 2]}})
    );

    ok(&app.call("DELETE", &path, Some(&admin), None).await);
    assert_eq!(
        widgets(&app, &admin, &d).await,
        vec![json!({"widget_id": id, "data": {"type": "gauge"}})]
    );
    // Gone: a second delete, and an update, answer 404 naming it.
    not_found(&app.call("DELETE", &path, Some(&admin), None).await, "w1");
    let body = json!({"data": {}});
    not_found(
        &app.call("PUT", &path, Some(&admin), Some(body)).await,
        "w1",
    );
}

#[tokio::test]
async fn widget_routes_check_their_input_and_the_dashboard() {
    let (app, admin, boss) = two_tenants().await;
    let d = new_dashboard(&app, &admin, "Plant").await;
    invalid(&add(&app, &admin, &d, json!({})).await, "data");
    invalid(&add(&app, &admin, &d, json!({"data": [1]})).await, "data");
    invalid(
        &add(&app, &admin, "abc", json!({"data": {}})).await,
        "dashboard_id",
    );
    not_found(
        &add(&app, &admin, UNKNOWN_ID, json!({"data": {}})).await,
        UNKNOWN_ID,
    );
    // Another tenant's dashboard does not exist for the caller.
    not_found(&add(&app, &boss, &d, json!({"data": {}})).await, &d);
    let path = format!("/dashboard/{d}/widget/w1");
    not_found(&app.call("DELETE", &path, Some(&boss), None).await, &d);
    // At most 100 widgets a dashboard.
    let full: Vec<Value> = (0..100)
        .map(|i| json!({"widget_id": format!("w{i}"), "data": {}}))
        .collect();
    let body = json!({"name": "Plant", "widgets": full});
    ok(&app
        .call("PUT", &format!("/dashboard/{d}"), Some(&admin), Some(body))
        .await);
    invalid(&add(&app, &admin, &d, json!({"data": {}})).await, "widgets");
    assert_eq!(widgets(&app, &admin, &d).await.len(), 100);

    // Each needs `dashboard.edit`.
    let plain = app.create_user(&admin, "plain@weir.test").await;
    let calls = [
        (
            "POST",
            format!("/dashboard/{d}/widget"),
            Some(json!({"data": {}})),
        ),
        ("PUT", path.clone(), Some(json!({"data": {}}))),
        ("DELETE", path.clone(), None),
    ];
    assert_guarded(&app, &plain, &calls).await;
    let viewer = user_with(
        &app,
        &admin,
        "viewer@weir.test",
        &["dashboard.view"],
        Some(("DASHBOARD", &d)),
    )
    .await;
    let answer = add(&app, &viewer, &d, json!({"data": {}})).await;
    crate::support::forbidden(&answer);
}
