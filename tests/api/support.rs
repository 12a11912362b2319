//! What the API tests share: the response envelope, servers with their users signed in,
//! the token endpoint, a second tenant, and the role calls other modules set their scene
//! with.

use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use weir_test_kit::{PASSWORD, Session, TestApp};

/// An HTTP status and the parsed JSON body, as [`TestApp::call`] answers.
pub(crate) type Answer = (u16, Value);

/// An id no object has.
pub(crate) const UNKNOWN_ID: &str = "999999999";

// ---- the envelope ----

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
pub(crate) fn refused(answer: &Answer, status: u16, code: &str) -> String {
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
    let message = refused(answer, 400, "parameter_validation_failed");
    assert!(message.contains(field), "`{field}` not named in: {message}");
}

/// Asserts a 401 `authentication_failed` whose message contains `why`.
pub(crate) fn unauthenticated(answer: &Answer, why: &str) {
    let message = refused(answer, 401, "authentication_failed");
    assert!(message.contains(why), "`{why}` not in: {message}");
}

/// Asserts a 403 `forbidden_permission`.
pub(crate) fn forbidden(answer: &Answer) {
    refused(answer, 403, "forbidden_permission");
}

/// Asserts a 404 `data_no_found` naming the id.
pub(crate) fn not_found(answer: &Answer, id: &str) {
    let message = refused(answer, 404, "data_no_found");
    assert!(message.contains(id), "`{id}` not named in: {message}");
}

/// The `field` of every item of an array.
pub(crate) fn pluck(items: &Value, field: &str) -> Vec<String> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {items}"))
        .iter()
        .map(|i| i[field].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The row whose `field` is `id`.
pub(crate) fn row_with(rows: Vec<Value>, field: &str, id: &str) -> Value {
    rows.into_iter()
        .find(|r| r[field] == id)
        .unwrap_or_else(|| panic!("no {field} {id}"))
}

// ---- servers and requests ----

/// A server with its admin signed in.
pub(crate) async fn setup() -> (TestApp, Session) {
    setup_with(|_| {}).await
}

/// A server whose settings `tweak` changed, with its admin signed in.
pub(crate) async fn setup_with(tweak: impl FnOnce(&mut weir::Settings)) -> (TestApp, Session) {
    let app = TestApp::spawn_with(tweak).await;
    let admin = app.register_admin().await;
    (app, admin)
}

/// A server with its admin and one plain user with this email signed in.
pub(crate) async fn setup_with_user(email: &str) -> (TestApp, Session, Session) {
    let (app, admin) = setup().await;
    let user = app.create_user(&admin, email).await;
    (app, admin, user)
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

/// Asserts this JSON body, sent to `method path` as `who`, is refused as malformed with 400
/// `parameter_syntax_error`.
pub(crate) async fn assert_syntax_error(
    app: &TestApp,
    method: &str,
    path: &str,
    who: Option<&Session>,
    body: &'static str,
) {
    let answer = app
        .call_raw(method, path, who, "application/json", body)
        .await;
    refused(&answer, 400, "parameter_syntax_error");
}

/// `GET /api/v1/user` as `who`.
pub(crate) async fn me(app: &TestApp, who: &Session) -> Answer {
    app.call("GET", "/api/v1/user", Some(who), None).await
}

// ---- the token endpoint ----

/// A password-grant form without client credentials.
pub(crate) fn password_form<'a>(email: &'a str, password: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("grant_type", "password"),
        ("username", email),
        ("password", password),
    ]
}

/// A password grant with the default client credentials.
pub(crate) async fn password_grant(app: &TestApp, email: &str, password: &str) -> Answer {
    // `token_request` adds the client credentials itself.
    app.token_request(&password_form(email, password), None)
        .await
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

/// Asserts a password grant is refused with 401.
pub(crate) async fn assert_login_refused(app: &TestApp, email: &str, password: &str) {
    let answer = password_grant(app, email, password).await;
    unauthenticated(&answer, "incorrect");
}

/// Asserts `who`'s access token is refused as revoked.
pub(crate) async fn assert_revoked(app: &TestApp, who: &Session) {
    unauthenticated(&me(app, who).await, "revoked");
}

/// Asserts both of `who`'s tokens are refused: the access token as revoked, the refresh
/// token by the token endpoint.
pub(crate) async fn assert_tokens_revoked(app: &TestApp, who: &Session) {
    assert_revoked(app, who).await;
    unauthenticated(
        &refresh_grant(app, &who.refresh_token).await,
        "refresh token",
    );
}

// ---- tenants ----

/// The second tenant of [`two_tenants`].
pub(crate) const ACME: &str = "acme";

/// `weir tenant add ID`; the new tenant's id, or the error's message.
pub(crate) async fn add_tenant(app: &TestApp, id: &str) -> Result<String, String> {
    let weir = app.weir.clone();
    let id = id.to_owned();
    tokio::task::spawn_blocking(move || weir.add_tenant(&id, None, None))
        .await
        .expect("add_tenant task")
        .map(|t| t.id.to_string())
        .map_err(|e| e.to_string())
}

/// A call without a token that names a tenant.
pub(crate) async fn in_tenant(
    app: &TestApp,
    method: &str,
    path: &str,
    tenant: &str,
    body: Option<Value>,
) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = app
        .client()
        .request(method, app.url(path))
        .header("TENANT-ID", tenant);
    if let Some(b) = body {
        req = req.json(&b);
    }
    send(req).await.0
}

