//! Users, user groups, roles and their links over HTTP in the Smartbi dialect (document
//! section 3): `group/*`, `user/*`, `role/*`, `usergroup/*`, `rolegroup/*`, `userrole/*`.
//! Each action's answer, the super admin check, bad input naming its field, `override`
//! against append with the failure lists, `checkParExist` / `checkGroupExist`, disabling a
//! user, group grants reaching their members in every check (native menus, BI resource
//! permissions, row permissions), and another tenant's names not found. See
//! docs/smartbi.md, "Users, groups and roles".

use serde_json::{Value, json};
use weir::smartbi_token::{TokenClaims, TokenKey, encrypt};
use weir_test_kit::{PASSWORD, Session, TestApp};

use crate::smartbi_models::{Source, act, failure, model, rows, shop, success};
use crate::support::{link, me, pluck, setup, setup_with, two_tenants};

type Answer = (u16, Value);

const DENIED: &str = "only a super admin may manage users, roles and menus";

/// Asserts `module/action` succeeds for `who`; returns its `result`.
async fn ok(app: &TestApp, who: &Session, action: &str, params: Value) -> Value {
    success(&act(app, who, action, params).await)
}

/// Asserts `module/action` fails for `who` with exactly this `msg`.
async fn refused(app: &TestApp, who: &Session, action: &str, params: Value, msg: &str) {
    let answer = act(app, who, action, params).await;
    assert_eq!(failure(&answer, ""), msg, "{action}");
}

/// The id a create answered.
fn id_of(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("an id, a string: {v}"))
        .to_owned()
}

/// `user/create` with the test password; the new id.
async fn new_user(app: &TestApp, admin: &Session, name: &str, extra: Value) -> String {
    let mut params = json!({"name": name, "password": PASSWORD});
    for (k, v) in extra.as_object().expect("an object") {
        params[k] = v.clone();
    }
    id_of(&ok(app, admin, "user/create", params).await)
}

/// `group/create` with this id and name `id` upper-cased, under `parent`.
async fn new_group(app: &TestApp, admin: &Session, id: &str, parent: Option<&str>) {
    let params = json!({"id": id, "name": id.to_uppercase(), "parentId": parent,
                        "checkParExist": true});
    assert_eq!(ok(app, admin, "group/create", params).await, json!(id));
}

/// The ids of a link listing, in order.
fn ids(list: &Value) -> Vec<String> {
    pluck(list, "id")
}

/// A password grant; the status and body.
async fn login(app: &TestApp, name: &str, password: &str) -> Answer {
    app.token_request(
        &[
            ("grant_type", "password"),
            ("username", name),
            ("password", password),
        ],
        None,
    )
    .await
}

