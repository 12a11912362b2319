//! The HTTP surface around the endpoints: request ids, bare paths, body errors, unknown
//! routes, health, the OpenAPI document, CORS and the static console.

use reqwest::Response;
use serde_json::{Value, json};
use weir_test_kit::TestApp;

use crate::support::{
    assert_syntax_error, ok, password_form, refused, search_roles, setup, super_admin_role,
};

/// Sends `method path` with extra headers and no body.
async fn send(app: &TestApp, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = app.client().request(method, app.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("request sent")
}

fn header<'a>(res: &'a Response, name: &str) -> Option<&'a str> {
    res.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The `x-request-id` header and the envelope's `request_id`, after checking they agree.
async fn request_id(res: Response) -> String {
    let in_header = header(&res, "x-request-id")
        .expect("x-request-id")
        .to_owned();
    let body: Value = res.json().await.expect("json body");
    assert_eq!(body["request_id"], in_header, "{body}");
    in_header
}

fn is_hex32(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[tokio::test]
async fn request_id_is_32_hex_characters() {
    let app = TestApp::spawn().await;
    let first = request_id(send(&app, "GET", "/user/status", &[]).await).await;
    let second = request_id(send(&app, "GET", "/user/status", &[]).await).await;
    assert!(is_hex32(&first) && is_hex32(&second), "{first} {second}");
    assert_ne!(first, second);
    // Failures carry one too.
    let failed = send(&app, "GET", "/user", &[]).await;
    assert_eq!(failed.status(), 401);
    assert!(is_hex32(&request_id(failed).await));
}

#[tokio::test]
async fn request_id_echoes_an_acceptable_trace_id() {
    let app = TestApp::spawn().await;
    let trace = [("traceId", "trace-42_ABC")];
    let res = send(&app, "GET", "/user/status", &trace).await;
    assert_eq!(request_id(res).await, "trace-42_ABC");
    let res = send(&app, "GET", "/api/v1/user", &trace).await;
    assert_eq!(res.status(), 401);
    assert_eq!(request_id(res).await, "trace-42_ABC");
    // Ids that are not safe to log or echo are replaced.
    let long = "a".repeat(129);
    for bad in ["has space", "semi;colon", long.as_str()] {
        let res = send(&app, "GET", "/user/status", &[("traceId", bad)]).await;
        let id = request_id(res).await;
        assert!(is_hex32(&id), "{bad:?} gave {id}");
    }
}

#[tokio::test]
async fn bare_paths_reach_the_same_endpoints() {
    let (app, admin) = setup().await;
    let prefixed = ok(&app.call("GET", "/api/v1/user", Some(&admin), None).await).clone();
    let bare = ok(&app.call("GET", "/user", Some(&admin), None).await).clone();
    assert_eq!(prefixed, bare);
    assert_eq!(bare["email"], "admin@weir.test");
    // The query string survives the rewrite.
    let sa = super_admin_role(&app, &admin).await;
    for (keyword, n) in [("admin", 1), ("nobody", 0)] {
        let path = format!("/user/roles/{sa}/members?keyword={keyword}");
        let data = ok(&app.call("GET", &path, Some(&admin), None).await).clone();
        assert_eq!(data.as_array().map(Vec::len), Some(n), "{data}");
    }
    // And the token endpoint answers at /oauth2/token.
    let form = password_form("admin@weir.test", weir_test_kit::PASSWORD);
    let res = app
        .client()
        .post(app.url("/oauth2/token"))
        .form(&form)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["data"]["token_type"], "Bearer");
}

#[tokio::test]
async fn malformed_json_is_a_syntax_error() {
    let (app, admin) = setup().await;
    for body in ["{\"name\": ", "{name: 1}", "not json"] {
        assert_syntax_error(&app, "POST", "/api/v1/user/roles", Some(&admin), body).await;
    }
    let page = search_roles(&app, &admin, json!({})).await;
    assert_eq!(page["total"], 1, "no role was created");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let app = TestApp::spawn_with(|s| s.http.max_body_bytes = 1024).await;
    let big = json!({"email": "admin@weir.test", "nickname": "x".repeat(4096), "password": weir_test_kit::PASSWORD});
    let res = app
        .call_raw(
            "POST",
            "/api/v1/user/register",
            None,
            "application/json",
            big.to_string(),
        )
        .await;
    let msg = refused(&res, 413, "data_too_large");
    assert!(msg.contains("1024"), "{msg}");
    let status = ok(&app.call("GET", "/user/status", None, None).await).clone();
    assert_eq!(status["init"], false, "nobody was registered");
    // A body under the limit still goes through.
    app.register_admin().await;
}

