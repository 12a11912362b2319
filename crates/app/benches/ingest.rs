//! Ingest figures, in one run on one database (see README, "Benchmarks"):
//! - HTTP: devices post reports of 1,000 values (10 samples of 100 entities) to
//!   `POST /api/v1/device/report` from concurrent clients, against the in-process server;
//!   a value counts once its request was answered 200, i.e. once it is committed;
//! - the same number of rows written by hand-written multi-row INSERTs of 1,000 rows into
//!   the same table from as many connections: the physical limit the HTTP path is held to;
//! - on PostgreSQL, the same rows again by binary COPY (diesel's `copy_from`), 1,000 rows
//!   per COPY and transaction from as many connections: the fastest way in;
//! - MQTT: as many values published as reports of 1,000 values at QoS 1 by one device,
//!   timed until Weir has committed them all (counted on its event bus): once through the
//!   local Mosquitto (127.0.0.1:1883, or WEIR_BENCH_MQTT_URL; skipped when no broker
//!   answers), once through the embedded broker (on a free port, the device logging in
//!   with its token);
//! - MQTT transport, through each broker: 100,000 small QoS 1 messages, timed until the
//!   broker acknowledged them all (what the broker costs, without the database).
//!
//! cargo bench -p weir --bench ingest                                   (SQLite, temp file)
//! WEIR_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/weir_bench \
//!     cargo bench -p weir --bench ingest                               (PostgreSQL)
//! WEIR_BENCH_SECS=20 WEIR_BENCH_CLIENTS=8 ...                          (defaults 10 and 4)
//! bash benches/run.sh runs it on both backends with the other figures of issue 16.

// Benchmark code: a panic stops the run with its reason (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::ExecuteCopyFromDsl;
use diesel::connection::SimpleConnection;
use serde_json::{Value as Json, json};
use weir::{Settings, Weir};
use weir_iot::Viewer;
use weir_kernel::{StoreError, TenantId, TxMode};
use weir_storage::DbConn;
use weir_storage::schema::entity_history;

/// A row of the COPY reference: the columns the hand-written INSERT writes.
#[derive(diesel::Insertable)]
#[diesel(table_name = entity_history)]
#[diesel(treat_none_as_default_value = false)]
struct HistoryRow {
    entity_id: i64,
    ts: i64,
    tenant_id: &'static str,
    double_value: Option<f64>,
}

/// p50 and p99 of latencies, in milliseconds.
fn percentiles(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    (at(0.50), at(0.99))
}