#[tokio::test]
async fn groups_are_created_read_moved_changed_and_deleted() {
    let (app, admin) = setup().await;
    let made = ok(
        &app,
        &admin,
        "group/create",
        json!({"id": "sales", "name": "Sales", "alias": "S", "desc": "the sellers",
               "code": "S-01"}),
    )
    .await;
    assert_eq!(made, json!("sales"));
    assert_eq!(
        ok(&app, &admin, "group/get", json!({"id": "sales"})).await,
        json!({"id": "sales", "name": "Sales", "alias": "S", "desc": "the sellers",
               "code": "S-01", "parentId": "DEPARTMENT"})
    );
    // No id: a UUID is made.
    let east = id_of(
        &ok(
            &app,
            &admin,
            "group/create",
            json!({"name": "East", "parentId": "sales"}),
        )
        .await,
    );
    assert_eq!(east.len(), 36, "{east}");
    assert_eq!(
        ok(&app, &admin, "group/get", json!({"id": east})).await,
        json!({"id": east, "name": "East", "alias": "", "desc": "", "code": "",
               "parentId": "sales"})
    );
    // No id to group/get: the root.
    let root = ok(&app, &admin, "group/get", json!({})).await;
    assert_eq!(
        (&root["id"], &root["parentId"]),
        (&json!("DEPARTMENT"), &Value::Null)
    );

    // checkParExist: false (the default) puts the group at the root; true refuses.
    for check in [json!(null), json!(false), json!("false")] {
        let id = id_of(
            &ok(
                &app,
                &admin,
                "group/create",
                json!({"name": "Lost", "parentId": "nope", "checkParExist": check}),
            )
            .await,
        );
        let got = ok(&app, &admin, "group/get", json!({"id": id})).await;
        assert_eq!(got["parentId"], json!("DEPARTMENT"));
    }
    for check in [json!(true), json!("true")] {
        refused(
            &app,
            &admin,
            "group/create",
            json!({"name": "Lost", "parentId": "nope", "checkParExist": check}),
            "paramsInfo.parentId: parent group `nope` not found",
        )
        .await;
    }

    // update: alias, desc, code, name, and a move with the subtree.
    new_group(&app, &admin, "north", None).await;
    let answer = ok(
        &app,
        &admin,
        "group/update",
        json!({"id": "sales", "parentId": "north", "alias": "", "desc": "d", "code": "S-02",
               "name": "Sellers"}),
    )
    .await;
    assert_eq!(answer, json!("sales"));
    assert_eq!(
        ok(&app, &admin, "group/get", json!({"id": "sales"})).await,
        json!({"id": "sales", "name": "Sellers", "alias": "", "desc": "d", "code": "S-02",
               "parentId": "north"})
    );
    // Left-out fields stay.
    ok(
        &app,
        &admin,
        "group/update",
        json!({"id": "sales", "alias": "S2"}),
    )
    .await;
    let got = ok(&app, &admin, "group/get", json!({"id": "sales"})).await;
    assert_eq!(
        (&got["alias"], &got["desc"], &got["parentId"]),
        (&json!("S2"), &json!("d"), &json!("north"))
    );
    refused(
        &app,
        &admin,
        "group/update",
        json!({"id": "north", "parentId": east}),
        "paramsInfo.parentId: a group cannot be moved under itself or one of its subgroups",
    )
    .await;
    refused(
        &app,
        &admin,
        "group/update",
        json!({"id": "north", "parentId": "nope"}),
        "paramsInfo.parentId: parent group `nope` not found",
    )
    .await;
    refused(
        &app,
        &admin,
        "group/update",
        json!({"id": "nope", "alias": "x"}),
        "group `nope` not found",
    )
    .await;
    refused(
        &app,
        &admin,
        "group/update",
        json!({"id": "DEPARTMENT", "alias": "x"}),
        "the root group DEPARTMENT cannot be changed or deleted",
    )
    .await;

    // delete: not with subgroups, not the root; answers the id.
    refused(
        &app,
        &admin,
        "group/delete",
        json!({"id": "sales"}),
        "group has 1 subgroup(s); delete them first",
    )
    .await;
    refused(
        &app,
        &admin,
        "group/delete",
        json!({"id": "DEPARTMENT"}),
        "the root group DEPARTMENT cannot be changed or deleted",
    )
    .await;
    assert_eq!(
        ok(&app, &admin, "group/delete", json!({"id": east})).await,
        json!(east)
    );
    assert_eq!(
        ok(&app, &admin, "group/delete", json!({"id": "sales"})).await,
        json!("sales")
    );
    for action in ["group/get", "group/delete"] {
        refused(
            &app,
            &admin,
            action,
            json!({"id": "sales"}),
            "group `sales` not found",
        )
        .await;
    }

    // Bad input names the field.
    for (action, params, msg) in [
        (
            "group/create",
            json!({"id": "x"}),
            "paramsInfo.name: is required",
        ),
        (
            "group/create",
            json!({"name": "  "}),
            "paramsInfo.name: must not be empty",
        ),
        (
            "group/create",
            json!({"id": "north", "name": "N"}),
            "paramsInfo.id: a group with id `north` already exists",
        ),
        (
            "group/create",
            json!({"id": "a b", "name": "N"}),
            "paramsInfo.id: must be 1 to 64 characters of letters, digits, '-', '_' and '.'",
        ),
        (
            "group/create",
            json!({"name": "N", "desc": "x".repeat(256)}),
            "paramsInfo.desc: must be at most 255 characters",
        ),
        (
            "group/create",
            json!({"name": "N", "checkParExist": "maybe"}),
            "paramsInfo.checkParExist: `maybe` is not true or false",
        ),
        (
            "group/create",
            json!({"name": 5}),
            "paramsInfo.name: invalid type: integer `5`, expected a string",
        ),
        (
            "group/update",
            json!({"alias": "x"}),
            "paramsInfo.id: is required",
        ),
        (
            "group/update",
            json!({"id": ["north"]}),
            "paramsInfo.id: invalid type: an array, expected a string",
        ),
        ("group/delete", json!({}), "paramsInfo.id: is required"),
        ("group/delete", Value::Null, "paramsInfo.id: is required"),
    ] {
        refused(&app, &admin, action, params, msg).await;
    }
}

