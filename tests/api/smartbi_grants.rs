//! Resource permissions over HTTP (document 2.9, `perm/assignee/resource`, and Weir's
//! `perm/get`): grants by user and by role, each scope, `ref` < `read` < `edit` on reads,
//! queries and writes, listings filtered, hidden ids not found, `override` against append,
//! bad input changing nothing, and another tenant's ids. See docs/bi-catalog.md.

use serde_json::{Value, json};
use weir_test_kit::{Session, TestApp};

use crate::smartbi_models::{Source, act, failure, model, rows, shop, success};
use crate::support::{link, new_role, setup_with, two_tenants_with};
use weir_test_kit::local_reach;

async fn ok(app: &TestApp, who: &Session, action: &str, params: Value) -> Value {
    success(&act(app, who, action, params).await)
}

async fn grant(app: &TestApp, who: &Session, id: &str, replace: bool, rules: Value) {
    let answer = ok(
        app,
        who,
        "perm/assignee/resource",
        json!({"id": id, "override": replace, "permAuth": rules}),
    )
    .await;
    assert_eq!(answer, Value::Null, "the document answers nothing");
}

async fn not_found(app: &TestApp, who: &Session, action: &str, params: Value, id: &str) {
    let answer = act(app, who, action, params).await;
    assert_eq!(
        failure(&answer, "resource"),
        format!("resource {id} not found")
    );
}

async fn denied(app: &TestApp, who: &Session, action: &str, params: Value, need: &str) {
    let msg = failure(&act(app, who, action, params).await, "");
    assert!(
        msg.contains(&format!("this needs the {need} permission on it")),
        "{msg}"
    );
}

/// The names a listing answers, in order.
async fn names(app: &TestApp, who: &Session, id: &str, all: bool) -> Vec<String> {
    ok(
        app,
        who,
        "resource/getChildList",
        json!({"id": id, "includeDescendants": all}),
    )
    .await
    .as_array()
    .expect("an array")
    .iter()
    .map(|e| e["name"].as_str().expect("a name").to_owned())
    .collect()
}

fn id_of(v: &Value) -> String {
    v.as_str().expect("an id, a string").to_owned()
}

/// PUBLIC/team (with team/sub and the model team/sales), and the shop datasource.
struct Tree {
    team: String,
    sub: String,
    sales: String,
    shop: crate::smartbi_models::Shop,
    _src: Source,
}

async fn tree(app: &TestApp, admin: &Session) -> Tree {
    let src = Source::new();
    let shop = shop(app, admin, &src).await;
    let team = id_of(
        &ok(
            app,
            admin,
            "folder/create",
            json!({"parentId": "PUBLIC", "name": "team"}),
        )
        .await,
    );
    let sub = id_of(
        &ok(
            app,
            admin,
            "folder/create",
            json!({"parentId": team, "name": "sub"}),
        )
        .await,
    );
    let mut m = model(&shop);
    m["pid"] = json!(team);
    let sales = id_of(&ok(app, admin, "augmented/create", m).await);
    Tree {
        team,
        sub,
        sales,
        shop,
        _src: src,
    }
}

fn query(id: &str) -> Value {
    json!({"id": id, "dimensions": ["region"], "measures": ["sales"],
           "order": [{"field": "region"}]})
}

