//! [`HttpWebhooks`]: the engine's [`Webhooks`] port over HTTP(S), with reqwest's blocking
//! client.
//!
//! - One client for the adapter's life, so connections to a receiver are pooled.
//! - No redirect is followed: a redirect could lead to an address the checks below refused,
//!   so a 3xx answer is an error like any other non-2xx answer.
//! - No proxy, not even one named by `HTTP_PROXY`: a proxy would resolve names itself, past
//!   the address checks.
//! - Every connection follows the [`OutboundPolicy`]: no internal address (loopback,
//!   private, link-local, metadata...) unless the operator's allow-list opens it, judged
//!   after DNS resolution. A literal address is checked before connecting. A name is
//!   resolved by the client's own resolver, which keeps only public addresses and fails
//!   when none is left, and the client connects only to what it kept. A name the
//!   allow-list opens (it resolves to allowed internal addresses) goes through a client
//!   pinned to exactly the addresses the policy checked. Either way, a name that resolves
//!   to a public address when checked and to an internal one when used (DNS rebinding)
//!   gets nowhere. A refusal reads the same whether anything listens there or not.
//! - With a `secret_key`, the request is signed: `TIMESTAMP` (epoch milliseconds), `NONCE`
//!   (32 random hex characters) and `SIGNATURE`, the lowercase hex HMAC-SHA256 under the key
//!   of the timestamp, the nonce and the body bytes, concatenated ([`signature`]).

use std::error::Error as StdError;
use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use reqwest::blocking::{Client, Response};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use sha2::Sha256;
use url::{Host, Url};
use weir_outbound_policy::{OutboundPolicy, Refusal, is_internal, target};
use weir_workflow::engine::{NodeError, WebhookRequest, WebhookResponse, Webhooks};

use crate::format_duration;

/// How much of a response body is kept in [`WebhookResponse::body`]; the rest is not read.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// How much of a refusing receiver's body an error message quotes, in characters.
const ERROR_BODY_CHARS: usize = 200;

/// Clients pinned to the checked addresses of names the allow-list opens, kept for reuse
/// (each holds its connection pool and a thread); the oldest goes beyond this.
const MAX_PINNED: usize = 8;

/// The `User-Agent` every webhook carries.
pub const USER_AGENT: &str = concat!("Weir-Webhook/", env!("CARGO_PKG_VERSION"));

/// The HTTP client could not be built (for example, the TLS backend failed to start).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("webhook: cannot build the HTTP client: {0}")]
pub struct ClientBuildError(String);

/// The [`Webhooks`] port over HTTP(S); see the [module](self) documentation.
///
/// `new` may be called anywhere, in an async context too; `post` blocks, and must run on a
/// blocking thread, never on an async runtime's worker.
pub struct HttpWebhooks {
    /// For public receivers and literal addresses: its resolver keeps public addresses only.
    client: Client,
    policy: OutboundPolicy,
    pinned: Mutex<Vec<Pinned>>,
}

/// A client that reaches `host` at `addrs` only.
struct Pinned {
    host: String,
    addrs: Vec<SocketAddr>,
    client: Client,
}

impl std::fmt::Debug for HttpWebhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpWebhooks")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl HttpWebhooks {
    /// Builds the pooled client; connections follow `policy`.
    pub fn new(policy: OutboundPolicy) -> Result<Self, ClientBuildError> {
        let client = build_client(&policy, None)?;
        Ok(Self {
            client,
            policy,
            pinned: Mutex::new(Vec::new()),
        })
    }

    pub fn policy(&self) -> &OutboundPolicy {
        &self.policy
    }

    /// The client to reach `url` with, or the policy's refusal. Only a name the allow-list
    /// opens needs a lookup here; every other name is checked by the shared client's
    /// resolver as it connects.
    fn client_for(&self, url: &Url, timeout: Duration) -> Result<Client, NodeError> {
        let refused = |r: Refusal| NodeError::new(format!("webhook: {r}"));
        let port = url.port_or_known_default().unwrap_or(80);
        if let Some(ip) = literal_ip(url) {
            self.policy
                .addresses(&ip.to_string(), port, timeout)
                .map_err(refused)?;
            return Ok(self.client.clone());
        }
        let host = url.host_str().unwrap_or_default();
        if !self.policy.opens_internal() {
            return Ok(self.client.clone());
        }
        let addrs = self
            .policy
            .addresses(host, port, timeout)
            .map_err(refused)?;
        if addrs.iter().all(|a| !is_internal(a.ip())) {
            return Ok(self.client.clone());
        }
        self.pinned_client(host, addrs)
            .map_err(|e| NodeError::new(e.to_string()))
    }

    fn pinned_client(
        &self,
        host: &str,
        addrs: Vec<SocketAddr>,
    ) -> Result<Client, ClientBuildError> {
        let lock = || self.pinned.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = lock().iter().find(|p| p.host == host && p.addrs == addrs) {
            return Ok(p.client.clone());
        }
        let client = build_client(&self.policy, Some((host, &addrs)))?;
        let mut pinned = lock();
        if pinned.len() >= MAX_PINNED {
            pinned.remove(0);
        }
        pinned.push(Pinned {
            host: host.to_owned(),
            addrs,
            client: client.clone(),
        });
        Ok(client)
    }
}

