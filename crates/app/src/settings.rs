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
    pub mqtt: MqttConfig,
    pub demo: DemoConfig,
    pub workflow: WorkflowConfig,
    pub smartbi: SmartbiConfig,
    pub bi: BiConfig,
    pub outbound: OutboundConfig,
    pub metrics: MetricsConfig,
    pub log: LogConfig,
    pub tracing: TracingConfig,
    pub cluster: ClusterConfig,
}

/// The `[cluster]` section: several Weir processes on one PostgreSQL database acting as
/// one service (docs/scaling.md). Off unless `nats_url` is set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterConfig {
    /// The NATS server the nodes share (`nats://127.0.0.1:4222`). Set: cluster mode,
    /// which needs PostgreSQL and an external MQTT broker (or none), and does not start
    /// while NATS does not answer.
    pub nats_url: Option<String>,
    /// This node's name, unique in the cluster and kept across restarts (its MQTT session
    /// is named after it). Unset: the host's name.
    pub node_name: Option<String>,
    /// The first part of every NATS subject, to keep clusters sharing one NATS apart.
    pub subject_prefix: String,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            nats_url: None,
            node_name: None,
            subject_prefix: "weir".into(),
        }
    }
}

impl ClusterConfig {
    /// The NATS URL when cluster mode is on.
    pub fn nats(&self) -> Option<&str> {
        self.nats_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
    }

    /// This node's name: `node_name`, else the host's name.
    pub fn node(&self) -> String {
        let configured = self
            .node_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        match configured {
            Some(name) => name.to_owned(),
            None => std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .or_else(|| std::env::var("HOSTNAME").ok())
                .unwrap_or_else(|| "weir".into()),
        }
    }
}

/// The `[log]` section: how the server writes its log (levels: `RUST_LOG`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LogConfig {
    pub format: LogFormat,
}

/// `text` (the default: one line per event, for people) or `json` (one JSON object per
/// line, for log collectors).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The `[tracing]` section: spans exported over OTLP (HTTP/protobuf) to an OpenTelemetry
/// Collector, Jaeger or Tempo (see docs/operations.md, "Traces"). No endpoint: no
/// exporter, and nothing else changes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct TracingConfig {
    /// The OTLP/HTTP endpoint: a base URL (`http://collector:4318`), to which
    /// `/v1/traces` is added, or the full URL ending in `/v1/traces`.
    pub otlp_endpoint: Option<String>,
    /// The `service.name` the spans are exported under.
    pub service_name: String,
    /// The share of traces kept, 0.0 to 1.0 (a request's spans are kept or dropped
    /// together, after the parent's choice).
    pub sample_ratio: f64,
}

impl Default for TracingConfig {
    fn default() -> Self {
        TracingConfig {
            otlp_endpoint: None,
            service_name: "weir".into(),
            sample_ratio: 1.0,
        }
    }
}

/// The `[metrics]` section: Prometheus metrics at `GET /metrics` (see docs/operations.md).
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsConfig {
    /// Records metrics and serves them. Needs `token` or `listen`.
    pub enabled: bool,
    /// The bearer token `/metrics` asks for on the main address (`http.addr`). Unset:
    /// `/metrics` answers 404 there.
    pub token: Option<String>,
    /// A separate address (`127.0.0.1:9201`) that serves `/metrics` alone, without a token.
    pub listen: Option<String>,
}

impl std::fmt::Debug for MetricsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsConfig")
            .field("enabled", &self.enabled)
            .field("token", &self.token.as_ref().map(|_| "********"))
            .field("listen", &self.listen)
            .finish()
    }
}

/// The `[outbound]` section: where Weir may connect on a user's behalf (webhooks, email
/// nodes' own servers, BI datasources; see docs/security.md).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OutboundConfig {
    /// Internal addresses Weir may reach after all: ranges (`10.20.0.0/16`), addresses
    /// (`10.0.0.7`), an address's port (`127.0.0.1:5432`, `[::1]:25`) or a name's port
    /// (`db.internal:5432`). Empty: no loopback, private, link-local or metadata address.
    pub allow: Vec<String>,
}

