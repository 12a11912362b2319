//! The Weir server: wires the domains to their adapters and runs one actix server.
//!
//! [`Weir::assemble`] opens the database and builds the use-cases; [`Weir::serve`] binds
//! the HTTP server. The binary (`main.rs`) and the test kit both go through these two. A
//! program embedding Weir adds its own integrations with [`Weir::assemble_with`] and its
//! own routes with [`Weir::serve_with`] (docs/embedding.md).

pub mod demo;
mod memory;
pub mod prometheus;
mod resources;
pub mod settings;
pub mod telemetry;
pub mod workflows;

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, OnceLock};

use actix_web::{HttpServer, web};
use rand::RngCore;
use weir_cluster::{Cluster, ClusterBus, ClusterSettings};
use weir_http::{ApiState, HttpSettings, MqttBrokerInfo};
use weir_identity::crypto::{BcryptHasher, JwtCodec};
use weir_identity::service::IdentityPorts;
use weir_identity::throttle::ThrottleLimits;
use weir_identity::{IdentityService, IdentitySettings};
use weir_iot::events::LocalBus;
use weir_iot::integration::{Integration, IntegrationRegistry};
use weir_iot::service::GroupLimits;
use weir_iot::{IotPorts, IotService, IotSettings};
use weir_kernel::{IdGenerator, StoreError, SystemClock, TenantId};
use weir_mqtt::{Mqtt, MqttDevices};
use weir_oidc::OidcClient;
use weir_outbound::{HttpWebhooks, OutboundPolicy, SmtpMailer, SmtpSettings};
use weir_scripting::{ScriptLimits, Scripts};
use weir_storage::{Database, DatabaseOptions};
use weir_workflow::engine::{Encryption, Engine, EnginePorts, EngineSettings};
use weir_workflow::runtime::{Runtime, RuntimePorts, RuntimeSettings};
use weir_workflow::{WorkflowPorts, WorkflowService, WorkflowSettings};

