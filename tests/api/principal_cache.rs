//! The principal cache (docs/scaling.md, "What each request costs"): who a token's user is
//! and what they may do is kept in memory between requests, and every identity change is
//! seen by the very next request. Each test warms the cache first (two requests), then
//! changes something and checks the next request.

// Test code: a panic is how a test fails (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use weir_identity::{IdentityChange, IdentityChanges};
use weir_kernel::TenantId;
use weir_test_kit::{PASSWORD, Session, TestApp};

use crate::smartbi_models::{act, success};
use crate::support::{
    ACME, assert_revoked, grant_menu_via_role, link, me, new_role, ok, password_grant, pluck,
    refused, role_action, setup, two_tenants, unauthenticated,
};

/// `GET /api/v1/user` twice (the second from the cache); the menu codes it lists.
async fn warm(app: &TestApp, who: &Session) -> Vec<String> {
    ok(&me(app, who).await);
    pluck(&ok(&me(app, who).await)["menus"], "code")
}

async fn codes(app: &TestApp, who: &Session) -> Vec<String> {
    pluck(&ok(&me(app, who).await)["menus"], "code")
}

#[tokio::test]
async fn a_disabled_users_next_request_is_refused() {
    let (app, admin) = setup().await;
    let user = app.create_user(&admin, "leaver@example.com").await;
    warm(&app, &user).await;
    assert!(app.weir.identity.cached_principals() >= 1);
    let disabled = act(
        &app,
        &admin,
        "user/update",
        json!({"id": user.user_id, "enabled": false}),
    )
    .await;
    success(&disabled);
    // Disabling also revokes the user's sessions: refused as revoked.
    refused(&me(&app, &user).await, 401, "authentication_failed");
}

#[tokio::test]
async fn a_deleted_users_next_request_is_refused() {
    let (app, admin) = setup().await;
    let user = app.create_user(&admin, "gone@example.com").await;
    warm(&app, &user).await;
    let path = format!("/user/members/{}", user.user_id);
    ok(&app.call("DELETE", &path, Some(&admin), None).await);
    assert_revoked(&app, &user).await;
}

#[tokio::test]
async fn a_changed_password_stops_the_old_token_at_once() {
    let (app, admin) = setup().await;
    let own = app.create_user(&admin, "own@example.com").await;
    let reset = app.create_user(&admin, "reset@example.com").await;
    warm(&app, &own).await;
    warm(&app, &reset).await;

    let body = json!({"old_password": PASSWORD, "new_password": "brand-new-pass-7"});
    ok(&app
        .call("PUT", "/api/v1/user/password", Some(&own), Some(body))
        .await);
    assert_revoked(&app, &own).await;

    let path = format!("/user/members/{}/change-password", reset.user_id);
    let body = json!({"password": "another-pass-8"});
    ok(&app.call("PUT", &path, Some(&admin), Some(body)).await);
    assert_revoked(&app, &reset).await;
}

#[tokio::test]
async fn role_membership_and_menu_changes_are_seen_by_the_next_request() {
    let (app, admin) = setup().await;
    let user = app.create_user(&admin, "ops@example.com").await;
    assert!(!warm(&app, &user).await.contains(&"device.view".to_owned()));

    // A role with the menu, the user put in it: the code is there at once.
    let (role, menu) = grant_menu_via_role(&app, &admin, &user.user_id, "device.view").await;
    assert!(codes(&app, &user).await.contains(&"device.view".to_owned()));

    // The menu taken from the role: gone at once.
    link(&app, &admin, &role, "disassociate-menu", &[&menu]).await;
    assert!(!codes(&app, &user).await.contains(&"device.view".to_owned()));

    // Given back, then the user taken out of the role: gone at once.
    link(&app, &admin, &role, "associate-menu", &[&menu]).await;
    assert!(codes(&app, &user).await.contains(&"device.view".to_owned()));
    link(&app, &admin, &role, "disassociate-user", &[&user.user_id]).await;
    assert!(!codes(&app, &user).await.contains(&"device.view".to_owned()));
}

#[tokio::test]
async fn a_group_membership_is_seen_by_the_next_request() {
    let (app, admin) = setup().await;
    let user = app.create_user(&admin, "east@example.com").await;
    let role = new_role(&app, &admin, "eastern").await;
    let menu = app.menu_id(&admin, "device.view").await;
    link(&app, &admin, &role, "associate-menu", &[&menu]).await;
    success(
        &act(
            &app,
            &admin,
            "group/create",
            json!({"id": "east", "name": "east"}),
        )
        .await,
    );
    success(
        &act(
            &app,
            &admin,
            "rolegroup/update",
            json!({"rolename": "eastern", "groupList": ["east"]}),
        )
        .await,
    );
    assert!(!warm(&app, &user).await.contains(&"device.view".to_owned()));

    let join = json!({"userid": "east@example.com", "groupList": ["east"]});
    success(&act(&app, &admin, "usergroup/update", join).await);
    assert!(codes(&app, &user).await.contains(&"device.view".to_owned()));
}

