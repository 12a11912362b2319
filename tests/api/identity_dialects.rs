//! One identity behind four APIs: a role made in one dialect is the same role, with the
//! same members and grants, in the others; disabling a role or a user takes effect in
//! every dialect at once (docs/identity.md).

use serde_json::{Value, json};
use weir_test_kit::{PASSWORD, Session, TestApp};

use crate::smartbi_models::{act, failure, success};
use crate::support::{all_roles, me, member_ids, ok, pluck, setup};

const WYN: &str = "/api/v2/identity/roles";
const TK: &str = "/api/yt/role";

/// The body of a 200 answer of a non-native dialect (they have no envelope on success).
fn body(answer: &(u16, Value)) -> &Value {
    assert_eq!(answer.0, 200, "{}", answer.1);
    &answer.1
}

async fn device_search(app: &TestApp, who: &Session) -> u16 {
    app.call("POST", "/api/v1/device/search", Some(who), Some(json!({})))
        .await
        .0
}

async fn my_menu_codes(app: &TestApp, who: &Session) -> Vec<String> {
    pluck(&ok(&me(app, who).await)["menus"], "code")
}

/// The names of the caller's own global roles, as Wyn lists them.
async fn my_wyn_roles(app: &TestApp, who: &Session) -> Vec<String> {
    let path = format!("{WYN}/me/non-org-roles");
    pluck(body(&app.call("GET", &path, Some(who), None).await), "name")
}

#[tokio::test]
async fn a_role_made_through_thingskit_is_the_same_role_everywhere() {
    let (app, admin) = setup().await;
    let menu = app.menu_id(&admin, "device.view").await;
    let made = app
        .call(
            "POST",
            &format!("{TK}/save_with_menu"),
            Some(&admin),
            Some(
                json!({"name": "field-ops", "menu": [menu], "remark": "the field team",
                        "roleType": "CUSTOMER_USER", "status": 1}),
            ),
        )
        .await;
    let id = body(&made)["id"].as_str().expect("id").to_owned();
    let user = app.create_user(&admin, "ops@example.com").await;

    // Members added through Wyn ...
    let add = app
        .call(
            "POST",
            &format!("{WYN}/{id}/users"),
            Some(&admin),
            Some(json!({"userIds": [user.user_id]})),
        )
        .await;
    body(&add);

    // ... are the native role's members, and the ThingsKit menu is what they hold.
    assert_eq!(
        member_ids(&app, &admin, &id).await,
        vec![user.user_id.clone()]
    );
    let native = all_roles(&app, &admin).await;
    let row = native
        .iter()
        .find(|r| r["name"] == "field-ops")
        .expect("in the native list");
    assert_eq!(row["role_id"], id.as_str());
    assert_eq!(row["user_role_count"], 1, "{row}");
    assert!(
        my_menu_codes(&app, &user)
            .await
            .contains(&"device.view".to_owned())
    );
    assert_eq!(device_search(&app, &user).await, 200);

    // Wyn lists it with the same id and members.
    let listed = app
        .call(
            "GET",
            &format!("{WYN}?IncludeMembers=true"),
            Some(&admin),
            None,
        )
        .await;
    let wyn_role = body(&listed)
        .as_array()
        .expect("an array")
        .iter()
        .find(|r| r["name"] == "field-ops")
        .expect("in the Wyn list")
        .clone();
    assert_eq!(wyn_role["id"], id.as_str());
    assert_eq!(wyn_role["members"], json!([user.user_id]));
    assert_eq!(wyn_role["isBuiltin"], false);

    // Smartbi finds it by name, and sees it among the user's roles.
    let smartbi = success(&act(&app, &admin, "role/get", json!({"name": "field-ops"})).await);
    assert_eq!(smartbi["id"], id.as_str());
    assert_eq!(smartbi["desc"], "the field team");
    let roles = success(
        &act(
            &app,
            &admin,
            "userrole/get",
            json!({"userid": user.user_id}),
        )
        .await,
    );
    assert_eq!(pluck(&roles, "id"), vec![id.clone()]);

    // And the ThingsKit list shows the role as enabled, with its menu.
    let page = app
        .call(
            "GET",
            &format!("{TK}?page=1&pageSize=10&roleName=field"),
            Some(&admin),
            None,
        )
        .await;
    let items = &body(&page)["items"];
    assert_eq!(pluck(items, "id"), [id]);
    assert_eq!(items[0]["status"], true);
}

