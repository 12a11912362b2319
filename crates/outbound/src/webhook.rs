//! [`HttpWebhooks`]: the engine's [`Webhooks`] port over HTTP(S), with reqwest's blocking
//! client.
//!
//! - One client for the adapter's life, so connections to a receiver are pooled.
//! - No redirect is followed: a redirect could lead to an address the checks below refused,
//!   so a 3xx answer is an error like any other non-2xx answer.
//! - No proxy, not even one named by `HTTP_PROXY`: a proxy would resolve names itself, past
//!   the address checks.
//! - Unless [`WebhookSettings::allow_private`], no connection to a loopback, private,
//!   link-local, unique-local, CGNAT, unspecified, multicast or broadcast address (nor to an
//!   IPv6 form embedding one: IPv4-mapped, IPv4-compatible, NAT64, 6to4). A literal address
//!   is checked before connecting. A name is resolved by this adapter's own resolver, which
//!   drops such addresses from what DNS answered and fails when none is left; the client
//!   connects only to what the resolver kept, so a name that resolves to a public address
//!   when checked and to a private one when used (DNS rebinding) gets nowhere.
//! - With a `secret_key`, the request is signed: `TIMESTAMP` (epoch milliseconds), `NONCE`
//!   (32 random hex characters) and `SIGNATURE`, the lowercase hex HMAC-SHA256 under the key
//!   of the timestamp, the nonce and the body bytes, concatenated ([`signature`]).

use std::error::Error as StdError;
use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use reqwest::blocking::{Client, Response};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use sha2::Sha256;
use url::{Host, Url};
use weir_workflow::engine::{NodeError, WebhookRequest, WebhookResponse, Webhooks};

use crate::format_duration;

/// How much of a response body is kept in [`WebhookResponse::body`]; the rest is not read.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// How much of a refusing receiver's body an error message quotes, in characters.
const ERROR_BODY_CHARS: usize = 200;

/// The `User-Agent` every webhook carries.
pub const USER_AGENT: &str = concat!("Weir-Webhook/", env!("CARGO_PKG_VERSION"));

/// What the configuration says about webhooks (`workflow.webhook`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Allows loopback, private and link-local receivers (`workflow.webhook.allow_private`).
    /// Off by default: a flow's author must not reach the server's own network through it.
    pub allow_private: bool,
}

/// The HTTP client could not be built (for example, the TLS backend failed to start).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("webhook: cannot build the HTTP client: {0}")]
pub struct ClientBuildError(String);

/// The [`Webhooks`] port over HTTP(S); see the [module](self) documentation.
///
/// `new` may be called anywhere, in an async context too; `post` blocks, and must run on a
/// blocking thread, never on an async runtime's worker.
pub struct HttpWebhooks {
    client: Client,
    settings: WebhookSettings,
}

impl std::fmt::Debug for HttpWebhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpWebhooks")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl HttpWebhooks {
    /// Builds the pooled client.
    pub fn new(settings: WebhookSettings) -> Result<Self, ClientBuildError> {
        // reqwest's blocking client starts a runtime of its own and refuses to be built on a
        // thread that is inside one; a thread of our own makes `new` safe to call from
        // anywhere.
        let built = std::thread::spawn(move || {
            let mut builder = Client::builder()
                .user_agent(USER_AGENT)
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy();
            if !settings.allow_private {
                builder = builder.dns_resolver(Arc::new(PublicOnlyResolver));
            }
            builder.build()
        })
        .join()
        .map_err(|_| ClientBuildError("the client builder panicked".into()))?;
        let client = built.map_err(|e| ClientBuildError(error_chain(&e)))?;
        Ok(Self { client, settings })
    }

    pub fn settings(&self) -> WebhookSettings {
        self.settings
    }
}

impl Webhooks for HttpWebhooks {
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
        if !self.settings.allow_private
            && let Some(ip) = literal_ip(&url)
            && is_private(ip)
        {
            return Err(NodeError::new(format!(
                "webhook: {}",
                PrivateAddress {
                    host: None,
                    ip: unmap(ip)
                }
            )));
        }
        let body = serde_json::to_vec(&request.body)
            .map_err(|e| NodeError::new(format!("webhook: cannot encode the body: {e}")))?;