/// A client that follows no redirect and no proxy (a proxy would resolve names itself,
/// past the checks), resolving names to public addresses only; with `pin`, one name
/// resolves to the given (checked) addresses instead.
fn build_client(
    policy: &OutboundPolicy,
    pin: Option<(&str, &[SocketAddr])>,
) -> Result<Client, ClientBuildError> {
    let pin = pin.map(|(host, addrs)| (host.to_owned(), addrs.to_vec()));
    let resolver = PublicOnlyResolver(policy.resolver());
    // reqwest's blocking client starts a runtime of its own and refuses to be built on a
    // thread that is inside one; a thread of our own makes this safe to call from anywhere.
    let built = std::thread::spawn(move || {
        let mut builder = Client::builder()
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(resolver));
        if let Some((host, addrs)) = &pin {
            builder = builder.resolve_to_addrs(host, addrs);
        }
        builder.build()
    })
    .join()
    .map_err(|_| ClientBuildError("the client builder panicked".into()))?;
    built.map_err(|e| ClientBuildError(error_chain(&e)))
}

impl Webhooks for HttpWebhooks {
    #[tracing::instrument(level = "debug", name = "webhook", skip_all, fields(url = tracing::field::Empty))]
    fn post(&self, request: &WebhookRequest) -> Result<WebhookResponse, NodeError> {
        let url = Url::parse(&request.url)
            .map_err(|e| NodeError::new(format!("webhook: invalid URL {:?}: {e}", request.url)))?;
        let scheme = url.scheme();
        if scheme != "http" && scheme != "https" {
            return Err(NodeError::new(format!(
                "webhook: unsupported URL scheme {scheme:?}: only http and https are allowed"
            )));
        }
        let shown = shown_url(&url);
        // The URL as the run log shows it: a password in it is masked.
        tracing::Span::current().record("url", shown.as_str());
        let client = self.client_for(&url, request.timeout)?;
        let body = serde_json::to_vec(&request.body)
            .map_err(|e| NodeError::new(format!("webhook: cannot encode the body: {e}")))?;

        let refusal = Refusal::Internal {
            target: target(
                url.host_str().unwrap_or_default(),
                url.port_or_known_default().unwrap_or(80),
            ),
        };
        let mut builder = client
            .post(url)
            .timeout(request.timeout)
            .header(CONTENT_TYPE, "application/json");
        for (name, value) in crate::trace_context::headers() {
            builder = builder.header(name, value);
        }
        if let Some(key) = &request.secret_key {
            let timestamp = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis()
                .to_string();
            let nonce = format!("{:032x}", rand::random::<u128>());
            let signature = signature(key, &timestamp, &nonce, &body);
            builder = builder
                .header("TIMESTAMP", timestamp)
                .header("NONCE", nonce)
                .header("SIGNATURE", signature);
        }

        let response = builder.body(body).send().map_err(|e| {
            NodeError::new(describe_send_error(&shown, &refusal, request.timeout, &e))
        })?;
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned());
        let body = read_capped(response, MAX_RESPONSE_BYTES).map_err(|e| {
            NodeError::new(
                if innermost(&e).kind() == io::ErrorKind::TimedOut || is_timeout(&e) {
                    format!(
                        "webhook: POST {shown} timed out after {}",
                        format_duration(request.timeout)
                    )
                } else {
                    format!(
                        "webhook: POST {shown}: cannot read the answer: {}",
                        error_chain(&e)
                    )
                },
            )
        })?;

        if status.is_redirection() {
            return Err(NodeError::new(format!(
                "webhook: POST {shown} answered {}{}: redirects are not followed",
                status.as_u16(),
                location.map(|l| format!(" (to {l})")).unwrap_or_default(),
            )));
        }
        if !status.is_success() {
            let quoted: String = body.trim().chars().take(ERROR_BODY_CHARS).collect();
            let quoted = if quoted.is_empty() {
                String::new()
            } else {
                format!(": {quoted}")
            };
            return Err(NodeError::new(format!(
                "webhook: POST {shown} answered {}{quoted}",
                status.as_u16()
            )));
        }
        Ok(WebhookResponse {
            status: status.as_u16(),
            body,
        })
    }
}

/// The `SIGNATURE` header of a signed webhook: lowercase hex HMAC-SHA256 under
/// `secret_key` of `timestamp`, `nonce` and `body`, concatenated in that order.
pub fn signature(secret_key: &str, timestamp: &str, nonce: &str, body: &[u8]) -> String {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret_key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(timestamp.as_bytes());
    mac.update(nonce.as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn literal_ip(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        Host::Domain(_) => None,
    }
}

/// What the shared client's resolver reports when a name resolves to internal addresses
/// only; `post` words it as the policy's refusal.
#[derive(Debug)]
struct InternalOnly;

impl std::fmt::Display for InternalOnly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the name resolves to internal addresses only")
    }
}

