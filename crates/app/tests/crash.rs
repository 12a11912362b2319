//! Crash safety: nothing acknowledged is lost.
//!
//! The real `weir` binary runs as a child process on a fresh database (SQLite, or a fresh
//! PostgreSQL schema with `WEIR_TEST_DATABASE_URL`), with MQTT on the external broker
//! `WEIR_TEST_MQTT_URL` names (Mosquitto). While HTTP devices post reports and an MQTT
//! device publishes at QoS 1, the process is killed with SIGKILL, kept down for a moment
//! (Mosquitto queues the uplinks for Weir's persistent session), and started again with
//! the same settings. Every report answered 200, and every message Mosquitto acknowledged,
//! must then be in the history with its value.
//!
//! Without `WEIR_TEST_MQTT_URL` only the HTTP half runs: the embedded broker dies with
//! Weir and promises nothing across a crash (docs/mqtt.md), so it cannot stand in.

// Test code: a panic is how a test fails (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::RngCore;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Outgoing, Packet, QoS};
use serde_json::{Value, json};
use weir_storage::testing::{POSTGRES_URL_VAR, TestDatabase};
use weir_test_kit::MQTT_URL_VAR;
use weir_test_kit::external::{self, Address};

const PASSWORD: &str = "correct-horse-9";
/// Concurrent HTTP devices posting reports.
const HTTP_CLIENTS: usize = 4;
/// Pause between two reports of one client, and between two MQTT publishes. The MQTT
/// rate (~150/s) keeps Mosquitto's queue for the absent Weir well under its default
/// `max_queued_messages` (1000), beyond which it would drop messages it acknowledged.
const PAUSE: Duration = Duration::from_millis(5);
const LOAD_BEFORE_KILL: Duration = Duration::from_millis(1500);
const DOWN_FOR: Duration = Duration::from_millis(500);
const LOAD_AFTER_RESTART: Duration = Duration::from_millis(500);
const START_WITHIN: Duration = Duration::from_secs(20);
const STORED_WITHIN: Duration = Duration::from_secs(20);
/// Acknowledged values each path must have before the kill, so the test can fail.
const MIN_ACKED_BEFORE_KILL: usize = 20;

// ---- the server process ----

/// What both runs of the server share: its database, port, MQTT identity and log file.
struct Plan {
    database: TestDatabase,
    port: u16,
    /// The external broker; `None` runs the server with MQTT off (the HTTP half only).
    broker: Option<Address>,
    client_id: String,
    prefix: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Plan {
    fn new() -> Self {
        let database = TestDatabase::new().expect("a fresh test database");
        let port = free_port();
        let unique = unique_suffix();
        let dir = tempfile::tempdir().expect("a temporary folder");
        Self {
            database,
            port,
            broker: external::mqtt(),
            // The same client id at both starts: the second resumes the session.
            client_id: format!("weir-crash-{unique}"),
            prefix: format!("weir-crash/{unique}"),
            log: dir.path().join("weir.log"),
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Starts `weir serve`; its output goes to the log file, both runs one after the other.
    fn start(&self) -> Child {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("the log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_weir"));
        match &self.broker {
            Some(broker) => command
                .env("WEIR_MQTT__MODE", "external")
                .env("WEIR_MQTT__URL", &broker.url),
            None => command.env("WEIR_MQTT__MODE", "off"),
        };
        command
            .arg("serve")
            .env_remove("WEIR_CONFIG")
            .env_remove(POSTGRES_URL_VAR)
            .env_remove(MQTT_URL_VAR)
            .env("WEIR_DATABASE_URL", &self.database.url)
            .env("WEIR_HTTP_ADDR", format!("127.0.0.1:{}", self.port))
            .env("WEIR_HTTP__WORKERS", "2")
            .env("WEIR_MQTT__CLIENT_ID", &self.client_id)
            .env("WEIR_MQTT__TOPIC_PREFIX", &self.prefix)
            // Weir's own lines, without the access log, for the failure message.
            .env("RUST_LOG", "info,weir::access=warn")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log file"))
            .stderr(log)
            .spawn()
            .expect("start the weir binary")
    }

    /// The last lines the server logged, for failure messages.
    fn log_tail(&self) -> String {
        let Ok(file) = File::open(&self.log) else {
            return "(no log)".into();
        };
        let lines: Vec<String> = BufReader::new(file).lines().map_while(Result::ok).collect();
        let from = lines.len().saturating_sub(40);
        format!(
            "last lines of the server's log:\n{}",
            lines[from..].join("\n")
        )
    }

    fn mqtt_settings(&self) -> Option<weir_mqtt::MqttSettings> {
        Some(weir_mqtt::MqttSettings {
            mode: weir_mqtt::Mode::External,
            url: Some(self.broker.as_ref()?.url.clone()),
            client_id: self.client_id.clone(),
            topic_prefix: self.prefix.clone(),
            ..Default::default()
        })
    }
}

/// The running server process; dropping it kills it (on a panic too), and ends Weir's
/// session at the broker, so a failed run leaves no queue behind in Mosquitto.
struct Server<'a> {
    plan: &'a Plan,
    child: Option<Child>,
}

impl<'a> Server<'a> {
    fn start(plan: &'a Plan) -> Self {
        Self {
            plan,
            child: Some(plan.start()),
        }
    }

