//! `HttpWebhooks` against a real HTTP server on a local port.

use std::net::TcpListener;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde_json::{Value as Json, json};
use sha2::Sha256;
use weir_outbound::testing::{HttpReceiver, Reply};
use weir_outbound::webhook::MAX_RESPONSE_BYTES;
use weir_outbound::{HttpWebhooks, WebhookSettings};
use weir_workflow::engine::{WebhookRequest, Webhooks};

const PRIVATE_REFUSAL: &str = "loopback, private and link-local addresses are not allowed \
                               (workflow.webhook.allow_private)";

/// The test receivers listen on loopback, which only this setting reaches.
fn local_webhooks() -> HttpWebhooks {
    HttpWebhooks::new(WebhookSettings {
        allow_private: true,
    })
    .unwrap()
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
fn private_addresses_are_refused_unless_allowed() {
    let receiver = HttpReceiver::answering(200, "ok");
    let port = receiver.addr().port();
    let guarded = HttpWebhooks::new(WebhookSettings::default()).unwrap();

    let refused = guarded
        .post(&request(receiver.url("/hook"), json!({})))
        .unwrap_err();
    assert_eq!(
        refused.0,
        format!("webhook: refused to connect to 127.0.0.1: {PRIVATE_REFUSAL}")
    );

    // An IPv4-mapped IPv6 literal is the same address.
    let refused = guarded
        .post(&request(
            format!("http://[::ffff:127.0.0.1]:{port}/hook"),
            json!({}),
        ))
        .unwrap_err();
    assert_eq!(
        refused.0,
        format!("webhook: refused to connect to 127.0.0.1: {PRIVATE_REFUSAL}")
    );

    // A name is checked by what it resolves to, by the client's own resolver.
    let refused = guarded
        .post(&request(format!("http://localhost:{port}/hook"), json!({})))
        .unwrap_err();
    assert!(
        refused
            .0
            .starts_with("webhook: refused to connect to localhost ("),
        "{refused}"
    );
    assert!(refused.0.ends_with(PRIVATE_REFUSAL), "{refused}");

    assert!(receiver.requests().is_empty(), "nothing may have arrived");

    // Allowed by the setting, both by address and by name.
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
