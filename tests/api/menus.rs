//! `/user/menus...`: the tenant's menu and function-code tree.

use serde_json::{Value, json};
use weir_test_kit::{Session, TestApp};

use crate::support::{
    Answer, UNKNOWN_ID, invalid, link, new_role, ok, on_role, pluck, refused, setup,
    setup_with_user,
};

async fn tree(app: &TestApp, admin: &Session) -> Value {
    ok(&app.call("GET", "/user/menus", Some(admin), None).await).clone()
}

/// The node with this code, anywhere in the tree.
fn find(nodes: &Value, code: &str) -> Option<Value> {
    nodes.as_array()?.iter().find_map(|n| {
        if n["code"] == code {
            Some(n.clone())
        } else {
            find(&n["children"], code)
        }
    })
}

/// Every node of the tree, depth first.
fn flatten(nodes: &Value) -> Vec<Value> {
    nodes
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|n| std::iter::once(n.clone()).chain(flatten(&n["children"])))
        .collect()
}

async fn post_menu(app: &TestApp, admin: &Session, body: Value) -> Answer {
    app.call("POST", "/user/menus", Some(admin), Some(body))
        .await
}

async fn new_menu(app: &TestApp, admin: &Session, body: Value) -> String {
    ok(&post_menu(app, admin, body).await)["menu_id"]
        .as_str()
        .expect("menu_id")
        .to_owned()
}

/// A custom `reports` MENU with a `reports.daily` FUNCTION under it; their ids.
async fn reports(app: &TestApp, admin: &Session) -> (String, String) {
    let parent = new_menu(
        app,
        admin,
        json!({"code": "reports", "name": "Reports", "type": "MENU"}),
    )
    .await;
    let child = new_menu(
        app,
        admin,
        json!({"code": "reports.daily", "name": "Daily", "type": "FUNCTION", "parent_id": parent}),
    )
    .await;
    (parent, child)
}

// ---- GET /user/menus ----

#[tokio::test]
async fn menu_tree_has_the_seeded_menus() {
    let (app, admin) = setup().await;
    let tree = tree(&app, &admin).await;
    let roots = pluck(&tree, "code");
    for code in [
        "dashboard",
        "device",
        "entity",
        "workflow",
        "integration",
        "setting",
    ] {
        assert!(
            roots.iter().any(|c| c == code),
            "{code} not a root: {roots:?}"
        );
    }
    let device = find(&tree, "device").expect("device");
    assert_eq!(
        name_and_type(&tree, "device"),
        ("Device".into(), "MENU".into())
    );
    assert_eq!(
        pluck(&device["children"], "code"),
        ["device.view", "device.add", "device.edit", "device.delete"]
    );
    let view = &device["children"][0];
    assert_eq!(view["type"], "FUNCTION");
    assert_eq!(view["name"], "View devices");
    assert_eq!(view["parent_id"], device["menu_id"]);
    assert_eq!(view["children"], json!([]));
    let entity = find(&tree, "entity").expect("entity");
    assert_eq!(
        pluck(&entity["children"], "code"),
        ["entity_custom", "entity_data"]
    );
    assert_eq!(
        find(&tree, "setting").expect("setting")["children"][0]["code"],
        "user_role"
    );
    for node in flatten(&tree) {
        let id = node["menu_id"].as_str().unwrap_or_else(|| panic!("{node}"));
        assert!(id.parse::<i64>().is_ok(), "{node}");
        assert!(node["name"].is_string(), "{node}");
        assert!(
            ["MENU", "FUNCTION"].contains(&node["type"].as_str().unwrap_or("")),
            "{node}"
        );
        assert!(node["children"].is_array(), "{node}");
    }
}

/// The envelope decision: fields without a value are left out, not sent as null.
#[tokio::test]

async fn menu_tree_roots_leave_out_parent_id() {
    let (app, admin) = setup().await;
    let device = find(&tree(&app, &admin).await, "device").expect("device");
    assert!(device.get("parent_id").is_none(), "{device}");
}

// ---- POST /user/menus ----

#[tokio::test]
async fn create_menu_adds_a_root_and_a_child() {
    let (app, admin) = setup().await;
    let (parent, child) = reports(&app, &admin).await;
    let all = tree(&app, &admin).await;
    let node = find(&all, "reports").expect("reports");
    assert_eq!(node["menu_id"], parent);
    assert_eq!(
        name_and_type(&all, "reports"),
        ("Reports".into(), "MENU".into())
    );
    assert!(
        pluck(&all, "code").contains(&"reports".to_owned()),
        "not a root"
    );
    let daily = &node["children"][0];
    assert_eq!(daily["menu_id"], child);
    assert_eq!(daily["parent_id"], parent);
    assert_eq!(
        (&daily["code"], &daily["type"]),
        (&json!("reports.daily"), &json!("FUNCTION"))
    );
    // Under a seeded MENU too.
    let device = app.menu_id(&admin, "device").await;
    new_menu(
        &app,
        &admin,
        json!({"code": "device.export", "name": "Export devices", "type": "FUNCTION", "parent_id": device}),
    )
    .await;
    let device = find(&tree(&app, &admin).await, "device").expect("device");
    assert_eq!(
        pluck(&device["children"], "code")
            .last()
            .map(String::as_str),
        Some("device.export")
    );
}

