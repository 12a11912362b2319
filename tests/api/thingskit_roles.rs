//! The ThingsKit dialect's tenant roles (`/api/yt/role...`): save with menus, enable and
//! disable, delete, the paged listing, its errors `{errorCode, message, status,
//! timestamp}`, and how what it changes shows in the native API.

use serde_json::{Value, json};
use weir_test_kit::{Session, TestApp};

use crate::support::{
    Answer, UNKNOWN_ID, all_roles, link, me, ok, on_role, pluck, row_with, send, setup,
    setup_with_user, super_admin_role, two_tenants,
};

const SAVE: &str = "/api/yt/role/save_with_menu";
const ROLES: &str = "/api/yt/role";

/// `method path` with a JSON body, the token in ThingsBoard's `X-Authorization` header.
async fn tk(
    app: &TestApp,
    method: &str,
    path: &str,
    who: Option<&Session>,
    body: Option<Value>,
) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = app.client().request(method, app.url(path));
    if let Some(s) = who {
        req = req.header("X-Authorization", format!("Bearer {}", s.access_token));
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    send(req).await.0
}

/// A raw body with a content type, the token in `X-Authorization`.
async fn tk_raw(
    app: &TestApp,
    method: &str,
    path: &str,
    who: &Session,
    content_type: &str,
    body: &str,
) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let req = app
        .client()
        .request(method, app.url(path))
        .header("X-Authorization", format!("Bearer {}", who.access_token))
        .header("content-type", content_type)
        .body(body.to_owned());
    send(req).await.0
}

/// `2025-01-02T03:04:05.678Z`.
fn is_iso8601(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// Asserts a ThingsKit error with this HTTP status and `errorCode`; returns its message.
fn tk_refused(answer: &Answer, status: u16, code: u64) -> String {
    let (got, body) = answer;
    assert_eq!(
        (*got, body["errorCode"].as_u64(), body["status"].as_u64()),
        (status, Some(code), Some(u64::from(status))),
        "{body}"
    );
    let keys: Vec<&String> = body.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        ["errorCode", "message", "status", "timestamp"],
        "{body}"
    );
    let timestamp = body["timestamp"].as_str().expect("timestamp");
    assert!(is_iso8601(timestamp), "{timestamp}");
    body["message"].as_str().expect("message").to_owned()
}

/// Asserts a 200 and returns the body.
fn tk_ok(answer: &Answer) -> &Value {
    assert_eq!(answer.0, 200, "{}", answer.1);
    &answer.1
}

/// Creates a role through ThingsKit with these menus; the answered role.
async fn save(app: &TestApp, admin: &Session, body: Value) -> Value {
    tk_ok(&tk(app, "POST", SAVE, Some(admin), Some(body)).await).clone()
}

async fn new_tk_role(app: &TestApp, admin: &Session, name: &str) -> String {
    let role = save(app, admin, json!({"name": name})).await;
    role["id"].as_str().expect("id").to_owned()
}

fn status_path(role: &str, status: &str) -> String {
    format!("/api/yt/role/update_status/{role}/{status}")
}

/// `GET /api/yt/role?{query}` as `who`.
async fn list(app: &TestApp, who: &Session, query: &str) -> Answer {
    tk(app, "GET", &format!("{ROLES}?{query}"), Some(who), None).await
}

/// The names on one page of the listing, and the total.
async fn names(app: &TestApp, who: &Session, query: &str) -> (Vec<String>, i64) {
    let answer = list(app, who, query).await;
    let body = tk_ok(&answer);
    (
        pluck(&body["items"], "name"),
        body["total"].as_i64().expect("total"),
    )
}

/// The menu codes the native `GET /user` lists for `who`.
async fn my_menu_codes(app: &TestApp, who: &Session) -> Vec<String> {
    pluck(&ok(&me(app, who).await)["menus"], "code")
}

/// The menu codes the native API says the role grants.
async fn native_menu_codes(app: &TestApp, admin: &Session, role: &str) -> Vec<String> {
    let mut codes = pluck(
        ok(&on_role(app, admin, "GET", role, "/menus", None).await),
        "code",
    );
    codes.sort();
    codes
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().expect("string").to_owned())
        .collect()
}

