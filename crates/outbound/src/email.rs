//! [`SmtpMailer`]: the engine's [`Mailer`] port over SMTP, with lettre's blocking SMTP
//! client.
//!
//! Each email is one SMTP session: connect (implicit TLS for [`Encryption::Tls`]), EHLO,
//! STARTTLS for [`Encryption::StartTls`] (required: a server that does not offer it is an
//! error, never a silent fallback to plain text), AUTH PLAIN or LOGIN when a username is
//! given, MAIL FROM, one RCPT TO per recipient, DATA, QUIT. The session is driven step by step
//! so that an error says which step the server refused: the connection, authentication, the
//! sender, a recipient (named) or the message. Every message names the server as
//! `host:port`; none carries the password, and neither does any `Debug` output of this
//! module.
//!
//! A node's own server is reached only where the [`OutboundPolicy`] allows: no internal
//! address unless the operator's allow-list opens it, judged after resolution, and the
//! session connects to the checked addresses only (the TLS name stays the host's). A
//! refusal comes before any connection, so it reads the same whether anything listens
//! there. The system server (`workflow.smtp`) is the operator's choice and is not judged.
//! No message quotes what the server sent: an SMTP refusal is given by its reply code
//! (`SMTP 550 5.1.1`), and a server that does not speak SMTP is said to be one, so the node
//! cannot be used to read another service's banner.
//!
//! TLS is rustls with ring and the Mozilla roots of `webpki-roots`: the certificate must
//! name the host (an IP address for a server given by address).
//!
//! The timeout bounds the whole session: the caller waits that long at most. The session
//! runs on a thread of its own, whose every network step (connecting, each read and write)
//! lettre bounds by the same timeout, so it ends soon after; only a server that accepts the
//! connection and then stays silent during an implicit-TLS handshake, which lettre does not
//! bound, keeps that thread until it hangs up. An email whose session timed out late (after
//! DATA) may still have been delivered.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use lettre::address::{Address, Envelope};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{SmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Quit, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use weir_outbound_policy::OutboundPolicy;
use weir_workflow::engine::{Email, Encryption, Mailer, NodeError, SmtpServer};

use crate::client::find_source;
use crate::format_duration;

/// The system's SMTP server (`workflow.smtp`), which an `email` node with
/// `useSystemSettings` sends through.
///
/// `from` is the sender of those emails. It belongs to the system settings because a node
/// that uses them has no server of its own to derive a sender from; `None` means
/// `weir@<host>`. A node with its own server (which has no `from` field) sends as its
/// username when that is an email address (most providers insist that the sender is the
/// account that authenticated), and as `weir@<host>` otherwise.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub encryption: Encryption,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender address (`alerts@example.com` or `Weir <alerts@example.com>`); `None`:
    /// `weir@<host>`.
    pub from: Option<String>,
}

impl SmtpSettings {
    /// A server without credentials, sending as `weir@<host>`.
    pub fn new(host: impl Into<String>, port: u16, encryption: Encryption) -> Self {
        Self {
            host: host.into(),
            port,
            encryption,
            username: None,
            password: None,
            from: None,
        }
    }

    /// The same server as the engine's ports describe one.
    pub fn server(&self) -> SmtpServer {
        SmtpServer {
            host: self.host.clone(),
            port: self.port,
            encryption: self.encryption,
            username: self.username.clone(),
            password: self.password.clone(),
        }
    }
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("encryption", &self.encryption)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "********"))
            .field("from", &self.from)
            .finish()
    }
}

/// The [`Mailer`] port over SMTP; see the [module](self) documentation.
///
/// `send` blocks, and must run on a blocking thread.
pub struct SmtpMailer {
    system: Option<SmtpSettings>,
    policy: OutboundPolicy,
    hello_name: ClientId,
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("system", &self.system)
            .field("policy", &self.policy)
            .field("hello_name", &self.hello_name.to_string())
            .finish()
    }
}

impl SmtpMailer {
    /// A mailer with the system's server, if one is configured; nodes' own servers are
    /// reached where `policy` allows. The EHLO name is this machine's host name.
    pub fn new(system: Option<SmtpSettings>, policy: OutboundPolicy) -> Self {
        Self {
            system,
            policy,
            hello_name: ClientId::default(),
        }
    }