    /// Kills the process with SIGKILL: no clean stop, no acknowledgement sent on the way.
    fn crash(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL the server");
            child.wait().expect("reap the server");
        }
    }

    fn restart(&mut self) {
        assert!(self.child.is_none(), "the server still runs");
        self.child = Some(self.plan.start());
    }

    /// Waits until `/readyz` answers 200; panics if the process exits or takes too long.
    async fn wait_ready(&mut self, http: &reqwest::Client) {
        let deadline = Instant::now() + START_WITHIN;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("weir exited ({status}) at start; {}", self.plan.log_tail());
            }
            if let Ok(res) = http.get(self.plan.url("/readyz")).send().await
                && res.status() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "weir was not ready within {START_WITHIN:?}; {}",
                self.plan.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Server<'_> {
    fn drop(&mut self) {
        self.crash();
        let Some(settings) = self.plan.mqtt_settings() else {
            return;
        };
        // A thread of its own: the drop runs on the test's runtime.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let _ = runtime.block_on(weir_mqtt::forget_session(&settings));
            Ok::<_, std::io::Error>(())
        })
        .join();
    }
}

/// A free port below Linux's ephemeral range (32768 and up by default). While Weir is
/// down, the loads keep connecting to its port; an ephemeral port could then be that very
/// port (a TCP self-connect), and the restart could not bind it.
fn free_port() -> u16 {
    for _ in 0..200 {
        let port = 20_000 + (rand::rng().next_u32() % 12_000) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in 20000..32000");
}

fn unique_suffix() -> String {
    let mut bytes = [0u8; 6];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock");
    i64::try_from(since.as_millis()).expect("ms")
}

// ---- the API, as a user ----

/// Sends JSON (or nothing) with the bearer token; answers the status and the JSON body.
async fn call(
    http: &reqwest::Client,
    plan: &Plan,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http.request(method, plan.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("request sent");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Asserts a 200 and answers its `data`.
fn data(answer: (u16, Value), what: &str) -> Value {
    let (status, body) = answer;
    assert_eq!(status, 200, "{what}: {body}");
    body["data"].clone()
}

/// Registers the first admin of the default tenant and logs in; answers the access token.
async fn admin_token(http: &reqwest::Client, plan: &Plan) -> String {
    let body = json!({"email": "admin@weir.test", "nickname": "Admin", "password": PASSWORD});
    let register = call(
        http,
        plan,
        reqwest::Method::POST,
        "/api/v1/user/register",
        None,
        Some(body),
    )
    .await;
    data(register, "register");
    let form = [
        ("client_id", "iab"),
        ("client_secret", "milesight*iab"),
        ("grant_type", "password"),
        ("username", "admin@weir.test"),
        ("password", PASSWORD),
    ];
    let res = http
        .post(plan.url("/api/v1/oauth2/token"))
        .form(&form)
        .send()
        .await
        .expect("token request sent");
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    data((status, body), "login")["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// Adds a device of `integration`; answers its id.
async fn add_device(
    http: &reqwest::Client,
    plan: &Plan,
    admin: &str,
    integration: &str,
    identifier: &str,
) -> String {
    let body = json!({"name": identifier, "integration": integration, "param_entities": {"identifier": identifier}});
    let answer = call(
        http,
        plan,
        reqwest::Method::POST,
        "/api/v1/device",
        Some(admin),
        Some(body),
    )
    .await;
    data(answer, "add device")["device_id"]
        .as_str()
        .expect("device_id")
        .to_owned()
}

/// The id of the device's `seq` entity, once it exists.
async fn seq_entity(
    http: &reqwest::Client,
    plan: &Plan,
    admin: &str,
    device: &str,
) -> Option<String> {
    let answer = call(
        http,
        plan,
        reqwest::Method::GET,
        &format!("/api/v1/device/{device}"),
        Some(admin),
        None,
    )
    .await;
    data(answer, "get device")["entities"]
        .as_array()?
        .iter()
        .find(|e| e["key"].as_str().is_some_and(|k| k.ends_with(".seq")))
        .and_then(|e| e["id"].as_str())
        .map(str::to_owned)
}

/// The whole history of an entity, as timestamp → value.
async fn history(
    http: &reqwest::Client,
    plan: &Plan,
    admin: &str,
    entity: &str,
    base: i64,
) -> HashMap<i64, Value> {
    let mut points = HashMap::new();
    for page in 1.. {
        let body = json!({"entity_id": entity, "start_timestamp": base,
                          "end_timestamp": base + 100_000_000, "page_number": page, "page_size": 1000});
        let answer = call(
            http,
            plan,
            reqwest::Method::POST,
            "/api/v1/entity/history/search",
            Some(admin),
            Some(body),
        )
        .await;
        let data = data(answer, "history");
        let content = data["content"].as_array().expect("content");
        for p in content {
            points.insert(
                p["timestamp"].as_i64().expect("timestamp"),
                p["value"].clone(),
            );
        }
        let total = data["total"].as_u64().expect("total");
        if content.is_empty() || points.len() as u64 >= total {
            break;
        }
    }
    points
}

// ---- the loads ----

/// The sequence numbers whose values were acknowledged: value `n` at `base + n`.
type Acked = Arc<Mutex<Vec<i64>>>;

fn report(base: i64, n: i64) -> Value {
    json!({"ts": base + n, "values": {"seq": n}})
}

/// An HTTP device posting reports until `stop`, each with the next sequence number;
/// records those answered 200.
async fn http_load(
    url: String,
    token: String,
    base: i64,
    next: Arc<AtomicI64>,
    acked: Acked,
    stop: Arc<AtomicBool>,
) -> usize {
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let mut failures = 0;
    while !stop.load(Ordering::Relaxed) {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let sent = http
            .post(&url)
            .header("X-Device-Token", &token)
            .json(&report(base, n))
            .send()
            .await;
        match sent {
            Ok(res) if res.status() == 200 => {
                acked.lock().expect("acked").push(n);
                tokio::time::sleep(PAUSE).await;
            }
            _ => {
                failures += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    failures
}

/// An MQTT device: publishes at QoS 1 and waits for each PUBACK of the broker.
struct Publisher {
    client: AsyncClient,
    events: EventLoop,
}

impl Publisher {
    async fn connect(plan: &Plan, broker: &Address) -> Self {
        let mut options = MqttOptions::new(
            format!("{}-device", plan.client_id),
            broker.host.clone(),
            broker.port,
        );
        options.set_keep_alive(Duration::from_secs(5));
        let (client, mut events) = AsyncClient::new(options, 16);
        let connected = tokio::time::timeout(Duration::from_secs(10), events.poll()).await;
        assert!(
            matches!(connected, Ok(Ok(Event::Incoming(Packet::ConnAck(_))))),
            "the device could not connect to the broker at {}: {connected:?}",
            broker.url
        );
        Self { client, events }
    }

    /// Publishes at QoS 1; answers whether the broker acknowledged it.
    async fn publish(&mut self, topic: &str, payload: &Value) -> bool {
        if self
            .client
            .publish(topic, QoS::AtLeastOnce, false, payload.to_string())
            .await
            .is_err()
        {
            return false;
        }
        let mut pkid = None;
        let acked = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match self.events.poll().await {
                    Ok(Event::Outgoing(Outgoing::Publish(id))) => pkid = Some(id),
                    Ok(Event::Incoming(Packet::PubAck(ack))) if Some(ack.pkid) == pkid => {
                        return true;
                    }
                    Ok(_) => {}
                    Err(_) => return false,
                }
            }
        })
        .await;
        acked.unwrap_or(false)
    }
}

/// The MQTT device publishing until `stop`; records the messages the broker acknowledged.
async fn mqtt_load(
    mut publisher: Publisher,
    topic: String,
    base: i64,
    acked: Acked,
    stop: Arc<AtomicBool>,
) -> usize {
    let mut failures = 0;
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        if publisher.publish(&topic, &report(base, n)).await {
            acked.lock().expect("acked").push(n);
        } else {
            failures += 1;
        }
        tokio::time::sleep(PAUSE).await;
    }
    failures
}

/// Which acknowledged values the history lacks, or holds with another value.
fn missing(acked: &[i64], history: &HashMap<i64, Value>, base: i64) -> Vec<i64> {
    acked
        .iter()
        .copied()
        .filter(|n| history.get(&(base + n)) != Some(&json!(n)))
        .collect()
}

// ---- the test ----

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_http_and_mqtt_ingest_loses_nothing_acknowledged() {
    let started = Instant::now();
    let plan = tokio::task::spawn_blocking(Plan::new)
        .await
        .expect("plan task");
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let mut server = Server::start(&plan);
    server.wait_ready(&http).await;

    // The scene: an admin, an HTTP device with its token, an MQTT device.
    let admin = admin_token(&http, &plan).await;
    let http_device = add_device(&http, &plan, &admin, "http-device", "crash-http").await;
    let answer = call(
        &http,
        &plan,
        reqwest::Method::POST,
        &format!("/api/v1/device/{http_device}/token"),
        Some(&admin),
        None,
    )
    .await;
    let device_token = data(answer, "issue token")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let topic = format!("{}/default/crash-mqtt/uplink", plan.prefix);

    // Value n lands at base + n; value 0 creates each device's `seq` entity. For MQTT it
    // also shows Weir's client has subscribed: what the broker takes before that is not
    // kept for Weir.
    let base = now_ms() - 3_600_000;
    let report_url = plan.url("/api/v1/device/report");
    let first = http
        .post(&report_url)
        .header("X-Device-Token", &device_token)
        .json(&report(base, 0))
        .send()
        .await
        .expect("first report sent");
    assert_eq!(first.status(), 200, "first report");
    let http_seq = seq_entity(&http, &plan, &admin, &http_device)
        .await
        .expect("the HTTP device's seq entity");
    let mqtt = match &plan.broker {
        Some(broker) => {
            let mqtt_device = add_device(&http, &plan, &admin, "mqtt-device", "crash-mqtt").await;
            let mut publisher = Publisher::connect(&plan, broker).await;
            let deadline = Instant::now() + START_WITHIN;
            let mqtt_seq = loop {
                publisher.publish(&topic, &report(base, 0)).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                if let Some(id) = seq_entity(&http, &plan, &admin, &mqtt_device).await {
                    break id;
                }
                assert!(
                    Instant::now() < deadline,
                    "Weir stored no MQTT message within {START_WITHIN:?}; {}",
                    plan.log_tail()
                );
            };
            Some((publisher, mqtt_seq))
        }
        None => None,
    };

    // Sustained ingest on both paths.
    let stop = Arc::new(AtomicBool::new(false));
    let http_acked: Acked = Arc::default();
    let mqtt_acked: Acked = Arc::default();
    let next = Arc::new(AtomicI64::new(1));
    let mut http_tasks = Vec::new();
    for _ in 0..HTTP_CLIENTS {
        http_tasks.push(tokio::spawn(http_load(
            report_url.clone(),
            device_token.clone(),
            base,
            next.clone(),
            http_acked.clone(),
            stop.clone(),
        )));
    }
    let (mqtt_task, mqtt_seq) = match mqtt {
        Some((publisher, mqtt_seq)) => {
            let load = mqtt_load(publisher, topic, base, mqtt_acked.clone(), stop.clone());
            (Some(tokio::spawn(load)), Some(mqtt_seq))
        }
        None => (None, None),
    };

    // The crash, in the middle of it; the loads keep going while Weir is down.
    tokio::time::sleep(LOAD_BEFORE_KILL).await;
    server.crash();
    let http_before_kill = http_acked.lock().expect("acked").len();
    let mqtt_before_kill = mqtt_acked.lock().expect("acked").len();
    tokio::time::sleep(DOWN_FOR).await;
    let mqtt_while_down = mqtt_acked.lock().expect("acked").len() - mqtt_before_kill;
    server.restart();
    server.wait_ready(&http).await;
    tokio::time::sleep(LOAD_AFTER_RESTART).await;
    stop.store(true, Ordering::Relaxed);
    let mut http_failures = 0;
    for t in http_tasks {
        http_failures += t.await.expect("HTTP load");
    }
    let mqtt_failures = match mqtt_task {
        Some(task) => task.await.expect("MQTT load"),
        None => 0,
    };
    let http_acked = std::mem::take(&mut *http_acked.lock().expect("acked"));
    let mqtt_acked = std::mem::take(&mut *mqtt_acked.lock().expect("acked"));
    let summary = format!(
        "HTTP: {} acknowledged ({http_before_kill} before the kill), {http_failures} failed; \
         MQTT: {} acknowledged by the broker ({mqtt_before_kill} before the kill, \
         {mqtt_while_down} while Weir was down), {mqtt_failures} failed",
        http_acked.len(),
        mqtt_acked.len()
    );
    let mqtt_enough =
        mqtt_seq.is_none() || (mqtt_before_kill > MIN_ACKED_BEFORE_KILL && mqtt_while_down > 0);
    assert!(
        http_before_kill > MIN_ACKED_BEFORE_KILL && mqtt_enough,
        "too little was acknowledged before the kill for the test to mean anything: {summary}; {}",
        plan.log_tail()
    );

    // Every acknowledged value is stored. HTTP answered only after the commit, so its
    // values are there at once; MQTT messages still with the broker arrive shortly.
    let http_history = history(&http, &plan, &admin, &http_seq, base).await;
    let http_missing = missing(&http_acked, &http_history, base);
    let deadline = Instant::now() + STORED_WITHIN;
    let mqtt_missing = loop {
        let Some(mqtt_seq) = &mqtt_seq else {
            break Vec::new();
        };
        let stored = history(&http, &plan, &admin, mqtt_seq, base).await;
        let lacking = missing(&mqtt_acked, &stored, base);
        if lacking.is_empty() || Instant::now() >= deadline {
            break lacking;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let few = |v: &[i64]| v.iter().take(20).map(i64::to_string).collect::<Vec<_>>();
    assert!(
        http_missing.is_empty() && mqtt_missing.is_empty(),
        "acknowledged values lost: {summary}; HTTP missing {} (first: {:?}), MQTT missing {} \
         after {STORED_WITHIN:?} (first: {:?}); {}",
        http_missing.len(),
        few(&http_missing),
        mqtt_missing.len(),
        few(&mqtt_missing),
        plan.log_tail()
    );
    eprintln!("{summary}; all stored; {:?} in all", started.elapsed());
}