// ---- POST /api/yt/role/save_with_menu ----

#[tokio::test]
async fn save_with_menu_creates_a_role_with_its_menus() {
    let (app, admin) = setup().await;
    let view = app.menu_id(&admin, "device.view").await;
    let dash = app.menu_id(&admin, "dashboard").await;
    let role = save(
        &app,
        &admin,
        json!({"id": "", "name": "operators", "remark": "Run the plant",
               "roleType": "TENANT_ADMIN", "status": 1, "menu": [view, dash]}),
    )
    .await;
    let id = role["id"].as_str().expect("id is a string");
    assert!(id.parse::<i64>().is_ok_and(|n| n > 0), "{role}");
    assert_eq!(role["code"], id);
    assert_eq!(role["name"], "operators");
    assert_eq!(role["remark"], "Run the plant");
    assert_eq!(role["roleType"], "TENANT_ADMIN");
    assert_eq!(role["status"], true);
    assert_eq!(role["tenantId"], "default");
    assert_eq!(role["tenantStatus"], "NORMAL");
    assert_eq!(role["creator"], admin.user_id.as_str());
    for absent in [
        "updater",
        "description",
        "icon",
        "defaultConfig",
        "roleIds",
        "tenantExpireTime",
        "tenantProfileId",
    ] {
        assert!(role[absent].is_null(), "{absent}: {role}");
    }
    let created = role["createTime"].as_str().expect("createTime");
    assert!(is_iso8601(created), "{role}");
    let updated = role["updateTime"].as_str().expect("updateTime");
    assert!(is_iso8601(updated) && updated >= created, "{role}");
    assert_eq!(sorted(strings(&role["menu"])), sorted(vec![view, dash]));

    // The native API sees the same role with the same menus.
    let row = row_with(all_roles(&app, &admin).await, "role_id", id);
    assert_eq!(
        (&row["name"], &row["description"]),
        (&json!("operators"), &json!("Run the plant"))
    );
    assert_eq!(
        native_menu_codes(&app, &admin, id).await,
        ["dashboard", "device.view"]
    );
}

#[tokio::test]
async fn save_with_menu_defaults_and_the_authorization_header() {
    let (app, admin) = setup().await;
    // The plain `Authorization: Bearer` header works too.
    let answer = app
        .call("POST", SAVE, Some(&admin), Some(json!({"name": "plain"})))
        .await;
    let role = tk_ok(&answer);
    assert_eq!(
        (&role["roleType"], &role["status"], &role["remark"]),
        (&json!("CUSTOMER_USER"), &json!(true), &json!(""))
    );
    assert_eq!(role["menu"], json!([]));
}

#[tokio::test]
async fn save_with_menu_updates_only_what_is_sent() {
    let (app, admin) = setup().await;
    let view = app.menu_id(&admin, "device.view").await;
    let dash = app.menu_id(&admin, "dashboard").await;
    let role = save(
        &app,
        &admin,
        json!({"name": "operators", "remark": "r", "roleType": "SYS_ADMIN", "menu": [view]}),
    )
    .await;
    let id = role["id"].as_str().unwrap().to_owned();
    // A number is read as an id too.
    let numeric: i64 = id.parse().unwrap();
    let changed = save(
        &app,
        &admin,
        json!({"id": numeric, "name": "ops", "status": 0, "menu": [dash]}),
    )
    .await;
    assert_eq!(changed["id"], id.as_str());
    assert_eq!(
        (&changed["name"], &changed["remark"], &changed["roleType"]),
        (&json!("ops"), &json!("r"), &json!("SYS_ADMIN"))
    );
    assert_eq!(changed["status"], false);
    assert_eq!(changed["createTime"], role["createTime"]);
    assert!(
        changed["updateTime"].as_str().unwrap() >= role["updateTime"].as_str().unwrap(),
        "{changed}"
    );
    assert_eq!(strings(&changed["menu"]), std::slice::from_ref(&dash));
    assert_eq!(native_menu_codes(&app, &admin, &id).await, ["dashboard"]);
    // Without `menu`, the menus stay; `menu: []` takes them away.
    let kept = save(&app, &admin, json!({"id": id, "remark": "new"})).await;
    assert_eq!(strings(&kept["menu"]), [dash]);
    assert_eq!(kept["remark"], "new");
    let cleared = save(&app, &admin, json!({"id": id, "menu": []})).await;
    assert_eq!(cleared["menu"], json!([]));
    assert!(native_menu_codes(&app, &admin, &id).await.is_empty());
}

