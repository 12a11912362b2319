//! The workflow components in the console's form format (issue 14): each component's `data`
//! is the JSON string the console's flow editor parses into `{component, properties,
//! outputProperties}`, and a design saved after the editor's panels wrote back their fields
//! validates and runs. See docs/console.md.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};
use weir_test_kit::{Session, TestApp};

use crate::support::{declared, invalid, ok, refused};

/// A server with a lamp `l1` (a settable level and mode), its admin signed in.
async fn setup() -> (TestApp, Session) {
    let lamps = declared(
        "lamp",
        "Lamps",
        vec![
            json!({"identifier": "level", "name": "Level", "type": "PROPERTY", "access_mod": "RW", "value_type": "LONG"}),
            json!({"identifier": "mode", "name": "Mode", "type": "PROPERTY", "access_mod": "RW", "value_type": "STRING"}),
        ],
    );
    let app = TestApp::spawn_with_integrations(|_| {}, vec![lamps]).await;
    let admin = app.register_admin().await;
    let body = json!({"name": "L1", "integration": "lamp"});
    ok(&app.call("POST", "/device", Some(&admin), Some(body)).await);
    (app, admin)
}

/// Every component's parsed form, by component name, as the console reads the list.
async fn forms(app: &TestApp, who: &Session) -> Map<String, Value> {
    let groups = ok(&app
        .call("GET", "/workflow/components", Some(who), None)
        .await)
    .clone();
    let mut out = Map::new();
    for (group, components) in groups.as_object().unwrap() {
        for c in components.as_array().unwrap() {
            let data = c["data"].as_str().unwrap_or_else(|| panic!("data: {c}"));
            let form: Value = serde_json::from_str(data).unwrap();
            assert_eq!(form["component"]["name"], c["name"], "{form}");
            assert_eq!(form["component"]["type"], json!(group), "{form}");
            out.insert(c["name"].as_str().unwrap().to_owned(), form);
        }
    }
    out
}

/// What the console's panel writes back as a node's `parameters` once opened: exactly the
/// form's fields (those not `autowired`, and the `editable` outputs), absent ones left out.
fn through_panel(form: &Value, stored: &Value) -> Value {
    let mut fields = Vec::new();
    for (name, p) in form["properties"].as_object().unwrap() {
        if p["autowired"] != true {
            fields.push(name.clone());
        }
    }
    for (name, p) in form["outputProperties"].as_object().unwrap() {
        if p["autowired"] != true && p["editable"] == true {
            fields.push(name.clone());
        }
    }
    let mut parameters = Map::new();
    for name in fields {
        if let Some(v) = stored.get(&name) {
            parameters.insert(name, v.clone());
        }
    }
    Value::Object(parameters)
}

