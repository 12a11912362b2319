//! Cluster mode: several `weir` processes (the real binary) on one PostgreSQL database,
//! with NATS between them and Mosquitto for the devices, behave as one service
//! (docs/scaling.md).
//!
//! Needs `WEIR_TEST_PG_DATASOURCE_URL` (a fresh schema is made in that database for each
//! test), `WEIR_TEST_NATS_URL` and `WEIR_TEST_MQTT_URL`; without any of them the tests
//! return at once, and the skip line names what to set. `.ci/run` sets all three.

// Test code: a panic is how a test fails (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod process;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use process::{
    Acked, Node, PASSWORD, Publisher, add_device, admin_token, call, data, device_token, few,
    free_port, history, http_client, http_load, login, missing, mqtt_load, now_ms, report,
    seq_entity, unique_suffix,
};
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;
use weir_storage::testing::{create_postgres_schema, drop_postgres_schema};
use weir_test_kit::external::{self, Address};

/// How soon a change made through one node must hold on the others (the bound).
const EVERYWHERE_WITHIN: Duration = Duration::from_secs(1);

/// The services of a cluster, and its nodes.
struct Cluster {
    nodes: Vec<Node>,
    /// The nodes' database (a schema of `pg`).
    db_url: String,
    pg: Address,
    schema: String,
    broker: Address,
    client_id: String,
    prefix: String,
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// `n` nodes (not started) on a fresh schema, or `None` when a service is not given.
    fn new(n: usize, extra: &[(&str, &str)]) -> Option<Self> {
        let (pg, nats, broker) = (external::postgres(), external::nats(), external::mqtt());
        let (pg, nats, broker) = (pg?, nats?, broker?);
        let unique = unique_suffix();
        let schema = format!("cluster_{unique}");
        let url = create_postgres_schema(&pg.url, &schema).expect("a fresh schema");
        let dir = tempfile::tempdir().expect("a temporary folder");
        let client_id = format!("weir-cl-{unique}");
        let prefix = format!("wcl-{unique}");
        let nodes = (0..n)
            .map(|i| {
                let name = format!("node{i}");
                let mut env: Vec<(String, String)> = [
                    ("WEIR_DATABASE_URL", url.as_str()),
                    ("WEIR_CLUSTER__NATS_URL", nats.url.as_str()),
                    ("WEIR_CLUSTER__NODE_NAME", name.as_str()),
                    ("WEIR_CLUSTER__SUBJECT_PREFIX", prefix.as_str()),
                    ("WEIR_MQTT__MODE", "external"),
                    ("WEIR_MQTT__URL", broker.url.as_str()),
                    ("WEIR_MQTT__CLIENT_ID", client_id.as_str()),
                    ("WEIR_MQTT__TOPIC_PREFIX", prefix.as_str()),
                ]
                .iter()
                .chain(extra)
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<Vec<_>>();
                env.push(("WEIR_HTTP__WEBSOCKET_RECHECK_SECS".into(), "60".into()));
                Node::new(
                    &name,
                    free_port(),
                    dir.path().join(format!("{name}.log")),
                    env,
                )
            })
            .collect();
        Some(Self {
            nodes,
            db_url: url,
            pg,
            schema,
            broker,
            client_id,
            prefix,
            _dir: dir,
        })
    }

    /// [`Cluster::new`], every node started and ready.
    async fn started(n: usize, extra: &[(&str, &str)], http: &reqwest::Client) -> Option<Self> {
        let mut cluster = Self::new(n, extra)?;
        cluster.start(http).await;
        Some(cluster)
    }

    /// Starts every node, all at once (as an orchestrator would), and waits until each is
    /// ready.
    async fn start(&mut self, http: &reqwest::Client) {
        for node in &mut self.nodes {
            node.start();
        }
        for node in &mut self.nodes {
            node.wait_ready(http).await;
        }
    }

    fn base(&self, i: usize) -> String {
        self.nodes[i].base()
    }