#[tokio::test]
async fn save_with_menu_takes_a_form() {
    let (app, admin) = setup().await;
    let view = app.menu_id(&admin, "device.view").await;
    let dash = app.menu_id(&admin, "dashboard").await;
    let form = format!(
        "name=formed&remark=by+form&roleType=PLATFORM_ADMIN&status=1&menu={view}&menu={dash}"
    );
    let answer = tk_raw(
        &app,
        "POST",
        SAVE,
        &admin,
        "application/x-www-form-urlencoded",
        &form,
    )
    .await;
    let role = tk_ok(&answer).clone();
    assert_eq!(
        (&role["name"], &role["remark"], &role["roleType"]),
        (
            &json!("formed"),
            &json!("by form"),
            &json!("PLATFORM_ADMIN")
        )
    );
    let id = role["id"].as_str().unwrap();
    assert_eq!(
        native_menu_codes(&app, &admin, id).await,
        ["dashboard", "device.view"]
    );
    let form = format!("id={id}&status=0&menu={view}");
    let answer = tk_raw(
        &app,
        "POST",
        SAVE,
        &admin,
        "application/x-www-form-urlencoded; charset=UTF-8",
        &form,
    )
    .await;
    let changed = tk_ok(&answer);
    assert_eq!(
        (&changed["status"], &changed["name"]),
        (&json!(false), &json!("formed"))
    );
    assert_eq!(strings(&changed["menu"]), [view]);
    let answer = tk_raw(
        &app,
        "POST",
        SAVE,
        &admin,
        "application/x-www-form-urlencoded",
        "name=x&status=on",
    )
    .await;
    tk_refused(&answer, 400, 31);
}

#[tokio::test]
async fn save_with_menu_refuses_bad_input() {
    let (app, admin) = setup().await;
    let existing = new_tk_role(&app, &admin, "taken").await;
    let raw = |body: &'static str| {
        let (app, admin) = (&app, &admin);
        async move { tk_raw(app, "POST", SAVE, admin, "application/json", body).await }
    };
    // Requests that cannot be read: 31.
    for body in ["{\"name\": ", "[1, 2]", "\"name\""] {
        let msg = tk_refused(&raw(body).await, 400, 31);
        assert!(!msg.is_empty(), "{body}");
    }
    for (body, field) in [
        (json!({"name": 5}), "name"),
        (json!({"name": "x", "menu": "1"}), "menu"),
        (json!({"name": "x", "menu": [true]}), "menu[0]"),
        (json!({"name": "x", "status": "1"}), "status"),
        (json!({"name": "x", "status": 1.5}), "status"),
    ] {
        let answer = tk(&app, "POST", SAVE, Some(&admin), Some(body.clone())).await;
        let msg = tk_refused(&answer, 400, 31);
        assert!(msg.contains(field), "{body}: {msg}");
    }
    // Values that break a rule: 30.
    for (body, words) in [
        (json!({"name": "x", "roleType": "KING"}), "roleType"),
        (json!({"name": "x", "status": 7}), "status"),
        (json!({"remark": "no name"}), "name"),
        (json!({"name": "  "}), "name"),
        (json!({"name": "taken"}), "taken"),
    ] {
        let answer = tk(&app, "POST", SAVE, Some(&admin), Some(body.clone())).await;
        let msg = tk_refused(&answer, 400, 30);
        assert!(msg.contains(words), "{body}: {msg}");
    }
    // Unknown or malformed ids: 32, and nothing is created or changed.
    for (body, id) in [
        (json!({"name": "x", "menu": [UNKNOWN_ID]}), UNKNOWN_ID),
        (json!({"name": "x", "menu": ["abc"]}), "abc"),
        (json!({"id": UNKNOWN_ID, "name": "x"}), UNKNOWN_ID),
        (json!({"id": "abc", "name": "x"}), "abc"),
        (json!({"id": existing, "menu": [UNKNOWN_ID]}), UNKNOWN_ID),
    ] {
        let answer = tk(&app, "POST", SAVE, Some(&admin), Some(body.clone())).await;
        let msg = tk_refused(&answer, 404, 32);
        assert!(msg.contains(id), "{body}: {msg}");
    }
    let (all, total) = names(&app, &admin, "page=1&pageSize=100").await;
    assert_eq!(
        (all, total),
        (vec!["taken".into(), "super_admin".into()], 2)
    );
}

