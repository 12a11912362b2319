//! `SmtpMailer` against the local SMTP sink of `weir_outbound::testing`.

// Test code: a panic is how a test fails (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::time::Duration;

use weir_outbound::testing::{Banner, SmtpSink};
use weir_outbound::{OutboundPolicy, SmtpMailer, SmtpSettings};
use weir_workflow::engine::{Email, Encryption, Mailer, SmtpServer};

const TIMEOUT: Duration = Duration::from_secs(10);

/// The sinks listen on loopback, which the allow-list must open for nodes' own servers.
fn mailer() -> SmtpMailer {
    SmtpMailer::new(None, OutboundPolicy::allowing(["127.0.0.0/8"]).unwrap())
}

fn server(sink: &SmtpSink) -> SmtpServer {
    SmtpServer {
        host: "127.0.0.1".into(),
        port: sink.addr().port(),
        encryption: Encryption::None,
        username: None,
        password: None,
    }
}

fn email(recipients: &[&str]) -> Email {
    Email {
        recipients: recipients.iter().map(|r| r.to_string()).collect(),
        subject: "Alarm: pump 3".into(),
        content: "Pressure is 7.5 bar.\n.A line that starts with a dot.\nEnd.".into(),
    }
}

#[test]
fn a_plain_text_email_arrives() {
    let sink = SmtpSink::start();
    mailer()
        .send(
            Some(&server(&sink)),
            &email(&["ops@example.com", "Night Shift <night@example.com>"]),
            TIMEOUT,
        )
        .unwrap();

    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let mail = &messages[0];
    assert_eq!(mail.from, "weir@127.0.0.1");
    assert_eq!(mail.recipients, ["ops@example.com", "night@example.com"]);
    assert_eq!(mail.user, None);
    let data = &mail.data;
    assert!(data.contains("Subject: Alarm: pump 3\r\n"), "{data}");
    assert!(data.contains("From: weir@127.0.0.1\r\n"), "{data}");
    assert!(
        data.contains("To: ops@example.com, \"Night Shift\" <night@example.com>\r\n"),
        "{data}"
    );
    assert!(
        data.contains("Content-Type: text/plain; charset=utf-8"),
        "{data}"
    );
    assert!(
        data.contains("\r\n\r\nPressure is 7.5 bar.\r\n.A line that starts with a dot.\r\nEnd."),
        "{data}"
    );
}

#[test]
fn credentials_authenticate() {
    let sink = SmtpSink::builder()
        .credentials("plant-7", "pa55-w0rd")
        .start();
    let mut with_credentials = server(&sink);
    with_credentials.username = Some("plant-7".into());
    with_credentials.password = Some("pa55-w0rd".into());

    mailer()
        .send(
            Some(&with_credentials),
            &email(&["ops@example.com"]),
            TIMEOUT,
        )
        .unwrap();
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].user.as_deref(), Some("plant-7"));

    // The wrong password: refused, said so, and the password is not in the message.
    with_credentials.password = Some("wrong-secret".into());
    let error = mailer()
        .send(
            Some(&with_credentials),
            &email(&["ops@example.com"]),
            TIMEOUT,
        )
        .unwrap_err();
    let target = format!("127.0.0.1:{}", sink.addr().port());
    // The reply's codes, not its words.
    assert_eq!(
        error.0,
        format!("email: {target} refused authentication as plant-7 (SMTP 535 5.7.8)")
    );

    // No credentials where the server requires them: the sender is refused.
    let error = mailer()
        .send(Some(&server(&sink)), &email(&["ops@example.com"]), TIMEOUT)
        .unwrap_err();
    assert_eq!(
        error.0,
        format!("email: {target} refused the sender weir@127.0.0.1 (SMTP 530 5.7.0)")
    );
    assert_eq!(sink.messages().len(), 1);
}

#[test]
fn a_node_server_with_an_address_as_username_sends_as_it() {
    let sink = SmtpSink::builder()
        .credentials("alerts@example.com", "secret")
        .start();
    let mut node_server = server(&sink);
    node_server.username = Some("alerts@example.com".into());
    node_server.password = Some("secret".into());
    mailer()
        .send(Some(&node_server), &email(&["ops@example.com"]), TIMEOUT)
        .unwrap();
    assert_eq!(sink.messages()[0].from, "alerts@example.com");
}

#[test]
fn a_refused_recipient_is_named() {
    let sink = SmtpSink::builder()
        .refuse_recipient("nobody@example.com")
        .start();
    let error = mailer()
        .send(
            Some(&server(&sink)),
            &email(&["ops@example.com", "nobody@example.com"]),
            TIMEOUT,
        )
        .unwrap_err();
    let target = format!("127.0.0.1:{}", sink.addr().port());
    assert_eq!(
        error.0,
        format!("email: {target} refused the recipient nobody@example.com (SMTP 550 5.1.1)")
    );
    assert!(sink.messages().is_empty(), "nothing may have been sent");
}

