//! Providers' metadata (OpenID Connect Discovery 1.0) and signing keys, fetched on first use
//! and kept: the metadata for [`METADATA_TTL`], the keys until a token names a key they
//! lack (a provider rotated its keys), then fetched again at most every [`KEYS_MIN_AGE`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;
use weir_identity::sso::SsoError;

use crate::transport::Transport;

/// How long a provider's metadata is kept before it is fetched again.
pub const METADATA_TTL: Duration = Duration::from_secs(3600);
/// Keys are fetched again for an unknown key id at most this often, so that tokens naming
/// made-up key ids cannot make Weir hammer the provider.
pub const KEYS_MIN_AGE: Duration = Duration::from_secs(60);
/// The most providers kept; the one fetched longest ago goes first.
const MAX_PROVIDERS: usize = 1024;

/// What Weir reads of a provider's discovery document.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    /// The provider's issuer: must be the configured one, exactly.
    pub issuer: String,
    /// Where browsers are sent to sign in.
    pub authorization_endpoint: String,
    /// Where codes are redeemed.
    pub token_endpoint: String,
    /// The provider's signing keys.
    pub jwks_uri: String,
    /// The algorithms it signs ID tokens with; RS256 when absent (the spec's default).
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
}

/// A discovered provider: its metadata, and its keys as last fetched.
#[derive(Debug)]
pub struct Provider {
    /// The discovery document.
    pub metadata: Metadata,
    keys: RwLock<(Arc<JwkSet>, Instant)>,
    fetched_at: Instant,
}

/// The providers discovered so far, by issuer.
#[derive(Debug, Default)]
pub struct Discovery {
    providers: Mutex<HashMap<String, Arc<Provider>>>,
}

impl Discovery {
    /// The provider whose issuer is `issuer`, discovered now unless known and fresh.
    pub fn provider(&self, transport: &Transport, issuer: &str) -> Result<Arc<Provider>, SsoError> {
        let lock = || self.providers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = lock().get(issuer)
            && p.fetched_at.elapsed() < METADATA_TTL
        {
            return Ok(p.clone());
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let metadata: Metadata = transport.get_json(&url, "the provider's discovery document")?;
        // OpenID Connect Discovery 1.0, 4.3: a document naming another issuer is not used
        // (it would let one provider pass for another).
        if metadata.issuer != issuer {
            return Err(SsoError::ProviderUnavailable(format!(
                "the discovery document names the issuer {:?}, not the configured {issuer:?}",
                metadata.issuer.chars().take(200).collect::<String>()
            )));
        }
        let keys: JwkSet =
            transport.get_json(&metadata.jwks_uri, "the provider's keys (jwks_uri)")?;
        let now = Instant::now();
        let provider = Arc::new(Provider {
            metadata,
            keys: RwLock::new((Arc::new(keys), now)),
            fetched_at: now,
        });
        let mut providers = lock();
        if providers.len() >= MAX_PROVIDERS
            && let Some(oldest) = providers
                .iter()
                .min_by_key(|(_, p)| p.fetched_at)
                .map(|(k, _)| k.clone())
        {
            providers.remove(&oldest);
        }
        providers.insert(issuer.to_owned(), provider.clone());
        Ok(provider)
    }

    /// The provider's keys; with `refresh`, fetched again first unless fetched within
    /// [`KEYS_MIN_AGE`].
    pub fn keys(
        &self,
        transport: &Transport,
        provider: &Provider,
        refresh: bool,
    ) -> Result<Arc<JwkSet>, SsoError> {
        let (keys, at) = provider
            .keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if !refresh || at.elapsed() < KEYS_MIN_AGE {
            return Ok(keys);
        }
        let fresh: JwkSet = transport.get_json(
            &provider.metadata.jwks_uri,
            "the provider's keys (jwks_uri)",
        )?;
        let fresh = Arc::new(fresh);
        *provider.keys.write().unwrap_or_else(|e| e.into_inner()) = (fresh.clone(), Instant::now());
        Ok(fresh)
    }
}