/// The `[bi]` section: the BI catalog (see docs/bi-catalog.md).
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct BiConfig {
    /// The AES-256-GCM key datasource passwords are sealed with: 32 bytes as 64 hex
    /// characters. Unset: one is generated at first start and kept in the database
    /// (`settings` row `bi.secret_key`). Changing it makes the stored passwords unusable.
    pub secret_key: Option<String>,
    /// Seconds to connect to a datasource, and for each of its statements.
    pub driver_timeout_secs: u64,
    /// Most rows a data model query (`augmented/query`) answers; a query's `limit` is
    /// capped by it.
    pub max_rows: u64,
    /// The folder SQLite datasources must be in (relative paths are taken inside it).
    /// Unset: SQLite datasources are refused.
    pub sqlite_folder: Option<PathBuf>,
}

impl Default for BiConfig {
    fn default() -> Self {
        Self {
            secret_key: None,
            driver_timeout_secs: 15,
            max_rows: 10_000,
            sqlite_folder: None,
        }
    }
}

impl std::fmt::Debug for BiConfig {
    // The key stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BiConfig")
            .field("secret_key", &self.secret_key.as_ref().map(|_| "********"))
            .field("driver_timeout_secs", &self.driver_timeout_secs)
            .field("max_rows", &self.max_rows)
            .field("sqlite_folder", &self.sqlite_folder)
            .finish()
    }
}

/// The `[smartbi]` section: the Smartbi dialect's `smartbiToken` (see docs/smartbi.md).
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SmartbiConfig {
    /// The AES-256-GCM key of `smartbiToken`: 32 bytes as 64 hex characters. Unset:
    /// `smartbiToken` is refused and only bearer tokens work.
    pub token_key: Option<String>,
    /// How old a `smartbiToken` may be, in seconds.
    pub token_window_secs: u64,
}

impl Default for SmartbiConfig {
    fn default() -> Self {
        Self {
            token_key: None,
            token_window_secs: 300,
        }
    }
}

impl std::fmt::Debug for SmartbiConfig {
    // The key stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmartbiConfig")
            .field("token_key", &self.token_key.as_ref().map(|_| "********"))
            .field("token_window_secs", &self.token_window_secs)
            .finish()
    }
}

impl SmartbiConfig {
    /// The HTTP adapter's settings; a malformed key or a zero window is refused.
    pub fn to_http(&self) -> Result<weir_http::smartbi::SmartbiSettings, String> {
        let token_key = match self.token_key.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(
                weir_http::smartbi::token::TokenKey::parse(raw)
                    .map_err(|e| format!("smartbi.token_key {e}"))?,
            ),
        };
        if self.token_window_secs == 0 {
            return Err("smartbi.token_window_secs must be at least 1".into());
        }
        Ok(weir_http::smartbi::SmartbiSettings {
            token_key,
            token_window_secs: self.token_window_secs,
        })
    }
}

/// The `[workflow]` section: how flows run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkflowConfig {
    /// Seconds one run may take, all its nodes together.
    pub run_timeout_secs: u64,
    /// Runs of one tenant that may go on at once; more wait for a slot.
    pub max_runs_per_tenant: usize,
    /// Runs started by events that may wait for a slot, per tenant, before the writes that
    /// start them (devices, the API; never a flow's own) wait for room.
    pub max_queued_runs: usize,
    /// The longest node input or output a trace keeps, in bytes.
    pub max_trace_bytes: usize,
    /// Days run logs are kept.
    pub log_retention_days: u32,
    /// Operations one script run may perform.
    pub script_max_operations: u64,
    /// Most runs in a chain of flows started by each other's writes (a flow that assigns
    /// what it listens to, two flows that ping-pong); the run that would be one more is
    /// not started, and its log says why. At least 1.
    pub max_chain_depth: usize,
    /// Milliseconds a process's lease of a timer flow lasts without renewal: when the
    /// process dies, another process on the same database takes its timers after at most
    /// `timer_lease_ms + timer_renew_ms` (docs/scaling.md, "Timers").
    pub timer_lease_ms: u64,
    /// Milliseconds between two renewals of a process's timer leases.
    pub timer_renew_ms: u64,
    pub webhook: WebhookConfig,
    /// The system SMTP server, for email nodes with `useSystemSettings`.
    pub smtp: Option<SmtpConfig>,
}