#[tokio::test]
async fn unknown_routes_answer_a_json_404() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        ("GET", "/api/v1/nope"),
        ("POST", "/api/v1/user/nope"),
        ("GET", "/user/nope"),
        ("GET", "/nope"),
    ] {
        let res = app.call(method, path, None, None).await;
        let msg = refused(&res, 404, "data_no_found");
        assert!(msg.contains("/nope"), "{method} {path}: {msg}");
        assert!(
            is_hex32(res.1["request_id"].as_str().unwrap_or("")),
            "{}",
            res.1
        );
    }
}

#[tokio::test]
async fn health_endpoints_answer_up() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/readyz"] {
        let (status, body) = app.call("GET", path, None, None).await;
        assert_eq!((status, body), (200, json!({"status": "UP"})), "{path}");
    }
}

/// Every native route, as `configure()` in crates/http/src/native/mod.rs registers them.
const NATIVE_ROUTES: &[(&str, &str)] = &[
    ("post", "/oauth2/token"),
    ("get", "/oauth2/sso/authorize"),
    ("get", "/oauth2/sso/callback"),
    ("get", "/oauth2/sso/provider"),
    ("put", "/oauth2/sso/provider"),
    ("delete", "/oauth2/sso/provider"),
    ("post", "/user/register"),
    ("get", "/user/status"),
    ("get", "/user"),
    ("put", "/user/password"),
    ("post", "/user/members/search"),
    ("post", "/user/members"),
    ("put", "/user/members/{user_id}"),
    ("put", "/user/members/{user_id}/change-password"),
    ("delete", "/user/members/{user_id}"),
    ("post", "/user/batch-delete"),
    ("get", "/user/members/{user_id}/menus"),
    ("post", "/user/members/{user_id}/permission"),
    ("post", "/user/roles/search"),
    ("post", "/user/roles"),
    ("put", "/user/roles/{role_id}"),
    ("delete", "/user/roles/{role_id}"),
    ("get", "/user/roles/{role_id}/members"),
    ("post", "/user/roles/{role_id}/members"),
    ("post", "/user/roles/{role_id}/undistributed-users"),
    ("get", "/user/roles/{role_id}/menus"),
    ("post", "/user/roles/{role_id}/resources"),
    ("post", "/user/roles/{role_id}/associate-user"),
    ("post", "/user/roles/{role_id}/disassociate-user"),
    ("post", "/user/roles/{role_id}/associate-menu"),
    ("post", "/user/roles/{role_id}/disassociate-menu"),
    ("post", "/user/roles/{role_id}/associate-resource"),
    ("post", "/user/roles/{role_id}/disassociate-resource"),
    ("get", "/user/menus"),
    ("post", "/user/menus"),
    ("put", "/user/menus/{menu_id}"),
    ("delete", "/user/menus/{menu_id}"),
    ("post", "/integration/search"),
    ("get", "/integration/{integration_id}"),
    ("post", "/device"),
    ("post", "/device/search"),
    ("put", "/device/{device_id}"),
    ("get", "/device/{device_id}"),
    ("post", "/device/batch-delete"),
    ("post", "/device/report"),
    ("post", "/device/{device_id}/token"),
    ("post", "/entity/search"),
    ("get", "/entity/export"),
    ("post", "/user/roles/{role_id}/integrations"),
    ("post", "/user/roles/{role_id}/undistributed-integrations"),
    ("post", "/user/roles/{role_id}/devices"),
    ("post", "/user/roles/{role_id}/undistributed-devices"),
    ("post", "/user/roles/{role_id}/dashboards"),
    ("post", "/user/roles/{role_id}/undistributed-dashboards"),
    ("get", "/dashboard/dashboards"),
    ("post", "/dashboard"),
    ("put", "/dashboard/{dashboard_id}"),
    ("delete", "/dashboard/{dashboard_id}"),
    ("post", "/dashboard/{dashboard_id}/widget"),
    ("put", "/dashboard/{dashboard_id}/widget/{widget_id}"),
    ("delete", "/dashboard/{dashboard_id}/widget/{widget_id}"),
    ("post", "/entity"),
    ("put", "/entity/{entity_id}"),
    ("post", "/entity/delete"),
    ("post", "/entity/batch-get-status"),
    ("post", "/entity/history/search"),
    ("post", "/entity/history/aggregate"),
    ("post", "/entity/property/update"),
    ("post", "/entity/service/call"),
    ("get", "/entity/{entity_id}/children"),
    ("get", "/entity/{entity_id}/meta"),
    ("post", "/entity/form"),
    ("get", "/entity/{entity_id}/status"),
    ("get", "/websocket"),
    ("get", "/mqtt/broker-info"),
    ("post", "/workflow/flows/search"),
    ("put", "/workflow/flows/{flow_id}"),
    ("post", "/workflow/flows/batch-delete"),
    ("get", "/workflow/flows/{flow_id}/enable"),
    ("get", "/workflow/flows/{flow_id}/disable"),
    ("post", "/workflow/flows/design"),
    ("get", "/workflow/flows/{flow_id}/design"),
    ("post", "/workflow/flows/design/validate"),
    ("get", "/workflow/components"),
    ("get", "/workflow/components/languages"),
    ("get", "/workflow/components/{component_id}"),
    ("get", "/workflow/flows/{flow_id}/export"),
    ("post", "/workflow/flows/import"),
    ("post", "/workflow/flows/design/test"),
    ("post", "/workflow/flows/node/test"),
    ("post", "/workflow/flows/{flow_id}/trigger"),
    ("post", "/workflow/flows/{flow_id}/http-credential"),
    ("post", "/workflow/flows/{flow_id}/logs/search"),
    ("get", "/workflow/flows/logs/{log_id}"),
];