    fn logs(&self) -> String {
        self.nodes
            .iter()
            .map(Node::log_tail)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.kill();
        }
        let _ = drop_postgres_schema(&self.pg.url, &self.schema);
        // Each node's session at the broker goes with the test.
        let sessions: Vec<weir_mqtt::MqttSettings> = self
            .nodes
            .iter()
            .map(|n| weir_mqtt::MqttSettings {
                mode: weir_mqtt::Mode::External,
                url: Some(self.broker.url.clone()),
                client_id: format!("{}-{}", self.client_id, n.name),
                topic_prefix: self.prefix.clone(),
                ..Default::default()
            })
            .collect();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            for settings in &sessions {
                let _ = runtime.block_on(weir_mqtt::forget_session(settings));
            }
            Ok::<_, std::io::Error>(())
        })
        .join();
    }
}

/// An HTTP device of the default tenant whose `seq` entity exists: its token and the
/// entity's id and key.
async fn http_device(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    name: &str,
) -> (String, String, String) {
    let device = add_device(http, base, admin, "http-device", name).await;
    let token = device_token(http, base, admin, &device).await;
    post_report(http, base, &token, &report(now_ms(), 0)).await;
    let (id, key) = seq_entity(http, base, admin, &device)
        .await
        .expect("the seq entity");
    (token, id, key)
}

async fn post_report(http: &reqwest::Client, base: &str, token: &str, body: &Value) {
    let res = http
        .post(format!("{base}/api/v1/device/report"))
        .header("X-Device-Token", token)
        .json(body)
        .send()
        .await
        .expect("report sent");
    assert_eq!(res.status(), 200, "report to {base}");
}

// ---- live values ----

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket on a node, watching `key`, once the node has read the watch request.
async fn watch(base: &str, token: &str, key: &str) -> Ws {
    let url = format!(
        "{}/websocket?Authorization=Bearer%20{token}",
        base.replacen("http://", "ws://", 1)
    );
    let (mut ws, _) = connect_async(url).await.expect("WebSocket upgraded");
    let watch = json!({"event_type": "Exchange", "payload": {"entity_key": [key]}});
    ws.send(Message::text(watch.to_string())).await.unwrap();
    let heartbeat = json!({"event_type": "Heartbeat", "payload": "ping"});
    ws.send(Message::text(heartbeat.to_string())).await.unwrap();
    loop {
        if next_frame(&mut ws, Duration::from_secs(5)).await == Some(heartbeat.clone()) {
            return ws;
        }
    }
}

async fn next_frame(ws: &mut Ws, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return serde_json::from_str(&text).ok(),
            Ok(Some(Ok(_))) => {}
            _ => return None,
        }
    }
}

/// The values of `key` the socket is pushed within `wait`, in order.
async fn pushed(ws: &mut Ws, key: &str, wait: Duration) -> Vec<Value> {
    let deadline = Instant::now() + wait;
    let mut values = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Some(frame) = next_frame(ws, left).await else {
            break;
        };
        if frame["event_type"] == "Exchange" {
            values.push(frame["values"][key]["value"].clone());
        }
    }
    values
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_node_pushes_every_nodes_values_to_its_sockets_once() {
    let http = http_client();
    let Some(cluster) = Cluster::started(2, &[], &http).await else {
        return;
    };
    let (a, b) = (cluster.base(0), cluster.base(1));
    let admin = admin_token(&http, &a).await;
    let (device, _, key) = http_device(&http, &a, &admin, "live").await;
    let mut on_a = watch(&a, &admin, &key).await;
    let mut on_b = watch(&b, &admin, &key).await;

    let base = now_ms();
    post_report(&http, &a, &device, &report(base, 1)).await;
    post_report(&http, &b, &device, &report(base, 2)).await;
    let wait = Duration::from_secs(2);
    let (seen_a, seen_b) =
        tokio::join!(pushed(&mut on_a, &key, wait), pushed(&mut on_b, &key, wait));
    assert_eq!(
        seen_a,
        [json!(1), json!(2)],
        "node0's socket; {}",
        cluster.logs()
    );
    assert_eq!(
        seen_b,
        [json!(1), json!(2)],
        "node1's socket; {}",
        cluster.logs()
    );

    // A member who may not see the device gets nothing on either node.
    let member = member_token(&http, &a, &b, &admin, "viewer@weir.test").await;
    let refused = call(&http, &b, Method::GET, "/api/v1/user", Some(&member), None).await;
    assert_eq!(refused.0, 200, "{}", refused.1);
    let url = format!(
        "{}/websocket?Authorization=Bearer%20{member}",
        b.replacen("http://", "ws://", 1)
    );
    // Without `entity_data.view` the handshake itself is refused.
    assert!(connect_async(url).await.is_err());
}

