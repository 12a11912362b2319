//! Tenants: each one is a separate world of users, roles and menus. Registration, login
//! and status pick theirs with the `TENANT-ID` header; every other call acts in the tenant
//! of the caller's token.

use serde_json::{Value, json};
use weir_test_kit::{PASSWORD, Session, TestApp};

use crate::support::{
    ACME, add_tenant, in_tenant, login_in, member_ids, new_role, ok, on_role, password_form, pluck,
    refused, register_in, role_action, search_roles, send, setup, two_tenants,
};

/// The ids of every tenant.
async fn tenant_ids(app: &TestApp) -> Vec<String> {
    let identity = app.weir.identity.clone();
    let mut ids: Vec<String> = tokio::task::spawn_blocking(move || identity.tenants())
        .await
        .expect("tenants task")
        .expect("tenants")
        .into_iter()
        .map(|t| t.id.to_string())
        .collect();
    ids.sort();
    ids
}

async fn initialised(app: &TestApp, tenant: &str) -> Value {
    ok(&in_tenant(app, "GET", "/user/status", tenant, None).await)["init"].clone()
}

/// `POST /user/members/search` as `who`; the page.
async fn members_page(app: &TestApp, who: &Session, body: Value) -> Value {
    let answer = app
        .call("POST", "/user/members/search", Some(who), Some(body))
        .await;
    ok(&answer).clone()
}

#[tokio::test]
async fn a_new_tenant_registers_its_own_first_user() {
    let app = TestApp::spawn().await;
    assert_eq!(add_tenant(&app, ACME).await, Ok(ACME.to_owned()));
    assert_eq!(initialised(&app, ACME).await, false);
    assert_eq!(
        ok(&register_in(&app, ACME, "boss@acme.test", PASSWORD).await),
        &json!({})
    );
    assert_eq!(initialised(&app, ACME).await, true);
    // The default tenant is untouched, and acme's registration is now closed.
    assert_eq!(initialised(&app, "default").await, false);
    refused(
        &register_in(&app, ACME, "late@acme.test", PASSWORD).await,
        400,
        "tenant_user_inited",
    );
}

#[tokio::test]
async fn login_with_the_header_signs_into_that_tenant() {
    let app = TestApp::spawn().await;
    add_tenant(&app, ACME).await.expect("add acme");
    ok(&register_in(&app, ACME, "boss@acme.test", PASSWORD).await);
    let (_, me) = login_in(&app, ACME, "boss@acme.test", PASSWORD).await;
    assert_eq!(me["tenant_id"], ACME);
    assert_eq!(me["email"], "boss@acme.test");
    assert_eq!(me["is_super_admin"], true);
    assert_eq!(pluck(&me["roles"], "role_name"), ["super_admin"]);
    // Without the header the login is in `default`, where boss does not exist.
    let form = password_form("boss@acme.test", PASSWORD);
    refused(
        &app.token_request(&form, None).await,
        401,
        "authentication_failed",
    );
}

#[tokio::test]
async fn the_same_email_can_exist_in_both_tenants() {
    let (app, admin) = setup().await;
    add_tenant(&app, ACME).await.expect("add acme");
    let acme_password = "acme-password-7";
    ok(&register_in(&app, ACME, "admin@weir.test", acme_password).await);
    let (acme_admin, me) = login_in(&app, ACME, "admin@weir.test", acme_password).await;
    assert_eq!(me["tenant_id"], ACME);
    assert_ne!(acme_admin.user_id, admin.user_id);
    let default_me = ok(&app.call("GET", "/user", Some(&admin), None).await).clone();
    assert_eq!(default_me["tenant_id"], "default");
    // Each account keeps its own password.
    let form = password_form("admin@weir.test", PASSWORD);
    refused(
        &app.token_request(&form, Some(ACME)).await,
        401,
        "authentication_failed",
    );
}

#[tokio::test]
async fn an_admin_sees_only_their_tenants_members_and_roles() {
    let (app, admin, boss) = two_tenants().await;
    app.create_user(&admin, "alice@weir.test").await;
    new_role(&app, &admin, "operators").await;
    let page = members_page(&app, &boss, json!({})).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["content"][0]["email"], "boss@acme.test");
    assert_eq!(page["content"][0]["tenant_id"], ACME);
    let page = members_page(&app, &boss, json!({"keyword": "alice"})).await;
    assert_eq!(
        (page["total"].clone(), page["content"].clone()),
        (json!(0), json!([]))
    );
    let page = search_roles(&app, &boss, json!({})).await;
    assert_eq!(pluck(&page["content"], "name"), ["super_admin"]);
    // The default admin does not see acme's admin.
    let page = members_page(&app, &admin, json!({"keyword": "boss"})).await;
    assert_eq!(page["total"], 0);
}

