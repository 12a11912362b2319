//! `/user/roles...`: roles, their members, and the menus and resources they grant.

use serde_json::{Value, json};
use weir_test_kit::{Session, TestApp};

use crate::support::{
    Answer, UNKNOWN_ID, all_roles, invalid, link, member_ids, new_role, ok, on_role, pluck,
    refused, role_action, row_with, search_roles, setup, setup_with_user, super_admin_role,
};

/// `POST /user/roles` as `who`.
async fn post_role(app: &TestApp, who: &Session, body: Value) -> Answer {
    app.call("POST", "/user/roles", Some(who), Some(body)).await
}

/// A server with its admin signed in and a new role `operators`; the role's id.
async fn setup_with_role() -> (TestApp, Session, String) {
    let (app, admin) = setup().await;
    let id = new_role(&app, &admin, "operators").await;
    (app, admin, id)
}

/// A new role `operators` with these members; its id.
async fn operators_with(app: &TestApp, admin: &Session, members: &[&String]) -> String {
    let id = new_role(app, admin, "operators").await;
    link(app, admin, &id, "associate-user", members).await;
    id
}

/// The role row (as search lists it) with this id.
async fn role_row(app: &TestApp, admin: &Session, id: &str) -> Value {
    row_with(all_roles(app, admin).await, "role_id", id)
}

async fn menu_codes(app: &TestApp, admin: &Session, role: &str) -> Vec<String> {
    pluck(
        ok(&on_role(app, admin, "GET", role, "/menus", None).await),
        "code",
    )
}

async fn resources(app: &TestApp, admin: &Session, role: &str, filter: Value) -> Vec<Value> {
    ok(&role_action(app, admin, role, "resources", filter).await)
        .as_array()
        .expect("array")
        .clone()
}

/// Asserts the role grants this one resource and nothing else.
async fn assert_only_grant(app: &TestApp, admin: &Session, role: &str, id: &str, kind: &str) {
    let all = resources(app, admin, role, json!({})).await;
    assert_eq!(all, [json!({"resource_id": id, "resource_type": kind})]);
}

/// The codes of the menus `GET /user` lists for `who`.
async fn my_menu_codes(app: &TestApp, who: &Session) -> Vec<String> {
    pluck(
        &ok(&app.call("GET", "/user", Some(who), None).await)["menus"],
        "code",
    )
}

/// Every endpoint that takes a role id, with a well-formed body.
fn role_endpoints(role: &str) -> Vec<(&'static str, String, Option<Value>)> {
    let one =
        |action: &str, body: Value| ("POST", format!("/user/roles/{role}/{action}"), Some(body));
    vec![
        (
            "PUT",
            format!("/user/roles/{role}"),
            Some(json!({"name": "renamed"})),
        ),
        ("DELETE", format!("/user/roles/{role}"), None),
        ("GET", format!("/user/roles/{role}/members"), None),
        ("GET", format!("/user/roles/{role}/menus"), None),
        one("undistributed-users", json!({})),
        one("resources", json!({})),
        one("associate-user", json!({"user_ids": ["1"]})),
        one("disassociate-user", json!({"user_ids": ["1"]})),
        one("associate-menu", json!({"menu_ids": ["1"]})),
        one("disassociate-menu", json!({"menu_ids": ["1"]})),
        one(
            "associate-resource",
            json!({"resources": [{"id": "d1", "type": "DEVICE"}]}),
        ),
        one(
            "disassociate-resource",
            json!({"resources": [{"id": "d1", "type": "DEVICE"}]}),
        ),
    ]
}

/// Every role endpoint: the two without an id, then [`role_endpoints`].
fn all_role_endpoints(role: &str) -> Vec<(&'static str, String, Option<Value>)> {
    let mut all = vec![
        (
            "POST",
            "/user/roles".to_owned(),
            Some(json!({"name": "sneaky"})),
        ),
        ("POST", "/user/roles/search".to_owned(), Some(json!({}))),
    ];
    all.extend(role_endpoints(role));
    all
}

// ---- POST /user/roles ----