#[tokio::test]
async fn users_are_created_by_name_read_changed_and_deleted_by_id_or_name() {
    let (app, admin) = setup().await;
    new_group(&app, &admin, "sales", None).await;
    let carol = new_user(
        &app,
        &admin,
        "carol",
        json!({"alias": "Carol", "desc": "from sales", "groupId": "sales"}),
    )
    .await;
    assert!(carol.bytes().all(|b| b.is_ascii_digit()), "{carol}");
    let expected = json!({"id": carol, "name": "carol", "alias": "Carol",
                          "desc": "from sales", "enabled": true, "groupId": "sales",
                          "groupName": "SALES"});
    for key in [&carol, "carol"] {
        assert_eq!(
            ok(&app, &admin, "user/get", json!({"id": key})).await,
            expected
        );
    }
    // The id also as a JSON number.
    let numeric: i64 = carol.parse().expect("a numeric id");
    assert_eq!(
        ok(&app, &admin, "user/get", json!({"id": numeric})).await,
        expected
    );
    // She signs in by her name.
    assert_eq!(login(&app, "carol", PASSWORD).await.0, 200);

    // Defaults: alias is the name, the root group, enabled; no password means none known.
    let dan = id_of(
        &ok(
            &app,
            &admin,
            "user/create",
            json!({"name": "dan", "alias": ""}),
        )
        .await,
    );
    assert_eq!(
        ok(&app, &admin, "user/get", json!({"id": "dan"})).await,
        json!({"id": dan, "name": "dan", "alias": "dan", "desc": "", "enabled": true,
               "groupId": "DEPARTMENT", "groupName": "Department"})
    );
    assert_eq!(login(&app, "dan", PASSWORD).await.0, 401);
    // checkGroupExist: false puts the user at the root; true refuses.
    new_user(&app, &admin, "erin", json!({"groupId": "nope"})).await;
    let got = ok(&app, &admin, "user/get", json!({"id": "erin"})).await;
    assert_eq!(got["groupId"], json!("DEPARTMENT"));
    refused(
        &app,
        &admin,
        "user/create",
        json!({"name": "fay", "groupId": "nope", "checkGroupExist": true}),
        "paramsInfo.groupId: group `nope` not found",
    )
    .await;
    // Created disabled.
    new_user(&app, &admin, "gil", json!({"enabled": false})).await;
    let got = ok(&app, &admin, "user/get", json!({"id": "gil"})).await;
    assert_eq!(got["enabled"], json!(false));
    assert_eq!(login(&app, "gil", PASSWORD).await.0, 401);

    // update by name or id: alias, desc, password.
    let answer = ok(
        &app,
        &admin,
        "user/update",
        json!({"id": "carol", "alias": "C.", "desc": ""}),
    )
    .await;
    assert_eq!(answer, json!(carol));
    let got = ok(&app, &admin, "user/get", json!({"id": carol})).await;
    assert_eq!(
        (&got["alias"], &got["desc"], &got["groupId"]),
        (&json!("C."), &json!(""), &json!("sales"))
    );
    ok(
        &app,
        &admin,
        "user/update",
        json!({"id": carol, "password": "another-pass-1"}),
    )
    .await;
    assert_eq!(login(&app, "carol", PASSWORD).await.0, 401);
    assert_eq!(login(&app, "carol", "another-pass-1").await.0, 200);

    // delete by name or id; answers the id.
    assert_eq!(
        ok(&app, &admin, "user/delete", json!({"id": "dan"})).await,
        json!(dan)
    );
    assert_eq!(
        ok(&app, &admin, "user/delete", json!({"id": carol})).await,
        json!(carol)
    );
    for action in ["user/get", "user/update", "user/delete"] {
        refused(
            &app,
            &admin,
            action,
            json!({"id": "carol"}),
            "user `carol` not found",
        )
        .await;
        refused(
            &app,
            &admin,
            action,
            json!({"id": carol}),
            &format!("user `{carol}` not found"),
        )
        .await;
    }
    refused(
        &app,
        &admin,
        "user/delete",
        json!({"id": "admin@weir.test"}),
        "you cannot delete your own account",
    )
    .await;

    // Bad input names the field.
    for (action, params, msg) in [
        (
            "user/create",
            json!({"id": "u-1", "name": "hal"}),
            "paramsInfo.id: Weir chooses user ids, leave id out (got `u-1`); the new \
             user's id is the result",
        ),
        (
            "user/create",
            json!({"alias": "x"}),
            "paramsInfo.name: is required",
        ),
        (
            "user/create",
            json!({"name": "erin"}),
            "paramsInfo.name: username `erin` is already used by another user",
        ),
        (
            "user/create",
            json!({"name": "h al"}),
            "paramsInfo.name: must not contain spaces or control characters",
        ),
        (
            "user/create",
            json!({"name": "4711"}),
            "paramsInfo.name: must not be digits only (a name of digits would read as an \
             id where an id or a name is accepted)",
        ),
        (
            "user/create",
            json!({"name": "hal", "password": "short"}),
            "paramsInfo.password: must be 8 to 64 characters",
        ),
        (
            "user/create",
            json!({"name": "hal", "enabled": "yes"}),
            "paramsInfo.enabled: `yes` is not true or false",
        ),
        (
            "user/create",
            json!({"name": "hal", "enabled": 1}),
            "paramsInfo.enabled: invalid type: 1, expected a boolean",
        ),
        (
            "user/update",
            json!({"alias": "x"}),
            "paramsInfo.id: is required",
        ),
        (
            "user/update",
            json!({"id": "erin", "alias": " "}),
            "paramsInfo.alias: must not be empty",
        ),
        (
            "user/update",
            json!({"id": "erin", "desc": 3}),
            "paramsInfo.desc: invalid type: integer `3`, expected a string",
        ),
        (
            "user/update",
            json!({"id": "admin@weir.test", "enabled": false}),
            "paramsInfo.enabled: you cannot disable your own account",
        ),
        ("user/get", json!({"id": " "}), "paramsInfo.id: is required"),
        ("user/delete", json!({}), "paramsInfo.id: is required"),
    ] {
        refused(&app, &admin, action, params, msg).await;
    }
    // Nothing was made by the refused creates.
    refused(
        &app,
        &admin,
        "user/get",
        json!({"id": "hal"}),
        "user `hal` not found",
    )
    .await;
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_and_their_token_stops_working_until_enabled() {
    let (app, admin) = setup().await;
    new_user(&app, &admin, "ida", json!({})).await;
    let ida = app.login("ida", PASSWORD).await;
    assert_eq!(me(&app, &ida).await.0, 200);

    ok(
        &app,
        &admin,
        "user/update",
        json!({"id": "ida", "enabled": false}),
    )
    .await;
    let got = ok(&app, &admin, "user/get", json!({"id": "ida"})).await;
    assert_eq!(got["enabled"], json!(false));
    let (status, body) = me(&app, &ida).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = login(&app, "ida", PASSWORD).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error_message"]
            .as_str()
            .is_some_and(|m| m.contains("disabled")),
        "{body}"
    );

    ok(
        &app,
        &admin,
        "user/update",
        json!({"id": "ida", "enabled": "true"}),
    )
    .await;
    let ida = app.login("ida", PASSWORD).await;
    assert_eq!(me(&app, &ida).await.0, 200);
}