/// Every Wyn route, as `configure()` in crates/http/src/wyn/mod.rs registers them.
const WYN_ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v2/identity/roles"),
    ("post", "/api/v2/identity/roles"),
    ("get", "/api/v2/identity/roles/non-org-roles"),
    ("get", "/api/v2/identity/roles/me/non-org-roles"),
    ("post", "/api/v2/identity/roles/import"),
    ("get", "/api/v2/identity/roles/{id}"),
    ("delete", "/api/v2/identity/roles/{id}"),
    ("get", "/api/v2/identity/roles/{id}/users"),
    ("post", "/api/v2/identity/roles/{id}/users"),
    ("put", "/api/v2/identity/roles/{id}/users"),
    ("delete", "/api/v2/identity/roles/{id}/users/{userId}"),
    ("get", "/api/v2/identity/roles/{id}/permissions"),
    ("post", "/api/v2/identity/roles/{id}/permissions"),
];

/// Every ThingsKit route, as `configure()` in crates/http/src/thingskit/mod.rs registers them.
const THINGSKIT_ROUTES: &[(&str, &str)] = &[
    ("post", "/api/yt/role/save_with_menu"),
    ("put", "/api/yt/role/update_status/{roleId}/{status}"),
    ("delete", "/api/yt/role"),
    ("get", "/api/yt/role"),
];