#[test]
fn a_closed_port_is_a_clear_error() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let closed = SmtpServer {
        host: "127.0.0.1".into(),
        port,
        encryption: Encryption::None,
        username: Some("user".into()),
        password: Some("top-secret".into()),
    };
    let error = mailer()
        .send(Some(&closed), &email(&["ops@example.com"]), TIMEOUT)
        .unwrap_err();
    assert_eq!(
        error.0,
        format!("email: cannot connect to 127.0.0.1:{port}: connection refused")
    );
}

#[test]
fn a_silent_server_times_out() {
    // Accepts the connection but never greets.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = SmtpServer {
        host: "127.0.0.1".into(),
        port,
        encryption: Encryption::None,
        username: None,
        password: None,
    };
    let started = std::time::Instant::now();
    let error = mailer()
        .send(
            Some(&silent),
            &email(&["ops@example.com"]),
            Duration::from_millis(300),
        )
        .unwrap_err();
    assert_eq!(
        error.0,
        format!("email: 127.0.0.1:{port} did not answer within 300 ms")
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    drop(listener);
}

#[test]
fn use_system_settings_needs_a_system_server() {
    let error = mailer()
        .send(None, &email(&["ops@example.com"]), TIMEOUT)
        .unwrap_err();
    assert_eq!(
        error.0,
        "email: useSystemSettings is set but no system SMTP server is configured (workflow.smtp)"
    );
}

#[test]
fn use_system_settings_sends_through_the_system_server() {
    let sink = SmtpSink::builder().credentials("weir", "system-pw").start();
    let mut system = SmtpSettings::new("127.0.0.1", sink.addr().port(), Encryption::None);
    system.username = Some("weir".into());
    system.password = Some("system-pw".into());
    system.from = Some("Weir Alerts <alerts@example.com>".into());

    // The system server is the operator's: the strict policy does not judge it.
    SmtpMailer::new(Some(system), OutboundPolicy::strict())
        .send(None, &email(&["ops@example.com"]), TIMEOUT)
        .unwrap();
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].from, "alerts@example.com");
    assert_eq!(messages[0].user.as_deref(), Some("weir"));
    assert!(
        messages[0]
            .data
            .contains("From: \"Weir Alerts\" <alerts@example.com>\r\n"),
        "{}",
        messages[0].data
    );
}

#[test]
fn invalid_recipients_are_refused_before_connecting() {
    let sink = SmtpSink::start();
    let error = mailer()
        .send(Some(&server(&sink)), &email(&["not an address"]), TIMEOUT)
        .unwrap_err();
    assert!(
        error
            .0
            .starts_with("email: invalid recipient address \"not an address\""),
        "{error}"
    );
    let error = mailer()
        .send(Some(&server(&sink)), &email(&[]), TIMEOUT)
        .unwrap_err();
    assert_eq!(error.0, "email: no recipients");
    assert!(sink.messages().is_empty());
}

#[test]
fn non_ascii_content_arrives_encoded() {
    let sink = SmtpSink::start();
    let mut mail = email(&["ops@example.com"]);
    mail.subject = "Température élevée".into();
    mail.content = "Capteur 3 : 85 °C".into();
    mailer().send(Some(&server(&sink)), &mail, TIMEOUT).unwrap();
    let data = &sink.messages()[0].data;
    assert!(data.is_ascii(), "{data}");
    assert!(data.contains("Subject: =?utf-8?"), "{data}");
}

#[test]
fn encryption_is_required_when_configured() {
    let sink = SmtpSink::start();
    let target = format!("127.0.0.1:{}", sink.addr().port());

    // The sink offers no STARTTLS: no silent fallback to plain text.
    let mut starttls = server(&sink);
    starttls.encryption = Encryption::StartTls;
    let error = mailer()
        .send(Some(&starttls), &email(&["ops@example.com"]), TIMEOUT)
        .unwrap_err();
    assert_eq!(
        error.0,
        format!("email: {target} does not offer STARTTLS, which its encryption setting requires")
    );

    // Implicit TLS against a plain-text server: the handshake fails, and says so.
    let mut tls = server(&sink);
    tls.encryption = Encryption::Tls;
    let error = mailer()
        .send(Some(&tls), &email(&["ops@example.com"]), TIMEOUT)
        .unwrap_err();
    assert!(
        error
            .0
            .starts_with(&format!("email: TLS with {target} failed: ")),
        "{error}"
    );
    assert!(sink.messages().is_empty());
}