        let mut builder = self
            .client
            .post(url)
            .timeout(request.timeout)
            .header(CONTENT_TYPE, "application/json");
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

        let response = builder
            .body(body)
            .send()
            .map_err(|e| NodeError::new(describe_send_error(&shown, request.timeout, &e)))?;
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

/// Whether webhooks refuse `ip` unless private addresses are allowed: loopback, private
/// (10/8, 172.16/12, 192.168/16), link-local (169.254/16, fe80::/10), unique-local
/// (fc00::/7), site-local (fec0::/10), CGNAT (100.64/10), "this network" (0/8, which includes
/// unspecified), broadcast, multicast, and IPv6 addresses that embed such an IPv4 address
/// (IPv4-mapped, IPv4-compatible, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`).
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => is_private_v6(v6),
    }
}

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || a == 0
        || (a == 100 && (b & 0xc0) == 64)
}

fn is_private_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_private_v4(v4);
    }
    let s = ip.segments();
    let embedded =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        || (s[0] & 0xfe00) == 0xfc00
        // IPv4-compatible (deprecated): ::a.b.c.d
        || (s[..6].iter().all(|&x| x == 0) && is_private_v4(embedded(s[6], s[7])))
        // NAT64 well-known prefix: 64:ff9b::a.b.c.d
        || (s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] && is_private_v4(embedded(s[6], s[7])))
        // 6to4: 2002:AABB:CCDD::/48 carries a.b.c.d
        || (s[0] == 0x2002 && is_private_v4(embedded(s[1], s[2])))
}

/// An IPv4-mapped IPv6 address shown as the IPv4 address it is.
fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn literal_ip(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        Host::Domain(_) => None,
    }
}

/// The refusal, as the resolver reports it through reqwest and as `post` words it.
#[derive(Debug)]
struct PrivateAddress {
    /// The name that resolved to `ip`; `None` for a literal address.
    host: Option<String>,
    ip: IpAddr,
}

impl std::fmt::Display for PrivateAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.host {
            Some(host) => write!(f, "refused to connect to {host} ({})", self.ip)?,
            None => write!(f, "refused to connect to {}", self.ip)?,
        }
        f.write_str(
            ": loopback, private and link-local addresses are not allowed \
             (workflow.webhook.allow_private)",
        )
    }
}

impl StdError for PrivateAddress {}

/// Resolves names with the system's resolver, on the runtime's blocking pool, and keeps
/// only the addresses [`is_private`] allows.
struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let lookup = host.clone();
            let found: Vec<SocketAddr> = tokio::task::spawn_blocking(move || {
                (lookup.as_str(), 0)
                    .to_socket_addrs()
                    .map(|addrs| addrs.collect::<Vec<_>>())
            })
            .await
            .map_err(|e| Box::new(e) as Box<dyn StdError + Send + Sync>)??;
            let Some(first) = found.first().copied() else {
                return Err(format!("{host} resolved to no address").into());
            };
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| !is_private(addr.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(PrivateAddress {
                    host: Some(host),
                    ip: unmap(first.ip()),
                }) as Box<dyn StdError + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
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

fn describe_send_error(url: &str, timeout: Duration, error: &reqwest::Error) -> String {
    if let Some(refused) = find_source::<PrivateAddress>(error) {
        return format!("webhook: {refused}");
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

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_addresses_are_recognised() {
        for private in [
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "febf::1",
            "fc00::1",
            "fd12:3456::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::10.0.0.1",
            "2002:7f00:1::1",
            "2002:c0a8:101::",
        ] {
            assert!(is_private(ip(private)), "{private} should be private");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.0.1",
            "192.169.0.1",
            "2001:4860:4860::8888",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:0808:0808::1",
        ] {
            assert!(!is_private(ip(public)), "{public} should be public");
        }
    }

    #[test]
    fn the_refusal_names_the_address_and_the_setting() {
        let refused = PrivateAddress {
            host: None,
            ip: ip("127.0.0.1"),
        };
        assert_eq!(
            format!("webhook: {refused}"),
            "webhook: refused to connect to 127.0.0.1: loopback, private and link-local \
             addresses are not allowed (workflow.webhook.allow_private)"
        );
        assert_eq!(unmap(ip("::ffff:10.0.0.1")), ip("10.0.0.1"));
    }

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