#[tokio::test]
async fn openapi_lists_every_native_route_under_api_v1() {
    let app = TestApp::spawn().await;
    let (status, doc) = app.call("GET", "/openapi.json", None, None).await;
    assert_eq!(status, 200);
    let paths = &doc["paths"];
    let documented: usize = paths
        .as_object()
        .unwrap()
        .iter()
        .filter(|(path, _)| path.starts_with("/api/v1/"))
        .map(|(_, ops)| ops.as_object().unwrap().len())
        .sum();
    assert_eq!(
        documented,
        NATIVE_ROUTES.len(),
        "the document and this list must name the same operations"
    );
    for (method, path) in NATIVE_ROUTES {
        let op = &paths[format!("/api/v1{path}")][method];
        assert!(op.is_object(), "missing {method} /api/v1{path}");
        // The WebSocket's handshake answers 101 Switching Protocols; the single sign-on
        // start redirects to the provider.
        let success = match *path {
            "/websocket" => "101",
            "/oauth2/sso/authorize" => "302",
            _ => "200",
        };
        assert!(
            op["responses"][success].is_object(),
            "{method} {path}: {op}"
        );
    }
    for path in ["/healthz", "/readyz", "/metrics"] {
        assert!(paths[path]["get"].is_object(), "missing {path}");
    }
    assert!(paths["/workflow-http-in/{path}"]["post"].is_object());
    // One path per Smartbi action (smartbi_dialect.rs checks them).
    let smartbi = paths
        .as_object()
        .unwrap()
        .keys()
        .filter(|p| p.starts_with("/smartbi/vision/api/"))
        .count();
    assert!(paths["/smartbi/vision/api/system/whoami"]["post"].is_object());
    for (method, path) in WYN_ROUTES {
        assert!(paths[*path][*method].is_object(), "missing {method} {path}");
    }
    let wyn: std::collections::HashSet<&str> = WYN_ROUTES.iter().map(|(_, p)| *p).collect();
    for (method, path) in THINGSKIT_ROUTES {
        assert!(paths[*path][*method].is_object(), "missing {method} {path}");
    }
    let thingskit: std::collections::HashSet<&str> =
        THINGSKIT_ROUTES.iter().map(|(_, p)| *p).collect();
    // Only the prefixed form is listed.
    assert!(paths.get("/user").is_none());
    let listed = paths.as_object().expect("paths").len();
    let distinct: std::collections::HashSet<&str> = NATIVE_ROUTES.iter().map(|(_, p)| *p).collect();
    assert_eq!(
        listed,
        // healthz, readyz, metrics and the http-in endpoint.
        distinct.len() + 4 + smartbi + wyn.len() + thingskit.len(),
        "{:?}",
        paths.as_object().map(|p| p.keys().collect::<Vec<_>>())
    );
}

/// What a fuzzer reads from the document (docs/fuzzing.md): every write declares its body,
/// every path parameter its type (ids their pattern), and every reference resolves.
#[tokio::test]
async fn openapi_declares_every_body_and_types_every_path_parameter() {
    let app = TestApp::spawn().await;
    let (status, doc) = app.call("GET", "/openapi.json", None, None).await;
    assert_eq!(status, 200);
    let mut writes = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let at = format!("{method} {path}");
            if matches!(method.as_str(), "post" | "put" | "patch") {
                writes += 1;
                let content = op["requestBody"]["content"].as_object();
                assert!(
                    content.is_some_and(|c| !c.is_empty()),
                    "{at}: no request body"
                );
                for (media, body) in content.unwrap() {
                    assert!(body["schema"].is_object(), "{at} {media}: no schema");
                }
            }
            let params = op["parameters"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            for name in path_segments(path) {
                let p = params
                    .iter()
                    .find(|p| p["in"] == "path" && p["name"] == name)
                    .unwrap_or_else(|| panic!("{at}: {{{name}}} is not declared"));
                let schema = &p["schema"];
                assert!(
                    schema["type"].is_string(),
                    "{at}: {{{name}}} has no type: {p}"
                );
                let an_id = name == "id" || name.ends_with("_id") || name.ends_with("Id");
                // A widget's id is any short text the dashboard's update gave it.
                let free = ["integration_id", "component_id", "widget_id"];
                if an_id && !free.contains(&name) {
                    assert_eq!(schema["pattern"], "^[1-9][0-9]{0,18}$", "{at}: {p}");
                }
            }
        }
    }
    assert!(writes >= 100, "{writes} writes");
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"").skip(1) {
        let name = reference
            .split('"')
            .next()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .unwrap_or_else(|| panic!("unexpected reference {reference}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "#/components/schemas/{name} does not resolve"
        );
    }
    let component = &doc["paths"]["/api/v1/workflow/components/{component_id}"]["get"];
    let names = &component["parameters"][0]["schema"]["enum"];
    assert!(
        names
            .as_array()
            .is_some_and(|n| n.contains(&json!("httpIn"))),
        "{component}"
    );
}

/// The `{name}`s of a path template.
fn path_segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('{').skip(1).filter_map(|s| s.split('}').next())
}