#[tokio::test]
async fn create_role_answers_its_id_and_lists_it() {
    let (app, admin) = setup().await;
    let body = json!({"name": "operators", "description": "Run the plant"});
    let answer = post_role(&app, &admin, body).await;
    let data = ok(&answer);
    let id = data["role_id"].as_str().expect("role_id is a string");
    assert!(id.parse::<i64>().is_ok_and(|n| n > 0), "{data}");
    let row = role_row(&app, &admin, id).await;
    assert_eq!(row["name"], "operators");
    assert_eq!(row["description"], "Run the plant");
    assert_eq!(row["built_in"], false);
    assert_eq!(row["user_role_count"], 0);
    assert_eq!(row["role_integration_count"], 0);
    assert!(row["created_at"].is_i64(), "{row}");
}

#[tokio::test]
async fn create_role_refuses_a_duplicate_name() {
    let (app, admin) = setup().await;
    new_role(&app, &admin, "operators").await;
    let res = post_role(&app, &admin, json!({"name": "operators"})).await;
    let msg = refused(&res, 400, "name_repeated");
    assert!(msg.contains("operators"), "{msg}");
    let page = search_roles(&app, &admin, json!({"keyword": "operators"})).await;
    assert_eq!(page["total"], 1);
}

#[tokio::test]
async fn create_role_validates_its_fields() {
    let (app, admin) = setup().await;
    let cases = [
        (json!({}), "name"),
        (json!({"name": 7}), "name"),
        (json!({"name": ""}), "name"),
        (json!({"name": "   "}), "name"),
        (json!({"name": "a".repeat(65)}), "name"),
        (
            json!({"name": "ok", "description": "d".repeat(256)}),
            "description",
        ),
        (json!({"name": "ok", "description": 3}), "description"),
    ];
    for (body, field) in cases {
        invalid(&post_role(&app, &admin, body).await, field);
    }
    assert_eq!(all_roles(&app, &admin).await.len(), 1, "only super_admin");
    // 64 characters is the limit, not past it.
    new_role(&app, &admin, &"a".repeat(64)).await;
}

// ---- PUT /user/roles/{id} ----

#[tokio::test]
async fn update_role_renames_it() {
    let (app, admin, id) = setup_with_role().await;
    let renamed = json!({"name": "engineers", "description": "Build it"});
    assert_eq!(
        ok(&on_role(&app, &admin, "PUT", &id, "", Some(renamed)).await),
        &json!({})
    );
    let row = role_row(&app, &admin, &id).await;
    assert_eq!(
        (&row["name"], &row["description"]),
        (&json!("engineers"), &json!("Build it"))
    );
    // Keeping its own name is not a clash.
    ok(&on_role(
        &app,
        &admin,
        "PUT",
        &id,
        "",
        Some(json!({"name": "engineers"})),
    )
    .await);
}

#[tokio::test]
async fn update_role_refuses_another_roles_name() {
    let (app, admin) = setup().await;
    new_role(&app, &admin, "operators").await;
    let id = new_role(&app, &admin, "engineers").await;
    let res = on_role(
        &app,
        &admin,
        "PUT",
        &id,
        "",
        Some(json!({"name": "operators"})),
    )
    .await;
    refused(&res, 400, "name_repeated");
    assert_eq!(role_row(&app, &admin, &id).await["name"], "engineers");
}

#[tokio::test]
async fn update_role_refuses_the_built_in_role() {
    let (app, admin) = setup().await;
    let sa = super_admin_role(&app, &admin).await;
    let res = on_role(&app, &admin, "PUT", &sa, "", Some(json!({"name": "root"}))).await;
    refused(&res, 403, "role_built_in");
    assert_eq!(role_row(&app, &admin, &sa).await["name"], "super_admin");
}

#[tokio::test]
async fn update_role_validates_its_fields() {
    let (app, admin, id) = setup_with_role().await;
    let path = format!("/user/roles/{id}");
    for (body, field) in [
        (json!({}), "name"),
        (json!({"name": ["x"]}), "name"),
        (json!({"name": ""}), "name"),
        (json!({"name": "b".repeat(65)}), "name"),
    ] {
        invalid(
            &app.call("PUT", &path, Some(&admin), Some(body)).await,
            field,
        );
    }
    assert_eq!(role_row(&app, &admin, &id).await["name"], "operators");
}