    pub fn system(&self) -> Option<&SmtpSettings> {
        self.system.as_ref()
    }
}

impl Mailer for SmtpMailer {
    #[tracing::instrument(level = "debug", name = "email", skip_all, fields(own_server = server.is_some()))]
    fn send(
        &self,
        server: Option<&SmtpServer>,
        email: &Email,
        timeout: Duration,
    ) -> Result<(), NodeError> {
        let session = match server {
            Some(server) => Session {
                host: server.host.clone(),
                port: server.port,
                encryption: server.encryption,
                username: server.username.clone(),
                password: server.password.clone(),
                from: node_sender(server)?,
                policy: Some(self.policy.clone()),
            },
            None => {
                let system = self.system.as_ref().ok_or_else(|| {
                    NodeError::new(
                        "email: useSystemSettings is set but no system SMTP server is \
                         configured (workflow.smtp)",
                    )
                })?;
                Session {
                    host: system.host.clone(),
                    port: system.port,
                    encryption: system.encryption,
                    username: system.username.clone(),
                    password: system.password.clone(),
                    from: system_sender(system)?,
                    policy: None,
                }
            }
        };
        let target = session.target();
        let password = session.password.clone();
        let mask = |message: String| NodeError::new(masked(message, password.as_deref()));
        let (envelope, message) = session.prepare(email).map_err(mask)?;

        // lettre refuses a zero timeout; the smallest it takes stands for "none left".
        let timeout = timeout.max(Duration::from_millis(1));
        // lettre bounds each network step by the timeout, except the TLS handshake of
        // implicit TLS, which could wait for a silent server forever. The session runs on a
        // thread of its own, and the caller waits for it until the deadline only.
        let (done, outcome) = mpsc::sync_channel(1);
        let hello = self.hello_name.clone();
        thread::Builder::new()
            .name("weir-smtp".into())
            .spawn(move || {
                let _ = done.send(session.deliver(&envelope, &message, timeout, &hello));
            })
            .map_err(|e| NodeError::new(format!("email: cannot start an SMTP session: {e}")))?;
        match outcome.recv_timeout(timeout) {
            Ok(result) => result.map_err(mask),
            Err(RecvTimeoutError::Timeout) => Err(mask(timed_out(&target, timeout))),
            Err(RecvTimeoutError::Disconnected) => Err(mask(format!(
                "email: the SMTP session with {target} ended unexpectedly"
            ))),
        }
    }
}

/// `message`, with the password masked out should a server have echoed it.
fn masked(message: String, password: Option<&str>) -> String {
    match password {
        Some(password) if !password.is_empty() => message.replace(password, "********"),
        _ => message,
    }
}

/// One email's trip to one server.
struct Session {
    host: String,
    port: u16,
    encryption: Encryption,
    username: Option<String>,
    password: Option<String>,
    from: Mailbox,
    /// The policy a node's own server is judged by; `None` for the system server.
    policy: Option<OutboundPolicy>,
}

