//! Dashboards: create, list, update with widgets, delete; who sees which.

use crate::support::{assert_guarded, error_code as code, user_with};
use serde_json::json;
use weir_test_kit::{Session, TestApp};

async fn new_dashboard(app: &TestApp, who: &Session, name: &str) -> String {
    let (s, body) = app
        .call("POST", "/dashboard", Some(who), Some(json!({"name": name})))
        .await;
    assert_eq!(s, 200, "{body}");
    body["data"]["dashboard_id"].as_str().unwrap().to_owned()
}

async fn names(app: &TestApp, who: &Session) -> Vec<String> {
    let (s, body) = app
        .call("GET", "/dashboard/dashboards", Some(who), None)
        .await;
    assert_eq!(s, 200, "{body}");
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect()
}

/// A user whose role grants the dashboard functions and, optionally, one dashboard.
async fn dashboard_user(
    app: &TestApp,
    admin: &Session,
    email: &str,
    grant: Option<&str>,
) -> Session {
    let codes = [
        "dashboard.view",
        "dashboard.add",
        "dashboard.edit",
        "dashboard.delete",
    ];
    user_with(app, admin, email, &codes, grant.map(|id| ("DASHBOARD", id))).await
}

#[tokio::test]
async fn a_dashboard_is_created_filled_listed_and_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.register_admin().await;
    let id = new_dashboard(&app, &admin, "Plant").await;
    let widgets = json!([{"widget_id": "w1", "data": {"type": "line", "entity": "x"}}, {"widget_id": "w2", "data": {}}]);
    let (s, body) = app
        .call(
            "PUT",
            &format!("/dashboard/{id}"),
            Some(&admin),
            Some(json!({"name": "Plant A", "widgets": widgets})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (_, body) = app
        .call("GET", "/api/v1/dashboard/dashboards", Some(&admin), None)
        .await;
    let d = &body["data"][0];
    assert_eq!(
        (d["dashboard_id"].as_str(), d["name"].as_str()),
        (Some(id.as_str()), Some("Plant A"))
    );
    assert_eq!(d["widgets"], widgets);
    assert_eq!(d["user_id"].as_str(), Some(admin.user_id.as_str()));
    assert!(d["created_at"].as_i64().unwrap() > 0);
    let (s, _) = app
        .call("DELETE", &format!("/dashboard/{id}"), Some(&admin), None)
        .await;
    assert_eq!(s, 200);
    assert!(names(&app, &admin).await.is_empty());
    let (s, body) = app
        .call("DELETE", &format!("/dashboard/{id}"), Some(&admin), None)
        .await;
    assert_eq!((s, code(&body)), (404, "data_no_found"));
}

#[tokio::test]
async fn bad_dashboards_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.register_admin().await;
    let id = new_dashboard(&app, &admin, "Plant").await;
    new_dashboard(&app, &admin, "Other").await;
    let cases = [
        (
            "POST",
            "/dashboard".to_owned(),
            json!({"name": "Plant"}),
            "dashboard_name_exist",
            "Plant",
        ),
        (
            "POST",
            "/dashboard".to_owned(),
            json!({"name": " "}),
            "parameter_validation_failed",
            "name",
        ),
        (
            "POST",
            "/dashboard".to_owned(),
            json!({}),
            "parameter_validation_failed",
            "name",
        ),
        (
            "PUT",
            format!("/dashboard/{id}"),
            json!({"name": "Other", "widgets": []}),
            "dashboard_name_exist",
            "Other",
        ),
        (
            "PUT",
            format!("/dashboard/{id}"),
            json!({"name": "P", "widgets": [{"widget_id": "a", "data": {}}, {"widget_id": "a", "data": {}}]}),
            "parameter_validation_failed",
            "widgets[1].widget_id",
        ),
        (
            "PUT",
            format!("/dashboard/{id}"),
            json!({"name": "P"}),
            "parameter_validation_failed",
            "widgets",
        ),
        (
            "PUT",
            format!("/dashboard/{id}"),
            json!({"name": "P", "widgets": [{"widget_id": "a", "data": 5}]}),
            "parameter_validation_failed",
            "data",
        ),
    ];
    for (method, path, body, want, field) in cases {
        let (s, answer) = app
            .call(method, &path, Some(&admin), Some(body.clone()))
            .await;
        assert_eq!(
            (s, code(&answer)),
            (400, want),
            "{method} {path} {body}: {answer}"
        );
        assert!(
            answer["error_message"].as_str().unwrap().contains(field),
            "{answer} should name {field}"
        );
    }
    assert_eq!(
        names(&app, &admin).await,
        vec!["Plant", "Other"],
        "nothing changed"
    );
    let (s, body) = app
        .call(
            "PUT",
            "/dashboard/999999999",
            Some(&admin),
            Some(json!({"name": "X", "widgets": []})),
        )
        .await;
    assert_eq!((s, code(&body)), (404, "data_no_found"));
    let (s, body) = app
        .call("DELETE", "/dashboard/abc", Some(&admin), None)
        .await;
    assert_eq!((s, code(&body)), (400, "parameter_validation_failed"));
}

#[tokio::test]
async fn users_see_their_own_and_granted_dashboards_only() {
    let app = TestApp::spawn().await;
    let admin = app.register_admin().await;
    let shared = new_dashboard(&app, &admin, "Shared").await;
    new_dashboard(&app, &admin, "Private").await;
    let plain = app.create_user(&admin, "plain@weir.test").await;
    let calls = [
        ("GET", "/dashboard/dashboards".to_owned(), None),
        (
            "POST",
            "/dashboard".to_owned(),
            Some(json!({"name": "Mine"})),
        ),
        (
            "PUT",
            format!("/dashboard/{shared}"),
            Some(json!({"name": "X", "widgets": []})),
        ),
        ("DELETE", format!("/dashboard/{shared}"), None),
    ];
    assert_guarded(&app, &plain, &calls).await;
    let granted = dashboard_user(&app, &admin, "granted@weir.test", Some(&shared)).await;
    let ungranted = dashboard_user(&app, &admin, "ungranted@weir.test", None).await;
    assert_eq!(names(&app, &granted).await, vec!["Shared"]);
    assert!(names(&app, &ungranted).await.is_empty());
    let (s, body) = app
        .call(
            "DELETE",
            &format!("/dashboard/{shared}"),
            Some(&ungranted),
            None,
        )
        .await;
    assert_eq!(
        (s, code(&body)),
        (404, "data_no_found"),
        "not granted: as if it did not exist"
    );
    new_dashboard(&app, &ungranted, "Mine").await;
    assert_eq!(
        names(&app, &ungranted).await,
        vec!["Mine"],
        "a creator sees their own"
    );
    assert_eq!(
        names(&app, &admin).await,
        vec!["Shared", "Private", "Mine"],
        "the super admin sees all"
    );
}