#[test]
fn a_silent_server_times_out_during_the_tls_handshake_too() {
    // lettre bounds no implicit-TLS handshake: the mailer's own deadline must.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = SmtpServer {
        host: "127.0.0.1".into(),
        port,
        encryption: Encryption::Tls,
        username: None,
        password: None,
    };
    let started = std::time::Instant::now();
    let error = mailer()
        .send(
            Some(&silent),
            &email(&["ops@example.com"]),
            Duration::from_millis(300),
        )
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(
        error.0,
        format!("email: 127.0.0.1:{port} did not answer within 300 ms")
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
    // Dropping the listener resets the connection, which ends the session's thread.
    drop(listener);
}

fn node_server(host: &str, port: u16) -> SmtpServer {
    SmtpServer {
        host: host.into(),
        port,
        encryption: Encryption::None,
        username: None,
        password: None,
    }
}

#[test]
fn the_policy_refuses_internal_servers_alike_whether_anything_listens() {
    let strict = SmtpMailer::new(None, OutboundPolicy::strict());
    let sink = SmtpSink::start();
    let port = sink.addr().port();
    let refusal = |target: &str| {
        format!(
            "email: {target} is not reached: the outbound policy refuses loopback, private, \
             link-local and other internal addresses unless the operator opens them in \
             outbound.allow"
        )
    };
    let send = |host: &str| {
        // A sender of its own: `weir@::1` is no address.
        let mut server = node_server(host, port);
        server.username = Some("alerts@example.com".into());
        strict
            .send(Some(&server), &email(&["ops@example.com"]), TIMEOUT)
            .unwrap_err()
            .0
    };
    let open = send("127.0.0.1");
    assert_eq!(open, refusal(&format!("127.0.0.1:{port}")));
    // A name is judged by what it resolves to.
    assert_eq!(send("localhost"), refusal(&format!("localhost:{port}")));
    assert_eq!(send("::1"), refusal(&format!("[::1]:{port}")));
    assert_eq!(
        send("169.254.169.254"),
        refusal(&format!("169.254.169.254:{port}"))
    );
    assert!(sink.messages().is_empty());
    drop(sink);
    // Nothing listens there any more: the same words.
    assert_eq!(send("127.0.0.1"), open);
}

#[test]
fn the_allow_list_opens_one_port_of_an_address() {
    let sink = SmtpSink::start();
    let port = sink.addr().port();
    let one_port = SmtpMailer::new(
        None,
        OutboundPolicy::allowing([format!("127.0.0.1:{port}")]).unwrap(),
    );
    one_port
        .send(
            Some(&node_server("127.0.0.1", port)),
            &email(&["ops@example.com"]),
            TIMEOUT,
        )
        .unwrap();
    assert_eq!(sink.messages().len(), 1);
    let other = port.wrapping_add(1).max(1);
    let error = one_port
        .send(
            Some(&node_server("127.0.0.1", other)),
            &email(&["ops@example.com"]),
            TIMEOUT,
        )
        .unwrap_err();
    assert!(
        error
            .0
            .starts_with(&format!("email: 127.0.0.1:{other} is not reached: ")),
        "{error}"
    );
}

#[test]
fn what_a_server_that_is_not_smtp_sent_is_never_quoted() {
    let services = [
        "SSH-2.0-OpenSSH_9.6 secret-banner\r\n",
        "HTTP/1.1 400 secret-banner\r\n\r\n",
        "554 5.3.2 secret-banner go away\r\n",
        "220 secret-banner\r\n",
    ]
    .map(Banner::start);
    let [ssh, http, refusing, hello] = services.each_ref().map(|s| s.addr().port());
    for (port, said) in [
        (ssh, "did not answer as an SMTP server".to_owned()),
        (http, "did not answer as an SMTP server".to_owned()),
        (
            refusing,
            "refused the connection (SMTP 554 5.3.2)".to_owned(),
        ),
    ] {
        let error = mailer()
            .send(
                Some(&node_server("127.0.0.1", port)),
                &email(&["ops@example.com"]),
                TIMEOUT,
            )
            .unwrap_err();
        assert_eq!(error.0, format!("email: 127.0.0.1:{port} {said}"));
    }
    // Greets, then says nothing to EHLO: a timeout, still without the greeting's words.
    let error = mailer()
        .send(
            Some(&node_server("127.0.0.1", hello)),
            &email(&["ops@example.com"]),
            Duration::from_millis(300),
        )
        .unwrap_err();
    assert_eq!(
        error.0,
        format!("email: 127.0.0.1:{hello} did not answer within 300 ms")
    );
}