#[tokio::test]
async fn the_built_in_role_cannot_change() {
    let (app, admin) = setup().await;
    let built_in = super_admin_role(&app, &admin).await;
    let listed = tk_ok(&list(&app, &admin, "page=1&pageSize=10").await).clone();
    let row = &listed["items"][0];
    assert_eq!(
        (&row["id"], &row["name"], &row["status"]),
        (&json!(built_in), &json!("super_admin"), &json!(true))
    );
    assert_eq!(row["roleType"], "TENANT_ADMIN");
    assert!(row["creator"].is_null(), "{row}");
    assert!(!row["menu"].as_array().unwrap().is_empty(), "{row}");
    let refusals = [
        tk(
            &app,
            "PUT",
            &status_path(&built_in, "0"),
            Some(&admin),
            None,
        )
        .await,
        tk(&app, "DELETE", ROLES, Some(&admin), Some(json!([built_in]))).await,
        tk(
            &app,
            "POST",
            SAVE,
            Some(&admin),
            Some(json!({"id": built_in, "name": "mine"})),
        )
        .await,
    ];
    for answer in &refusals {
        let msg = tk_refused(answer, 403, 20);
        assert!(msg.contains("built-in"), "{msg}");
    }
    let row = row_with(all_roles(&app, &admin).await, "role_id", &built_in);
    assert_eq!(row["name"], "super_admin");
    assert_eq!(
        names(&app, &admin, "page=1&pageSize=10&status=1").await.1,
        1
    );
}

// ---- permissions ----

#[tokio::test]
async fn every_operation_needs_a_super_admin() {
    let (app, admin, plain) = setup_with_user("plain@weir.test").await;
    let role = new_tk_role(&app, &admin, "operators").await;
    let calls = [
        ("POST", SAVE.to_owned(), Some(json!({"name": "sneaky"}))),
        (
            "POST",
            SAVE.to_owned(),
            Some(json!({"id": role, "name": "x"})),
        ),
        ("PUT", status_path(&role, "0"), None),
        ("DELETE", ROLES.to_owned(), Some(json!([role]))),
        ("GET", format!("{ROLES}?page=1&pageSize=10"), None),
    ];
    for (method, path, body) in &calls {
        let msg = tk_refused(&tk(&app, method, path, None, body.clone()).await, 401, 10);
        assert!(
            msg.contains("missing access token"),
            "{method} {path}: {msg}"
        );
        let answer = tk(&app, method, path, Some(&plain), body.clone()).await;
        tk_refused(&answer, 403, 20);
        // Through `Authorization` too.
        let answer = app.call(method, path, Some(&plain), body.clone()).await;
        tk_refused(&answer, 403, 20);
    }
    // A bad request from a caller who may not manage roles is still 403.
    let answer = tk(&app, "PUT", &status_path("abc", "7"), Some(&plain), None).await;
    tk_refused(&answer, 403, 20);
    // Malformed or unknown tokens are 10.
    for header in ["Bearer not-a-token", "Basic abc", "Bearer"] {
        let req = app
            .client()
            .get(app.url(&format!("{ROLES}?page=1&pageSize=10")))
            .header("X-Authorization", header);
        tk_refused(&send(req).await.0, 401, 10);
    }
    // Nothing changed.
    let (all, _) = names(&app, &admin, "page=1&pageSize=10").await;
    assert_eq!(all, ["operators", "super_admin"]);
}

