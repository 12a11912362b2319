//! Workflow designs over HTTP: saved as numbered versions, read back, validated, exported
//! as a file and imported as a new flow.

use serde_json::{Value, json};
use weir_test_kit::{Session, TestApp};

use crate::support::{
    UNKNOWN_ID, assert_syntax_error, invalid, not_found, ok, refused, send, setup,
};
use crate::workflow_flows::{
    ALL_CODES, BROKEN, BROKEN_PROBLEM, DESIGN, flow_user, names, new_flow, search,
};

/// trigger → webhook → output, with the console's own members (position, viewport), to
/// show the stored string comes back as it was sent.
const DESIGN_2: &str = r#"{"version": "1.0.0", "viewport": {"x": 1.5, "y": 0, "zoom": 0.8},
  "nodes": [
    {"id": "t", "type": "trigger", "componentName": "trigger", "position": {"x": 0, "y": 0},
     "data": {"nodeName": "Start", "parameters": {"entityConfigs": []}}},
    {"id": "w", "componentName": "webhook",
     "data": {"nodeName": "Notify", "parameters": {"webhookUrl": "https://hooks.example.com/x"}}},
    {"id": "o", "componentName": "output", "data": {"nodeName": "End", "parameters": {}}}],
  "edges": [{"id": "e1", "source": "t", "target": "w"}, {"id": "e2", "source": "w", "target": "o"}]}"#;

async fn save(app: &TestApp, who: &Session, body: Value) -> (u16, Value) {
    app.call("POST", "/workflow/flows/design", Some(who), Some(body))
        .await
}

async fn read(app: &TestApp, who: &Session, id: &str, query: &str) -> (u16, Value) {
    let path = format!("/workflow/flows/{id}/design{query}");
    app.call("GET", &path, Some(who), None).await
}

#[tokio::test]
async fn a_design_is_saved_as_numbered_versions_and_each_is_read_back() {
    let (app, admin) = setup().await;
    let answer = save(
        &app,
        &admin,
        json!({"name": " Cooling ", "remark": "hall", "design_data": DESIGN}),
    )
    .await;
    let data = ok(&answer).clone();
    let id = data["id"].as_str().expect("a string id").to_owned();
    assert_eq!(data, json!({"id": id, "version": 1}));

    let first = ok(&read(&app, &admin, &id, "").await).clone();
    assert_eq!(first["id"], id.as_str());
    assert_eq!(first["name"], "Cooling");
    assert_eq!(first["remark"], "hall");
    assert_eq!(first["enabled"], false, "a new flow is off unless asked");
    assert_eq!(first["version"], 1);
    assert_eq!(first["design_data"], DESIGN);
    assert!(first["created_at"].as_i64().unwrap() > 0);
    assert_eq!(first["updated_at"], first["created_at"]);

    // The next version, from version 1, enabled; the id may be a number.
    let number: i64 = id.parse().unwrap();
    let answer = save(
        &app,
        &admin,
        json!({"id": number, "version": 1, "name": "Cooling 2", "enabled": true, "design_data": DESIGN_2}),
    )
    .await;
    assert_eq!(ok(&answer), &json!({"id": id, "version": 2}));
    let second = ok(&read(&app, &admin, &id, "").await).clone();
    assert_eq!(
        (&second["version"], &second["name"], &second["enabled"]),
        (&json!(2), &json!("Cooling 2"), &json!(true))
    );
    assert_eq!(second["remark"], "", "a save without a remark clears it");
    assert_eq!(second["design_data"], DESIGN_2, "stored as sent");
    assert_eq!(second["created_at"], first["created_at"]);
    assert!(second["updated_at"].as_i64() >= first["updated_at"].as_i64());

    // An older version stays readable.
    let old = ok(&read(&app, &admin, &id, "?version=1").await).clone();
    assert_eq!(
        (&old["version"], &old["design_data"]),
        (&json!(1), &json!(DESIGN))
    );
    let answer = read(&app, &admin, &id, "?version=3").await;
    not_found(&answer, &format!("{id}/3"));
    for bad in ["abc", "0", "-1", "1.5"] {
        let answer = read(&app, &admin, &id, &format!("?version={bad}")).await;
        invalid(&answer, "version");
    }

    // Without `enabled`, a save keeps the flow's state.
    let answer = save(
        &app,
        &admin,
        json!({"id": id, "version": 2, "name": "Cooling 3", "design_data": DESIGN}),
    )
    .await;
    assert_eq!(ok(&answer)["version"], 3);
    let third = ok(&read(&app, &admin, &id, "").await).clone();
    assert_eq!(
        (&third["version"], &third["enabled"]),
        (&json!(3), &json!(true))
    );

    // A save from a stale version is refused and changes nothing.
    let answer = save(
        &app,
        &admin,
        json!({"id": id, "version": 2, "name": "Stale", "design_data": DESIGN_2}),
    )
    .await;
    let message = refused(&answer, 400, "workflow_version_conflict");
    assert!(message.contains("is at version 3, not 2"), "{message}");
    let answer = save(
        &app,
        &admin,
        json!({"id": id, "name": "No version", "design_data": DESIGN_2}),
    )
    .await;
    invalid(&answer, "version");
    let now = ok(&read(&app, &admin, &id, "").await).clone();
    assert_eq!(
        (&now["version"], &now["name"]),
        (&json!(3), &json!("Cooling 3"))
    );

    // Unknown flows.
    let answer = save(
        &app,
        &admin,
        json!({"id": UNKNOWN_ID, "version": 1, "enabled": false, "name": "X", "design_data": DESIGN}),
    )
    .await;
    not_found(&answer, UNKNOWN_ID);
    not_found(&read(&app, &admin, UNKNOWN_ID, "").await, UNKNOWN_ID);
    invalid(&read(&app, &admin, "12ab", "").await, "flow_id");
}