#[tokio::test]
async fn grants_by_user_and_role_reach_as_their_scope_says_at_their_level() {
    let (app, admin) = setup_with(local_reach).await;
    let bob = app.create_user(&admin, "bob@weir.test").await;
    let t = tree(&app, &admin).await;

    // Nothing granted: the roots are seen, empty; everything else is not found.
    assert!(names(&app, &bob, "PUBLIC", true).await.is_empty());
    assert!(names(&app, &bob, "DATA_SOURCES", true).await.is_empty());
    assert_eq!(
        ok(&app, &bob, "resource/get", json!({"id": "PUBLIC"})).await["path"],
        json!("/PUBLIC")
    );
    for (action, id) in [
        ("resource/get", &t.team),
        ("augmented/get", &t.sales),
        ("augmented/query", &t.sales),
        ("resource/delete", &t.sales),
        ("perm/get", &t.team),
        ("table/get", &t.shop.orders),
        ("resource/getChildList", &t.team),
    ] {
        not_found(&app, &bob, action, json!({"id": id}), id).await;
    }
    not_found(
        &app,
        &bob,
        "perm/assignee/resource",
        json!({"id": t.team, "permAuth": [{"user": [bob.user_id], "auth": "edit"}]}),
        &t.team,
    )
    .await;
    // The root is seen but not changed: making something in it needs edit.
    denied(
        &app,
        &bob,
        "folder/create",
        json!({"parentId": "PUBLIC", "name": "mine"}),
        "edit",
    )
    .await;

    // FILE_ONLY ref for Bob: the folder and its model, not the sub-folder.
    grant(
        &app,
        &admin,
        &t.team,
        false,
        json!([{"user": [bob.user_id], "scope": "FILE_ONLY"}]),
    )
    .await;
    assert_eq!(names(&app, &bob, "PUBLIC", true).await, ["team", "sales"]);
    assert_eq!(names(&app, &bob, "PUBLIC", false).await, ["team"]);
    not_found(&app, &bob, "resource/get", json!({"id": t.sub}), &t.sub).await;
    assert_eq!(
        ok(&app, &bob, "augmented/get", json!({"id": t.sales})).await["name"],
        json!("sales")
    );
    // ref is not read: the model is seen, not run.
    denied(&app, &bob, "augmented/query", query(&t.sales), "read").await;

    // A role of Bob's, read FOLDER_FILE, appended: now everything under team, and queries.
    let role = new_role(&app, &admin, "analysts").await;
    link(&app, &admin, &role, "associate-user", &[&bob.user_id]).await;
    grant(
        &app,
        &admin,
        &t.team,
        false,
        json!([{"role": [role], "auth": "READ", "scope": "FOLDER_FILE"}]),
    )
    .await;
    assert_eq!(
        names(&app, &bob, "PUBLIC", true).await,
        ["team", "sub", "sales"]
    );
    assert_eq!(
        rows(&ok(&app, &bob, "augmented/query", query(&t.sales)).await),
        [[json!("north"), json!(15.0)], [json!("south"), json!(4.0)]]
    );
    // read is not edit.
    denied(
        &app,
        &bob,
        "folder/update",
        json!({"id": t.team, "alias": "x"}),
        "edit",
    )
    .await;
    denied(
        &app,
        &bob,
        "resource/delete",
        json!({"id": t.sales}),
        "edit",
    )
    .await;
    denied(
        &app,
        &bob,
        "perm/assignee/resource",
        json!({"id": t.team, "permAuth": [{"user": [bob.user_id], "auth": "edit"}]}),
        "edit",
    )
    .await;
    let both = json!([
        {"user": [bob.user_id], "group": [], "role": [], "auth": "ref", "scope": "FILE_ONLY"},
        {"user": [], "group": [], "role": [role], "auth": "read", "scope": "FOLDER_FILE"}
    ]);
    assert_eq!(
        ok(&app, &bob, "perm/get", json!({"id": t.team})).await,
        both
    );

    // Appending a grant for Bob again replaces his: edit on the folder itself (NONE).
    grant(
        &app,
        &admin,
        &t.team,
        false,
        json!([{"user": [bob.user_id], "auth": "edit"}]),
    )
    .await;
    let got = ok(&app, &admin, "perm/get", json!({"id": t.team})).await;
    assert_eq!(
        got[0],
        json!({"user": [], "group": [], "role": [role], "auth": "read", "scope": "FOLDER_FILE"})
    );
    assert_eq!(
        got[1],
        json!({"user": [bob.user_id], "group": [], "role": [], "auth": "edit", "scope": "NONE"})
    );
    assert_eq!(got.as_array().map(Vec::len), Some(2));
    ok(
        &app,
        &bob,
        "folder/update",
        json!({"id": t.team, "alias": "Team"}),
    )
    .await;
    // NONE does not reach the model: still read there.
    denied(
        &app,
        &bob,
        "resource/delete",
        json!({"id": t.sales}),
        "edit",
    )
    .await;
    // Bob makes a folder in team (edit on it) and, its creator, holds edit on it.
    let mine = id_of(
        &ok(
            &app,
            &bob,
            "folder/create",
            json!({"parentId": t.team, "name": "mine"}),
        )
        .await,
    );
    ok(
        &app,
        &bob,
        "folder/update",
        json!({"id": mine, "desc": "Bob's"}),
    )
    .await;

    // override: the role's FOLDER_ONLY ref is all the folder holds now.
    grant(
        &app,
        &admin,
        &t.team,
        true,
        json!([{"role": [role], "scope": "FOLDER_ONLY"}]),
    )
    .await;
    assert_eq!(
        ok(&app, &admin, "perm/get", json!({"id": t.team})).await,
        json!([{"user": [], "group": [], "role": [role], "auth": "ref", "scope": "FOLDER_ONLY"}])
    );
    assert_eq!(
        names(&app, &bob, "PUBLIC", true).await,
        ["team", "mine", "sub"]
    );
    not_found(
        &app,
        &bob,
        "augmented/get",
        json!({"id": t.sales}),
        &t.sales,
    )
    .await;
    denied(
        &app,
        &bob,
        "folder/update",
        json!({"id": t.team, "alias": "y"}),
        "edit",
    )
    .await;

    // A grant on a datasource reaches its schema and tables; ref reads, never writes.
    let listed = ok(
        &app,
        &admin,
        "resource/getChildList",
        json!({"id": "DATA_SOURCES"}),
    )
    .await;
    let ds = listed[0]["id"].as_str().expect("the shop").to_owned();
    grant(&app, &admin, &ds, false, json!([{"user": [bob.user_id]}])).await;
    assert_eq!(
        names(&app, &bob, "DATA_SOURCES", true).await,
        ["shop", "main", "customers", "orders"]
    );
    assert_eq!(
        ok(&app, &bob, "table/get", json!({"id": t.shop.orders})).await["name"],
        json!("orders")
    );
    ok(&app, &bob, "datasource/get", json!({"id": ds})).await;
    denied(
        &app,
        &bob,
        "table/update",
        json!({"id": t.shop.orders, "alias": "x"}),
        "edit",
    )
    .await;
    denied(
        &app,
        &bob,
        "datasource/update",
        json!({"id": ds, "desc": "x"}),
        "edit",
    )
    .await;
    denied(&app, &bob, "datasource/test", json!({"id": ds}), "edit").await;
    denied(
        &app,
        &bob,
        "dataperm/create",
        json!({"id": t.shop.orders, "rowpermItems": []}),
        "edit",
    )
    .await;
    assert_eq!(
        ok(&app, &bob, "dataperm/get", json!({"id": t.shop.orders})).await,
        json!([])
    );
}

