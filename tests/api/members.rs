//! Managing users: `/user/members...` and `/user/batch-delete`.

use serde_json::{Value, json};
use weir_test_kit::{PASSWORD, Session, TestApp};

use crate::support::{
    Answer, assert_login_refused, assert_revoked, assert_syntax_error, assert_tokens_revoked,
    forbidden, grant_menu_via_role, grant_resource_via_role, invalid, me, not_found, ok,
    password_grant, pluck, refused, row_with, setup, setup_with_user, two_tenants, unauthenticated,
};

/// Creates a user without logging them in; returns their id.
async fn add_member(app: &TestApp, admin: &Session, email: &str, nickname: &str) -> String {
    let body = json!({"email": email, "nickname": nickname, "password": PASSWORD});
    let answer = app
        .call("POST", "/user/members", Some(admin), Some(body))
        .await;
    ok(&answer)["user_id"]
        .as_str()
        .expect("user_id is a string")
        .to_owned()
}

async fn search(app: &TestApp, who: &Session, body: Value) -> Answer {
    app.call("POST", "/api/v1/user/members/search", Some(who), Some(body))
        .await
}

/// Every user of the admin's tenant, by email, as the search lists them.
async fn members(app: &TestApp, admin: &Session) -> Vec<Value> {
    let body = json!({"page_size": 1000, "sorts": [{"property": "email", "direction": "ASC"}]});
    let answer = search(app, admin, body).await;
    ok(&answer)["content"].as_array().unwrap().clone()
}

/// The emails of every user of the admin's tenant, sorted.
async fn emails(app: &TestApp, admin: &Session) -> Vec<String> {
    pluck(&Value::Array(members(app, admin).await), "email")
}

/// The listed user with this id.
async fn member(app: &TestApp, admin: &Session, id: &str) -> Value {
    row_with(members(app, admin).await, "user_id", id)
}

/// The `email` field of each listed user.
fn emails_of(page: &Value) -> Vec<String> {
    pluck(&page["content"], "email")
}

/// Asserts the no-token (401) and non-admin (403) refusals of an endpoint.
async fn assert_admin_only(
    app: &TestApp,
    plain: &Session,
    method: &str,
    path: &str,
    body: Option<Value>,
) {
    unauthenticated(&app.call(method, path, None, body.clone()).await, "missing");
    forbidden(&app.call(method, path, Some(plain), body).await);
}

const ALL_EMAILS: [&str; 4] = [
    "admin@weir.test",
    "alice@weir.test",
    "bob@other.test",
    "carol@weir.test",
];

#[tokio::test]
async fn search_pages_filters_and_sorts() {
    let (app, admin) = setup().await;
    add_member(&app, &admin, "alice@weir.test", "Alice Smith").await;
    add_member(&app, &admin, "bob@other.test", "Bobby").await;
    let carol = add_member(&app, &admin, "carol@weir.test", "Carol SMITHERS").await;

    let answer = search(&app, &admin, json!({})).await;
    let page = ok(&answer);
    assert_eq!(
        (&page["page_number"], &page["page_size"], &page["total"]),
        (&json!(1), &json!(10), &json!(4))
    );
    // Newest first without sorts.
    let first = &page["content"][0];
    assert_eq!(first["user_id"], carol.as_str());
    assert_eq!(first["email"], "carol@weir.test");
    assert_eq!(first["nickname"], "Carol SMITHERS");
    assert_eq!(first["tenant_id"], "default");
    assert_eq!(first["roles"], json!([]));
    assert!(first["created_at"].as_i64().unwrap() > 0, "{first}");

    let by_email = |page_number: i64| {
        json!({"page_number": page_number, "page_size": 2,
            "sorts": [{"property": "email", "direction": "ASC"}]})
    };
    let answer = search(&app, &admin, by_email(1)).await;
    let page = ok(&answer);
    assert_eq!((&page["total"], &page["page_size"]), (&json!(4), &json!(2)));
    assert_eq!(emails_of(page), ALL_EMAILS[..2]);
    assert_eq!(page["content"][0]["roles"][0]["role_name"], "super_admin");
    let answer = search(&app, &admin, by_email(2)).await;
    assert_eq!(ok(&answer)["page_number"], 2);
    assert_eq!(emails_of(ok(&answer)), ALL_EMAILS[2..]);
    let answer = search(&app, &admin, by_email(3)).await;
    assert_eq!(emails_of(ok(&answer)), Vec::<&str>::new());
    assert_eq!(ok(&answer)["total"], 4);

    let descending = json!({"sorts": [{"property": "email", "direction": "DESC"}]});
    let answer = search(&app, &admin, descending).await;
    assert_eq!(emails_of(ok(&answer))[0], "carol@weir.test");

    // The keyword matches the nickname or the email, case-insensitively.
    let keyword =
        |k: &str| json!({"keyword": k, "sorts": [{"property": "email", "direction": "ASC"}]});
    let answer = search(&app, &admin, keyword("sMiTh")).await;
    assert_eq!(ok(&answer)["total"], 2);
    assert_eq!(
        emails_of(ok(&answer)),
        ["alice@weir.test", "carol@weir.test"]
    );
    let answer = search(&app, &admin, keyword("OTHER.TEST")).await;
    assert_eq!(emails_of(ok(&answer)), ["bob@other.test"]);
    let answer = search(&app, &admin, keyword("nobody")).await;
    assert_eq!(ok(&answer)["total"], 0);
}

