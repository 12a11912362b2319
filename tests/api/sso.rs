//! Single sign-on through a real OpenID Connect provider (the `oidc-provider` package from
//! npm, started by each test; `WEIR_TEST_OIDC_PROVIDER`): configuring the tenant's
//! provider, signing in (provisioning, the default role, groups mapped from the groups
//! claim), using the resulting tokens in the native, Wyn and ThingsKit dialects, and the
//! refusals (state reused or from another browser, a provider naming another issuer,
//! the configuration for super admins only, bad input). docs/operations.md, "Single
//! sign-on".

use serde_json::{Value, json};
use weir_test_kit::oidc::{Browser, OidcClient, OidcProvider, Page, provider_dir};
use weir_test_kit::{Session, TestApp, local_reach};

use crate::smartbi_models::{act, success};
use crate::support::setup_with;

const PROVIDER: &str = "/api/v1/oauth2/sso/provider";
const SECRET: &str = "weir-client-secret";

/// A server that may reach the provider on loopback, its admin, and a provider that
/// knows Weir's callback; `None` when the provider is not available (skip line printed).
async fn setup(accounts: Value) -> Option<(TestApp, Session, OidcProvider)> {
    let dir = provider_dir()?;
    let (app, admin) = setup_with(local_reach).await;
    let provider = OidcProvider::start(
        &dir,
        &[OidcClient {
            client_id: "weir".into(),
            client_secret: SECRET.into(),
            redirect_uris: vec![app.url("/api/v1/oauth2/sso/callback")],
        }],
        accounts,
    );
    Some((app, admin, provider))
}

/// Configures the default tenant's provider as `admin`; the answer.
async fn configure(app: &TestApp, admin: &Session, body: Value) -> (u16, Value) {
    app.call("PUT", PROVIDER, Some(admin), Some(body)).await
}

fn provider_body(provider: &OidcProvider) -> Value {
    json!({
        "issuer": provider.issuer,
        "client_id": "weir",
        "client_secret": SECRET,
        "scopes": ["email", "profile", "groups"],
        "groups_claim": "groups",
    })
}

/// Starts a sign-in at Weir and follows it to the provider's login page.
async fn to_login_page(app: &TestApp, browser: &mut Browser, query: &str) -> Page {
    let page = browser
        .go(
            &app.url(&format!("/api/v1/oauth2/sso/authorize?{query}")),
            None,
            &[],
        )
        .await;
    assert_eq!(page.status, 200, "{}: {}", page.url, page.body);
    page
}

/// Signs `login` in through the provider and answers Weir's callback answer.
async fn sign_in(app: &TestApp, browser: &mut Browser, login: &str) -> Page {
    let page = to_login_page(app, browser, "tenant=default").await;
    browser.sign_in_at(&page, login, &[]).await
}

/// The session of a callback that answered tokens as JSON.
async fn session_of(app: &TestApp, page: &Page) -> Session {
    assert_eq!(page.status, 200, "{}: {}", page.url, page.body);
    let body = page.json();
    assert_eq!(body["status"], "Success", "{body}");
    let data = &body["data"];
    assert_eq!(data["token_type"], "Bearer");
    assert!(data["expires_in"].as_i64().unwrap() > 0);
    let session = Session {
        access_token: data["access_token"].as_str().unwrap().to_owned(),
        refresh_token: data["refresh_token"].as_str().unwrap().to_owned(),
        email: String::new(),
        user_id: String::new(),
    };
    let (status, me) = app.call("GET", "/api/v1/user", Some(&session), None).await;
    assert_eq!(status, 200, "{me}");
    Session {
        email: me["data"]["email"].as_str().unwrap_or_default().to_owned(),
        user_id: me["data"]["user_id"].as_str().unwrap().to_owned(),
        ..session
    }
}

