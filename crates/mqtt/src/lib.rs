//! Weir's MQTT adapter: the built-in `mqtt-device` integration. Devices publish JSON on
//! their uplink topic; each key becomes an entity value of the device (entities created
//! on first sight, typed by their value). Property writes and service calls are published
//! back on the device's downlink topic. See docs/mqtt.md.
//!
//! - [`topics`]: the topic layout;
//! - [`integration`]: [`MqttDevices`], the integration the app registers;
//! - [`settings`]: the `[mqtt]` settings, checked, and the broker info devices are given;
//! - `client`: Weir's client (persistent session, QoS 1, acknowledged once committed);
//! - `uplink`: what one message becomes;
//! - `broker`: the embedded broker, and the gate in front of it that keeps each device to
//!   its own topics.
//!
//! [`Mqtt::start`] runs all of it on a small runtime of its own, so it works whatever
//! runtime (actix's, a test's) the caller is on; [`Mqtt::stop`] ends it cleanly.

mod broker;
mod client;
pub mod integration;
mod measure;
pub mod settings;
mod takeover;
pub mod topics;
mod uplink;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, Packet};
use tokio::runtime::Runtime;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use weir_iot::IotService;

pub use integration::{INTEGRATION_ID, MqttDevices, downlink_payload};
pub use settings::{BrokerInfo, Mode, MqttSettings, SettingsError};

use crate::broker::{Embedded, InternalLogin};
use crate::client::ClientPlan;
use crate::settings::Target;

#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("cannot start the MQTT runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// The running MQTT side: the embedded broker (if any) and Weir's client. Dropping it
/// stops both at once; [`Mqtt::stop`] lets the reports under way finish first.
pub struct Mqtt {
    runtime: Option<Runtime>,
    shutdown: watch::Sender<bool>,
    client: Option<JoinHandle<()>>,
    /// True while Weir's client is connected and subscribed to the uplinks.
    ready: watch::Receiver<bool>,
    broker: Option<SocketAddr>,
    /// Where rumqttd itself listens behind the gate, once it does.
    internal: Arc<OnceLock<SocketAddr>>,
    devices: Arc<MqttDevices>,
    generation: u64,
    /// How to reach the external broker again as a stopped peer (cluster mode).
    takeover: Option<PeerTakeover>,
}

/// Takes over the MQTT sessions of stopped peers (cluster mode; see `takeover.rs`). Cheap to
/// clone.
#[derive(Clone)]
pub struct PeerTakeover {
    plan: ClientPlan,
    topics: topics::Topics,
    iot: Arc<IotService>,
    runtime: tokio::runtime::Handle,
}

impl PeerTakeover {
    /// Stores and acknowledges what the broker holds for the session `client_id` (a
    /// stopped peer's), and removes that session's subscription so that nothing more waits
    /// there. Runs in the background on MQTT's runtime.
    pub fn take_over(&self, client_id: String) {
        let mut plan = self.plan.clone();
        plan.client_id = client_id.clone();
        let (topics, iot) = (self.topics.clone(), self.iot.clone());
        self.runtime.spawn(async move {
            tracing::info!(client_id, "MQTT: taking over a stopped node's session");
            let handled = takeover::drain(plan, topics, iot).await;
            tracing::info!(
                client_id,
                handled,
                "MQTT: a stopped node's session is drained"
            );
        });
    }
}

impl std::fmt::Debug for Mqtt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mqtt")
            .field("running", &self.is_running())
            .field("broker", &self.broker)
            .finish_non_exhaustive()
    }
}