#[tokio::test]
async fn bad_designs_are_refused_naming_the_node_and_field_and_nothing_is_saved() {
    let (app, admin) = setup().await;
    let id = new_flow(&app, &admin, "Cooling").await;
    let cases = [
        (json!({"name": "X", "design_data": BROKEN}), BROKEN_PROBLEM),
        (
            json!({"id": id, "version": 1, "name": "X", "design_data": BROKEN}),
            BROKEN_PROBLEM,
        ),
        (json!({"name": "X", "design_data": "{"}), "design_data"),
        (json!({"name": "X", "design_data": "[]"}), "design_data"),
        (
            json!({"name": "X", "design_data": {"nodes": [], "edges": []}}),
            "design_data",
        ),
        (json!({"name": "X"}), "design_data"),
        (json!({"design_data": DESIGN}), "name"),
        (json!({"name": "", "design_data": DESIGN}), "name"),
        (
            json!({"name": "x".repeat(65), "design_data": DESIGN}),
            "name",
        ),
        (
            json!({"name": "X", "remark": "r".repeat(513), "design_data": DESIGN}),
            "remark",
        ),
        (
            json!({"name": "X", "enabled": "yes", "design_data": DESIGN}),
            "enabled",
        ),
        (
            json!({"id": id, "version": "one", "name": "X", "design_data": DESIGN}),
            "version",
        ),
        (
            json!({"id": "abc", "version": 1, "name": "X", "design_data": DESIGN}),
            "id",
        ),
    ];
    for (body, named) in cases {
        let answer = save(&app, &admin, body.clone()).await;
        let message = refused(&answer, 400, "parameter_validation_failed");
        assert!(
            message.contains(named),
            "{body}: `{named}` not in {message}"
        );
    }
    assert_syntax_error(
        &app,
        "POST",
        "/workflow/flows/design",
        Some(&admin),
        "{\"name\": \"X\", ",
    )
    .await;
    assert_eq!(
        names(&app, &admin).await,
        ["Cooling"],
        "nothing was created"
    );
    let flow = ok(&read(&app, &admin, &id, "").await).clone();
    assert_eq!(
        (&flow["version"], &flow["name"]),
        (&json!(1), &json!("Cooling"))
    );
}