pub use demo::Demo;
pub use settings::Settings;
/// Makes and reads the Smartbi dialect's `smartbiToken` (`weir token`, tests, embedders).
pub use weir_http::smartbi::token as smartbi_token;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("configuration: {0}")]
    Config(#[from] config::ConfigError),
    #[error("database: {0}")]
    Database(#[from] StoreError),
    #[error("auth.signing_key must be at least 32 bytes")]
    WeakSigningKey,
    #[error("auth.bcrypt_cost must be from 10 to 31")]
    WeakBcryptCost,
    #[error("tenant: {0}")]
    Tenant(String),
    #[error("integration: {0}")]
    Integration(#[from] weir_iot::integration::RegistryError),
    #[error("iot: {0}")]
    Iot(#[from] weir_iot::errors::IotError),
    #[error("mqtt: {0}")]
    Mqtt(#[from] weir_mqtt::MqttError),
    #[error("workflow: {0}")]
    Workflow(String),
    #[error("bi: {0}")]
    Bi(String),
    #[error("cluster: {0}")]
    Cluster(String),
    #[error("single sign-on: {0}")]
    Sso(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// The assembled application: storage and use-cases, ready to serve.
#[derive(Clone)]
pub struct Weir {
    pub settings: Settings,
    pub database: Database,
    pub identity: Arc<IdentityService>,
    pub iot: Arc<IotService>,
    pub workflow: Arc<WorkflowService>,
    /// The BI catalog (datasources, schemas, tables, folders).
    pub catalog: Arc<weir_bi_catalog::CatalogService>,
    /// The built-in mqtt-device integration (registered whatever `mqtt.mode` says).
    pub mqtt_devices: Arc<MqttDevices>,
    /// Where webhooks, email nodes and datasources may connect (`[outbound]`).
    pub outbound: OutboundPolicy,
    /// What runs the enabled flows, once [`Weir::start_workflows`] started it.
    workflow_runtime: Arc<OnceLock<Runtime>>,
    /// Cluster mode's event bus (`[cluster] nats_url`), linked to NATS by
    /// [`Weir::start_cluster`]; `None` for a single process.
    cluster_bus: Option<Arc<ClusterBus>>,
    /// The link to the other nodes, once [`Weir::start_cluster`] made it.
    cluster: Arc<OnceLock<Cluster>>,
    ids: Arc<IdGenerator>,
}

impl std::fmt::Debug for Weir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Weir")
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

impl Weir {
    /// Opens and migrates the database, then builds the use-cases with the built-in
    /// integrations. Blocking: call it before the async runtime starts or on a blocking
    /// thread.
    pub fn assemble(settings: Settings) -> Result<Self, StartError> {
        Self::assemble_with(settings, Vec::new())
    }

    /// Like [`Self::assemble`], registering `integrations` too: how a program embedding
    /// Weir adds its own device plug-ins.
    pub fn assemble_with(
        settings: Settings,
        integrations: Vec<Arc<dyn Integration>>,
    ) -> Result<Self, StartError> {
        let outbound = check_settings(&settings)?;
        let mut options = DatabaseOptions::new(settings.database.url.clone());
        options.pool_size = settings.database.pool_size;
        let database = Database::open(&options)?;
        let key = match &settings.auth.signing_key {
            Some(k) => k.clone(),
            None => database.setting_or_init("auth.signing_key", || {
                let mut bytes = [0u8; 32];
                rand::rng().fill_bytes(&mut bytes);
                hex::encode(bytes)
            })?,
        };
        let node = database.allocate_id_node()?;
        let clock = Arc::new(SystemClock);
        let ids = Arc::new(IdGenerator::new(node, Box::new(SystemClock)));
        let a = &settings.auth;
        let identity_settings = IdentitySettings {
            access_token_ttl_secs: a.access_token_ttl_secs.max(60),
            refresh_token_ttl_secs: a.refresh_token_ttl_secs.max(60),
            client_id: a.client_id.clone(),
            client_secret: a.client_secret.clone(),
            throttle: ThrottleLimits {
                account_failures: a.throttle.account_failures.max(1),
                address_failures: a.throttle.address_failures.max(1),
                window_secs: a.throttle.window_secs.max(1),
                lockout_secs: a.throttle.lockout_secs.max(0),
                max_lockout_secs: a.throttle.max_lockout_secs.max(a.throttle.lockout_secs),
            },
            max_page_size: settings.paging.max_page_size.max(1),
            ..IdentitySettings::default()
        };
        let identity = Arc::new(IdentityService::new(
            IdentityPorts {
                store: Arc::new(database.clone()),
                hasher: Arc::new(BcryptHasher::new(a.bcrypt_cost)),
                tokens: Arc::new(JwtCodec::new(key.as_bytes())),
                ids: ids.clone(),
                clock: clock.clone(),
            },
            identity_settings,
        ));
        database.one_start_at_a_time(|| identity.ensure_default_tenant())?;
        let mut registry = IntegrationRegistry::default();
        let mqtt_devices = Arc::new(MqttDevices::new());
        registry.register(mqtt_devices.clone())?;
        registry.register(Arc::new(weir_iot::builtin::HttpDevices::default()))?;
        if settings.demo.enabled {
            registry.register(Arc::new(demo::DemoDevices::default()))?;
        }
        for integration in integrations {
            registry.register(integration)?;
        }
        let registry = Arc::new(registry);
        let cluster_bus = settings
            .cluster
            .nats()
            .map(|_| Arc::new(ClusterBus::new(settings.iot.event_queue)));
        let iot = Arc::new(IotService::new(
            IotPorts {
                store: Arc::new(database.clone()),
                integrations: registry.clone(),
                ids: ids.clone(),
                clock: clock.clone(),
                events: match &cluster_bus {
                    Some(bus) => bus.clone(),
                    None => Arc::new(LocalBus::new(settings.iot.event_queue)),
                },
            },
            IotSettings {
                max_page_size: settings.paging.max_page_size.max(1),
                group_commit: GroupLimits {
                    // PostgreSQL writes transactions in parallel, which one leader at a
                    // time would serialise: measured slower there (docs/scaling.md).
                    writes: settings.iot.group_commit_writes.unwrap_or(
                        if weir_storage::Backend::detect(&settings.database.url).0
                            == weir_storage::Backend::Postgres
                        {
                            1
                        } else {
                            64
                        },
                    ),
                    values: settings.iot.group_commit_values,
                },
                ..IotSettings::default()
            },
        ));
        let workflow = Arc::new(WorkflowService::new(
            WorkflowPorts {
                store: Arc::new(database.clone()),
                ids: ids.clone(),
                clock,
            },
            WorkflowSettings {
                max_page_size: settings.paging.max_page_size.max(1),
                ..WorkflowSettings::default()
            },
        ));
        workflow.check_entities_with(Arc::new(workflows::IotEntities(iot.clone())));
        identity.check_resources_with(Arc::new(resources::TenantResources {
            iot: Arc::new(database.clone()),
            workflow: Arc::new(database.clone()),
            integrations: registry,
        }));
        // Single sign-on reaches each tenant's identity provider under the outbound policy.
        identity.sign_in_with(Arc::new(
            OidcClient::new(outbound.clone()).map_err(|e| StartError::Sso(e.to_string()))?,
        ));
        let catalog = Arc::new(catalog_service(
            &settings,
            &database,
            ids.clone(),
            &outbound,
        )?);
        let weir = Self {
            settings,
            database,
            identity,
            iot,
            workflow,
            catalog,
            mqtt_devices,
            outbound,
            workflow_runtime: Arc::new(OnceLock::new()),
            cluster_bus,
            cluster: Arc::new(OnceLock::new()),
            ids,
        };
        weir.database.one_start_at_a_time(|| {
            for tenant in weir.identity.tenants()? {
                weir.iot.ensure_integration_entities(&tenant.id)?;
            }
            Ok::<(), StartError>(())
        })?;
        Ok(weir)
    }

    /// Adds a tenant with everything it starts with: menus, the super admin role, and the
    /// integrations' own entities (`weir tenant add`).
    pub fn add_tenant(
        &self,
        id: &str,
        name: Option<&str>,
        parent: Option<&str>,
    ) -> Result<weir_identity::Tenant, StartError> {
        let tenant = self
            .identity
            .add_tenant(id, name, parent)
            .map_err(|e| StartError::Tenant(e.to_string()))?;
        self.iot.ensure_integration_entities(&tenant.id)?;
        Ok(tenant)
    }

    /// Starts MQTT as `mqtt.mode` says: the embedded broker and Weir's client on it, or the
    /// client on an external broker, or nothing. It runs on its own small runtime; stop it
    /// with [`Mqtt::stop`] after the HTTP server ends. An embedded broker whose address is
    /// taken logs one warning and leaves the rest of Weir running.
    ///
    /// In cluster mode each node is its own MQTT client, `<mqtt.client_id>-<node>`, and the
    /// nodes share the uplinks as one shared subscription: the broker hands each message
    /// to one of them.
    pub fn start_mqtt(&self) -> Result<Mqtt, StartError> {
        let mut mqtt = self.settings.mqtt.to_mqtt();
        if self.settings.cluster.nats().is_some() {
            mqtt.client_id = cluster_client_id(&mqtt.client_id, &self.settings.cluster.node());
            mqtt.shared_group = Some(self.settings.cluster.subject_prefix.clone());
        }
        Ok(Mqtt::start(
            &mqtt,
            self.iot.clone(),
            self.mqtt_devices.clone(),
        )?)
    }

    /// Cluster mode (`[cluster] nats_url`): connects to NATS and links this node's event
    /// bus to its peers'. Call it first on the server's tokio runtime, before
    /// [`Weir::start_workflows`] (which then follows the peers' flow changes). Fails when
    /// NATS does not answer: a node that cannot reach its peers must not serve. Does
    /// nothing for a single process.
    pub async fn start_cluster(&self) -> Result<(), StartError> {
        let (Some(bus), Some(url)) = (&self.cluster_bus, self.settings.cluster.nats()) else {
            return Ok(());
        };
        if self.cluster.get().is_some() {
            return Ok(());
        }
        let cluster = Cluster::connect(
            ClusterSettings {
                nats_url: url.to_owned(),
                node: self.settings.cluster.node(),
                prefix: self.settings.cluster.subject_prefix.clone(),
                connect_timeout: std::time::Duration::from_secs(5),
            },
            bus.clone(),
        )
        .await
        .map_err(|e| StartError::Cluster(e.to_string()))?;
        cluster
            .follow_identity(self.identity.clone())
            .await
            .map_err(|e| StartError::Cluster(e.to_string()))?;
        let _ = self.cluster.set(cluster);
        Ok(())
    }

    /// Cluster mode: joins the nodes' roll call, and takes over the MQTT session of a peer
    /// that stopped or died (its share of the uplinks would otherwise wait for it; see
    /// docs/scaling.md). Call it once `mqtt` runs.
    pub async fn follow_peers(&self, mqtt: &Mqtt) -> Result<(), StartError> {
        let Some(cluster) = self.cluster.get() else {
            return Ok(());
        };
        let takeover = mqtt.peer_takeover();
        let base = self.settings.mqtt.client_id.clone();
        cluster
            .watch_peers(Arc::new(move |peer: String| {
                if let Some(takeover) = &takeover {
                    takeover.take_over(cluster_client_id(&base, &peer));
                }
            }))
            .await
            .map_err(|e| StartError::Cluster(e.to_string()))
    }

    /// Tells the peers this node stops, with what it still has queued for them (call it
    /// after MQTT stopped).
    pub async fn stop_cluster(&self) {
        if let Some(cluster) = self.cluster.get() {
            cluster.leave().await;
        }
    }

    /// Starts the demo devices when `demo.enabled` is true (see [`demo`]); otherwise
    /// returns a handle that runs nothing. They run on the current tokio runtime (call
    /// this inside it); stop them with [`Demo::stop`] after the HTTP server ends.
    pub fn start_demo(&self) -> Result<Demo, StartError> {
        let d = &self.settings.demo;
        if !d.enabled {
            return Ok(Demo::off());
        }
        Ok(Demo::start(
            self.iot.clone(),
            self.identity.clone(),
            demo_tenant(&self.settings)?,
            std::time::Duration::from_secs(d.interval_secs.max(1)),
        ))
    }

    /// Starts the workflow runtime on the current tokio runtime: loads the enabled flows,
    /// starts their timers and hands them the IoT events. Call it once, before
    /// [`Weir::serve`]; without it the flows do not run and the engine's endpoints answer
    /// 503.
    pub async fn start_workflows(&self) -> Result<Runtime, StartError> {
        if let Some(runtime) = self.workflow_runtime.get() {
            return Ok(runtime.clone());
        }
        let w = &self.settings.workflow;
        let limits = ScriptLimits {
            max_operations: w.script_max_operations,
            ..ScriptLimits::default()
        };
        let webhooks = HttpWebhooks::new(self.outbound.clone())
            .map_err(|e| StartError::Workflow(e.to_string()))?;
        let smtp = w.smtp.as_ref().map(smtp_settings).transpose()?;
        let engine = Engine::new(
            EnginePorts {
                entities: Arc::new(workflows::IotEntities(self.iot.clone())),
                scripts: Arc::new(Scripts::new(limits)),
                webhooks: Arc::new(webhooks),
                mailer: Arc::new(SmtpMailer::new(smtp, self.outbound.clone())),
                clock: Arc::new(SystemClock),
            },
            EngineSettings {
                run_timeout: std::time::Duration::from_secs(w.run_timeout_secs.max(1)),
                max_trace_bytes: w.max_trace_bytes.max(64),
            },
        );
        let runtime = Runtime::start(
            RuntimePorts {
                engine: Arc::new(engine),
                service: self.workflow.clone(),
                ids: self.ids.clone(),
                clock: Arc::new(SystemClock),
                // Timers fire once across every process on this database.
                leases: Arc::new(self.database.clone()),
                node: node_name(&self.settings),
            },
            RuntimeSettings {
                max_runs_per_tenant: w.max_runs_per_tenant.max(1),
                max_queued_runs: w.max_queued_runs.max(1),
                log_retention_days: w.log_retention_days.max(1),
                max_chain_depth: w.max_chain_depth.max(1),
                timer_lease: std::time::Duration::from_millis(w.timer_lease_ms.max(1)),
                timer_renew: std::time::Duration::from_millis(w.timer_renew_ms.max(1)),
                ..RuntimeSettings::default()
            },
        )
        .await
        .map_err(|e| StartError::Workflow(e.to_string()))?;
        self.iot
            .events()
            .attach(Arc::new(workflows::FlowTriggers(runtime.downgrade())));
        if let Some(cluster) = self.cluster.get() {
            cluster
                .follow_flows(&self.workflow, runtime.clone())
                .await
                .map_err(|e| StartError::Cluster(e.to_string()))?;
        }
        let runtime = self.workflow_runtime.get_or_init(|| runtime).clone();
        Ok(runtime)
    }

    /// One retention pass ([`IotService::purge_old_values`]) with the configured policy,
    /// batch and pause. Blocking: the background task runs it on a blocking thread.
    pub fn purge_old_values(&self) -> Result<weir_iot::service::PurgeOutcome, StartError> {
        let c = &self.settings.iot;
        Ok(self.iot.purge_old_values(
            &c.retention(),
            c.retention_batch.max(1),
            std::time::Duration::from_millis(c.retention_pause_ms),
        )?)
    }

    /// Starts the retention task when some tenant keeps its values for a limited time: a
    /// pass a minute after the start, then every `iot.retention_interval_secs`. Each pass
    /// deletes in bounded transactions with pauses between, so ingest goes on meanwhile.
    pub fn start_retention(&self) {
        let policy = self.settings.iot.retention();
        if policy.default.is_forever() && policy.tenants.values().all(|r| r.is_forever()) {
            return;
        }
        let weir = self.clone();
        let every =
            std::time::Duration::from_secs(self.settings.iot.retention_interval_secs.max(1));
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_secs(60).min(every)).await;
            loop {
                let pass = weir.clone();
                match tokio::task::spawn_blocking(move || pass.purge_old_values()).await {
                    Ok(Ok(n)) if n.history + n.rollups > 0 => tracing::info!(
                        history = n.history,
                        rollups = n.rollups,
                        "old values deleted"
                    ),
                    Ok(Err(e)) => tracing::warn!(error = %e, "old values could not be deleted"),
                    _ => {}
                }
                tokio::time::sleep(every).await;
            }
        });
    }

    /// Binds the HTTP server on the configured address (port 0 picks a free one) and
    /// returns it with the address it got. Await the server to run it.
    pub fn serve(&self) -> Result<(actix_web::dev::Server, SocketAddr), StartError> {
        self.serve_with(|_: &mut web::ServiceConfig| {})
    }

    /// [`Self::serve`] with a program's own routes beside Weir's: `routes` is called on
    /// each worker's app, as `App::configure` would. They are registered after Weir's own
    /// services (a path Weir serves stays Weir's: keep yours outside `/api`, `/docs`,
    /// `/openapi.json`, `/healthz`, `/readyz`, `/metrics` and the native API's bare roots)
    /// and before the JSON 404 and the static console. Weir's middleware wraps them. See
    /// docs/embedding.md.
    pub fn serve_with<F>(
        &self,
        routes: F,
    ) -> Result<(actix_web::dev::Server, SocketAddr), StartError>
    where
        F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
    {
        let addr = self.settings.http.addr.clone();
        let bind_err = |source| StartError::Bind {
            addr: addr.clone(),
            source,
        };
        let listener = TcpListener::bind(&addr).map_err(bind_err)?;
        let local = listener.local_addr().map_err(bind_err)?;
        let (metrics, metrics_listener) = self.metrics_endpoint()?;
        let db = self.database.clone();
        let state = web::Data::new(ApiState {
            identity: self.identity.clone(),
            iot: self.iot.clone(),
            workflow: self.workflow.clone(),
            catalog: self.catalog.clone(),
            workflow_runtime: self.workflow_runtime.get().cloned(),
            readiness: Arc::new(move || db.ping()),
            settings: HttpSettings {
                max_body_bytes: self.settings.http.max_body_bytes,
                static_dir: self.settings.http.static_dir.clone(),
                cors_origins: self.settings.http.cors_origins.clone(),
                websocket_recheck: std::time::Duration::from_secs(
                    self.settings.http.websocket_recheck_secs.max(1),
                ),
                public_url: self.settings.http.public_url.clone(),
            },
            mqtt: {
                let info = self.settings.mqtt.to_mqtt().broker_info();
                MqttBrokerInfo {
                    host: info.host,
                    mqtt_port: info.mqtt_port,
                    ..MqttBrokerInfo::default()
                }
            },
            // Checked by `assemble_with`.
            smartbi: self.settings.smartbi.to_http().unwrap_or_default(),
            metrics,
            openapi: Default::default(),
        });
        let mut server = HttpServer::new(move || {
            let app = weir_http::app_with(state.clone(), routes.clone());
            memory::release_freed_memory();
            app
        });
        if let Some(workers) = self.settings.http.workers {
            server = server.workers(workers.max(1));
        }
        server = server.listen(listener).map_err(bind_err)?;
        if let Some(metrics_listener) = metrics_listener {
            server = server
                .listen(metrics_listener)
                .map_err(|source| StartError::Bind {
                    addr: self.settings.metrics.listen.clone().unwrap_or_default(),
                    source,
                })?;
        }
        Ok((server.run(), local))
    }

    /// `/metrics` as `[metrics]` configures it, with the listener of `metrics.listen`
    /// (served by the same server; the HTTP adapter tells its requests apart by the
    /// address they arrived on). `None` when metrics are off.
    fn metrics_endpoint(
        &self,
    ) -> Result<(Option<weir_http::MetricsEndpoint>, Option<TcpListener>), StartError> {
        let m = &self.settings.metrics;
        if !m.enabled {
            return Ok((None, None));
        }
        let (listener, listen) = match m.listen.as_deref().map(str::trim) {
            Some(addr) if !addr.is_empty() => {
                let bind_err = |source| StartError::Bind {
                    addr: addr.to_owned(),
                    source,
                };
                let listener = TcpListener::bind(addr).map_err(bind_err)?;
                let local = listener.local_addr().map_err(bind_err)?;
                (Some(listener), Some(local))
            }
            _ => (None, None),
        };
        let endpoint = weir_http::MetricsEndpoint {
            render: prometheus::renderer(self.database.clone()),
            token: m.token.clone().filter(|t| !t.trim().is_empty()),
            listen,
        };
        Ok((Some(endpoint), listener))
    }
}

/// A name for this process among those sharing the database (timer leases): the cluster
/// node's name (for operators reading `timer_leases`) with a random part, so that a
/// restarted process is a new node and never mistakes a lease of its previous life for
/// its own.
fn node_name(settings: &Settings) -> String {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    match settings.cluster.nats() {
        Some(_) => format!("{}-{}", settings.cluster.node(), hex::encode(bytes)),
        None => hex::encode(bytes),
    }
}

/// The outbound policy of `[outbound]`, with the deprecated
/// `workflow.webhook.allow_private` read as opening every address.
/// Every check of the configuration that needs no database, as the server runs them before
/// it opens one (and `weir check-config` runs them alone); answers the outbound policy the
/// configuration makes.
pub fn check_settings(settings: &Settings) -> Result<OutboundPolicy, StartError> {
    if !(weir_identity::crypto::MIN_BCRYPT_COST..=31).contains(&settings.auth.bcrypt_cost) {
        return Err(StartError::WeakBcryptCost);
    }
    if settings
        .auth
        .signing_key
        .as_ref()
        .is_some_and(|k| k.len() < 32)
    {
        return Err(StartError::WeakSigningKey);
    }
    settings
        .mqtt
        .to_mqtt()
        .check()
        .map_err(weir_mqtt::MqttError::from)?;
    settings
        .smartbi
        .to_http()
        .map_err(config::ConfigError::Message)?;
    if settings.demo.enabled {
        demo_tenant(settings)?;
    }
    check_metrics(&settings.metrics)?;
    check_cluster(settings)?;
    check_public_url(settings.http.public_url.as_deref())?;
    let outbound = outbound_policy(settings)?;
    datasource_guard(settings, &outbound).map_err(|e| StartError::Bi(e.0))?;
    if let Some(k) = settings
        .bi
        .secret_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        weir_bi_catalog::catalog::AesGcmSealer::from_hex(k)
            .map_err(|e| StartError::Bi(format!("bi.secret_key: {e}")))?;
    }
    Ok(outbound)
}

/// Metrics on need somewhere to be scraped: a token for the main address, or an address
/// of their own.
fn check_metrics(m: &settings::MetricsConfig) -> Result<(), StartError> {
    let set = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.trim().is_empty());
    if m.enabled && !set(&m.token) && !set(&m.listen) {
        return Err(config::ConfigError::Message(
            "metrics.enabled needs metrics.token (for /metrics on http.addr) or \
             metrics.listen (an address of their own); with neither, nothing could scrape them"
                .into(),
        )
        .into());
    }
    Ok(())
}

/// Cluster mode shares everything through PostgreSQL and an external broker: SQLite and
/// the embedded broker belong to one process.
fn check_cluster(settings: &Settings) -> Result<(), StartError> {
    if settings.cluster.nats().is_none() {
        return Ok(());
    }
    let refuse = |why: &str| Err(StartError::Cluster(why.to_owned()));
    if weir_storage::Backend::detect(&settings.database.url).0 != weir_storage::Backend::Postgres {
        return refuse(
            "cluster.nats_url is set, but database.url is not PostgreSQL: the nodes of a \
             cluster share one PostgreSQL database (SQLite belongs to one process)",
        );
    }
    if settings.mqtt.mode == weir_mqtt::Mode::Embedded {
        return refuse(
            "cluster.nats_url is set, but mqtt.mode is `embedded`: the embedded broker \
             belongs to one process; give the nodes an external broker (mqtt.mode = \
             \"external\", mqtt.url) or set mqtt.mode = \"off\"",
        );
    }
    Ok(())
}

/// A node's MQTT client id in cluster mode: unique per node, and the same across its
/// restarts (the broker keeps its session under it); within MQTT's 64 characters, without
/// the characters a client id may not hold.
fn cluster_client_id(base: &str, node: &str) -> String {
    let node: String = node
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && !matches!(c, '+' | '#' | '/') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let id = format!("{base}-{node}");
    id.chars().take(64).collect()
}

/// `http.public_url`: an absolute http(s) URL with a host and no query or fragment (a
/// path is allowed, for a server behind a proxy's path prefix).
fn check_public_url(url: Option<&str>) -> Result<(), StartError> {
    let Some(raw) = url else { return Ok(()) };
    let ok = url::Url::parse(raw).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https")
            && u.host_str().is_some()
            && u.query().is_none()
            && u.fragment().is_none()
    });
    if ok {
        Ok(())
    } else {
        Err(config::ConfigError::Message(format!(
            "http.public_url {raw:?} must be an http or https URL with a host, and no query or fragment"
        ))
        .into())
    }
}