// ---- PUT /api/yt/role/update_status/{roleId}/{status} ----

#[tokio::test]
async fn disabling_a_role_takes_its_menus_from_its_members() {
    let (app, admin, user) = setup_with_user("plain@weir.test").await;
    let view = app.menu_id(&admin, "device.view").await;
    let role = save(&app, &admin, json!({"name": "viewers", "menu": [view]})).await;
    let id = role["id"].as_str().unwrap().to_owned();
    link(&app, &admin, &id, "associate-user", &[&user.user_id]).await;
    assert_eq!(my_menu_codes(&app, &user).await, ["device.view"]);

    let answer = tk(&app, "PUT", &status_path(&id, "0"), Some(&admin), None).await;
    let off = tk_ok(&answer);
    assert_eq!((&off["id"], &off["status"]), (&json!(id), &json!(false)));
    assert!(my_menu_codes(&app, &user).await.is_empty());
    let (disabled, total) = names(&app, &admin, "page=1&pageSize=10&status=0").await;
    assert_eq!((disabled, total), (vec!["viewers".to_owned()], 1));

    let answer = tk(&app, "PUT", &status_path(&id, "1"), Some(&admin), None).await;
    assert_eq!(tk_ok(&answer)["status"], true);
    assert_eq!(my_menu_codes(&app, &user).await, ["device.view"]);
    // Enabling an enabled role is fine.
    let answer = app
        .call("PUT", &status_path(&id, "1"), Some(&admin), None)
        .await;
    assert_eq!(tk_ok(&answer)["status"], true);
}

#[tokio::test]
async fn update_status_refuses_bad_values() {
    let (app, admin) = setup().await;
    let role = new_tk_role(&app, &admin, "operators").await;
    for status in ["7", "-1", "2"] {
        let answer = tk(&app, "PUT", &status_path(&role, status), Some(&admin), None).await;
        let msg = tk_refused(&answer, 400, 30);
        assert!(msg.contains("status"), "{msg}");
    }
    for status in ["on", "1.0"] {
        let answer = tk(&app, "PUT", &status_path(&role, status), Some(&admin), None).await;
        tk_refused(&answer, 400, 31);
    }
    for id in [UNKNOWN_ID, "abc", "-4"] {
        let answer = tk(&app, "PUT", &status_path(id, "0"), Some(&admin), None).await;
        let msg = tk_refused(&answer, 404, 32);
        assert!(msg.contains(id), "{msg}");
    }
    assert_eq!(
        names(&app, &admin, "page=1&pageSize=10&status=1").await.1,
        2
    );
}

// ---- DELETE /api/yt/role ----

