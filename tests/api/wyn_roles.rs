//! The Wyn dialect's Identity-Role API v2 (`/api/v2/identity/roles`): the thirteen
//! operations, their models, `ApiErrorResult` refusals, tenants, and permissions granted
//! here governing the native API.

use serde_json::{Value, json};
use weir_test_kit::{Session, TestApp};

use crate::support::{
    ACME, Answer, UNKNOWN_ID, link, new_role, ok, send, setup, setup_with_user, super_admin_role,
    two_tenants,
};

const ROLES: &str = "/api/v2/identity/roles";

// ---- calls and answers ----

fn role_path(id: &str, tail: &str) -> String {
    format!("{ROLES}/{id}{tail}")
}

async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    who: Option<&Session>,
    body: Option<Value>,
) -> Answer {
    app.call(method, path, who, body).await
}

/// Asserts a 200 answer and returns its body.
fn success(answer: &Answer) -> &Value {
    assert_eq!(answer.0, 200, "{}", answer.1);
    &answer.1
}

/// Asserts an `ApiErrorResult` with this status and code; returns the one error.
fn refused(answer: &Answer, status: u16, code: &str) -> Value {
    let (got, body) = answer;
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("not an ApiErrorResult: {got} {body}"));
    assert_eq!(errors.len(), 1, "{body}");
    let error = &errors[0];
    assert_eq!(
        (*got, error["code"].as_str()),
        (status, Some(code)),
        "{body}"
    );
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        error.as_object().is_some_and(|o| o.contains_key("context")),
        "{body}"
    );
    error.clone()
}

/// Asserts a 400 `code` whose context is `context`.
fn bad(answer: &Answer, code: &str, context: &str) {
    let error = refused(answer, 400, code);
    assert_eq!(error["context"], context, "{error}");
}

/// Creates a role through Wyn as `who`; returns the answered `RoleBizModel`.
async fn create(app: &TestApp, who: &Session, body: Value) -> Value {
    let answer = call(app, "POST", ROLES, Some(who), Some(body)).await;
    assert_eq!(answer.0, 201, "{}", answer.1);
    answer.1
}

async fn create_named(app: &TestApp, who: &Session, name: &str) -> String {
    id_of(&create(app, who, json!({"name": name})).await)
}

fn id_of(role: &Value) -> String {
    role["id"].as_str().expect("id").to_owned()
}

async fn list(app: &TestApp, who: &Session, path: &str) -> Vec<Value> {
    success(&call(app, "GET", path, Some(who), None).await)
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {path}"))
        .clone()
}

fn names(roles: &[Value]) -> Vec<&str> {
    roles
        .iter()
        .map(|r| r["name"].as_str().unwrap_or_default())
        .collect()
}

fn find<'a>(roles: &'a [Value], name: &str) -> &'a Value {
    roles
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no role {name}"))
}

async fn role_count(app: &TestApp, admin: &Session) -> u64 {
    let answer = call(
        app,
        "GET",
        &format!("{ROLES}?SearchType=Count"),
        Some(admin),
        None,
    )
    .await;
    success(&answer)["count"].as_u64().expect("count")
}

/// Asserts a Wyn time: `yyyy-MM-dd HH:mm:ss.fff`, within a day of now.
fn assert_wyn_time(v: &Value) {
    let s = v.as_str().unwrap_or_else(|| panic!("not a time: {v}"));
    let b = s.as_bytes();
    assert_eq!(b.len(), 23, "{s}");
    for (i, c) in b.iter().enumerate() {
        match i {
            4 | 7 => assert_eq!(*c, b'-', "{s}"),
            10 => assert_eq!(*c, b' ', "{s}"),
            13 | 16 => assert_eq!(*c, b':', "{s}"),
            19 => assert_eq!(*c, b'.', "{s}"),
            _ => assert!(c.is_ascii_digit(), "{s}"),
        }
    }
    let year: i32 = s[..4].parse().expect("year");
    assert!((2024..2100).contains(&year), "{s}");
}

fn user_ids(users: &Value) -> Vec<String> {
    users
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["id"].as_str().expect("id").to_owned())
        .collect()
}

// ---- POST /roles ----