#[tokio::test]
async fn create_menu_refuses_a_taken_code() {
    let (app, admin) = setup().await;
    reports(&app, &admin).await;
    let before = flatten(&tree(&app, &admin).await).len();
    for code in ["reports", "device.view"] {
        let body = json!({"code": code, "name": "Again", "type": "MENU"});
        let res = post_menu(&app, &admin, body).await;
        let msg = refused(&res, 400, "menu_code_exist");
        assert!(msg.contains(code), "{msg}");
    }
    let after = tree(&app, &admin).await;
    assert_eq!(flatten(&after).len(), before);
    assert_eq!(find(&after, "reports").expect("reports")["name"], "Reports");
}

#[tokio::test]
async fn create_menu_validates_its_fields() {
    let (app, admin) = setup().await;
    let before = flatten(&tree(&app, &admin).await).len();
    let function = app.menu_id(&admin, "device.view").await;
    let menu = |extra: Value| {
        let mut body = json!({"code": "reports", "name": "Reports", "type": "MENU"});
        for (k, v) in extra.as_object().expect("object") {
            body[k] = v.clone();
        }
        body
    };
    let cases = [
        (json!({"name": "Reports", "type": "MENU"}), "code"),
        (json!({"code": "reports", "type": "MENU"}), "name"),
        (json!({"code": "reports", "name": "Reports"}), "type"),
        (menu(json!({"type": "PAGE"})), "type"),
        (menu(json!({"type": "menu"})), "type"),
        (menu(json!({"code": "Bad Code"})), "code"),
        (menu(json!({"code": "reports/daily"})), "code"),
        (menu(json!({"code": "r".repeat(129)})), "code"),
        (menu(json!({"code": 5})), "code"),
        (menu(json!({"name": ""})), "name"),
        (menu(json!({"parent_id": function})), "parent_id"),
        (menu(json!({"parent_id": UNKNOWN_ID})), "parent_id"),
        (menu(json!({"parent_id": "abc"})), "parent_id"),
    ];
    for (body, field) in cases {
        invalid(&post_menu(&app, &admin, body).await, field);
    }
    assert_eq!(flatten(&tree(&app, &admin).await).len(), before);
}

// ---- PUT /user/menus/{id} ----

async fn put_menu(app: &TestApp, admin: &Session, id: &str, body: Value) -> Answer {
    let path = format!("/user/menus/{id}");
    app.call("PUT", &path, Some(admin), Some(body)).await
}

async fn delete_menu(app: &TestApp, admin: &Session, id: &str) -> Answer {
    let path = format!("/user/menus/{id}");
    app.call("DELETE", &path, Some(admin), None).await
}

/// The name and type of the node with this code.
fn name_and_type(tree: &Value, code: &str) -> (String, String) {
    let node = find(tree, code).unwrap_or_else(|| panic!("no {code}"));
    let text = |f: &str| node[f].as_str().unwrap_or_default().to_owned();
    (text("name"), text("type"))
}

fn named(name: &str, menu_type: &str) -> Value {
    json!({"name": name, "type": menu_type})
}

#[tokio::test]
async fn update_menu_renames_a_custom_menu() {
    let (app, admin) = setup().await;
    let (parent, child) = reports(&app, &admin).await;
    assert_eq!(
        ok(&put_menu(&app, &admin, &parent, named("Analytics", "MENU")).await),
        &json!({})
    );
    ok(&put_menu(&app, &admin, &child, named("Hourly", "MENU")).await);
    let tree = tree(&app, &admin).await;
    assert_eq!(
        name_and_type(&tree, "reports"),
        ("Analytics".into(), "MENU".into())
    );
    assert_eq!(
        name_and_type(&tree, "reports.daily"),
        ("Hourly".into(), "MENU".into())
    );
}

#[tokio::test]
async fn update_menu_refuses_built_in_menus() {
    let (app, admin) = setup().await;
    let id = app.menu_id(&admin, "device.view").await;
    let res = put_menu(&app, &admin, &id, named("Look", "FUNCTION")).await;
    refused(&res, 403, "menu_built_in");
    let after = name_and_type(&tree(&app, &admin).await, "device.view");
    assert_eq!(after, ("View devices".into(), "FUNCTION".into()));
}

