//! [`PolicyClient`]: the one HTTP(S) client every outbound call Weir makes on a user's
//! behalf goes through (webhooks, single sign-on providers), so that each follows the
//! [`OutboundPolicy`]:
//!
//! - No redirect is followed: a redirect could lead to an address the checks refused.
//! - No proxy, not even one named by `HTTP_PROXY`: a proxy would resolve names itself, past
//!   the address checks.
//! - No internal address (loopback, private, link-local, metadata...) unless the operator's
//!   allow-list opens it, judged after DNS resolution. A literal address is checked before
//!   connecting. A name is resolved by the client's own resolver, which keeps only public
//!   addresses and fails when none is left, and the client connects only to what it kept.
//!   A name the allow-list opens (it resolves to allowed internal addresses) goes through a
//!   client pinned to exactly the addresses the policy checked. Either way, a name that
//!   resolves to a public address when checked and to an internal one when used (DNS
//!   rebinding) gets nowhere. A refusal reads the same whether anything listens there or
//!   not.

use std::error::Error as StdError;
use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::blocking::{Client, Response};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};
use weir_outbound_policy::{OutboundPolicy, Refusal, is_internal};

/// Clients pinned to the checked addresses of names the allow-list opens, kept for reuse
/// (each holds its connection pool and a thread); the oldest goes beyond this.
const MAX_PINNED: usize = 8;

/// The HTTP client could not be built (for example, the TLS backend failed to start).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct ClientBuildError(String);

/// Why [`PolicyClient::client_for`] gave no client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The policy refuses the target.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A client pinned to the checked addresses could not be built.
    #[error(transparent)]
    Build(#[from] ClientBuildError),
}

/// reqwest's blocking clients, following the policy; see the [module](self) documentation.
///
/// `new` may be called anywhere, in an async context too; the clients it hands out block,
/// and must be used on a blocking thread, never on an async runtime's worker.
pub struct PolicyClient {
    /// For public targets and literal addresses: its resolver keeps public addresses only.
    client: Client,
    policy: OutboundPolicy,
    user_agent: &'static str,
    pinned: Mutex<Vec<Pinned>>,
}

/// A client that reaches `host` at `addrs` only.
struct Pinned {
    host: String,
    addrs: Vec<SocketAddr>,
    client: Client,
}

impl std::fmt::Debug for PolicyClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyClient")
            .field("policy", &self.policy)
            .field("user_agent", &self.user_agent)
            .finish_non_exhaustive()
    }
}

impl PolicyClient {
    /// Builds the pooled client, sending `user_agent`; connections follow `policy`.
    pub fn new(policy: OutboundPolicy, user_agent: &'static str) -> Result<Self, ClientBuildError> {
        let client = build_client(&policy, user_agent, None)?;
        Ok(Self {
            client,
            policy,
            user_agent,
            pinned: Mutex::new(Vec::new()),
        })
    }

    /// The policy its connections follow.
    pub fn policy(&self) -> &OutboundPolicy {
        &self.policy
    }

    /// The client to reach `url` with, or the policy's refusal. Only a name the allow-list
    /// opens needs a lookup here; every other name is checked by the shared client's
    /// resolver as it connects (a refusal then shows as [`refused_as_internal`]).
    pub fn client_for(&self, url: &Url, timeout: Duration) -> Result<Client, ClientError> {
        let port = url.port_or_known_default().unwrap_or(80);
        if let Some(ip) = literal_ip(url) {
            self.policy.addresses(&ip.to_string(), port, timeout)?;
            return Ok(self.client.clone());
        }
        let host = url.host_str().unwrap_or_default();
        if !self.policy.opens_internal() {
            return Ok(self.client.clone());
        }
        let addrs = self.policy.addresses(host, port, timeout)?;
        if addrs.iter().all(|a| !is_internal(a.ip())) {
            return Ok(self.client.clone());
        }
        Ok(self.pinned_client(host, addrs)?)
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
        let client = build_client(&self.policy, self.user_agent, Some((host, &addrs)))?;
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
    user_agent: &'static str,
    pin: Option<(&str, &[SocketAddr])>,
) -> Result<Client, ClientBuildError> {
    let pin = pin.map(|(host, addrs)| (host.to_owned(), addrs.to_vec()));
    let resolver = PublicOnlyResolver(policy.resolver());
    // reqwest's blocking client starts a runtime of its own and refuses to be built on a
    // thread that is inside one; a thread of our own makes this safe to call from anywhere.
    let built = std::thread::spawn(move || {
        let mut builder = Client::builder()
            .user_agent(user_agent)
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

fn literal_ip(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        Host::Domain(_) => None,
    }
}

/// What the shared client's resolver reports when a name resolves to internal addresses
/// only; callers word it as the policy's refusal ([`refused_as_internal`]).
#[derive(Debug)]
struct InternalOnly;

impl std::fmt::Display for InternalOnly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the name resolves to internal addresses only")
    }
}

impl StdError for InternalOnly {}

/// Whether a request failed because its name resolved to internal addresses only: the
/// policy refused it, and the caller should say so as it says any other refusal.
pub fn refused_as_internal(error: &reqwest::Error) -> bool {
    find_source::<InternalOnly>(error).is_some()
}

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

/// The first error of type `T` in `error`'s source chain, `error` included.
pub(crate) fn find_source<'a, T: StdError + 'static>(
    error: &'a (dyn StdError + 'static),
) -> Option<&'a T> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

/// `error` and its sources, joined by ": ", skipping a message its cause repeats.
pub fn error_chain(error: &(dyn StdError + 'static)) -> String {
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

/// Reads at most `cap` bytes of the body; the rest is not read.
pub fn read_capped_bytes(response: Response, cap: usize) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    response.take(cap as u64).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads at most `cap` bytes of the body, as text; a character cut by the cap is dropped,
/// and invalid UTF-8 becomes U+FFFD.
pub fn read_capped(response: Response, cap: usize) -> io::Result<String> {
    let mut bytes = read_capped_bytes(response, cap)?;
    match std::str::from_utf8(&bytes) {
        Ok(_) => Ok(String::from_utf8(bytes).unwrap_or_default()),
        Err(e) if e.error_len().is_none() && bytes.len() == cap => {
            bytes.truncate(e.valid_up_to());
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        }
        Err(_) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
    }
}