#[tokio::test]
async fn roles_are_created_by_name_read_changed_and_deleted() {
    let (app, admin) = setup().await;
    new_group(&app, &admin, "sales", None).await;
    let analysts = id_of(
        &ok(
            &app,
            &admin,
            "role/create",
            json!({"name": "analysts", "alias": "Analysts", "desc": "read models",
                   "groupId": "sales", "checkGroupExist": true}),
        )
        .await,
    );
    let expected = json!({"id": analysts, "name": "analysts", "alias": "Analysts",
                          "desc": "read models", "groupId": "sales", "groupName": "SALES"});
    assert_eq!(
        ok(&app, &admin, "role/get", json!({"name": "analysts"})).await,
        expected
    );
    // An id names it too.
    assert_eq!(
        ok(&app, &admin, "role/get", json!({"name": analysts})).await,
        expected
    );
    // Without a group, or an unknown one unchecked: the root.
    for params in [
        json!({"name": "viewers"}),
        json!({"name": "lost", "groupId": "nope"}),
    ] {
        let id = id_of(&ok(&app, &admin, "role/create", params.clone()).await);
        let got = ok(&app, &admin, "role/get", json!({"name": params["name"]})).await;
        assert_eq!(
            got,
            json!({"id": id, "name": params["name"], "alias": "", "desc": "",
                   "groupId": "DEPARTMENT", "groupName": "Department"})
        );
    }
    // Belonging is not a grant: nobody holds the roles yet, and no group has them.
    let (_, mine) = me(&app, &admin).await;
    assert_eq!(pluck(&mine["data"]["roles"], "role_name"), ["super_admin"]);
    assert_eq!(
        ok(
            &app,
            &admin,
            "rolegroup/get",
            json!({"rolename": "viewers"})
        )
        .await,
        json!([])
    );
    refused(
        &app,
        &admin,
        "role/create",
        json!({"name": "x", "groupId": "nope", "checkGroupExist": "true"}),
        "paramsInfo.groupId: group `nope` not found",
    )
    .await;

    // update: alias and desc, by name.
    let answer = ok(
        &app,
        &admin,
        "role/update",
        json!({"name": "analysts", "alias": "A2", "desc": ""}),
    )
    .await;
    assert_eq!(answer, json!(analysts));
    let got = ok(&app, &admin, "role/get", json!({"name": "analysts"})).await;
    assert_eq!(
        (&got["alias"], &got["desc"], &got["groupId"]),
        (&json!("A2"), &json!(""), &json!("sales"))
    );
    refused(
        &app,
        &admin,
        "role/update",
        json!({"name": "super_admin", "alias": "x"}),
        "the built-in super admin role cannot be changed or deleted",
    )
    .await;

    // delete: not while it has users; answers the id.
    let bob = new_user(&app, &admin, "bob", json!({})).await;
    ok(
        &app,
        &admin,
        "userrole/update",
        json!({"userid": bob, "roleList": ["analysts"]}),
    )
    .await;
    refused(
        &app,
        &admin,
        "role/delete",
        json!({"name": "analysts"}),
        "role still has 1 user(s); disassociate them first",
    )
    .await;
    ok(
        &app,
        &admin,
        "userrole/delete",
        json!({"userid": "bob", "roleList": ["analysts"]}),
    )
    .await;
    assert_eq!(
        ok(&app, &admin, "role/delete", json!({"name": "analysts"})).await,
        json!(analysts)
    );
    for action in ["role/get", "role/update", "role/delete"] {
        refused(
            &app,
            &admin,
            action,
            json!({"name": "analysts"}),
            "role `analysts` not found",
        )
        .await;
    }
    refused(
        &app,
        &admin,
        "role/delete",
        json!({"name": "super_admin"}),
        "the built-in super admin role cannot be changed or deleted",
    )
    .await;
    // A role whose group is deleted is filed at the root again.
    new_group(&app, &admin, "tmp", None).await;
    ok(
        &app,
        &admin,
        "role/create",
        json!({"name": "filed", "groupId": "tmp"}),
    )
    .await;
    ok(&app, &admin, "group/delete", json!({"id": "tmp"})).await;
    let got = ok(&app, &admin, "role/get", json!({"name": "filed"})).await;
    assert_eq!(
        (&got["groupId"], &got["groupName"]),
        (&json!("DEPARTMENT"), &json!("Department"))
    );

    // Bad input names the field.
    for (action, params, msg) in [
        ("role/create", json!({}), "paramsInfo.name: is required"),
        (
            "role/create",
            json!({"name": ""}),
            "paramsInfo.name: is required",
        ),
        (
            "role/create",
            json!({"name": "viewers"}),
            "paramsInfo.name: a role named `viewers` already exists",
        ),
        (
            "role/create",
            json!({"name": "123"}),
            "paramsInfo.name: must not be digits only (a name of digits would read as an \
             id where an id or a name is accepted)",
        ),
        (
            "role/create",
            json!({"name": "long", "alias": "x".repeat(65)}),
            "paramsInfo.alias: must be at most 64 characters",
        ),
        (
            "role/update",
            json!({"name": "viewers", "desc": "x".repeat(256)}),
            "paramsInfo.desc: must be at most 255 characters",
        ),
        (
            "role/update",
            json!({"name": {"a": 1}}),
            "paramsInfo.name: invalid type: an object, expected a string",
        ),
        (
            "role/get",
            json!({"id": "viewers"}),
            "paramsInfo.name: is required",
        ),
        ("role/delete", Value::Null, "paramsInfo.name: is required"),
    ] {
        refused(&app, &admin, action, params, msg).await;
    }
}

