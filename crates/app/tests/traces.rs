//! `tracing.otlp_endpoint`: Weir's spans reach an OTLP/HTTP receiver, under the configured
//! service name, and the last ones are flushed when the exporter shuts down
//! (docs/operations.md, "Traces"). The receiver is a plain socket that answers every POST
//! with 200 and keeps the bodies; protobuf strings are plain bytes, so the test looks for
//! names in them without decoding.
//!
//! W3C trace context: a request's `traceparent` parents its span (its trace id and the
//! caller's span id are exported), and a webhook posted under it carries a `traceparent`
//! of the same trace. The same receiver takes the webhook.

// Test code: a panic is how a test fails (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::json;
use weir::settings::{LogConfig, TracingConfig};
use weir_test_kit::TestApp;

/// One POST the receiver got: its path, its content type, its `traceparent` and its body.
#[derive(Debug, Clone)]
struct Export {
    path: String,
    content_type: String,
    traceparent: Option<String>,
    body: Vec<u8>,
}

/// Reads HTTP/1.1 requests off `stream` until it closes, answering each with 200.
fn serve_connection(stream: TcpStream, exports: &Mutex<Vec<Export>>) -> Option<()> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut stream = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return Some(());
        }
        let path = line.split_whitespace().nth(1)?.to_owned();
        let (mut length, mut content_type, mut traceparent) = (0usize, String::new(), None);
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).ok()?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':')?;
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().ok()?,
                "content-type" => content_type = value.trim().to_owned(),
                "traceparent" => traceparent = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        exports.lock().unwrap().push(Export {
            path,
            content_type,
            traceparent,
            body,
        });
        stream
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n",
            )
            .ok()?;
    }
}

/// A receiver on a free local port, and what it has received so far.
fn receiver() -> (SocketAddr, Arc<Mutex<Vec<Export>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let exports = Arc::new(Mutex::new(Vec::new()));
    let kept = exports.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let kept = kept.clone();
            std::thread::spawn(move || serve_connection(stream, &kept));
        }
    });
    (addr, exports)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    contains_bytes(haystack, needle.as_bytes())
}

fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The bytes a hex id stands for: OTLP carries trace and span ids as raw bytes.
fn id_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// The caller's trace and span (the example of the W3C recommendation).
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN_ID: &str = "00f067aa0ba902b7";

#[test]
fn spans_are_exported_over_otlp_and_flushed_at_shutdown() {
    let (addr, exports) = receiver();
    let tracing = TracingConfig {
        otlp_endpoint: Some(format!("http://{addr}")),
        service_name: "weir-traces-test".into(),
        ..TracingConfig::default()
    };
    // Outside any runtime, as `weir serve` does: the exporter's client is a blocking one.
    let telemetry = weir::telemetry::init(&LogConfig::default(), &tracing).unwrap();
    assert!(telemetry.exporting());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // Loopback allowed: the webhook node posts to the receiver.
        let app = TestApp::spawn_with(weir_test_kit::local_reach).await;
        // A use case with a write transaction: the request's span has children.
        let admin = app.register_admin().await;
        // A workflow test run: a run span and one span per node.
        let node = |id: &str, component: &str, parameters: serde_json::Value| {
            json!({"id": id, "componentName": component,
                   "data": {"nodeName": id.to_uppercase(), "parameters": parameters}})
        };
        let nodes = [
            node("start", "trigger", json!({})),
            node(
                "calc_node_7",
                "code",
                json!({"expression": {"language": "rhai", "expression": "1 + 1"}}),
            ),
            node(
                "hook",
                "webhook",
                json!({"webhookUrl": format!("http://{addr}/hook")}),
            ),
            node("out", "output", json!({})),
        ];
        let edges = [
            ("e0", "start", "calc_node_7"),
            ("e1", "calc_node_7", "hook"),
            ("e2", "hook", "out"),
        ]
        .map(|(id, source, target)| json!({"id": id, "source": source, "target": target}));
        let design = json!({"nodes": nodes, "edges": edges}).to_string();
        // Called from within the caller's trace.
        let response = app
            .client()
            .post(app.url("/api/v1/workflow/flows/design/test"))
            .bearer_auth(&admin.access_token)
            .header("traceparent", format!("00-{TRACE_ID}-{CALLER_SPAN_ID}-01"))
            .json(&json!({"design_data": design}))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert!(!body.contains("ERROR"), "the run failed: {body}");
        app.stop().await;
    });
    drop(runtime);
    // The batch is not due yet (its delay is seconds): only the shutdown sends it.
    telemetry.shutdown();

    let (hooks, exports): (Vec<Export>, Vec<Export>) = exports
        .lock()
        .unwrap()
        .clone()
        .into_iter()
        .partition(|e| e.path == "/hook");
    // The webhook went out in the caller's trace, from a span of Weir's own.
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    let traceparent = hooks[0].traceparent.clone().expect("no traceparent");
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!((parts[0], parts[1], parts[3]), ("00", TRACE_ID, "01"));
    assert_eq!(parts[2].len(), 16, "{traceparent}");
    assert_ne!(parts[2], CALLER_SPAN_ID, "{traceparent}");
    assert!(!exports.is_empty(), "the receiver got nothing");
    for export in &exports {
        assert_eq!(export.path, "/v1/traces");
        assert_eq!(export.content_type, "application/x-protobuf");
    }
    let all: Vec<u8> = exports.iter().flat_map(|e| e.body.clone()).collect();
    assert!(!all.is_empty(), "the exports were empty");
    for name in [
        "weir-traces-test",
        "request",
        "request_id",
        "/api/v1/user/register",
        "use_case",
        "transaction",
        "flow_run",
        "node",
        "calc_node_7",
    ] {
        assert!(contains(&all, name), "no {name:?} in what was exported");
    }
    // The request's span is the caller's span's child, in the caller's trace; and the
    // webhook's span, whose id the receiver got, was exported.
    for id in [TRACE_ID, CALLER_SPAN_ID, parts[2]] {
        assert!(
            contains_bytes(&all, &id_bytes(id)),
            "no id {id} in what was exported"
        );
    }
    assert!(contains(&all, "webhook"), "no webhook span exported");
}
