//! Workflow engine figures, in one run on one database (see README, "Benchmarks"), with
//! run logs and traces on, as a server runs them:
//! - events: `eventListener → choice → code → entityAssigner → output` flows, one per pair
//!   of lamps; a driver per pair writes a level and waits until the flow's assigned mode is
//!   committed (seen on the event bus). Latency is from the write's call to that commit;
//! - flood: the same flow fed by `WEIR_BENCH_WRITERS` (4) writers as fast as they can; every
//!   write must start a run, so the run logs are counted against the writes;
//! - HTTP: `httpIn → code → choice → code → output` driven by 10 keep-alive connections
//!   from this process (the load shares the machine's cores with the server, which makes
//!   the figure conservative). Latency is per request. The same flow in Node-RED, both
//!   driven by wrk in one run, is measured by `bash benches/run.sh`.
//!
//! cargo bench -p weir --bench workflow                                 (SQLite, temp file)
//! WEIR_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/weir_bench \
//!     cargo bench -p weir --bench workflow                             (PostgreSQL)
//! WEIR_BENCH_SECS=20 WEIR_BENCH_CONNECTIONS=10 WEIR_BENCH_PAIRS=4 ...   (the defaults: 10, 10, 4)

// Benchmark code: a panic stops the run with its reason (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value as Json, json};
use weir::{Settings, Weir};
use weir_iot::Viewer;
use weir_iot::integration::{FixedEntities, Integration};
use weir_iot::service::WriteKind;
use weir_kernel::TenantId;
use weir_workflow::{Caller, SaveDesign};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Lamps with a level and a mode, both settable.
fn lamps() -> Arc<dyn Integration> {
    let entities = [
        json!({"identifier": "level", "name": "Level", "type": "PROPERTY", "access_mod": "RW", "value_type": "LONG"}),
        json!({"identifier": "mode", "name": "Mode", "type": "PROPERTY", "access_mod": "RW", "value_type": "STRING"}),
    ]
    .into_iter()
    .map(|e| serde_json::from_value(e).unwrap())
    .collect();
    Arc::new(FixedEntities::new("lamp", "Lamps", entities))
}

fn node(id: &str, component: &str, parameters: Json) -> Json {
    json!({"id": id, "componentName": component, "data": {"nodeName": id, "parameters": parameters}})
}

fn edges(pairs: &[(&str, &str, Option<&str>)]) -> Vec<Json> {
    pairs
        .iter()
        .enumerate()
        .map(|(i, (s, t, h))| json!({"id": format!("e{i}"), "source": s, "target": t, "sourceHandle": h}))
        .collect()
}

fn event_design(from: &str, to: &str) -> String {
    let level = format!("{{{{listen.lamp.device.{from}.level}}}}");
    json!({"nodes": [
        node("listen", "eventListener", json!({"entities": [format!("lamp.device.{from}.level")]})),
        node("check", "choice", json!({"choice": {"when": [{"id": "on", "conditions": [
            {"expressionValue": {"key": level, "operator": "GT", "value": 0}}]}],
            "otherwise": {"id": "off"}}})),
        node("name", "code", json!({"expression": {"language": "rhai",
            "expression": "#{mode: \"m\" + level}"}, "inputArguments": {"level": level}})),
        node("set", "entityAssigner", json!({"exchangePayload":
            {format!("lamp.device.{to}.mode"): "{{name.mode}}"}})),
        node("out", "output", json!({"outputVariables": {"mode": "{{name.mode}}"}})),
    ], "edges": edges(&[("listen", "check", None), ("check", "name", Some("on")),
        ("name", "set", None), ("set", "out", None)])})
    .to_string()
}

