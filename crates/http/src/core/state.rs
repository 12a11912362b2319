//! What every handler can reach: the use-cases and the HTTP settings.

use std::path::PathBuf;
use std::sync::Arc;

use weir_identity::IdentityService;
use weir_iot::IotService;
use weir_kernel::StoreError;
use weir_workflow::WorkflowService;
use weir_workflow::runtime::Runtime;

/// Answers whether the server's dependencies (the database) are reachable. Blocking.
pub type Readiness = Arc<dyn Fn() -> Result<(), StoreError> + Send + Sync>;

pub struct ApiState {
    pub identity: Arc<IdentityService>,
    pub iot: Arc<IotService>,
    pub workflow: Arc<WorkflowService>,
    /// The BI catalog (Smartbi dialect's datasource, schema, table, folder and resource
    /// actions).
    pub catalog: Arc<weir_bi_catalog::CatalogService>,
    /// Runs flows; `None` when the app did not start it (the engine's endpoints answer 503).
    pub workflow_runtime: Option<Runtime>,
    pub readiness: Readiness,
    pub settings: HttpSettings,
    /// What `GET /mqtt/broker-info` answers.
    pub mqtt: MqttBrokerInfo,
    /// The Smartbi dialect's `smartbiToken` key and window.
    pub smartbi: crate::smartbi::SmartbiSettings,
    /// `GET /metrics`; `None` when metrics are off (`/metrics` then answers 404).
    pub metrics: Option<MetricsEndpoint>,
    /// `GET /openapi.json`, built once for all the workers (`Default::default()`).
    pub openapi: crate::openapi::Document,
}

/// Renders the process's metrics in the Prometheus text format.
pub type RenderMetrics = Arc<dyn Fn() -> String + Send + Sync>;

/// Where and to whom `GET /metrics` answers (`[metrics]`, see docs/operations.md).
#[derive(Clone)]
pub struct MetricsEndpoint {
    /// The metrics, rendered at each scrape.
    pub render: RenderMetrics,
    /// The bearer token `/metrics` asks for on the main address; `None`: it answers 404
    /// there.
    pub token: Option<String>,
    /// The separate address (one of the server's listeners) where `/metrics` answers
    /// without a token, and nothing else is served.
    pub listen: Option<std::net::SocketAddr>,
}

impl std::fmt::Debug for MetricsEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsEndpoint")
            .field("token", &self.token.as_ref().map(|_| "********"))
            .field("listen", &self.listen)
            .finish_non_exhaustive()
    }
}

/// The broker MQTT devices should use, as the app configured it; `GET /mqtt/broker-info`
/// answers it as is, with Beaver IoT's field names. **Decision:** the ports Weir does not
/// serve (TLS, WebSocket) are sent as `null` rather than left out, as the reference console
/// reads every key.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct MqttBrokerInfo {
    /// The host devices connect to (`mqtt.public_host`).
    pub host: String,
    /// The plain MQTT port (`mqtt.public_port`); `null` when MQTT is off.
    pub mqtt_port: Option<u16>,
    pub mqtts_port: Option<u16>,
    pub ws_port: Option<u16>,
    pub wss_port: Option<u16>,
    pub ws_path: Option<String>,
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest request body accepted; larger ones answer 413.
    pub max_body_bytes: usize,
    /// A built single-page web console to serve at `/`.
    pub static_dir: Option<PathBuf>,
    /// Origins allowed to call the API from a browser (with credentials).
    pub cors_origins: Vec<String>,
    /// How often an open WebSocket checks its token again: a revoked token, a disabled
    /// user or tenant closes it, and changed grants take effect.
    pub websocket_recheck: std::time::Duration,
    /// The URL clients reach Weir at (`https://weir.example.com`), behind any proxy: what
    /// single sign-on gives providers as its callback. `None`: taken from each request.
    pub public_url: Option<String>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            static_dir: None,
            cors_origins: Vec::new(),
            websocket_recheck: std::time::Duration::from_secs(20),
            public_url: None,
        }
    }
}

/// What a handler takes to reach [`ApiState`].
pub type State = actix_web::web::Data<ApiState>;
