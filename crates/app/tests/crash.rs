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

mod process;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use process::{
    Acked, Node, Publisher, START_WITHIN, add_device, admin_token, device_token, few, free_port,
    history, http_client, http_load, missing, mqtt_load, now_ms, report, seq_entity, unique_suffix,
};
use weir_storage::testing::TestDatabase;
use weir_test_kit::external::{self, Address};

/// Concurrent HTTP devices posting reports.
const HTTP_CLIENTS: usize = 4;
// The MQTT rate (one publish per `process::PAUSE`, ~150/s) keeps Mosquitto's queue for
// the absent Weir well under its default `max_queued_messages` (1000), beyond which it
// would drop messages it acknowledged.
const LOAD_BEFORE_KILL: Duration = Duration::from_millis(1500);
const DOWN_FOR: Duration = Duration::from_millis(500);
const LOAD_AFTER_RESTART: Duration = Duration::from_millis(500);
const STORED_WITHIN: Duration = Duration::from_secs(20);
/// Acknowledged values each path must have before the kill, so the test can fail.
const MIN_ACKED_BEFORE_KILL: usize = 20;

// ---- the server process ----

/// What both runs of the server share: its database, port, MQTT identity and log file.
struct Plan {
    database: TestDatabase,
    /// The external broker; `None` runs the server with MQTT off (the HTTP half only).
    broker: Option<Address>,
    client_id: String,
    prefix: String,
    dir: tempfile::TempDir,
}

impl Plan {
    fn new() -> Self {
        let unique = unique_suffix();
        Self {
            database: TestDatabase::new().expect("a fresh test database"),
            broker: external::mqtt(),
            // The same client id at both starts: the second resumes the session.
            client_id: format!("weir-crash-{unique}"),
            prefix: format!("weir-crash/{unique}"),
            dir: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    /// The server, not started; both runs use the same settings.
    fn node(&self) -> Node {
        let mut env = vec![
            ("WEIR_DATABASE_URL".to_owned(), self.database.url.clone()),
            ("WEIR_MQTT__CLIENT_ID".to_owned(), self.client_id.clone()),
            ("WEIR_MQTT__TOPIC_PREFIX".to_owned(), self.prefix.clone()),
        ];
        match &self.broker {
            Some(broker) => env.extend([
                ("WEIR_MQTT__MODE".to_owned(), "external".to_owned()),
                ("WEIR_MQTT__URL".to_owned(), broker.url.clone()),
            ]),
            None => env.push(("WEIR_MQTT__MODE".to_owned(), "off".to_owned())),
        }
        Node::new("weir", free_port(), self.dir.path().join("weir.log"), env)
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

impl Drop for Plan {
    /// Ends Weir's session at the broker, so a failed run leaves no queue behind in
    /// Mosquitto.
    fn drop(&mut self) {
        let Some(settings) = self.mqtt_settings() else {
            return;
        };
        // A thread of its own: the drop may run on the test's runtime.
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

// ---- the test ----

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_http_and_mqtt_ingest_loses_nothing_acknowledged() {
    let started = Instant::now();
    let plan = tokio::task::spawn_blocking(Plan::new)
        .await
        .expect("plan task");
    let http = http_client();
    let mut server = plan.node();
    let base_url = server.base();
    server.start();
    server.wait_ready(&http).await;

    // The scene: an admin, an HTTP device with its token, an MQTT device.
    let admin = admin_token(&http, &base_url).await;
    let http_device = add_device(&http, &base_url, &admin, "http-device", "crash-http").await;
    let device_token = device_token(&http, &base_url, &admin, &http_device).await;
    let topic = format!("{}/default/crash-mqtt/uplink", plan.prefix);

    // Value n lands at base + n; value 0 creates each device's `seq` entity. For MQTT it
    // also shows Weir's client has subscribed: what the broker takes before that is not
    // kept for Weir.
    let base = now_ms() - 3_600_000;
    let report_url = server.url("/api/v1/device/report");
    let first = http
        .post(&report_url)
        .header("X-Device-Token", &device_token)
        .json(&report(base, 0))
        .send()
        .await
        .expect("first report sent");
    assert_eq!(first.status(), 200, "first report");
    let (http_seq, _) = seq_entity(&http, &base_url, &admin, &http_device)
        .await
        .expect("the HTTP device's seq entity");
    let mqtt = match &plan.broker {
        Some(broker) => {
            let mqtt_device =
                add_device(&http, &base_url, &admin, "mqtt-device", "crash-mqtt").await;
            let device_id = format!("{}-device", plan.client_id);
            let mut publisher = Publisher::connect(&device_id, broker).await;
            let deadline = Instant::now() + START_WITHIN;
            let mqtt_seq = loop {
                publisher.publish(&topic, &report(base, 0)).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                if let Some((id, _)) = seq_entity(&http, &base_url, &admin, &mqtt_device).await {
                    break id;
                }
                assert!(
                    Instant::now() < deadline,
                    "Weir stored no MQTT message within {START_WITHIN:?}; {}",
                    server.log_tail()
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
            vec![report_url.clone()],
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
    server.kill();
    let http_before_kill = http_acked.lock().expect("acked").len();
    let mqtt_before_kill = mqtt_acked.lock().expect("acked").len();
    tokio::time::sleep(DOWN_FOR).await;
    let mqtt_while_down = mqtt_acked.lock().expect("acked").len() - mqtt_before_kill;
    server.start();
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
        server.log_tail()
    );

    // Every acknowledged value is stored. HTTP answered only after the commit, so its
    // values are there at once; MQTT messages still with the broker arrive shortly.
    let http_history = history(&http, &base_url, &admin, &http_seq, base).await;
    let http_missing = missing(&http_acked, &http_history, base);
    let deadline = Instant::now() + STORED_WITHIN;
    let mqtt_missing = loop {
        let Some(mqtt_seq) = &mqtt_seq else {
            break Vec::new();
        };
        let stored = history(&http, &base_url, &admin, mqtt_seq, base).await;
        let lacking = missing(&mqtt_acked, &stored, base);
        if lacking.is_empty() || Instant::now() >= deadline {
            break lacking;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        http_missing.is_empty() && mqtt_missing.is_empty(),
        "acknowledged values lost: {summary}; HTTP missing {} (first: {:?}), MQTT missing {} \
         after {STORED_WITHIN:?} (first: {:?}); {}",
        http_missing.len(),
        few(&http_missing),
        mqtt_missing.len(),
        few(&mqtt_missing),
        server.log_tail()
    );
    eprintln!("{summary}; all stored; {:?} in all", started.elapsed());
}