#[tokio::test]
async fn delete_removes_all_or_none() {
    let (app, admin, user) = setup_with_user("plain@weir.test").await;
    let a = new_tk_role(&app, &admin, "a").await;
    let b = new_tk_role(&app, &admin, "b").await;
    let c = new_tk_role(&app, &admin, "c").await;
    let member = new_tk_role(&app, &admin, "has-user").await;
    link(&app, &admin, &member, "associate-user", &[&user.user_id]).await;
    let built_in = super_admin_role(&app, &admin).await;
    let everything = || {
        names(
            &app,
            &admin,
            "page=1&pageSize=100&orderFiled=name&orderType=ASC",
        )
    };

    // One bad id refuses the whole batch.
    for (ids, status, code) in [
        (json!([a, UNKNOWN_ID]), 404, 32),
        (json!([a, "abc"]), 404, 32),
        (json!([a, built_in]), 403, 20),
        (json!([a, member]), 400, 30),
        (json!([]), 400, 30),
    ] {
        let answer = tk(&app, "DELETE", ROLES, Some(&admin), Some(ids.clone())).await;
        tk_refused(&answer, status, code);
    }
    for body in ["[1", "{\"name\": 1}", "", "[true]", "[{}]"] {
        let answer = tk_raw(&app, "DELETE", ROLES, &admin, "application/json", body).await;
        tk_refused(&answer, 400, 31);
    }
    assert_eq!(everything().await.1, 5);

    let numeric: i64 = b.parse().unwrap();
    let answer = tk(
        &app,
        "DELETE",
        ROLES,
        Some(&admin),
        Some(json!([a, numeric])),
    )
    .await;
    assert_eq!(tk_ok(&answer), &json!(true));
    let (left, total) = everything().await;
    assert_eq!(
        (left, total),
        (vec!["c".into(), "has-user".into(), "super_admin".into()], 3)
    );
    assert!(!pluck(&json!(all_roles(&app, &admin).await), "role_id").contains(&a));
    // Deleted ids are unknown now.
    let answer = tk(&app, "DELETE", ROLES, Some(&admin), Some(json!([a]))).await;
    tk_refused(&answer, 404, 32);
    // `{"ids": [...]}` and a form are read too.
    let answer = tk(
        &app,
        "DELETE",
        ROLES,
        Some(&admin),
        Some(json!({"ids": [c]})),
    )
    .await;
    assert_eq!(tk_ok(&answer), &json!(true));
    let d = new_tk_role(&app, &admin, "d").await;
    let e = new_tk_role(&app, &admin, "e").await;
    let form = format!("ids={d},{e}");
    let answer = tk_raw(
        &app,
        "DELETE",
        ROLES,
        &admin,
        "application/x-www-form-urlencoded",
        &form,
    )
    .await;
    assert_eq!(tk_ok(&answer), &json!(true));
    assert_eq!(everything().await.0, ["has-user", "super_admin"]);
}

// ---- GET /api/yt/role ----

/// A server with the roles delta, alpha, charlie and bravo made in that order (and the
/// built-in super_admin before them); charlie is disabled.
async fn setup_with_roles() -> (TestApp, Session) {
    let (app, admin) = setup().await;
    for name in ["delta", "alpha", "charlie", "bravo"] {
        let status = i32::from(name != "charlie");
        save(&app, &admin, json!({"name": name, "status": status})).await;
    }
    (app, admin)
}

#[tokio::test]
async fn list_pages_and_orders() {
    let (app, admin) = setup_with_roles().await;
    let all = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let cases: [(&str, Vec<String>); 7] = [
        (
            "orderFiled=name&orderType=ASC",
            all(&["alpha", "bravo", "charlie", "delta", "super_admin"]),
        ),
        (
            "orderFiled=name&orderType=DESC",
            all(&["super_admin", "delta", "charlie", "bravo", "alpha"]),
        ),
        (
            "orderFiled=createTime&orderType=ASC",
            all(&["super_admin", "delta", "alpha", "charlie", "bravo"]),
        ),
        (
            "orderFiled=createTime&orderType=DESC",
            all(&["bravo", "charlie", "alpha", "delta", "super_admin"]),
        ),
        // The default: newest first.
        (
            "",
            all(&["bravo", "charlie", "alpha", "delta", "super_admin"]),
        ),
        (
            "orderFiled=create_time&orderType=asc",
            all(&["super_admin", "delta", "alpha", "charlie", "bravo"]),
        ),
        (
            "orderFiled=status&orderType=ASC",
            all(&["charlie", "super_admin", "delta", "alpha", "bravo"]),
        ),
    ];
    for (order, expected) in cases {
        let (got, total) = names(&app, &admin, &format!("page=1&pageSize=10&{order}")).await;
        assert_eq!((got, total), (expected, 5), "{order}");
    }
    let page = |n: u32| format!("page={n}&pageSize=2&orderFiled=name&orderType=ASC");
    assert_eq!(
        names(&app, &admin, &page(1)).await,
        (all(&["alpha", "bravo"]), 5)
    );
    assert_eq!(
        names(&app, &admin, &page(2)).await,
        (all(&["charlie", "delta"]), 5)
    );
    assert_eq!(
        names(&app, &admin, &page(3)).await,
        (all(&["super_admin"]), 5)
    );
    assert_eq!(names(&app, &admin, &page(9)).await, (vec![], 5));
    // A change moves a role to the front by updateTime, not by createTime.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (alpha, _) = names(&app, &admin, "page=1&pageSize=1&roleName=alpha").await;
    assert_eq!(alpha, ["alpha"]);
    let answer = list(&app, &admin, "page=1&pageSize=1&roleName=alpha").await;
    let id = tk_ok(&answer)["items"][0]["id"].clone();
    save(&app, &admin, json!({"id": id, "remark": "changed"})).await;
    let order = |field: &str| format!("page=1&pageSize=2&orderFiled={field}&orderType=DESC");
    assert_eq!(
        names(&app, &admin, &order("updateTime")).await.0,
        all(&["alpha", "bravo"])
    );
    assert_eq!(
        names(&app, &admin, &order("update_time")).await.0,
        all(&["alpha", "bravo"])
    );
    assert_eq!(
        names(&app, &admin, &order("createTime")).await.0,
        all(&["bravo", "charlie"])
    );
    // A page size over the maximum is capped, not refused.
    assert_eq!(names(&app, &admin, "page=1&pageSize=100000").await.1, 5);
    assert_eq!(
        names(&app, &admin, "page=1&pageSize=100000").await.0.len(),
        5
    );
}

