//! Requests to providers, through Weir's outbound policy ([`PolicyClient`]): no redirect
//! followed, no proxy, no internal address unless `outbound.allow` opens it, answers read
//! up to [`MAX_ANSWER_BYTES`].

use std::time::Duration;

use oauth2::{HttpRequest, HttpResponse, http};
use serde::de::DeserializeOwned;
use url::Url;
use weir_identity::sso::SsoError;
use weir_outbound::PolicyClient;
use weir_outbound::client::{error_chain, read_capped_bytes, refused_as_internal};

/// The most of a provider's answer that is read (discovery, keys, tokens).
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// A request to a provider failed (refused by the policy, unreachable, too slow).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(String);

/// Sends requests to providers; see the [module](self) documentation.
#[derive(Debug)]
pub struct Transport {
    client: PolicyClient,
    timeout: Duration,
}

impl Transport {
    /// Requests through `client`, each given at most `timeout`.
    pub fn new(client: PolicyClient, timeout: Duration) -> Self {
        Self { client, timeout }
    }

    /// Sends one request: the HTTP client the `oauth2` crate's token exchange runs on.
    pub fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let shown = request.uri().to_string();
        let fail = |why: String| TransportError(format!("{} {shown}: {why}", request.method()));
        let url = Url::parse(&shown).map_err(|e| fail(format!("not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(fail("only http and https are allowed".into()));
        }
        let client = self
            .client
            .client_for(&url, self.timeout)
            .map_err(|e| fail(e.to_string()))?;
        let mut builder = client
            .request(request.method().clone(), url.clone())
            .timeout(self.timeout);
        for (name, value) in request.headers() {
            builder = builder.header(name, value);
        }
        let response = builder.body(request.body().clone()).send().map_err(|e| {
            if refused_as_internal(&e) {
                fail("the outbound policy refuses internal addresses (see outbound.allow)".into())
            } else {
                fail(error_chain(&e))
            }
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_capped_bytes(response, MAX_ANSWER_BYTES)
            .map_err(|e| fail(format!("cannot read the answer: {e}")))?;
        let mut answer = http::Response::builder().status(status);
        for (name, value) in &headers {
            answer = answer.header(name, value);
        }
        answer.body(body).map_err(|e| fail(e.to_string()))
    }

    /// GETs `url` and reads its JSON answer; `what` names it in errors.
    pub fn get_json<T: DeserializeOwned>(&self, url: &str, what: &str) -> Result<T, SsoError> {
        let unusable = |why: String| SsoError::ProviderUnavailable(format!("{what}: {why}"));
        let request = http::Request::get(url)
            .header(http::header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|e| unusable(e.to_string()))?;
        let answer = self.send(request).map_err(|e| unusable(e.to_string()))?;
        if !answer.status().is_success() {
            return Err(unusable(format!(
                "GET {url} answered {}",
                answer.status().as_u16()
            )));
        }
        serde_json::from_slice(answer.body()).map_err(|e| unusable(format!("GET {url}: {e}")))
    }
}