#[tokio::test]
async fn a_provider_user_is_provisioned_mapped_and_served_by_every_dialect() {
    let accounts = json!({"alice": {"groups": ["admins", "no-such-group"]}, "bob": {}});
    let Some((app, admin, provider)) = setup(accounts).await else {
        return;
    };
    // The default role, and a group holding the super admin role.
    let (_, made) = app
        .call(
            "POST",
            "/api/v1/user/roles",
            Some(&admin),
            Some(json!({"name": "viewers"})),
        )
        .await;
    let viewers = made["data"]["role_id"].as_str().unwrap().to_owned();
    let group = json!({"id": "admins", "name": "Admins", "checkParExist": true});
    success(&act(&app, &admin, "group/create", group).await);
    let grant = json!({"rolename": "super_admin", "groupList": ["admins"]});
    success(&act(&app, &admin, "rolegroup/update", grant).await);

    let mut body = provider_body(&provider);
    body["default_role_id"] = json!(viewers);
    let (status, saved) = configure(&app, &admin, body).await;
    assert_eq!(status, 200, "{saved}");

    // Alice: provisioned, named from her claims, in the default role and the admins group.
    let mut browser = Browser::new();
    let alice = session_of(&app, &sign_in(&app, &mut browser, "alice").await).await;
    let (_, me) = app.call("GET", "/api/v1/user", Some(&alice), None).await;
    let me = &me["data"];
    assert_eq!(me["email"], "alice@example.test");
    assert_eq!(me["nickname"], "Alice Example");
    assert_eq!(me["is_super_admin"], true, "the admins group's role: {me}");
    let roles: Vec<&str> = me["roles"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["role_id"].as_str())
        .collect();
    assert!(roles.contains(&viewers.as_str()), "{me}");

    // Her token works in the Wyn and ThingsKit dialects (both super admin only).
    let (status, wyn) = app
        .call("GET", "/api/v2/identity/roles", Some(&alice), None)
        .await;
    assert_eq!(status, 200, "{wyn}");
    assert!(wyn.to_string().contains("viewers"), "{wyn}");
    let thingskit = app
        .client()
        .get(app.url("/api/yt/role?page=1&pageSize=20"))
        .header("X-Authorization", format!("Bearer {}", alice.access_token))
        .send()
        .await
        .unwrap();
    assert_eq!(thingskit.status(), 200);
    assert!(thingskit.text().await.unwrap().contains("viewers"));

    // Her refresh token works like a password login's.
    let (status, refreshed) = app
        .token_request(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &alice.refresh_token),
            ],
            None,
        )
        .await;
    assert_eq!(status, 200, "{refreshed}");

    // A second sign-in finds the same user.
    let again = session_of(&app, &sign_in(&app, &mut Browser::new(), "alice").await).await;
    assert_eq!(again.user_id, alice.user_id);

    // Bob: no groups, so a plain member; the password login beside SSO keeps working.
    let bob = session_of(&app, &sign_in(&app, &mut Browser::new(), "bob").await).await;
    let (_, me) = app.call("GET", "/api/v1/user", Some(&bob), None).await;
    assert_eq!(me["data"]["is_super_admin"], false, "{me}");
    let (status, _) = app
        .call("GET", "/api/v2/identity/roles", Some(&bob), None)
        .await;
    assert_eq!(status, 403);
    app.login("admin@weir.test", weir_test_kit::PASSWORD).await;
    // Bob has no password: the password grant refuses him like a wrong password.
    let (status, refused) = app
        .token_request(
            &[
                ("grant_type", "password"),
                ("username", "bob"),
                ("password", ""),
            ],
            None,
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    let (status, refused) = app
        .token_request(
            &[
                ("grant_type", "password"),
                ("username", "bob"),
                ("password", "any-password-1"),
            ],
            None,
        )
        .await;
    assert_eq!(
        (status, refused["error_code"].as_str()),
        (401, Some("authentication_failed"))
    );
}

