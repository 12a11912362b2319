//! What Beaver IoT's own web console (v1.1.1) needs of Weir beyond the seed document: the
//! console served from `static_dir` (navigations, cache headers, compression) and the
//! forms its pages send (issue 14). See docs/console.md.

use std::io::Read;

use reqwest::Response;
use serde_json::{Value, json};
use weir_test_kit::{Session, TestApp};

use crate::support::{
    UNKNOWN_ID, forbidden, invalid, link, new_role, not_found, ok, password_grant, refused, setup,
    unauthenticated,
};

/// What a browser sends when it navigates.
const NAVIGATION: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const INDEX: &str = "<html>the console</html>";
const BUNDLE: &str = "console.log('the bundle');";

/// A server whose `static_dir` holds the console's `index.html` and one hashed bundle
/// under `assets/`, large enough to be worth compressing; with its admin signed in.
async fn with_console() -> (TestApp, Session, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("index.html"), INDEX).expect("write");
    std::fs::create_dir(dir.path().join("assets")).expect("mkdir");
    std::fs::write(
        dir.path().join("assets/index-1a2b3c.js"),
        BUNDLE.repeat(200),
    )
    .expect("write");
    let root = dir.path().to_owned();
    let app = TestApp::spawn_with(move |s| s.http.static_dir = Some(root)).await;
    let admin = app.register_admin().await;
    (app, admin, dir)
}

async fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut req = app.client().get(app.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("request sent")
}

fn header<'a>(res: &'a Response, name: &str) -> Option<&'a str> {
    res.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn json_of(res: Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.expect("json body"))
}

/// The console's client-side routes that share their first segment with the native API's
/// bare paths, and one that does not.
const CONSOLE_ROUTES: [&str; 10] = [
    "/dashboard",
    "/device",
    "/device/detail/123",
    "/entity",
    "/workflow",
    "/workflow/editor",
    "/integration",
    "/integration/detail/x",
    "/user-role",
    "/dashboard/dashboards",
];

#[tokio::test]
async fn a_navigation_to_a_console_route_answers_index_html() {
    let (app, _admin, _dir) = with_console().await;
    for path in CONSOLE_ROUTES {
        let res = get(&app, path, &[("Accept", NAVIGATION)]).await;
        assert_eq!(res.status(), 200, "{path}");
        assert!(
            header(&res, "content-type").is_some_and(|c| c.starts_with("text/html")),
            "{path}"
        );
        assert_eq!(header(&res, "cache-control"), Some("no-cache"), "{path}");
        assert_eq!(res.text().await.expect("text"), INDEX, "{path}");
    }
}

#[tokio::test]
async fn api_calls_of_the_bare_paths_keep_answering_json() {
    let (app, admin, _dir) = with_console().await;
    let bearer = format!("Bearer {}", admin.access_token);
    // With a token, even a client that accepts HTML is an API client.
    for accept in ["application/json, text/plain, */*", NAVIGATION] {
        let res = get(
            &app,
            "/dashboard/dashboards",
            &[("Accept", accept), ("Authorization", &bearer)],
        )
        .await;
        assert!(ok(&json_of(res).await).is_array(), "{accept}");
    }
    // Without HTML in Accept, a bare path is the API's: its JSON refusals as before.
    let res = get(&app, "/dashboard/dashboards", &[("Accept", "*/*")]).await;
    unauthenticated(&json_of(res).await, "");
    let res = get(&app, "/device/detail/123", &[]).await;
    refused(&json_of(res).await, 404, "data_no_found");
    // Under /api/ nothing is a navigation.
    let res = get(
        &app,
        "/api/v1/dashboard/dashboards",
        &[("Accept", NAVIGATION)],
    )
    .await;
    unauthenticated(&json_of(res).await, "");
    let res = get(&app, "/api/v1/nope", &[("Accept", NAVIGATION)]).await;
    let res_cache = header(&res, "cache-control").map(str::to_owned);
    refused(&json_of(res).await, 404, "data_no_found");
    assert_eq!(res_cache, None, "refusals are not cached");
}

