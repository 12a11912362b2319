use serde_json::json;
use weir_test_kit::TestApp;

#[tokio::test]
async fn register_login_and_read_self() {
    let app = TestApp::spawn().await;
    let (s, body) = app.call("GET", "/user/status", None, None).await;
    assert_eq!(
        (s, body["data"]["init"].clone()),
        (200, json!(false)),
        "{body}"
    );
    let admin = app.register_admin().await;
    let (s, body) = app.call("GET", "/api/v1/user", Some(&admin), None).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["status"], "Success");
    assert_eq!(body["request_id"].as_str().unwrap().len(), 32);
    assert_eq!(body["data"]["email"], "admin@weir.test");
    assert_eq!(body["data"]["is_super_admin"], true);
    assert_eq!(body["data"]["super_admin"], true);
    assert_eq!(body["data"]["roles"][0]["role_name"], "super_admin");
    assert!(body["data"]["menus"].as_array().unwrap().len() > 20);
}