// ---- DELETE /user/roles/{id} ----

#[tokio::test]
async fn delete_role_removes_it() {
    let (app, admin, id) = setup_with_role().await;
    assert_eq!(
        ok(&on_role(&app, &admin, "DELETE", &id, "", None).await),
        &json!({})
    );
    assert_eq!(all_roles(&app, &admin).await.len(), 1);
    let res = on_role(&app, &admin, "GET", &id, "/members", None).await;
    refused(&res, 404, "data_no_found");
}

#[tokio::test]
async fn delete_role_refuses_a_role_with_users() {
    let (app, admin, bob) = setup_with_user("bob@weir.test").await;
    let id = operators_with(&app, &admin, &[&bob.user_id]).await;
    let res = on_role(&app, &admin, "DELETE", &id, "", None).await;
    refused(&res, 400, "role_still_has_user");
    assert_eq!(member_ids(&app, &admin, &id).await, [bob.user_id.as_str()]);
    // Once empty, it goes.
    link(&app, &admin, &id, "disassociate-user", &[&bob.user_id]).await;
    ok(&on_role(&app, &admin, "DELETE", &id, "", None).await);
}

#[tokio::test]
async fn delete_role_refuses_the_built_in_role() {
    let (app, admin) = setup().await;
    let sa = super_admin_role(&app, &admin).await;
    let res = on_role(&app, &admin, "DELETE", &sa, "", None).await;
    refused(&res, 403, "role_built_in");
    assert_eq!(
        member_ids(&app, &admin, &sa).await,
        [admin.user_id.as_str()]
    );
}

// ---- POST /user/roles/search ----

#[tokio::test]
async fn search_roles_pages_newest_first() {
    let (app, admin) = setup().await;
    for name in ["alpha", "bravo", "charlie"] {
        new_role(&app, &admin, name).await;
    }
    let page = search_roles(&app, &admin, json!({"page_number": 1, "page_size": 2})).await;
    assert_eq!(page["page_number"], 1);
    assert_eq!(page["page_size"], 2);
    assert_eq!(page["total"], 4);
    assert_eq!(pluck(&page["content"], "name"), ["charlie", "bravo"]);
    let page = search_roles(&app, &admin, json!({"page_number": 2, "page_size": 2})).await;
    assert_eq!(pluck(&page["content"], "name"), ["alpha", "super_admin"]);
    let page = search_roles(&app, &admin, json!({"page_number": 3, "page_size": 2})).await;
    assert_eq!(
        (page["total"].clone(), page["content"].clone()),
        (json!(4), json!([]))
    );
}

#[tokio::test]
async fn search_roles_filters_by_keyword_and_sorts_by_name() {
    let (app, admin) = setup().await;
    for name in ["night", "day", "midnight", "noon"] {
        new_role(&app, &admin, name).await;
    }
    let page = search_roles(&app, &admin, json!({"keyword": "NIGHT"})).await;
    assert_eq!(page["total"], 2);
    let mut names = pluck(&page["content"], "name");
    names.sort();
    assert_eq!(names, ["midnight", "night"]);
    let sorted = |direction: &str| json!({"sorts": [{"property": "name", "direction": direction}]});
    let page = search_roles(&app, &admin, sorted("ASC")).await;
    assert_eq!(
        pluck(&page["content"], "name"),
        ["day", "midnight", "night", "noon", "super_admin"]
    );
    let page = search_roles(&app, &admin, sorted("DESC")).await;
    assert_eq!(pluck(&page["content"], "name")[0], "super_admin");
}

#[tokio::test]
async fn search_roles_counts_users_and_integrations() {
    let (app, admin, bob) = setup_with_user("bob@weir.test").await;
    let id = operators_with(&app, &admin, &[&bob.user_id, &admin.user_id]).await;
    let [(_, device), ..] = crate::support::owned_objects(&app, &admin).await;
    let grants = json!({"resources": [
        {"id": "mqtt-device", "type": "INTEGRATION"},
        {"id": "http-device", "type": "INTEGRATION"},
        {"id": device, "type": "DEVICE"},
    ]});
    ok(&role_action(&app, &admin, &id, "associate-resource", grants).await);
    let row = role_row(&app, &admin, &id).await;
    assert_eq!(row["user_role_count"], 2);
    assert_eq!(row["role_integration_count"], 2);
    let sa = super_admin_role(&app, &admin).await;
    assert_eq!(role_row(&app, &admin, &sa).await["user_role_count"], 1);
}