impl Mqtt {
    /// Starts what `settings.mode` asks for:
    /// - `embedded`: the broker on `embedded_addr`, then Weir's client on it. When the
    ///   address is taken, one warning names the settings that fix it, and nothing runs;
    ///   the rest of Weir is unaffected.
    /// - `external`: Weir's client on the broker at `url`; it connects (and reconnects)
    ///   in the background.
    /// - `off`: nothing.
    ///
    /// Settings errors are returned. Call from anywhere: nothing here blocks on a runtime.
    pub fn start(
        settings: &MqttSettings,
        iot: Arc<IotService>,
        devices: Arc<MqttDevices>,
    ) -> Result<Self, MqttError> {
        let checked = settings.checked()?;
        let (shutdown, stopped) = watch::channel(false);
        let (ready_tx, ready) = watch::channel(false);
        let mut mqtt = Self {
            runtime: None,
            shutdown,
            client: None,
            ready,
            broker: None,
            internal: Arc::default(),
            devices: devices.clone(),
            generation: devices.next_generation(),
            takeover: None,
        };
        let mut embedded = None;
        let mut plan = match checked.target {
            Target::Off => return Ok(mqtt),
            Target::External(address) => ClientPlan {
                address,
                client_id: settings.client_id.clone(),
                login: settings
                    .username
                    .clone()
                    .map(|u| (u, settings.password.clone().unwrap_or_default())),
                max_payload_bytes: settings.max_payload_bytes,
                workers: settings.workers,
                broker_starting: false,
                generation: mqtt.generation,
                shared_group: settings.shared_group.clone(),
            },
            Target::Embedded(addr) => {
                let listener = match broker::bind(addr) {
                    Ok(listener) => listener,
                    Err(error) => {
                        broker::warn_address_taken(addr, &error);
                        return Ok(mqtt);
                    }
                };
                let weir = InternalLogin::random("weir-internal");
                mqtt.broker = Some(addr);
                embedded = Some(Embedded {
                    listener,
                    iot: iot.clone(),
                    topics: checked.topics.clone(),
                    weir: weir.clone(),
                    weir_client_id: settings.client_id.clone(),
                    max_payload_bytes: settings.max_payload_bytes,
                });
                ClientPlan {
                    // Replaced by where rumqttd listens, once it does (below).
                    address: settings::local_address(addr),
                    client_id: settings.client_id.clone(),
                    login: Some((weir.username, weir.password)),
                    max_payload_bytes: settings.max_payload_bytes,
                    workers: settings.workers,
                    broker_starting: true,
                    generation: mqtt.generation,
                    shared_group: None,
                }
            }
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(settings.workers + 16)
            .thread_name("weir-mqtt")
            .enable_all()
            .build()?;
        if plan.shared_group.is_some() {
            mqtt.takeover = Some(PeerTakeover {
                plan: plan.clone(),
                topics: checked.topics.clone(),
                iot: iot.clone(),
                runtime: runtime.handle().clone(),
            });
        }
        let internal = mqtt.internal.clone();
        mqtt.client = Some(runtime.spawn(async move {
            if let Some(embedded) = embedded {
                match broker::start(embedded, stopped.clone()).await {
                    Ok(addr) => {
                        plan.address = settings::local_address(addr);
                        let _ = internal.set(addr);
                    }
                    Err(error) => {
                        tracing::error!(%error, "the embedded MQTT broker could not start");
                        return;
                    }
                }
            }
            client::run(plan, checked.topics, iot, devices, ready_tx, stopped).await;
        }));
        mqtt.runtime = Some(runtime);
        Ok(mqtt)
    }

    /// What takes over stopped peers' sessions: with a shared subscription (cluster mode)
    /// on an external broker only.
    pub fn peer_takeover(&self) -> Option<PeerTakeover> {
        self.takeover.clone()
    }

    /// Whether Weir's client runs (false when off, or when the embedded broker could not
    /// listen).
    pub fn is_running(&self) -> bool {
        self.client.is_some()
    }

    /// Whether Weir's client is connected and subscribed to every device's uplink now.
    pub fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }

    /// Where the embedded broker listens for devices, when it runs.
    pub fn embedded_broker(&self) -> Option<SocketAddr> {
        self.broker
    }

    /// Where rumqttd itself listens behind the embedded broker's gate, once it does: a
    /// port of 127.0.0.1 that takes Weir's own logins only. For tests and diagnostics.
    pub fn embedded_internal_port(&self) -> Option<SocketAddr> {
        self.internal.get().copied()
    }

    /// Stops cleanly: no new messages; the reports under way finish (a few seconds at
    /// most) and are acknowledged; the client disconnects, its session kept by the
    /// broker; then the embedded broker closes.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(client) = self.client.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), client).await;
            tracing::info!("MQTT stopped");
        }
    }
}

impl Drop for Mqtt {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        self.devices.detach(self.generation);
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Ends Weir's persistent session at the external broker: connects once with a clean
/// session under `mqtt.client_id`, then disconnects. The broker forgets the subscription
/// and any message it held for Weir. For retiring an instance (and for tests); never
/// while the instance runs.
pub async fn forget_session(settings: &MqttSettings) -> Result<(), MqttError> {
    let checked = settings.checked()?;
    let Target::External(address) = checked.target else {
        return Ok(());
    };
    let mut options = MqttOptions::new(&settings.client_id, address.host, address.port);
    options.set_clean_session(true);
    if let Some(user) = &settings.username {
        options.set_credentials(user, settings.password.clone().unwrap_or_default());
    }
    let (client, mut events) = AsyncClient::new(options, 10);
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    let _ = client.try_disconnect();
                }
                Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    Ok(())
}
