//! Cluster figures, in one run (issue 15; docs/scaling.md, "Measured"): the real `weir`
//! binary (release) on PostgreSQL, in three set-ups one after the other, each on a fresh
//! schema:
//! - one node, cluster mode off;
//! - one node in cluster mode (NATS): what cluster mode costs a node;
//! - two nodes in cluster mode, the clients posting to them in turn.
//!
//! In each: concurrent HTTP devices post reports of 100 values (10 samples of 10
//! entities) for `WEIR_BENCH_SECS`; a value counts once answered 200 (committed). Beside
//! that load a probe posts one value every 20 ms to the first node, and a WebSocket on
//! the last node (the same node when there is one) times its arrival: the delivery
//! latency across nodes.
//!
//! cargo bench -p weir --bench cluster
//! WEIR_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres (a schema is made
//! there per set-up) WEIR_BENCH_NATS_URL=nats://127.0.0.1:4222 WEIR_BENCH_SECS=10
//! WEIR_BENCH_CLIENTS=8 (the defaults)

// Benchmark code: a panic stops the run with its reason (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/process/mod.rs"]
mod process;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use process::{
    Node, add_device, admin_token, device_token, free_port, http_client, now_ms, unique_suffix,
};
use serde_json::{Value, json};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;
use weir_storage::testing::{create_postgres_schema, drop_postgres_schema};

const ENTITIES: usize = 10;
const SAMPLES: usize = 10;
const PROBE_EVERY: Duration = Duration::from_millis(20);

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn report(ts: i64) -> String {
    let samples: Vec<Value> = (0..SAMPLES as i64)
        .map(|s| {
            let values: serde_json::Map<String, Value> = (0..ENTITIES)
                .map(|e| (format!("m{e}"), json!((ts + s) as f64 % 97.0 + e as f64)))
                .collect();
            json!({"ts": ts + s, "values": values})
        })
        .collect();
    Value::Array(samples).to_string()
}

struct Figures {
    values_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    probes: usize,
}

