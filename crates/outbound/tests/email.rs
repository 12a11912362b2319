//! `SmtpMailer` against the local SMTP sink of `weir_outbound::testing`.

use std::net::TcpListener;
use std::time::Duration;

use weir_outbound::testing::SmtpSink;
use weir_outbound::{SmtpMailer, SmtpSettings};
use weir_workflow::engine::{Email, Encryption, Mailer, SmtpServer};

const TIMEOUT: Duration = Duration::from_secs(10);

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
    SmtpMailer::new(None)
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

    SmtpMailer::new(None)
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
    let error = SmtpMailer::new(None)
        .send(
            Some(&with_credentials),
            &email(&["ops@example.com"]),
            TIMEOUT,
        )
        .unwrap_err();
    let target = format!("127.0.0.1:{}", sink.addr().port());
    assert!(
        error.0.starts_with(&format!(
            "email: {target} refused authentication as plant-7: "
        )),
        "{error}"
    );
    assert!(error.0.contains("535"), "{error}");
    assert!(!error.0.contains("wrong-secret"), "{error}");

    // No credentials where the server requires them: the sender is refused.
    let error = SmtpMailer::new(None)
        .send(Some(&server(&sink)), &email(&["ops@example.com"]), TIMEOUT)
        .unwrap_err();
    assert!(
        error.0.starts_with(&format!(
            "email: {target} refused the sender weir@127.0.0.1: "
        )),
        "{error}"
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
    SmtpMailer::new(None)
        .send(Some(&node_server), &email(&["ops@example.com"]), TIMEOUT)
        .unwrap();
    assert_eq!(sink.messages()[0].from, "alerts@example.com");
}

#[test]
fn a_refused_recipient_is_named() {
    let sink = SmtpSink::builder()
        .refuse_recipient("nobody@example.com")
        .start();
    let error = SmtpMailer::new(None)
        .send(
            Some(&server(&sink)),
            &email(&["ops@example.com", "nobody@example.com"]),
            TIMEOUT,
        )
        .unwrap_err();
    let target = format!("127.0.0.1:{}", sink.addr().port());
    assert!(
        error.0.starts_with(&format!(
            "email: {target} refused the recipient nobody@example.com: "
        )),
        "{error}"
    );
    assert!(error.0.contains("550"), "{error}");
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
    let error = SmtpMailer::new(None)
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
    let error = SmtpMailer::new(None)
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
    let error = SmtpMailer::new(None)
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

    SmtpMailer::new(Some(system))
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
    let error = SmtpMailer::new(None)
        .send(Some(&server(&sink)), &email(&["not an address"]), TIMEOUT)
        .unwrap_err();
    assert!(
        error
            .0
            .starts_with("email: invalid recipient address \"not an address\""),
        "{error}"
    );
    let error = SmtpMailer::new(None)
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
    SmtpMailer::new(None)
        .send(Some(&server(&sink)), &mail, TIMEOUT)
        .unwrap();
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
    let error = SmtpMailer::new(None)
        .send(Some(&starttls), &email(&["ops@example.com"]), TIMEOUT)
        .unwrap_err();
    assert_eq!(
        error.0,
        format!("email: {target} does not offer STARTTLS, which its encryption setting requires")
    );

    // Implicit TLS against a plain-text server: the handshake fails, and says so.
    let mut tls = server(&sink);
    tls.encryption = Encryption::Tls;
    let error = SmtpMailer::new(None)
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
    let error = SmtpMailer::new(None)
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