#[tokio::test]
async fn docs_serve_swagger_ui() {
    let app = TestApp::spawn().await;
    let res = send(&app, "GET", "/docs/", &[]).await;
    assert_eq!(res.status(), 200);
    assert!(header(&res, "content-type").is_some_and(|c| c.starts_with("text/html")));
    let html = res.text().await.expect("text");
    assert!(html.to_lowercase().contains("swagger"), "{html}");
}

#[tokio::test]
async fn docs_without_its_slash_redirects_to_swagger_ui() {
    let app = TestApp::spawn().await;
    for method in ["GET", "HEAD"] {
        let res = send(&app, method, "/docs", &[]).await;
        assert_eq!(res.status(), 308, "{method}");
        assert_eq!(header(&res, "location"), Some("/docs/"), "{method}");
    }
}

const CONSOLE: &str = "http://console.test";

/// A CORS preflight for a POST that sends a token and a language.
async fn preflight(app: &TestApp, origin: &str) -> Response {
    let headers = [
        ("Origin", origin),
        ("Access-Control-Request-Method", "POST"),
        (
            "Access-Control-Request-Headers",
            "authorization,accept-language",
        ),
    ];
    send(app, "OPTIONS", "/api/v1/user/roles", &headers).await
}

#[tokio::test]
async fn cors_allows_the_configured_origin() {
    let app = TestApp::spawn_with(|s| s.http.cors_origins = vec![CONSOLE.into()]).await;
    let res = preflight(&app, CONSOLE).await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(header(&res, "access-control-allow-origin"), Some(CONSOLE));
    assert_eq!(
        header(&res, "access-control-allow-credentials"),
        Some("true")
    );
    let methods = header(&res, "access-control-allow-methods")
        .unwrap_or("")
        .to_owned();
    assert!(methods.contains("POST"), "{methods}");
    let allowed = header(&res, "access-control-allow-headers")
        .unwrap_or("")
        .to_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("accept-language"),
        "{allowed}"
    );
    // The actual request is allowed too.
    let res = send(&app, "GET", "/user/status", &[("Origin", CONSOLE)]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "access-control-allow-origin"), Some(CONSOLE));
}

#[tokio::test]
async fn cors_ignores_other_origins() {
    let app = TestApp::spawn_with(|s| s.http.cors_origins = vec![CONSOLE.into()]).await;
    let res = preflight(&app, "http://evil.test").await;
    assert_eq!(header(&res, "access-control-allow-origin"), None);
    let res = send(
        &app,
        "GET",
        "/user/status",
        &[("Origin", "http://evil.test")],
    )
    .await;
    assert_eq!(header(&res, "access-control-allow-origin"), None);
}

/// A server whose `static_dir` holds an `index.html` saying "console".
async fn with_console() -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("index.html"), "<html>the console</html>").expect("write");
    let root = dir.path().to_owned();
    let app = TestApp::spawn_with(move |s| s.http.static_dir = Some(root)).await;
    (app, dir)
}

#[tokio::test]
async fn static_console_serves_index_html_for_client_routes() {
    let (app, _dir) = with_console().await;
    for path in ["/", "/some/client/route"] {
        let res = send(&app, "GET", path, &[]).await;
        assert_eq!(res.status(), 200, "{path}");
        assert!(
            res.text().await.expect("text").contains("console"),
            "{path}"
        );
    }
    let status = ok(&app.call("GET", "/user/status", None, None).await).clone();
    assert_eq!(status["init"], false);
}

#[tokio::test]

async fn static_console_keeps_the_json_404_for_api_paths() {
    let (app, _dir) = with_console().await;
    for path in ["/api/v1/nope", "/user/nope", "/api/v1/user/roles/1/nope"] {
        let msg = refused(
            &app.call("GET", path, None, None).await,
            404,
            "data_no_found",
        );
        assert!(msg.contains("nope"), "{path}: {msg}");
    }
}

#[tokio::test]

async fn static_console_answers_json_404_for_other_methods() {
    let (app, _dir) = with_console().await;
    refused(
        &app.call("POST", "/nope", None, Some(json!({}))).await,
        404,
        "data_no_found",
    );
}
