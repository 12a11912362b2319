//! Weir's configuration: defaults, then a TOML file (`--config` or `WEIR_CONFIG`), then
//! environment variables `WEIR_SECTION__KEY`, then the short forms `WEIR_DATABASE_URL`
//! and `WEIR_HTTP_ADDR` that tools use to start the server.

use std::path::{Path, PathBuf};

use config::{Config, ConfigError, Environment, File, FileFormat};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub http: HttpConfig,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub paging: PagingConfig,
    pub iot: IotConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct IotConfig {
    /// Events each live subscriber (a WebSocket, a flow) may fall behind by before it loses
    /// the oldest.
    pub event_queue: usize,
}

impl Default for IotConfig {
    fn default() -> Self {
        Self { event_queue: 1024 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpConfig {
    /// host:port to listen on.
    pub addr: String,
    pub max_body_bytes: usize,
    /// A built single-page web console served at `/`.
    pub static_dir: Option<PathBuf>,
    pub cors_origins: Vec<String>,
    /// Worker threads; default: one per core.
    pub workers: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseConfig {
    /// An SQLite file path, or a `postgres://` URL.
    pub url: String,
    pub pool_size: u32,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    pub client_id: String,
    pub client_secret: String,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub bcrypt_cost: u32,
    /// HS256 key (at least 32 bytes). When unset, one is generated at first start and
    /// kept in the database.
    pub signing_key: Option<String>,
    pub throttle: ThrottleConfig,
}

impl std::fmt::Debug for AuthConfig {
    // Secrets stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("client_id", &self.client_id)
            .field("access_token_ttl_secs", &self.access_token_ttl_secs)
            .field("refresh_token_ttl_secs", &self.refresh_token_ttl_secs)
            .field("bcrypt_cost", &self.bcrypt_cost)
            .field("throttle", &self.throttle)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ThrottleConfig {
    pub account_failures: u32,
    pub address_failures: u32,
    pub window_secs: i64,
    pub lockout_secs: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PagingConfig {
    pub max_page_size: u32,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:9200".into(),
            max_body_bytes: 1024 * 1024,
            static_dir: None,
            cors_origins: Vec::new(),
            workers: None,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "data/weir.db".into(),
            pool_size: 10,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        let identity = weir_identity::IdentitySettings::default();
        let throttle = identity.throttle;
        Self {
            client_id: identity.client_id,
            client_secret: identity.client_secret,
            access_token_ttl_secs: identity.access_token_ttl_secs,
            refresh_token_ttl_secs: identity.refresh_token_ttl_secs,
            bcrypt_cost: weir_identity::crypto::MIN_BCRYPT_COST,
            signing_key: None,
            throttle: ThrottleConfig {
                account_failures: throttle.account_failures,
                address_failures: throttle.address_failures,
                window_secs: throttle.window_secs,
                lockout_secs: throttle.lockout_secs,
            },
        }
    }
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        AuthConfig::default().throttle
    }
}

impl Default for PagingConfig {
    fn default() -> Self {
        Self {
            max_page_size: weir_identity::IdentitySettings::default().max_page_size,
        }
    }
}

impl Settings {
    /// Loads settings from the optional file and the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let mut builder = Config::builder().add_source(Config::try_from(&Settings::default())?);
        if let Some(path) = file {
            builder = builder.add_source(File::from(path).format(FileFormat::Toml).required(true));
        }
        builder = builder.add_source(
            Environment::with_prefix("WEIR")
                .prefix_separator("_")
                .separator("__")
                .list_separator(",")
                .with_list_parse_key("http.cors_origins")
                .try_parsing(true),
        );
        if let Some(url) = env("WEIR_DATABASE_URL") {
            builder = builder.set_override("database.url", url)?;
        }
        if let Some(addr) = env("WEIR_HTTP_ADDR") {
            builder = builder.set_override("http.addr", addr)?;
        }
        builder.build()?.try_deserialize()
    }
}