const ENTITIES: usize = 100;
const SAMPLES: usize = 10;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A report of SAMPLES samples of ENTITIES values each, at timestamps from `ts`, written
/// straight to text: the load generator shares the machine, so it should cost little.
fn report(ts: i64) -> String {
    use std::fmt::Write;
    let mut body = String::with_capacity(SAMPLES * ENTITIES * 16);
    body.push('[');
    for s in 0..SAMPLES as i64 {
        if s > 0 {
            body.push(',');
        }
        let t = ts + s;
        let _ = write!(body, "{{\"ts\":{t},\"values\":{{");
        for e in 0..ENTITIES {
            if e > 0 {
                body.push(',');
            }
            let _ = write!(body, "\"m{e}\":{:.1}", t as f64 % 97.0 + e as f64 + 0.5);
        }
        body.push_str("}}");
    }
    body.push(']');
    body
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let secs: u64 = env_or("WEIR_BENCH_SECS", 10);
    let clients: usize = env_or("WEIR_BENCH_CLIENTS", 4);
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::default();
    settings.database.url = std::env::var("WEIR_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| dir.path().join("bench.db").to_string_lossy().into_owned());
    settings.database.pool_size = (clients as u32 + 2).max(10);
    settings.http.addr = "127.0.0.1:0".into();
    let mqtt_url =
        std::env::var("WEIR_BENCH_MQTT_URL").unwrap_or_else(|_| "mqtt://127.0.0.1:1883".into());
    let run = std::process::id();
    let prefix = format!("weir-bench-{run}");
    settings.mqtt.mode = weir_mqtt::Mode::External;
    settings.mqtt.url = Some(mqtt_url.clone());
    settings.mqtt.client_id = format!("weir-bench-{run}");
    settings.mqtt.topic_prefix = prefix.clone();
    let weir = tokio::task::spawn_blocking(move || Weir::assemble(settings))
        .await
        .unwrap()
        .expect("assemble Weir");
    println!(
        "backend {:?}, {clients} clients, {secs} s, reports of {} values",
        weir.database.backend(),
        ENTITIES * SAMPLES
    );
    let (server, addr) = weir.serve().expect("bind");
    tokio::spawn(server);
    let mqtt = weir.start_mqtt().expect("start MQTT");

    // One device per client, each with a token; a first report creates its entities.
    let tenant = TenantId::default_tenant();
    let mut tokens = Vec::new();
    let mut entity_ids: Vec<i64> = Vec::new();
    for c in 0..clients {
        let iot = weir.iot.clone();
        let admin = Viewer::system(tenant.clone());
        let (token, ids) = tokio::task::spawn_blocking(move || {
            let params = json!({"identifier": format!("bench-{run}-{c}")});
            let device = iot
                .create_device(&admin, "bench", "http-device", params.as_object().unwrap())
                .expect("a bench device");
            let (_, token) = iot.issue_device_token(&admin, device.id).unwrap();
            let body: Json = serde_json::from_str(&report(0)).unwrap();
            let samples = weir_iot::samples::Sample::parse_all(body).unwrap();
            let out = iot.ingest(&token, &samples).unwrap();
            let ids: Vec<i64> = out.points[..ENTITIES]
                .iter()
                .map(|p| p.entity_id.get())
                .collect();
            (token, ids)
        })
        .await
        .unwrap();
        tokens.push(token);
        entity_ids.extend(ids);
    }

    // HTTP: each client posts reports back to back until the time is up.
    let http = reqwest::Client::new();
    let url = format!("http://{addr}/api/v1/device/report");
    let stored = Arc::new(AtomicUsize::new(0));
    let clock = Arc::new(AtomicI64::new(1_000));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for token in tokens {
        let (http, url, stored, clock) = (http.clone(), url.clone(), stored.clone(), clock.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let ts = clock.fetch_add(SAMPLES as i64, Ordering::Relaxed);
                let body = report(ts);
                let sent = Instant::now();
                let res = http
                    .post(&url)
                    .header("X-Device-Token", &token)
                    .header("Content-Type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("request");
                assert_eq!(
                    res.status(),
                    200,
                    "{}",
                    res.text().await.unwrap_or_default()
                );
                latencies.push(sent.elapsed());
                stored.fetch_add(ENTITIES * SAMPLES, Ordering::Relaxed);
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let http_secs = started.elapsed().as_secs_f64();
    let (p50, p99) = percentiles(latencies);
    let values = stored.load(Ordering::Relaxed);
    let http_rate = values as f64 / http_secs;

    // The same number of rows by hand, 1,000 per statement and transaction, from as many
    // connections, for the same entities at later times.
    let per_client = values / clients;
    let rows_per_statement = ENTITIES * SAMPLES;
    let base = clock.load(Ordering::Relaxed) + 1_000_000;
    let started = Instant::now();
    let mut writers = Vec::new();
    for c in 0..clients {
        let db = weir.database.clone();
        let ids: Vec<i64> = entity_ids[c * ENTITIES..(c + 1) * ENTITIES].to_vec();
        writers.push(tokio::task::spawn_blocking(move || {
            let mut written = 0;
            let mut ts = base;
            while written < per_client {
                let mut sql = String::from(
                    "INSERT INTO entity_history (entity_id, ts, tenant_id, double_value) VALUES ",
                );
                for i in 0..rows_per_statement {
                    if i > 0 {
                        sql.push(',');
                    }
                    let e = ids[i % ENTITIES];
                    let t = ts + (i / ENTITIES) as i64;
                    sql.push_str(&format!("({e},{t},'default',{})", t as f64 % 97.0));
                }
                ts += SAMPLES as i64;
                db.transaction(TxMode::Write, |conn| {
                    conn.batch_execute(&sql)
                        .map_err(|e| StoreError::Internal(e.to_string()))
                })
                .unwrap();
                written += rows_per_statement;
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    let raw_rate = (per_client * clients) as f64 / started.elapsed().as_secs_f64();
    println!(
        "HTTP ingest {http_rate:.0} values/s ({values} values in {http_secs:.1} s, request \
         p50 {p50:.2} ms, p99 {p99:.2} ms), hand-written INSERT {raw_rate:.0} values/s, ratio {:.2}",
        http_rate / raw_rate
    );

    // The same rows once more by binary COPY, PostgreSQL's fastest way in: as many
    // connections, 1,000 rows per COPY and transaction, at times after the INSERTs'.
    if weir.database.backend() == weir_storage::Backend::Postgres {
        let base = base + 100_000_000;
        let started = Instant::now();
        let mut writers = Vec::new();
        for c in 0..clients {
            let db = weir.database.clone();
            let ids: Vec<i64> = entity_ids[c * ENTITIES..(c + 1) * ENTITIES].to_vec();
            writers.push(tokio::task::spawn_blocking(move || {
                let mut written = 0;
                let mut ts = base;
                while written < per_client {
                    let rows: Vec<HistoryRow> = (0..rows_per_statement)
                        .map(|i| {
                            let t = ts + (i / ENTITIES) as i64;
                            HistoryRow {
                                entity_id: ids[i % ENTITIES],
                                ts: t,
                                tenant_id: "default",
                                double_value: Some(t as f64 % 97.0),
                            }
                        })
                        .collect();
                    ts += SAMPLES as i64;
                    db.transaction(TxMode::Write, |conn| match conn {
                        DbConn::Pg(pg) => diesel::copy_from(entity_history::table)
                            .from_insertable(&rows)
                            .execute(pg)
                            .map_err(|e| StoreError::Internal(e.to_string())),
                        DbConn::Sqlite(_) => unreachable!("COPY is PostgreSQL's"),
                    })
                    .unwrap();
                    written += rows_per_statement;
                }
            }));
        }
        for w in writers {
            w.await.unwrap();
        }
        let copy_rate = (per_client * clients) as f64 / started.elapsed().as_secs_f64();
        println!(
            "binary COPY {copy_rate:.0} values/s, HTTP ingest ÷ COPY {:.2}",
            http_rate / copy_rate
        );
    }

    let (host, port) = mqtt_url
        .trim_start_matches("mqtt://")
        .rsplit_once(':')
        .map(|(h, p)| (h.to_owned(), p.parse().unwrap_or(1883)))
        .unwrap_or((mqtt_url.clone(), 1883));
    let external = Broker {
        name: format!("Mosquitto at {mqtt_url}"),
        host,
        port,
        login: false,
    };
    mqtt_ingest(&weir, &mqtt, &external, &prefix, values).await;
    mqtt.stop().await;

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let mut settings = weir.settings.mqtt.to_mqtt();
    settings.mode = weir_mqtt::Mode::Embedded;
    settings.embedded_addr = format!("127.0.0.1:{port}");
    settings.client_id = format!("weir-bench-embedded-{run}");
    let mqtt = weir_mqtt::Mqtt::start(&settings, weir.iot.clone(), weir.mqtt_devices.clone())
        .expect("start the embedded broker");
    let embedded = Broker {
        name: format!("the embedded broker at 127.0.0.1:{port}"),
        host: "127.0.0.1".into(),
        port,
        login: true,
    };
    mqtt_ingest(&weir, &mqtt, &embedded, &prefix, values).await;
    mqtt.stop().await;
}

/// Where the bench device publishes.
struct Broker {
    name: String,
    host: String,
    port: u16,
    /// The device logs in with its token (the embedded broker).
    login: bool,
}

/// Publishes `values` values as reports of 1,000 to one device and times them until all
/// are committed.
async fn mqtt_ingest(
    weir: &Weir,
    mqtt: &weir_mqtt::Mqtt,
    broker: &Broker,
    prefix: &str,
    values: usize,
) {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
    for _ in 0..100 {
        if mqtt.is_ready() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !mqtt.is_ready() {
        println!("MQTT: no answer from {}; skipped", broker.name);
        return;
    }
    let identifier = format!("mqtt-bench-{}-{}", std::process::id(), broker.port);
    let iot = weir.iot.clone();
    let id = identifier.clone();
    let token = tokio::task::spawn_blocking(move || {
        let params = json!({"identifier": id});
        let admin = Viewer::system(TenantId::default_tenant());
        let device = iot
            .create_device(
                &admin,
                "mqtt bench",
                "mqtt-device",
                params.as_object().unwrap(),
            )
            .expect("an MQTT bench device");
        iot.issue_device_token(&admin, device.id).unwrap().1
    })
    .await
    .unwrap();
    let messages = (values / (ENTITIES * SAMPLES)).max(10);
    let expected = messages * ENTITIES * SAMPLES;
    let mut bus = weir.iot.events().subscribe();
    let mut options = MqttOptions::new(
        format!("bench-device-{}", std::process::id()),
        broker.host.clone(),
        broker.port,
    );
    options.set_max_packet_size(1 << 20, 1 << 20);
    if broker.login {
        options.set_credentials(&identifier, token);
    }
    let (client, mut events) = AsyncClient::new(options, 100);
    let acked = Arc::new(AtomicUsize::new(0));
    let counter = acked.clone();
    let pump = tokio::spawn(async move {
        while let Ok(event) = events.poll().await {
            if let Event::Incoming(Packet::PubAck(_)) = event {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let topic = format!("{prefix}/default/{identifier}/uplink");
    let topic_again = topic.clone();
    // Mosquitto drops what it queues for a subscriber beyond max_queued_messages (1000 by
    // default), so the publisher stays at most 200 messages ahead of what Weir committed.
    let done = Arc::new(AtomicUsize::new(0));
    let ahead = done.clone();
    let started = Instant::now();
    let publisher = tokio::spawn(async move {
        for m in 0..messages {
            while m > ahead.load(Ordering::Relaxed) / (ENTITIES * SAMPLES) + 200 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let payload = report(10_000 + (m * SAMPLES) as i64);
            client
                .publish(topic.as_str(), QoS::AtLeastOnce, false, payload)
                .await
                .unwrap();
        }
        client
    });
    let mut committed = 0;
    while committed < expected {
        match tokio::time::timeout(Duration::from_secs(30), bus.next()).await {
            Ok(Some(event)) if event.values.iter().any(|v| v.key.contains(&identifier)) => {
                committed += event.values.len();
                done.store(committed, Ordering::Relaxed);
            }
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let client = publisher.await.unwrap();
    println!(
        "MQTT ingest through {}: {:.0} values/s ({committed} of {expected} values committed in \
         {secs:.1} s, {} messages acknowledged by the broker)",
        broker.name,
        committed as f64 / secs,
        acked.load(Ordering::Relaxed)
    );

    // The broker alone: small QoS 1 messages as fast as the device's in-flight window
    // (100) lets it, timed until the broker acknowledged them all. Not JSON, so Weir
    // refuses them before the database.
    while acked.load(Ordering::Relaxed) < messages {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let small = 100_000;
    let started = Instant::now();
    let cpu_before = cpu_seconds();
    for _ in 0..small {
        client
            .publish(
                topic_again.as_str(),
                QoS::AtLeastOnce,
                false,
                vec![b'.'; 64],
            )
            .await
            .unwrap();
    }
    while acked.load(Ordering::Relaxed) < messages + small
        && started.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    pump.abort();
    println!(
        "MQTT transport through {}: {:.0} messages/s, {:.1} µs of CPU (the whole process) a \
         message ({} of {small} messages of 64 bytes \
         acknowledged in {secs:.2} s)",
        broker.name,
        (acked.load(Ordering::Relaxed) - messages) as f64 / secs,
        cpu * 1e6 / small as f64,
        acked.load(Ordering::Relaxed) - messages
    );
}

/// The CPU time this process used so far (user and system, all threads), from
/// /proc/self/stat in clock ticks of 10 ms: less swayed by other work on the machine
/// than wall time. 0 where there is no /proc.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) and its closing parenthesis.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}