impl StdError for InternalOnly {}

/// Resolves names with the policy's resolver, on the runtime's blocking pool, and keeps
/// only public addresses: internal ones are reached through pinned clients only.
struct PublicOnlyResolver(Arc<dyn weir_outbound_policy::Resolve>);

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let resolver = self.0.clone();
        Box::pin(async move {
            let lookup = host.clone();
            let found: Vec<SocketAddr> =
                tokio::task::spawn_blocking(move || resolver.resolve(&lookup, 0))
                    .await
                    .map_err(|e| Box::new(e) as Box<dyn StdError + Send + Sync>)??;
            if found.is_empty() {
                return Err(format!("{host} resolved to no address").into());
            }
            let public: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| !is_internal(addr.ip()))
                .collect();
            if public.is_empty() {
                return Err(Box::new(InternalOnly) as Box<dyn StdError + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// The URL as error messages show it: with a password in it masked.
fn shown_url(url: &Url) -> String {
    if url.password().is_some() {
        let mut masked = url.clone();
        if masked.set_password(Some("***")).is_ok() {
            return masked.to_string();
        }
    }
    url.to_string()
}

fn describe_send_error(
    url: &str,
    refusal: &Refusal,
    timeout: Duration,
    error: &reqwest::Error,
) -> String {
    if find_source::<InternalOnly>(error).is_some() {
        return format!("webhook: {refusal}");
    }
    if error.is_timeout() {
        return format!(
            "webhook: POST {url} timed out after {}",
            format_duration(timeout)
        );
    }
    if let Some(io) = find_source::<io::Error>(error) {
        let io = innermost(io);
        let what = match io.kind() {
            io::ErrorKind::ConnectionRefused => Some("connection refused"),
            io::ErrorKind::ConnectionReset => Some("connection reset by the receiver"),
            io::ErrorKind::ConnectionAborted => Some("connection aborted"),
            io::ErrorKind::TimedOut => {
                return format!(
                    "webhook: POST {url} timed out after {}",
                    format_duration(timeout)
                );
            }
            _ => None,
        };
        if let Some(what) = what {
            return format!("webhook: POST {url}: {what}");
        }
        // rustls reports what it disliked (a certificate, a record that is not TLS) as
        // invalid data.
        if io.kind() == io::ErrorKind::InvalidData && url.starts_with("https:") {
            return format!("webhook: POST {url}: TLS failed: {}", error_chain(io));
        }
    }
    if error.is_connect() {
        return format!(
            "webhook: POST {url}: cannot connect: {}",
            source_chain(error)
        );
    }
    format!("webhook: POST {url} failed: {}", source_chain(error))
}

/// The first error of type `T` in `error`'s source chain, `error` included.
fn find_source<'a, T: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

/// The I/O error an `io::Error::other(inner)` wraps, however deep: its `source()` skips the
/// inner error itself, and with it the inner error's kind.
fn innermost(mut error: &io::Error) -> &io::Error {
    while let Some(inner) = error.get_ref().and_then(|e| e.downcast_ref::<io::Error>()) {
        error = inner;
    }
    error
}

fn is_timeout(error: &io::Error) -> bool {
    find_source::<reqwest::Error>(error).is_some_and(reqwest::Error::is_timeout)
}

/// The messages of `error`'s sources, without reqwest's own top line (which repeats the
/// URL); the top line when there is no source.
fn source_chain(error: &reqwest::Error) -> String {
    match error.source() {
        Some(source) => error_chain(source),
        None => error.to_string(),
    }
}

/// `error` and its sources, joined by ": ", skipping a message its cause repeats.
fn error_chain(error: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(e) = current {
        let message = e.to_string();
        // hyper's wrapper ("client error (Connect)") says nothing its cause does not.
        if !message.starts_with("client error (") && !parts.iter().any(|p| p.contains(&message)) {
            parts.push(message);
        }
        current = e.source();
    }
    if parts.is_empty() {
        return error.to_string();
    }
    parts.join(": ")
}

/// Reads at most `cap` bytes of the body, as text; a character cut by the cap is dropped,
/// and invalid UTF-8 becomes U+FFFD.
fn read_capped(response: Response, cap: usize) -> io::Result<String> {
    let mut bytes = Vec::new();
    response.take(cap as u64).read_to_end(&mut bytes)?;
    match std::str::from_utf8(&bytes) {
        Ok(_) => Ok(String::from_utf8(bytes).unwrap_or_default()),
        Err(e) if e.error_len().is_none() && bytes.len() == cap => {
            bytes.truncate(e.valid_up_to());
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        }
        Err(_) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_the_url_is_masked() {
        let url = Url::parse("https://user:secret@example.com/hook?x=1").unwrap();
        assert_eq!(shown_url(&url), "https://user:***@example.com/hook?x=1");
    }

    #[test]
    fn the_signature_is_hex_hmac_sha256() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            signature("Jefe", "what do ya ", "want for ", b"nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