#[tokio::test]
async fn a_users_groups_are_appended_or_overridden_and_failures_are_listed() {
    let (app, admin) = setup().await;
    for g in ["a", "b", "c"] {
        new_group(&app, &admin, g, None).await;
    }
    let erin = new_user(&app, &admin, "erin", json!({})).await;
    let get = |key: &str| json!({"userid": key});

    // Append (the default): unknown groups are listed, the rest added, the default kept.
    let failed = ok(
        &app,
        &admin,
        "usergroup/update",
        json!({"userid": "erin", "groupList": ["a", "nope", "a"]}),
    )
    .await;
    assert_eq!(
        failed,
        json!([{"id": "nope", "msg": "group `nope` not found"}])
    );
    let listed = ok(&app, &admin, "usergroup/get", get("erin")).await;
    assert_eq!(ids(&listed), ["DEPARTMENT", "a"]);
    assert_eq!(
        listed[1],
        json!({"id": "a", "name": "A", "alias": "", "desc": "", "code": ""})
    );
    let user = ok(&app, &admin, "user/get", json!({"id": "erin"})).await;
    assert_eq!(user["groupId"], json!("DEPARTMENT"));

    // A new default among the groups, by the user's id.
    let failed = ok(
        &app,
        &admin,
        "usergroup/update",
        json!({"userid": erin, "groupList": ["b"], "defaultGroupId": "b",
               "override": false}),
    )
    .await;
    assert_eq!(failed, json!([]));
    assert_eq!(
        ids(&ok(&app, &admin, "usergroup/get", get(&erin)).await),
        ["DEPARTMENT", "a", "b"]
    );
    let user = ok(&app, &admin, "user/get", json!({"id": "erin"})).await;
    assert_eq!(
        (&user["groupId"], &user["groupName"]),
        (&json!("b"), &json!("B"))
    );
    // A default the user will not be in is listed and not applied.
    let failed = ok(
        &app,
        &admin,
        "usergroup/update",
        json!({"userid": "erin", "groupList": ["a"], "defaultGroupId": "c"}),
    )
    .await;
    assert_eq!(
        failed,
        json!([{"id": "c", "msg": "the default group must be one of the groups"}])
    );
    let user = ok(&app, &admin, "user/get", json!({"id": "erin"})).await;
    assert_eq!(user["groupId"], json!("b"));

    // Override: only the groups named, the first one the default.
    let failed = ok(
        &app,
        &admin,
        "usergroup/update",
        json!({"userid": "erin", "groupList": ["c", "a"], "override": "true"}),
    )
    .await;
    assert_eq!(failed, json!([]));
    assert_eq!(
        ids(&ok(&app, &admin, "usergroup/get", get("erin")).await),
        ["a", "c"]
    );
    let user = ok(&app, &admin, "user/get", json!({"id": "erin"})).await;
    assert_eq!(user["groupId"], json!("c"));
    // Override with a default named.
    ok(
        &app,
        &admin,
        "usergroup/update",
        json!({"userid": "erin", "groupList": ["b", "c"], "override": true,
               "defaultGroupId": "c"}),
    )
    .await;
    assert_eq!(
        ids(&ok(&app, &admin, "usergroup/get", get("erin")).await),
        ["b", "c"]
    );
    let user = ok(&app, &admin, "user/get", json!({"id": "erin"})).await;
    assert_eq!(user["groupId"], json!("c"));

    // delete: answers nothing; groups the user is not in are ignored.
    assert_eq!(
        ok(
            &app,
            &admin,
            "usergroup/delete",
            json!({"userid": "erin", "groupList": ["b", "a", "nope"]}),
        )
        .await,
        Value::Null
    );
    assert_eq!(
        ids(&ok(&app, &admin, "usergroup/get", get("erin")).await),
        ["c"]
    );

    // Bad input names the field; an unknown user is refused whole.
    for (action, params, msg) in [
        (
            "usergroup/update",
            json!({"userid": "nope", "groupList": ["a"]}),
            "user `nope` not found",
        ),
        (
            "usergroup/update",
            json!({"groupList": ["a"]}),
            "paramsInfo.userid: is required",
        ),
        (
            "usergroup/update",
            json!({"userid": "erin"}),
            "paramsInfo.groupList: is required",
        ),
        (
            "usergroup/update",
            json!({"userid": "erin", "groupList": []}),
            "paramsInfo.groupList: must name at least one group",
        ),
        (
            "usergroup/update",
            json!({"userid": "erin", "groupList": "a"}),
            "paramsInfo.groupList: invalid type: string \"a\", expected a sequence",
        ),
        (
            "usergroup/update",
            json!({"userid": "erin", "groupList": ["a", true]}),
            "paramsInfo.groupList[1]: invalid type: a boolean, expected a string",
        ),
        (
            "usergroup/update",
            json!({"userid": "erin", "groupList": ["a"], "override": "sometimes"}),
            "paramsInfo.override: `sometimes` is not true or false",
        ),
        (
            "usergroup/delete",
            json!({"userid": "nope", "groupList": ["a"]}),
            "user `nope` not found",
        ),
        (
            "usergroup/delete",
            json!({"userid": "erin", "groupList": [""]}),
            "paramsInfo.groupList[0]: must not be empty",
        ),
        ("usergroup/get", json!({}), "paramsInfo.userid: is required"),
        (
            "usergroup/get",
            json!({"userid": "nope"}),
            "user `nope` not found",
        ),
    ] {
        refused(&app, &admin, action, params, msg).await;
    }
    // Nothing changed.
    assert_eq!(
        ids(&ok(&app, &admin, "usergroup/get", get("erin")).await),
        ["c"]
    );
}