/// Registers `email` (nickname `Boss`) in `tenant`.
pub(crate) async fn register_in(
    app: &TestApp,
    tenant: &str,
    email: &str,
    password: &str,
) -> Answer {
    let body = json!({"email": email, "nickname": "Boss", "password": password});
    in_tenant(app, "POST", "/user/register", tenant, Some(body)).await
}

/// Logs in to `tenant`; the session and `GET /user`'s data.
pub(crate) async fn login_in(
    app: &TestApp,
    tenant: &str,
    email: &str,
    password: &str,
) -> (Session, Value) {
    let form = password_form(email, password);
    let session = session_of(&app.token_request(&form, Some(tenant)).await, email);
    let me = ok(&app.call("GET", "/user", Some(&session), None).await).clone();
    let session = Session {
        user_id: me["user_id"].as_str().expect("user_id").to_owned(),
        ..session
    };
    (session, me)
}

/// A server with the `default` admin and an `acme` tenant whose admin is
/// `boss@acme.test`.
pub(crate) async fn two_tenants() -> (TestApp, Session, Session) {
    two_tenants_with(|_| {}).await
}

/// [`two_tenants`], the server's settings changed by `tweak`.
pub(crate) async fn two_tenants_with(
    tweak: impl FnOnce(&mut weir::Settings),
) -> (TestApp, Session, Session) {
    let (app, admin) = setup_with(tweak).await;
    add_tenant(&app, ACME).await.expect("add acme");
    ok(&register_in(&app, ACME, "boss@acme.test", PASSWORD).await);
    let (boss, _) = login_in(&app, ACME, "boss@acme.test", PASSWORD).await;
    (app, admin, boss)
}

// ---- roles ----

/// Creates a role as `admin`; returns its id.
pub(crate) async fn new_role(app: &TestApp, admin: &Session, name: &str) -> String {
    let answer = app
        .call(
            "POST",
            "/user/roles",
            Some(admin),
            Some(json!({"name": name})),
        )
        .await;
    ok(&answer)["role_id"].as_str().expect("role_id").to_owned()
}

/// Searches roles as `admin`; returns the page.
pub(crate) async fn search_roles(app: &TestApp, admin: &Session, body: Value) -> Value {
    let answer = app
        .call("POST", "/user/roles/search", Some(admin), Some(body))
        .await;
    ok(&answer).clone()
}

/// Every role of the tenant.
pub(crate) async fn all_roles(app: &TestApp, admin: &Session) -> Vec<Value> {
    search_roles(app, admin, json!({"page_size": 1000})).await["content"]
        .as_array()
        .expect("content")
        .clone()
}

/// The id of the tenant's built-in `super_admin` role.
pub(crate) async fn super_admin_role(app: &TestApp, admin: &Session) -> String {
    let all = all_roles(app, admin).await;
    let built_in: Vec<&Value> = all.iter().filter(|r| r["built_in"] == true).collect();
    assert_eq!(built_in.len(), 1, "{all:?}");
    assert_eq!(built_in[0]["name"], "super_admin");
    built_in[0]["role_id"].as_str().expect("role_id").to_owned()
}

/// `method /user/roles/{role}{tail}` as `who`.
pub(crate) async fn on_role(
    app: &TestApp,
    who: &Session,
    method: &str,
    role: &str,
    tail: &str,
    body: Option<Value>,
) -> Answer {
    let path = format!("/user/roles/{role}{tail}");
    app.call(method, &path, Some(who), body).await
}

/// `POST /user/roles/{role}/{action}` as `who`.
pub(crate) async fn role_action(
    app: &TestApp,
    who: &Session,
    role: &str,
    action: &str,
    body: Value,
) -> Answer {
    on_role(app, who, "POST", role, &format!("/{action}"), Some(body)).await
}

/// `associate-user`, `disassociate-user`, `associate-menu` or `disassociate-menu` with
/// these ids, which must succeed with `{}`.
pub(crate) async fn link(
    app: &TestApp,
    admin: &Session,
    role: &str,
    action: &str,
    ids: &[&String],
) {
    let field = if action.ends_with("user") {
        "user_ids"
    } else {
        "menu_ids"
    };
    let answer = role_action(app, admin, role, action, json!({ field: ids })).await;
    assert_eq!(ok(&answer), &json!({}), "{action}");
}