#[tokio::test]
async fn list_filters_by_name_and_status() {
    let (app, admin) = setup_with_roles().await;
    let q = |filter: &str| format!("page=1&pageSize=10&orderFiled=name&orderType=ASC&{filter}");
    let cases: [(&str, &[&str]); 6] = [
        ("roleName=ALP", &["alpha"]),
        (
            "roleName=a",
            &["alpha", "bravo", "charlie", "delta", "super_admin"],
        ),
        ("roleName=ar", &["charlie"]),
        ("status=0", &["charlie"]),
        (
            "status=1&roleName=a",
            &["alpha", "bravo", "delta", "super_admin"],
        ),
        ("roleName=nobody", &[]),
    ];
    for (filter, expected) in cases {
        let (got, total) = names(&app, &admin, &q(filter)).await;
        assert_eq!(got, expected, "{filter}");
        assert_eq!(total, expected.len() as i64, "{filter}");
    }
    // Empty values are absent.
    assert_eq!(names(&app, &admin, &q("roleName=&status=")).await.1, 5);
    // Every item has the document's fields.
    let answer = list(&app, &admin, &q("roleName=charlie")).await;
    let item = &tk_ok(&answer)["items"][0];
    let mut keys: Vec<&String> = item.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "code",
            "createTime",
            "creator",
            "defaultConfig",
            "description",
            "icon",
            "id",
            "menu",
            "name",
            "remark",
            "roleIds",
            "roleType",
            "status",
            "tenantExpireTime",
            "tenantId",
            "tenantProfileId",
            "tenantStatus",
            "updateTime",
            "updater",
        ]
    );
    assert_eq!(item["status"], false);
}

#[tokio::test]
async fn list_refuses_bad_parameters() {
    let (app, admin) = setup().await;
    for (query, status, code, words) in [
        ("pageSize=10", 400, 31, "page is required"),
        ("page=1", 400, 31, "pageSize is required"),
        ("page=x&pageSize=10", 400, 31, "page"),
        ("page=0&pageSize=10", 400, 30, "page"),
        ("page=-1&pageSize=10", 400, 30, "page"),
        ("page=1&pageSize=0", 400, 30, "pageSize"),
        ("page=1&pageSize=10&orderFiled=color", 400, 30, "color"),
        ("page=1&pageSize=10&orderType=UP", 400, 30, "orderType"),
        ("page=1&pageSize=10&status=7", 400, 30, "status"),
        ("page=1&pageSize=10&status=on", 400, 31, "status"),
        ("page=1&pageSize=10&page=2", 400, 31, "page"),
    ] {
        let msg = tk_refused(&list(&app, &admin, query).await, status, code);
        assert!(msg.contains(words), "{query}: {msg}");
    }
}