#[tokio::test]
async fn a_roles_groups_and_a_users_roles_are_appended_or_overridden() {
    let (app, admin) = setup().await;
    for g in ["a", "b", "c"] {
        new_group(&app, &admin, g, None).await;
    }
    let mut roles = Vec::new();
    for name in ["r1", "r2", "r3"] {
        let id = id_of(
            &ok(
                &app,
                &admin,
                "role/create",
                json!({"name": name, "alias": name.to_uppercase(), "desc": "d"}),
            )
            .await,
        );
        roles.push(id);
    }
    let fay = new_user(&app, &admin, "fay", json!({})).await;

    // rolegroup: append, failures, override, delete.
    let failed = ok(
        &app,
        &admin,
        "rolegroup/update",
        json!({"rolename": "r1", "groupList": ["a", "nope"]}),
    )
    .await;
    assert_eq!(
        failed,
        json!([{"id": "nope", "msg": "group `nope` not found"}])
    );
    ok(
        &app,
        &admin,
        "rolegroup/update",
        json!({"rolename": "r1", "groupList": ["b"]}),
    )
    .await;
    let listed = ok(&app, &admin, "rolegroup/get", json!({"rolename": "r1"})).await;
    assert_eq!(
        listed,
        json!([{"id": "a", "name": "A", "alias": "", "desc": ""},
               {"id": "b", "name": "B", "alias": "", "desc": ""}])
    );
    let failed = ok(
        &app,
        &admin,
        "rolegroup/update",
        json!({"rolename": "r1", "groupList": ["c", "b"], "override": true}),
    )
    .await;
    assert_eq!(failed, json!([]));
    assert_eq!(
        ids(&ok(&app, &admin, "rolegroup/get", json!({"rolename": "r1"})).await),
        ["b", "c"]
    );
    assert_eq!(
        ok(
            &app,
            &admin,
            "rolegroup/delete",
            json!({"rolename": "r1", "groupList": ["c", "nope"]}),
        )
        .await,
        Value::Null
    );
    assert_eq!(
        ids(&ok(&app, &admin, "rolegroup/get", json!({"rolename": "r1"})).await),
        ["b"]
    );

    // userrole: by role name; unknown names listed; override; delete by id or name.
    let failed = ok(
        &app,
        &admin,
        "userrole/update",
        json!({"userid": "fay", "roleList": ["r1", "nope", "r2"]}),
    )
    .await;
    assert_eq!(
        failed,
        json!([{"id": "nope", "msg": "role `nope` not found"}])
    );
    let listed = ok(&app, &admin, "userrole/get", json!({"userid": fay})).await;
    assert_eq!(
        listed,
        json!([{"id": roles[0], "name": "r1", "alias": "R1", "desc": "d"},
               {"id": roles[1], "name": "r2", "alias": "R2", "desc": "d"}])
    );
    let failed = ok(
        &app,
        &admin,
        "userrole/update",
        json!({"userid": "fay", "roleList": ["r3", "r2"], "override": true}),
    )
    .await;
    assert_eq!(failed, json!([]));
    assert_eq!(
        pluck(
            &ok(&app, &admin, "userrole/get", json!({"userid": "fay"})).await,
            "name"
        ),
        ["r2", "r3"]
    );
    // Fay holds them: the native API shows it.
    let session = app.login("fay", PASSWORD).await;
    let (_, mine) = me(&app, &session).await;
    assert_eq!(pluck(&mine["data"]["roles"], "role_name"), ["r2", "r3"]);
    assert_eq!(
        ok(
            &app,
            &admin,
            "userrole/delete",
            json!({"userid": "fay", "roleList": [roles[1], "r3", "nope"]}),
        )
        .await,
        Value::Null
    );
    assert_eq!(
        ok(&app, &admin, "userrole/get", json!({"userid": "fay"})).await,
        json!([])
    );
    // The last super admin stays.
    refused(
        &app,
        &admin,
        "userrole/update",
        json!({"userid": "admin@weir.test", "roleList": ["r1"], "override": true}),
        "paramsInfo.roleList: would leave the super admin role without any user",
    )
    .await;
    refused(
        &app,
        &admin,
        "userrole/delete",
        json!({"userid": "admin@weir.test", "roleList": ["super_admin"]}),
        "paramsInfo.roleList: would leave the super admin role without any user",
    )
    .await;
    let (_, mine) = me(&app, &admin).await;
    assert_eq!(pluck(&mine["data"]["roles"], "role_name"), ["super_admin"]);

    // Bad input names the field.
    for (action, params, msg) in [
        (
            "rolegroup/update",
            json!({"rolename": "nope", "groupList": ["a"]}),
            "role `nope` not found",
        ),
        (
            "rolegroup/update",
            json!({"groupList": ["a"]}),
            "paramsInfo.rolename: is required",
        ),
        (
            "rolegroup/delete",
            json!({"rolename": "r1"}),
            "paramsInfo.groupList: is required",
        ),
        (
            "rolegroup/get",
            json!({}),
            "paramsInfo.rolename: is required",
        ),
        (
            "rolegroup/get",
            json!({"rolename": "nope"}),
            "role `nope` not found",
        ),
        (
            "userrole/update",
            json!({"userid": "nope", "roleList": ["r1"]}),
            "user `nope` not found",
        ),
        (
            "userrole/update",
            json!({"userid": "fay", "roleList": []}),
            "paramsInfo.roleList: must name at least one role",
        ),
        (
            "userrole/update",
            json!({"userid": "fay", "roleList": {"r1": true}}),
            "paramsInfo.roleList: invalid type: map, expected a sequence",
        ),
        (
            "userrole/delete",
            json!({"userid": "fay"}),
            "paramsInfo.roleList: is required",
        ),
        (
            "userrole/get",
            json!({"userid": 1.5}),
            "paramsInfo.userid: invalid type: a number that is not an integer, expected a string",
        ),
    ] {
        refused(&app, &admin, action, params, msg).await;
    }
}

