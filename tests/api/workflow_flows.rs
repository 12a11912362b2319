//! Workflow flows over HTTP: search, rename, enable and disable, batch delete, the component
//! catalogue; who may do what, and who sees which flow.

use serde_json::{Value, json};
use weir_test_kit::{Session, TestApp};

use crate::support::{
    UNKNOWN_ID, assert_guarded, assert_syntax_error, forbidden, invalid, not_found, ok, pluck,
    refused, setup, two_tenants, user_with,
};

/// trigger → output: the smallest design that validates.
pub(crate) const DESIGN: &str = r#"{"nodes":[{"id":"t","componentName":"trigger","data":{"nodeName":"Start","parameters":{}}},{"id":"o","componentName":"output","data":{"nodeName":"End","parameters":{"outputVariables":{"x":"{{t.x}}"}}}}],"edges":[{"id":"e1","source":"t","target":"o"}]}"#;

/// trigger → webhook without its URL: refused, naming the webhook node and the field.
pub(crate) const BROKEN: &str = r#"{"nodes":[{"id":"t","componentName":"trigger","data":{"nodeName":"Start","parameters":{}}},{"id":"w","componentName":"webhook","data":{"nodeName":"Notify","parameters":{}}}],"edges":[{"id":"e1","source":"t","target":"w"}]}"#;

/// What a refusal of [`BROKEN`] names.
pub(crate) const BROKEN_PROBLEM: &str = r#"node "w" (Notify): parameters.webhookUrl: is required"#;

/// Every workflow function code.
pub(crate) const ALL_CODES: [&str; 6] = [
    "workflow.view",
    "workflow.add",
    "workflow.edit",
    "workflow.delete",
    "workflow.import",
    "workflow.export",
];

/// Saves a new flow named `name` with [`DESIGN`] as `who`; returns its id.
pub(crate) async fn new_flow(app: &TestApp, who: &Session, name: &str) -> String {
    let body = json!({"name": name, "remark": format!("{name} remark"), "design_data": DESIGN});
    let answer = app
        .call("POST", "/workflow/flows/design", Some(who), Some(body))
        .await;
    let data = ok(&answer);
    assert_eq!(data["version"], 1, "{data}");
    data["id"].as_str().expect("id").to_owned()
}

/// `POST /workflow/flows/search` as `who`; returns the page.
pub(crate) async fn search(app: &TestApp, who: &Session, body: Value) -> Value {
    let answer = app
        .call("POST", "/workflow/flows/search", Some(who), Some(body))
        .await;
    ok(&answer).clone()
}

/// The names of the flows `who` sees, newest first.
pub(crate) async fn names(app: &TestApp, who: &Session) -> Vec<String> {
    pluck(
        &search(app, who, json!({"page_size": 100})).await["content"],
        "name",
    )
}

/// A user whose one role grants these workflow codes and, optionally, one flow.
pub(crate) async fn flow_user(
    app: &TestApp,
    admin: &Session,
    email: &str,
    codes: &[&str],
    grant: Option<&str>,
) -> Session {
    user_with(app, admin, email, codes, grant.map(|id| ("WORKFLOW", id))).await
}

/// The flow's row as `who` searches it.
async fn row(app: &TestApp, who: &Session, id: &str) -> Value {
    let page = search(app, who, json!({"page_size": 100})).await;
    page["content"]
        .as_array()
        .expect("content")
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no flow {id} in {page}"))
        .clone()
}