// ---- tenants ----

#[tokio::test]
async fn another_tenants_roles_are_not_found() {
    let (app, admin, boss) = two_tenants().await;
    let theirs = new_tk_role(&app, &boss, "acme-ops").await;
    let their_menu = app.menu_id(&boss, "device.view").await;
    let ours = new_tk_role(&app, &admin, "ops").await;
    for answer in [
        tk(&app, "PUT", &status_path(&theirs, "0"), Some(&admin), None).await,
        tk(
            &app,
            "POST",
            SAVE,
            Some(&admin),
            Some(json!({"id": theirs, "name": "mine"})),
        )
        .await,
        tk(&app, "DELETE", ROLES, Some(&admin), Some(json!([theirs]))).await,
        tk(
            &app,
            "POST",
            SAVE,
            Some(&admin),
            Some(json!({"id": ours, "menu": [their_menu]})),
        )
        .await,
    ] {
        tk_refused(&answer, 404, 32);
    }
    let (mine, _) = names(
        &app,
        &admin,
        "page=1&pageSize=100&orderFiled=name&orderType=ASC",
    )
    .await;
    assert_eq!(mine, ["ops", "super_admin"]);
    let answer = list(
        &app,
        &boss,
        "page=1&pageSize=100&orderFiled=name&orderType=ASC",
    )
    .await;
    let body = tk_ok(&answer);
    assert_eq!(pluck(&body["items"], "name"), ["acme-ops", "super_admin"]);
    assert_eq!(body["items"][0]["status"], true);
    assert_eq!(body["items"][0]["tenantId"], "acme");
}

// ---- the surface ----

#[tokio::test]
async fn other_paths_under_api_yt_answer_32() {
    let (app, admin) = setup().await;
    for (method, path) in [
        ("GET", "/api/yt/role/save_with_menu"),
        ("PATCH", "/api/yt/role"),
        ("GET", "/api/yt/nothing"),
        ("GET", "/api/yt"),
    ] {
        let msg = tk_refused(&tk(&app, method, path, Some(&admin), None).await, 404, 32);
        assert!(msg.contains(path), "{msg}");
    }
}

#[tokio::test]
async fn the_operations_are_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let (status, doc) = app.call("GET", "/openapi.json", None, None).await;
    assert_eq!(status, 200);
    for (method, path) in [
        ("post", "/api/yt/role/save_with_menu"),
        ("put", "/api/yt/role/update_status/{roleId}/{status}"),
        ("delete", "/api/yt/role"),
        ("get", "/api/yt/role"),
    ] {
        let op = &doc["paths"][path][method];
        assert_eq!(op["tags"], json!(["thingskit"]), "{method} {path}: {op}");
        assert!(op["responses"]["200"].is_object(), "{method} {path}");
        assert!(op["responses"]["404"].is_object(), "{method} {path}");
    }
    let error = &doc["paths"]["/api/yt/role"]["get"]["responses"]["404"];
    let schema = &error["content"]["application/json"]["schema"]["properties"];
    for field in ["errorCode", "message", "status", "timestamp"] {
        assert!(schema[field].is_object(), "{field}: {schema}");
    }
}

#[tokio::test]
async fn browsers_may_send_x_authorization() {
    const CONSOLE: &str = "http://console.test";
    let app = TestApp::spawn_with(|s| s.http.cors_origins = vec![CONSOLE.into()]).await;
    let res = app
        .client()
        .request(reqwest::Method::OPTIONS, app.url(ROLES))
        .header("Origin", CONSOLE)
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "x-authorization")
        .send()
        .await
        .expect("preflight sent");
    assert!(res.status().is_success(), "{}", res.status());
    let allowed = res
        .headers()
        .get("access-control-allow-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_lowercase();
    assert!(allowed.contains("x-authorization"), "{allowed}");
}