/// The emails the keyword search finds, sorted.
async fn found_by(app: &TestApp, admin: &Session, keyword: &str) -> Vec<String> {
    let body = json!({"keyword": keyword, "sorts": [{"property": "email", "direction": "ASC"}]});
    let answer = search(app, admin, body).await;
    emails_of(ok(&answer))
}

#[tokio::test]
async fn the_keyword_is_a_literal_substring() {
    let (app, admin) = setup().await;
    add_member(&app, &admin, "under@weir.test", "snake_case").await;
    add_member(&app, &admin, "percent@weir.test", "100% sure").await;
    add_member(&app, &admin, "slash@weir.test", "back\\slash").await;
    assert_eq!(found_by(&app, &admin, "_").await, ["under@weir.test"]);
    assert_eq!(found_by(&app, &admin, "%").await, ["percent@weir.test"]);
    assert_eq!(found_by(&app, &admin, "\\").await, ["slash@weir.test"]);
    assert_eq!(found_by(&app, &admin, "e_c").await, ["under@weir.test"]);
    // A blank keyword filters nothing.
    assert_eq!(found_by(&app, &admin, "  ").await.len(), 4);
}

#[tokio::test]
async fn the_keyword_ignores_case_beyond_ascii() {
    let (app, admin) = setup().await;
    add_member(&app, &admin, "elodie@weir.test", "ÉLODIE Ürban").await;
    assert_eq!(found_by(&app, &admin, "élodie").await, ["elodie@weir.test"]);
    assert_eq!(found_by(&app, &admin, "ürb").await, ["elodie@weir.test"]);
}

#[tokio::test]
async fn search_refuses_bad_paging_and_caps_the_page_size() {
    let (app, admin, user) = setup_with_user("plain@weir.test").await;
    let cases = [
        (json!({"page_size": 0}), "page_size"),
        (json!({"page_size": -5}), "page_size"),
        (json!({"page_size": "ten"}), "page_size"),
        (json!({"page_number": 0}), "page_number"),
        (
            json!({"sorts": [{"property": "password_hash", "direction": "ASC"}]}),
            "sorts[0].property",
        ),
        (
            json!({"sorts": [{"property": "email", "direction": "UP"}]}),
            "sorts[0].direction",
        ),
    ];
    for (body, field) in cases {
        invalid(&search(&app, &admin, body).await, field);
    }
    let bad_property = json!({"sorts": [{"property": "password_hash", "direction": "ASC"}]});
    let message = refused(
        &search(&app, &admin, bad_property).await,
        400,
        "parameter_validation_failed",
    );
    assert!(
        message.contains("password_hash") && message.contains("created_at, nickname, email"),
        "{message}"
    );
    assert_syntax_error(
        &app,
        "POST",
        "/user/members/search",
        Some(&admin),
        "{\"page_size\": }",
    )
    .await;

    let answer = search(&app, &admin, json!({"page_size": 100_000})).await;
    assert_eq!(ok(&answer)["page_size"], 1000);
    assert_eq!(ok(&answer)["total"], 2);
    let answer = search(&app, &admin, json!({"page_number": 1_000_000_000_000_i64})).await;
    assert_eq!(ok(&answer)["content"], json!([]));

    assert_admin_only(&app, &user, "POST", "/user/members/search", Some(json!({}))).await;
}

