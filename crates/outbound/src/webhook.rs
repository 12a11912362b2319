//! [`HttpWebhooks`]: the engine's [`Webhooks`] port over HTTP(S), with reqwest's blocking
//! client.
//!
//! - One client for the adapter's life, so connections to a receiver are pooled.
//! - Every connection follows the [`OutboundPolicy`] through [`PolicyClient`]: no
//!   redirect (a 3xx answer is an error like any other non-2xx answer), no proxy, and no
//!   internal address unless the operator's allow-list opens it, judged after DNS
//!   resolution. A refusal reads the same whether anything listens there or not.
//! - With a `secret_key`, the request is signed: `TIMESTAMP` (epoch milliseconds), `NONCE`
//!   (32 random hex characters) and `SIGNATURE`, the lowercase hex HMAC-SHA256 under the key
//!   of the timestamp, the nonce and the body bytes, concatenated ([`signature`]).

use std::error::Error as StdError;
use std::io;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use sha2::Sha256;
use url::Url;
use weir_outbound_policy::{OutboundPolicy, Refusal, target};
use weir_workflow::engine::{NodeError, WebhookRequest, WebhookResponse, Webhooks};

use crate::client::{
    ClientBuildError, PolicyClient, error_chain, find_source, read_capped, refused_as_internal,
};
use crate::format_duration;

/// How much of a response body is kept in [`WebhookResponse::body`]; the rest is not read.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// How much of a refusing receiver's body an error message quotes, in characters.
const ERROR_BODY_CHARS: usize = 200;

/// The `User-Agent` every webhook carries.
pub const USER_AGENT: &str = concat!("Weir-Webhook/", env!("CARGO_PKG_VERSION"));

/// The [`Webhooks`] port over HTTP(S); see the [module](self) documentation.
///
/// `new` may be called anywhere, in an async context too; `post` blocks, and must run on a
/// blocking thread, never on an async runtime's worker.
pub struct HttpWebhooks {
    client: PolicyClient,
}

impl std::fmt::Debug for HttpWebhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpWebhooks")
            .field("policy", self.client.policy())
            .finish_non_exhaustive()
    }
}

impl HttpWebhooks {
    /// Builds the pooled client; connections follow `policy`.
    pub fn new(policy: OutboundPolicy) -> Result<Self, ClientBuildError> {
        Ok(Self {
            client: PolicyClient::new(policy, USER_AGENT)?,
        })
    }

    /// The policy its connections follow.
    pub fn policy(&self) -> &OutboundPolicy {
        self.client.policy()
    }
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
        let client = self
            .client
            .client_for(&url, request.timeout)
            .map_err(|e| NodeError::new(format!("webhook: {e}")))?;
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
    if refused_as_internal(error) {
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