#[tokio::test]
async fn a_design_is_validated_without_being_saved() {
    let (app, admin) = setup().await;
    let validate = |body: Value| {
        let (app, admin) = (&app, &admin);
        async move {
            app.call(
                "POST",
                "/workflow/flows/design/validate",
                Some(admin),
                Some(body),
            )
            .await
        }
    };
    for design in [DESIGN, DESIGN_2] {
        let answer = validate(json!({"design_data": design})).await;
        assert_eq!(ok(&answer), &json!({"valid": true}));
    }
    let message = refused(
        &validate(json!({"design_data": BROKEN})).await,
        400,
        "parameter_validation_failed",
    );
    assert_eq!(message, format!("design_data: {BROKEN_PROBLEM}"));
    // Every problem is named: here an unknown component and an unreachable node.
    let two = r#"{"nodes":[{"id":"t","componentName":"trigger","data":{"nodeName":"Start","parameters":{}}},{"id":"x","componentName":"teleport","data":{"nodeName":"Beam","parameters":{}}}],"edges":[]}"#;
    let message = refused(
        &validate(json!({"design_data": two})).await,
        400,
        "parameter_validation_failed",
    );
    assert!(
        message.contains("\"x\"") && message.contains("teleport"),
        "{message}"
    );
    for (body, field) in [
        (json!({}), "design_data"),
        (json!({"design_data": 5}), "design_data"),
        (json!({"design_data": "not json"}), "design_data"),
    ] {
        invalid(&validate(body).await, field);
    }
    assert_syntax_error(
        &app,
        "POST",
        "/workflow/flows/design/validate",
        Some(&admin),
        "design",
    )
    .await;
    assert!(names(&app, &admin).await.is_empty(), "nothing was saved");
}

/// `GET /workflow/flows/{id}/export` as `who`: the answer, its content type and its
/// content disposition.
async fn export(app: &TestApp, who: &Session, id: &str) -> ((u16, Value), String, String) {
    let request = app
        .client()
        .get(app.url(&format!("/workflow/flows/{id}/export")))
        .bearer_auth(&who.access_token);
    let (answer, headers) = send(request).await;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    (
        answer,
        header("content-type"),
        header("content-disposition"),
    )
}

async fn import(app: &TestApp, who: &Session, body: Value) -> (u16, Value) {
    app.call("POST", "/workflow/flows/import", Some(who), Some(body))
        .await
}