#[tokio::test]
async fn the_groups_claim_moves_memberships_at_each_sign_in() {
    let Some((app, admin, provider)) = setup(json!({"carol": {"groups": ["ops"]}})).await else {
        return;
    };
    for id in ["ops", "sales"] {
        let group = json!({"id": id, "name": id.to_uppercase(), "checkParExist": true});
        success(&act(&app, &admin, "group/create", group).await);
    }
    let (status, saved) = configure(&app, &admin, provider_body(&provider)).await;
    assert_eq!(status, 200, "{saved}");
    let carol = session_of(&app, &sign_in(&app, &mut Browser::new(), "carol").await).await;
    let groups = |answer: Value| -> Vec<String> {
        let list = success(&(200, answer));
        list.as_array()
            .unwrap()
            .iter()
            .map(|g| g["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, listed) = act(&app, &admin, "usergroup/get", json!({"userid": "carol"})).await;
    let mut ids = groups(listed);
    ids.sort();
    assert!(ids.contains(&"ops".to_owned()), "{ids:?}");
    assert!(!ids.contains(&"sales".to_owned()), "{ids:?}");
    // An administrator adds carol to sales; her next sign-in, still claiming only ops,
    // takes her out again (the provider decides the mapped groups).
    let link = json!({"userid": "carol", "groupList": ["sales"]});
    success(&act(&app, &admin, "usergroup/update", link).await);
    session_of(&app, &sign_in(&app, &mut Browser::new(), "carol").await).await;
    let (_, listed) = act(&app, &admin, "usergroup/get", json!({"userid": "carol"})).await;
    let ids = groups(listed);
    assert!(
        ids.contains(&"ops".to_owned()) && !ids.contains(&"sales".to_owned()),
        "{ids:?}"
    );
    drop(carol);
}

#[tokio::test]
async fn a_sign_in_is_bound_to_its_browser_and_used_once() {
    let Some((app, admin, provider)) = setup(json!({})).await else {
        return;
    };
    configure(&app, &admin, provider_body(&provider)).await;
    let callback = app.url("/api/v1/oauth2/sso/callback");

    // Stop at Weir's callback, to replay it.
    let mut browser = Browser::new();
    let page = to_login_page(&app, &mut browser, "tenant=default").await;
    let back = browser.sign_in_at(&page, "dave", &[&callback]).await;
    let back_to = back.location.clone().expect("the provider redirects back");
    assert!(
        back_to.contains("code=") && back_to.contains("state="),
        "{back_to}"
    );

    // Another browser (no binding cookie) cannot use it...
    let mut thief = Browser::new();
    let stolen = thief.go(&back_to, None, &[]).await;
    assert_eq!(stolen.status, 401, "{}", stolen.body);
    assert_eq!(stolen.json()["error_code"], "authentication_failed");
    // ...and that attempt used it up: the rightful browser is refused too.
    let late = browser.go(&back_to, None, &[]).await;
    assert_eq!(late.status, 401, "{}", late.body);

    // A fresh sign-in works once; replayed, it is refused. (The provider remembers the
    // browser now, so it sends it straight back without a login page.)
    let authorize = app.url("/api/v1/oauth2/sso/authorize?tenant=default");
    let back = browser.go(&authorize, None, &[&callback]).await;
    let back_to = back.location.unwrap();
    let first = browser.go(&back_to, None, &[]).await;
    session_of(&app, &first).await;
    let replay = browser.go(&back_to, None, &[]).await;
    assert_eq!(replay.status, 401, "{}", replay.body);

    // No state, or a made-up one.
    for query in ["", "?state=nope&code=x"] {
        let (status, body) = app
            .call(
                "GET",
                &format!("/api/v1/oauth2/sso/callback{query}"),
                None,
                None,
            )
            .await;
        assert_eq!(
            (status, body["error_code"].as_str()),
            (401, Some("authentication_failed")),
            "{body}"
        );
    }
}

#[tokio::test]
async fn return_to_gets_the_tokens_in_the_fragment_and_stays_on_weir() {
    let Some((app, admin, provider)) = setup(json!({})).await else {
        return;
    };
    configure(&app, &admin, provider_body(&provider)).await;
    let mut browser = Browser::new();
    let page = to_login_page(&app, &mut browser, "tenant=default&return_to=/dashboard").await;
    let back = browser
        .sign_in_at(&page, "erin", &[&app.url("/dashboard")])
        .await;
    assert_eq!(back.status, 302);
    let location = back.location.unwrap();
    let (path, fragment) = location.split_once('#').unwrap();
    assert_eq!(path, app.url("/dashboard"));
    let fields: std::collections::HashMap<String, String> =
        serde_urlencoded::from_str(fragment).unwrap();
    assert_eq!(fields["token_type"], "Bearer");
    let erin = Session {
        access_token: fields["access_token"].clone(),
        refresh_token: fields["refresh_token"].clone(),
        email: String::new(),
        user_id: String::new(),
    };
    let (status, me) = app.call("GET", "/api/v1/user", Some(&erin), None).await;
    assert_eq!(
        (status, me["data"]["email"].as_str()),
        (200, Some("erin@example.test"))
    );

    // Anywhere but a path on Weir is refused before leaving for the provider.
    for bad in ["https://evil.example/", "//evil.example/x", "dashboard"] {
        let query = serde_urlencoded::to_string([("return_to", bad)]).unwrap();
        let (status, body) = app
            .call(
                "GET",
                &format!("/api/v1/oauth2/sso/authorize?{query}"),
                None,
                None,
            )
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body["error_message"]
                .as_str()
                .unwrap()
                .starts_with("return_to"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_provider_naming_another_issuer_or_unknown_client_is_refused() {
    let Some((app, admin, provider)) = setup(json!({})).await else {
        return;
    };
    // The same provider under another name: its discovery document names 127.0.0.1, so
    // Weir refuses it (a provider must not pass for another).
    let mut body = provider_body(&provider);
    body["issuer"] = json!(provider.issuer.replace("127.0.0.1", "localhost"));
    configure(&app, &admin, body).await;
    let (status, answer) = app
        .call("GET", "/api/v1/oauth2/sso/authorize", None, None)
        .await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error_code"], "sso_provider_unavailable");
    assert!(
        answer["error_message"]
            .as_str()
            .unwrap()
            .contains("names the issuer"),
        "{answer}"
    );

    // The right issuer, a wrong client secret: the provider refuses to redeem the code.
    let mut body = provider_body(&provider);
    body["client_secret"] = json!("not-the-secret");
    configure(&app, &admin, body).await;
    let page = sign_in(&app, &mut Browser::new(), "frank").await;
    assert_eq!(page.status, 401, "{}", page.body);
    assert_eq!(page.json()["error_code"], "authentication_failed");
    assert!(page.body.contains("invalid_client"), "{}", page.body);
}

#[tokio::test]
async fn the_provider_is_configured_by_the_super_admin_only_and_never_shows_its_secret() {
    let Some((app, admin, provider)) = setup(json!({})).await else {
        return;
    };
    // None yet: `data` is null, and sign-in is not open.
    let (status, none) = app.call("GET", PROVIDER, Some(&admin), None).await;
    assert_eq!((status, &none["data"]), (200, &Value::Null), "{none}");
    let (status, closed) = app
        .call("GET", "/api/v1/oauth2/sso/authorize", None, None)
        .await;
    assert_eq!(
        (status, closed["error_code"].as_str()),
        (404, Some("sso_not_configured"))
    );

    let (status, saved) = configure(&app, &admin, provider_body(&provider)).await;
    assert_eq!(status, 200, "{saved}");
    let expected = json!({
        "issuer": provider.issuer,
        "client_id": "weir",
        "has_client_secret": true,
        "scopes": ["openid", "email", "profile", "groups"],
        "groups_claim": "groups",
        "default_role_id": null,
        "enabled": true,
    });
    let (_, got) = app.call("GET", PROVIDER, Some(&admin), None).await;
    for answer in [&saved, &got] {
        let mut data = answer["data"].clone();
        assert!(data["updated_at"].as_i64().unwrap() > 0);
        data.as_object_mut().unwrap().remove("updated_at");
        assert_eq!(data, expected);
        assert!(!answer.to_string().contains(SECRET));
    }
    // Saved again without a secret: the stored one stays (sign-in still works).
    let mut body = provider_body(&provider);
    body.as_object_mut().unwrap().remove("client_secret");
    let (status, _) = configure(&app, &admin, body).await;
    assert_eq!(status, 200);
    session_of(&app, &sign_in(&app, &mut Browser::new(), "gina").await).await;

    // A member may neither read nor change it; nobody may without a token.
    let member = app.create_user(&admin, "member@weir.test").await;
    for (method, body) in [
        ("GET", None),
        ("PUT", Some(provider_body(&provider))),
        ("DELETE", None),
    ] {
        let (status, answer) = app.call(method, PROVIDER, Some(&member), body).await;
        assert_eq!(status, 403, "{method}: {answer}");
    }
    let (status, _) = app.call("GET", PROVIDER, None, None).await;
    assert_eq!(status, 401);

    // Bad input names its field and changes nothing.
    let cases = [
        (
            json!({"issuer": "ftp://x", "client_id": "weir", "client_secret": "s"}),
            "issuer",
        ),
        (
            json!({"issuer": "https://x", "client_id": " ", "client_secret": "s"}),
            "client_id",
        ),
        (
            json!({"issuer": "https://x", "client_id": "weir", "client_secret": "s", "scopes": ["a b"]}),
            "scopes[0]",
        ),
        (
            json!({"issuer": "https://x", "client_id": "weir", "client_secret": "s", "default_role_id": "abc"}),
            "default_role_id",
        ),
        (
            json!({"issuer": "https://x", "client_id": "weir", "client_secret": "s", "default_role_id": "999"}),
            "role 999",
        ),
        (
            json!({"issuer": "https://x", "client_id": "weir", "secret": "s"}),
            "secret",
        ),
        (json!({"client_id": "weir"}), "issuer"),
    ];
    for (body, field) in cases {
        let (status, answer) = configure(&app, &admin, body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        let message = answer["error_message"].as_str().unwrap();
        assert!(message.contains(field), "{body}: {message}");
    }
    let (_, still) = app.call("GET", PROVIDER, Some(&admin), None).await;
    assert_eq!(still["data"]["issuer"], json!(provider.issuer));

    // Deleted: sign-in closes; deleting again finds nothing.
    let (status, _) = app.call("DELETE", PROVIDER, Some(&admin), None).await;
    assert_eq!(status, 200);
    let (status, _) = app.call("DELETE", PROVIDER, Some(&admin), None).await;
    assert_eq!(status, 404);
    let (status, _) = app
        .call("GET", "/api/v1/oauth2/sso/authorize", None, None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn claims_with_control_characters_are_not_stored() {
    let accounts = json!({"ivy": {"name": "Ivy\u{0}Example", "groups": ["ops\u{0}"]}});
    let Some((app, admin, provider)) = setup(accounts).await else {
        return;
    };
    let group = json!({"id": "ops", "name": "OPS", "checkParExist": true});
    success(&act(&app, &admin, "group/create", group).await);
    configure(&app, &admin, provider_body(&provider)).await;
    let ivy = session_of(&app, &sign_in(&app, &mut Browser::new(), "ivy").await).await;
    let (_, me) = app.call("GET", "/api/v1/user", Some(&ivy), None).await;
    // The name with NUL is not used (the login name is); the group named with NUL maps
    // to nothing.
    assert_eq!(me["data"]["nickname"], "ivy", "{me}");
    let (_, listed) = act(&app, &admin, "usergroup/get", json!({"userid": "ivy"})).await;
    assert!(!listed.to_string().contains("\"ops\""), "{listed}");
}