#[tokio::test]
async fn only_a_super_admin_manages_users_groups_and_roles() {
    let (app, admin) = setup().await;
    let bob = app.create_user(&admin, "bob@weir.test").await;
    new_group(&app, &admin, "a", None).await;
    let calls = [
        ("group/create", json!({"name": "G"})),
        ("group/update", json!({"id": "a", "alias": "x"})),
        ("group/delete", json!({"id": "a"})),
        ("group/get", json!({"id": "a"})),
        ("user/create", json!({"name": "zed"})),
        ("user/update", json!({"id": "bob@weir.test", "alias": "x"})),
        ("user/delete", json!({"id": "admin@weir.test"})),
        ("user/get", json!({"id": "bob@weir.test"})),
        ("role/create", json!({"name": "mine"})),
        ("role/update", json!({"name": "super_admin"})),
        ("role/delete", json!({"name": "super_admin"})),
        ("role/get", json!({"name": "super_admin"})),
        (
            "usergroup/update",
            json!({"userid": "bob@weir.test", "groupList": ["a"]}),
        ),
        (
            "usergroup/delete",
            json!({"userid": "bob@weir.test", "groupList": ["DEPARTMENT"]}),
        ),
        ("usergroup/get", json!({"userid": "bob@weir.test"})),
        (
            "rolegroup/update",
            json!({"rolename": "super_admin", "groupList": ["DEPARTMENT"]}),
        ),
        (
            "rolegroup/delete",
            json!({"rolename": "super_admin", "groupList": ["a"]}),
        ),
        ("rolegroup/get", json!({"rolename": "super_admin"})),
        (
            "userrole/update",
            json!({"userid": "bob@weir.test", "roleList": ["super_admin"]}),
        ),
        (
            "userrole/delete",
            json!({"userid": "admin@weir.test", "roleList": ["super_admin"]}),
        ),
        ("userrole/get", json!({"userid": "bob@weir.test"})),
    ];
    for (action, params) in &calls {
        refused(&app, &bob, action, params.clone(), DENIED).await;
        // Whatever the parameters: the caller is checked first.
        refused(&app, &bob, action, json!("garbage"), DENIED).await;
        // No credentials at all.
        let res = app
            .client()
            .post(app.url(&format!("/smartbi/vision/api/{action}")))
            .form(&[("paramsInfo", params.to_string())])
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status().as_u16(), 200);
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["success"], json!(false), "{body}");
        assert!(
            body["msg"]
                .as_str()
                .is_some_and(|m| m.starts_with("smartbiToken is missing")),
            "{body}"
        );
    }
    // Nothing changed: Bob is still not a super admin, the group is still there.
    let (_, mine) = me(&app, &bob).await;
    assert_eq!(mine["data"]["super_admin"], json!(false));
    assert_eq!(
        ok(&app, &admin, "group/get", json!({"id": "a"})).await["id"],
        json!("a")
    );

    // The admin's malformed paramsInfo is refused by the frame, not read.
    let res = app
        .client()
        .post(app.url("/smartbi/vision/api/group/create"))
        .bearer_auth(&admin.access_token)
        .form(&[("paramsInfo", "{\"name\": ")])
        .send()
        .await
        .expect("sent");
    let body: Value = res.json().await.expect("json");
    assert!(
        body["msg"]
            .as_str()
            .is_some_and(|m| m.starts_with("paramsInfo is not valid JSON")),
        "{body}"
    );
    refused(
        &app,
        &admin,
        "group/create",
        json!(["a"]),
        "paramsInfo must be a JSON object, not an array",
    )
    .await;
    refused(
        &app,
        &admin,
        "userrole/get",
        json!("fay"),
        "paramsInfo must be a JSON object, not a string",
    )
    .await;
    refused(
        &app,
        &admin,
        "user/frobnicate",
        json!({}),
        "unknown action user/frobnicate",
    )
    .await;
}

/// The test servers' `smartbi.token_key` (as in smartbi_dialect.rs).
const KEY: &str = "5f1c0a9e8d7b6c5a4f3e2d1c0b0a99887766554433221100ffeeddccbbaa9988";

fn smartbi_token(username: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    encrypt(
        &TokenKey::parse(KEY).expect("key"),
        &TokenClaims::new(now, username),
    )
}

async fn with_token(app: &TestApp, token: &str, action: &str, params: Value) -> Value {
    let res = app
        .client()
        .post(app.url(&format!("/vision/api/{action}")))
        .form(&[("smartbiToken", token), ("paramsInfo", &params.to_string())])
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status().as_u16(), 200);
    res.json().await.expect("json")
}

#[tokio::test]
async fn smartbi_tokens_work_and_a_disabled_users_token_is_refused() {
    let app = TestApp::spawn_with(|s| s.smartbi.token_key = Some(KEY.into())).await;
    let admin = app.register_admin().await;
    let body = with_token(
        &app,
        &smartbi_token("admin@weir.test"),
        "user/create",
        json!({"name": "kim", "password": PASSWORD}),
    )
    .await;
    assert_eq!(body["success"], json!(true), "{body}");
    let kim = id_of(&body["result"]);
    // Kim, made without an email, is named by her name in a token.
    let body = with_token(&app, &smartbi_token("kim"), "system/whoami", json!({})).await;
    assert_eq!(
        body["result"],
        json!({"username": "kim", "tenant": "default"})
    );
    let body = with_token(&app, &smartbi_token("kim"), "user/get", json!({"id": kim})).await;
    assert_eq!(
        (&body["success"], &body["msg"]),
        (&json!(false), &json!(DENIED))
    );

    ok(
        &app,
        &admin,
        "user/update",
        json!({"id": kim, "enabled": false}),
    )
    .await;
    let body = with_token(&app, &smartbi_token("kim"), "system/whoami", json!({})).await;
    assert_eq!(
        (&body["success"], &body["msg"]),
        (&json!(false), &json!("this account is disabled"))
    );
}