/// The ids of the role's members.
pub(crate) async fn member_ids(app: &TestApp, admin: &Session, role: &str) -> Vec<String> {
    let answer = on_role(app, admin, "GET", role, "/members", None).await;
    pluck(ok(&answer), "user_id")
}

/// Grants the user the menu with this code through a new role `viewers`; returns the role
/// id and the menu id.
pub(crate) async fn grant_menu_via_role(
    app: &TestApp,
    admin: &Session,
    user_id: &str,
    code: &str,
) -> (String, String) {
    let menu_id = app.menu_id(admin, code).await;
    let grant = json!({"menu_ids": [menu_id]});
    let role_id = grant_via_role(app, admin, user_id, "associate-menu", grant).await;
    (role_id, menu_id)
}

/// Grants the user a resource of this type and id through a new role `viewers`; returns
/// the role id.
pub(crate) async fn grant_resource_via_role(
    app: &TestApp,
    admin: &Session,
    user_id: &str,
    resource_type: &str,
    id: &str,
) -> String {
    let grant = json!({"resources": [{"id": id, "type": resource_type}]});
    grant_via_role(app, admin, user_id, "associate-resource", grant).await
}

/// Creates the role `viewers`, grants it something (`associate-menu` or
/// `associate-resource` with its body), puts the user in it and returns the role id.
async fn grant_via_role(
    app: &TestApp,
    admin: &Session,
    user_id: &str,
    grant: &str,
    body: Value,
) -> String {
    let role_id = new_role(app, admin, "viewers").await;
    for (action, body) in [
        (grant, body),
        ("associate-user", json!({"user_ids": [user_id]})),
    ] {
        ok(&role_action(app, admin, &role_id, action, body).await);
    }
    role_id
}

/// A user whose one role grants these function codes and, optionally, one resource
/// (`(type, id)`).
pub(crate) async fn user_with(
    app: &TestApp,
    admin: &Session,
    email: &str,
    codes: &[&str],
    resource: Option<(&str, &str)>,
) -> Session {
    let user = app.create_user(admin, email).await;
    let role = new_role(app, admin, email).await;
    let mut menus = Vec::new();
    for code in codes {
        menus.push(app.menu_id(admin, code).await);
    }
    link(
        app,
        admin,
        &role,
        "associate-menu",
        &menus.iter().collect::<Vec<_>>(),
    )
    .await;
    if let Some((kind, id)) = resource {
        let grant = json!({"resources": [{"id": id, "type": kind}]});
        ok(&role_action(app, admin, &role, "associate-resource", grant).await);
    }
    link(app, admin, &role, "associate-user", &[&user.user_id]).await;
    user
}

/// The `error_code` of an answer, or "" for a success.
pub(crate) fn error_code(body: &Value) -> &str {
    body["error_code"].as_str().unwrap_or("")
}

/// Each call is refused without a token (401) and for `plain`, a user without the needed
/// function codes (403).
pub(crate) async fn assert_guarded(
    app: &TestApp,
    plain: &Session,
    calls: &[(&str, String, Option<Value>)],
) {
    for (method, path, body) in calls {
        let (s, answer) = app.call(method, path, None, body.clone()).await;
        assert_eq!(
            (s, error_code(&answer)),
            (401, "authentication_failed"),
            "{method} {path}"
        );
        let (s, answer) = app.call(method, path, Some(plain), body.clone()).await;
        assert_eq!(
            (s, error_code(&answer)),
            (403, "forbidden_permission"),
            "{method} {path}"
        );
    }
}

/// An integration whose devices all have `entities` (entity definitions as the native API
/// writes them); users may add devices but not delete them.
pub fn declared(
    id: &str,
    name: &str,
    entities: Vec<Value>,
) -> std::sync::Arc<dyn weir_iot::integration::Integration> {
    let entities = entities
        .into_iter()
        .map(|e| serde_json::from_value(e).expect("an entity definition"))
        .collect();
    std::sync::Arc::new(weir_iot::integration::FixedEntities::new(
        id, name, entities,
    ))
}

// ---- grant targets ----

/// A device (of `http-device`), a dashboard and a flow made by `who`; their ids.
pub(crate) async fn owned_objects(app: &TestApp, who: &Session) -> [(&'static str, String); 3] {
    let body = json!({"name": "Hall", "integration": "http-device",
                      "param_entities": {"identifier": "hall"}});
    let answer = app.call("POST", "/device", Some(who), Some(body)).await;
    let device = ok(&answer)["device_id"]
        .as_str()
        .expect("device_id")
        .to_owned();
    let answer = app
        .call(
            "POST",
            "/dashboard",
            Some(who),
            Some(json!({"name": "Plant"})),
        )
        .await;
    let dashboard = ok(&answer)["dashboard_id"]
        .as_str()
        .expect("dashboard_id")
        .to_owned();
    let flow = crate::workflow_flows::new_flow(app, who, "Night").await;
    [
        ("DEVICE", device),
        ("DASHBOARD", dashboard),
        ("WORKFLOW", flow),
    ]
}