#[tokio::test]
async fn search_roles_validates_paging() {
    let (app, admin) = setup().await;
    for (body, field) in [
        (json!({"page_size": 0}), "page_size"),
        (json!({"page_size": "ten"}), "page_size"),
        (json!({"page_number": 0}), "page_number"),
        (json!({"keyword": 5}), "keyword"),
        (
            json!({"sorts": [{"property": "email", "direction": "ASC"}]}),
            "sorts[0].property",
        ),
        (
            json!({"sorts": [{"property": "name", "direction": "UP"}]}),
            "sorts[0].direction",
        ),
    ] {
        invalid(
            &app.call("POST", "/user/roles/search", Some(&admin), Some(body))
                .await,
            field,
        );
    }
}

// ---- GET /user/roles/{id}/members ----

#[tokio::test]
async fn role_members_lists_users_and_filters_by_keyword() {
    let (app, admin, bob) = setup_with_user("bob@weir.test").await;
    let alice = app.create_user(&admin, "alice@weir.test").await;
    let id = new_role(&app, &admin, "operators").await;
    assert_eq!(member_ids(&app, &admin, &id).await, Vec::<String>::new());
    link(
        &app,
        &admin,
        &id,
        "associate-user",
        &[&bob.user_id, &alice.user_id],
    )
    .await;
    let data = ok(&on_role(&app, &admin, "GET", &id, "/members", None).await).clone();
    let mut ids = pluck(&data, "user_id");
    ids.sort();
    let mut want = vec![bob.user_id.clone(), alice.user_id.clone()];
    want.sort();
    assert_eq!(ids, want);
    let data = ok(&on_role(&app, &admin, "GET", &id, "/members?keyword=ALICE", None).await).clone();
    assert_eq!(
        data,
        json!([{
            "user_id": alice.user_id,
            "user_email": "alice@weir.test",
            "user_nickname": "alice",
            "role_id": id,
        }])
    );
}

// ---- POST /user/roles/{id}/undistributed-users ----

#[tokio::test]
async fn undistributed_users_lists_users_outside_the_role() {
    let (app, admin, bob) = setup_with_user("bob@weir.test").await;
    let alice = app.create_user(&admin, "alice@weir.test").await;
    let id = operators_with(&app, &admin, &[&alice.user_id]).await;
    let data = ok(&role_action(&app, &admin, &id, "undistributed-users", json!({})).await).clone();
    let mut emails = pluck(&data, "email");
    emails.sort();
    assert_eq!(emails, ["admin@weir.test", "bob@weir.test"]);
    let keyword = json!({"keyword": "bob"});
    let data = ok(&role_action(&app, &admin, &id, "undistributed-users", keyword).await).clone();
    assert_eq!(
        data,
        json!([{"user_id": bob.user_id, "email": "bob@weir.test", "nickname": "bob"}])
    );
    invalid(
        &role_action(
            &app,
            &admin,
            &id,
            "undistributed-users",
            json!({"keyword": 1}),
        )
        .await,
        "keyword",
    );
}

// ---- GET /user/roles/{id}/menus ----

#[tokio::test]
async fn role_menus_of_the_built_in_role_are_all_menus() {
    let (app, admin) = setup().await;
    let sa = super_admin_role(&app, &admin).await;
    let codes = menu_codes(&app, &admin, &sa).await;
    let mine = my_menu_codes(&app, &admin).await;
    assert!(codes.len() > 20, "{codes:?}");
    for code in ["dashboard", "device.view", "entity_custom.add", "user_role"] {
        assert!(codes.iter().any(|c| c == code), "{code} missing");
    }
    assert_eq!(codes.len(), mine.len());
}

