//! The real `weir` binary as a child process, the API calls and device loads the process
//! tests make (crash.rs: one server killed and restarted; cluster.rs: several nodes on one
//! database). Each test binary uses a part of it.
#![allow(dead_code)]

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
use weir_storage::testing::POSTGRES_URL_VAR;
use weir_test_kit::MQTT_URL_VAR;
use weir_test_kit::external::Address;

pub const PASSWORD: &str = "correct-horse-9";
pub const START_WITHIN: Duration = Duration::from_secs(20);
/// Pause between two reports of one HTTP client, and between two MQTT publishes.
pub const PAUSE: Duration = Duration::from_millis(5);

// ---- the server process ----

/// One `weir serve` process: its address, its settings (environment variables) and the
/// log file its output goes to, run after run. Dropping it kills it.
pub struct Node {
    pub name: String,
    pub port: u16,
    env: Vec<(String, String)>,
    log: PathBuf,
    child: Option<Child>,
}

impl Node {
    /// A node listening on `port`, configured by `env` (on top of a clean environment:
    /// no config file, none of the test variables), logging into `log`. Not started.
    pub fn new(name: &str, port: u16, log: PathBuf, env: Vec<(String, String)>) -> Self {
        Self {
            name: name.to_owned(),
            port,
            env,
            log,
            child: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn base(&self) -> String {
        self.url("")
    }

    /// Starts `weir serve`; its output is appended to the log file.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "{} still runs", self.name);
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("the log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_weir"));
        command
            .arg("serve")
            .env_remove("WEIR_CONFIG")
            .env_remove(POSTGRES_URL_VAR)
            .env_remove(MQTT_URL_VAR)
            .env("WEIR_HTTP_ADDR", format!("127.0.0.1:{}", self.port))
            .env("WEIR_HTTP__WORKERS", "2")
            // Weir's own lines, without the access log, for the failure message.
            .env("RUST_LOG", "info,weir::access=warn")
            .env("NO_COLOR", "1");
        for (name, value) in &self.env {
            command.env(name, value);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log file"))
            .stderr(log)
            .spawn()
            .expect("start the weir binary");
        self.child = Some(child);
    }

    /// Kills the process with SIGKILL: no clean stop, no acknowledgement sent on the way.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL the server");
            child.wait().expect("reap the server");
        }
    }

    pub fn running(&self) -> bool {
        self.child.is_some()
    }

    /// Waits until `/readyz` answers 200; panics if the process exits or takes too long.
    pub async fn wait_ready(&mut self, http: &reqwest::Client) {
        let deadline = Instant::now() + START_WITHIN;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "{} exited ({status}) at start; {}",
                    self.name,
                    self.log_tail()
                );
            }
            if let Ok(res) = http.get(self.url("/readyz")).send().await
                && res.status() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} was not ready within {START_WITHIN:?}; {}",
                self.name,
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for the process to exit on its own; answers its output.
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let child = self.child.as_mut()?;
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// The whole log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last lines the server logged, for failure messages.
    pub fn log_tail(&self) -> String {
        let Ok(file) = File::open(&self.log) else {
            return "(no log)".into();
        };
        let lines: Vec<String> = BufReader::new(file).lines().map_while(Result::ok).collect();
        let from = lines.len().saturating_sub(40);
        format!(
            "last lines of {}'s log:\n{}",
            self.name,
            lines[from..].join("\n")
        )
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A free port below Linux's ephemeral range (32768 and up by default). While a node is
/// down, loads keep connecting to its port; an ephemeral port could then be that very
/// port (a TCP self-connect), and the restart could not bind it.
pub fn free_port() -> u16 {
    for _ in 0..200 {
        let port = 20_000 + (rand::rng().next_u32() % 12_000) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in 20000..32000");
}

pub fn unique_suffix() -> String {
    let mut bytes = [0u8; 6];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock");
    i64::try_from(since.as_millis()).expect("ms")
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

// ---- the API, as a user ----

/// Sends JSON (or nothing) to `base` + `path` with the bearer token; answers the status
/// and the JSON body.
pub async fn call(
    http: &reqwest::Client,
    base: &str,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http.request(method, format!("{base}{path}"));
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
pub fn data(answer: (u16, Value), what: &str) -> Value {
    let (status, body) = answer;
    assert_eq!(status, 200, "{what}: {body}");
    body["data"].clone()
}

/// The password grant of the native API: the status and the body.
pub async fn login(http: &reqwest::Client, base: &str, user: &str, password: &str) -> (u16, Value) {
    let form = [
        ("client_id", "iab"),
        ("client_secret", "milesight*iab"),
        ("grant_type", "password"),
        ("username", user),
        ("password", password),
    ];
    let res = http
        .post(format!("{base}/api/v1/oauth2/token"))
        .form(&form)
        .send()
        .await
        .expect("token request sent");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Registers the first admin of the default tenant and logs in; answers the access token.
pub async fn admin_token(http: &reqwest::Client, base: &str) -> String {
    let body = json!({"email": "admin@weir.test", "nickname": "Admin", "password": PASSWORD});
    let register = call(
        http,
        base,
        reqwest::Method::POST,
        "/api/v1/user/register",
        None,
        Some(body),
    )
    .await;
    data(register, "register");
    let answer = login(http, base, "admin@weir.test", PASSWORD).await;
    data(answer, "login")["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// Adds a device of `integration`; answers its id.
pub async fn add_device(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    integration: &str,
    identifier: &str,
) -> String {
    let body = json!({"name": identifier, "integration": integration, "param_entities": {"identifier": identifier}});
    let answer = call(
        http,
        base,
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

/// A token for an HTTP device.
pub async fn device_token(http: &reqwest::Client, base: &str, admin: &str, device: &str) -> String {
    let answer = call(
        http,
        base,
        reqwest::Method::POST,
        &format!("/api/v1/device/{device}/token"),
        Some(admin),
        None,
    )
    .await;
    data(answer, "issue token")["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

/// The id and key of the device's `seq` entity, once it exists.
pub async fn seq_entity(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    device: &str,
) -> Option<(String, String)> {
    let answer = call(
        http,
        base,
        reqwest::Method::GET,
        &format!("/api/v1/device/{device}"),
        Some(admin),
        None,
    )
    .await;
    let entity = data(answer, "get device")["entities"]
        .as_array()?
        .iter()
        .find(|e| e["key"].as_str().is_some_and(|k| k.ends_with(".seq")))?
        .clone();
    Some((
        entity["id"].as_str()?.to_owned(),
        entity["key"].as_str()?.to_owned(),
    ))
}

/// The whole history of an entity, as timestamp → value.
pub async fn history(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    entity: &str,
    from: i64,
) -> HashMap<i64, Value> {
    let mut points = HashMap::new();
    for page in 1.. {
        let body = json!({"entity_id": entity, "start_timestamp": from,
                          "end_timestamp": from + 100_000_000, "page_number": page, "page_size": 1000});
        let answer = call(
            http,
            base,
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
pub type Acked = Arc<Mutex<Vec<i64>>>;

pub fn report(base: i64, n: i64) -> Value {
    json!({"ts": base + n, "values": {"seq": n}})
}

/// An HTTP device posting reports to `urls` in turn until `stop`, each with the next
/// sequence number; records those answered 200. Answers how many were not.
pub async fn http_load(
    urls: Vec<String>,
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
    for url in urls.iter().cycle() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let n = next.fetch_add(1, Ordering::Relaxed);
        let sent = http
            .post(url)
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
pub struct Publisher {
    client: AsyncClient,
    events: EventLoop,
}

impl Publisher {
    pub async fn connect(client_id: &str, broker: &Address) -> Self {
        let mut options = MqttOptions::new(client_id, broker.host.clone(), broker.port);
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
    pub async fn publish(&mut self, topic: &str, payload: &Value) -> bool {
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
pub async fn mqtt_load(
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
pub fn missing(acked: &[i64], history: &HashMap<i64, Value>, base: i64) -> Vec<i64> {
    acked
        .iter()
        .copied()
        .filter(|n| history.get(&(base + n)) != Some(&json!(n)))
        .collect()
}

/// The first few of a list, for a failure message.
pub fn few(v: &[i64]) -> Vec<String> {
    v.iter().take(20).map(i64::to_string).collect()
}