fn http_design() -> String {
    json!({"nodes": [
        node("in", "httpIn", json!({"method": "POST", "url": "/bench"})),
        node("stamp", "code", json!({"expression": {"language": "rhai",
            "expression": "let m = msg; m.stamp = timestamp_ms(); m.kind = m[\"type\"]; m"}})),
        node("kind", "choice", json!({"choice": {"when": [{"id": "temp", "conditions": [
            {"expressionValue": {"key": "{{stamp.kind}}", "operator": "EQ", "value": "temp"}}]}],
            "otherwise": {"id": "other"}}})),
        node("alarm", "code", json!({"expression": {"language": "rhai",
            "expression": "#{alarm: value > 30}"}})),
        node("out", "output", json!({})),
    ], "edges": edges(&[("in", "stamp", None), ("stamp", "kind", None),
        ("kind", "alarm", Some("temp")), ("alarm", "out", None)])})
    .to_string()
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

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let secs: u64 = env_or("WEIR_BENCH_SECS", 10);
    let connections: usize = env_or("WEIR_BENCH_CONNECTIONS", 10);
    let pairs: usize = env_or("WEIR_BENCH_PAIRS", 4);
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::default();
    settings.database.url = std::env::var("WEIR_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| dir.path().join("bench.db").to_string_lossy().into_owned());
    settings.database.pool_size = 16;
    settings.http.addr = "127.0.0.1:0".into();
    settings.mqtt.mode = weir_mqtt::Mode::Off;
    settings.workflow.max_runs_per_tenant = 64;
    let weir = tokio::task::spawn_blocking(move || Weir::assemble_with(settings, vec![lamps()]))
        .await
        .unwrap()
        .expect("assemble Weir");
    weir.start_workflows().await.expect("start the workflows");
    let (server, addr) = weir.serve().expect("bind");
    tokio::spawn(server);
    println!(
        "backend {:?}, {secs} s per figure, traces and run logs on",
        weir.database.backend()
    );

    let tenant = TenantId::default_tenant();
    let admin = Caller::system(tenant.clone());
    let run = std::process::id();

    // Events: a pair of lamps and a flow per driver.
    let mut drivers = Vec::new();
    for p in 0..pairs {
        let (iot, workflow, admin) = (weir.iot.clone(), weir.workflow.clone(), admin.clone());
        let viewer = Viewer::system(tenant.clone());
        let (from, to) = (format!("a{run}x{p}"), format!("b{run}x{p}"));
        let (f, t) = (from.clone(), to.clone());
        tokio::task::spawn_blocking(move || {
            for name in [&f, &t] {
                iot.create_device(&viewer, name, "lamp", &Map::new())
                    .expect("a lamp");
            }
            workflow
                .save_design(
                    &admin,
                    SaveDesign {
                        name: format!("events {f}"),
                        enabled: true,
                        design_data: event_design(&f, &t),
                        ..SaveDesign::default()
                    },
                )
                .expect("the event flow");
        })
        .await
        .unwrap();
        drivers.push((from, to));
    }
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (from, to) in drivers {
        let iot = weir.iot.clone();
        let tenant = tenant.clone();
        tasks.push(tokio::spawn(async move {
            let mut events = iot.events().subscribe();
            let target = format!("lamp.device.{to}.mode");
            let mut latencies = Vec::new();
            let mut lost = 0u64;
            let mut level = 0i64;
            while Instant::now() < deadline {
                level += 1;
                let sent = Instant::now();
                let (iot2, tenant2) = (iot.clone(), tenant.clone());
                let exchange = json!({format!("lamp.device.{from}.level"): level});
                tokio::task::spawn_blocking(move || {
                    iot2.write_values(
                        &Viewer::system(tenant2),
                        exchange.as_object().unwrap(),
                        WriteKind::PropertyUpdate,
                        None,
                    )
                })
                .await
                .unwrap()
                .expect("write the level");
                let want = Json::String(format!("m{level}"));
                // A write whose assignment is not seen within 10 s of the last event on the
                // bus counts as lost, and the driver goes on with the next level.
                let seen = 'wait: loop {
                    let Ok(event) =
                        tokio::time::timeout(Duration::from_secs(10), events.next()).await
                    else {
                        break 'wait false;
                    };
                    for v in &event.expect("the event bus").values {
                        if v.key == target && v.value.to_json() == want {
                            break 'wait true;
                        }
                    }
                };
                if seen {
                    latencies.push(sent.elapsed());
                } else {
                    lost += 1;
                }
            }
            (latencies, lost)
        }));
    }
    let mut latencies = Vec::new();
    let mut lost = 0u64;
    for t in tasks {
        let (l, n) = t.await.unwrap();
        latencies.extend(l);
        lost += n;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (p50, p99) = percentiles(latencies.clone());
    println!(
        "events (5 nodes, {pairs} flows): {:.0} runs/s, latency value to assigned value p50 {p50:.2} ms, p99 {p99:.2} ms ({} runs, {lost} lost: no assignment seen within 10 s)",
        latencies.len() as f64 / elapsed,
        latencies.len()
    );

    // Flood: writers as fast as they can (no waiting for the runs); every write must start
    // a run, counted in the run logs once the runs have caught up.
    let writers: usize = env_or("WEIR_BENCH_WRITERS", 4);
    let (workflow, iot, admin3) = (weir.workflow.clone(), weir.iot.clone(), admin.clone());
    let (f, t) = (format!("fa{run}"), format!("fb{run}"));
    let viewer = Viewer::system(tenant.clone());
    let (flood_flow, from) = tokio::task::spawn_blocking(move || {
        for name in [&f, &t] {
            iot.create_device(&viewer, name, "lamp", &Map::new())
                .expect("a lamp");
        }
        let (id, _) = workflow
            .save_design(
                &admin3,
                SaveDesign {
                    name: format!("flood {f}"),
                    enabled: true,
                    design_data: event_design(&f, &t),
                    ..SaveDesign::default()
                },
            )
            .expect("the flood flow");
        (id, f)
    })
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (iot, tenant, from) = (weir.iot.clone(), tenant.clone(), from.clone());
        tasks.push(tokio::task::spawn_blocking(move || {
            let mut written = 0u64;
            while Instant::now() < deadline {
                let level = (w as i64 + 1) * 1_000_000 + written as i64 + 1;
                let exchange = json!({format!("lamp.device.{from}.level"): level});
                iot.write_values(
                    &Viewer::system(tenant.clone()),
                    exchange.as_object().unwrap(),
                    WriteKind::PropertyUpdate,
                    None,
                )
                .expect("write the level");
                written += 1;
            }
            written
        }));
    }
    let mut events = 0u64;
    for t in tasks {
        events += t.await.unwrap();
    }
    let writing = started.elapsed().as_secs_f64();
    let count_runs = || {
        let (workflow, admin) = (weir.workflow.clone(), admin.clone());
        async move {
            tokio::task::spawn_blocking(move || {
                let query = weir_kernel::SearchQuery {
                    page_size: Some(1),
                    ..Default::default()
                };
                workflow
                    .search_logs(&admin, flood_flow, None, &query)
                    .expect("the flood flow's logs")
                    .total as u64
            })
            .await
            .unwrap()
        }
    };
    let mut runs = count_runs().await;
    let catch_up = Instant::now() + Duration::from_secs(120);
    while runs < events && Instant::now() < catch_up {
        tokio::time::sleep(Duration::from_millis(100)).await;
        runs = count_runs().await;
    }
    // Anything more would be a run no event asked for.
    tokio::time::sleep(Duration::from_millis(500)).await;
    runs = count_runs().await;
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "flood (5 nodes, 1 flow, {writers} writers): {events} events written in {writing:.1} s, {runs} runs logged ({} missing), {:.0} runs/s until the last was logged",
        events.saturating_sub(runs),
        runs as f64 / elapsed
    );

    // HTTP: one flow, its credential, 10 connections posting back to back.
    let (workflow, admin2) = (weir.workflow.clone(), admin.clone());
    let credential = tokio::task::spawn_blocking(move || {
        let (id, _) = workflow
            .save_design(
                &admin2,
                SaveDesign {
                    name: "http".into(),
                    enabled: true,
                    design_data: http_design(),
                    ..SaveDesign::default()
                },
            )
            .expect("the http flow");
        workflow.issue_http_credential(&admin2, id).unwrap()
    })
    .await
    .unwrap();
    let url = format!("http://{addr}/workflow-http-in/bench");
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (url, credential) = (url.clone(), credential.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            let mut latencies = Vec::new();
            let mut i = c as i64;
            while Instant::now() < deadline {
                i += connections as i64;
                let body = format!(r#"{{"type":"temp","value":{}}}"#, i % 60);
                let sent = Instant::now();
                let res = client
                    .post(&url)
                    .bearer_auth(&credential)
                    .header("Content-Type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("request");
                assert_eq!(res.status(), 200);
                let out: Json = res.json().await.unwrap();
                assert_eq!(out["alarm"], json!(i % 60 > 30));
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (p50, p99) = percentiles(latencies.clone());
    let rps = latencies.len() as f64 / elapsed;
    println!(
        "httpIn (5 nodes, {connections} connections): {rps:.0} requests/s, p50 {p50:.2} ms, p99 {p99:.2} ms ({} requests)",
        latencies.len(),
    );
}