#[tokio::test]
async fn role_menus_lists_what_was_granted() {
    let (app, admin, id) = setup_with_role().await;
    assert_eq!(menu_codes(&app, &admin, &id).await, Vec::<String>::new());
    let view = app.menu_id(&admin, "device.view").await;
    link(&app, &admin, &id, "associate-menu", &[&view]).await;
    let data = ok(&on_role(&app, &admin, "GET", &id, "/menus", None).await).clone();
    let device = app.menu_id(&admin, "device").await;
    assert_eq!(
        data,
        json!([{"menu_id": view, "code": "device.view", "name": "View devices", "type": "FUNCTION", "parent_id": device}])
    );
}

// ---- POST /user/roles/{id}/resources ----

#[tokio::test]
async fn role_resources_lists_grants_and_filters_by_type() {
    let (app, admin, id) = setup_with_role().await;
    let [(_, dev), ..] = crate::support::owned_objects(&app, &admin).await;
    let grants = json!({"resources": [{"id": "mqtt-device", "type": "INTEGRATION"}, {"id": dev, "type": "DEVICE"}]});
    ok(&role_action(&app, &admin, &id, "associate-resource", grants).await);
    let mut all = resources(&app, &admin, &id, json!({})).await;
    all.sort_by_key(|r| r["resource_type"].as_str().map(str::to_owned));
    assert_eq!(
        all,
        [
            json!({"resource_id": dev, "resource_type": "DEVICE"}),
            json!({"resource_id": "mqtt-device", "resource_type": "INTEGRATION"}),
        ]
    );
    let devices = resources(&app, &admin, &id, json!({"resource_type": "DEVICE"})).await;
    assert_eq!(
        devices,
        [json!({"resource_id": dev, "resource_type": "DEVICE"})]
    );
    let none = resources(&app, &admin, &id, json!({"resource_type": "WORKFLOW"})).await;
    assert!(none.is_empty());
    for filter in [
        json!({"resource_type": "GADGET"}),
        json!({"resource_type": 1}),
    ] {
        invalid(
            &role_action(&app, &admin, &id, "resources", filter).await,
            "resource_type",
        );
    }
}

// ---- associate-user / disassociate-user ----

#[tokio::test]
async fn associate_user_adds_members_idempotently() {
    let (app, admin, bob) = setup_with_user("bob@weir.test").await;
    let id = new_role(&app, &admin, "operators").await;
    link(&app, &admin, &id, "associate-user", &[&bob.user_id]).await;
    link(&app, &admin, &id, "associate-user", &[&bob.user_id]).await;
    assert_eq!(member_ids(&app, &admin, &id).await, [bob.user_id.as_str()]);
    let me = ok(&app.call("GET", "/user", Some(&bob), None).await).clone();
    assert_eq!(
        me["roles"],
        json!([{"role_id": id, "role_name": "operators"}])
    );
}

#[tokio::test]
async fn associate_user_refuses_an_unknown_user_and_adds_nobody() {
    let (app, admin, bob) = setup_with_user("bob@weir.test").await;
    let id = new_role(&app, &admin, "operators").await;
    let res = role_action(
        &app,
        &admin,
        &id,
        "associate-user",
        json!({"user_ids": [bob.user_id, UNKNOWN_ID]}),
    )
    .await;
    let msg = refused(&res, 404, "data_no_found");
    assert!(msg.contains(UNKNOWN_ID), "{msg}");
    assert_eq!(member_ids(&app, &admin, &id).await, Vec::<String>::new());
}

#[tokio::test]
async fn associate_and_disassociate_user_validate_user_ids() {
    let (app, admin, id) = setup_with_role().await;
    let too_many: Vec<String> = (1..=1001).map(|n| n.to_string()).collect();
    for action in ["associate-user", "disassociate-user"] {
        for body in [
            json!({}),
            json!({"user_ids": []}),
            json!({"user_ids": "1"}),
            json!({"user_ids": ["abc"]}),
            json!({"user_ids": too_many}),
        ] {
            invalid(
                &role_action(&app, &admin, &id, action, body).await,
                "user_ids",
            );
        }
    }
    assert!(member_ids(&app, &admin, &id).await.is_empty());
}

#[tokio::test]
async fn disassociate_user_removes_members() {
    let (app, admin, bob) = setup_with_user("bob@weir.test").await;
    let id = operators_with(&app, &admin, &[&bob.user_id, &admin.user_id]).await;
    link(&app, &admin, &id, "disassociate-user", &[&bob.user_id]).await;
    assert_eq!(
        member_ids(&app, &admin, &id).await,
        [admin.user_id.as_str()]
    );
    // Removing someone who is not a member is not an error.
    link(&app, &admin, &id, "disassociate-user", &[&bob.user_id]).await;
}