#[tokio::test]
async fn without_a_console_a_navigation_is_an_api_call() {
    let app = TestApp::spawn().await;
    let res = get(&app, "/dashboard/dashboards", &[("Accept", NAVIGATION)]).await;
    unauthenticated(&json_of(res).await, "");
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_the_rest_revalidated() {
    let (app, _admin, _dir) = with_console().await;
    let res = get(&app, "/assets/index-1a2b3c.js", &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        header(&res, "cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert!(header(&res, "etag").is_some());
    for path in ["/", "/index.html", "/some/client/route"] {
        let res = get(&app, path, &[]).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(header(&res, "cache-control"), Some("no-cache"), "{path}");
        assert_eq!(res.text().await.expect("text"), INDEX, "{path}");
    }
}

#[tokio::test]
async fn console_files_are_compressed_for_clients_that_accept_it() {
    let (app, _admin, _dir) = with_console().await;
    let path = "/assets/index-1a2b3c.js";
    let res = get(&app, path, &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-encoding"), Some("gzip"));
    assert!(header(&res, "vary").is_some_and(|v| v.to_lowercase().contains("accept-encoding")));
    let raw = res.bytes().await.expect("body");
    assert!(raw.len() < BUNDLE.len() * 200, "{} bytes", raw.len());
    let mut text = String::new();
    flate2::read::GzDecoder::new(&raw[..])
        .read_to_string(&mut text)
        .expect("gzip");
    assert_eq!(text, BUNDLE.repeat(200));

    let res = get(&app, path, &[("Accept-Encoding", "br")]).await;
    assert_eq!(header(&res, "content-encoding"), Some("br"));

    let res = get(&app, path, &[]).await;
    assert_eq!(header(&res, "content-encoding"), None);
    assert_eq!(res.text().await.expect("text"), BUNDLE.repeat(200));

    // The navigation fallback too.
    let res = get(
        &app,
        "/device/detail/123",
        &[("Accept", NAVIGATION), ("Accept-Encoding", "gzip")],
    )
    .await;
    assert_eq!(header(&res, "content-encoding"), Some("gzip"));
}

// ---- Roles → Members: the paged POST form ----

/// A role holding alice, bob and carol.
async fn role_of_three(app: &TestApp, admin: &Session) -> (String, Vec<Session>) {
    let role = new_role(app, admin, "operators").await;
    let mut users = Vec::new();
    for email in ["alice@example.com", "bob@example.com", "carol@example.com"] {
        users.push(app.create_user(admin, email).await);
    }
    let ids: Vec<&String> = users.iter().map(|u| &u.user_id).collect();
    link(app, admin, &role, "associate-user", &ids).await;
    (role, users)
}

#[tokio::test]
async fn role_members_are_paged_as_the_console_asks() {
    let (app, admin) = setup().await;
    let (role, users) = role_of_three(&app, &admin).await;
    let path = format!("/api/v1/user/roles/{role}/members");
    let ask = |body: Value| app.call("POST", &path, Some(&admin), Some(body));

    let first = ask(json!({"keyword": "", "page_size": 2, "page_number": 1})).await;
    let page = ok(&first);
    assert_eq!(
        (&page["page_number"], &page["page_size"], &page["total"]),
        (&json!(1), &json!(2), &json!(3)),
        "{page}"
    );
    let rows = page["content"].as_array().expect("content");
    assert_eq!(rows.len(), 2, "{page}");
    for row in rows {
        assert_eq!(row["role_id"], role, "{row}");
        let user = users
            .iter()
            .find(|u| row["user_id"] == u.user_id)
            .unwrap_or_else(|| panic!("not a member: {row}"));
        assert_eq!(row["user_email"], user.email, "{row}");
        let nickname = user.email.split('@').next().expect("nickname");
        assert_eq!(row["user_nickname"], nickname, "{row}");
    }
    let second = ask(json!({"keyword": "", "page_size": 2, "page_number": 2})).await;
    let rest = &ok(&second)["content"];
    assert_eq!(rest.as_array().map(Vec::len), Some(1), "{rest}");
    assert!(!rows.contains(&rest[0]), "pages do not overlap");

    let found = ask(json!({"keyword": "BOB", "page_size": 10, "page_number": 1})).await;
    let page = ok(&found);
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["content"][0]["user_email"], "bob@example.com");
    // Defaults: the first page of 10.
    let all = ask(json!({})).await;
    assert_eq!(ok(&all)["content"].as_array().map(Vec::len), Some(3));
    // The seed's GET form still answers the plain list.
    let listed = app.call("GET", &path, Some(&admin), None).await;
    assert_eq!(ok(&listed).as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn role_members_page_is_for_the_super_admin_and_checks_its_input() {
    let (app, admin) = setup().await;
    let (role, users) = role_of_three(&app, &admin).await;
    let path = format!("/api/v1/user/roles/{role}/members");
    let body = json!({"keyword": "", "page_size": 10, "page_number": 1});
    forbidden(
        &app.call("POST", &path, Some(&users[0]), Some(body.clone()))
            .await,
    );
    unauthenticated(&app.call("POST", &path, None, Some(body.clone())).await, "");

    for (bad, field) in [
        (json!({"page_number": 0}), "page_number"),
        (json!({"page_size": 0}), "page_size"),
        (json!({"page_size": "ten"}), "page_size"),
        (
            json!({"sorts": [{"property": "email", "direction": "ASC"}]}),
            "sorts[0].property",
        ),
    ] {
        invalid(
            &app.call("POST", &path, Some(&admin), Some(bad)).await,
            field,
        );
    }
    invalid(
        &app.call(
            "POST",
            "/api/v1/user/roles/abc/members",
            Some(&admin),
            Some(body.clone()),
        )
        .await,
        "role_id",
    );
    not_found(
        &app.call(
            "POST",
            &format!("/api/v1/user/roles/{UNKNOWN_ID}/members"),
            Some(&admin),
            Some(body),
        )
        .await,
        UNKNOWN_ID,
    );
}

#[tokio::test]
async fn users_outside_a_role_are_paged_as_the_console_asks() {
    let (app, admin) = setup().await;
    let role = new_role(&app, &admin, "operators").await;
    let mut users = Vec::new();
    for email in ["alice@example.com", "bob@example.com", "carol@example.com"] {
        users.push(app.create_user(&admin, email).await);
    }
    link(&app, &admin, &role, "associate-user", &[&users[0].user_id]).await;
    let path = format!("/api/v1/user/roles/{role}/undistributed-users");
    let ask = |body: Value| app.call("POST", &path, Some(&admin), Some(body));

    // bob, carol and the admin are outside the role.
    let first = ask(json!({"keyword": "", "page_size": 2, "page_number": 1})).await;
    let page = ok(&first);
    assert_eq!(
        (&page["page_number"], &page["page_size"], &page["total"]),
        (&json!(1), &json!(2), &json!(3)),
        "{page}"
    );
    let rows = page["content"].as_array().expect("content");
    assert_eq!(rows.len(), 2, "{page}");
    let second = ask(json!({"keyword": "", "page_size": 2, "page_number": 2})).await;
    let rest = ok(&second)["content"].as_array().expect("content").clone();
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert!(!rows.contains(&rest[0]), "pages do not overlap");
    assert!(
        rows.iter()
            .chain(&rest)
            .all(|r| r["user_id"] != users[0].user_id),
        "alice is in the role"
    );

    let found = ask(json!({"keyword": "CAROL", "page_size": 10, "page_number": 1})).await;
    let page = ok(&found);
    assert_eq!(page["total"], 1, "{page}");
    let row = &page["content"][0];
    assert_eq!(
        (&row["user_id"], &row["email"], &row["nickname"]),
        (
            &json!(users[2].user_id),
            &json!("carol@example.com"),
            &json!("carol")
        ),
        "{row}"
    );
    // The seed's form still answers the plain list.
    let listed = ask(json!({"keyword": "carol"})).await;
    assert_eq!(
        ok(&listed).as_array().map(Vec::len),
        Some(1),
        "{:?}",
        listed.1
    );
    let listed = ask(json!({})).await;
    assert_eq!(
        ok(&listed).as_array().map(Vec::len),
        Some(3),
        "{:?}",
        listed.1
    );
}

// ---- the entity history popup: no time range ----

/// A custom LONG property `system.integration.level` written twice; its id.
async fn custom_level(app: &TestApp, admin: &Session) -> String {
    let created = app
        .call(
            "POST",
            "/api/v1/entity",
            Some(admin),
            Some(
                json!({"name": "Level", "identifier": "level", "type": "PROPERTY",
                "access_mod": "RW", "value_type": "LONG", "value_attribute": {}}),
            ),
        )
        .await;
    let id = ok(&created)["entity_id"]
        .as_str()
        .expect("entity_id")
        .to_owned();
    for value in [5, 6] {
        let written = app
            .call(
                "POST",
                "/api/v1/entity/property/update",
                Some(admin),
                Some(json!({"exchange": {"system.integration.level": value}})),
            )
            .await;
        ok(&written);
        // Values are kept one per millisecond.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    id
}

#[tokio::test]
async fn history_without_a_time_range_is_all_of_it_newest_first() {
    let (app, admin) = setup().await;
    let id = custom_level(&app, &admin).await;
    let search = |body: Value| {
        app.call(
            "POST",
            "/api/v1/entity/history/search",
            Some(&admin),
            Some(body),
        )
    };
    let all = search(json!({"entity_id": id, "page_size": 10, "page_number": 1})).await;
    let page = ok(&all);
    assert_eq!(page["total"], 2, "{page}");
    assert_eq!(page["content"][0]["value"], 6, "{page}");
    assert_eq!(page["content"][1]["value"], 5, "{page}");
    assert_eq!(page["content"][0]["value_type"], "LONG", "{page}");
    let newest = page["content"][0]["timestamp"].as_i64().expect("timestamp");
    assert!(newest > 1_700_000_000_000, "epoch ms: {newest}");

    // Either end alone.
    let since = search(json!({"entity_id": id, "start_timestamp": newest})).await;
    assert_eq!(ok(&since)["total"], 1);
    let until = search(json!({"entity_id": id, "end_timestamp": newest - 1})).await;
    assert_eq!(ok(&until)["content"][0]["value"], 5);
    let none = search(json!({"entity_id": id, "start_timestamp": null, "end_timestamp": 0})).await;
    assert_eq!(ok(&none)["total"], 0);
}

#[tokio::test]
async fn history_without_a_time_range_keeps_its_checks() {
    let (app, admin) = setup().await;
    let id = custom_level(&app, &admin).await;
    let body = json!({"entity_id": id});
    let plain = app.create_user(&admin, "plain@example.com").await;
    forbidden(
        &app.call(
            "POST",
            "/api/v1/entity/history/search",
            Some(&plain),
            Some(body),
        )
        .await,
    );
    for (bad, field) in [
        (json!({}), "entity_id"),
        (
            json!({"entity_id": id, "start_timestamp": "yesterday"}),
            "start_timestamp",
        ),
        (
            json!({"entity_id": id, "start_timestamp": 10, "end_timestamp": 0}),
            "start_timestamp",
        ),
        (json!({"entity_id": id, "page_number": 0}), "page_number"),
    ] {
        invalid(
            &app.call(
                "POST",
                "/api/v1/entity/history/search",
                Some(&admin),
                Some(bad),
            )
            .await,
            field,
        );
    }
}

// ---- adding a dashboard widget ----

async fn widgets_of(app: &TestApp, who: &Session, dashboard: &str) -> Vec<Value> {
    let listed = app
        .call("GET", "/api/v1/dashboard/dashboards", Some(who), None)
        .await;
    let all = ok(&listed).as_array().expect("dashboards").clone();
    let d = all
        .into_iter()
        .find(|d| d["dashboard_id"] == dashboard)
        .expect("the dashboard");
    d["widgets"].as_array().expect("widgets").clone()
}

async fn new_dashboard(app: &TestApp, who: &Session) -> String {
    let created = app
        .call(
            "POST",
            "/api/v1/dashboard",
            Some(who),
            Some(json!({"name": "Plant"})),
        )
        .await;
    ok(&created)["dashboard_id"]
        .as_str()
        .expect("dashboard_id")
        .to_owned()
}

#[tokio::test]
async fn new_widgets_without_an_id_are_given_one() {
    let (app, admin) = setup().await;
    let dashboard = new_dashboard(&app, &admin).await;
    let path = format!("/api/v1/dashboard/{dashboard}");
    let line =
        json!({"type": "line", "config": {"title": "T"}, "pos": {"i": "1733500000000", "w": 2}});
    // As the console sends them: a kept widget, and new ones with only its temporary id.
    let update = json!({"dashboard_id": dashboard, "name": "Plant", "widgets": [
        {"widget_id": "w1", "data": {"type": "text"}},
        {"tempId": "1733500000000", "data": line},
        {"widget_id": null, "tempId": 1733500000001_i64, "data": {}},
    ]});
    ok(&app.call("PUT", &path, Some(&admin), Some(update)).await);
    let widgets = widgets_of(&app, &admin, &dashboard).await;
    assert_eq!(widgets.len(), 3, "{widgets:?}");
    assert_eq!(
        widgets[0],
        json!({"widget_id": "w1", "data": {"type": "text"}})
    );
    assert_eq!(widgets[1]["data"], line, "data kept as given");
    assert_eq!(widgets[2]["data"], json!({}));
    let new_ids: Vec<&str> = widgets[1..]
        .iter()
        .map(|w| w["widget_id"].as_str().expect("widget_id"))
        .collect();
    assert!(
        new_ids.iter().all(|id| !id.is_empty() && *id != "w1"),
        "{new_ids:?}"
    );
    assert_ne!(new_ids[0], new_ids[1]);
    assert!(
        widgets.iter().all(|w| w.get("tempId").is_none()),
        "{widgets:?}"
    );

    // Saved again as listed, the ids stay.
    let again = json!({"name": "Plant", "widgets": widgets});
    ok(&app.call("PUT", &path, Some(&admin), Some(again)).await);
    assert_eq!(widgets_of(&app, &admin, &dashboard).await, widgets);
}

#[tokio::test]
async fn new_widgets_keep_the_dashboard_checks() {
    let (app, admin) = setup().await;
    let dashboard = new_dashboard(&app, &admin).await;
    let path = format!("/api/v1/dashboard/{dashboard}");
    let viewer = app.create_user(&admin, "viewer@example.com").await;
    let one_new = json!({"name": "Plant", "widgets": [{"tempId": "1", "data": {}}]});
    forbidden(&app.call("PUT", &path, Some(&viewer), Some(one_new)).await);
    for (bad, field) in [
        (
            json!({"name": "Plant", "widgets": [{"tempId": "1"}]}),
            "data",
        ),
        (
            json!({"name": "Plant", "widgets": [{"tempId": "1", "data": 5}]}),
            "data",
        ),
        (
            json!({"name": "Plant", "widgets": [{"widget_id": "", "data": {}}]}),
            "widgets[0].widget_id",
        ),
        (
            json!({"name": "Plant", "widgets": [{"data": {}}, {"widget_id": 7, "data": {}}]}),
            "widget_id",
        ),
    ] {
        invalid(
            &app.call("PUT", &path, Some(&admin), Some(bad)).await,
            field,
        );
    }
    assert!(widgets_of(&app, &admin, &dashboard).await.is_empty());
}

// ---- adding a device: parameters by their full key ----

const ADD_DEVICE: &str = "http-device.integration.add_device";

async fn add_device(app: &TestApp, who: &Session, params: Value) -> (u16, Value) {
    app.call(
        "POST",
        "/api/v1/device",
        Some(who),
        Some(json!({"name": "Pump", "integration": "http-device", "param_entities": params})),
    )
    .await
}

#[tokio::test]
async fn add_device_parameters_may_be_named_by_their_full_key() {
    let (app, admin) = setup().await;
    for (params, identifier) in [
        (
            json!({ format!("{ADD_DEVICE}.identifier"): "pump-1" }),
            "pump-1",
        ),
        (json!({"identifier": "pump-2"}), "pump-2"),
    ] {
        let added = add_device(&app, &admin, params).await;
        let id = ok(&added)["device_id"]
            .as_str()
            .expect("device_id")
            .to_owned();
        let detail = app
            .call("GET", &format!("/api/v1/device/{id}"), Some(&admin), None)
            .await;
        let d = ok(&detail);
        assert_eq!(d["identifier"], identifier, "{d}");
        assert_eq!(d["integration"], "http-device", "{d}");
    }
}

#[tokio::test]
async fn add_device_parameters_by_full_key_keep_their_checks() {
    let (app, admin) = setup().await;
    let plain = app.create_user(&admin, "plain@example.com").await;
    let full = format!("{ADD_DEVICE}.identifier");
    forbidden(&add_device(&app, &plain, json!({ full.clone(): "pump-1" })).await);
    for (params, field) in [
        (
            json!({ full.clone(): "pump-1", "identifier": "pump-1" }),
            "param_entities.identifier",
        ),
        (
            json!({ format!("{ADD_DEVICE}.colour"): "red" }),
            "param_entities.http-device.integration.add_device.colour",
        ),
        (
            json!({"http-device.integration.delete_device.identifier": "pump-1"}),
            "param_entities.http-device.integration.delete_device.identifier",
        ),
        (json!({}), "param_entities.identifier"),
    ] {
        let (status, body) = add_device(&app, &admin, params).await;
        assert_eq!(status, 400, "{body}");
        let message = body["error_message"].as_str().unwrap_or_default();
        assert!(message.contains(field), "`{field}` not in {body}");
    }
}

// ---- the Custom Entity tab ----

#[tokio::test]
async fn entity_search_filters_custom_entities_and_shows_when_they_were_created() {
    let (app, admin) = setup().await;
    let before = weir_now();
    custom_level(&app, &admin).await;
    let added = add_device(&app, &admin, json!({"identifier": "pump-1"})).await;
    ok(&added);
    let search = |body: Value| app.call("POST", "/api/v1/entity/search", Some(&admin), Some(body));

    let custom = search(json!({"customized": true, "page_size": 100, "page_number": 1})).await;
    let page = ok(&custom);
    assert_eq!(page["total"], 1, "{page}");
    let row = &page["content"][0];
    assert_eq!(row["entity_key"], "system.integration.level", "{row}");
    let created = row["entity_created_at"]
        .as_i64()
        .expect("entity_created_at");
    assert!(
        created >= before && created <= weir_now(),
        "epoch ms: {created}"
    );

    let others = search(json!({"customized": false, "page_size": 100})).await;
    let page = ok(&others);
    let keys: Vec<&str> = page["content"]
        .as_array()
        .expect("content")
        .iter()
        .map(|r| r["entity_key"].as_str().unwrap_or_default())
        .collect();
    assert!(
        !keys.is_empty() && !keys.contains(&"system.integration.level"),
        "{keys:?}"
    );
    assert!(
        page["content"]
            .as_array()
            .expect("content")
            .iter()
            .all(|r| r["entity_created_at"].is_i64()),
        "{page}"
    );
    let all = search(json!({"page_size": 100})).await;
    assert_eq!(
        ok(&all)["total"],
        page["total"].as_i64().expect("total") + 1
    );

    invalid(&search(json!({"customized": "yes"})).await, "customized");
    let plain = app.create_user(&admin, "plain@example.com").await;
    forbidden(
        &app.call(
            "POST",
            "/api/v1/entity/search",
            Some(&plain),
            Some(json!({"customized": true})),
        )
        .await,
    );
}

fn weir_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

// ---- the OpenAPI document ----

#[tokio::test]
async fn the_openapi_document_shows_the_console_forms() {
    let app = TestApp::spawn().await;
    let (status, doc) = app.call("GET", "/openapi.json", None, None).await;
    assert_eq!(status, 200);
    let members = &doc["paths"]["/api/v1/user/roles/{role_id}/members"];
    assert!(members["get"].is_object(), "the seed's form stays");
    let post = &members["post"];
    assert!(post["responses"]["200"].is_object(), "{post}");
    assert!(post["requestBody"].is_object(), "{post}");
    let schemas = &doc["components"]["schemas"];
    // The role lists take the paging fields and answer either the list or the page.
    assert!(schemas["ListRequest"]["properties"]["page_size"].is_object());
    assert!(schemas["ListRequest"]["properties"]["page_number"].is_object());
    assert!(schemas["FlowSearch"]["properties"]["status"].is_object());
    for what in [
        "undistributed-users",
        "integrations",
        "undistributed-integrations",
        "devices",
        "undistributed-devices",
        "dashboards",
        "undistributed-dashboards",
    ] {
        let post = &doc["paths"][format!("/api/v1/user/roles/{{role_id}}/{what}")]["post"];
        let request = post["requestBody"]["content"]["application/json"]["schema"].to_string();
        assert!(request.contains("ListRequest"), "{what}: {request}");
        let answer = post["responses"]["200"]["content"]["application/json"]["schema"].to_string();
        let forms = answer_forms(&doc, &answer);
        assert!(forms.contains("\"type\":\"array\""), "{what}: {forms}");
        assert!(forms.contains("page_number"), "{what}: {forms}");
    }
    let required = |schema: &str| -> Vec<String> {
        schemas[schema]["required"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|f| f.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(required("HistoryRequest"), ["entity_id"]);
    assert_eq!(required("WidgetUpdateDto"), ["data"]);
    assert!(schemas["EntitySearch"]["properties"]["customized"].is_object());
    assert!(required("EntityRowDto").contains(&"entity_created_at".to_owned()));
}

/// The schema text of an answer with the component schemas it names spelled out, two
/// levels deep (the envelope, then its `data`).
fn answer_forms(doc: &Value, schema: &str) -> String {
    let mut text = schema.to_owned();
    for _ in 0..2 {
        let mut more = String::new();
        for part in text.split("#/components/schemas/").skip(1) {
            let name = part.split('"').next().unwrap_or_default();
            more.push_str(&doc["components"]["schemas"][name].to_string());
        }
        text.push_str(&more);
    }
    text
}

// ---- the README's example credentials ----

/// The console's password rule (v1.1.1, `passwordChecker`): 8 to 63 printable ASCII
/// characters but space, with an upper-case letter, a lower-case letter and a digit.
fn console_accepts(password: &str) -> bool {
    (8..=63).contains(&password.len())
        && password.bytes().all(|b| (0x21..=0x7e).contains(&b))
        && password.bytes().any(|b| b.is_ascii_uppercase())
        && password.bytes().any(|b| b.is_ascii_lowercase())
        && password.bytes().any(|b| b.is_ascii_digit())
}

/// Every password the README's walk-through uses, in order of appearance.
fn readme_passwords() -> Vec<String> {
    let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"));
    let mut found = Vec::new();
    for line in readme.lines() {
        for marker in ["\"password\":\"", "-d password="] {
            if let Some(at) = line.find(marker) {
                let rest = &line[at + marker.len()..];
                let end = rest.find(['"', ' ']).unwrap_or(rest.len());
                found.push(rest[..end].to_owned());
            }
        }
    }
    found
}

#[tokio::test]
async fn the_readme_credentials_pass_the_console_and_sign_in() {
    let passwords = readme_passwords();
    assert!(passwords.len() >= 4, "{passwords:?}");
    for p in &passwords {
        assert!(console_accepts(p), "the console refuses {p}");
    }
    assert!(
        !console_accepts("admin-password"),
        "the rule as the console has it"
    );
    // Step 1 and 2 of the README.
    let app = TestApp::spawn().await;
    let registered = app
        .call(
            "POST",
            "/api/v1/user/register",
            None,
            Some(json!({"email": "admin@example.com", "nickname": "Admin", "password": passwords[0]})),
        )
        .await;
    ok(&registered);
    let token = password_grant(&app, "admin@example.com", &passwords[0]).await;
    assert!(ok(&token)["access_token"].is_string());
}