async fn run(
    label: &str,
    nodes: usize,
    cluster: bool,
    pg: &str,
    nats: &str,
    secs: u64,
    clients: usize,
) -> Figures {
    let unique = unique_suffix();
    let schema = format!("bench_cluster_{unique}");
    let url = create_postgres_schema(pg, &schema).expect("a fresh schema");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut running: Vec<Node> = (0..nodes)
        .map(|i| {
            let mut env = vec![
                ("WEIR_DATABASE_URL".to_owned(), url.clone()),
                ("WEIR_MQTT__MODE".to_owned(), "off".to_owned()),
                ("RUST_LOG".to_owned(), "warn".to_owned()),
            ];
            if cluster {
                env.push(("WEIR_CLUSTER__NATS_URL".into(), nats.to_owned()));
                env.push(("WEIR_CLUSTER__NODE_NAME".into(), format!("n{i}")));
                env.push((
                    "WEIR_CLUSTER__SUBJECT_PREFIX".into(),
                    format!("bench-{unique}"),
                ));
            }
            Node::new(
                &format!("n{i}"),
                free_port(),
                dir.path().join(format!("n{i}.log")),
                env,
            )
        })
        .collect();
    let http = http_client();
    for node in &mut running {
        node.start();
    }
    for node in &mut running {
        node.wait_ready(&http).await;
    }
    let first = running[0].base();
    let last = running[nodes - 1].base();
    let admin = admin_token(&http, &first).await;
    let device = add_device(&http, &first, &admin, "http-device", "bench").await;
    let token = device_token(&http, &first, &admin, &device).await;
    // The entities, created by a first report.
    let created = http
        .post(format!("{first}/api/v1/device/report"))
        .header("X-Device-Token", &token)
        .header("content-type", "application/json")
        .body(json!([{"ts": now_ms(), "values": {"probe": 0}}]).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let sample = report(now_ms() - 1000);
    let created = http
        .post(format!("{first}/api/v1/device/report"))
        .header("X-Device-Token", &token)
        .header("content-type", "application/json")
        .body(sample)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let key = "http-device.device.bench.probe";

    // The socket, watching the probe.
    let ws_url = format!(
        "{}/websocket?Authorization=Bearer%20{admin}",
        last.replacen("http://", "ws://", 1)
    );
    let (mut ws, _) = connect_async(ws_url).await.expect("WebSocket");
    ws.send(Message::text(
        json!({"event_type": "Exchange", "payload": {"entity_key": [key]}}).to_string(),
    ))
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let stop = Arc::new(AtomicBool::new(false));
    let values = Arc::new(AtomicU64::new(0));
    let urls: Vec<String> = running
        .iter()
        .map(|n| n.url("/api/v1/device/report"))
        .collect();
    let mut load = Vec::new();
    for c in 0..clients {
        let (urls, token, stop, values) =
            (urls.clone(), token.clone(), stop.clone(), values.clone());
        load.push(tokio::spawn(async move {
            let http = http_client();
            let mut ts = now_ms() - 86_400_000 * (c as i64 + 1);
            let mut i = c;
            while !stop.load(Ordering::Relaxed) {
                ts += SAMPLES as i64;
                let res = http
                    .post(&urls[i % urls.len()])
                    .header("X-Device-Token", &token)
                    .header("content-type", "application/json")
                    .body(report(ts))
                    .send()
                    .await;
                if res.is_ok_and(|r| r.status() == 200) {
                    values.fetch_add((SAMPLES * ENTITIES) as u64, Ordering::Relaxed);
                }
                i += 1;
            }
        }));
    }
    // The probe: value n sent at sent[n]; the socket notes when each arrives.
    let sent = Arc::new(std::sync::Mutex::new(Vec::<Instant>::new()));
    let probe = {
        let (http, token, stop, sent, first) = (
            http.clone(),
            token.clone(),
            stop.clone(),
            sent.clone(),
            first.clone(),
        );
        tokio::spawn(async move {
            let mut n = 1;
            while !stop.load(Ordering::Relaxed) {
                let body = json!({"ts": now_ms(), "values": {"probe": n}});
                sent.lock().unwrap().push(Instant::now());
                let _ = http
                    .post(format!("{first}/api/v1/device/report"))
                    .header("X-Device-Token", &token)
                    .json(&body)
                    .send()
                    .await;
                n += 1;
                tokio::time::sleep(PROBE_EVERY).await;
            }
        })
    };
    let started = Instant::now();
    let mut latencies = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, ws.next()).await {
        let Message::Text(text) = frame else { continue };
        let frame: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let Some(n) = frame["values"][key]["value"].as_u64() else {
            continue;
        };
        let at = sent.lock().unwrap().get(n as usize - 1).copied();
        if let Some(at) = at {
            latencies.push(at.elapsed().as_secs_f64() * 1000.0);
        }
    }
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    for task in load {
        let _ = task.await;
    }
    let _ = probe.await;
    let total = values.load(Ordering::Relaxed) as f64;
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    let figures = Figures {
        values_per_sec: total / elapsed,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        probes: latencies.len(),
    };
    println!(
        "{label:<34} {:>10.0} values/s   delivery p50 {:>6.1} ms  p99 {:>6.1} ms  ({} probes of {})",
        figures.values_per_sec,
        figures.p50_ms,
        figures.p99_ms,
        figures.probes,
        sent.lock().unwrap().len()
    );
    drop(running);
    let _ = drop_postgres_schema(pg, &schema);
    figures
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let pg: String = env_or(
        "WEIR_BENCH_DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432/postgres".to_owned(),
    );
    let nats: String = env_or("WEIR_BENCH_NATS_URL", "nats://127.0.0.1:4222".to_owned());
    let secs = env_or("WEIR_BENCH_SECS", 10u64);
    let clients = env_or("WEIR_BENCH_CLIENTS", 8usize);
    println!(
        "cluster bench: PostgreSQL {pg}, NATS {nats}, {secs} s each, {clients} HTTP clients, reports of {} values",
        SAMPLES * ENTITIES
    );
    let plain = run(
        "one node, cluster mode off",
        1,
        false,
        &pg,
        &nats,
        secs,
        clients,
    )
    .await;
    let one = run(
        "one node, cluster mode (NATS)",
        1,
        true,
        &pg,
        &nats,
        secs,
        clients,
    )
    .await;
    let two = run(
        "two nodes, cluster mode, round robin",
        2,
        true,
        &pg,
        &nats,
        secs,
        clients,
    )
    .await;
    println!(
        "ratios: cluster mode / off (one node) {:.3}; two nodes / one node in cluster mode {:.3}",
        one.values_per_sec / plain.values_per_sec,
        two.values_per_sec / one.values_per_sec
    );
}
