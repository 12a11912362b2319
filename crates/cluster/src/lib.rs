//! Cluster mode: several Weir processes on one PostgreSQL database behaving as one
//! service. NATS carries what one process must tell the others at once:
//!
//! - **Committed values** (`<prefix>.values`), with the chain of flow runs that caused
//!   them: every node's live views see every node's values. Flows run only on the node
//!   that committed a value ([`weir_iot::events::Origin`]), so each value starts its runs
//!   once in the cluster.
//! - **Flow changes** (`<prefix>.flows`): a flow saved, enabled, disabled or deleted
//!   through one node is reloaded by the others.
//! - **Identity changes** (`<prefix>.identity`): the other nodes forget the principals they
//!   cached for the tenant.
//! - **The nodes' roll call** (`<prefix>.nodes`): who is up, who left.
//!
//! What must survive a node (timer leases, login throttling, the data) lives in
//! PostgreSQL; NATS holds nothing. See docs/scaling.md.

mod bus;
mod flows;
mod identity;
pub mod nodes;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use weir_iot::events::ValuesCommitted;

pub use bus::ClusterBus;

/// Where the cluster's messages go.
#[derive(Debug, Clone)]
pub struct ClusterSettings {
    /// The NATS server, `nats://host:4222`.
    pub nats_url: String,
    /// This process's name in the cluster (logs, NATS connection name).
    pub node: String,
    /// The first part of every subject: clusters sharing one NATS server keep apart by it.
    pub prefix: String,
    /// How long the first connection may take before the start fails.
    pub connect_timeout: Duration,
}

/// Why cluster mode could not start.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// NATS did not answer at start: cluster mode does not start without it.
    #[error("NATS at {url} could not be reached: {reason}")]
    Unreachable { url: String, reason: String },
    /// A subscription was refused.
    #[error("NATS subscription to {subject} failed: {reason}")]
    Subscribe { subject: String, reason: String },
    /// The bus was linked to NATS already.
    #[error("the cluster's event bus is linked already")]
    AlreadyLinked,
}

/// A node's link to the rest of the cluster.
#[derive(Debug, Clone)]
pub struct Cluster {
    client: async_nats::Client,
    settings: Arc<ClusterSettings>,
}

impl Cluster {
    /// Connects to NATS and links `bus` to it: this node's committed values go out, its
    /// peers' come in. Fails when NATS does not answer within the connect timeout. Call
    /// it on the tokio runtime the server runs on (the link's tasks live there).
    pub async fn connect(
        settings: ClusterSettings,
        bus: Arc<ClusterBus>,
    ) -> Result<Self, ClusterError> {
        let unreachable = |reason: String| ClusterError::Unreachable {
            url: settings.nats_url.clone(),
            reason,
        };
        let options = async_nats::ConnectOptions::new()
            // A node's own messages already reached it through its in-process bus.
            .no_echo()
            .name(format!("weir {}", settings.node))
            .connection_timeout(settings.connect_timeout);
        let client = tokio::time::timeout(
            settings.connect_timeout,
            options.connect(settings.nats_url.as_str()),
        )
        .await
        .map_err(|_| unreachable("no answer within the connect timeout".into()))?
        .map_err(|e| unreachable(e.to_string()))?;
        let cluster = Self {
            client,
            settings: Arc::new(settings),
        };
        let outgoing = bus.link().ok_or(ClusterError::AlreadyLinked)?;
        let subject = cluster.subject("values");
        let incoming = cluster.subscribe(&subject).await?;
        tokio::spawn(send_values(cluster.client.clone(), subject, outgoing));
        tokio::spawn(receive_values(incoming, bus));
        tracing::info!(
            node = %cluster.settings.node,
            nats = %cluster.settings.nats_url,
            "cluster mode: linked to NATS"
        );
        Ok(cluster)
    }

    /// This node's name.
    pub fn node(&self) -> &str {
        &self.settings.node
    }

    /// Sends what is still queued for NATS (a node stopping calls it last).
    pub async fn flush(&self) {
        if let Err(error) = self.client.flush().await {
            tracing::warn!(%error, "cluster: NATS flush failed while stopping");
        }
    }

    fn subject(&self, name: &str) -> String {
        format!("{}.{name}", self.settings.prefix)
    }

    async fn subscribe(&self, subject: &str) -> Result<async_nats::Subscriber, ClusterError> {
        self.client
            .subscribe(subject.to_owned())
            .await
            .map_err(|e| ClusterError::Subscribe {
                subject: subject.to_owned(),
                reason: e.to_string(),
            })
    }
}

/// Publishes this node's committed values, in commit order.
async fn send_values(
    client: async_nats::Client,
    subject: String,
    mut outgoing: mpsc::Receiver<Arc<ValuesCommitted>>,
) {
    while let Some(event) = outgoing.recv().await {
        let Ok(payload) = serde_json::to_vec(&wire::Values::of(&event)) else {
            continue;
        };
        if let Err(error) = client.publish(subject.clone(), payload.into()).await {
            metrics::counter!("weir_cluster_events_dropped_total").increment(1);
            tracing::warn!(%error, "cluster: a committed value could not go to NATS");
        }
    }
}

/// Hands the peers' committed values to this node's subscribers.
async fn receive_values(mut incoming: async_nats::Subscriber, bus: Arc<ClusterBus>) {
    while let Some(message) = incoming.next().await {
        let event = serde_json::from_slice::<wire::Values>(&message.payload)
            .ok()
            .and_then(wire::Values::into_event);
        match event {
            Some(event) => bus.deliver_from_peer(event),
            None => tracing::warn!("cluster: a peer's message is not a committed value; dropped"),
        }
    }
}