#[tokio::test]
async fn creating_a_user() {
    let (app, admin, user) = setup_with_user("plain@weir.test").await;
    let id = add_member(&app, &admin, " Dave@Weir.test ", "Dave").await;
    assert!(id.parse::<i64>().unwrap() > 0);
    let dave = member(&app, &admin, &id).await;
    assert_eq!(
        (&dave["email"], &dave["nickname"]),
        (&json!("dave@weir.test"), &json!("Dave"))
    );
    let session = app.login("dave@weir.test", PASSWORD).await;
    assert_eq!(session.user_id, id);
    assert_eq!(ok(&me(&app, &session).await)["is_super_admin"], false);

    let good = json!({"email": "erin@weir.test", "nickname": "Erin", "password": PASSWORD});
    let with = |field: &str, value: Value| {
        let mut body = good.clone();
        body[field] = value;
        body
    };
    let duplicate = with("email", json!("DAVE@weir.test"));
    let message = refused(
        &app.call("POST", "/user/members", Some(&admin), Some(duplicate))
            .await,
        400,
        "user_email_exist",
    );
    assert!(message.contains("dave@weir.test"), "{message}");
    let cases = [
        (with("email", json!("erin.weir.test")), "email"),
        (with("email", json!(["erin@weir.test"])), "email"),
        (with("nickname", json!("")), "nickname"),
        (with("password", json!("short")), "password"),
        (
            json!({"email": "erin@weir.test", "nickname": "Erin"}),
            "password",
        ),
    ];
    for (body, field) in cases {
        invalid(
            &app.call("POST", "/user/members", Some(&admin), Some(body))
                .await,
            field,
        );
    }
    assert_admin_only(&app, &user, "POST", "/user/members", Some(good)).await;
    // Nothing was created by the refused requests.
    assert_eq!(
        emails(&app, &admin).await,
        ["admin@weir.test", "dave@weir.test", "plain@weir.test"]
    );
}

#[tokio::test]
async fn updating_a_user() {
    let (app, admin, user) = setup_with_user("plain@weir.test").await;
    let path = format!("/user/members/{}", user.user_id);
    let rename = json!({"nickname": "Renamed"});
    assert_eq!(
        ok(&app.call("PUT", &path, Some(&admin), Some(rename)).await),
        &json!({})
    );
    let listed = member(&app, &admin, &user.user_id).await;
    assert_eq!(
        (&listed["nickname"], &listed["email"]),
        (&json!("Renamed"), &json!("plain@weir.test"))
    );

    let taken = json!({"email": "ADMIN@weir.test", "nickname": "Thief"});
    refused(
        &app.call("PUT", &path, Some(&admin), Some(taken)).await,
        400,
        "user_email_exist",
    );
    for (body, field) in [
        (json!({"nickname": ""}), "nickname"),
        (json!({"email": "nope", "nickname": "X"}), "email"),
        (json!({"email": "x@weir.test"}), "nickname"),
    ] {
        invalid(
            &app.call("PUT", &path, Some(&admin), Some(body)).await,
            field,
        );
    }
    assert_admin_only(&app, &user, "PUT", &path, Some(json!({"nickname": "Mine"}))).await;
    // The refused edits changed nothing.
    let listed = member(&app, &admin, &user.user_id).await;
    assert_eq!(
        (&listed["nickname"], &listed["email"]),
        (&json!("Renamed"), &json!("plain@weir.test"))
    );

    // Keeping one's own email is not a conflict; a free one is taken over.
    let same = json!({"email": "plain@weir.test", "nickname": "Same"});
    ok(&app.call("PUT", &path, Some(&admin), Some(same)).await);
    let moved = json!({"email": "moved@weir.test", "nickname": "Moved"});
    ok(&app.call("PUT", &path, Some(&admin), Some(moved)).await);
    ok(&password_grant(&app, "moved@weir.test", PASSWORD).await);
    assert_login_refused(&app, "plain@weir.test", PASSWORD).await;
}