async fn dashboards(app: &TestApp, who: &Session) -> Vec<String> {
    let (s, body) = app
        .call("GET", "/dashboard/dashboards", Some(who), None)
        .await;
    assert_eq!(s, 200, "{body}");
    pluck(&body["data"], "name")
}

#[tokio::test]
async fn a_resource_grant_is_seen_by_the_next_request() {
    let (app, admin) = setup().await;
    let (s, body) = app
        .call(
            "POST",
            "/dashboard",
            Some(&admin),
            Some(json!({"name": "Plant"})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let dashboard = body["data"]["dashboard_id"].as_str().unwrap().to_owned();
    let user = app.create_user(&admin, "viewer@example.com").await;
    let role = new_role(&app, &admin, "viewers").await;
    let menu = app.menu_id(&admin, "dashboard.view").await;
    link(&app, &admin, &role, "associate-menu", &[&menu]).await;
    link(&app, &admin, &role, "associate-user", &[&user.user_id]).await;
    warm(&app, &user).await;
    assert!(dashboards(&app, &user).await.is_empty());

    let grant = json!({"resources": [{"id": dashboard, "type": "DASHBOARD"}]});
    ok(&role_action(&app, &admin, &role, "associate-resource", grant.clone()).await);
    assert_eq!(dashboards(&app, &user).await, ["Plant"]);
    ok(&role_action(&app, &admin, &role, "disassociate-resource", grant).await);
    assert!(dashboards(&app, &user).await.is_empty());
}

#[tokio::test]
async fn a_disabled_tenants_users_are_refused_at_once() {
    let (app, admin, boss) = two_tenants().await;
    warm(&app, &boss).await;
    warm(&app, &admin).await;
    let identity = app.weir.identity.clone();
    tokio::task::spawn_blocking(move || identity.set_tenant_enabled(ACME, false))
        .await
        .unwrap()
        .unwrap();
    unauthenticated(&me(&app, &boss).await, "disabled");
    // The other tenant's users are untouched.
    ok(&me(&app, &admin).await);
}

#[tokio::test]
async fn logins_and_refreshes_leave_the_cache_alone() {
    let (app, admin) = setup().await;
    let user = app.create_user(&admin, "user@example.com").await;
    warm(&app, &user).await;
    warm(&app, &admin).await;
    let cached = app.weir.identity.cached_principals();
    assert_eq!(cached, 2);
    ok(&password_grant(&app, "user@example.com", PASSWORD).await);
    // A failed login writes the throttle's record: no identity change either.
    let _ = password_grant(&app, "user@example.com", "wrong-password-1").await;
    assert_eq!(app.weir.identity.cached_principals(), cached);
}

#[derive(Default)]
struct Recorder(Mutex<Vec<IdentityChange>>);

impl IdentityChanges for Recorder {
    fn changed(&self, change: &IdentityChange) {
        self.0.lock().unwrap().push(change.clone());
    }
}

#[tokio::test]
async fn changes_are_told_to_observers_and_a_peers_change_empties_the_tenant() {
    let (app, admin) = setup().await;
    let recorder = Arc::new(Recorder::default());
    app.weir.identity.observe_changes(recorder.clone());
    let user = app.create_user(&admin, "peer@example.com").await;
    let default = TenantId::default_tenant();
    assert!(
        recorder
            .0
            .lock()
            .unwrap()
            .iter()
            .all(|c| c.tenant == default)
    );
    assert!(!recorder.0.lock().unwrap().is_empty());

    warm(&app, &user).await;
    let told = recorder.0.lock().unwrap().len();
    assert!(app.weir.identity.cached_principals() >= 1);
    app.weir.identity.apply_peer_change(&IdentityChange {
        tenant: TenantId::parse("another").unwrap(),
    });
    assert!(app.weir.identity.cached_principals() >= 1);
    app.weir
        .identity
        .apply_peer_change(&IdentityChange { tenant: default });
    assert_eq!(app.weir.identity.cached_principals(), 0);
    // A peer's change is not told again, and the user's next request is served.
    assert_eq!(recorder.0.lock().unwrap().len(), told);
    let data: Value = ok(&me(&app, &user).await).clone();
    assert_eq!(data["email"], "peer@example.com");
}