#[tokio::test]
async fn a_disabled_role_stops_granting_in_every_dialect() {
    let (app, admin) = setup().await;
    let made = app
        .call(
            "POST",
            WYN,
            Some(&admin),
            Some(json!({"name": "viewers", "permissions": ["view-device"]})),
        )
        .await;
    assert_eq!(made.0, 201, "{}", made.1);
    let id = made.1["id"].as_str().expect("id").to_owned();
    let user = app.create_user(&admin, "viewer@example.com").await;
    let failed = success(
        &act(
            &app,
            &admin,
            "userrole/update",
            json!({"userid": user.user_id, "roleList": ["viewers"]}),
        )
        .await,
    );
    assert_eq!(failed, json!([]));
    assert_eq!(device_search(&app, &user).await, 200);
    assert_eq!(my_wyn_roles(&app, &user).await, ["viewers"]);

    let off = app
        .call(
            "PUT",
            &format!("{TK}/update_status/{id}/0"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(body(&off)["status"], false);
    // The user keeps the membership but holds nothing through it.
    assert_eq!(device_search(&app, &user).await, 403);
    assert!(my_wyn_roles(&app, &user).await.is_empty());
    assert!(
        !my_menu_codes(&app, &user)
            .await
            .contains(&"device.view".to_owned())
    );
    let roles = success(
        &act(
            &app,
            &admin,
            "userrole/get",
            json!({"userid": user.user_id}),
        )
        .await,
    );
    assert_eq!(pluck(&roles, "name"), ["viewers"]);

    let on = app
        .call(
            "PUT",
            &format!("{TK}/update_status/{id}/1"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(body(&on)["status"], true);
    assert_eq!(device_search(&app, &user).await, 200);
    assert_eq!(my_wyn_roles(&app, &user).await, ["viewers"]);
}

#[tokio::test]
async fn a_disabled_user_is_refused_by_every_dialect() {
    let (app, admin) = setup().await;
    let user = app.create_user(&admin, "leaver@example.com").await;
    let native = me(&app, &user).await;
    assert_eq!(native.0, 200, "{}", native.1);

    let disabled = act(
        &app,
        &admin,
        "user/update",
        json!({"id": user.user_id, "enabled": false}),
    )
    .await;
    success(&disabled);

    assert_eq!(me(&app, &user).await.0, 401);
    let wyn = app
        .call("GET", &format!("{WYN}/me/non-org-roles"), Some(&user), None)
        .await;
    assert_eq!(wyn.0, 401, "{}", wyn.1);
    assert!(wyn.1["errors"][0]["code"].is_string(), "{}", wyn.1);
    let tk = app
        .call(
            "GET",
            &format!("{TK}?page=1&pageSize=10"),
            Some(&user),
            None,
        )
        .await;
    assert_eq!(
        (tk.0, tk.1["errorCode"].as_u64()),
        (401, Some(10)),
        "{}",
        tk.1
    );
    failure(
        &act(&app, &user, "user/get", json!({"id": user.user_id})).await,
        "",
    );
    let login = app
        .token_request(
            &[
                ("grant_type", "password"),
                ("username", "leaver@example.com"),
                ("password", PASSWORD),
            ],
            None,
        )
        .await;
    assert_eq!(login.0, 401, "{}", login.1);
    assert_eq!(login.1["error_code"], "user_disabled");

    // The account shows as disabled in Wyn's user model and Smartbi's user.
    let got = success(&act(&app, &admin, "user/get", json!({"id": user.user_id})).await);
    assert_eq!(got["enabled"], false);
}
