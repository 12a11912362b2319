//! `GET /metrics` (issue 17): the bearer token of `metrics.token` on the main address, a
//! 404 when none is configured, the separate `metrics.listen` address, and what requests,
//! logins and HTTP ingest add. The recorder is one per process and every test server of
//! this binary records into it, so assertions compare a counter before and after, or look
//! for labels only the test makes.

use std::net::TcpListener;

use serde_json::json;
use weir_test_kit::{Settings, TestApp};

use crate::iot_smoke::Thermostats;
use crate::support::ok;
use crate::workflow_runs::node;

pub(crate) const TOKEN: &str = "scrape-me-0123456789";

pub(crate) fn with_token(s: &mut Settings) {
    s.metrics.enabled = true;
    s.metrics.token = Some(TOKEN.into());
}

/// `GET /metrics` on the main address with this bearer token: status, content type, body.
async fn scrape_with(app: &TestApp, token: Option<&str>) -> (u16, String, String) {
    let mut req = app.client().get(app.url("/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, res.text().await.unwrap())
}

pub(crate) async fn scrape(app: &TestApp) -> String {
    let (status, content_type, body) = scrape_with(app, Some(TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    body
}

/// The sum of the samples of `name` whose labels include every one of `labels`.
pub(crate) fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter(|(series, _)| {
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            metric == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|(_, value)| value.parse::<f64>().unwrap())
        .sum()
}

#[tokio::test]
async fn metrics_are_a_404_without_a_token_configured() {
    let off = TestApp::spawn().await;
    let (status, _, _) = scrape_with(&off, Some(TOKEN)).await;
    assert_eq!(status, 404);
    // On, but with only a separate address: the main address still has no /metrics.
    let port = free_port();
    let separate = TestApp::spawn_with(|s| {
        s.metrics.enabled = true;
        s.metrics.listen = Some(format!("127.0.0.1:{port}"));
    })
    .await;
    let (status, _, _) = scrape_with(&separate, Some(TOKEN)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn metrics_ask_for_the_token() {
    let app = TestApp::spawn_with(with_token).await;
    for token in [None, Some("wrong"), Some("scrape-me-012345678")] {
        let (status, _, body) = scrape_with(&app, token).await;
        assert_eq!(status, 401, "{token:?}: {body}");
        assert!(!body.contains("weir_"), "{body}");
    }
    let (_, _, _) = scrape_with(&app, Some(TOKEN)).await;
}

#[tokio::test]
async fn requests_are_counted_by_route_template() {
    let app = TestApp::spawn_with(with_token).await;
    let admin = app.register_admin().await;
    let route = [("route", "/api/v1/device/{device_id}"), ("method", "GET")];
    let not_found = [
        ("route", "/api/v1/device/{device_id}"),
        ("method", "GET"),
        ("status", "404"),
    ];
    // Other tests of this process count on the same recorder at the same time: compare
    // before and after, at least what this test adds.
    let text = scrape(&app).await;
    let before = sample(&text, "weir_http_requests_total", &route);
    let not_found_before = sample(&text, "weir_http_requests_total", &not_found);
    // An id no other test uses: it must not show up in any label.
    let id = "918273645546372";
    let answer = app
        .call("GET", &format!("/api/v1/device/{id}"), Some(&admin), None)
        .await;
    assert_eq!(answer.0, 404, "{answer:?}");
    // The bare path is rewritten to the same route.
    let answer = app
        .call("GET", &format!("/device/{id}"), Some(&admin), None)
        .await;
    assert_eq!(answer.0, 404, "{answer:?}");
    app.call("GET", "/no/such/path/qzx4242", None, None).await;
    let text = scrape(&app).await;
    let after = sample(&text, "weir_http_requests_total", &route);
    assert!(after - before >= 2.0, "{before} -> {after}\n{text}");
    let not_found_after = sample(&text, "weir_http_requests_total", &not_found);
    assert!(
        not_found_after - not_found_before >= 2.0,
        "{not_found_before} -> {not_found_after}\n{text}"
    );
    // Looked for as path parts: digits alone also turn up inside latency sums.
    assert!(!text.contains(&format!("/{id}")), "{text}");
    assert!(!text.contains("qzx4242"), "{text}");
    assert!(sample(&text, "weir_http_requests_total", &[("route", "unmatched")]) >= 1.0);
    // The latency histogram, in seconds with buckets.
    assert!(
        text.contains("# TYPE weir_http_request_duration_seconds histogram"),
        "{text}"
    );
    assert!(
        sample(
            &text,
            "weir_http_request_duration_seconds_count",
            &[("route", "/api/v1/device/{device_id}")]
        ) >= 2.0
    );
    assert!(text.contains("weir_http_request_duration_seconds_bucket{"));
    // The pool's gauges are set at each scrape.
    assert!(
        sample(&text, "weir_db_pool_max_connections", &[]) >= 1.0,
        "{text}"
    );
    assert!(
        text.contains("weir_db_pool_connections{state=\"in_use\"}"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE weir_db_pool_wait_seconds histogram"),
        "{text}"
    );
}

#[tokio::test]
async fn the_consoles_files_count_as_unmatched() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<html></html>").unwrap();
    std::fs::write(dir.path().join("app-5f6e7d.js"), "let a = 1;").unwrap();
    let root = dir.path().to_owned();
    let app = TestApp::spawn_with(move |s| {
        with_token(s);
        s.http.static_dir = Some(root);
    })
    .await;
    for path in ["/app-5f6e7d.js", "/some/client/route-8c9d"] {
        let res = app.client().get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "{path}");
    }
    let text = scrape(&app).await;
    assert!(!text.contains("5f6e7d"), "{text}");
    assert!(!text.contains("8c9d"), "{text}");
    let unmatched = [("route", "unmatched"), ("status", "200")];
    assert!(
        sample(&text, "weir_http_requests_total", &unmatched) >= 2.0,
        "{text}"
    );
}

#[tokio::test]
async fn logins_and_their_failures_are_counted() {
    let app = TestApp::spawn_with(with_token).await;
    app.register_admin().await;
    let before = scrape(&app).await;
    let wrong = app
        .token_request(
            &[
                ("grant_type", "password"),
                ("username", "admin@weir.test"),
                ("password", "not-the-password"),
            ],
            None,
        )
        .await;
    assert_eq!(wrong.0, 401, "{wrong:?}");
    app.login("admin@weir.test", weir_test_kit::PASSWORD).await;
    let after = scrape(&app).await;
    let delta = |name: &str| sample(&after, name, &[]) - sample(&before, name, &[]);
    assert!(delta("weir_login_failures_total") >= 1.0, "{after}");
    assert!(delta("weir_logins_total") >= 1.0, "{after}");
}

#[tokio::test]
async fn values_ingested_over_http_are_counted() {
    let app = TestApp::spawn_with_integrations(with_token, vec![Thermostats::arc()]).await;
    let admin = app.register_admin().await;
    let body =
        json!({"name": "Hall", "integration": "thermo", "param_entities": {"sn": "SN-0001"}});
    let answer = app
        .call("POST", "/api/v1/device", Some(&admin), Some(body))
        .await;
    let device = ok(&answer)["device_id"].as_str().unwrap().to_owned();
    let answer = app
        .call(
            "POST",
            &format!("/api/v1/device/{device}/token"),
            Some(&admin),
            None,
        )
        .await;
    let token = ok(&answer)["token"].as_str().unwrap().to_owned();
    let http = [("channel", "http")];
    let before = sample(&scrape(&app).await, "weir_values_ingested_total", &http);
    let res = app
        .client()
        .post(app.url("/api/v1/device/report"))
        .header("X-Device-Token", &token)
        .json(&json!({"ts": 1000, "values": {"temp": 21.5, "count": 3}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let text = scrape(&app).await;
    let after = sample(&text, "weir_values_ingested_total", &http);
    assert!(after - before >= 2.0, "{before} -> {after}\n{text}");
}

#[tokio::test]
async fn flow_runs_are_counted_by_status_with_their_time() {
    let app = TestApp::spawn_with(with_token).await;
    let admin = app.register_admin().await;
    let before = scrape(&app).await;
    for expression in ["1 + 1", "throw \"no luck\""] {
        let nodes = [
            node("start", "trigger", json!({})),
            node(
                "calc",
                "code",
                json!({"expression": {"language": "rhai", "expression": expression}}),
            ),
            node("out", "output", json!({})),
        ];
        let edges = [("e0", "start", "calc"), ("e1", "calc", "out")]
            .map(|(id, source, target)| json!({"id": id, "source": source, "target": target}));
        let design = json!({"nodes": nodes, "edges": edges}).to_string();
        let answer = app
            .call(
                "POST",
                "/api/v1/workflow/flows/design/test",
                Some(&admin),
                Some(json!({"design_data": design})),
            )
            .await;
        ok(&answer);
    }
    let after = scrape(&app).await;
    for status in ["SUCCESS", "ERROR"] {
        let delta = |name: &str| {
            sample(&after, name, &[("status", status)])
                - sample(&before, name, &[("status", status)])
        };
        assert!(delta("weir_flow_runs_total") >= 1.0, "{status}\n{after}");
        assert!(
            delta("weir_flow_run_duration_seconds_count") >= 1.0,
            "{status}\n{after}"
        );
    }
}

#[tokio::test]
async fn the_separate_address_serves_metrics_alone_without_a_token() {
    let port = free_port();
    let app = TestApp::spawn_with(|s| {
        s.metrics.enabled = true;
        s.metrics.listen = Some(format!("127.0.0.1:{port}"));
    })
    .await;
    app.call("GET", "/healthz", None, None).await;
    let client = app.client();
    let res = client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let text = res.text().await.unwrap();
    assert!(
        sample(&text, "weir_http_requests_total", &[("route", "/healthz")]) >= 1.0,
        "{text}"
    );
    // Nothing else is served there.
    for path in ["/healthz", "/api/v1/user", "/metrics/x"] {
        let res = client
            .get(format!("http://127.0.0.1:{port}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 404, "{path}");
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
}

/// The Grafana dashboard asks only for metrics operations.md lists.
#[test]
fn the_dashboard_names_documented_metrics() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dashboard = std::fs::read_to_string(root.join("docs/grafana/weir.json")).unwrap();
    let operations = std::fs::read_to_string(root.join("docs/operations.md")).unwrap();
    serde_json::from_str::<serde_json::Value>(&dashboard).unwrap();
    let mut named = 0;
    for (i, _) in dashboard.match_indices("weir_") {
        let name: String = dashboard[i..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        let family = name.strip_suffix("_bucket").unwrap_or(&name);
        assert!(
            operations.contains(&format!("| `{family}` |")),
            "{family} is not in docs/operations.md"
        );
        named += 1;
    }
    assert!(named > 10);
}