#[tokio::test]
async fn disassociate_user_keeps_the_last_super_admin() {
    let (app, admin, bob) = setup_with_user("bob@weir.test").await;
    let sa = super_admin_role(&app, &admin).await;
    invalid(
        &role_action(
            &app,
            &admin,
            &sa,
            "disassociate-user",
            json!({"user_ids": [admin.user_id]}),
        )
        .await,
        "user_ids",
    );
    assert_eq!(
        member_ids(&app, &admin, &sa).await,
        [admin.user_id.as_str()]
    );
    // With a second super admin, the first may leave.
    link(&app, &admin, &sa, "associate-user", &[&bob.user_id]).await;
    link(&app, &bob, &sa, "disassociate-user", &[&admin.user_id]).await;
    assert_eq!(member_ids(&app, &bob, &sa).await, [bob.user_id.as_str()]);
}

// ---- associate-menu / disassociate-menu ----

#[tokio::test]
async fn associate_and_disassociate_menu() {
    let (app, admin, id) = setup_with_role().await;
    let view = app.menu_id(&admin, "device.view").await;
    let add = app.menu_id(&admin, "device.add").await;
    link(&app, &admin, &id, "associate-menu", &[&view, &add]).await;
    let mut codes = menu_codes(&app, &admin, &id).await;
    codes.sort();
    assert_eq!(codes, ["device.add", "device.view"]);
    link(&app, &admin, &id, "disassociate-menu", &[&add]).await;
    assert_eq!(menu_codes(&app, &admin, &id).await, ["device.view"]);
}

#[tokio::test]
async fn associate_menu_refuses_an_unknown_menu_and_grants_nothing() {
    let (app, admin, id) = setup_with_role().await;
    let view = app.menu_id(&admin, "device.view").await;
    let res = role_action(
        &app,
        &admin,
        &id,
        "associate-menu",
        json!({"menu_ids": [view, UNKNOWN_ID]}),
    )
    .await;
    let msg = refused(&res, 404, "data_no_found");
    assert!(msg.contains(UNKNOWN_ID), "{msg}");
    assert!(menu_codes(&app, &admin, &id).await.is_empty());
    for action in ["associate-menu", "disassociate-menu"] {
        for body in [
            json!({}),
            json!({"menu_ids": []}),
            json!({"menu_ids": [true]}),
        ] {
            invalid(
                &role_action(&app, &admin, &id, action, body).await,
                "menu_ids",
            );
        }
    }
}

#[tokio::test]
async fn menus_and_resources_of_the_built_in_role_are_fixed() {
    let (app, admin) = setup().await;
    let sa = super_admin_role(&app, &admin).await;
    let view = app.menu_id(&admin, "device.view").await;
    let before = menu_codes(&app, &admin, &sa).await;
    let resource = json!({"resources": [{"id": "mqtt-device", "type": "INTEGRATION"}]});
    for (action, body) in [
        ("associate-menu", json!({"menu_ids": [view]})),
        ("disassociate-menu", json!({"menu_ids": [view]})),
        ("associate-resource", resource.clone()),
        ("disassociate-resource", resource),
    ] {
        refused(
            &role_action(&app, &admin, &sa, action, body).await,
            403,
            "role_built_in",
        );
    }
    assert_eq!(menu_codes(&app, &admin, &sa).await, before);
    assert!(resources(&app, &admin, &sa, json!({})).await.is_empty());
}

// ---- associate-resource / disassociate-resource ----