#[tokio::test]
async fn update_menu_validates_input() {
    let (app, admin) = setup().await;
    let (parent, _) = reports(&app, &admin).await;
    for (body, field) in [
        (json!({"type": "MENU"}), "name"),
        (json!({"name": "X"}), "type"),
        (named("X", "PAGE"), "type"),
        (json!({"name": 1, "type": "MENU"}), "name"),
        // It has children, so it cannot become a FUNCTION.
        (named("X", "FUNCTION"), "parent_id"),
    ] {
        invalid(&put_menu(&app, &admin, &parent, body).await, field);
    }
    let after = name_and_type(&tree(&app, &admin).await, "reports");
    assert_eq!(after, ("Reports".into(), "MENU".into()));
    let res = put_menu(&app, &admin, UNKNOWN_ID, named("X", "MENU")).await;
    assert!(refused(&res, 404, "data_no_found").contains(UNKNOWN_ID));
    invalid(
        &put_menu(&app, &admin, "abc", named("X", "MENU")).await,
        "menu_id",
    );
}

// ---- DELETE /user/menus/{id} ----

#[tokio::test]
async fn delete_menu_removes_a_custom_menu() {
    let (app, admin) = setup().await;
    let (parent, child) = reports(&app, &admin).await;
    assert_eq!(ok(&delete_menu(&app, &admin, &child).await), &json!({}));
    ok(&delete_menu(&app, &admin, &parent).await);
    let tree = tree(&app, &admin).await;
    assert!(find(&tree, "reports").is_none() && find(&tree, "reports.daily").is_none());
    refused(
        &delete_menu(&app, &admin, &parent).await,
        404,
        "data_no_found",
    );
}

#[tokio::test]
async fn delete_menu_refuses_built_in_menus_and_menus_with_children() {
    let (app, admin) = setup().await;
    let (parent, _) = reports(&app, &admin).await;
    refused(
        &delete_menu(&app, &admin, &parent).await,
        400,
        "menu_has_children",
    );
    for code in ["device.view", "user_role"] {
        let id = app.menu_id(&admin, code).await;
        refused(&delete_menu(&app, &admin, &id).await, 403, "menu_built_in");
    }
    let tree = tree(&app, &admin).await;
    let reports = find(&tree, "reports").expect("reports");
    assert_eq!(pluck(&reports["children"], "code"), ["reports.daily"]);
    assert!(find(&tree, "device.view").is_some() && find(&tree, "user_role").is_some());
}

#[tokio::test]
async fn delete_menu_refuses_unknown_and_non_numeric_ids() {
    let (app, admin) = setup().await;
    let res = delete_menu(&app, &admin, UNKNOWN_ID).await;
    assert!(refused(&res, 404, "data_no_found").contains(UNKNOWN_ID));
    invalid(&delete_menu(&app, &admin, "abc").await, "menu_id");
}

// ---- who may ----

#[tokio::test]
async fn menu_endpoints_are_for_the_super_admin_only() {
    let (app, admin, bob) = setup_with_user("bob@weir.test").await;
    let (parent, _) = reports(&app, &admin).await;
    let before = tree(&app, &admin).await;
    let item = format!("/user/menus/{parent}");
    let calls = [
        ("GET", "/user/menus", None),
        (
            "POST",
            "/user/menus",
            Some(json!({"code": "sneaky", "name": "Sneaky", "type": "MENU"})),
        ),
        (
            "PUT",
            item.as_str(),
            Some(json!({"name": "Sneaky", "type": "MENU"})),
        ),
        ("DELETE", item.as_str(), None),
    ];
    for (who, status, code) in [
        (None, 401, "authentication_failed"),
        (Some(&bob), 403, "forbidden_permission"),
    ] {
        for (method, path, body) in &calls {
            let res = app.call(method, path, who, body.clone()).await;
            assert_eq!(res.0, status, "{method} {path}: {}", res.1);
            refused(&res, status, code);
        }
    }
    assert_eq!(tree(&app, &admin).await, before);
}

#[tokio::test]
async fn deleting_a_granted_menu_takes_it_from_the_role() {
    let (app, admin, bob) = setup_with_user("bob@weir.test").await;
    let (_, child) = reports(&app, &admin).await;
    let role = new_role(&app, &admin, "analysts").await;
    link(&app, &admin, &role, "associate-menu", &[&child]).await;
    link(&app, &admin, &role, "associate-user", &[&bob.user_id]).await;
    let me = ok(&app.call("GET", "/user", Some(&bob), None).await).clone();
    assert_eq!(pluck(&me["menus"], "code"), ["reports.daily"]);
    ok(&delete_menu(&app, &admin, &child).await);
    let me = ok(&app.call("GET", "/user", Some(&bob), None).await).clone();
    assert_eq!(me["menus"], json!([]));
    assert_eq!(
        ok(&on_role(&app, &admin, "GET", &role, "/menus", None).await),
        &json!([])
    );
}