impl Default for WorkflowConfig {
    fn default() -> Self {
        Self {
            run_timeout_secs: 30,
            max_runs_per_tenant: 32,
            max_queued_runs: 10_000,
            max_trace_bytes: 4096,
            log_retention_days: 30,
            script_max_operations: 1_000_000,
            max_chain_depth: 8,
            timer_lease_ms: 10_000,
            timer_renew_ms: 3_000,
            webhook: WebhookConfig::default(),
            smtp: None,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookConfig {
    /// Deprecated: `true` opens every address to every outbound connection, as
    /// `outbound.allow = ["0.0.0.0/0", "::/0"]` would (it once opened internal addresses
    /// to webhooks, while email and datasources went anywhere). List what Weir may reach in
    /// `outbound.allow` instead.
    pub allow_private: bool,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    /// `TLS`, `STARTTLS` or `NONE`.
    #[serde(default = "starttls")]
    pub encryption: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// The sender address; default `weir@<host>`.
    #[serde(default)]
    pub from: Option<String>,
}

fn starttls() -> String {
    "STARTTLS".into()
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("encryption", &self.encryption)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "********"))
            .field("from", &self.from)
            .finish()
    }
}

/// The `[demo]` section: simulated devices that report values, so a first-time user sees
/// live data (see `demo.rs`). Off by default.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DemoConfig {
    /// Registers the `demo` integration and runs its devices.
    pub enabled: bool,
    /// Seconds between two reports of each device (at least 1).
    pub interval_secs: u64,
    /// The tenant the demo devices live in.
    pub tenant: String,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            interval_secs: 5,
            tenant: "default".into(),
        }
    }
}

/// The `[mqtt]` section: where MQTT devices connect (see docs/mqtt.md).
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MqttConfig {
    /// `embedded` (a broker inside Weir), `external` (a broker at `url`) or `off`.
    pub mode: weir_mqtt::Mode,
    /// The external broker, `mqtt://host:port`.
    pub url: Option<String>,
    /// Weir's login at the external broker.
    pub username: Option<String>,
    pub password: Option<String>,
    /// Weir's client id; the broker keeps Weir's persistent session under it.
    pub client_id: String,
    pub topic_prefix: String,
    pub embedded: EmbeddedBrokerConfig,
    /// What `GET /mqtt/broker-info` tells devices; derived from the broker when unset.
    pub public_host: Option<String>,
    pub public_port: Option<u16>,
    /// Reports stored at the same time.
    pub workers: usize,
    pub max_payload_bytes: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct EmbeddedBrokerConfig {
    /// host:port the embedded broker listens on.
    pub addr: String,
}

impl std::fmt::Debug for MqttConfig {
    // The password stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.to_mqtt().fmt(f)
    }
}

impl Default for MqttConfig {
    fn default() -> Self {
        let d = weir_mqtt::MqttSettings::default();
        Self {
            mode: d.mode,
            url: d.url,
            username: d.username,
            password: d.password,
            client_id: d.client_id,
            topic_prefix: d.topic_prefix,
            embedded: EmbeddedBrokerConfig {
                addr: d.embedded_addr,
            },
            public_host: d.public_host,
            public_port: d.public_port,
            workers: d.workers,
            max_payload_bytes: d.max_payload_bytes,
        }
    }
}