#[tokio::test]
async fn associate_and_disassociate_resource() {
    let (app, admin, id) = setup_with_role().await;
    let [_, (_, dash), (_, flow)] = crate::support::owned_objects(&app, &admin).await;
    let both =
        json!({"resources": [{"id": dash, "type": "DASHBOARD"}, {"id": flow, "type": "WORKFLOW"}]});
    assert_eq!(
        ok(&role_action(&app, &admin, &id, "associate-resource", both.clone()).await),
        &json!({})
    );
    // Granting again is not an error and adds nothing.
    ok(&role_action(&app, &admin, &id, "associate-resource", both).await);
    assert_eq!(resources(&app, &admin, &id, json!({})).await.len(), 2);
    let one = json!({"resources": [{"id": dash, "type": "DASHBOARD"}]});
    assert_eq!(
        ok(&role_action(&app, &admin, &id, "disassociate-resource", one).await),
        &json!({})
    );
    assert_only_grant(&app, &admin, &id, &flow, "WORKFLOW").await;
}

#[tokio::test]
async fn associate_and_disassociate_resource_validate_resources() {
    let (app, admin, id) = setup_with_role().await;
    let [(_, keep), ..] = crate::support::owned_objects(&app, &admin).await;
    let keep = keep.as_str();
    let kept = json!({"resources": [{"id": keep, "type": "DEVICE"}]});
    ok(&role_action(&app, &admin, &id, "associate-resource", kept).await);
    for action in ["associate-resource", "disassociate-resource"] {
        for (body, field) in [
            (
                json!({"resources": [{"id": keep, "type": "GADGET"}]}),
                "resources[0]",
            ),
            (
                json!({"resources": [{"id": "ok", "type": "DEVICE"}, {"id": "", "type": "DEVICE"}]}),
                "resources[1]",
            ),
            (json!({"resources": [{"type": "DEVICE"}]}), "resources[0]"),
            (
                json!({"resources": [{"id": 5, "type": "DEVICE"}]}),
                "resources[0].id",
            ),
            (json!({"resources": []}), "resources"),
            (json!({}), "resources"),
        ] {
            invalid(&role_action(&app, &admin, &id, action, body).await, field);
        }
    }
    assert_only_grant(&app, &admin, &id, keep, "DEVICE").await;
}

// ---- every role endpoint ----

#[tokio::test]
async fn role_endpoints_require_a_token() {
    let (app, admin, id) = setup_with_role().await;
    for (method, path, body) in all_role_endpoints(&id) {
        let res = app.call(method, &path, None, body).await;
        assert_eq!(res.0, 401, "{method} {path}: {}", res.1);
        refused(&res, 401, "authentication_failed");
    }
    assert_eq!(role_row(&app, &admin, &id).await["name"], "operators");
}

#[tokio::test]
async fn role_endpoints_refuse_plain_users() {
    let (app, admin, bob) = setup_with_user("bob@weir.test").await;
    let id = new_role(&app, &admin, "operators").await;
    for (method, path, body) in all_role_endpoints(&id) {
        let res = app.call(method, &path, Some(&bob), body).await;
        assert_eq!(res.0, 403, "{method} {path}: {}", res.1);
        refused(&res, 403, "forbidden_permission");
    }
    // Nothing changed.
    let names = pluck(&Value::Array(all_roles(&app, &admin).await), "name");
    assert_eq!(names, ["operators", "super_admin"]);
    assert!(member_ids(&app, &admin, &id).await.is_empty());
    assert!(menu_codes(&app, &admin, &id).await.is_empty());
    assert!(resources(&app, &admin, &id, json!({})).await.is_empty());
}

#[tokio::test]
async fn role_endpoints_answer_404_for_an_unknown_role() {
    let (app, admin) = setup().await;
    for (method, path, body) in role_endpoints(UNKNOWN_ID) {
        let res = app.call(method, &path, Some(&admin), body).await;
        assert_eq!(res.0, 404, "{method} {path}: {}", res.1);
        let msg = refused(&res, 404, "data_no_found");
        assert!(msg.contains(UNKNOWN_ID), "{method} {path}: {msg}");
    }
}

#[tokio::test]
async fn role_endpoints_refuse_a_non_numeric_id() {
    let (app, admin) = setup().await;
    for (method, path, body) in role_endpoints("abc") {
        let res = app.call(method, &path, Some(&admin), body).await;
        assert_eq!(res.0, 400, "{method} {path}: {}", res.1);
        invalid(&res, "role_id");
    }
    assert_eq!(all_roles(&app, &admin).await.len(), 1);
}

// ---- the permission story ----

