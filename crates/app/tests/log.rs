//! `log.format = "json"`: the real `weir` binary writes one JSON object a line, and the
//! access log's line of a request carries the id its envelope answers
//! (`span.request_id`), as every line logged during that request does.

// Test code: a panic is how a test fails (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// `GET path` with a `traceId`, over a plain socket: the status line and the body.
fn get(port: u16, path: &str, trace_id: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\ntraceId: {trace_id}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}

#[test]
fn json_logs_carry_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_weir"))
        .arg("serve")
        .env_remove("WEIR_CONFIG")
        .env("WEIR_DATABASE_URL", dir.path().join("weir.db"))
        .env("WEIR_HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env("WEIR_HTTP__WORKERS", "1")
        .env("WEIR_MQTT__MODE", "off")
        .env("WEIR_LOG__FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weir starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while get(port, "/healthz", "ready-probe").is_none() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let answer = get(port, "/api/v1/user", "log-test-4711").unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(
        answer.contains("\"request_id\":\"log-test-4711\""),
        "{answer}"
    );
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let access = lines
        .iter()
        .find(|l| l["target"] == "weir::access" && l["span"]["request_id"] == "log-test-4711")
        .unwrap_or_else(|| panic!("no access line for the request:\n{stdout}"));
    assert_eq!(access["fields"]["path"], "/api/v1/user", "{access}");
    assert_eq!(access["fields"]["method"], "GET", "{access}");
    assert_eq!(access["fields"]["status"], 401, "{access}");
    assert_eq!(access["level"], "INFO", "{access}");
}