#[tokio::test]
async fn wyn_create_role_answers_201_with_the_role() {
    let (app, admin, user) = setup_with_user("ops@weir.test").await;
    let body = json!({
        "name": "DataManager",
        "permissions": ["view-device", "view-dashboard"],
        "members": [user.user_id],
        "id": "ignored", "creatorId": "ignored", "createTime": "ignored", "extra": 1,
    });
    let req = app
        .client()
        .post(app.url(ROLES))
        .bearer_auth(&admin.access_token)
        .json(&body);
    let ((status, role), headers) = send(req).await;
    assert_eq!(status, 201, "{role}");
    let id = id_of(&role);
    assert!(id.parse::<i64>().is_ok_and(|n| n > 0), "{role}");
    assert_eq!(
        headers.get("location").and_then(|v| v.to_str().ok()),
        Some(role_path(&id, "").as_str())
    );
    assert_wyn_time(&role["createTime"]);
    let expected = json!({
        "id": id,
        "name": "DataManager",
        "creatorId": admin.user_id,
        "createTime": role["createTime"],
        "isBuiltin": false,
        "allowEditPermissions": true,
        // In the catalogue's order.
        "permissions": ["view-dashboard", "view-device"],
        "members": [user.user_id],
        "tenantId": null,
    });
    assert_eq!(role, expected);
    let got = call(
        &app,
        "GET",
        &role_path(&id, "?includePermission=true"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(success(&got), &expected);
}

#[tokio::test]
async fn wyn_create_role_takes_the_flags_and_the_callers_own_organisation() {
    let (app, admin) = setup().await;
    let role = create(
        &app,
        &admin,
        json!({"name": "Auditors", "allowEditPermissions": false, "tenantId": "default", "isBuiltin": false}),
    )
    .await;
    assert_eq!(
        (
            &role["allowEditPermissions"],
            &role["tenantId"],
            &role["permissions"],
            &role["members"]
        ),
        (&json!(false), &json!("default"), &json!([]), &json!([]))
    );
    let global = create(&app, &admin, json!({"name": "Global", "tenantId": null})).await;
    assert_eq!(global["tenantId"], Value::Null);
}

#[tokio::test]
async fn wyn_create_role_refuses_bad_bodies_and_changes_nothing() {
    let (app, admin, _boss) = two_tenants().await;
    let before = role_count(&app, &admin).await;
    for raw in ["{\"name\": ", "{name: 1}", "not json"] {
        let answer = app
            .call_raw("POST", ROLES, Some(&admin), "application/json", raw)
            .await;
        refused(&answer, 400, "InvalidJson");
    }
    let empty = app
        .call_raw("POST", ROLES, Some(&admin), "application/json", "")
        .await;
    refused(&empty, 400, "InvalidJson");
    let long = "x".repeat(65);
    let cases = [
        (json!({"name": 5}), "InvalidArgument", "name"),
        (
            json!({"name": "a", "permissions": "view-device"}),
            "InvalidArgument",
            "permissions",
        ),
        (
            json!({"name": "a", "allowEditPermissions": "yes"}),
            "InvalidArgument",
            "allowEditPermissions",
        ),
        (
            json!({"name": "a", "members": ["abc"]}),
            "InvalidArgument",
            "members[0]",
        ),
        (json!([{"name": "a"}]), "InvalidArgument", "body"),
        (json!({}), "InvalidArgument", "name"),
        (json!({"name": "   "}), "InvalidArgument", "name"),
        (json!({"name": long}), "InvalidArgument", "name"),
        (
            json!({"name": "a", "isBuiltin": true}),
            "InvalidArgument",
            "isBuiltin",
        ),
        (
            json!({"name": "a", "tenantId": ACME}),
            "InvalidArgument",
            "tenantId",
        ),
        (
            json!({"name": "a", "permissions": ["view-device", "fly"]}),
            "UnknownPermission",
            "fly",
        ),
        (
            json!({"name": "a", "members": [UNKNOWN_ID]}),
            "UserNotFound",
            UNKNOWN_ID,
        ),
        (json!({"name": "super_admin"}), "RoleNameExists", "name"),
    ];
    for (body, code, context) in cases {
        let answer = call(&app, "POST", ROLES, Some(&admin), Some(body.clone())).await;
        bad(&answer, code, context);
    }
    assert_eq!(
        role_count(&app, &admin).await,
        before,
        "nothing was created"
    );
    // A name taken by another role of the tenant, in another case of the same name, too.
    create_named(&app, &admin, "operators").await;
    let again = call(
        &app,
        "POST",
        ROLES,
        Some(&admin),
        Some(json!({"name": "operators"})),
    )
    .await;
    bad(&again, "RoleNameExists", "name");
}

// ---- GET /roles, /roles/non-org-roles ----

#[tokio::test]
async fn wyn_list_roles_includes_what_the_query_asks() {
    let (app, admin, user) = setup_with_user("ops@weir.test").await;
    let body =
        json!({"name": "operators", "permissions": ["view-device"], "members": [user.user_id]});
    let id = id_of(&create(&app, &admin, body).await);
    let plain = list(&app, &admin, ROLES).await;
    let mut got = names(&plain);
    got.sort_unstable();
    assert_eq!(got, ["operators", "super_admin"]);
    let ops = find(&plain, "operators");
    assert_eq!(ops["id"], id);
    assert_eq!(
        (&ops["permissions"], &ops["members"]),
        (&Value::Null, &Value::Null)
    );
    let sa = find(&plain, "super_admin");
    assert_eq!(
        (&sa["isBuiltin"], &sa["allowEditPermissions"]),
        (&json!(true), &json!(false))
    );
    // Parameter names and boolean values in any case.
    for query in [
        "IncludePermissions=true&IncludeMembers=true",
        "includepermissions=TRUE&INCLUDEMEMBERS=True",
        "includePermission=true&includeMembers=true",
    ] {
        let full = list(&app, &admin, &format!("{ROLES}?{query}")).await;
        let ops = find(&full, "operators");
        assert_eq!(ops["permissions"], json!(["view-device"]), "{query}");
        assert_eq!(ops["members"], json!([user.user_id]), "{query}");
        let sa = find(&full, "super_admin");
        assert_eq!(sa["members"], json!([admin.user_id]), "{query}");
        assert!(
            sa["permissions"].as_array().is_some_and(|p| p.len() > 5),
            "{sa}"
        );
    }
    let only = list(
        &app,
        &admin,
        &format!("{ROLES}?IncludePermissions=true&IncludeMembers=false"),
    )
    .await;
    assert_eq!(find(&only, "operators")["members"], Value::Null);
    // Count answers only the count.
    for query in [
        "SearchType=Count",
        "searchtype=count",
        "SearchType=1&IncludeMembers=true",
    ] {
        let answer = call(&app, "GET", &format!("{ROLES}?{query}"), Some(&admin), None).await;
        assert_eq!(success(&answer), &json!({"count": 2}), "{query}");
    }
    let none = list(&app, &admin, &format!("{ROLES}?SearchType=None")).await;
    assert_eq!(none.len(), 2);
}

#[tokio::test]
async fn wyn_list_roles_refuses_bad_query_values() {
    let (app, admin) = setup().await;
    for (query, context) in [
        ("SearchType=Everything", "SearchType"),
        ("IncludePermissions=maybe", "IncludePermissions"),
        ("IncludeMembers=2", "IncludeMembers"),
        (
            "IncludePermissions=true&includePermission=false",
            "IncludePermissions",
        ),
    ] {
        for path in [ROLES.to_owned(), format!("{ROLES}/non-org-roles")] {
            let answer = call(&app, "GET", &format!("{path}?{query}"), Some(&admin), None).await;
            bad(&answer, "InvalidArgument", context);
        }
    }
    let sa = super_admin_role(&app, &admin).await;
    let answer = call(
        &app,
        "GET",
        &role_path(&sa, "?includePermission=yes"),
        Some(&admin),
        None,
    )
    .await;
    bad(&answer, "InvalidArgument", "IncludePermissions");
    let answer = call(
        &app,
        "GET",
        &format!("{ROLES}/me/non-org-roles?all=sure"),
        Some(&admin),
        None,
    )
    .await;
    bad(&answer, "InvalidArgument", "all");
}

#[tokio::test]
async fn wyn_non_org_roles_are_the_global_ones() {
    let (app, admin) = setup().await;
    let org = create(
        &app,
        &admin,
        json!({"name": "local-ops", "tenantId": "default"}),
    )
    .await;
    create_named(&app, &admin, "global-ops").await;
    let all = list(&app, &admin, ROLES).await;
    assert_eq!(find(&all, "local-ops")["tenantId"], "default");
    assert_eq!(find(&all, "global-ops")["tenantId"], Value::Null);
    assert_eq!(all.len(), 3);
    let global = list(
        &app,
        &admin,
        &format!("{ROLES}/non-org-roles?IncludePermissions=true"),
    )
    .await;
    let mut got = names(&global);
    got.sort_unstable();
    assert_eq!(got, ["global-ops", "super_admin"]);
    assert!(
        global
            .iter()
            .all(|r| r["tenantId"].is_null() && r["permissions"].is_array())
    );
    let count = call(
        &app,
        "GET",
        &format!("{ROLES}/non-org-roles?SearchType=Count"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(success(&count), &json!({"count": 2}));
    // The organisation role is still a role: it can be read and deleted.
    let got = call(
        &app,
        "GET",
        &role_path(&id_of(&org), ""),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(success(&got)["tenantId"], "default");
}

// ---- GET /roles/me/non-org-roles ----

#[tokio::test]
async fn wyn_my_non_org_roles_are_the_callers_own_global_roles() {
    let (app, admin, user) = setup_with_user("ops@weir.test").await;
    let members = json!([user.user_id]);
    create(
        &app,
        &admin,
        json!({"name": "g1", "members": members, "permissions": ["view-device"]}),
    )
    .await;
    create(&app, &admin, json!({"name": "g2"})).await;
    create(
        &app,
        &admin,
        json!({"name": "org", "tenantId": "default", "members": members}),
    )
    .await;
    let path = format!("{ROLES}/me/non-org-roles");
    // A plain user may ask, and gets only their own global roles, `all` or not.
    for query in ["", "?all=false", "?all=true"] {
        let mine = list(&app, &user, &format!("{path}{query}")).await;
        assert_eq!(names(&mine), ["g1"], "{query}");
        assert_eq!(mine[0]["permissions"], json!(["view-device"]));
        assert_eq!(mine[0]["members"], Value::Null);
    }
    let own = list(&app, &admin, &path).await;
    assert_eq!(names(&own), ["super_admin"]);
    let every = list(&app, &admin, &format!("{path}?ALL=True")).await;
    let mut got = names(&every);
    got.sort_unstable();
    assert_eq!(got, ["g1", "g2", "super_admin"]);
    refused(
        &call(&app, "GET", &path, None, None).await,
        401,
        "Unauthorized",
    );
}

// ---- GET /roles/{id} ----

#[tokio::test]
async fn wyn_get_role_includes_permissions_when_asked() {
    let (app, admin) = setup().await;
    let id = id_of(
        &create(
            &app,
            &admin,
            json!({"name": "viewers", "permissions": ["view-report"]}),
        )
        .await,
    );
    let plain = success(&call(&app, "GET", &role_path(&id, ""), Some(&admin), None).await).clone();
    assert_eq!(
        (&plain["permissions"], &plain["members"]),
        (&Value::Null, &json!([]))
    );
    for query in [
        "includePermission=true",
        "IncludePermission=TRUE",
        "includePermissions=true",
    ] {
        let full = call(
            &app,
            "GET",
            &role_path(&id, &format!("?{query}")),
            Some(&admin),
            None,
        )
        .await;
        assert_eq!(
            success(&full)["permissions"],
            json!(["view-report"]),
            "{query}"
        );
    }
    for missing in [UNKNOWN_ID, "abc", "-1", "0", "1.5"] {
        let answer = call(&app, "GET", &role_path(missing, ""), Some(&admin), None).await;
        let error = refused(&answer, 404, "RoleNotFound");
        assert_eq!(error["context"], missing);
    }
}

// ---- DELETE /roles/{id} ----

#[tokio::test]
async fn wyn_delete_role_answers_204_and_refuses_what_it_must() {
    let (app, admin, user) = setup_with_user("ops@weir.test").await;
    let id = create_named(&app, &admin, "temp").await;
    let answer = call(&app, "DELETE", &role_path(&id, ""), Some(&admin), None).await;
    assert_eq!(answer.0, 204, "{}", answer.1);
    refused(
        &call(&app, "GET", &role_path(&id, ""), Some(&admin), None).await,
        404,
        "RoleNotFound",
    );
    refused(
        &call(&app, "DELETE", &role_path(&id, ""), Some(&admin), None).await,
        404,
        "RoleNotFound",
    );
    refused(
        &call(&app, "DELETE", &role_path("nope", ""), Some(&admin), None).await,
        404,
        "RoleNotFound",
    );
    let sa = super_admin_role(&app, &admin).await;
    let answer = call(&app, "DELETE", &role_path(&sa, ""), Some(&admin), None).await;
    refused(&answer, 400, "BuiltinRoleCannotBeDeleted");
    let busy = id_of(
        &create(
            &app,
            &admin,
            json!({"name": "busy", "members": [user.user_id]}),
        )
        .await,
    );
    let answer = call(&app, "DELETE", &role_path(&busy, ""), Some(&admin), None).await;
    refused(&answer, 400, "RoleHasMembers");
    assert_eq!(
        role_count(&app, &admin).await,
        2,
        "super_admin and busy remain"
    );
}

// ---- /roles/{id}/users ----

#[tokio::test]
async fn wyn_role_users_are_added_replaced_and_removed() {
    let (app, admin, ann) = setup_with_user("ann@weir.test").await;
    let bob = app.create_user(&admin, "bob@weir.test").await;
    let id = create_named(&app, &admin, "operators").await;
    let users = role_path(&id, "/users");
    assert_eq!(
        success(&call(&app, "GET", &users, Some(&admin), None).await),
        &json!([])
    );
    let answer = call(
        &app,
        "POST",
        &users,
        Some(&admin),
        Some(json!({"userIds": [ann.user_id]})),
    )
    .await;
    let listed = success(&answer).clone();
    assert_eq!(user_ids(&listed), [ann.user_id.as_str()]);
    let u = &listed[0];
    assert_wyn_time(&u["creationTime"]);
    assert_eq!(
        u,
        &json!({
            "id": ann.user_id,
            "username": "ann@weir.test",
            "email": "ann@weir.test",
            "mobile": null,
            "provider": "local",
            "avatar": null,
            "firstName": null,
            "lastName": null,
            "creationTime": u["creationTime"],
            "status": "Normal",
            "fullName": "ann",
            "organizationIdPath": null,
            "roles": ["operators"],
            "customizeProperties": null,
            "extraClaims": null,
            "tenantRoles": null,
        })
    );
    // Adding keeps who is there; an id given twice or already in counts once.
    let both = json!({"userIds": [bob.user_id, bob.user_id, ann.user_id]});
    let answer = call(&app, "POST", &users, Some(&admin), Some(both)).await;
    let mut got = user_ids(success(&answer));
    got.sort();
    let mut want = vec![ann.user_id.clone(), bob.user_id.clone()];
    want.sort();
    assert_eq!(got, want);
    // An empty list adds nothing.
    let answer = call(
        &app,
        "POST",
        &users,
        Some(&admin),
        Some(json!({"userIds": []})),
    )
    .await;
    assert_eq!(user_ids(success(&answer)).len(), 2);
    // Replacing.
    let answer = call(
        &app,
        "PUT",
        &users,
        Some(&admin),
        Some(json!({"userIds": [bob.user_id]})),
    )
    .await;
    assert_eq!(user_ids(success(&answer)), [bob.user_id.as_str()]);
    // Removing one: 204, then the member is gone; a non-member or unknown user is 404.
    let one = role_path(&id, &format!("/users/{}", bob.user_id));
    let answer = call(&app, "DELETE", &one, Some(&admin), None).await;
    assert_eq!(answer.0, 204, "{}", answer.1);
    assert_eq!(
        success(&call(&app, "GET", &users, Some(&admin), None).await),
        &json!([])
    );
    for who in [bob.user_id.as_str(), UNKNOWN_ID, "abc"] {
        let answer = call(
            &app,
            "DELETE",
            &role_path(&id, &format!("/users/{who}")),
            Some(&admin),
            None,
        )
        .await;
        let error = refused(&answer, 404, "UserNotFound");
        assert_eq!(error["context"], who);
    }
    let answer = call(
        &app,
        "PUT",
        &users,
        Some(&admin),
        Some(json!({"userIds": []})),
    )
    .await;
    assert_eq!(success(&answer), &json!([]));
    // Each member shows every role they hold directly.
    let other = create(
        &app,
        &admin,
        json!({"name": "auditors", "members": [ann.user_id]}),
    )
    .await;
    call(
        &app,
        "POST",
        &users,
        Some(&admin),
        Some(json!({"userIds": [ann.user_id]})),
    )
    .await;
    let answer = call(
        &app,
        "GET",
        &role_path(&id_of(&other), "/users"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        success(&answer)[0]["roles"],
        json!(["auditors", "operators"])
    );
}

#[tokio::test]
async fn wyn_role_users_refuse_bad_input_and_change_nothing() {
    let (app, admin, ann) = setup_with_user("ann@weir.test").await;
    let id = id_of(
        &create(
            &app,
            &admin,
            json!({"name": "operators", "members": [ann.user_id]}),
        )
        .await,
    );
    let users = role_path(&id, "/users");
    for method in ["POST", "PUT"] {
        let cases = [
            (json!({}), "InvalidArgument", "userIds"),
            (
                json!({"userIds": ann.user_id}),
                "InvalidArgument",
                "userIds",
            ),
            (json!({"userIds": ["abc"]}), "InvalidArgument", "userIds[0]"),
            (
                json!({"userIds": [ann.user_id, true]}),
                "InvalidArgument",
                "userIds[1]",
            ),
            (json!({"userIds": [UNKNOWN_ID]}), "UserNotFound", UNKNOWN_ID),
            (
                json!({"userIds": [ann.user_id, UNKNOWN_ID]}),
                "UserNotFound",
                UNKNOWN_ID,
            ),
        ];
        for (body, code, context) in cases {
            let answer = call(&app, method, &users, Some(&admin), Some(body.clone())).await;
            bad(&answer, code, context);
        }
        let answer = app
            .call_raw(
                method,
                &users,
                Some(&admin),
                "application/json",
                "{\"userIds\": [",
            )
            .await;
        refused(&answer, 400, "InvalidJson");
        for missing in [UNKNOWN_ID, "abc"] {
            let body = json!({"userIds": [ann.user_id]});
            let answer = call(
                &app,
                method,
                &role_path(missing, "/users"),
                Some(&admin),
                Some(body),
            )
            .await;
            refused(&answer, 404, "RoleNotFound");
        }
    }
    assert_eq!(
        user_ids(success(
            &call(&app, "GET", &users, Some(&admin), None).await
        )),
        [ann.user_id.as_str()]
    );
    refused(
        &call(
            &app,
            "GET",
            &role_path(UNKNOWN_ID, "/users"),
            Some(&admin),
            None,
        )
        .await,
        404,
        "RoleNotFound",
    );
    // The built-in role keeps at least one member.
    let sa = super_admin_role(&app, &admin).await;
    let answer = call(
        &app,
        "PUT",
        &role_path(&sa, "/users"),
        Some(&admin),
        Some(json!({"userIds": []})),
    )
    .await;
    bad(&answer, "InvalidArgument", "userIds");
    let last = role_path(&sa, &format!("/users/{}", admin.user_id));
    refused(
        &call(&app, "DELETE", &last, Some(&admin), None).await,
        400,
        "InvalidArgument",
    );
}

#[tokio::test]
async fn wyn_a_disabled_member_shows_as_disabled() {
    let (app, admin, ann) = setup_with_user("ann@weir.test").await;
    let id = id_of(
        &create(
            &app,
            &admin,
            json!({"name": "operators", "members": [ann.user_id]}),
        )
        .await,
    );
    let weir_identity = app.weir.identity.clone();
    let (token, user) = (admin.access_token.clone(), ann.user_id.clone());
    tokio::task::spawn_blocking(move || {
        let p = weir_identity.authenticate(&token).expect("admin");
        weir_identity
            .set_user_status(&p, &user, weir_identity::UserStatus::Disabled)
            .expect("disabled");
    })
    .await
    .expect("task");
    let answer = call(&app, "GET", &role_path(&id, "/users"), Some(&admin), None).await;
    assert_eq!(success(&answer)[0]["status"], "Disabled");
}

// ---- /roles/{id}/permissions ----

#[tokio::test]
async fn wyn_role_permissions_are_read_and_replaced() {
    let (app, admin) = setup().await;
    let id = create_named(&app, &admin, "viewers").await;
    let path = role_path(&id, "/permissions");
    assert_eq!(
        success(&call(&app, "GET", &path, Some(&admin), None).await),
        &json!([])
    );
    let body = json!({"permissions": ["view-device", "view-dashboard", "view-device"]});
    let answer = call(&app, "POST", &path, Some(&admin), Some(body)).await;
    let got = success(&answer).clone();
    assert_eq!(
        got,
        json!([
            {"name": "view-dashboard", "description": "Open dashboards and read their widgets", "enabled": true,
             "order": 0, "module": "Dashboard", "category": "view", "isCustomPermission": false},
            {"name": "view-device", "description": "List devices and read their entities", "enabled": true,
             "order": 5, "module": "IoT", "category": "view", "isCustomPermission": false},
        ])
    );
    assert_eq!(
        success(&call(&app, "GET", &path, Some(&admin), None).await),
        &got
    );
    let role = call(
        &app,
        "GET",
        &role_path(&id, "?includePermission=true"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        success(&role)["permissions"],
        json!(["view-dashboard", "view-device"])
    );
    // Replacing with none clears them.
    let answer = call(
        &app,
        "POST",
        &path,
        Some(&admin),
        Some(json!({"permissions": []})),
    )
    .await;
    assert_eq!(success(&answer), &json!([]));
    // The built-in role holds every permission.
    let sa = super_admin_role(&app, &admin).await;
    let all = call(
        &app,
        "GET",
        &role_path(&sa, "/permissions"),
        Some(&admin),
        None,
    )
    .await;
    let all = success(&all).as_array().expect("list").clone();
    assert!(all.len() >= 13, "{all:?}");
    assert!(all.iter().any(|p| p["name"] == "manage-device"));
}

#[tokio::test]
async fn wyn_role_permissions_refuse_bad_input_locked_and_built_in_roles() {
    let (app, admin) = setup().await;
    let id = id_of(
        &create(
            &app,
            &admin,
            json!({"name": "viewers", "permissions": ["view-report"]}),
        )
        .await,
    );
    let path = role_path(&id, "/permissions");
    let cases = [
        (json!({}), "InvalidArgument", "permissions"),
        (
            json!({"permissions": "view-device"}),
            "InvalidArgument",
            "permissions",
        ),
        (
            json!({"permissions": [1]}),
            "InvalidArgument",
            "permissions[0]",
        ),
        (
            json!({"permissions": ["view-device", "fly"]}),
            "UnknownPermission",
            "fly",
        ),
    ];
    for (body, code, context) in cases {
        bad(
            &call(&app, "POST", &path, Some(&admin), Some(body)).await,
            code,
            context,
        );
    }
    refused(
        &app.call_raw("POST", &path, Some(&admin), "application/json", "[")
            .await,
        400,
        "InvalidJson",
    );
    let unchanged = call(&app, "GET", &path, Some(&admin), None).await;
    assert_eq!(success(&unchanged)[0]["name"], "view-report");
    assert_eq!(success(&unchanged).as_array().map(Vec::len), Some(1));
    // Locked.
    let locked = create(
        &app,
        &admin,
        json!({"name": "locked", "allowEditPermissions": false, "permissions": ["view-report"]}),
    )
    .await;
    let body = json!({"permissions": ["view-device"]});
    let answer = call(
        &app,
        "POST",
        &role_path(&id_of(&locked), "/permissions"),
        Some(&admin),
        Some(body.clone()),
    )
    .await;
    bad(&answer, "PermissionsLocked", "permissions");
    let still = call(
        &app,
        "GET",
        &role_path(&id_of(&locked), "/permissions"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(success(&still)[0]["name"], "view-report");
    // Built in.
    let sa = super_admin_role(&app, &admin).await;
    let answer = call(
        &app,
        "POST",
        &role_path(&sa, "/permissions"),
        Some(&admin),
        Some(body.clone()),
    )
    .await;
    refused(&answer, 400, "BuiltinRoleCannotBeModified");
    for missing in [UNKNOWN_ID, "abc"] {
        let p = role_path(missing, "/permissions");
        refused(
            &call(&app, "GET", &p, Some(&admin), None).await,
            404,
            "RoleNotFound",
        );
        refused(
            &call(&app, "POST", &p, Some(&admin), Some(body.clone())).await,
            404,
            "RoleNotFound",
        );
    }
}

// ---- POST /roles/import ----

#[tokio::test]
async fn wyn_import_creates_or_updates_by_name() {
    let (app, admin, ann) = setup_with_user("ann@weir.test").await;
    let existing = id_of(
        &create(
            &app,
            &admin,
            json!({"name": "viewers", "permissions": ["view-report"], "members": [ann.user_id]}),
        )
        .await,
    );
    let body = json!({"roles": [
        {"name": "viewers", "permissions": ["view-device"]},
        {"id": "123", "name": "editors", "permissions": ["manage-device"], "members": [ann.user_id], "allowEditPermissions": false, "tenantId": "default"},
    ]});
    let answer = call(
        &app,
        "POST",
        &format!("{ROLES}/import"),
        Some(&admin),
        Some(body),
    )
    .await;
    let got = success(&answer).as_array().expect("list").clone();
    assert_eq!(names(&got), ["viewers", "editors"]);
    // Updated in place: same id, new permissions, members kept (absent).
    assert_eq!(got[0]["id"], existing);
    assert_eq!(got[0]["permissions"], json!(["view-device"]));
    assert_eq!(got[0]["members"], json!([ann.user_id]));
    assert_ne!(got[1]["id"], "123");
    assert_eq!(
        (
            &got[1]["permissions"],
            &got[1]["members"],
            &got[1]["allowEditPermissions"],
            &got[1]["tenantId"]
        ),
        (
            &json!(["manage-device"]),
            &json!([ann.user_id]),
            &json!(false),
            &json!("default")
        )
    );
    assert_eq!(got[1]["creatorId"], admin.user_id);
    let all = list(&app, &admin, &format!("{ROLES}?IncludePermissions=true")).await;
    assert_eq!(all.len(), 3);
    assert_eq!(
        find(&all, "editors")["permissions"],
        json!(["manage-device"])
    );
    // `tenantId: null` makes a role global; `members: []` clears them.
    let body = json!({"roles": [{"name": "editors", "tenantId": null, "members": []}]});
    let answer = call(
        &app,
        "POST",
        &format!("{ROLES}/import"),
        Some(&admin),
        Some(body),
    )
    .await;
    let editors = &success(&answer)[0];
    assert_eq!(
        (&editors["tenantId"], &editors["members"]),
        (&Value::Null, &json!([]))
    );
}

#[tokio::test]
async fn wyn_import_is_all_or_nothing() {
    let (app, admin) = setup().await;
    create(
        &app,
        &admin,
        json!({"name": "locked", "allowEditPermissions": false}),
    )
    .await;
    let path = format!("{ROLES}/import");
    let fresh = json!({"name": "fresh", "permissions": ["view-device"]});
    let cases = [
        (json!({}), "InvalidArgument", "roles"),
        (json!({"roles": {}}), "InvalidArgument", "roles"),
        (json!({"roles": []}), "InvalidArgument", "roles"),
        (
            json!({"roles": [fresh, {"permissions": []}]}),
            "InvalidArgument",
            "roles[1].name",
        ),
        (
            json!({"roles": [fresh, {"name": 3}]}),
            "InvalidArgument",
            "roles[1].name",
        ),
        (
            json!({"roles": [fresh, {"name": "b", "isBuiltin": true}]}),
            "InvalidArgument",
            "roles[1].isBuiltin",
        ),
        (
            json!({"roles": [fresh, {"name": "b", "permissions": ["fly"]}]}),
            "UnknownPermission",
            "fly",
        ),
        (
            json!({"roles": [fresh, {"name": "b", "members": [UNKNOWN_ID]}]}),
            "UserNotFound",
            UNKNOWN_ID,
        ),
        (
            json!({"roles": [fresh, {"name": "locked", "permissions": ["view-device"]}]}),
            "PermissionsLocked",
            "permissions",
        ),
    ];
    for (body, code, context) in cases {
        bad(
            &call(&app, "POST", &path, Some(&admin), Some(body)).await,
            code,
            context,
        );
    }
    let body = json!({"roles": [fresh, {"name": "super_admin", "permissions": []}]});
    refused(
        &call(&app, "POST", &path, Some(&admin), Some(body)).await,
        400,
        "BuiltinRoleCannotBeModified",
    );
    refused(
        &app.call_raw(
            "POST",
            &path,
            Some(&admin),
            "application/json",
            "{\"roles\": [}",
        )
        .await,
        400,
        "InvalidJson",
    );
    let all = list(&app, &admin, ROLES).await;
    let mut got = names(&all);
    got.sort_unstable();
    assert_eq!(got, ["locked", "super_admin"], "nothing was imported");
}

// ---- who may call ----

/// Every operation with a well-formed request, naming the role `id` and the user `user`.
fn operations(id: &str, user: &str) -> Vec<(&'static str, String, Option<Value>)> {
    vec![
        ("GET", ROLES.to_owned(), None),
        ("POST", ROLES.to_owned(), Some(json!({"name": "sneaky"}))),
        ("GET", format!("{ROLES}/non-org-roles"), None),
        (
            "POST",
            format!("{ROLES}/import"),
            Some(json!({"roles": [{"name": "sneaky"}]})),
        ),
        ("GET", role_path(id, ""), None),
        ("DELETE", role_path(id, ""), None),
        ("GET", role_path(id, "/users"), None),
        (
            "POST",
            role_path(id, "/users"),
            Some(json!({"userIds": [user]})),
        ),
        (
            "PUT",
            role_path(id, "/users"),
            Some(json!({"userIds": [user]})),
        ),
        ("DELETE", role_path(id, &format!("/users/{user}")), None),
        ("GET", role_path(id, "/permissions"), None),
        (
            "POST",
            role_path(id, "/permissions"),
            Some(json!({"permissions": ["view-device"]})),
        ),
    ]
}

#[tokio::test]
async fn wyn_every_operation_needs_a_token_and_a_super_admin() {
    let (app, admin, user) = setup_with_user("plain@weir.test").await;
    let id = id_of(
        &create(
            &app,
            &admin,
            json!({"name": "target", "members": [user.user_id]}),
        )
        .await,
    );
    let forged = Session {
        access_token: "not-a-token".into(),
        ..user.clone()
    };
    for (method, path, body) in operations(&id, &user.user_id) {
        let answer = call(&app, method, &path, None, body.clone()).await;
        refused(&answer, 401, "Unauthorized");
        let answer = call(&app, method, &path, Some(&forged), body.clone()).await;
        refused(&answer, 401, "Unauthorized");
        let answer = call(&app, method, &path, Some(&user), body.clone()).await;
        refused(&answer, 403, "Forbidden");
    }
    // A bearer scheme other than Bearer, and a token without the scheme.
    for header in ["Basic abc", user.access_token.as_str()] {
        let req = app
            .client()
            .get(app.url(ROLES))
            .header("Authorization", header);
        refused(&send(req).await.0, 401, "Unauthorized");
    }
    // Without a token, a bad body is still 401.
    let answer = app
        .call_raw("POST", ROLES, None, "application/json", "{")
        .await;
    refused(&answer, 401, "Unauthorized");
    // Nothing changed.
    let target = call(
        &app,
        "GET",
        &role_path(&id, "?includePermission=true"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(success(&target)["members"], json!([user.user_id]));
    assert_eq!(success(&target)["permissions"], json!([]));
    assert_eq!(role_count(&app, &admin).await, 2);
}

#[tokio::test]
async fn wyn_a_body_over_the_limit_is_413() {
    let app = TestApp::spawn_with(|s| s.http.max_body_bytes = 1024).await;
    let admin = app.register_admin().await;
    let big = json!({"name": "big", "permissions": vec!["view-device"; 200]});
    let answer = call(&app, "POST", ROLES, Some(&admin), Some(big)).await;
    refused(&answer, 413, "PayloadTooLarge");
    assert_eq!(role_count(&app, &admin).await, 1);
}

#[tokio::test]
async fn wyn_unknown_routes_answer_in_the_wyn_envelope() {
    let (app, admin) = setup().await;
    let sa = super_admin_role(&app, &admin).await;
    for (method, path) in [
        ("GET", "/api/v2/identity/nope".to_owned()),
        ("PATCH", role_path(&sa, "")),
        ("GET", role_path(&sa, "/nope")),
        ("PUT", format!("{ROLES}/import")),
    ] {
        let answer = call(&app, method, &path, Some(&admin), None).await;
        refused(&answer, 404, "NotFound");
    }
}

// ---- tenants ----

#[tokio::test]
async fn wyn_roles_of_another_tenant_are_not_found_nor_listed() {
    let (app, admin, boss) = two_tenants().await;
    let theirs = create(&app, &boss, json!({"name": "acme-ops", "tenantId": ACME})).await;
    assert_eq!(theirs["tenantId"], ACME);
    let mine = create_named(&app, &admin, "default-ops").await;
    for (method, path, body) in operations(&id_of(&theirs), &admin.user_id) {
        if !path.contains(&id_of(&theirs)) {
            continue;
        }
        let answer = call(&app, method, &path, Some(&admin), body).await;
        refused(&answer, 404, "RoleNotFound");
    }
    // Lists never show another tenant's roles; each tenant has its own built-in role.
    for path in [
        ROLES.to_owned(),
        format!("{ROLES}/non-org-roles"),
        format!("{ROLES}/me/non-org-roles?all=true"),
    ] {
        let got = list(&app, &admin, &path).await;
        assert!(!names(&got).contains(&"acme-ops"), "{path}");
        let got = list(&app, &boss, &path).await;
        assert!(!names(&got).contains(&"default-ops"), "{path}");
    }
    let acme = list(&app, &boss, ROLES).await;
    let mut got = names(&acme);
    got.sort_unstable();
    assert_eq!(got, ["acme-ops", "super_admin"]);
    // A user of another tenant cannot be made a member.
    let body = json!({"userIds": [boss.user_id]});
    let answer = call(
        &app,
        "POST",
        &role_path(&mine, "/users"),
        Some(&admin),
        Some(body),
    )
    .await;
    bad(&answer, "UserNotFound", &boss.user_id);
    // Nor can a role be tied to another organisation.
    let answer = call(
        &app,
        "POST",
        ROLES,
        Some(&boss),
        Some(json!({"name": "x", "tenantId": "default"})),
    )
    .await;
    bad(&answer, "InvalidArgument", "tenantId");
    // The acme role is intact.
    let still = call(
        &app,
        "GET",
        &role_path(&id_of(&theirs), ""),
        Some(&boss),
        None,
    )
    .await;
    assert_eq!(success(&still)["name"], "acme-ops");
}

// ---- one identity behind every API ----

#[tokio::test]
async fn wyn_permissions_granted_here_govern_the_native_api() {
    let (app, admin, user) = setup_with_user("ops@weir.test").await;
    let search = |who: Session| {
        let app = &app;
        async move {
            app.call("POST", "/api/v1/device/search", Some(&who), Some(json!({})))
                .await
        }
    };
    let (status, body) = search(user.clone()).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (403, Some("forbidden_permission")),
        "{body}"
    );
    let id = create_named(&app, &admin, "device-viewers").await;
    let answer = call(
        &app,
        "POST",
        &role_path(&id, "/permissions"),
        Some(&admin),
        Some(json!({"permissions": ["view-device"]})),
    )
    .await;
    success(&answer);
    // Granted to the role but not yet to the user.
    assert_eq!(search(user.clone()).await.0, 403);
    let answer = call(
        &app,
        "POST",
        &role_path(&id, "/users"),
        Some(&admin),
        Some(json!({"userIds": [user.user_id]})),
    )
    .await;
    success(&answer);
    let page = ok(&search(user.clone()).await).clone();
    assert_eq!(page["total"], 0, "{page}");
    // The native API sees the role on the user.
    let (_, me) = app.call("GET", "/api/v1/user", Some(&user), None).await;
    assert_eq!(me["data"]["roles"][0]["role_id"], id, "{me}");
    // Removing the member through Wyn takes the permission away again.
    let one = role_path(&id, &format!("/users/{}", user.user_id));
    assert_eq!(call(&app, "DELETE", &one, Some(&admin), None).await.0, 204);
    assert_eq!(search(user).await.0, 403);
}

#[tokio::test]
async fn wyn_a_native_role_appears_with_its_members() {
    let (app, admin, user) = setup_with_user("ops@weir.test").await;
    let id = new_role(&app, &admin, "native-ops").await;
    link(&app, &admin, &id, "associate-user", &[&user.user_id]).await;
    let all = list(
        &app,
        &admin,
        &format!("{ROLES}?IncludeMembers=true&IncludePermissions=true"),
    )
    .await;
    let role = find(&all, "native-ops");
    assert_eq!(role["id"], id);
    assert_eq!(role["members"], json!([user.user_id]));
    assert_eq!(role["permissions"], json!([]));
    assert_eq!(role["creatorId"], admin.user_id);
    let users = call(&app, "GET", &role_path(&id, "/users"), Some(&admin), None).await;
    assert_eq!(user_ids(success(&users)), [user.user_id.as_str()]);
    assert_eq!(success(&users)[0]["roles"], json!(["native-ops"]));
    // And a role made through Wyn is in the native search with the same member.
    let wyn = id_of(
        &create(
            &app,
            &admin,
            json!({"name": "wyn-ops", "members": [user.user_id]}),
        )
        .await,
    );
    let (_, members) = app
        .call(
            "GET",
            &format!("/api/v1/user/roles/{wyn}/members"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(members["data"][0]["user_id"], user.user_id);
}

#[tokio::test]
async fn wyn_openapi_lists_every_operation() {
    let app = TestApp::spawn().await;
    let (_, doc) = app.call("GET", "/openapi.json", None, None).await;
    let ops = [
        ("get", "/api/v2/identity/roles", "200"),
        ("post", "/api/v2/identity/roles", "201"),
        ("get", "/api/v2/identity/roles/non-org-roles", "200"),
        ("get", "/api/v2/identity/roles/me/non-org-roles", "200"),
        ("post", "/api/v2/identity/roles/import", "200"),
        ("get", "/api/v2/identity/roles/{id}", "200"),
        ("delete", "/api/v2/identity/roles/{id}", "204"),
        ("get", "/api/v2/identity/roles/{id}/users", "200"),
        ("post", "/api/v2/identity/roles/{id}/users", "200"),
        ("put", "/api/v2/identity/roles/{id}/users", "200"),
        (
            "delete",
            "/api/v2/identity/roles/{id}/users/{userId}",
            "204",
        ),
        ("get", "/api/v2/identity/roles/{id}/permissions", "200"),
        ("post", "/api/v2/identity/roles/{id}/permissions", "200"),
    ];
    for (method, path, status) in ops {
        let op = &doc["paths"][path][method];
        assert!(op["responses"][status].is_object(), "{method} {path}: {op}");
        assert!(op["responses"]["404"].is_object(), "{method} {path}");
        assert_eq!(op["tags"], json!(["wyn"]), "{method} {path}");
    }
    let schemas = &doc["components"]["schemas"];
    for name in [
        "RoleBizModel",
        "UserBizModel",
        "PermissionModel",
        "RolesImportModel",
    ] {
        assert!(schemas[name].is_object(), "missing schema {name}");
    }
    let refusal = &doc["paths"]["/api/v2/identity/roles"]["get"]["responses"]["403"];
    let schema = &refusal["content"]["application/json"]["schema"];
    assert!(
        schema.to_string().contains("errors"),
        "ApiErrorResult not shown: {refusal}"
    );
}