#[tokio::test]
async fn bad_grants_are_refused_naming_the_field_and_change_nothing() {
    let (app, admin) = setup_with(local_reach).await;
    let t = tree(&app, &admin).await;
    let bob = app.create_user(&admin, "bob@weir.test").await;
    grant(
        &app,
        &admin,
        &t.team,
        false,
        json!([{"user": [bob.user_id], "auth": "read", "scope": "FOLDER_FILE"}]),
    )
    .await;
    let before = ok(&app, &admin, "perm/get", json!({"id": t.team})).await;
    for (params, start) in [
        (
            json!({"id": t.team, "permAuth": [{"user": [bob.user_id], "auth": "write"}]}),
            "paramsInfo.permAuth[0].auth: unknown auth `write` (known: ref, read, edit)",
        ),
        (
            json!({"id": t.team, "override": true,
                   "permAuth": [{"user": ["1"]}, {"role": ["2"], "scope": "ALL"}]}),
            "paramsInfo.permAuth[1].scope: unknown scope `ALL`",
        ),
        (
            json!({"id": t.team, "permAuth": [{"user": ["bob"]}]}),
            "paramsInfo.permAuth[0].user[0]: `bob` is not a user id",
        ),
        (
            json!({"id": t.team, "override": true, "permAuth": [{"auth": "edit"}]}),
            "paramsInfo.permAuth[0]: names no user, group or role",
        ),
        (
            json!({"id": t.team, "permAuth": {"user": ["1"]}}),
            "paramsInfo.permAuth: invalid type",
        ),
        (
            json!({"id": t.team, "override": "maybe", "permAuth": []}),
            "paramsInfo.override: `maybe` is not true or false",
        ),
        (json!({"permAuth": []}), "paramsInfo: missing field `id`"),
        (
            json!({"id": "12345", "override": true, "permAuth": []}),
            "resource 12345 not found",
        ),
    ] {
        failure(
            &act(&app, &admin, "perm/assignee/resource", params).await,
            start,
        );
    }
    assert_eq!(
        ok(&app, &admin, "perm/get", json!({"id": t.team})).await,
        before
    );
    // override with no rules takes every grant away.
    grant(&app, &admin, &t.team, true, json!([])).await;
    assert_eq!(
        ok(&app, &admin, "perm/get", json!({"id": t.team})).await,
        json!([])
    );
    not_found(&app, &bob, "resource/get", json!({"id": t.team}), &t.team).await;
    // A grant on a root lets a plain user make things in it.
    grant(
        &app,
        &admin,
        "PUBLIC",
        false,
        json!([{"user": [bob.user_id], "auth": "edit"}]),
    )
    .await;
    ok(
        &app,
        &bob,
        "folder/create",
        json!({"parentId": "PUBLIC", "name": "bobs"}),
    )
    .await;
}

#[tokio::test]
async fn another_tenants_ids_are_not_found() {
    let (app, admin, boss) = two_tenants_with(local_reach).await;
    let t = tree(&app, &admin).await;
    for action in ["perm/get", "resource/get", "augmented/get"] {
        not_found(&app, &boss, action, json!({"id": t.team}), &t.team).await;
    }
    not_found(
        &app,
        &boss,
        "perm/assignee/resource",
        json!({"id": t.team, "permAuth": [{"user": [boss.user_id], "auth": "edit"}]}),
        &t.team,
    )
    .await;
    // A grant naming the other tenant's user gives them nothing here.
    grant(
        &app,
        &admin,
        &t.team,
        false,
        json!([{"user": [boss.user_id], "auth": "edit", "scope": "FOLDER_FILE"}]),
    )
    .await;
    not_found(&app, &boss, "resource/get", json!({"id": t.team}), &t.team).await;
    assert!(names(&app, &boss, "PUBLIC", true).await.is_empty());
    let _ = t.sub;
}