#[tokio::test]
async fn a_flow_is_exported_as_a_file_and_imported_as_a_new_disabled_flow() {
    let (app, admin) = setup().await;
    let answer = save(
        &app,
        &admin,
        json!({"name": "Fan on/off", "remark": "hall", "enabled": true, "design_data": DESIGN_2}),
    )
    .await;
    let id = ok(&answer)["id"].as_str().unwrap().to_owned();

    let ((status, file), content_type, disposition) = export(&app, &admin, &id).await;
    assert_eq!(status, 200, "{file}");
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    assert!(
        disposition.starts_with("attachment;")
            && disposition.contains("filename=\"Fan_on_off.json\""),
        "{disposition}"
    );
    assert_eq!(
        file,
        json!({"name": "Fan on/off", "remark": "hall", "design_data": DESIGN_2}),
        "the file itself, not an envelope"
    );

    let answer = import(&app, &admin, file.clone()).await;
    let data = ok(&answer).clone();
    let copy = data["id"].as_str().expect("a string id").to_owned();
    assert_ne!(copy, id);
    assert_eq!(data["version"], 1);
    let flow = ok(&read(&app, &admin, &copy, "").await).clone();
    assert_eq!(
        (&flow["name"], &flow["remark"], &flow["design_data"]),
        (&json!("Fan on/off"), &json!("hall"), &json!(DESIGN_2))
    );
    assert_eq!(flow["enabled"], false, "an imported flow starts disabled");
    assert_eq!(flow["version"], 1);
    // A file with extra members (an export of another version of Weir) still imports.
    let answer = import(
        &app,
        &admin,
        json!({"name": "Bare", "design_data": DESIGN, "version": 7, "id": "1"}),
    )
    .await;
    ok(&answer);
    assert_eq!(
        search(&app, &admin, json!({})).await["total"],
        3,
        "{answer:?}"
    );

    // The exported file uploaded as a file, as a browser sends it.
    let upload = |bytes: Vec<u8>| {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name("Fan_on_off.json")
            .mime_str("application/json")
            .unwrap();
        let form = reqwest::multipart::Form::new()
            .text("note", "ignored")
            .part("file", part);
        app.client()
            .post(app.url("/api/v1/workflow/flows/import"))
            .bearer_auth(&admin.access_token)
            .multipart(form)
            .send()
    };
    let res = upload(serde_json::to_vec(&file).unwrap()).await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["data"]["version"], 1, "{body}");
    let res = upload(b"{not json".to_vec()).await.unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error_code"], "parameter_syntax_error", "{body}");
    assert!(
        body["error_message"]
            .as_str()
            .unwrap()
            .starts_with("file is not valid JSON"),
        "{body}"
    );
    assert_eq!(search(&app, &admin, json!({})).await["total"], 4);

    // Bad files change nothing.
    let message = refused(
        &import(&app, &admin, json!({"name": "X", "design_data": BROKEN})).await,
        400,
        "parameter_validation_failed",
    );
    assert!(message.contains(BROKEN_PROBLEM), "{message}");
    for (body, field) in [
        (json!({"design_data": DESIGN}), "name"),
        (json!({"name": "X"}), "design_data"),
        (
            json!({"name": "X", "design_data": {"nodes": []}}),
            "design_data",
        ),
        (json!({"name": "", "design_data": DESIGN}), "name"),
    ] {
        invalid(&import(&app, &admin, body).await, field);
    }
    assert_syntax_error(
        &app,
        "POST",
        "/workflow/flows/import",
        Some(&admin),
        "{\"name\"",
    )
    .await;
    assert_eq!(search(&app, &admin, json!({})).await["total"], 4);

    // Unknown flows, and names that make no file name.
    not_found(&export(&app, &admin, UNKNOWN_ID).await.0, UNKNOWN_ID);
    invalid(&export(&app, &admin, "nope").await.0, "flow_id");
    let odd = new_flow(&app, &admin, "../..").await;
    let (_, _, disposition) = export(&app, &admin, &odd).await;
    assert!(
        disposition.contains("filename=\"workflow.json\""),
        "{disposition}"
    );
}

#[tokio::test]
async fn export_and_import_need_their_own_codes_only() {
    let (app, admin) = setup().await;
    let id = new_flow(&app, &admin, "Cooling").await;
    let other = new_flow(&app, &admin, "Other").await;
    let exporter = flow_user(
        &app,
        &admin,
        "exporter@weir.test",
        &["workflow.export"],
        Some(&id),
    )
    .await;
    let importer = flow_user(
        &app,
        &admin,
        "importer@weir.test",
        &["workflow.import"],
        None,
    )
    .await;
    let ((status, file), _, _) = export(&app, &exporter, &id).await;
    assert_eq!((status, &file["name"]), (200, &json!("Cooling")), "{file}");
    not_found(&export(&app, &exporter, &other).await.0, &other);
    refused(
        &export(&app, &importer, &id).await.0,
        403,
        "forbidden_permission",
    );

    let answer = import(&app, &importer, file.clone()).await;
    assert_eq!(ok(&answer)["version"], 1);
    refused(
        &import(&app, &exporter, file).await,
        403,
        "forbidden_permission",
    );
    // The importer created it, so it is theirs to read once they may view flows.
    assert_eq!(
        names(&app, &admin).await,
        ["Cooling", "Other", "Cooling"],
        "one flow was imported"
    );
    let viewer = flow_user(&app, &admin, "viewer@weir.test", &ALL_CODES, None).await;
    assert!(names(&app, &viewer).await.is_empty());
}