/// A member of the default tenant (no roles), made through `a`, signed in through `b`.
async fn member_token(
    http: &reqwest::Client,
    a: &str,
    b: &str,
    admin: &str,
    email: &str,
) -> String {
    let body = json!({"email": email, "nickname": "Member", "password": PASSWORD});
    data(
        call(
            http,
            a,
            Method::POST,
            "/api/v1/user/members",
            Some(admin),
            Some(body),
        )
        .await,
        "add member",
    );
    data(login(http, b, email, PASSWORD).await, "member login")["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

// ---- flows ----

fn node(id: &str, component: &str, parameters: Value) -> Value {
    json!({"id": id, "componentName": component,
           "data": {"nodeName": id.to_uppercase(), "parameters": parameters}})
}

/// The nodes in a chain, each edge from one to the next.
fn chain(nodes: Vec<Value>) -> String {
    let edges: Vec<Value> = nodes
        .windows(2)
        .enumerate()
        .map(|(i, w)| json!({"id": format!("e{i}"), "source": w[0]["id"], "target": w[1]["id"]}))
        .collect();
    json!({"nodes": nodes, "edges": edges}).to_string()
}

async fn save_flow(http: &reqwest::Client, base: &str, admin: &str, design: &str) -> String {
    let body = json!({"name": "Flow", "enabled": true, "design_data": design});
    data(
        call(
            http,
            base,
            Method::POST,
            "/api/v1/workflow/flows/design",
            Some(admin),
            Some(body),
        )
        .await,
        "save flow",
    )["id"]
        .as_str()
        .expect("flow id")
        .to_owned()
}

/// How many runs the flow has logged.
async fn runs(http: &reqwest::Client, base: &str, admin: &str, flow: &str) -> u64 {
    let path = format!("/api/v1/workflow/flows/{flow}/logs/search");
    let body = json!({"page_size": 1});
    data(
        call(http, base, Method::POST, &path, Some(admin), Some(body)).await,
        "logs",
    )["total"]
        .as_u64()
        .expect("total")
}

/// Polls `check` until it holds, for at most `within`; answers whether it did.
async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flow_change_through_one_node_holds_on_every_node_within_a_second() {
    let http = http_client();
    let Some(cluster) = Cluster::started(2, &[], &http).await else {
        return;
    };
    let (a, b) = (cluster.base(0), cluster.base(1));
    let admin = admin_token(&http, &a).await;

    // An HTTP-in flow enabled through node0 answers through node1.
    let design = chain(vec![
        node("in", "httpIn", json!({"method": "POST", "url": "/echo"})),
        node(
            "out",
            "output",
            json!({"outputVariables": {"got": "{{in.n}}"}}),
        ),
    ]);
    let flow = save_flow(&http, &a, &admin, &design).await;
    let path = format!("/api/v1/workflow/flows/{flow}/http-credential");
    let credential = data(
        call(&http, &a, Method::POST, &path, Some(&admin), None).await,
        "credential",
    )["credential"]
        .as_str()
        .expect("credential")
        .to_owned();
    let echo = |base: String| {
        let (http, credential) = (http.clone(), credential.clone());
        async move {
            let res = http
                .post(format!("{base}/workflow-http-in/echo"))
                .bearer_auth(credential)
                .json(&json!({"n": 7}))
                .send()
                .await
                .expect("sent");
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let answered = eventually(EVERYWHERE_WITHIN, || {
        let echo = echo(b.clone());
        async move { echo.await == (200, json!({"got": 7})) }
    })
    .await;
    assert!(
        answered,
        "node1 did not run the flow node0 enabled: {:?}; {}",
        echo(b.clone()).await,
        cluster.logs()
    );

    // Disabled through node1: node0 stops answering within a second.
    let path = format!("/api/v1/workflow/flows/{flow}/disable");
    data(
        call(&http, &b, Method::GET, &path, Some(&admin), None).await,
        "disable",
    );
    let stopped = eventually(EVERYWHERE_WITHIN, || {
        let echo = echo(a.clone());
        async move { echo.await.0 == 401 }
    })
    .await;
    assert!(
        stopped,
        "node0 still runs the flow node1 disabled: {:?}",
        echo(a.clone()).await
    );

    // An event flow runs once per value, on the node that stored it, whichever node enabled it.
    let (device, _, key) = http_device(&http, &a, &admin, "events").await;
    let design = chain(vec![
        node("listen", "eventListener", json!({"entities": [key]})),
        node(
            "out",
            "output",
            json!({"outputVariables": {"seq": format!("{{{{listen.{key}}}}}")}}),
        ),
    ]);
    let flow = save_flow(&http, &b, &admin, &design).await;
    tokio::time::sleep(EVERYWHERE_WITHIN).await;
    let base = now_ms();
    for n in 1..=6 {
        let node = if n % 2 == 0 { &a } else { &b };
        post_report(&http, node, &device, &report(base, n)).await;
    }
    let all_ran = eventually(Duration::from_secs(5), || {
        let (http, a, admin, flow) = (http.clone(), a.clone(), admin.clone(), flow.clone());
        async move { runs(&http, &a, &admin, &flow).await >= 6 }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let total = runs(&http, &a, &admin, &flow).await;
    assert!(
        all_ran && total == 6,
        "6 values started {total} runs; {}",
        cluster.logs()
    );
}

// ---- identity ----

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deleted_members_token_stops_working_on_every_node_within_a_second() {
    let http = http_client();
    let Some(cluster) = Cluster::started(2, &[], &http).await else {
        return;
    };
    let (a, b) = (cluster.base(0), cluster.base(1));
    let admin = admin_token(&http, &a).await;
    let member = member_token(&http, &a, &b, &admin, "member@weir.test").await;
    let me = data(
        call(&http, &a, Method::GET, "/api/v1/user", Some(&member), None).await,
        "me",
    );
    let id = me["user_id"].as_str().expect("user_id").to_owned();
    for base in [&a, &b] {
        let answer = call(
            &http,
            base,
            Method::GET,
            "/api/v1/user",
            Some(&member),
            None,
        )
        .await;
        assert_eq!(answer.0, 200, "{base}: {}", answer.1);
    }
    // Both nodes now hold the member's principal in their caches.
    let path = format!("/api/v1/user/members/{id}");
    data(
        call(&http, &b, Method::DELETE, &path, Some(&admin), None).await,
        "delete member",
    );
    let answer = call(&http, &b, Method::GET, "/api/v1/user", Some(&member), None).await;
    assert_eq!(answer.0, 401, "node1 still takes the token: {}", answer.1);
    // The other node forgets its cached principal when the change reaches it over NATS
    // (its cache would otherwise keep it for 5 s).
    let refused = eventually(EVERYWHERE_WITHIN, || {
        let (http, a, member) = (http.clone(), a.clone(), member.clone());
        async move {
            let answer = call(&http, &a, Method::GET, "/api/v1/user", Some(&member), None).await;
            answer.0 == 401
        }
    })
    .await;
    assert!(
        refused,
        "node0 still takes a deleted member's token after a second"
    );
}

// ---- a node killed under load ----

/// Concurrent HTTP devices, each posting to the nodes in turn.
const HTTP_CLIENTS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_killed_during_http_and_mqtt_ingest_loses_nothing_acknowledged() {
    let http = http_client();
    let Some(mut cluster) = Cluster::started(2, &[], &http).await else {
        return;
    };
    let (a, b) = (cluster.base(0), cluster.base(1));
    let admin = admin_token(&http, &a).await;
    let base = now_ms() - 3_600_000;
    let (token, http_seq, _) = http_device(&http, &a, &admin, "kill-http").await;

    // The MQTT device's first message creates its entity, and shows the nodes subscribed.
    let mqtt_device = add_device(&http, &a, &admin, "mqtt-device", "kill-mqtt").await;
    let topic = format!("{}/default/kill-mqtt/uplink", cluster.prefix);
    let mut publisher =
        Publisher::connect(&format!("{}-device", cluster.client_id), &cluster.broker).await;
    let deadline = Instant::now() + process::START_WITHIN;
    let mqtt_seq = loop {
        publisher.publish(&topic, &report(base, 0)).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Some((id, _)) = seq_entity(&http, &a, &admin, &mqtt_device).await {
            break id;
        }
        assert!(
            Instant::now() < deadline,
            "no MQTT message stored; {}",
            cluster.logs()
        );
    };

    let stop = Arc::new(AtomicBool::new(false));
    let http_acked: Acked = Arc::default();
    let mqtt_acked: Acked = Arc::default();
    let next = Arc::new(AtomicI64::new(1));
    let urls = vec![
        format!("{a}/api/v1/device/report"),
        format!("{b}/api/v1/device/report"),
    ];
    let http_tasks: Vec<_> = (0..HTTP_CLIENTS)
        .map(|_| {
            tokio::spawn(http_load(
                urls.clone(),
                token.clone(),
                base,
                next.clone(),
                http_acked.clone(),
                stop.clone(),
            ))
        })
        .collect();
    let mqtt_task = tokio::spawn(mqtt_load(
        publisher,
        topic,
        base,
        mqtt_acked.clone(),
        stop.clone(),
    ));

    tokio::time::sleep(Duration::from_millis(1500)).await;
    cluster.nodes[0].kill();
    let (http_before, mqtt_before) = (
        http_acked.lock().unwrap().len(),
        mqtt_acked.lock().unwrap().len(),
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut http_failures = 0;
    for t in http_tasks {
        http_failures += t.await.expect("HTTP load");
    }
    let mqtt_failures = mqtt_task.await.expect("MQTT load");
    let http_acked = std::mem::take(&mut *http_acked.lock().unwrap());
    let mqtt_acked = std::mem::take(&mut *mqtt_acked.lock().unwrap());
    let summary = format!(
        "HTTP: {} acknowledged ({http_before} before the kill), {http_failures} refused; MQTT: {} \
         acknowledged by the broker ({mqtt_before} before the kill), {mqtt_failures} failed",
        http_acked.len(),
        mqtt_acked.len()
    );
    assert!(
        http_before > 20 && mqtt_before > 20 && http_acked.len() > http_before,
        "too little load for the test to mean anything: {summary}"
    );

    // HTTP answered after the commit: all there at once, read through the survivor.
    let stored = history(&http, &b, &admin, &http_seq, base).await;
    let lost = missing(&http_acked, &stored, base);
    assert!(
        lost.is_empty(),
        "HTTP values lost: {:?}; {summary}",
        few(&lost)
    );

    // MQTT: what the broker handed the killed node, unacknowledged, and what it queued for
    // the node's session since, is taken over by the survivor once the node is silent.
    let killed_at = Instant::now();
    let all_stored = eventually(Duration::from_secs(30), || {
        let (http, b, admin, mqtt_seq, acked) = (
            http.clone(),
            b.clone(),
            admin.clone(),
            mqtt_seq.clone(),
            mqtt_acked.clone(),
        );
        async move {
            missing(
                &acked,
                &history(&http, &b, &admin, &mqtt_seq, base).await,
                base,
            )
            .is_empty()
        }
    })
    .await;
    let lost = missing(
        &mqtt_acked,
        &history(&http, &b, &admin, &mqtt_seq, base).await,
        base,
    );
    assert!(
        all_stored,
        "MQTT messages lost: {} (first {:?}); {summary}; {}",
        lost.len(),
        few(&lost),
        cluster.logs()
    );
    eprintln!(
        "{summary}; all stored, the last {:?} after the load stopped",
        killed_at.elapsed()
    );

    // The killed node comes back under its name, and shares the uplinks again.
    cluster.nodes[0].start();
    cluster.nodes[0].wait_ready(&http).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_logins_through_every_node_count_together() {
    let http = http_client();
    let Some(cluster) = Cluster::started(2, &[], &http).await else {
        return;
    };
    let (a, b) = (cluster.base(0), cluster.base(1));
    admin_token(&http, &a).await;
    // Five failures of one account from one address lock that address out of it: three
    // through each node are six, wherever they landed.
    for base in [&a, &b, &a, &b, &a, &b] {
        let (status, body) = login(&http, base, "admin@weir.test", "wrong-password-1").await;
        assert!(
            status == 400 || status == 401 || status == 429,
            "{status}: {body}"
        );
    }
    for base in [&a, &b] {
        let (status, body) = login(&http, base, "admin@weir.test", PASSWORD).await;
        assert_eq!(
            status, 429,
            "{base} let the right password in after 6 failures: {body}"
        );
        assert_eq!(body["error_code"], "request_too_frequently", "{body}");
    }
}

// ---- timers ----

/// The node holding a flow's timer lease: its index among the cluster's nodes.
fn lease_holder(cluster: &Cluster, flow: &str) -> Option<usize> {
    use diesel::{Connection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Holder {
        #[diesel(sql_type = diesel::sql_types::Text)]
        node: String,
    }
    let mut conn = diesel::PgConnection::establish(&cluster.db_url).ok()?;
    let holders: Vec<Holder> = diesel::sql_query(format!(
        "SELECT node FROM timer_leases WHERE flow_id = {} AND expires_at > {}",
        flow.parse::<i64>().ok()?,
        now_ms()
    ))
    .load(&mut conn)
    .ok()?;
    let holder = holders.first()?;
    cluster
        .nodes
        .iter()
        .position(|n| holder.node == n.name || holder.node.starts_with(&format!("{}-", n.name)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_timer_fires_once_in_the_cluster_and_moves_to_a_survivor_when_its_node_dies() {
    // Leases of 3 s renewed every second: a dead node's timers move within about 4 s.
    let short = [
        ("WEIR_WORKFLOW__TIMER_LEASE_MS", "3000"),
        ("WEIR_WORKFLOW__TIMER_RENEW_MS", "1000"),
    ];
    let http = http_client();
    let Some(mut cluster) = Cluster::started(2, &short, &http).await else {
        return;
    };
    let (a, b) = (cluster.base(0), cluster.base(1));
    let admin = admin_token(&http, &a).await;
    let design = chain(vec![
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
    let flow = save_flow(&http, &a, &admin, &design).await;

    // Once a second in the cluster, not once a second on each node.
    let owned = eventually(Duration::from_secs(10), || {
        let held = lease_holder(&cluster, &flow).is_some();
        async move { held }
    })
    .await;
    assert!(owned, "no node took the timer's lease; {}", cluster.logs());
    let before = runs(&http, &a, &admin, &flow).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let fired = runs(&http, &b, &admin, &flow).await - before;
    assert!(
        (4..=6).contains(&fired),
        "an every-second timer fired {fired} times in 5 s; {}",
        cluster.logs()
    );

    // Its node dies: the survivor fires it within the lease's bound.
    let owner = lease_holder(&cluster, &flow).expect("a lease holder");
    let survivor = cluster.base(1 - owner);
    cluster.nodes[owner].kill();
    let killed = Instant::now();
    let at_kill = runs(&http, &survivor, &admin, &flow).await;
    let moved = eventually(Duration::from_secs(15), || {
        let (http, survivor, admin, flow) =
            (http.clone(), survivor.clone(), admin.clone(), flow.clone());
        async move { runs(&http, &survivor, &admin, &flow).await >= at_kill + 2 }
    })
    .await;
    assert!(
        moved,
        "the timer did not move to the survivor within 15 s; {}",
        cluster.logs()
    );
    eprintln!(
        "the timer fired again on the survivor {:?} after its node was killed",
        killed.elapsed()
    );
    assert_eq!(lease_holder(&cluster, &flow), Some(1 - owner));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_that_cannot_reach_nats_does_not_start() {
    let unreachable = [("WEIR_CLUSTER__NATS_URL", "nats://127.0.0.1:1")];
    let Some(mut cluster) = Cluster::new(1, &unreachable) else {
        return;
    };
    cluster.nodes[0].start();
    let node = &mut cluster.nodes[0];
    let status = tokio::task::block_in_place(|| node.wait_exit(Duration::from_secs(20)))
        .expect("the node stopped by itself");
    assert!(!status.success());
    let log = node.log();
    assert!(
        log.contains("cluster: NATS at nats://127.0.0.1:1 could not be reached"),
        "{log}"
    );
}
