//! What the engine needs from outside the workflow domain: Weir's own entities (the IoT
//! domain), a script sandbox, outgoing HTTP and email. The app wires adapters to them; the
//! engine only sees these traits. Every method is blocking: runs execute on blocking threads.

use std::time::{Duration, Instant};

use serde_json::{Map, Value as Json};
use weir_kernel::{Id, TenantId};

/// Why a port could not do what a node asked; the message ends the run as its error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NodeError(pub String);

impl NodeError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Weir's entities, reached on behalf of a flow's tenant (with every right in the tenant,
/// as the flow's owner configured it).
///
/// Writes say which runs led to them: `chain` holds the flows whose runs led to this one,
/// oldest first, each started by a value the one before wrote, and this run's flow last
/// (empty for a design or node test, which writes as its user would). The values the write
/// commits carry it, so the runs they start are one deeper (see [`crate::runtime`]).
pub trait Entities: Send + Sync {
    /// The latest values of `keys`: key to value, `null` for an entity without one. An
    /// unknown key is an error naming it.
    fn latest(&self, tenant: &TenantId, keys: &[String]) -> Result<Map<String, Json>, NodeError>;
    /// Writes property values through the same validated path as the API
    /// (`POST /entity/property/update`).
    fn assign(
        &self,
        tenant: &TenantId,
        chain: &[Id],
        values: &Map<String, Json>,
    ) -> Result<(), NodeError>;
    /// Calls a device service with its parameters (`POST /entity/service/call`); answers
    /// what the call produced.
    fn invoke(
        &self,
        tenant: &TenantId,
        chain: &[Id],
        service: &str,
        params: &Map<String, Json>,
    ) -> Result<Json, NodeError>;
}

/// Runs scripts in a sandbox: no files, no network, bounded time, operations and memory.
pub trait ScriptEngine: Send + Sync {
    /// The `language` names it runs (`GET /workflow/components/languages`).
    fn languages(&self) -> Vec<&'static str>;
    /// Runs `script` with `variables` bound (name to JSON value), until `deadline` at the
    /// latest, and answers the value the script evaluates to, as JSON. An unknown language,
    /// a syntax error, a runtime error and a broken limit are errors saying which.
    fn run(
        &self,
        language: &str,
        script: &str,
        variables: &Map<String, Json>,
        deadline: Instant,
    ) -> Result<Json, NodeError>;
}

/// An HTTP POST a `webhook` node sends.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRequest {
    /// Where to POST: the node's `webhookUrl`, an absolute `http(s)` URL.
    pub url: String,
    /// The JSON body.
    pub body: Json,
    /// With a key, the request carries `TIMESTAMP`, `NONCE` and `SIGNATURE` = hex
    /// HMAC-SHA256(key, timestamp + nonce + body) headers.
    pub secret_key: Option<String>,
    /// How long to wait for the answer: the node's `timeoutSeconds` (10 by default), never
    /// past the run's deadline.
    pub timeout: Duration,
}

/// What the receiver answered.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The response body, cut to a bounded size.
    pub body: String,
}

/// Sends webhooks. Loopback, private and link-local addresses are refused unless the
/// adapter's configuration allows them; a non-2xx answer is an error.
pub trait Webhooks: Send + Sync {
    /// POSTs `request` and answers the response; a failure, a refused address or a non-2xx
    /// status is an error.
    fn post(&self, request: &WebhookRequest) -> Result<WebhookResponse, NodeError>;
}

/// How to reach an SMTP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpServer {
    /// The server's host name or address.
    pub host: String,
    /// The TCP port.
    pub port: u16,
    /// How the connection is secured.
    pub encryption: Encryption,
    /// The user to log in as; `None` to send without logging in.
    pub username: Option<String>,
    /// The password for `username`.
    pub password: Option<String>,
}

/// How a connection to an SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
    /// Plain, upgraded with STARTTLS (usually 587).
    StartTls,
    /// Plain text; for local relays and tests.
    None,
}

/// An email an `email` node sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The addresses to send to (1 to 50).
    pub recipients: Vec<String>,
    /// The subject line.
    pub subject: String,
    /// Plain text.
    pub content: String,
}

/// Sends email.
pub trait Mailer: Send + Sync {
    /// Sends through `server`, or through the system's configured server when `None`
    /// (`useSystemSettings`); an error when there is none.
    fn send(
        &self,
        server: Option<&SmtpServer>,
        email: &Email,
        timeout: Duration,
    ) -> Result<(), NodeError>;
}
