//! The process's Prometheus recorder (`[metrics]`): installed once, the first time a server
//! with metrics on is served, and shared by every server of the process (the `metrics`
//! facade has one global recorder). The adapters record through the facade; this module
//! only installs the recorder and renders it for `GET /metrics`. See docs/operations.md.

use std::sync::{Arc, OnceLock};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use weir_storage::Database;

/// The buckets of every `*_seconds` histogram: 1 ms to 30 s.
const SECONDS_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on the first call. When a program embedding Weir
/// installed a recorder of its own first, Weir's stays empty: one warning says so.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS);
        let recorder = match builder {
            Ok(builder) => builder.build_recorder(),
            // Only an empty bucket list fails, and SECONDS_BUCKETS is not one.
            Err(_) => PrometheusBuilder::new().build_recorder(),
        };
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!(
                "another metrics recorder is installed in this process: /metrics stays empty"
            );
        } else {
            describe();
            upkeep(handle.clone());
        }
        handle
    })
}

/// How often the histograms' samples are folded into their buckets between scrapes.
const UPKEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// The recorder keeps each histogram's samples until a render folds them into buckets; a
/// server nobody scrapes would keep them all. A thread of its own renders (and drops) the
/// metrics every [`UPKEEP_INTERVAL`], so they take constant memory.
fn upkeep(handle: PrometheusHandle) {
    let started = std::thread::Builder::new()
        .name("weir-metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                drop(handle.render());
            }
        });
    if let Err(e) = started {
        tracing::warn!(error = %e, "no metrics upkeep thread: histograms grow until scraped");
    }
}

/// What `/metrics` renders: the pool's gauges as they are now, then every metric.
pub fn renderer(database: Database) -> weir_http::RenderMetrics {
    let handle = handle();
    Arc::new(move || {
        database.record_pool_metrics();
        handle.render()
    })
}

/// The help lines of the families (`# HELP`).
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "weir_http_requests_total",
        "HTTP requests by method, route template and status"
    );
    describe_histogram!(
        "weir_http_request_duration_seconds",
        "HTTP request latency by method and route template"
    );
    describe_gauge!(
        "weir_db_pool_connections",
        "database pool connections by state (in_use, idle), at the scrape"
    );
    describe_gauge!(
        "weir_db_pool_max_connections",
        "the most connections the pool opens (database.pool_size)"
    );
    describe_histogram!(
        "weir_db_pool_wait_seconds",
        "time a checkout waited for a pooled connection"
    );
    describe_counter!(
        "weir_db_pool_timeouts_total",
        "checkouts that gave up waiting for a connection (answered 503)"
    );
    describe_counter!(
        "weir_values_ingested_total",
        "device values stored, by channel (http, mqtt)"
    );
    describe_gauge!(
        "weir_mqtt_connections_open",
        "devices connected to the embedded broker"
    );
    describe_counter!(
        "weir_mqtt_connects_total",
        "MQTT connects at the embedded broker's gate, by outcome (accepted, refused)"
    );
    describe_counter!(
        "weir_mqtt_messages_total",
        "MQTT messages through Weir's client, by direction and outcome"
    );
    describe_gauge!("weir_websocket_connections_open", "open WebSockets");
    describe_counter!(
        "weir_websocket_pushes_total",
        "messages pushed to WebSockets"
    );
    describe_counter!("weir_flow_runs_total", "flow runs by status");
    describe_histogram!("weir_flow_run_duration_seconds", "flow run time by status");
    describe_histogram!(
        "weir_bi_query_duration_seconds",
        "BI data model query latency by driver and outcome"
    );
    describe_counter!("weir_logins_total", "password logins that succeeded");
    describe_counter!(
        "weir_login_failures_total",
        "password logins refused for a wrong login name or password"
    );
    describe_counter!(
        "weir_login_lockouts_total",
        "password logins refused because the account or address is locked out"
    );
}