#[tokio::test]
async fn unknown_and_non_numeric_user_ids() {
    let (app, admin) = setup().await;
    let unknown = "1234567890123";
    let calls = [
        ("PUT", "", Some(json!({"nickname": "X"}))),
        (
            "PUT",
            "/change-password",
            Some(json!({"password": PASSWORD})),
        ),
        ("DELETE", "", None),
        ("GET", "/menus", None),
        (
            "POST",
            "/permission",
            Some(json!({"resource_type": "DEVICE", "resource_id": "1"})),
        ),
    ];
    for (method, suffix, body) in calls {
        let path = format!("/user/members/{unknown}{suffix}");
        let answer = app.call(method, &path, Some(&admin), body.clone()).await;
        not_found(&answer, unknown);
        for bad in ["abc", "0", "-1", "99999999999999999999"] {
            let path = format!("/user/members/{bad}{suffix}");
            let answer = app.call(method, &path, Some(&admin), body.clone()).await;
            invalid(&answer, "user_id");
        }
    }
    assert_eq!(emails(&app, &admin).await, ["admin@weir.test"]);
}

#[tokio::test]
async fn another_tenants_users_are_unknown() {
    let (app, admin, boss) = two_tenants().await;
    let worker = add_member(&app, &boss, "worker@acme.test", "Worker").await;

    let path = format!("/user/members/{worker}");
    let answer = app
        .call(
            "PUT",
            &path,
            Some(&admin),
            Some(json!({"nickname": "Hijacked"})),
        )
        .await;
    not_found(&answer, &worker);
    not_found(
        &app.call("DELETE", &path, Some(&admin), None).await,
        &worker,
    );
    let batch = json!({"user_id_list": [worker]});
    let answer = app
        .call("POST", "/user/batch-delete", Some(&admin), Some(batch))
        .await;
    not_found(&answer, &worker);
    // The acme user is untouched, and each tenant lists only its own users.
    let listed = member(&app, &boss, &worker).await;
    assert_eq!(listed["nickname"], "Worker");
    assert_eq!(listed["tenant_id"], "acme");
    assert_eq!(emails(&app, &admin).await, ["admin@weir.test"]);
}

#[tokio::test]
async fn resetting_a_users_password() {
    let (app, admin, user) = setup_with_user("plain@weir.test").await;
    let path = format!("/user/members/{}/change-password", user.user_id);
    let reset = json!({"password": "reset-by-admin-1"});
    assert_admin_only(&app, &user, "PUT", &path, Some(reset.clone())).await;
    for (body, field) in [
        (json!({"password": "seven77"}), "password"),
        (json!({"password": "p".repeat(65)}), "password"),
        (json!({}), "password"),
    ] {
        invalid(
            &app.call("PUT", &path, Some(&admin), Some(body)).await,
            field,
        );
    }
    // Nothing changed yet.
    ok(&me(&app, &user).await);
    ok(&password_grant(&app, &user.email, PASSWORD).await);

    assert_eq!(
        ok(&app.call("PUT", &path, Some(&admin), Some(reset)).await),
        &json!({})
    );
    assert_tokens_revoked(&app, &user).await;
    assert_login_refused(&app, &user.email, PASSWORD).await;
    ok(&password_grant(&app, &user.email, "reset-by-admin-1").await);
    ok(&me(&app, &admin).await);
}