#[tokio::test]
async fn flows_are_searched_by_name_paged_newest_first_with_their_creator() {
    let (app, admin) = setup().await;
    let cooling = new_flow(&app, &admin, "Cooling").await;
    new_flow(&app, &admin, "Heating").await;
    new_flow(&app, &admin, "Cooling backup").await;

    let page = search(&app, &admin, json!({})).await;
    assert_eq!(
        (&page["page_number"], &page["page_size"], &page["total"]),
        (&json!(1), &json!(10), &json!(3)),
        "{page}"
    );
    assert_eq!(
        pluck(&page["content"], "name"),
        ["Cooling backup", "Heating", "Cooling"]
    );
    let r = row(&app, &admin, &cooling).await;
    assert_eq!(r["id"], cooling.as_str());
    assert_eq!(r["name"], "Cooling");
    assert_eq!(r["remark"], "Cooling remark");
    assert_eq!(r["enabled"], false);
    assert_eq!(r["version"], 1);
    assert_eq!(r["user_id"], admin.user_id.as_str());
    assert_eq!(r["user_nickname"], "Admin");
    assert!(r["created_at"].as_i64().unwrap() > 0, "{r}");
    assert_eq!(r["updated_at"], r["created_at"]);

    let page = search(&app, &admin, json!({"name": "COOL"})).await;
    assert_eq!(
        pluck(&page["content"], "name"),
        ["Cooling backup", "Cooling"]
    );
    assert_eq!(page["total"], 2);
    let page = search(
        &app,
        &admin,
        json!({"page_number": 2, "page_size": 2, "name": ""}),
    )
    .await;
    assert_eq!(
        (&page["page_number"], &page["page_size"], &page["total"]),
        (&json!(2), &json!(2), &json!(3))
    );
    assert_eq!(pluck(&page["content"], "name"), ["Cooling"]);
    // The bare path and the prefixed one are the same endpoint.
    let prefixed = app
        .call(
            "POST",
            "/api/v1/workflow/flows/search",
            Some(&admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(ok(&prefixed)["total"], 3);

    // Bad input.
    for (body, field) in [
        (json!({"page_size": 0}), "page"),
        (json!({"page_number": 0}), "page"),
        (json!({"name": 5}), "name"),
        (json!({"page_size": "ten"}), "page_size"),
    ] {
        let answer = app
            .call("POST", "/workflow/flows/search", Some(&admin), Some(body))
            .await;
        invalid(&answer, field);
    }
    assert_syntax_error(
        &app,
        "POST",
        "/workflow/flows/search",
        Some(&admin),
        "{\"name\": ",
    )
    .await;
}

#[tokio::test]
async fn flows_are_searched_by_status_as_the_console_asks() {
    let (app, admin) = setup().await;
    let cooling = new_flow(&app, &admin, "Cooling").await;
    new_flow(&app, &admin, "Heating").await;
    let backup = new_flow(&app, &admin, "Cooling backup").await;
    for id in [&cooling, &backup] {
        let path = format!("/workflow/flows/{id}/enable");
        ok(&app.call("GET", &path, Some(&admin), None).await);
    }

    // The console's type spells them `enable` and `disable`; any case is taken.
    for (status, want) in [
        ("enable", vec!["Cooling backup", "Cooling"]),
        ("ENABLE", vec!["Cooling backup", "Cooling"]),
        ("disable", vec!["Heating"]),
        ("Disable", vec!["Heating"]),
        ("", vec!["Cooling backup", "Heating", "Cooling"]),
    ] {
        let page = search(&app, &admin, json!({"status": status, "page_size": 10})).await;
        assert_eq!(pluck(&page["content"], "name"), want, "{status}: {page}");
        assert_eq!(page["total"], want.len(), "{status}");
    }
    // With the name and the page.
    let page = search(
        &app,
        &admin,
        json!({"name": "cool", "status": "enable", "page_size": 1, "page_number": 2}),
    )
    .await;
    assert_eq!(
        (&page["total"], pluck(&page["content"], "name")),
        (&json!(2), vec!["Cooling".to_owned()]),
        "{page}"
    );
    let page = search(&app, &admin, json!({"name": "heat", "status": "enable"})).await;
    assert_eq!(page["total"], 0, "{page}");
    // A user sees only their flows, whatever the status.
    let user = flow_user(
        &app,
        &admin,
        "viewer@weir.test",
        &["workflow.view"],
        Some(&cooling),
    )
    .await;
    let page = search(&app, &user, json!({"status": "enable"})).await;
    assert_eq!(pluck(&page["content"], "name"), ["Cooling"], "{page}");
    let page = search(&app, &user, json!({"status": "disable"})).await;
    assert_eq!(page["total"], 0, "{page}");

    for bad in [json!("enabled"), json!("RUNNING"), json!(1), json!(true)] {
        let answer = app
            .call(
                "POST",
                "/workflow/flows/search",
                Some(&admin),
                Some(json!({"status": bad})),
            )
            .await;
        invalid(&answer, "status");
    }
    // Who may not view flows learns nothing from a bad status.
    let nobody = app.create_user(&admin, "nobody@weir.test").await;
    let answer = app
        .call(
            "POST",
            "/workflow/flows/search",
            Some(&nobody),
            Some(json!({"status": "sideways"})),
        )
        .await;
    forbidden(&answer);
}

#[tokio::test]
async fn every_caller_sees_the_creators_nicknames() {
    let (app, admin) = setup().await;
    let shared = new_flow(&app, &admin, "Shared").await;
    let maker = flow_user(&app, &admin, "maker@weir.test", &ALL_CODES, Some(&shared)).await;
    let mine = new_flow(&app, &maker, "Mine").await;

    let r = row(&app, &admin, &mine).await;
    assert_eq!(
        (r["user_id"].as_str(), r["user_nickname"].as_str()),
        (Some(maker.user_id.as_str()), Some("maker"))
    );
    // A user who may not list members still sees who created what.
    let r = row(&app, &maker, &mine).await;
    assert_eq!(r["user_nickname"], "maker");
    let r = row(&app, &maker, &shared).await;
    assert_eq!(
        (r["user_id"].as_str(), r["user_nickname"].as_str()),
        (Some(admin.user_id.as_str()), Some("Admin"))
    );
}

#[tokio::test]
async fn a_flow_is_renamed_enabled_and_disabled() {
    let (app, admin) = setup().await;
    let id = new_flow(&app, &admin, "Cooling").await;
    let path = format!("/workflow/flows/{id}");
    let answer = app
        .call(
            "PUT",
            &path,
            Some(&admin),
            Some(json!({"name": "  Cooling A  ", "remark": "hall"})),
        )
        .await;
    assert_eq!(ok(&answer), &json!({}));
    let r = row(&app, &admin, &id).await;
    assert_eq!(
        (&r["name"], &r["remark"], &r["version"], &r["enabled"]),
        (
            &json!("Cooling A"),
            &json!("hall"),
            &json!(1),
            &json!(false)
        ),
        "the design and its state stay"
    );

    for (action, enabled) in [
        ("enable", true),
        ("enable", true),
        ("disable", false),
        ("disable", false),
        ("enable", true),
    ] {
        let answer = app
            .call(
                "GET",
                &format!("/api/v1/workflow/flows/{id}/{action}"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(ok(&answer), &json!({}), "{action}");
        assert_eq!(row(&app, &admin, &id).await["enabled"], enabled, "{action}");
    }

    // Bad input changes nothing.
    for (body, field) in [
        (json!({"name": "X"}), "remark"),
        (json!({"remark": "x"}), "name"),
        (json!({"name": " ", "remark": ""}), "name"),
        (json!({"name": "x".repeat(65), "remark": ""}), "name"),
        (json!({"name": "X", "remark": "r".repeat(513)}), "remark"),
        (json!({"name": "X", "remark": 5}), "remark"),
        (json!({"name": ["X"], "remark": ""}), "name"),
    ] {
        let answer = app.call("PUT", &path, Some(&admin), Some(body)).await;
        invalid(&answer, field);
    }
    assert_syntax_error(&app, "PUT", &path, Some(&admin), "{name: 1}").await;
    assert_eq!(row(&app, &admin, &id).await["name"], "Cooling A");

    let rename = json!({"name": "X", "remark": ""});
    let answer = app
        .call(
            "PUT",
            &format!("/workflow/flows/{UNKNOWN_ID}"),
            Some(&admin),
            Some(rename.clone()),
        )
        .await;
    not_found(&answer, UNKNOWN_ID);
    let answer = app
        .call("PUT", "/workflow/flows/abc", Some(&admin), Some(rename))
        .await;
    invalid(&answer, "flow_id");
    for action in ["enable", "disable"] {
        let answer = app
            .call(
                "GET",
                &format!("/workflow/flows/{UNKNOWN_ID}/{action}"),
                Some(&admin),
                None,
            )
            .await;
        not_found(&answer, UNKNOWN_ID);
        let answer = app
            .call(
                "GET",
                &format!("/workflow/flows/x1/{action}"),
                Some(&admin),
                None,
            )
            .await;
        invalid(&answer, "flow_id");
    }
}

#[tokio::test]
async fn flows_are_deleted_all_or_nothing() {
    let (app, admin) = setup().await;
    let a = new_flow(&app, &admin, "A").await;
    let b = new_flow(&app, &admin, "B").await;
    let c = new_flow(&app, &admin, "C").await;
    let delete = |body: Value| {
        let app = &app;
        let admin = &admin;
        async move {
            app.call(
                "POST",
                "/workflow/flows/batch-delete",
                Some(admin),
                Some(body),
            )
            .await
        }
    };
    not_found(
        &delete(json!({"workflow_id_list": [a, UNKNOWN_ID]})).await,
        UNKNOWN_ID,
    );
    for (body, field) in [
        (json!({"workflow_id_list": []}), "workflow_id_list"),
        (json!({}), "workflow_id_list"),
        (json!({"workflow_id_list": ["abc"]}), "workflow_id_list[0]"),
        (json!({"workflow_id_list": a}), "workflow_id_list"),
    ] {
        invalid(&delete(body).await, field);
    }
    assert_syntax_error(
        &app,
        "POST",
        "/workflow/flows/batch-delete",
        Some(&admin),
        "not json",
    )
    .await;
    assert_eq!(
        names(&app, &admin).await,
        ["C", "B", "A"],
        "nothing deleted"
    );

    // Ids are strings or numbers.
    let number: i64 = a.parse().unwrap();
    let answer = delete(json!({"workflow_id_list": [number, b, b]})).await;
    assert_eq!(ok(&answer), &json!({}));
    assert_eq!(names(&app, &admin).await, ["C"]);
    for gone in [&a, &b] {
        let answer = app
            .call(
                "GET",
                &format!("/workflow/flows/{gone}/design"),
                Some(&admin),
                None,
            )
            .await;
        not_found(&answer, gone);
    }
    not_found(&delete(json!({"workflow_id_list": [a]})).await, &a);
    assert_eq!(
        ok(&app
            .call(
                "GET",
                &format!("/workflow/flows/{c}/design"),
                Some(&admin),
                None
            )
            .await)["name"],
        "C"
    );
}

/// Every workflow route, with a body where it takes one, on flow `id`.
fn every_route(id: &str) -> Vec<(&'static str, String, Option<Value>)> {
    let file = json!({"name": "Imported", "design_data": DESIGN});
    vec![
        ("POST", "/workflow/flows/search".into(), Some(json!({}))),
        (
            "PUT",
            format!("/workflow/flows/{id}"),
            Some(json!({"name": "X", "remark": ""})),
        ),
        (
            "POST",
            "/workflow/flows/batch-delete".into(),
            Some(json!({"workflow_id_list": [id]})),
        ),
        ("GET", format!("/workflow/flows/{id}/enable"), None),
        ("GET", format!("/workflow/flows/{id}/disable"), None),
        (
            "POST",
            "/workflow/flows/design".into(),
            Some(json!({"name": "New", "design_data": DESIGN})),
        ),
        (
            "POST",
            "/workflow/flows/design".into(),
            Some(json!({"id": id, "version": 1, "name": "New", "design_data": DESIGN})),
        ),
        ("GET", format!("/workflow/flows/{id}/design"), None),
        (
            "POST",
            "/workflow/flows/design/validate".into(),
            Some(json!({"design_data": DESIGN})),
        ),
        ("GET", "/workflow/components".into(), None),
        ("GET", "/workflow/components/languages".into(), None),
        ("GET", "/workflow/components/trigger".into(), None),
        ("GET", format!("/workflow/flows/{id}/export"), None),
        ("POST", "/workflow/flows/import".into(), Some(file)),
    ]
}

#[tokio::test]
async fn every_route_needs_a_token_and_a_workflow_function_code() {
    let (app, admin) = setup().await;
    let id = new_flow(&app, &admin, "Cooling").await;
    // A user with every other menu, and the flow granted, but no workflow code.
    let others = ["device.view", "dashboard.view", "entity_data.view"];
    let plain = flow_user(&app, &admin, "plain@weir.test", &others, Some(&id)).await;
    assert_guarded(&app, &plain, &every_route(&id)).await;
    assert_eq!(names(&app, &admin).await, ["Cooling"], "nothing changed");
}

#[tokio::test]
async fn each_route_checks_its_own_function_code() {
    let (app, admin) = setup().await;
    let id = new_flow(&app, &admin, "Cooling").await;
    let file = json!({"name": "Imported", "design_data": DESIGN});
    // (code held, method, path, body): each user holds every workflow code but one, and
    // the flow is granted to them; the route that needs the missing one refuses.
    let cases: Vec<(&str, &str, String, Option<Value>)> = vec![
        (
            "workflow.view",
            "POST",
            "/workflow/flows/search".into(),
            Some(json!({})),
        ),
        (
            "workflow.view",
            "GET",
            format!("/workflow/flows/{id}/design"),
            None,
        ),
        (
            "workflow.edit",
            "PUT",
            format!("/workflow/flows/{id}"),
            Some(json!({"name": "X", "remark": ""})),
        ),
        (
            "workflow.edit",
            "GET",
            format!("/workflow/flows/{id}/enable"),
            None,
        ),
        (
            "workflow.edit",
            "GET",
            format!("/workflow/flows/{id}/disable"),
            None,
        ),
        (
            "workflow.edit",
            "POST",
            "/workflow/flows/design".into(),
            Some(json!({"id": id, "version": 1, "name": "X", "design_data": DESIGN})),
        ),
        (
            "workflow.add",
            "POST",
            "/workflow/flows/design".into(),
            Some(json!({"name": "X", "design_data": DESIGN})),
        ),
        (
            "workflow.delete",
            "POST",
            "/workflow/flows/batch-delete".into(),
            Some(json!({"workflow_id_list": [id]})),
        ),
        (
            "workflow.export",
            "GET",
            format!("/workflow/flows/{id}/export"),
            None,
        ),
        (
            "workflow.import",
            "POST",
            "/workflow/flows/import".into(),
            Some(file),
        ),
    ];
    for (i, (missing, method, path, body)) in cases.into_iter().enumerate() {
        let codes: Vec<&str> = ALL_CODES.into_iter().filter(|c| *c != missing).collect();
        let email = format!("u{i}@weir.test");
        let user = flow_user(&app, &admin, &email, &codes, Some(&id)).await;
        let answer = app.call(method, &path, Some(&user), body).await;
        let message = refused(&answer, 403, "forbidden_permission");
        assert!(message.contains(missing), "{method} {path}: {message}");
    }
    assert_eq!(names(&app, &admin).await, ["Cooling"], "nothing changed");
    let r = row(&app, &admin, &id).await;
    assert_eq!((&r["version"], &r["enabled"]), (&json!(1), &json!(false)));

    // The catalogue and the validation need one of view, add or edit.
    let reader = flow_user(&app, &admin, "reader@weir.test", &["workflow.view"], None).await;
    let editor = flow_user(&app, &admin, "editor@weir.test", &["workflow.edit"], None).await;
    let exporter = flow_user(&app, &admin, "exp@weir.test", &["workflow.export"], None).await;
    let nobody = app.create_user(&admin, "nobody@weir.test").await;
    for who in [&reader, &editor] {
        ok(&app
            .call("GET", "/workflow/components", Some(who), None)
            .await);
        ok(&app
            .call("GET", "/workflow/components/languages", Some(who), None)
            .await);
        ok(&app
            .call("GET", "/workflow/components/code", Some(who), None)
            .await);
    }
    forbidden(
        &app.call("GET", "/workflow/components", Some(&exporter), None)
            .await,
    );
    forbidden(
        &app.call("GET", "/workflow/components", Some(&nobody), None)
            .await,
    );
    let validate = json!({"design_data": DESIGN});
    ok(&app
        .call(
            "POST",
            "/workflow/flows/design/validate",
            Some(&editor),
            Some(validate.clone()),
        )
        .await);
    let message = refused(
        &app.call(
            "POST",
            "/workflow/flows/design/validate",
            Some(&reader),
            Some(validate),
        )
        .await,
        403,
        "forbidden_permission",
    );
    assert!(
        message.contains("workflow.add") && message.contains("workflow.edit"),
        "{message}"
    );
}

#[tokio::test]
async fn users_see_granted_flows_and_their_own_only() {
    let (app, admin) = setup().await;
    let shared = new_flow(&app, &admin, "Shared").await;
    let private = new_flow(&app, &admin, "Private").await;
    let granted = flow_user(&app, &admin, "granted@weir.test", &ALL_CODES, Some(&shared)).await;
    let ungranted = flow_user(&app, &admin, "ungranted@weir.test", &ALL_CODES, None).await;
    assert_eq!(names(&app, &granted).await, ["Shared"]);
    assert!(names(&app, &ungranted).await.is_empty());
    let page = search(&app, &ungranted, json!({})).await;
    assert_eq!(page["total"], 0, "{page}");

    // The flow not granted answers as if it did not exist.
    for (method, path, body) in every_route(&private) {
        if !path.contains(&private)
            && !body
                .as_ref()
                .is_some_and(|b| b.to_string().contains(&private))
        {
            continue;
        }
        let answer = app.call(method, &path, Some(&granted), body).await;
        not_found(&answer, &private);
    }
    // The granted one is theirs to work on.
    let answer = app
        .call(
            "GET",
            &format!("/workflow/flows/{shared}/design"),
            Some(&granted),
            None,
        )
        .await;
    assert_eq!(ok(&answer)["name"], "Shared");
    let answer = app
        .call(
            "GET",
            &format!("/workflow/flows/{shared}/enable"),
            Some(&granted),
            None,
        )
        .await;
    ok(&answer);

    // A creator sees their own flows.
    let mine = new_flow(&app, &ungranted, "Mine").await;
    assert_eq!(names(&app, &ungranted).await, ["Mine"]);
    let answer = app
        .call(
            "PUT",
            &format!("/workflow/flows/{mine}"),
            Some(&ungranted),
            Some(json!({"name": "Mine 2", "remark": ""})),
        )
        .await;
    ok(&answer);
    assert_eq!(
        names(&app, &admin).await,
        ["Mine 2", "Private", "Shared"],
        "the super admin sees all"
    );
    assert_eq!(row(&app, &admin, &shared).await["enabled"], true);
    assert_eq!(row(&app, &admin, &private).await["version"], 1);
}

#[tokio::test]
async fn another_tenants_flows_are_not_found() {
    let (app, admin, boss) = two_tenants().await;
    let theirs = new_flow(&app, &boss, "Acme flow").await;
    let ours = new_flow(&app, &admin, "Our flow").await;
    assert_eq!(names(&app, &admin).await, ["Our flow"]);
    assert_eq!(names(&app, &boss).await, ["Acme flow"]);
    for (method, path, body) in every_route(&theirs) {
        if !path.contains(&theirs)
            && !body
                .as_ref()
                .is_some_and(|b| b.to_string().contains(&theirs))
        {
            continue;
        }
        let answer = app.call(method, &path, Some(&admin), body).await;
        not_found(&answer, &theirs);
    }
    let answer = app
        .call(
            "POST",
            "/workflow/flows/batch-delete",
            Some(&boss),
            Some(json!({"workflow_id_list": [theirs, ours]})),
        )
        .await;
    not_found(&answer, &ours);
    assert_eq!(names(&app, &boss).await, ["Acme flow"], "all or nothing");
    let r = row(&app, &boss, &theirs).await;
    assert_eq!(
        (&r["name"], &r["enabled"], &r["version"]),
        (&json!("Acme flow"), &json!(false), &json!(1))
    );
}

#[tokio::test]
async fn the_component_catalogue_is_listed_by_group() {
    let (app, admin) = setup().await;
    let groups = ok(&app
        .call("GET", "/workflow/components", Some(&admin), None)
        .await)
    .clone();
    let expected = [
        (
            "entry",
            vec!["trigger", "eventListener", "simpleTimer", "httpIn"],
        ),
        ("control", vec!["choice"]),
        (
            "action",
            vec![
                "entitySelector",
                "entityAssigner",
                "serviceInvocation",
                "code",
            ],
        ),
        ("external", vec!["webhook", "email", "output"]),
    ];
    assert_eq!(groups.as_object().map(|g| g.len()), Some(4), "{groups}");
    for (group, components) in expected {
        assert_eq!(pluck(&groups[group], "name"), components, "{group}");
        for c in groups[group].as_array().unwrap() {
            assert_eq!(c["group"], group, "{c}");
            assert!(c["title"].as_str().is_some_and(|t| !t.is_empty()), "{c}");
            assert!(c["description"].is_string(), "{c}");
            assert!(c["parameters"].is_array(), "{c}");
        }
    }

    let webhook = ok(&app
        .call(
            "GET",
            "/api/v1/workflow/components/webhook",
            Some(&admin),
            None,
        )
        .await)
    .clone();
    assert_eq!(
        (&webhook["name"], &webhook["group"]),
        (&json!("webhook"), &json!("external"))
    );
    let url = webhook["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "webhookUrl")
        .unwrap_or_else(|| panic!("{webhook}"));
    assert_eq!(
        (&url["required"], &url["type"]),
        (&json!(true), &json!("string"))
    );
    assert_eq!(webhook, groups["external"][0], "the same as in the list");

    let languages = app
        .call("GET", "/workflow/components/languages", Some(&admin), None)
        .await;
    assert_eq!(
        ok(&languages),
        &json!({"code": ["rhai", "js"], "expression": ["rhai", "js"]})
    );

    for unknown in ["nope", "Trigger", "languages2"] {
        let answer = app
            .call(
                "GET",
                &format!("/workflow/components/{unknown}"),
                Some(&admin),
                None,
            )
            .await;
        not_found(&answer, unknown);
    }
}
