//! `tracing.otlp_endpoint`: Weir's spans reach an OTLP/HTTP receiver, under the configured
//! service name, and the last ones are flushed when the exporter shuts down
//! (docs/operations.md, "Traces"). The receiver is a plain socket that answers every POST
//! with 200 and keeps the bodies; protobuf strings are plain bytes, so the test looks for
//! names in them without decoding.

// Test code: a panic is how a test fails (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::json;
use weir::settings::{LogConfig, TracingConfig};
use weir_test_kit::TestApp;

/// One POST the receiver got: its path, its content type and its body.
#[derive(Debug, Clone)]
struct Export {
    path: String,
    content_type: String,
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
        let (mut length, mut content_type) = (0usize, String::new());
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
                _ => {}
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        exports.lock().unwrap().push(Export {
            path,
            content_type,
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
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

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
        let app = TestApp::spawn().await;
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
            node("out", "output", json!({})),
        ];
        let edges = [("e0", "start", "calc_node_7"), ("e1", "calc_node_7", "out")]
            .map(|(id, source, target)| json!({"id": id, "source": source, "target": target}));
        let design = json!({"nodes": nodes, "edges": edges}).to_string();
        let (status, body) = app
            .call(
                "POST",
                "/api/v1/workflow/flows/design/test",
                Some(&admin),
                Some(json!({"design_data": design})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        app.stop().await;
    });
    drop(runtime);
    // The batch is not due yet (its delay is seconds): only the shutdown sends it.
    telemetry.shutdown();

    let exports = exports.lock().unwrap().clone();
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
}