#[tokio::test]
async fn every_component_carries_its_form_in_the_console_format() {
    let (app, admin) = setup().await;
    let forms = forms(&app, &admin).await;
    assert_eq!(forms.len(), 12);

    // Every parameter is a field of the form, so the panel keeps it.
    let groups = ok(&app
        .call("GET", "/workflow/components", Some(&admin), None)
        .await)
    .clone();
    for c in groups
        .as_object()
        .unwrap()
        .values()
        .flat_map(|g| g.as_array().unwrap())
    {
        let name = c["name"].as_str().unwrap();
        let form = &forms[name];
        let parameters: BTreeSet<&str> = c["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        let fields: BTreeSet<&str> = form["properties"]
            .as_object()
            .unwrap()
            .keys()
            .chain(form["outputProperties"].as_object().unwrap().keys())
            .map(String::as_str)
            .collect();
        assert_eq!(parameters, fields, "{name}");
        for (key, p) in form["properties"].as_object().unwrap() {
            assert_eq!(&p["name"], key, "{name}");
            for member in ["displayName", "type", "required", "index", "autowired"] {
                assert!(!p[member].is_null(), "{name}.{key} lacks {member}: {p}");
            }
        }
        // The one-component route answers the same as the list.
        let one = ok(&app
            .call(
                "GET",
                &format!("/workflow/components/{name}"),
                Some(&admin),
                None,
            )
            .await)
        .clone();
        assert_eq!(&one, c, "{name}");
    }

    let field = |component: &str, name: &str| {
        let form = &forms[component];
        let p = &form["properties"][name];
        if p.is_null() {
            form["outputProperties"][name].clone()
        } else {
            p.clone()
        }
    };
    let shown = |p: &Value| json!([p["type"], p["required"], p["uiComponent"], p["autowired"]]);

    let entities = field("eventListener", "entities");
    assert_eq!(
        shown(&entities),
        json!(["array", true, "entityMultipleSelect", false])
    );
    assert_eq!(entities["multiValue"], true);
    assert_eq!(field("eventListener", "entityData")["autowired"], true);
    assert_eq!(
        shown(&field("entitySelector", "entities")),
        json!(["array", true, "entityMultipleSelect", false])
    );
    let inputs = field("trigger", "entityConfigs");
    assert_eq!(
        shown(&inputs),
        json!(["array", false, "paramDefineInput", false])
    );
    assert_eq!(inputs["defaultValue"], json!([]));
    assert_eq!(
        shown(&field("simpleTimer", "timerSettings")),
        json!(["object", true, "timerSettings", false])
    );
    let method = field("httpIn", "method");
    assert_eq!(shown(&method), json!(["enum", true, null, false]));
    assert_eq!(
        method["enum"],
        json!({"POST": "POST", "GET": "GET", "PUT": "PUT", "DELETE": "DELETE"})
    );
    assert_eq!(
        shown(&field("choice", "choice")),
        json!(["object", true, "conditionsInput", false])
    );
    assert_eq!(
        shown(&field("code", "expression")),
        json!(["object", true, "codeEditor", false])
    );
    assert_eq!(
        shown(&field("code", "inputArguments")),
        json!(["map", false, "paramAssignInput", false])
    );
    for component in ["code", "serviceInvocation"] {
        let payload = &forms[component]["outputProperties"]["payload"];
        assert_eq!(
            shown(payload),
            json!(["array", false, "paramDefineInput", false]),
            "{component}"
        );
        assert_eq!(payload["editable"], true, "{component}");
    }
    assert_eq!(
        shown(&field("serviceInvocation", "serviceInvocationSetting")),
        json!(["object", true, "serviceEntitySetting", false])
    );
    assert_eq!(
        shown(&field("entityAssigner", "exchangePayload")),
        json!(["map", true, "entityAssignSelect", false])
    );
    assert_eq!(
        shown(&field("webhook", "webhookUrl")),
        json!(["string", true, null, false])
    );
    assert_eq!(field("webhook", "secretKey")["secret"], true);
    let timeout = field("webhook", "timeoutSeconds");
    assert_eq!(
        (&timeout["type"], &timeout["defaultValue"]),
        (&json!("int"), &json!(10))
    );
    assert_eq!(
        shown(&field("webhook", "inputArguments")),
        json!(["map", false, "paramAssignInput", false])
    );
    assert_eq!(
        shown(&field("email", "emailConfig")),
        json!(["object", true, "emailSendSource", false])
    );
    assert_eq!(
        shown(&field("email", "recipients")),
        json!(["array", true, "emailRecipients", false])
    );
    assert_eq!(
        shown(&field("email", "subject")),
        json!(["string", true, null, false])
    );
    assert_eq!(
        shown(&field("email", "content")),
        json!(["string", false, "emailContent", false])
    );
    assert_eq!(
        shown(&field("output", "outputVariables")),
        json!(["map", false, "paramAssignInput", false])
    );
    // The form's order is the catalogue's.
    assert_eq!(field("email", "emailConfig")["index"], 1);
    assert_eq!(field("email", "content")["index"], 4);
    assert_eq!(forms["code"]["component"]["testable"], true);
    assert_eq!(forms["trigger"]["component"]["testable"], false);
}

fn node(id: &str, component: &str, parameters: Value) -> Value {
    json!({"id": id, "componentName": component,
           "data": {"nodeName": id.to_uppercase(), "parameters": parameters}})
}

#[tokio::test]
async fn a_design_saved_after_the_console_panels_validates_and_runs() {
    let (app, admin) = setup().await;
    let forms = forms(&app, &admin).await;
    let nodes = [
        node(
            "start",
            "trigger",
            json!({"entityConfigs": [{"identify": "level", "name": "Level", "type": "LONG", "required": true}]}),
        ),
        node(
            "check",
            "choice",
            json!({"choice": {
                "when": [{"id": "high", "logicOperator": "AND", "expressionType": "condition",
                          "conditions": [{"id": "c1", "expressionValue": {
                              "key": "{{start.level}}", "operator": "GT", "value": 50}}]}],
                "otherwise": {"id": "low"}}}),
        ),
        node(
            "calc",
            "code",
            json!({"expression": {"language": "rhai", "expression": "#{mode: \"high \" + level}"},
                   "inputArguments": {"level": "{{start.level}}"},
                   "payload": [{"name": "mode", "type": "STRING"}]}),
        ),
        node(
            "set",
            "entityAssigner",
            json!({"exchangePayload": {"lamp.device.l1.mode": "{{calc.mode}}"}}),
        ),
        node(
            "read",
            "entitySelector",
            json!({"entities": ["lamp.device.l1.mode"], "entityData": {"keys": []}}),
        ),
        node(
            "out",
            "output",
            json!({"outputVariables": {"mode": "{{calc.mode}}"}}),
        ),
    ];
    // Every node's panel opened: the parameters are what the form writes back.
    let nodes: Vec<Value> = nodes
        .into_iter()
        .map(|mut n| {
            let form = &forms[n["componentName"].as_str().unwrap()];
            let kept = through_panel(form, &n["data"]["parameters"]);
            let mut stored = n["data"]["parameters"].clone();
            stored.as_object_mut().unwrap().remove("entityData");
            assert_eq!(kept, stored, "the panel keeps the settings: {n}");
            n["data"]["parameters"] = kept;
            n
        })
        .collect();
    let edge = |id: &str, s: &str, t: &str, h: Option<&str>| json!({"id": id, "source": s, "target": t, "sourceHandle": h});
    let design = json!({"nodes": nodes, "edges": [
        edge("e1", "start", "check", None),
        edge("e2", "check", "calc", Some("high")),
        edge("e3", "calc", "set", None),
        edge("e4", "set", "read", None),
        edge("e5", "read", "out", None),
    ]})
    .to_string();

    let answer = app
        .call(
            "POST",
            "/workflow/flows/design/validate",
            Some(&admin),
            Some(json!({"design_data": design})),
        )
        .await;
    ok(&answer);
    let body = json!({"name": "Console flow", "design_data": design});
    ok(&app
        .call("POST", "/workflow/flows/design", Some(&admin), Some(body))
        .await);
    let body = json!({"design_data": design, "input": {"level": 70}});
    let answer = app
        .call(
            "POST",
            "/workflow/flows/design/test",
            Some(&admin),
            Some(body),
        )
        .await;
    let run = ok(&answer);
    assert_eq!(run["status"], "SUCCESS", "{run}");
    assert_eq!(run["output"], json!({"mode": "high 70"}), "{run}");
}

#[tokio::test]
async fn a_number_the_console_left_blank_is_taken_as_absent() {
    let (app, admin) = setup().await;
    let design = json!({"nodes": [
        node("start", "trigger", json!({"entityConfigs": []})),
        node("hook", "webhook", json!({"webhookUrl": "https://hooks.example.com/x",
                                       "secretKey": "", "timeoutSeconds": ""})),
        node("out", "output", json!({})),
    ], "edges": [
        {"id": "e1", "source": "start", "target": "hook"},
        {"id": "e2", "source": "hook", "target": "out"},
    ]})
    .to_string();
    let answer = app
        .call(
            "POST",
            "/workflow/flows/design/validate",
            Some(&admin),
            Some(json!({"design_data": design})),
        )
        .await;
    ok(&answer);
    // A number that is not blank is still checked.
    let design = design.replace(r#""timeoutSeconds":"""#, r#""timeoutSeconds":"soon""#);
    let answer = app
        .call(
            "POST",
            "/workflow/flows/design/validate",
            Some(&admin),
            Some(json!({"design_data": design})),
        )
        .await;
    invalid(&answer, "timeoutSeconds");
}

/// The console's editor schema, as its import modal reads it from a file.
fn console_schema() -> Value {
    json!({"version": "1.0.0", "name": "Imported", "remark": "from the console",
           "viewport": {"x": 0, "y": 0, "zoom": 1},
           "nodes": [
               {"id": "start", "type": "trigger", "componentName": "trigger", "position": {"x": 0, "y": 0},
                "data": {"nodeName": "Start", "parameters": {"entityConfigs": []}}},
               {"id": "out", "type": "output", "componentName": "output", "position": {"x": 0, "y": 0},
                "data": {"nodeName": "End", "parameters": {}}}],
           "edges": [{"id": "e1", "source": "start", "target": "out"}]})
}

#[tokio::test]
async fn a_flow_is_imported_from_the_consoles_dsl() {
    let (app, admin) = setup().await;
    let schema = console_schema();
    for body in [
        json!({"dsl": schema}),
        json!({"dsl": schema.to_string()}),
        schema.clone(),
    ] {
        let answer = app
            .call(
                "POST",
                "/workflow/flows/import",
                Some(&admin),
                Some(body.clone()),
            )
            .await;
        let id = ok(&answer)["id"].as_str().unwrap().to_owned();
        let answer = app
            .call(
                "GET",
                &format!("/workflow/flows/{id}/design"),
                Some(&admin),
                None,
            )
            .await;
        let flow = ok(&answer);
        assert_eq!(
            (&flow["name"], &flow["remark"], &flow["enabled"]),
            (
                &json!("Imported"),
                &json!("from the console"),
                &json!(false)
            ),
            "{body}"
        );
        let design: Value = serde_json::from_str(flow["design_data"].as_str().unwrap()).unwrap();
        assert_eq!(design, schema, "the schema is kept whole");
    }
    // An exported file under `dsl` imports as the file.
    let file = json!({"name": "Filed", "design_data": schema.to_string()});
    let answer = app
        .call(
            "POST",
            "/workflow/flows/import",
            Some(&admin),
            Some(json!({"dsl": file})),
        )
        .await;
    ok(&answer);

    let mut unnamed = schema.clone();
    unnamed.as_object_mut().unwrap().remove("name");
    let refusals = [
        (json!({"dsl": unnamed}), "dsl.name"),
        (json!({"dsl": 5}), "dsl"),
        (json!({"dsl": {"name": 5, "nodes": []}}), "dsl.name"),
    ];
    for (body, field) in refusals {
        let answer = app
            .call("POST", "/workflow/flows/import", Some(&admin), Some(body))
            .await;
        invalid(&answer, field);
    }
    // NUL inside the schema's JSON text (where the body's check sees `\u0000` as text)
    // is refused, naming where.
    let mut with_nul = schema.clone();
    with_nul["remark"] = json!("a\u{0}b");
    let answer = app
        .call(
            "POST",
            "/workflow/flows/import",
            Some(&admin),
            Some(json!({"dsl": with_nul.to_string()})),
        )
        .await;
    let message = refused(&answer, 400, "parameter_validation_failed");
    assert!(
        message.starts_with("dsl.remark: must not contain"),
        "{message}"
    );
    let mut broken = schema.clone();
    broken["edges"] = json!([{"id": "e1", "source": "start", "target": "nowhere"}]);
    let answer = app
        .call(
            "POST",
            "/workflow/flows/import",
            Some(&admin),
            Some(json!({"dsl": broken})),
        )
        .await;
    invalid(&answer, "nowhere");
    let answer = app
        .call(
            "POST",
            "/workflow/flows/import",
            Some(&admin),
            Some(json!({"dsl": "{not json"})),
        )
        .await;
    let message = refused(&answer, 400, "parameter_syntax_error");
    assert!(message.contains("dsl"), "{message}");
}
