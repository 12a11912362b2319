//! Flows that run: an event listener changing another entity, a design test through every
//! node kind, HTTP-in flows, triggers, timers, node tests, run logs with their traces, and
//! what disabling does — over HTTP, against real adapters (Rhai, a local HTTP receiver and
//! SMTP sink).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use weir_iot::integration::Integration;
use weir_outbound::testing::{HttpReceiver, SmtpSink};
use weir_test_kit::{PASSWORD, Session, TestApp};

use crate::support::{
    ACME, add_tenant, declared, forbidden, invalid, login_in, not_found, ok, refused, register_in,
    user_with,
};

/// Lamps: a settable level and mode.
fn lamps() -> Arc<dyn Integration> {
    declared(
        "lamp",
        "Lamps",
        vec![
            json!({"identifier": "level", "name": "Level", "type": "PROPERTY", "access_mod": "RW", "value_type": "LONG", "value_attribute": {"min": 0, "max": 100}}),
            json!({"identifier": "mode", "name": "Mode", "type": "PROPERTY", "access_mod": "RW", "value_type": "STRING"}),
            json!({"identifier": "blink", "name": "Blink", "type": "SERVICE", "access_mod": "W", "value_type": "BOOLEAN"}),
        ],
    )
}

/// A server with lamps `l1` and `l2`, its settings changed by `tweak`.
async fn setup_tweaked(
    tweak: impl FnOnce(&mut weir::Settings) + Send + 'static,
) -> (TestApp, Session) {
    let app = TestApp::spawn_with_integrations(tweak, vec![lamps()]).await;
    let admin = app.register_admin().await;
    for name in ["L1", "L2"] {
        let body = json!({"name": name, "integration": "lamp"});
        ok(&app.call("POST", "/device", Some(&admin), Some(body)).await);
    }
    (app, admin)
}

/// A server with lamps `l1` and `l2`, webhooks and email nodes allowed to reach this
/// machine, and the system SMTP server `smtp` when given.
async fn setup_with(smtp: Option<&SmtpSink>) -> (TestApp, Session) {
    let smtp = smtp.map(|s| s.addr());
    setup_tweaked(move |s| {
        weir_test_kit::local_reach(s);
        s.workflow.smtp = smtp.map(|a| weir::settings::SmtpConfig {
            host: a.ip().to_string(),
            port: a.port(),
            encryption: "NONE".into(),
            username: None,
            password: None,
            from: Some("flows@weir.test".into()),
        });
    })
    .await
}

async fn setup() -> (TestApp, Session) {
    setup_with(None).await
}

pub(crate) fn node(id: &str, component: &str, parameters: Value) -> Value {
    json!({"id": id, "componentName": component,
           "data": {"nodeName": id.to_uppercase(), "parameters": parameters}})
}

fn edge(id: &str, source: &str, target: &str, handle: Option<&str>) -> Value {
    json!({"id": id, "source": source, "target": target, "sourceHandle": handle})
}

fn design(nodes: Vec<Value>, edges: Vec<Value>) -> String {
    json!({"nodes": nodes, "edges": edges}).to_string()
}

/// A chain of nodes, each edge from one to the next.
fn chain(nodes: Vec<Value>) -> String {
    let edges = nodes
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            edge(
                &format!("e{i}"),
                w[0]["id"].as_str().unwrap(),
                w[1]["id"].as_str().unwrap(),
                None,
            )
        })
        .collect();
    design(nodes, edges)
}

/// eventListener → choice → code → entityAssigner → output: when l1's level goes above 50,
/// l2's mode becomes "max" (above 80) or "high".
fn listener_design() -> String {
    design(
        vec![
            node(
                "listen",
                "eventListener",
                json!({"entities": ["lamp.device.l1.level"]}),
            ),
            node(
                "check",
                "choice",
                json!({"choice": {
                "when": [{"id": "hot", "logicOperator": "AND", "expressionType": "condition",
                          "conditions": [{"id": "c1", "expressionValue": {
                              "key": "{{listen.lamp.device.l1.level}}", "operator": "GT", "value": 50}}]}],
                "otherwise": {"id": "cold"}}}),
            ),
            node(
                "pick",
                "code",
                json!({"expression": {"language": "rhai",
                       "expression": "#{mode: if level > 80 { \"max\" } else { \"high\" }}"},
                       "inputArguments": {"level": "{{listen.lamp.device.l1.level}}"}}),
            ),
            node(
                "set",
                "entityAssigner",
                json!({"exchangePayload": {"lamp.device.l2.mode": "{{pick.mode}}"}}),
            ),
            node(
                "out",
                "output",
                json!({"outputVariables": {"mode": "{{pick.mode}}"}}),
            ),
        ],
        vec![
            edge("e1", "listen", "check", None),
            edge("e2", "check", "pick", Some("hot")),
            edge("e3", "pick", "set", None),
            edge("e4", "set", "out", None),
        ],
    )
}

async fn save(app: &TestApp, who: &Session, design_data: &str, enabled: bool) -> String {
    let body = json!({"name": "Flow", "enabled": enabled, "design_data": design_data});
    let answer = app
        .call("POST", "/workflow/flows/design", Some(who), Some(body))
        .await;
    ok(&answer)["id"].as_str().unwrap().to_owned()
}

async fn set_level(app: &TestApp, who: &Session, lamp: &str, level: i64) {
    let body = json!({"exchange": {format!("lamp.device.{lamp}.level"): level}});
    let answer = app
        .call("POST", "/entity/property/update", Some(who), Some(body))
        .await;
    ok(&answer);
}

/// The latest value of an entity, by key.
async fn latest(app: &TestApp, who: &Session, key: &str) -> Value {
    let body = json!({"keyword": key, "page_size": 100});
    let answer = app
        .call("POST", "/entity/search", Some(who), Some(body))
        .await;
    let rows = ok(&answer)["content"].as_array().unwrap().clone();
    let row = rows.iter().find(|r| r["entity_key"] == key).unwrap();
    let id = row["entity_id"].as_str().unwrap();
    let answer = app
        .call("GET", &format!("/entity/{id}/status"), Some(who), None)
        .await;
    ok(&answer)["value"].clone()
}

async fn logs(app: &TestApp, who: &Session, flow: &str, body: Value) -> Value {
    let path = format!("/workflow/flows/{flow}/logs/search");
    ok(&app.call("POST", &path, Some(who), Some(body)).await).clone()
}