fn outbound_policy(settings: &Settings) -> Result<OutboundPolicy, StartError> {
    let mut allow = settings.outbound.allow.clone();
    if settings.workflow.webhook.allow_private {
        tracing::warn!(
            "workflow.webhook.allow_private is deprecated: it opens every address, internal \
             ones included, to webhooks, email nodes and datasources; list what Weir may \
             reach in outbound.allow instead (see docs/security.md)"
        );
        allow.extend(["0.0.0.0/0".to_owned(), "::/0".to_owned()]);
    }
    OutboundPolicy::allowing(allow).map_err(|e| config::ConfigError::Message(e.to_string()).into())
}

/// What datasources may reach: the outbound policy, `bi.sqlite_folder`, and never Weir's
/// own database.
fn datasource_guard(
    settings: &Settings,
    outbound: &OutboundPolicy,
) -> Result<weir_bi_drivers::Guard, weir_bi_drivers::GuardError> {
    let guard =
        weir_bi_drivers::Guard::new(outbound.clone()).own_database(&settings.database.url)?;
    match &settings.bi.sqlite_folder {
        Some(folder) => guard.sqlite_folder(folder),
        None => Ok(guard),
    }
}

/// The BI catalog over the database, the real drivers, and the `[bi] secret_key` (or the
/// one generated at first start and kept in the database).
fn catalog_service(
    settings: &Settings,
    database: &Database,
    ids: Arc<IdGenerator>,
    outbound: &OutboundPolicy,
) -> Result<weir_bi_catalog::CatalogService, StartError> {
    let guard = datasource_guard(settings, outbound).map_err(|e| StartError::Bi(e.0))?;
    use weir_bi_catalog::catalog::{AesGcmSealer, CatalogPorts, CatalogSettings};
    let key = match settings.bi.secret_key.as_deref().map(str::trim) {
        Some(k) if !k.is_empty() => k.to_owned(),
        _ => database.setting_or_init("bi.secret_key", AesGcmSealer::random_key_hex)?,
    };
    let sealer =
        AesGcmSealer::from_hex(&key).map_err(|e| StartError::Bi(format!("bi.secret_key: {e}")))?;
    Ok(weir_bi_catalog::CatalogService::new(
        CatalogPorts {
            store: Arc::new(database.clone()),
            drivers: Arc::new(weir_bi_drivers::SqlDrivers::new(guard)),
            sealer: Arc::new(sealer),
            ids,
            clock: Arc::new(SystemClock),
        },
        CatalogSettings {
            driver_timeout: std::time::Duration::from_secs(settings.bi.driver_timeout_secs.max(1)),
            max_rows: settings.bi.max_rows.max(1),
            ..CatalogSettings::default()
        },
    ))
}