impl Session {
    fn target(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The envelope and the message, or why the email cannot be sent at all.
    fn prepare(&self, email: &Email) -> Result<(Envelope, Vec<u8>), String> {
        let recipients = recipients(email)?;
        let message = compose(&self.from, &recipients, email)?;
        let envelope = Envelope::new(
            Some(self.from.email.clone()),
            recipients.iter().map(|r| r.email.clone()).collect(),
        )
        .map_err(|e| format!("email: invalid envelope: {e}"))?;
        Ok((envelope, message))
    }

    /// The SMTP session itself.
    fn deliver(
        &self,
        envelope: &Envelope,
        message: &[u8],
        timeout: Duration,
        hello: &ClientId,
    ) -> Result<(), String> {
        let target = self.target();
        let tls = match self.encryption {
            Encryption::None => None,
            Encryption::Tls | Encryption::StartTls => Some(
                TlsParameters::new(self.host.clone())
                    .map_err(|e| format!("email: cannot set up TLS for {target}: {}", chain(&e)))?,
            ),
        };
        let implicit_tls = match self.encryption {
            Encryption::Tls => tls.as_ref(),
            _ => None,
        };
        let addrs = self.addresses(&target, timeout)?;
        let mut conn =
            SmtpConnection::connect(addrs.as_slice(), Some(timeout), hello, implicit_tls, None)
                .map_err(|e| connect_error(&target, timeout, implicit_tls.is_some(), &e))?;

        let result = self.converse(
            &mut conn,
            &target,
            timeout,
            hello,
            tls.as_ref(),
            envelope,
            message,
        );
        match result {
            Ok(()) => {
                // The message is accepted; a server that hangs up without answering QUIT
                // changes nothing.
                let _ = conn.command(Quit);
                Ok(())
            }
            Err(message) => {
                conn.abort();
                Err(message)
            }
        }
    }

    /// Where to connect: the addresses the policy checked, or, for the system server,
    /// what its name resolves to.
    fn addresses(&self, target: &str, timeout: Duration) -> Result<Vec<SocketAddr>, String> {
        match &self.policy {
            Some(policy) => policy
                .addresses(&self.host, self.port, timeout)
                .map_err(|refused| format!("email: {refused}")),
            None => (self.host.trim_matches(['[', ']']), self.port)
                .to_socket_addrs()
                .map(Iterator::collect)
                .map_err(|_| format!("email: cannot resolve the host of {target}")),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn converse(
        &self,
        conn: &mut SmtpConnection,
        target: &str,
        timeout: Duration,
        hello: &ClientId,
        tls: Option<&TlsParameters>,
        envelope: &Envelope,
        message: &[u8],
    ) -> Result<(), String> {
        let failed = |step: &str, e: &SmtpError| step_error(target, timeout, step, e);

        if let (Encryption::StartTls, Some(tls)) = (self.encryption, tls) {
            if !conn.server_info().supports_feature(Extension::StartTls) {
                return Err(format!(
                    "email: {target} does not offer STARTTLS, which its encryption setting \
                     requires"
                ));
            }
            conn.starttls(tls, hello).map_err(|e| {
                if e.status().is_some() {
                    failed("refused STARTTLS", &e)
                } else {
                    handshake_error(target, timeout, &e)
                }
            })?;
        }

        if let Some(username) = &self.username {
            let credentials =
                Credentials::new(username.clone(), self.password.clone().unwrap_or_default());
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
                .map_err(|e| failed(&format!("refused authentication as {username}"), &e))?;
        }

        let mut parameters = Vec::new();
        let non_ascii = envelope
            .from()
            .into_iter()
            .chain(envelope.to())
            .any(|a| !a.to_string().is_ascii());
        if non_ascii {
            if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
                return Err(format!(
                    "email: {target} does not accept non-ASCII addresses (no SMTPUTF8)"
                ));
            }
            parameters.push(MailParameter::SmtpUtfEight);
        }
        if !message.is_ascii() && conn.server_info().supports_feature(Extension::EightBitMime) {
            parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        conn.command(Mail::new(envelope.from().cloned(), parameters))
            .map_err(|e| failed(&format!("refused the sender {}", self.from.email), &e))?;
        for recipient in envelope.to() {
            conn.command(Rcpt::new(recipient.clone(), Vec::new()))
                .map_err(|e| failed(&format!("refused the recipient {recipient}"), &e))?;
        }
        conn.command(Data)
            .map_err(|e| failed("refused the message", &e))?;
        conn.message(message)
            .map_err(|e| failed("refused the message", &e))?;
        Ok(())
    }
}

/// The sender of an email through a node's own server: its username when that is an email
/// address, else `weir@<host>`.
fn node_sender(server: &SmtpServer) -> Result<Mailbox, NodeError> {
    if let Some(address) = server
        .username
        .as_deref()
        .and_then(|u| u.trim().parse::<Address>().ok())
    {
        return Ok(Mailbox::new(None, address));
    }
    default_sender(&server.host)
}

fn system_sender(system: &SmtpSettings) -> Result<Mailbox, NodeError> {
    match &system.from {
        Some(from) => from.trim().parse::<Mailbox>().map_err(|e| {
            NodeError::new(format!(
                "email: the system sender {from:?} is not an email address (workflow.smtp.from): {e}"
            ))
        }),
        None => default_sender(&system.host),
    }
}

/// `weir@<host>`. For a server given by address, the address stands bare
/// (`weir@192.0.2.1`): lettre does not read back the bracketed address literal in a `From`
/// header. A system server given by address should have its `from` set.
fn default_sender(host: &str) -> Result<Mailbox, NodeError> {
    let domain = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.');
    Address::new("weir", domain)
        .map(|address| Mailbox::new(None, address))
        .map_err(|e| {
            NodeError::new(format!(
                "email: cannot make a sender address for the server {host:?}: {e}"
            ))
        })
}

fn recipients(email: &Email) -> Result<Vec<Mailbox>, String> {
    let recipients: Vec<Mailbox> = email
        .recipients
        .iter()
        .map(|r| {
            r.trim()
                .parse::<Mailbox>()
                .map_err(|e| format!("email: invalid recipient address {r:?}: {e}"))
        })
        .collect::<Result<_, _>>()?;
    if recipients.is_empty() {
        return Err("email: no recipients".into());
    }
    Ok(recipients)
}

/// The message as it goes after DATA: a plain-text body, in whatever transfer encoding
/// keeps it intact (lettre picks 7bit, quoted-printable or base64).
fn compose(from: &Mailbox, recipients: &[Mailbox], email: &Email) -> Result<Vec<u8>, String> {
    // A subject is one header line: line breaks in it become spaces.
    let subject: String = email
        .subject
        .chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect();
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(subject)
        .header(ContentType::TEXT_PLAIN);
    for recipient in recipients {
        builder = builder.to(recipient.clone());
    }
    let message = builder
        .body(email.content.clone())
        .map_err(|e| format!("email: cannot compose the message: {e}"))?;
    Ok(message.formatted())
}

/// A failure to connect (and, with `implicit_tls`, to shake hands), be greeted and
/// answered EHLO. What the server sent is not quoted: this may not be an SMTP server.
fn connect_error(target: &str, timeout: Duration, implicit_tls: bool, error: &SmtpError) -> String {
    if let Some(io) = find_source::<io::Error>(error)
        && io.kind() == io::ErrorKind::ConnectionRefused
    {
        return format!("email: cannot connect to {target}: connection refused");
    }
    if implicit_tls && error.status().is_none() && !error.is_response() {
        return handshake_error(target, timeout, error);
    }
    if is_timeout(error) {
        return timed_out(target, timeout);
    }
    if error.is_tls() {
        return format!("email: TLS with {target} failed: {}", chain(error));
    }
    if let Some(code) = reply_code(error) {
        return format!("email: {target} refused the connection ({code})");
    }
    if error.is_response() {
        return not_smtp(target);
    }
    format!("email: cannot connect to {target}: {}", chain(error))
}

/// A server whose answer is not SMTP (or that hung up before answering).
fn not_smtp(target: &str) -> String {
    format!("email: {target} did not answer as an SMTP server")
}

/// `SMTP 550`, or `SMTP 550 5.1.1` when the reply starts with an enhanced status code: the
/// codes of a refusal, without the server's own words.
fn reply_code(error: &SmtpError) -> Option<String> {
    let code = error.status()?;
    let enhanced = error
        .source()
        .map(ToString::to_string)
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .filter(|word| is_enhanced_code(word));
    Some(match enhanced {
        Some(enhanced) => format!("SMTP {code} {enhanced}"),
        None => format!("SMTP {code}"),
    })
}

/// `class.subject.detail` of RFC 3463: `5.1.1`, `4.7.0`.
fn is_enhanced_code(word: &str) -> bool {
    let parts: Vec<&str> = word.split('.').collect();
    parts.len() == 3
        && matches!(parts[0], "2" | "4" | "5")
        && parts[1..]
            .iter()
            .all(|p| (1..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit()))
}

/// A failed TLS handshake. rustls reports what it disliked (a certificate, a record that
/// is not TLS) as an I/O error of kind `InvalidData` through lettre.
fn handshake_error(target: &str, timeout: Duration, error: &SmtpError) -> String {
    if is_timeout(error) {
        return timed_out(target, timeout);
    }
    format!("email: TLS with {target} failed: {}", chain(error))
}

fn is_timeout(error: &SmtpError) -> bool {
    error.is_timeout()
        || find_source::<io::Error>(error).is_some_and(|io| {
            matches!(
                io.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            )
        })
}

fn step_error(target: &str, timeout: Duration, step: &str, error: &SmtpError) -> String {
    if is_timeout(error) {
        return timed_out(target, timeout);
    }
    if error.is_tls() {
        return format!("email: TLS with {target} failed: {}", chain(error));
    }
    if let Some(code) = reply_code(error) {
        return format!("email: {target} {step} ({code})");
    }
    if error.is_response() {
        return not_smtp(target);
    }
    // Not an answer from the server (a broken connection, an unusable reply, no common
    // authentication mechanism): the step failed rather than being refused.
    format!(
        "email: {target}: {} failed: {}",
        step.trim_start_matches("refused "),
        chain(error)
    )
}

fn timed_out(target: &str, timeout: Duration) -> String {
    format!(
        "email: {target} did not answer within {}",
        format_duration(timeout)
    )
}

/// The error's message. lettre's `Display` already appends its source's; deeper sources
/// are added when they say something new.
fn chain(error: &(dyn StdError + 'static)) -> String {
    let mut message = error.to_string();
    let mut current = error.source();
    while let Some(e) = current {
        let part = e.to_string();
        if !message.contains(&part) {
            message.push_str(": ");
            message.push_str(&part);
        }
        current = e.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_masks_the_password() {
        let mut settings = SmtpSettings::new("smtp.example.com", 587, Encryption::StartTls);
        settings.username = Some("alerts@example.com".into());
        settings.password = Some("hunter2-secret".into());
        let shown = format!(
            "{settings:?} {:?}",
            SmtpMailer::new(Some(settings.clone()), OutboundPolicy::strict())
        );
        assert!(!shown.contains("hunter2-secret"), "{shown}");
        assert!(shown.contains("********"), "{shown}");
        assert!(shown.contains("alerts@example.com"), "{shown}");
    }

    #[test]
    fn the_default_sender_is_weir_at_the_host() {
        assert_eq!(
            default_sender("smtp.example.com").unwrap().to_string(),
            "weir@smtp.example.com"
        );
        assert_eq!(
            default_sender("127.0.0.1").unwrap().email.to_string(),
            "weir@127.0.0.1"
        );
    }

    #[test]
    fn a_node_server_sends_as_its_username_when_it_is_an_address() {
        let mut server = SmtpSettings::new("smtp.example.com", 465, Encryption::Tls).server();
        assert_eq!(
            node_sender(&server).unwrap().email.to_string(),
            "weir@smtp.example.com"
        );
        server.username = Some("plant-7".into());
        assert_eq!(
            node_sender(&server).unwrap().email.to_string(),
            "weir@smtp.example.com"
        );
        server.username = Some("alerts@example.com".into());
        assert_eq!(
            node_sender(&server).unwrap().email.to_string(),
            "alerts@example.com"
        );
    }

    #[test]
    fn the_system_sender_comes_from_the_settings() {
        let mut settings = SmtpSettings::new("smtp.example.com", 25, Encryption::None);
        assert_eq!(
            system_sender(&settings).unwrap().to_string(),
            "weir@smtp.example.com"
        );
        settings.from = Some("Weir <noreply@example.com>".into());
        assert_eq!(
            system_sender(&settings).unwrap().email.to_string(),
            "noreply@example.com"
        );
        settings.from = Some("not an address".into());
        assert!(
            system_sender(&settings)
                .unwrap_err()
                .0
                .contains("workflow.smtp.from")
        );
    }

    #[test]
    fn a_subject_stays_one_line() {
        let from = default_sender("example.com").unwrap();
        let to = vec!["a@example.com".parse::<Mailbox>().unwrap()];
        let email = Email {
            recipients: vec!["a@example.com".into()],
            subject: "one\r\nBcc: evil@example.com".into(),
            content: "body".into(),
        };
        let message = String::from_utf8(compose(&from, &to, &email).unwrap()).unwrap();
        assert!(!message.contains("\r\nBcc:"), "{message}");
    }
}