/// Waits until the flow has `n` logs, and answers them.
async fn wait_for_logs(app: &TestApp, who: &Session, flow: &str, n: usize) -> Vec<Value> {
    for _ in 0..100 {
        let page = logs(app, who, flow, json!({})).await;
        let content = page["content"].as_array().unwrap().clone();
        if content.len() >= n {
            return content;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("flow {flow} did not log {n} runs");
}

#[tokio::test]
async fn a_new_value_runs_the_enabled_flow_which_sets_another_entity_until_disabled() {
    let (app, admin) = setup().await;
    let flow = save(&app, &admin, &listener_design(), true).await;

    set_level(&app, &admin, "l1", 90).await;
    let runs = wait_for_logs(&app, &admin, &flow, 1).await;
    assert_eq!(
        latest(&app, &admin, "lamp.device.l2.mode").await,
        json!("max")
    );
    let run = &runs[0];
    assert_eq!(run["status"], "SUCCESS");
    assert_eq!(run["version"], 1);
    assert_eq!(run["flow_id"], flow.as_str());
    assert!(run["time_cost"].as_i64().unwrap() >= 0);

    // The log's trace: one entry per node, in the order they ran.
    let path = format!("/workflow/flows/logs/{}", run["id"].as_str().unwrap());
    let answer = app.call("GET", &path, Some(&admin), None).await;
    let detail = ok(&answer);
    let trace = detail["trace_info"].as_array().unwrap();
    let ids: Vec<&str> = trace
        .iter()
        .map(|t| t["node_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["listen", "check", "pick", "set", "out"]);
    assert_eq!(trace[0]["node_label"], "LISTEN");
    assert_eq!(trace[0]["status"], "SUCCESS");
    assert_eq!(trace[0]["error_message"], "");
    assert_eq!(
        serde_json::from_str::<Value>(trace[0]["output"].as_str().unwrap()).unwrap(),
        json!({"lamp.device.l1.level": 90})
    );
    assert_eq!(trace[1]["output"], r#"{"branch":"hot"}"#);
    assert_eq!(trace[2]["output"], r#"{"mode":"max"}"#);
    let message_id = trace[0]["message_id"].as_str().unwrap();
    assert!(trace.iter().all(|t| t["message_id"] == message_id));

    // Below 50 the otherwise branch has no edge: the run ends after the choice.
    set_level(&app, &admin, "l1", 10).await;
    let runs = wait_for_logs(&app, &admin, &flow, 2).await;
    let path = format!("/workflow/flows/logs/{}", runs[0]["id"].as_str().unwrap());
    let answer = app.call("GET", &path, Some(&admin), None).await;
    assert_eq!(ok(&answer)["trace_info"].as_array().unwrap().len(), 2);

    // A value the device itself reports (HTTP ingest) runs the flow the same way.
    let answer = app
        .call(
            "POST",
            "/device/search",
            Some(&admin),
            Some(json!({"name": "L1"})),
        )
        .await;
    let l1 = ok(&answer)["content"][0]["id"].as_str().unwrap().to_owned();
    let answer = app
        .call("POST", &format!("/device/{l1}/token"), Some(&admin), None)
        .await;
    let token = ok(&answer)["token"].as_str().unwrap().to_owned();
    let res = app
        .client()
        .post(app.url("/device/report"))
        .header("X-Device-Token", token)
        .json(&json!({"level": 70}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    wait_for_logs(&app, &admin, &flow, 3).await;
    assert_eq!(
        latest(&app, &admin, "lamp.device.l2.mode").await,
        json!("high")
    );

    // Disabled, the flow stops at once: a new value changes nothing.
    let answer = app
        .call(
            "GET",
            &format!("/workflow/flows/{flow}/disable"),
            Some(&admin),
            None,
        )
        .await;
    ok(&answer);
    set_level(&app, &admin, "l1", 95).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        latest(&app, &admin, "lamp.device.l2.mode").await,
        json!("high")
    );
    let page = logs(&app, &admin, &flow, json!({})).await;
    assert_eq!(page["total"], 3);

    // Status filter.
    let page = logs(&app, &admin, &flow, json!({"status": "ERROR"})).await;
    assert_eq!(page["total"], 0);
    let path = format!("/workflow/flows/{flow}/logs/search");
    let answer = app
        .call(
            "POST",
            &path,
            Some(&admin),
            Some(json!({"status": "MAYBE"})),
        )
        .await;
    invalid(&answer, "status");
}

#[tokio::test]
async fn a_design_test_runs_every_action_and_external_node_and_keeps_nothing() {
    let sink = SmtpSink::start();
    let receiver = HttpReceiver::answering(200, r#"{"ok": true}"#);
    let (app, admin) = setup_with(Some(&sink)).await;
    set_level(&app, &admin, "l1", 42).await;
    let data = chain(vec![
        node(
            "start",
            "trigger",
            json!({"entityConfigs": [{"identify": "room", "name": "Room", "type": "STRING", "required": true}]}),
        ),
        node(
            "read",
            "entitySelector",
            json!({"entities": ["lamp.device.l1.level", "lamp.device.l2.mode"]}),
        ),
        node(
            "calc",
            "code",
            json!({"expression": {"language": "rhai",
                "expression": "let l = msg[\"lamp.device.l1.level\"]; #{double: l * 2, room: room}"},
                "inputArguments": {"room": "{{start.room}}"}}),
        ),
        node(
            "set",
            "entityAssigner",
            json!({"exchangePayload": {"lamp.device.l2.level": "{{calc.double}}"}}),
        ),
        node(
            "hook",
            "webhook",
            json!({"webhookUrl": receiver.url("/hook"), "secretKey": "s3cret",
                   "inputArguments": {"room": "{{calc.room}}", "double": "{{calc.double}}"}}),
        ),
        node(
            "mail",
            "email",
            json!({"emailConfig": {"useSystemSettings": true}, "recipients": ["ops@weir.test"],
                   "subject": "Room {{calc.room}}", "content": "Level doubled: {{calc.double}}"}),
        ),
        node(
            "out",
            "output",
            json!({"outputVariables": {"double": "{{calc.double}}", "hook": "{{hook.statusCode}}"}}),
        ),
    ]);
    let body = json!({"design_data": data, "input": {"room": "kitchen"}});
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
    assert_eq!(run["message"], "");
    assert_eq!(run["output"], json!({"double": 84, "hook": 200}));
    let trace = run["trace_info"].as_array().unwrap();
    assert_eq!(trace.len(), 7);
    assert_eq!(
        serde_json::from_str::<Value>(trace[1]["output"].as_str().unwrap()).unwrap(),
        json!({"lamp.device.l1.level": 42, "lamp.device.l2.mode": null})
    );

    // The assigner wrote through the API's path; the webhook and the email went out.
    assert_eq!(
        latest(&app, &admin, "lamp.device.l2.level").await,
        json!(84)
    );
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(
        serde_json::from_slice::<Value>(&r.body).unwrap(),
        json!({"room": "kitchen", "double": 84})
    );
    assert_eq!(r.header("signature").unwrap().len(), 64);
    // Spans are not exported here: no trace context goes out (docs/operations.md, "Traces").
    assert_eq!(r.header("traceparent"), None);
    let mails = sink.messages();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].recipients, ["ops@weir.test"]);
    assert_eq!(mails[0].from, "flows@weir.test");
    assert!(
        mails[0].data.contains("Subject: Room kitchen"),
        "{}",
        mails[0].data
    );
    assert!(
        mails[0].data.contains("Level doubled: 84"),
        "{}",
        mails[0].data
    );

    // Nothing was saved: no flow exists.
    let answer = app
        .call(
            "POST",
            "/workflow/flows/search",
            Some(&admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(ok(&answer)["total"], 0);

    // A missing required trigger input fails the run at its first node.
    let body = json!({"design_data": data, "input": {}});
    let answer = app
        .call(
            "POST",
            "/workflow/flows/design/test",
            Some(&admin),
            Some(body),
        )
        .await;
    let run = ok(&answer);
    assert_eq!(run["status"], "ERROR");
    assert_eq!(run["message"], "START: input `room` is required");
}

#[tokio::test]
async fn a_failing_node_ends_its_run_as_error_with_its_message_and_later_nodes_do_not_run() {
    let (app, admin) = setup().await;
    let receiver = HttpReceiver::answering(500, "boom");
    for (bad, message) in [
        (
            node(
                "bad",
                "code",
                json!({"expression": {"language": "rhai", "expression": "throw \"no luck\""}}),
            ),
            "BAD: ",
        ),
        (
            node(
                "bad",
                "code",
                json!({"expression": {"language": "rhai", "expression": "loop { }"}}),
            ),
            "BAD: ",
        ),
        (
            node("bad", "webhook", json!({"webhookUrl": receiver.url("/x")})),
            "BAD: webhook: POST ",
        ),
        (
            node(
                "bad",
                "entityAssigner",
                json!({"exchangePayload": {"lamp.device.l1.level": 1000}}),
            ),
            "BAD: ",
        ),
    ] {
        let data = chain(vec![
            node("start", "trigger", json!({})),
            bad,
            node("out", "output", json!({})),
        ]);
        let body = json!({"design_data": data});
        let answer = app
            .call(
                "POST",
                "/workflow/flows/design/test",
                Some(&admin),
                Some(body),
            )
            .await;
        let run = ok(&answer);
        assert_eq!(run["status"], "ERROR", "{run}");
        assert!(
            run["message"].as_str().unwrap().starts_with(message),
            "{run}"
        );
        let trace = run["trace_info"].as_array().unwrap();
        assert_eq!(trace.len(), 2, "{run}");
        assert_eq!(trace[1]["status"], "ERROR");
        assert!(!trace[1]["error_message"].as_str().unwrap().is_empty());
        assert_eq!(run["output"], Value::Null);
    }
    // An entity that does not exist is refused before the run, naming node and field.
    let data = chain(vec![
        node("start", "trigger", json!({})),
        node(
            "read",
            "entitySelector",
            json!({"entities": ["lamp.device.nope.level"]}),
        ),
    ]);
    let answer = app
        .call(
            "POST",
            "/workflow/flows/design/test",
            Some(&admin),
            Some(json!({"design_data": data})),
        )
        .await;
    invalid(
        &answer,
        "node \"read\" (READ): parameters.entities[0]: entity lamp.device.nope.level not found",
    );
    // The engine is still there.
    let data = chain(vec![
        node("start", "trigger", json!({})),
        node("out", "output", json!({"outputVariables": {"ok": true}})),
    ]);
    let answer = app
        .call(
            "POST",
            "/workflow/flows/design/test",
            Some(&admin),
            Some(json!({"design_data": data})),
        )
        .await;
    assert_eq!(ok(&answer)["output"], json!({"ok": true}));
}

fn http_design() -> String {
    design(
        vec![
            node(
                "in",
                "httpIn",
                json!({"method": "POST", "url": "/sensors/{sensor}"}),
            ),
            node(
                "stamp",
                "code",
                json!({"expression": {"language": "rhai",
                "expression": "let m = msg; m.stamp = timestamp_ms(); m.kind = m[\"type\"]; m"}}),
            ),
            node(
                "kind",
                "choice",
                json!({"choice": {"when": [{"id": "temp", "conditions": [
                {"expressionValue": {"key": "{{stamp.kind}}", "operator": "EQ", "value": "temp"}}]}],
                "otherwise": {"id": "other"}}}),
            ),
            node(
                "alarm",
                "code",
                json!({"expression": {"language": "rhai",
                "expression": "#{alarm: value > 30, sensor: pathVariables.sensor}"}}),
            ),
            node("out", "output", json!({})),
        ],
        vec![
            edge("e1", "in", "stamp", None),
            edge("e2", "stamp", "kind", None),
            edge("e3", "kind", "alarm", Some("temp")),
            edge("e4", "alarm", "out", None),
        ],
    )
}

#[tokio::test]
async fn an_http_in_flow_answers_its_output_to_requests_carrying_its_credential() {
    let (app, admin) = setup().await;
    let flow = save(&app, &admin, &http_design(), true).await;
    let path = format!("/workflow/flows/{flow}/http-credential");
    let answer = app.call("POST", &path, Some(&admin), None).await;
    let credential = ok(&answer)["credential"].as_str().unwrap().to_owned();
    assert!(credential.starts_with(&format!("{flow}.")));

    let post = |credential: String, path: &'static str, body: Value| {
        app.client()
            .post(app.url(path))
            .bearer_auth(credential)
            .json(&body)
            .send()
    };
    let res = post(
        credential.clone(),
        "/workflow-http-in/sensors/s7",
        json!({"type": "temp", "value": 31.5}),
    )
    .await
    .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({"alarm": true, "sensor": "s7"}));

    // Another kind takes the otherwise branch, which has no output: `{}`.
    let res = post(
        credential.clone(),
        "/workflow-http-in/sensors/s7",
        json!({"type": "hum", "value": 99}),
    )
    .await
    .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({}));
    let runs = wait_for_logs(&app, &admin, &flow, 2).await;
    assert!(runs.iter().all(|r| r["status"] == "SUCCESS"));

    // A wrong secret, a wrong path, a wrong method.
    let wrong = format!("{flow}.{}", "0".repeat(64));
    let res = post(wrong, "/workflow-http-in/sensors/s7", json!({}))
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error_code"], "authentication_failed");
    let res = post(credential.clone(), "/workflow-http-in/elsewhere", json!({}))
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
    let res = app
        .client()
        .get(app.url("/workflow-http-in/sensors/s7"))
        .bearer_auth(&credential)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let res = app
        .client()
        .post(app.url("/workflow-http-in/sensors/s7"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);

    // A failing run (no `value` for the script) answers 422 with the node's message.
    let res = post(
        credential.clone(),
        "/workflow-http-in/sensors/s7",
        json!({"type": "temp"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status().as_u16(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error_code"], "workflow_run_failed");
    assert!(
        body["error_message"]
            .as_str()
            .unwrap()
            .starts_with("ALARM: ")
    );

    // Disabled, the credential opens nothing.
    let answer = app
        .call(
            "GET",
            &format!("/workflow/flows/{flow}/disable"),
            Some(&admin),
            None,
        )
        .await;
    ok(&answer);
    let res = post(
        credential,
        "/workflow-http-in/sensors/s7",
        json!({"type": "temp"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status().as_u16(), 401);
}

#[tokio::test]
async fn a_trigger_flow_runs_through_the_api_and_a_timer_flow_on_its_interval() {
    let (app, admin) = setup().await;
    let data = chain(vec![
        node(
            "start",
            "trigger",
            json!({"entityConfigs": [{"identify": "n", "name": "N", "type": "LONG", "required": true}]}),
        ),
        node(
            "out",
            "output",
            json!({"outputVariables": {"twice": "{{start.n}}{{start.n}}"}}),
        ),
    ]);
    let flow = save(&app, &admin, &data, true).await;
    let path = format!("/workflow/flows/{flow}/trigger");
    let answer = app
        .call(
            "POST",
            &path,
            Some(&admin),
            Some(json!({"input": {"n": 4}})),
        )
        .await;
    let run = ok(&answer);
    assert_eq!(run["status"], "SUCCESS");
    assert_eq!(run["output"], json!({"twice": "44"}));
    let answer = app
        .call(
            "POST",
            &path,
            Some(&admin),
            Some(json!({"input": {"n": "four"}})),
        )
        .await;
    assert_eq!(
        ok(&answer)["message"],
        "START: input `n` must be a LONG, got \"four\""
    );
    let runs = wait_for_logs(&app, &admin, &flow, 2).await;
    assert_eq!(runs[0]["status"], "ERROR");

    // A disabled trigger flow cannot be started; nor can another tenant's id.
    ok(&app
        .call(
            "GET",
            &format!("/workflow/flows/{flow}/disable"),
            Some(&admin),
            None,
        )
        .await);
    let answer = app
        .call(
            "POST",
            &path,
            Some(&admin),
            Some(json!({"input": {"n": 4}})),
        )
        .await;
    not_found(&answer, &flow);

    let timer = chain(vec![
        node(
            "tick",
            "simpleTimer",
            json!({"timerSettings": {"type": "INTERVAL", "intervalTime": 1, "intervalTimeUnit": "SECONDS"}}),
        ),
        node(
            "out",
            "output",
            json!({"outputVariables": {"at": "{{tick.timestamp}}"}}),
        ),
    ]);
    let flow = save(&app, &admin, &timer, true).await;
    let runs = wait_for_logs(&app, &admin, &flow, 2).await;
    assert!(runs.iter().all(|r| r["status"] == "SUCCESS"));
    ok(&app
        .call(
            "GET",
            &format!("/workflow/flows/{flow}/disable"),
            Some(&admin),
            None,
        )
        .await);
    let stopped = logs(&app, &admin, &flow, json!({})).await["total"].clone();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(logs(&app, &admin, &flow, json!({})).await["total"], stopped);
}

#[tokio::test]
async fn a_node_test_runs_one_node_with_its_input() {
    let (app, admin) = setup().await;
    let body = json!({
        "node": node("calc", "code", json!({"expression": {"language": "rhai", "expression": "#{sum: a + n1.b}"}})),
        "input": {"a": 2, "n1": {"b": 3}}
    });
    let answer = app
        .call(
            "POST",
            "/workflow/flows/node/test",
            Some(&admin),
            Some(body),
        )
        .await;
    let run = ok(&answer);
    assert_eq!(run["status"], "SUCCESS", "{run}");
    assert_eq!(run["trace_info"][0]["output"], r#"{"sum":5}"#);

    // Bad input: an unknown component, parameters its schema refuses, not a node at all.
    let body = json!({"node": node("x", "teleport", json!({}))});
    let answer = app
        .call(
            "POST",
            "/workflow/flows/node/test",
            Some(&admin),
            Some(body),
        )
        .await;
    invalid(&answer, "unknown component `teleport`");
    let body = json!({"node": node("x", "webhook", json!({}))});
    let answer = app
        .call(
            "POST",
            "/workflow/flows/node/test",
            Some(&admin),
            Some(body),
        )
        .await;
    invalid(&answer, "node.parameters.webhookUrl");
    let body = json!({"node": {"id": 5}});
    let answer = app
        .call(
            "POST",
            "/workflow/flows/node/test",
            Some(&admin),
            Some(body),
        )
        .await;
    invalid(&answer, "node.id");
    let body = json!({"design_data": "{\"nodes\": [}"});
    let answer = app
        .call(
            "POST",
            "/workflow/flows/design/test",
            Some(&admin),
            Some(body),
        )
        .await;
    invalid(&answer, "design_data is not valid JSON");
    let body = json!({"design_data": chain(vec![node("only", "output", json!({}))])});
    let answer = app
        .call(
            "POST",
            "/workflow/flows/design/test",
            Some(&admin),
            Some(body),
        )
        .await;
    invalid(&answer, "entry");
}

#[tokio::test]
async fn running_and_reading_logs_needs_the_codes_and_stays_in_the_tenant() {
    let (app, admin) = setup().await;
    let flow = save(&app, &admin, &listener_design(), true).await;
    set_level(&app, &admin, "l1", 70).await;
    let runs = wait_for_logs(&app, &admin, &flow, 1).await;
    let log = runs[0]["id"].as_str().unwrap().to_owned();

    // A user with workflow.view only: reads logs, cannot run anything.
    let viewer = user_with(&app, &admin, "viewer@weir.test", &["workflow.view"], None).await;
    let design = json!({"design_data": listener_design()});
    let answer = app
        .call(
            "POST",
            "/workflow/flows/design/test",
            Some(&viewer),
            Some(design.clone()),
        )
        .await;
    forbidden(&answer);
    let answer = app
        .call(
            "POST",
            &format!("/workflow/flows/{flow}/http-credential"),
            Some(&viewer),
            None,
        )
        .await;
    forbidden(&answer);
    // ...and sees no logs of a flow not granted to them.
    let answer = app
        .call(
            "GET",
            &format!("/workflow/flows/logs/{log}"),
            Some(&viewer),
            None,
        )
        .await;
    not_found(&answer, &log);

    // Another tenant's admin: the flow and its logs do not exist.
    add_tenant(&app, ACME).await.unwrap();
    ok(&register_in(&app, ACME, "boss@acme.test", PASSWORD).await);
    let (other, _) = login_in(&app, ACME, "boss@acme.test", PASSWORD).await;
    for (method, path, body, id) in [
        ("GET", format!("/workflow/flows/logs/{log}"), None, &log),
        (
            "POST",
            format!("/workflow/flows/{flow}/logs/search"),
            Some(json!({})),
            &flow,
        ),
        (
            "POST",
            format!("/workflow/flows/{flow}/http-credential"),
            None,
            &flow,
        ),
        (
            "POST",
            format!("/workflow/flows/{flow}/trigger"),
            Some(json!({})),
            &flow,
        ),
    ] {
        let answer = app.call(method, &path, Some(&other), body).await;
        not_found(&answer, id);
    }
    let answer = app
        .call(
            "GET",
            "/workflow/flows/logs/not-a-number",
            Some(&admin),
            None,
        )
        .await;
    refused(&answer, 400, "parameter_validation_failed");
}

/// Runs one node through `POST /workflow/flows/node/test` and answers the run.
pub(crate) async fn test_node(app: &TestApp, who: &Session, node: Value) -> Value {
    let answer = app
        .call(
            "POST",
            "/workflow/flows/node/test",
            Some(who),
            Some(json!({ "node": node })),
        )
        .await;
    ok(&answer).clone()
}

#[tokio::test]
async fn a_service_invocation_calls_the_service_through_the_checked_path() {
    let (app, admin) = setup().await;
    let call = |value: Value| {
        node(
            "call",
            "serviceInvocation",
            json!({"serviceInvocationSetting": {"serviceEntity": "lamp.device.l1.blink",
                "serviceParams": {"lamp.device.l1.blink": value}}}),
        )
    };
    let run = test_node(&app, &admin, call(json!(true))).await;
    assert_eq!(run["status"], "SUCCESS", "{run}");
    assert_eq!(
        serde_json::from_str::<Value>(run["trace_info"][0]["output"].as_str().unwrap()).unwrap(),
        json!({"service": "lamp.device.l1.blink", "params": {"lamp.device.l1.blink": true}})
    );
    // A value of the wrong type fails the node with the API's reason; a property named as
    // the service is refused before anything runs.
    let run = test_node(&app, &admin, call(json!("soon"))).await;
    assert_eq!(run["status"], "ERROR");
    assert!(
        run["message"]
            .as_str()
            .unwrap()
            .contains("lamp.device.l1.blink"),
        "{run}"
    );
    let wrong = node(
        "call",
        "serviceInvocation",
        json!({"serviceInvocationSetting": {"serviceEntity": "lamp.device.l1.mode",
            "serviceParams": {"lamp.device.l1.mode": "x"}}}),
    );
    let answer = app
        .call(
            "POST",
            "/workflow/flows/node/test",
            Some(&admin),
            Some(json!({ "node": wrong })),
        )
        .await;
    invalid(&answer, "entity lamp.device.l1.mode: not a SERVICE");
}

#[tokio::test]
async fn an_email_node_sends_through_its_own_smtp_server() {
    let sink = SmtpSink::start();
    let (app, admin) = setup().await;
    let mail = node(
        "mail",
        "email",
        json!({"emailConfig": {"provider": "SMTP", "smtpConfig": {
                "host": sink.addr().ip().to_string(), "port": sink.addr().port(), "encryption": "NONE"}},
               "recipients": ["a@weir.test", "b@weir.test"], "subject": "Hello {{name}}",
               "content": "Line one"}),
    );
    let answer = app
        .call(
            "POST",
            "/workflow/flows/node/test",
            Some(&admin),
            Some(json!({"node": mail, "input": {"name": "Ada"}})),
        )
        .await;
    let run = ok(&answer);
    assert_eq!(run["status"], "SUCCESS", "{run}");
    let mails = sink.messages();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].recipients, ["a@weir.test", "b@weir.test"]);
    assert!(
        mails[0].data.contains("Subject: Hello Ada"),
        "{}",
        mails[0].data
    );

    // useSystemSettings without a system server fails the node, saying so.
    let mail = node(
        "mail",
        "email",
        json!({"emailConfig": {"useSystemSettings": true}, "recipients": ["a@weir.test"],
               "subject": "x"}),
    );
    let run = test_node(&app, &admin, mail).await;
    assert_eq!(run["status"], "ERROR");
    assert!(
        run["message"]
            .as_str()
            .unwrap()
            .contains("no system SMTP server is configured"),
        "{run}"
    );
}

#[tokio::test]
async fn by_default_a_webhook_cannot_reach_this_machine_and_a_run_stops_at_its_time_limit() {
    let receiver = HttpReceiver::answering(200, "{}");
    let app = TestApp::spawn_with(|s| {
        s.workflow.run_timeout_secs = 1;
        s.workflow.script_max_operations = 0;
    })
    .await;
    let admin = app.register_admin().await;
    let hook = node(
        "hook",
        "webhook",
        json!({"webhookUrl": receiver.url("/in")}),
    );
    let run = test_node(&app, &admin, hook).await;
    assert_eq!(run["status"], "ERROR");
    assert!(
        run["message"].as_str().unwrap().ends_with(
            "is not reached: the outbound policy refuses loopback, private, link-local \
                 and other internal addresses unless the operator opens them in outbound.allow"
        ),
        "{run}"
    );
    assert!(receiver.requests().is_empty());

    let spin = node(
        "spin",
        "code",
        json!({"expression": {"language": "rhai", "expression": "loop { }"}}),
    );
    let started = std::time::Instant::now();
    let run = test_node(&app, &admin, spin).await;
    assert_eq!(run["status"], "ERROR");
    assert!(
        run["message"].as_str().unwrap().contains("time limit"),
        "{run}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_design_may_name_only_entities_its_author_may_use() {
    let (app, admin) = setup().await;
    let add = |name: &'static str| {
        let body = json!({"name": name, "integration": "lamp"});
        app.call("POST", "/device", Some(&admin), Some(body))
    };
    let l3 = ok(&add("L3").await)["device_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Reads l3, writes l4: the author was granted l3 only, and may not edit values.
    let codes = [
        "workflow.view",
        "workflow.add",
        "workflow.edit",
        "entity_data.view",
    ];
    let author = user_with(
        &app,
        &admin,
        "author@weir.test",
        &codes,
        Some(("DEVICE", &l3)),
    )
    .await;
    ok(&add("L4").await);
    let data = chain(vec![
        node(
            "listen",
            "eventListener",
            json!({"entities": ["lamp.device.l3.level"]}),
        ),
        node(
            "set",
            "entityAssigner",
            json!({"exchangePayload": {"lamp.device.l4.mode": "on", "lamp.device.l3.blink": true}}),
        ),
    ]);
    let body = json!({"name": "Sneaky", "design_data": data});
    let answer = app
        .call("POST", "/workflow/flows/design", Some(&author), Some(body))
        .await;
    let message = refused(&answer, 400, "parameter_validation_failed");
    assert_eq!(
        message,
        "design_data: node \"set\" (SET): parameters.exchangePayload[\"lamp.device.l3.blink\"]: \
         entity lamp.device.l3.blink: not a PROPERTY; node \"set\" (SET): \
         parameters.exchangePayload[\"lamp.device.l4.mode\"]: entity lamp.device.l4.mode not found"
    );
    // The same check guards design tests and node tests: nothing is read or written.
    let answer = app
        .call(
            "POST",
            "/workflow/flows/design/test",
            Some(&author),
            Some(json!({"design_data": data})),
        )
        .await;
    invalid(&answer, "entity lamp.device.l4.mode not found");
    let reader = node(
        "read",
        "entitySelector",
        json!({"entities": ["lamp.device.l1.level"]}),
    );
    let answer = app
        .call(
            "POST",
            "/workflow/flows/node/test",
            Some(&author),
            Some(json!({"node": reader})),
        )
        .await;
    invalid(&answer, "entity lamp.device.l1.level not found");
    // Their own device, written without entity_data.edit: refused, saying why.
    let mine = chain(vec![
        node("start", "trigger", json!({})),
        node(
            "set",
            "entityAssigner",
            json!({"exchangePayload": {"lamp.device.l3.mode": "on"}}),
        ),
    ]);
    let body = json!({"name": "Mine", "design_data": mine});
    let answer = app
        .call("POST", "/workflow/flows/design", Some(&author), Some(body))
        .await;
    invalid(
        &answer,
        "changing it needs the `entity_data.edit` permission",
    );
    // Reading their own device is fine; the admin may name any entity.
    let reads = chain(vec![
        node(
            "listen",
            "eventListener",
            json!({"entities": ["lamp.device.l3.level"]}),
        ),
        node("out", "output", json!({})),
    ]);
    let body = json!({"name": "Reads", "design_data": reads});
    ok(&app
        .call("POST", "/workflow/flows/design", Some(&author), Some(body))
        .await);
    save(
        &app,
        &admin,
        &data.replace("\"lamp.device.l3.blink\":true,", ""),
        false,
    )
    .await;
}

#[tokio::test]
async fn a_tenant_runs_at_most_its_bound_at_once_and_a_run_that_waits_too_long_is_refused() {
    use weir_outbound::testing::Reply;
    let receiver = HttpReceiver::start(|_| Reply::Hang);
    let app = TestApp::spawn_with(|s| {
        s.workflow.max_runs_per_tenant = 1;
        s.workflow.run_timeout_secs = 2;
        // The deprecated setting still opens this machine (and every other address).
        s.workflow.webhook.allow_private = true;
    })
    .await;
    let admin = app.register_admin().await;
    // Each run waits on a webhook that never answers, until the run's time limit.
    let data = chain(vec![
        node("start", "trigger", json!({})),
        node(
            "hook",
            "webhook",
            json!({"webhookUrl": receiver.url("/slow")}),
        ),
    ]);
    let flow = save(&app, &admin, &data, true).await;
    let path = format!("/workflow/flows/{flow}/trigger");
    let run = |delay: u64| {
        let (app, admin, path) = (&app, &admin, path.clone());
        async move {
            tokio::time::sleep(Duration::from_millis(delay)).await;
            app.call("POST", &path, Some(admin), Some(json!({}))).await
        }
    };
    // The first holds the only slot for 2 s; the second gets it then; the third cannot get
    // one within its 2 s of waiting.
    let (first, second, third) = tokio::join!(run(0), run(300), run(600));
    for answer in [&first, &second] {
        let run = ok(answer);
        assert_eq!(run["status"], "ERROR", "{run}");
        assert!(
            run["message"].as_str().unwrap().contains("timed out"),
            "{run}"
        );
    }
    let message = refused(&third, 429, "workflow_busy");
    assert_eq!(
        message,
        "1 runs of this tenant are already going on; try again later"
    );
}

// Loops: flows started by each other's writes stop at `workflow.max_chain_depth`.

/// A server with lamps `l1` and `l2`, and `max_chain_depth` when given (else the default).
async fn setup_chains(max_chain_depth: Option<usize>) -> (TestApp, Session) {
    setup_tweaked(move |s| {
        if let Some(depth) = max_chain_depth {
            s.workflow.max_chain_depth = depth;
        }
    })
    .await
}

async fn save_named(app: &TestApp, who: &Session, name: &str, design_data: &str) -> String {
    let body = json!({"name": name, "enabled": true, "design_data": design_data});
    let answer = app
        .call("POST", "/workflow/flows/design", Some(who), Some(body))
        .await;
    ok(&answer)["id"].as_str().unwrap().to_owned()
}

/// When `from`'s level changes, sets `to`'s level to it plus one.
fn increment(from: &str, to: &str) -> String {
    let listened = format!("lamp.device.{from}.level");
    chain(vec![
        node("listen", "eventListener", json!({"entities": [listened]})),
        node(
            "inc",
            "code",
            json!({"expression": {"language": "rhai", "expression": "#{next: level + 1}"},
                   "inputArguments": {"level": format!("{{{{listen.{listened}}}}}")}}),
        ),
        node(
            "set",
            "entityAssigner",
            json!({"exchangePayload": {format!("lamp.device.{to}.level"): "{{inc.next}}"}}),
        ),
    ])
}

/// Waits until the flow has logged `n` runs, then a little longer, and answers them all
/// (newest first), failing if more came.
async fn settled_logs(app: &TestApp, who: &Session, flow: &str, n: usize) -> Vec<Value> {
    wait_for_logs(app, who, flow, n).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let page = logs(app, who, flow, json!({"page_size": 100})).await;
    let runs = page["content"].as_array().unwrap().clone();
    assert_eq!(runs.len(), n, "{flow}: {runs:#?}");
    runs
}

async fn log_detail(app: &TestApp, who: &Session, run: &Value) -> Value {
    let path = format!("/workflow/flows/logs/{}", run["id"].as_str().unwrap());
    ok(&app.call("GET", &path, Some(who), None).await).clone()
}

/// The value of `key` the run started with (or, stopped, would have): its entry node's
/// input.
async fn started_with(app: &TestApp, who: &Session, run: &Value, key: &str) -> Value {
    let detail = log_detail(app, who, run).await;
    let input = detail["trace_info"][0]["input"].as_str().unwrap();
    serde_json::from_str::<Value>(input).unwrap()[key].clone()
}

fn statuses(runs: &[Value]) -> Vec<&str> {
    runs.iter().map(|r| r["status"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_flow_that_assigns_what_it_listens_to_stops_after_max_chain_depth_runs() {
    let (app, admin) = setup_chains(Some(3)).await;
    let flow = save_named(&app, &admin, "Count up", &increment("l1", "l1")).await;

    // 10 (the API, depth 0) starts run 1, which writes 11 (depth 1), which starts run 2,
    // which writes 12, which starts run 3, which writes 13: a 4th run is not started.
    set_level(&app, &admin, "l1", 10).await;
    let runs = settled_logs(&app, &admin, &flow, 4).await;
    assert_eq!(statuses(&runs), ["ERROR", "SUCCESS", "SUCCESS", "SUCCESS"]);
    let key = "lamp.device.l1.level";
    let mut started = Vec::new();
    for run in &runs {
        started.push(started_with(&app, &admin, run, key).await);
    }
    assert_eq!(started, [json!(13), json!(12), json!(11), json!(10)]);

    // The stopped attempt's log says why, and shows what it would have started with.
    let stopped = &runs[0];
    let why = "stopped: this run would be the 4th in a chain of flows triggered by each \
               other's writes (limit 3, workflow.max_chain_depth): \
               \"Count up\" → \"Count up\" → \"Count up\" → \"Count up\"";
    assert_eq!(stopped["message"], why);
    assert_eq!(stopped["time_cost"], 0);
    let detail = log_detail(&app, &admin, stopped).await;
    let trace = detail["trace_info"].as_array().unwrap();
    assert_eq!(trace.len(), 1, "{detail}");
    assert_eq!(trace[0]["node_id"], "listen");
    assert_eq!(trace[0]["status"], "ERROR");
    assert_eq!(trace[0]["error_message"], why);
    let answer = logs(&app, &admin, &flow, json!({"status": "ERROR"})).await;
    assert_eq!(answer["total"], 1);

    // A new write from outside starts a chain of its own.
    set_level(&app, &admin, "l1", 50).await;
    let runs = settled_logs(&app, &admin, &flow, 8).await;
    assert_eq!(
        statuses(&runs[..4]),
        ["ERROR", "SUCCESS", "SUCCESS", "SUCCESS"]
    );
    assert_eq!(started_with(&app, &admin, &runs[0], key).await, json!(53));
}

#[tokio::test]
async fn two_flows_that_start_each_other_stop_likewise() {
    let (app, admin) = setup_chains(Some(3)).await;
    let ping = save_named(&app, &admin, "Ping", &increment("l1", "l2")).await;
    let pong = save_named(&app, &admin, "Pong", &increment("l2", "l1")).await;

    // l1 = 10 → Ping (1st) sets l2 = 11 → Pong (2nd) sets l1 = 12 → Ping (3rd) sets
    // l2 = 13 → Pong would be the 4th.
    set_level(&app, &admin, "l1", 10).await;
    let pings = settled_logs(&app, &admin, &ping, 2).await;
    let pongs = settled_logs(&app, &admin, &pong, 2).await;
    assert_eq!(statuses(&pings), ["SUCCESS", "SUCCESS"]);
    assert_eq!(statuses(&pongs), ["ERROR", "SUCCESS"]);
    assert_eq!(
        pongs[0]["message"],
        "stopped: this run would be the 4th in a chain of flows triggered by each other's \
         writes (limit 3, workflow.max_chain_depth): \"Ping\" → \"Pong\" → \"Ping\" → \"Pong\""
    );
    assert_eq!(
        started_with(&app, &admin, &pongs[0], "lamp.device.l2.level").await,
        json!(13)
    );
    assert_eq!(
        started_with(&app, &admin, &pings[0], "lamp.device.l1.level").await,
        json!(12)
    );
}

#[tokio::test]
async fn a_flow_started_from_outside_that_sets_an_entity_nobody_listens_to_runs_once() {
    // The smallest limit: a value from outside starts runs, a value a run wrote does not.
    let (app, admin) = setup_chains(Some(1)).await;
    let mirror = chain(vec![
        node(
            "listen",
            "eventListener",
            json!({"entities": ["lamp.device.l1.level"]}),
        ),
        node(
            "set",
            "entityAssigner",
            json!({"exchangePayload": {"lamp.device.l2.mode": "seen {{listen.lamp.device.l1.level}}"}}),
        ),
    ]);
    let flow = save_named(&app, &admin, "Mirror", &mirror).await;
    set_level(&app, &admin, "l1", 10).await;
    let runs = settled_logs(&app, &admin, &flow, 1).await;
    assert_eq!(runs[0]["status"], "SUCCESS", "{runs:#?}");
    assert_eq!(runs[0]["message"], "");
    assert_eq!(
        latest(&app, &admin, "lamp.device.l2.mode").await,
        json!("seen 10")
    );

    // A flow that listens to what Mirror wrote would be the 2nd of the chain: stopped.
    let echo = chain(vec![
        node(
            "listen",
            "eventListener",
            json!({"entities": ["lamp.device.l2.mode"]}),
        ),
        node(
            "set",
            "entityAssigner",
            json!({"exchangePayload": {"lamp.device.l2.level": 1}}),
        ),
    ]);
    let echo = save_named(&app, &admin, "Echo", &echo).await;
    set_level(&app, &admin, "l1", 20).await;
    settled_logs(&app, &admin, &flow, 2).await;
    let echoes = settled_logs(&app, &admin, &echo, 1).await;
    assert_eq!(
        echoes[0]["message"],
        "stopped: this run would be the 2nd in a chain of flows triggered by each other's \
         writes (limit 1, workflow.max_chain_depth): \"Mirror\" → \"Echo\""
    );
    // The same value written from outside starts Echo.
    let body = json!({"exchange": {"lamp.device.l2.mode": "by hand"}});
    ok(&app
        .call("POST", "/entity/property/update", Some(&admin), Some(body))
        .await);
    let echoes = settled_logs(&app, &admin, &echo, 2).await;
    assert_eq!(statuses(&echoes), ["SUCCESS", "ERROR"]);

    // A triggered run is the first of its chain too: what it writes starts no listener.
    let setter = chain(vec![
        node("start", "trigger", json!({})),
        node(
            "set",
            "entityAssigner",
            json!({"exchangePayload": {"lamp.device.l1.level": 30}}),
        ),
    ]);
    let setter = save_named(&app, &admin, "Setter", &setter).await;
    let path = format!("/workflow/flows/{setter}/trigger");
    let answer = app
        .call("POST", &path, Some(&admin), Some(json!({"input": {}})))
        .await;
    assert_eq!(ok(&answer)["status"], "SUCCESS");
    let runs = settled_logs(&app, &admin, &flow, 3).await;
    assert_eq!(
        runs[0]["message"],
        "stopped: this run would be the 2nd in a chain of flows triggered by each other's \
         writes (limit 1, workflow.max_chain_depth): \"Setter\" → \"Mirror\""
    );
}

#[tokio::test]
async fn by_default_a_chain_stops_after_eight_runs() {
    let (app, admin) = setup_chains(None).await;
    let flow = save_named(&app, &admin, "Count up", &increment("l1", "l1")).await;
    set_level(&app, &admin, "l1", 0).await;
    let runs = settled_logs(&app, &admin, &flow, 9).await;
    assert_eq!(statuses(&runs[..1]), ["ERROR"]);
    assert!(statuses(&runs[1..]).iter().all(|s| *s == "SUCCESS"));
    let message = runs[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "stopped: this run would be the 9th in a chain of flows triggered by each \
             other's writes (limit 8, workflow.max_chain_depth): \"Count up\" → "
        ),
        "{message}"
    );
    assert_eq!(message.matches("\"Count up\"").count(), 9, "{message}");
    assert_eq!(
        started_with(&app, &admin, &runs[0], "lamp.device.l1.level").await,
        json!(8)
    );
}

/// A design as the console writes it: `#{properties.<node>['<key>']}` references (one in
/// the `${...}` its email editor wraps them in), a `js` code node with the console's own
/// template, a `choice` with a `js` script branch and a condition branch.
fn console_design() -> String {
    design(
        vec![
            node(
                "node_start",
                "trigger",
                json!({"entityConfigs": [
                    {"identify": "a", "name": "A", "type": "LONG", "required": true},
                    {"identify": "b", "name": "B", "type": "LONG", "required": true}]}),
            ),
            node(
                "node_calc",
                "code",
                json!({"expression": {"language": "js",
                                      "expression": "return {\n  result: arg1 + arg2,\n};"},
                       "inputArguments": {"arg1": "#{properties.node_start['a']}",
                                          "arg2": "#{properties.node_start['b']}"},
                       "payload": [{"name": "result", "type": "LONG"}]}),
            ),
            node(
                "node_check",
                "choice",
                json!({"choice": {
                    "when": [
                        {"id": "even", "logicOperator": "AND", "expressionType": "js",
                         "conditions": [{"id": "s1",
                             "expressionValue": "#{properties.node_calc['result']} > 40 && result % 2 === 0"}]},
                        {"id": "above", "logicOperator": "AND", "expressionType": "condition",
                         "conditions": [{"id": "s2", "expressionValue": {
                             "key": "#{properties.node_calc['result']}", "operator": "GT",
                             "value": "#{properties.node_start['b']}"}}]}],
                    "otherwise": {"id": "else"}}}),
            ),
            node(
                "node_even",
                "output",
                json!({"outputVariables": {
                    "sum": "#{properties.node_calc['result']}",
                    "text": "${#{properties.node_start['a']}} + #{properties.node_start['b']} is even"}}),
            ),
            node(
                "node_above",
                "output",
                json!({"outputVariables": {"branch": "above", "a": "#{properties.node_start['a']}"}}),
            ),
            node(
                "node_else",
                "output",
                json!({"outputVariables": {"branch": "else"}}),
            ),
        ],
        vec![
            edge("e1", "node_start", "node_calc", None),
            edge("e2", "node_calc", "node_check", None),
            edge("e3", "node_check", "node_even", Some("even")),
            edge("e4", "node_check", "node_above", Some("above")),
            edge("e5", "node_check", "node_else", Some("else")),
        ],
    )
}

#[tokio::test]
async fn a_design_in_the_consoles_form_runs_its_references_and_js_scripts() {
    let (app, admin) = setup().await;
    let data = console_design();
    for (input, output) in [
        (
            json!({"a": 2, "b": 40}),
            json!({"sum": 42, "text": "2 + 40 is even"}),
        ),
        (json!({"a": 2, "b": 39}), json!({"branch": "above", "a": 2})),
        (json!({"a": -3, "b": 40}), json!({"branch": "else"})),
    ] {
        let body = json!({"design_data": data, "input": input});
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
        assert_eq!(run["output"], output, "{input}");
    }

    // A node test: the input stands for the nodes referred to.
    let calc = serde_json::from_str::<Value>(&data).unwrap()["nodes"][1].clone();
    let body = json!({"node": calc, "input": {"node_start": {"a": 5, "b": 6}}});
    let answer = app
        .call(
            "POST",
            "/workflow/flows/node/test",
            Some(&admin),
            Some(body),
        )
        .await;
    let run = ok(&answer);
    assert_eq!(run["status"], "SUCCESS", "{run}");
    assert_eq!(run["trace_info"][0]["output"], r#"{"result":11}"#);

    // A js error names the node, the line and the error.
    let broken = data.replace("arg1 + arg2", "arg1.nope.x");
    let body = json!({"design_data": broken, "input": {"a": 1, "b": 2}});
    let answer = app
        .call(
            "POST",
            "/workflow/flows/design/test",
            Some(&admin),
            Some(body),
        )
        .await;
    let run = ok(&answer);
    assert_eq!(run["status"], "ERROR");
    let message = run["message"].as_str().unwrap();
    assert!(
        message.starts_with("NODE_CALC: script error at line 2") && message.contains("TypeError"),
        "{message}"
    );
}

/// A design as the console v1.1.1 saved it when driven in Chromium (tests/console-e2e): the
/// trigger's input keyed by its `identify`, and an output node, a kind the console learnt
/// from `GET /workflow/components`, named by its React Flow `type` alone (no
/// `componentName`).
#[tokio::test]
async fn a_design_saved_by_the_console_runs_and_saves_with_its_output_node_named_by_type() {
    let (app, admin) = setup().await;
    let data = json!({
        "nodes": [
            {"id": "node_t", "type": "trigger", "componentName": "trigger",
             "position": {"x": 0, "y": 0},
             "data": {"nodeName": "Trigger", "parameters": {"entityConfigs": [
                 {"identify": "param_a", "name": "a", "type": "LONG"}]}},
             "measured": {"width": 240, "height": 48}},
            {"id": "node_c", "type": "code", "componentName": "code",
             "position": {"x": 288, "y": 0},
             "data": {"nodeName": "Code", "parameters": {
                 "expression": {"language": "js",
                                "expression": "return {\n  result: arg1 + arg2,\n};"},
                 "inputArguments": {"arg1": "#{properties.node_t['param_a']}",
                                    "arg2": "#{properties.node_t['param_a']}"},
                 "payload": [{"name": "result", "type": "LONG"}]}}},
            {"id": "node_o", "type": "output", "position": {"x": 576, "y": 0},
             "data": {"nodeName": "Output", "parameters": {
                 "outputVariables": {"doubled": "#{properties.node_c['result']}"}}}}
        ],
        "edges": [
            {"id": "e1", "type": "addable", "source": "node_t", "target": "node_c", "data": {}},
            {"id": "e2", "type": "addable", "source": "node_c", "target": "node_o", "data": {}}
        ],
        "viewport": {"x": 75, "y": 405, "zoom": 1.2}
    })
    .to_string();

    let body = json!({"design_data": data, "input": {"param_a": 13}});
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
    assert_eq!(run["output"], json!({"doubled": 26}));

    let body = json!({"name": "Workflow1796660481009", "enabled": true, "design_data": data});
    let answer = app
        .call("POST", "/workflow/flows/design", Some(&admin), Some(body))
        .await;
    let saved = ok(&answer);
    assert_eq!(saved["version"], 1);
    let id = saved["id"].as_str().unwrap();
    let answer = app
        .call(
            "GET",
            &format!("/workflow/flows/{id}/design"),
            Some(&admin),
            None,
        )
        .await;
    let stored: Value = serde_json::from_str(ok(&answer)["design_data"].as_str().unwrap()).unwrap();
    assert_eq!(stored["nodes"][2]["type"], "output");
    assert_eq!(stored["viewport"]["zoom"], 1.2);

    // Neither a componentName nor a type: refused, naming the node.
    let mut nameless: Value = serde_json::from_str(&data).unwrap();
    nameless["nodes"][2].as_object_mut().unwrap().remove("type");
    let nameless = nameless.to_string();
    let body = json!({"design_data": nameless, "input": {"param_a": 1}});
    let answer = app
        .call(
            "POST",
            "/workflow/flows/design/test",
            Some(&admin),
            Some(body),
        )
        .await;
    let message = refused(&answer, 400, "parameter_validation_failed");
    assert!(
        message.contains("nodes[2]") && message.contains("componentName"),
        "{message}"
    );
}

#[tokio::test]
async fn a_design_naming_a_language_weir_cannot_run_is_refused_with_the_languages_it_can() {
    let (app, admin) = setup().await;
    for language in ["groovy", "mvel", "python"] {
        let data = console_design().replace(
            "\"language\":\"js\"",
            &format!("\"language\":\"{language}\""),
        );
        assert!(data.contains(language));
        for path in [
            "/workflow/flows/design/validate",
            "/workflow/flows/design/test",
            "/workflow/flows/design",
        ] {
            let body = json!({"design_data": data, "input": {"a": 1, "b": 2}, "name": "Sum"});
            let message = refused(
                &app.call("POST", path, Some(&admin), Some(body)).await,
                400,
                "parameter_validation_failed",
            );
            assert_eq!(
                message,
                format!(
                    "design_data: node \"node_calc\" (NODE_CALC): parameters.expression.language: \
                     must be one of rhai, js, not \"{language}\""
                ),
                "{path}"
            );
        }
    }
}

// No trigger lost: every event a flow listens to starts a run, however far runs fall behind.

/// How many runs the flow has logged, once the count has stopped moving.
async fn settled_total(app: &TestApp, who: &Session, flow: &str, expected: i64) -> i64 {
    let mut total = 0;
    for _ in 0..600 {
        total = logs(app, who, flow, json!({}))
            .await
            .get("total")
            .and_then(Value::as_i64)
            .unwrap();
        if total >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = logs(app, who, flow, json!({})).await["total"]
        .as_i64()
        .unwrap();
    assert_eq!(again, total, "more runs came after the count settled");
    total
}

#[tokio::test]
async fn every_event_a_flow_listens_to_starts_a_run_in_order_even_when_runs_fall_behind() {
    // A one-event bus queue (a reader falling behind would lose events), one run slot,
    // and room for four waiting runs (writes then wait for room).
    let (app, admin) = setup_tweaked(|s| {
        s.iot.event_queue = 1;
        s.workflow.max_runs_per_tenant = 1;
        s.workflow.max_queued_runs = 4;
    })
    .await;
    let flow = save(&app, &admin, &listener_design(), true).await;

    // Four writers at once, ten values each.
    let writers = (0..4).map(|w| {
        let (app, admin) = (&app, &admin);
        async move {
            for i in 0..10 {
                set_level(app, admin, "l1", 51 + w * 10 + i).await;
            }
        }
    });
    futures_util::future::join_all(writers).await;
    assert_eq!(settled_total(&app, &admin, &flow, 40).await, 40);
    let runs = logs(&app, &admin, &flow, json!({"page_size": 100})).await["content"]
        .as_array()
        .unwrap()
        .clone();
    assert!(statuses(&runs).iter().all(|s| *s == "SUCCESS"), "{runs:#?}");

    // One writer: the runs start in the order of its values (logs list newest first).
    for level in 91..=96 {
        set_level(&app, &admin, "l1", level).await;
    }
    assert_eq!(settled_total(&app, &admin, &flow, 46).await, 46);
    let newest = logs(&app, &admin, &flow, json!({"page_size": 6})).await["content"]
        .as_array()
        .unwrap()
        .clone();
    let mut levels = Vec::new();
    for run in newest.iter().rev() {
        levels.push(started_with(&app, &admin, run, "lamp.device.l1.level").await);
    }
    assert_eq!(levels, [91, 92, 93, 94, 95, 96].map(|l| json!(l)));
}