/// The tenant `demo.tenant` names.
fn smtp_settings(c: &settings::SmtpConfig) -> Result<SmtpSettings, StartError> {
    let encryption = match c.encryption.to_ascii_uppercase().as_str() {
        "TLS" => Encryption::Tls,
        "STARTTLS" => Encryption::StartTls,
        "NONE" => Encryption::None,
        other => {
            return Err(StartError::Workflow(format!(
                "workflow.smtp.encryption must be TLS, STARTTLS or NONE, not `{other}`"
            )));
        }
    };
    let mut smtp = SmtpSettings::new(c.host.clone(), c.port, encryption);
    smtp.username = c.username.clone();
    smtp.password = c.password.clone();
    smtp.from = c.from.clone();
    Ok(smtp)
}

fn demo_tenant(settings: &Settings) -> Result<TenantId, StartError> {
    TenantId::parse(&settings.demo.tenant)
        .map_err(|e| StartError::Tenant(format!("demo.tenant `{}`: {e}", settings.demo.tenant)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const T: Duration = Duration::from_secs(1);

    #[test]
    fn the_outbound_policy_comes_from_outbound_allow() {
        let mut settings = Settings::default();
        let strict = outbound_policy(&settings).unwrap();
        assert!(!strict.opens_internal());
        assert!(strict.addresses("127.0.0.1", 5432, T).is_err());

        settings.outbound.allow = vec!["127.0.0.1:5432".into(), "10.20.0.0/16".into()];
        let policy = outbound_policy(&settings).unwrap();
        assert!(policy.addresses("127.0.0.1", 5432, T).is_ok());
        assert!(policy.addresses("127.0.0.1", 22, T).is_err());
        assert!(policy.addresses("10.20.1.2", 22, T).is_ok());

        settings.outbound.allow = vec!["db.internal".into()];
        let refused = outbound_policy(&settings).unwrap_err().to_string();
        assert!(
            refused.starts_with("configuration: outbound.allow: `db.internal` is not"),
            "{refused}"
        );
    }

    #[test]
    fn metrics_on_need_a_token_or_an_address() {
        let mut m = settings::MetricsConfig {
            enabled: true,
            ..Default::default()
        };
        let refused = check_metrics(&m).unwrap_err().to_string();
        assert!(
            refused.contains("metrics.enabled needs metrics.token"),
            "{refused}"
        );
        m.token = Some("  ".into());
        assert!(check_metrics(&m).is_err());
        m.listen = Some("127.0.0.1:9201".into());
        assert!(check_metrics(&m).is_ok());
        m.enabled = false;
        m.listen = None;
        assert!(check_metrics(&m).is_ok());
    }

    #[test]
    fn cluster_mode_needs_postgresql_and_an_external_broker() {
        let mut settings = Settings::default();
        settings.cluster.nats_url = Some("nats://127.0.0.1:4222".into());
        settings.mqtt.mode = weir_mqtt::Mode::External;
        let refused = check_cluster(&settings).unwrap_err().to_string();
        assert!(
            refused.contains("database.url is not PostgreSQL"),
            "{refused}"
        );
        settings.database.url = "postgres://weir@db/weir".into();
        assert!(check_cluster(&settings).is_ok());
        settings.mqtt.mode = weir_mqtt::Mode::Embedded;
        let refused = check_cluster(&settings).unwrap_err().to_string();
        assert!(refused.contains("mqtt.mode is `embedded`"), "{refused}");
        settings.mqtt.mode = weir_mqtt::Mode::Off;
        assert!(check_cluster(&settings).is_ok());
        // Blank is off: a single process on SQLite with the embedded broker.
        settings.cluster.nats_url = Some(" ".into());
        settings.database.url = "weir.db".into();
        settings.mqtt.mode = weir_mqtt::Mode::Embedded;
        assert!(check_cluster(&settings).is_ok());
    }

    #[test]
    fn a_nodes_mqtt_client_id_is_its_own_and_valid() {
        assert_eq!(cluster_client_id("weir", "node-1"), "weir-node-1");
        assert_eq!(cluster_client_id("weir", "a/b+c#d e"), "weir-a_b_c_d_e");
        assert_eq!(cluster_client_id("weir", &"n".repeat(100)).len(), 64);
    }

    #[test]
    fn the_deprecated_allow_private_opens_every_address() {
        let mut settings = Settings::default();
        settings.workflow.webhook.allow_private = true;
        let policy = outbound_policy(&settings).unwrap();
        assert_eq!(policy.allow_list(), ["0.0.0.0/0", "::/0"]);
        for host in ["127.0.0.1", "::1", "169.254.169.254", "10.0.0.1"] {
            assert!(policy.addresses(host, 80, T).is_ok(), "{host}");
        }
    }

    #[test]
    fn a_sqlite_folder_inside_weirs_own_folder_stops_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join("weir.db");
        std::fs::write(&own, b"").unwrap();
        std::fs::create_dir(dir.path().join("bi")).unwrap();
        let mut settings = Settings::default();
        settings.database.url = own.display().to_string();
        settings.bi.sqlite_folder = Some(dir.path().join("bi"));
        let refused = datasource_guard(&settings, &OutboundPolicy::strict()).unwrap_err();
        assert!(
            refused
                .0
                .contains("is inside the folder of Weir's own database"),
            "{refused}"
        );
        settings.bi.sqlite_folder = Some(dir.path().join("missing"));
        let refused = datasource_guard(&settings, &OutboundPolicy::strict()).unwrap_err();
        assert!(refused.0.starts_with("bi.sqlite_folder "), "{refused}");
    }
}