impl Default for EmbeddedBrokerConfig {
    fn default() -> Self {
        MqttConfig::default().embedded
    }
}

impl MqttConfig {
    /// The adapter's settings.
    pub fn to_mqtt(&self) -> weir_mqtt::MqttSettings {
        weir_mqtt::MqttSettings {
            mode: self.mode,
            url: self.url.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            client_id: self.client_id.clone(),
            topic_prefix: self.topic_prefix.clone(),
            embedded_addr: self.embedded.addr.clone(),
            public_host: self.public_host.clone(),
            public_port: self.public_port,
            workers: self.workers,
            max_payload_bytes: self.max_payload_bytes,
            shared_group: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct IotConfig {
    /// Events each live subscriber (a WebSocket, a flow) may fall behind by before it loses
    /// the oldest.
    pub event_queue: usize,
    /// Days raw history points are kept; unset keeps them forever.
    pub retention_days: Option<u32>,
    /// Days minute and hour rollups are kept; unset keeps them forever.
    pub rollup_retention_days: Option<u32>,
    /// Tenants with their own retention, by tenant id: each key it sets replaces the
    /// default above; a key it leaves out keeps the value forever.
    pub tenants: std::collections::BTreeMap<String, TenantRetentionConfig>,
    /// Rows one retention transaction deletes at most.
    pub retention_batch: usize,
    /// Milliseconds between two retention transactions.
    pub retention_pause_ms: u64,
    /// Seconds between two retention passes (the first runs a minute after the start).
    pub retention_interval_secs: u64,
    /// Most value writes waiting at once that share one transaction (group commit).
    /// Unset: 64 on SQLite, 1 on PostgreSQL (each write its own transaction, in parallel).
    pub group_commit_writes: Option<usize>,
    /// Most values one shared transaction holds (a single larger write goes alone).
    pub group_commit_values: usize,
}

impl Default for IotConfig {
    fn default() -> Self {
        Self {
            event_queue: 1024,
            retention_days: None,
            rollup_retention_days: None,
            tenants: std::collections::BTreeMap::new(),
            retention_batch: 10_000,
            retention_pause_ms: 100,
            retention_interval_secs: 3600,
            group_commit_writes: None,
            group_commit_values: 10_000,
        }
    }
}

/// One tenant's own retention (`[iot.tenants.<id>]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TenantRetentionConfig {
    /// Days raw history points are kept; unset keeps them forever.
    pub retention_days: Option<u32>,
    /// Days rollups are kept; unset keeps them forever.
    pub rollup_retention_days: Option<u32>,
}

impl IotConfig {
    /// The retention policy these settings describe.
    pub fn retention(&self) -> weir_iot::rollup::RetentionPolicy {
        weir_iot::rollup::RetentionPolicy {
            default: weir_iot::rollup::Retention {
                raw_days: self.retention_days,
                rollup_days: self.rollup_retention_days,
            },
            tenants: self
                .tenants
                .iter()
                .map(|(id, t)| {
                    (
                        id.clone(),
                        weir_iot::rollup::Retention {
                            raw_days: t.retention_days,
                            rollup_days: t.rollup_retention_days,
                        },
                    )
                })
                .collect(),
        }
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
    /// Seconds between an open WebSocket's checks of its token and grants.
    pub websocket_recheck_secs: u64,
    /// The URL clients reach Weir at, behind any proxy (`https://weir.example.com`): the
    /// base of the single sign-on callback given to identity providers. Unset: each
    /// request's own scheme and host.
    pub public_url: Option<String>,
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
    pub max_lockout_secs: i64,
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
            websocket_recheck_secs: 20,
            public_url: None,
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
                max_lockout_secs: throttle.max_lockout_secs,
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
    /// The settings as TOML, every secret (passwords, keys, the client secret, the password
    /// of a URL) replaced by `********`; unset options left out.
    pub fn masked_toml(&self) -> Result<String, String> {
        let mut value = serde_json::to_value(self).map_err(|e| e.to_string())?;
        mask(&mut value);
        toml::to_string(&value).map_err(|e| e.to_string())
    }

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
                .with_list_parse_key("outbound.allow")
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

/// What [`Settings::masked_toml`] hides: a field named like a secret, and the password of
/// any URL; nulls (unset options) go, as TOML has none.
fn mask(value: &mut serde_json::Value) {
    use serde_json::Value;
    const MASK: &str = "********";
    let Value::Object(fields) = value else { return };
    fields.retain(|_, v| !v.is_null());
    for (name, v) in fields.iter_mut() {
        let secret = name.ends_with("password")
            || name.ends_with("secret")
            || name.ends_with("_key")
            || name == "token";
        match v {
            Value::String(_) if secret => *v = Value::String(MASK.into()),
            Value::String(url) if name.ends_with("url") => *url = masked_url(url),
            Value::Object(_) => mask(v),
            _ => {}
        }
    }
}

/// `scheme://user:secret@host/...` as `scheme://user:********@host/...`.
fn masked_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((login, host)) => {
            let user = login.split_once(':').map_or(login, |(user, _)| user);
            let hidden = if login.contains(':') { ":********" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{path}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbound_and_the_sqlite_folder_are_read_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("weir.toml");
        std::fs::write(
            &file,
            "[outbound]\nallow = [\"127.0.0.1:5432\", \"db.internal:5432\"]\n\
             [bi]\nsqlite_folder = \"/srv/weir-bi\"\n",
        )
        .unwrap();
        let settings = Settings::load(Some(&file)).unwrap();
        assert_eq!(
            settings.outbound.allow,
            ["127.0.0.1:5432", "db.internal:5432"]
        );
        assert_eq!(
            settings.bi.sqlite_folder.as_deref(),
            Some(Path::new("/srv/weir-bi"))
        );
        let defaults = Settings::default();
        assert!(defaults.outbound.allow.is_empty());
        assert_eq!(defaults.bi.sqlite_folder, None);
    }

    #[test]
    fn retention_is_read_from_the_file_with_tenants_of_their_own() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("weir.toml");
        std::fs::write(
            &file,
            "[iot]\nretention_days = 90\nrollup_retention_days = 1825\n\
             [iot.tenants.acme]\nretention_days = 30\n",
        )
        .unwrap();
        let policy = Settings::load(Some(&file)).unwrap().iot.retention();
        assert_eq!(policy.of("default").raw_days, Some(90));
        assert_eq!(policy.of("default").rollup_days, Some(1825));
        assert_eq!(policy.of("acme").raw_days, Some(30));
        assert_eq!(policy.of("acme").rollup_days, None, "left out: forever");
        let defaults = Settings::default().iot;
        assert!(defaults.retention().default.is_forever());
        assert_eq!(defaults.retention_batch, 10_000);
    }

    #[test]
    fn the_log_format_is_text_or_json() {
        assert_eq!(Settings::default().log.format, LogFormat::Text);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("weir.toml");
        std::fs::write(&file, "[log]\nformat = \"json\"\n").unwrap();
        assert_eq!(
            Settings::load(Some(&file)).unwrap().log.format,
            LogFormat::Json
        );
        std::fs::write(&file, "[log]\nformat = \"xml\"\n").unwrap();
        assert!(Settings::load(Some(&file)).is_err());
    }

    #[test]
    fn the_metrics_token_is_masked() {
        let mut settings = Settings::default();
        settings.metrics.enabled = true;
        settings.metrics.token = Some("scrape-secret".into());
        settings.metrics.listen = Some("127.0.0.1:9201".into());
        let toml = settings.masked_toml().unwrap();
        assert!(!toml.contains("scrape-secret"), "{toml}");
        assert!(toml.contains("token = \"********\""), "{toml}");
        assert!(toml.contains("listen = \"127.0.0.1:9201\""), "{toml}");
        assert!(!format!("{settings:?}").contains("scrape-secret"));
    }
}