#[tokio::test]
async fn a_plain_user_gets_menus_through_a_role() {
    let (app, admin, bob) = setup_with_user("bob@weir.test").await;
    let me = ok(&app.call("GET", "/user", Some(&bob), None).await).clone();
    assert_eq!(
        (me["is_super_admin"].clone(), me["menus"].clone()),
        (json!(false), json!([]))
    );
    let id = new_role(&app, &admin, "viewers").await;
    let view = app.menu_id(&admin, "device.view").await;
    link(&app, &admin, &id, "associate-menu", &[&view]).await;
    // Granted to the role, but bob is not in it yet.
    assert!(my_menu_codes(&app, &bob).await.is_empty());
    link(&app, &admin, &id, "associate-user", &[&bob.user_id]).await;
    assert_eq!(my_menu_codes(&app, &bob).await, ["device.view"]);
    link(&app, &admin, &id, "disassociate-menu", &[&view]).await;
    assert!(my_menu_codes(&app, &bob).await.is_empty());
    // Still not a super admin: role management stays closed.
    let res = app
        .call("POST", "/user/roles/search", Some(&bob), Some(json!({})))
        .await;
    refused(&res, 403, "forbidden_permission");
}

#[tokio::test]
async fn resources_of_another_tenant_or_none_are_not_found_and_nothing_is_stored() {
    let (app, admin, boss) = crate::support::two_tenants().await;
    let id = new_role(&app, &admin, "operators").await;
    let theirs = crate::support::owned_objects(&app, &boss).await;
    let entity = {
        // An entity of acme's integrations (every tenant has them).
        let body = json!({"page_size": 1});
        let answer = app
            .call("POST", "/entity/search", Some(&boss), Some(body))
            .await;
        ok(&answer)["content"][0]["entity_id"]
            .as_str()
            .expect("an entity of acme")
            .to_owned()
    };
    let mut foreign: Vec<(&str, String)> = theirs.to_vec();
    foreign.push(("ENTITY", entity));
    foreign.push(("INTEGRATION", "no-such-integration".into()));
    foreign.push(("DEVICE", "999999999".into()));
    foreign.push(("DASHBOARD", "not-a-number".into()));
    let ours = crate::support::owned_objects(&app, &admin).await;
    for (kind, their_id) in &foreign {
        // One of ours beside it: the whole batch is refused.
        let body = json!({"resources": [
            {"id": ours[0].1, "type": ours[0].0},
            {"id": their_id, "type": kind},
        ]});
        let answer = role_action(&app, &admin, &id, "associate-resource", body).await;
        let message = refused(&answer, 404, "data_no_found");
        assert!(
            message.contains(their_id.as_str()) && message.contains(kind),
            "{message}"
        );
    }
    assert!(resources(&app, &admin, &id, json!({})).await.is_empty());
    // Our own objects and a registered integration are granted.
    let mut body: Vec<Value> = ours
        .iter()
        .map(|(kind, id)| json!({"id": id, "type": kind}))
        .collect();
    body.push(json!({"id": "http-device", "type": "INTEGRATION"}));
    ok(&role_action(
        &app,
        &admin,
        &id,
        "associate-resource",
        json!({"resources": body}),
    )
    .await);
    assert_eq!(resources(&app, &admin, &id, json!({})).await.len(), 4);
}

#[tokio::test]
async fn users_and_menus_of_another_tenant_are_not_found_and_nothing_is_stored() {
    let (app, admin, boss) = crate::support::two_tenants().await;
    let id = new_role(&app, &admin, "operators").await;
    let their_menu = app.menu_id(&boss, "device.view").await;
    for (action, body, named) in [
        (
            "associate-user",
            json!({"user_ids": [boss.user_id]}),
            &boss.user_id,
        ),
        (
            "associate-menu",
            json!({"menu_ids": [their_menu]}),
            &their_menu,
        ),
    ] {
        let answer = role_action(&app, &admin, &id, action, body).await;
        let message = refused(&answer, 404, "data_no_found");
        assert!(message.contains(named.as_str()), "{action}: {message}");
    }
    assert!(member_ids(&app, &admin, &id).await.is_empty());
    let menus = ok(&on_role(&app, &admin, "GET", &id, "/menus", None).await).clone();
    assert_eq!(menus, json!([]));
}