#[tokio::test]
async fn a_group_grant_reaches_its_members_in_every_check() {
    let (app, admin) = setup_with(weir_test_kit::local_reach).await;
    let bob = app.create_user(&admin, "bob@weir.test").await;
    let carol = app.create_user(&admin, "carol@weir.test").await;
    new_group(&app, &admin, "sales", None).await;

    // A role with a native menu, granted to the group (Smartbi), before Bob joins it.
    let role = id_of(&ok(&app, &admin, "role/create", json!({"name": "viewers"})).await);
    let menu = app.menu_id(&admin, "device.view").await;
    link(&app, &admin, &role, "associate-menu", &[&menu]).await;
    ok(
        &app,
        &admin,
        "rolegroup/update",
        json!({"rolename": "viewers", "groupList": ["sales"]}),
    )
    .await;
    let codes = |v: &Value| pluck(&v["data"]["menus"], "code");
    let (_, before) = me(&app, &bob).await;
    assert!(
        !codes(&before).contains(&"device.view".to_owned()),
        "{before}"
    );

    // The BI side: a model, read for the group; a row permission naming the group.
    let src = Source::new();
    let shop = shop(&app, &admin, &src).await;
    let sales = id_of(&ok(&app, &admin, "augmented/create", model(&shop)).await);
    ok(
        &app,
        &admin,
        "perm/assignee/resource",
        json!({"id": sales, "permAuth": [{"group": ["sales"], "auth": "read"},
                                         {"user": [carol.user_id], "auth": "read"}]}),
    )
    .await;
    let failed = ok(
        &app,
        &admin,
        "dataperm/create",
        json!({"id": shop.customers, "rowpermItems": [
            {"itemName": "north", "group": ["sales"],
             "expression": {"type": "FILTER", "fieldId": "region", "operator": "=",
                            "value": "north"}}]}),
    )
    .await;
    assert_eq!(failed, json!([]));
    let query = json!({"id": sales, "dimensions": ["region"], "measures": ["sales"],
                       "order": [{"field": "region"}]});
    let everything = [[json!("north"), json!(15.0)], [json!("south"), json!(4.0)]];
    failure(
        &act(&app, &bob, "augmented/query", query.clone()).await,
        &format!("resource {sales} not found"),
    );

    // Bob joins the group (by his id): the menu, the model, narrowed to north.
    let failed = ok(
        &app,
        &admin,
        "usergroup/update",
        json!({"userid": bob.user_id, "groupList": ["sales"]}),
    )
    .await;
    assert_eq!(failed, json!([]));
    let (_, after) = me(&app, &bob).await;
    assert!(codes(&after).contains(&"device.view".to_owned()), "{after}");
    assert_eq!(pluck(&after["data"]["roles"], "role_name"), ["viewers"]);
    assert_eq!(
        rows(&ok(&app, &bob, "augmented/query", query.clone()).await),
        [[json!("north"), json!(15.0)]]
    );
    // Carol, outside the group, reads it all.
    assert_eq!(
        rows(&ok(&app, &carol, "augmented/query", query.clone()).await),
        everything
    );

    // Bob leaves the group: all three are gone.
    ok(
        &app,
        &admin,
        "usergroup/delete",
        json!({"userid": "bob@weir.test", "groupList": ["sales"]}),
    )
    .await;
    let (_, left) = me(&app, &bob).await;
    assert!(!codes(&left).contains(&"device.view".to_owned()), "{left}");
    failure(
        &act(&app, &bob, "augmented/query", query.clone()).await,
        &format!("resource {sales} not found"),
    );

    // The role given to Bob directly (userrole) brings the menu back, not the model:
    // that was granted to the group.
    ok(
        &app,
        &admin,
        "userrole/update",
        json!({"userid": "bob@weir.test", "roleList": ["viewers"]}),
    )
    .await;
    let (_, direct) = me(&app, &bob).await;
    assert!(
        codes(&direct).contains(&"device.view".to_owned()),
        "{direct}"
    );
    failure(
        &act(&app, &bob, "augmented/query", query).await,
        &format!("resource {sales} not found"),
    );
}

#[tokio::test]
async fn another_tenants_users_groups_and_roles_are_not_found() {
    let (app, admin, boss) = two_tenants().await;
    new_group(&app, &boss, "acme-sales", None).await;
    let acme_user = new_user(&app, &boss, "acme-user", json!({})).await;
    ok(&app, &boss, "role/create", json!({"name": "acme-role"})).await;
    let default_user = new_user(&app, &admin, "local", json!({})).await;

    refused(
        &app,
        &admin,
        "group/get",
        json!({"id": "acme-sales"}),
        "group `acme-sales` not found",
    )
    .await;
    for key in ["acme-user", acme_user.as_str(), "boss@acme.test"] {
        refused(
            &app,
            &admin,
            "user/get",
            json!({"id": key}),
            &format!("user `{key}` not found"),
        )
        .await;
        refused(
            &app,
            &admin,
            "user/delete",
            json!({"id": key}),
            &format!("user `{key}` not found"),
        )
        .await;
    }
    refused(
        &app,
        &admin,
        "role/get",
        json!({"name": "acme-role"}),
        "role `acme-role` not found",
    )
    .await;
    let failed = ok(
        &app,
        &admin,
        "usergroup/update",
        json!({"userid": default_user, "groupList": ["acme-sales"]}),
    )
    .await;
    assert_eq!(
        failed,
        json!([{"id": "acme-sales", "msg": "group `acme-sales` not found"}])
    );
    let failed = ok(
        &app,
        &admin,
        "userrole/update",
        json!({"userid": "local", "roleList": ["acme-role"]}),
    )
    .await;
    assert_eq!(
        failed,
        json!([{"id": "acme-role", "msg": "role `acme-role` not found"}])
    );
    // Names are per tenant: the same ones are free here.
    new_group(&app, &admin, "acme-sales", None).await;
    new_user(&app, &admin, "acme-user", json!({})).await;
    ok(&app, &admin, "role/create", json!({"name": "acme-role"})).await;
    // And Acme's are untouched.
    let got = ok(&app, &boss, "user/get", json!({"id": "acme-user"})).await;
    assert_eq!(got["id"], json!(acme_user));
}