#[tokio::test]
async fn deleting_a_user() {
    let (app, admin, user) = setup_with_user("plain@weir.test").await;
    let admin_path = format!("/user/members/{}", admin.user_id);
    assert_admin_only(&app, &user, "DELETE", &admin_path, None).await;
    let message = refused(
        &app.call("DELETE", &admin_path, Some(&admin), None).await,
        400,
        "user_delete_self",
    );
    assert!(message.contains("own"), "{message}");
    assert_eq!(
        emails(&app, &admin).await,
        ["admin@weir.test", "plain@weir.test"]
    );

    // A user who holds a role and has a refresh token can be deleted.
    let [_, (kind, dashboard), _] = crate::support::owned_objects(&app, &admin).await;
    let role_id = grant_resource_via_role(&app, &admin, &user.user_id, kind, &dashboard).await;
    let path = format!("/user/members/{}", user.user_id);
    assert_eq!(
        ok(&app.call("DELETE", &path, Some(&admin), None).await),
        &json!({})
    );
    assert_tokens_revoked(&app, &user).await;
    let role_members = format!("/user/roles/{role_id}/members");
    let answer = app.call("GET", &role_members, Some(&admin), None).await;
    assert_eq!(ok(&answer), &json!([]));
    assert_login_refused(&app, &user.email, PASSWORD).await;
    assert_eq!(emails(&app, &admin).await, ["admin@weir.test"]);
    not_found(
        &app.call("DELETE", &path, Some(&admin), None).await,
        &user.user_id,
    );
}

async fn batch_delete(app: &TestApp, who: Option<&Session>, ids: Value) -> Answer {
    let body = json!({"user_id_list": ids});
    app.call("POST", "/user/batch-delete", who, Some(body))
        .await
}

#[tokio::test]
async fn batch_delete_is_all_or_nothing() {
    let (app, admin, user) = setup_with_user("plain@weir.test").await;
    let other = app.create_user(&admin, "other@weir.test").await;
    let unknown = "1234567890123";
    let answer = batch_delete(&app, Some(&admin), json!([user.user_id, unknown])).await;
    not_found(&answer, unknown);
    let answer = batch_delete(&app, Some(&admin), json!([user.user_id, admin.user_id])).await;
    refused(&answer, 400, "user_delete_self");
    let too_many: Vec<String> = (1..=1001).map(|i| i.to_string()).collect();
    for (ids, field) in [
        (json!([]), "user_id_list"),
        (json!(too_many), "user_id_list"),
        (json!("everyone"), "user_id_list"),
        (json!(["abc"]), "user_id_list[0]"),
        (json!([user.user_id, -3]), "user_id_list[1]"),
    ] {
        invalid(&batch_delete(&app, Some(&admin), ids).await, field);
    }
    let answer = app
        .call("POST", "/user/batch-delete", Some(&admin), Some(json!({})))
        .await;
    invalid(&answer, "user_id_list");
    let ids = json!([other.user_id]);
    unauthenticated(&batch_delete(&app, None, ids.clone()).await, "missing");
    forbidden(&batch_delete(&app, Some(&user), ids).await);
    // The refused batches deleted nobody.
    assert_eq!(
        emails(&app, &admin).await,
        ["admin@weir.test", "other@weir.test", "plain@weir.test"]
    );
    ok(&me(&app, &user).await);

    // Ids may also be JSON numbers, and may repeat.
    let numeric: i64 = other.user_id.parse().unwrap();
    let ids = json!([user.user_id, numeric, user.user_id]);
    assert_eq!(ok(&batch_delete(&app, Some(&admin), ids).await), &json!({}));
    assert_eq!(emails(&app, &admin).await, ["admin@weir.test"]);
    assert_revoked(&app, &user).await;
    assert_revoked(&app, &other).await;
}

async fn menus_of(app: &TestApp, who: &Session, user_id: &str) -> Answer {
    let path = format!("/user/members/{user_id}/menus");
    app.call("GET", &path, Some(who), None).await
}