#[tokio::test]
async fn an_admin_cannot_reach_another_tenants_role() {
    let (app, admin, boss) = two_tenants().await;
    let role = new_role(&app, &admin, "operators").await;
    let res = on_role(&app, &boss, "GET", &role, "/members", None).await;
    assert!(refused(&res, 404, "data_no_found").contains(&role));
    let put = json!({"name": "hijacked"});
    let res = on_role(&app, &boss, "PUT", &role, "", Some(put)).await;
    refused(&res, 404, "data_no_found");
    let res = on_role(&app, &boss, "DELETE", &role, "", None).await;
    refused(&res, 404, "data_no_found");
    let grant = json!({"user_ids": [boss.user_id]});
    refused(
        &role_action(&app, &boss, &role, "associate-user", grant).await,
        404,
        "data_no_found",
    );
    // The role is as it was.
    let page = search_roles(&app, &admin, json!({"keyword": "operators"})).await;
    assert_eq!(pluck(&page["content"], "name"), ["operators"]);
    assert!(member_ids(&app, &admin, &role).await.is_empty());
}

#[tokio::test]
async fn an_admin_cannot_grant_another_tenants_user_or_menu() {
    let (app, admin, boss) = two_tenants().await;
    let role = new_role(&app, &boss, "acme-ops").await;
    let grant = json!({"user_ids": [admin.user_id]});
    let msg = refused(
        &role_action(&app, &boss, &role, "associate-user", grant).await,
        404,
        "data_no_found",
    );
    assert!(msg.contains(&admin.user_id), "{msg}");
    let default_menu = app.menu_id(&admin, "device.view").await;
    assert_ne!(
        app.menu_id(&boss, "device.view").await,
        default_menu,
        "each tenant has its own menus"
    );
    let grant = json!({"menu_ids": [default_menu]});
    refused(
        &role_action(&app, &boss, &role, "associate-menu", grant).await,
        404,
        "data_no_found",
    );
    assert!(member_ids(&app, &boss, &role).await.is_empty());
    assert_eq!(
        ok(&on_role(&app, &boss, "GET", &role, "/menus", None).await),
        &json!([])
    );
}

#[tokio::test]
async fn the_header_does_not_change_a_token_holders_tenant() {
    let (app, admin, _boss) = two_tenants().await;
    let request = app
        .client()
        .post(app.url("/user/members/search"))
        .bearer_auth(&admin.access_token)
        .header("TENANT-ID", ACME)
        .json(&json!({}));
    let (answer, _) = send(request).await;
    let page = ok(&answer);
    assert_eq!(pluck(&page["content"], "email"), ["admin@weir.test"]);
}

#[tokio::test]
async fn adding_an_existing_tenant_fails() {
    let app = TestApp::spawn().await;
    add_tenant(&app, ACME).await.expect("add acme");
    for id in [ACME, "default"] {
        let err = add_tenant(&app, id).await.expect_err("a second add");
        assert!(err.contains("already exists"), "{err}");
    }
    assert_eq!(tenant_ids(&app).await, [ACME, "default"]);
}

#[tokio::test]
async fn an_invalid_tenant_id_is_refused() {
    let app = TestApp::spawn().await;
    for id in ["Bad Id", "", "a/b", &"x".repeat(65)] {
        let err = add_tenant(&app, id).await.expect_err(id);
        assert!(err.contains("tenant"), "{id:?}: {err}");
    }
    assert_eq!(tenant_ids(&app).await, ["default"]);
}

#[tokio::test]
async fn an_unknown_tenant_header_is_refused() {
    let app = TestApp::spawn().await;
    for tenant in ["nope", "Bad Id"] {
        refused(
            &in_tenant(&app, "GET", "/user/status", tenant, None).await,
            400,
            "tenant_not_found",
        );
        refused(
            &register_in(&app, tenant, "boss@acme.test", PASSWORD).await,
            400,
            "tenant_not_found",
        );
        let form = password_form("boss@acme.test", PASSWORD);
        refused(
            &app.token_request(&form, Some(tenant)).await,
            400,
            "tenant_not_found",
        );
    }
    assert_eq!(tenant_ids(&app).await, ["default"]);
    assert_eq!(initialised(&app, "default").await, false);
}
