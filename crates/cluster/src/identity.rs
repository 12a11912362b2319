//! Identity changes across the cluster: a user, role, group, grant or tenant changed
//! through one node makes every other node forget the principals it cached for that
//! tenant, so a revoked token or a disabled user is refused everywhere at the next request.

use std::sync::Arc;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use weir_identity::{IdentityChange, IdentityChanges, IdentityService};
use weir_kernel::TenantId;

use crate::{Cluster, ClusterError, wire};

impl Cluster {
    /// Relays this node's identity changes to its peers, and applies theirs to `identity`.
    pub async fn follow_identity(
        &self,
        identity: Arc<IdentityService>,
    ) -> Result<(), ClusterError> {
        let subject = self.subject("identity");
        let incoming = self.subscribe(&subject).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        identity.observe_changes(Arc::new(Announce(tx)));
        tokio::spawn(send_changes(self.client.clone(), subject, rx));
        tokio::spawn(apply_changes(incoming, identity));
        Ok(())
    }
}

/// Queues this node's changes for NATS; unbounded, because the service calls it inside a
/// request (it must not block) and changes are rare and small.
struct Announce(mpsc::UnboundedSender<wire::IdentityChanged>);

impl IdentityChanges for Announce {
    fn changed(&self, change: &IdentityChange) {
        let _ = self.0.send(wire::IdentityChanged {
            tenant: change.tenant.as_str().to_owned(),
        });
    }
}

async fn send_changes(
    client: async_nats::Client,
    subject: String,
    mut changes: mpsc::UnboundedReceiver<wire::IdentityChanged>,
) {
    while let Some(change) = changes.recv().await {
        let Ok(payload) = serde_json::to_vec(&change) else {
            continue;
        };
        if let Err(error) = client.publish(subject.clone(), payload.into()).await {
            tracing::error!(%error, tenant = %change.tenant, "cluster: an identity change could not go to NATS; peers keep their cached principals until they expire");
        }
    }
}

async fn apply_changes(mut incoming: async_nats::Subscriber, identity: Arc<IdentityService>) {
    while let Some(message) = incoming.next().await {
        let change = serde_json::from_slice::<wire::IdentityChanged>(&message.payload)
            .ok()
            .and_then(|c| TenantId::parse(&c.tenant).ok());
        match change {
            Some(tenant) => identity.apply_peer_change(&IdentityChange { tenant }),
            None => tracing::warn!("cluster: a peer's message is not an identity change; dropped"),
        }
    }
}