#[tokio::test]
async fn reading_a_users_menus() {
    let (app, admin, user) = setup_with_user("plain@weir.test").await;
    let answer = menus_of(&app, &admin, &admin.user_id).await;
    let all = ok(&answer).as_array().unwrap();
    let answer = me(&app, &admin).await;
    assert_eq!(all, ok(&answer)["menus"].as_array().unwrap());
    assert!(all.len() > 20, "{all:?}");
    assert_eq!(ok(&menus_of(&app, &admin, &user.user_id).await), &json!([]));
    assert_eq!(ok(&menus_of(&app, &user, &user.user_id).await), &json!([]));
    forbidden(&menus_of(&app, &user, &admin.user_id).await);
    let path = format!("/user/members/{}/menus", user.user_id);
    unauthenticated(&app.call("GET", &path, None, None).await, "missing");

    let (_, menu_id) = grant_menu_via_role(&app, &admin, &user.user_id, "workflow.view").await;
    for reader in [&admin, &user] {
        let answer = menus_of(&app, reader, &user.user_id).await;
        let menus = ok(&answer).as_array().unwrap();
        assert_eq!(menus.len(), 1, "{menus:?}");
        assert_eq!(menus[0]["code"], "workflow.view");
        assert_eq!(menus[0]["menu_id"], menu_id.as_str());
        assert_eq!(menus[0]["type"], "FUNCTION");
        assert!(menus[0]["parent_id"].is_string(), "{menus:?}");
    }
    // Holding a function code does not make one an administrator.
    forbidden(&menus_of(&app, &user, &admin.user_id).await);
}

async fn permission(app: &TestApp, who: &Session, user_id: &str, kind: &str, id: &str) -> Answer {
    let path = format!("/user/members/{user_id}/permission");
    let body = json!({"resource_type": kind, "resource_id": id});
    app.call("POST", &path, Some(who), Some(body)).await
}

async fn has_permission(app: &TestApp, who: &Session, user_id: &str, kind: &str, id: &str) -> bool {
    let answer = permission(app, who, user_id, kind, id).await;
    ok(&answer)["has_permission"]
        .as_bool()
        .expect("has_permission")
}

#[tokio::test]
async fn checking_a_users_permission() {
    let (app, admin, user) = setup_with_user("plain@weir.test").await;
    // Grants name real objects of the tenant; the permission check itself takes any id.
    let [(_, device), (_, other), _] = crate::support::owned_objects(&app, &admin).await;
    let (device, other) = (device.as_str(), other.as_str());
    assert!(has_permission(&app, &admin, &admin.user_id, "DEVICE", device).await);
    assert!(!has_permission(&app, &admin, &user.user_id, "DEVICE", device).await);
    assert!(!has_permission(&app, &user, &user.user_id, "DEVICE", device).await);
    forbidden(&permission(&app, &user, &admin.user_id, "DEVICE", device).await);

    grant_resource_via_role(&app, &admin, &user.user_id, "DEVICE", device).await;
    assert!(has_permission(&app, &user, &user.user_id, "DEVICE", device).await);
    assert!(has_permission(&app, &admin, &user.user_id, "DEVICE", device).await);
    assert!(!has_permission(&app, &user, &user.user_id, "DEVICE", other).await);
    assert!(!has_permission(&app, &user, &user.user_id, "ENTITY", device).await);

    invalid(
        &permission(&app, &user, &user.user_id, "GADGET", "42").await,
        "resource_type",
    );
    let path = format!("/user/members/{}/permission", user.user_id);
    for (body, field) in [
        (json!({"resource_type": "DEVICE"}), "resource_id"),
        (json!({"resource_id": "42"}), "resource_type"),
        (
            json!({"resource_type": 1, "resource_id": "42"}),
            "resource_type",
        ),
    ] {
        invalid(
            &app.call("POST", &path, Some(&user), Some(body)).await,
            field,
        );
    }
    let body = json!({"resource_type": "DEVICE", "resource_id": "42"});
    unauthenticated(&app.call("POST", &path, None, Some(body)).await, "missing");
}

#[tokio::test]
async fn an_empty_resource_id_is_refused_naming_it() {
    let (app, _admin, user) = setup_with_user("plain@weir.test").await;
    let answer = permission(&app, &user, &user.user_id, "DEVICE", "").await;
    invalid(&answer, "resource_id");
}
