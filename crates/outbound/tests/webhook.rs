//! `HttpWebhooks` against a real HTTP server on a local port.

// Test code: a panic is how a test fails (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde_json::{Value as Json, json};
use sha2::Sha256;
use weir_outbound::testing::{HttpReceiver, Reply};
use weir_outbound::webhook::MAX_RESPONSE_BYTES;
use weir_outbound::{HttpWebhooks, OutboundPolicy};
use weir_workflow::engine::{WebhookRequest, Webhooks};

/// The policy's refusal of `target`.
fn refusal(target: &str) -> String {
    format!(
        "webhook: {target} is not reached: the outbound policy refuses loopback, private, \
         link-local and other internal addresses unless the operator opens them in \
         outbound.allow"
    )
}

/// The test receivers listen on loopback, which only the allow-list opens.
fn local_webhooks() -> HttpWebhooks {
    HttpWebhooks::new(OutboundPolicy::allowing(["127.0.0.0/8", "::1"]).unwrap()).unwrap()
}

fn request(url: String, body: Json) -> WebhookRequest {
    WebhookRequest {
        url,
        body,
        secret_key: None,
        timeout: Duration::from_secs(10),
    }
}

#[test]
fn the_body_and_headers_arrive() {
    let receiver = HttpReceiver::answering(200, r#"{"received":true}"#);
    let body = json!({"device": "pump-3", "pressure": 7.5, "tags": ["a", "b"]});

    let response = local_webhooks()
        .post(&request(receiver.url("/hooks/alarm?x=1"), body.clone()))
        .unwrap();

    assert_eq!(response.status, 200);
    assert_eq!(response.body, r#"{"received":true}"#);
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    let got = &requests[0];
    assert_eq!(got.method, "POST");
    assert_eq!(got.path, "/hooks/alarm?x=1");
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert_eq!(
        got.header("user-agent"),
        Some(concat!("Weir-Webhook/", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(serde_json::from_slice::<Json>(&got.body).unwrap(), body);
    assert_eq!(got.header("signature"), None);
    assert_eq!(got.header("timestamp"), None);
    assert_eq!(got.header("nonce"), None);
}

#[test]
fn a_signed_webhook_verifies() {
    let receiver = HttpReceiver::answering(204, "");
    let mut signed = request(receiver.url("/signed"), json!({"on": true}));
    signed.secret_key = Some("s3cret-key".into());

    let response = local_webhooks().post(&signed).unwrap();
    assert_eq!(response.status, 204);

    let got = &receiver.requests()[0];
    let timestamp = got.header("TIMESTAMP").expect("a TIMESTAMP header");
    let nonce = got.header("NONCE").expect("a NONCE header");
    let signature = got.header("SIGNATURE").expect("a SIGNATURE header");

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let sent: i64 = timestamp.parse().expect("epoch milliseconds");
    assert!((now - sent).abs() < 60_000, "{sent} is not about {now}");
    assert_eq!(nonce.len(), 32);
    assert!(
        nonce
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );

    let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret-key").unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(nonce.as_bytes());
    mac.update(&got.body);
    assert_eq!(signature, hex::encode(mac.finalize().into_bytes()));

    // Another request, another nonce.
    local_webhooks().post(&signed).unwrap();
    assert_ne!(receiver.requests()[1].header("NONCE"), Some(nonce));
}

#[test]
fn internal_addresses_are_refused_unless_allowed() {
    let receiver = HttpReceiver::answering(200, "ok");
    let port = receiver.addr().port();
    let guarded = HttpWebhooks::new(OutboundPolicy::strict()).unwrap();
    let post = |url: String| guarded.post(&request(url, json!({}))).unwrap_err().0;

    let open = post(receiver.url("/hook"));
    assert_eq!(open, refusal(&format!("127.0.0.1:{port}")));
    // An IPv4-mapped IPv6 literal is the same address.
    assert_eq!(
        post(format!("http://[::ffff:127.0.0.1]:{port}/hook")),
        refusal(&format!("[::ffff:127.0.0.1]:{port}"))
    );
    // A name is checked by what it resolves to, by the client's own resolver.
    assert_eq!(
        post(format!("http://localhost:{port}/hook")),
        refusal(&format!("localhost:{port}"))
    );
    // The cloud's metadata service, and a private address: refused before any connection.
    assert_eq!(
        post("http://169.254.169.254/latest/meta-data/".into()),
        refusal("169.254.169.254:80")
    );
    assert_eq!(
        post("https://10.1.2.3/hook".into()),
        refusal("10.1.2.3:443")
    );
    assert!(receiver.requests().is_empty(), "nothing may have arrived");

    // Allowed by the allow-list, both by address and by name.
    let allowed = local_webhooks();
    assert_eq!(
        allowed
            .post(&request(receiver.url("/hook"), json!({})))
            .unwrap()
            .status,
        200
    );
    assert_eq!(
        allowed
            .post(&request(format!("http://localhost:{port}/hook"), json!({})))
            .unwrap()
            .status,
        200
    );
    assert_eq!(receiver.requests().len(), 2);

    // Nothing listens there any more: the strict policy says the very same.
    drop(receiver);
    assert_eq!(post(format!("http://127.0.0.1:{port}/hook")), open);
}

/// A DNS that answers `name` with each address in turn, the last one from then on.
struct Rebinding {
    name: &'static str,
    answers: std::sync::Mutex<Vec<&'static str>>,
}

impl weir_outbound::policy::Resolve for Rebinding {
    fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<std::net::SocketAddr>> {
        if host != self.name {
            return Err(std::io::Error::other("no such name"));
        }
        let mut answers = self.answers.lock().unwrap();
        let ip = if answers.len() > 1 {
            answers.remove(0)
        } else {
            answers[0]
        };
        Ok(vec![std::net::SocketAddr::new(ip.parse().unwrap(), port)])
    }
}

#[test]
fn a_name_the_allow_list_opens_reaches_the_checked_address_only() {
    // The allow-list opens one port of 127.0.0.1; the name resolves there when checked,
    // then to 127.0.0.2 (where another server listens on the same port) when asked again.
    let receiver = HttpReceiver::answering(200, "ok");
    let port = receiver.addr().port();
    // Linux routes all of 127.0.0.0/8 to loopback.
    let elsewhere = TcpListener::bind(("127.0.0.2", port)).expect("a listener on 127.0.0.2");
    elsewhere.set_nonblocking(true).unwrap();
    let dns = Rebinding {
        name: "rebind.test",
        answers: std::sync::Mutex::new(vec!["127.0.0.1", "127.0.0.2"]),
    };
    let webhooks = HttpWebhooks::new(
        OutboundPolicy::allowing([format!("127.0.0.1:{port}")])
            .unwrap()
            .with_resolver(std::sync::Arc::new(dns)),
    )
    .unwrap();
    let url = format!("http://rebind.test:{port}/hook");
    assert_eq!(
        webhooks
            .post(&request(url.clone(), json!({})))
            .unwrap()
            .status,
        200
    );
    assert_eq!(receiver.requests().len(), 1);
    assert!(elsewhere.accept().is_err(), "nothing may reach 127.0.0.2");
    // Checked again, the name now leads where the allow-list does not open.
    assert_eq!(
        webhooks.post(&request(url, json!({}))).unwrap_err().0,
        refusal(&format!("rebind.test:{port}"))
    );
    assert!(elsewhere.accept().is_err(), "nothing may reach 127.0.0.2");
}

#[test]
fn only_http_and_https_are_posted_to() {
    let error = local_webhooks()
        .post(&request("ftp://127.0.0.1/hook".into(), json!({})))
        .unwrap_err();
    assert!(error.0.contains("only http and https"), "{error}");

    let error = local_webhooks()
        .post(&request("not a url".into(), json!({})))
        .unwrap_err();
    assert!(error.0.starts_with("webhook: invalid URL"), "{error}");
}

#[test]
fn a_non_2xx_answer_is_an_error_quoting_the_body() {
    let receiver = HttpReceiver::answering(500, "database is down");
    let url = receiver.url("/hook");
    let error = local_webhooks()
        .post(&request(url.clone(), json!({})))
        .unwrap_err();
    assert_eq!(
        error.0,
        format!("webhook: POST {url} answered 500: database is down")
    );

    let receiver = HttpReceiver::answering(503, "");
    let url = receiver.url("/hook");
    let error = local_webhooks()
        .post(&request(url.clone(), json!({})))
        .unwrap_err();
    assert_eq!(error.0, format!("webhook: POST {url} answered 503"));

    let long = "x".repeat(1000);
    let receiver = HttpReceiver::answering(404, &long);
    let url = receiver.url("/hook");
    let error = local_webhooks()
        .post(&request(url.clone(), json!({})))
        .unwrap_err();
    assert_eq!(
        error.0,
        format!("webhook: POST {url} answered 404: {}", "x".repeat(200))
    );
}

#[test]
fn a_silent_receiver_times_out_within_the_timeout() {
    let receiver = HttpReceiver::start(|_| Reply::Hang);
    let url = receiver.url("/slow");
    let mut slow = request(url.clone(), json!({}));
    slow.timeout = Duration::from_millis(500);

    let started = Instant::now();
    let error = local_webhooks().post(&slow).unwrap_err();
    let took = started.elapsed();

    assert_eq!(
        error.0,
        format!("webhook: POST {url} timed out after 500 ms")
    );
    assert!(took >= Duration::from_millis(450), "gave up after {took:?}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(receiver.requests().len(), 1, "the request did arrive");
}

#[test]
fn redirects_are_not_followed() {
    let receiver = HttpReceiver::start(|request| {
        if request.path == "/hook" {
            Reply::status(302).header("Location", "/elsewhere")
        } else {
            Reply::status(200).body("followed")
        }
    });
    let url = receiver.url("/hook");
    let error = local_webhooks()
        .post(&request(url.clone(), json!({})))
        .unwrap_err();
    assert_eq!(
        error.0,
        format!("webhook: POST {url} answered 302 (to /elsewhere): redirects are not followed")
    );
    let paths: Vec<String> = receiver.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/hook"]);
}

#[test]
fn a_closed_port_is_a_refused_connection() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/hook");
    let error = local_webhooks()
        .post(&request(url.clone(), json!({})))
        .unwrap_err();
    assert_eq!(error.0, format!("webhook: POST {url}: connection refused"));
}

#[test]
fn a_long_answer_is_cut_to_the_cap() {
    // One byte, then two bytes a character: the cap falls inside a character, which is
    // dropped rather than cut in half.
    let answer = format!("a{}", "é".repeat(MAX_RESPONSE_BYTES));
    let receiver = HttpReceiver::answering(200, &answer);
    let response = local_webhooks()
        .post(&request(receiver.url("/big"), json!({})))
        .unwrap();
    assert_eq!(response.body.len(), MAX_RESPONSE_BYTES - 1);
    assert!(response.body[1..].chars().all(|c| c == 'é'));
}

#[test]
fn the_client_can_be_built_inside_an_async_runtime() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let webhooks = runtime.block_on(async { local_webhooks() });
    let receiver = HttpReceiver::answering(200, "ok");
    assert_eq!(
        webhooks
            .post(&request(receiver.url("/"), json!(null)))
            .unwrap()
            .status,
        200
    );
}

#[test]
fn https_speaks_tls() {
    // A server that answers in plain text: the TLS handshake fails, and says so.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            use std::io::Write;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            std::thread::sleep(Duration::from_millis(500));
        }
    });
    let url = format!("https://127.0.0.1:{port}/hook");
    let error = local_webhooks()
        .post(&request(url.clone(), json!({})))
        .unwrap_err();
    assert!(
        error
            .0
            .starts_with(&format!("webhook: POST {url}: TLS failed: ")),
        "{error}"
    );
}
