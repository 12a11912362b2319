//! Flow changes across the cluster: a flow saved, enabled, disabled or deleted through one
//! node is reloaded by every other node's runtime, in the order the changes were made.

use std::sync::Arc;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use weir_kernel::{Id, TenantId};
use weir_workflow::WorkflowService;
use weir_workflow::runtime::Runtime;
use weir_workflow::service::FlowChanges;

use crate::{Cluster, ClusterError, wire};

impl Cluster {
    /// Keeps the runtimes of every node in step: this node announces the flow changes
    /// `service` makes (its own runtime already applied them), and reloads into `runtime`
    /// the changes its peers announce.
    pub async fn follow_flows(
        &self,
        service: &WorkflowService,
        runtime: Runtime,
    ) -> Result<(), ClusterError> {
        let subject = self.subject("flows");
        let incoming = self.subscribe(&subject).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        service.observe(Arc::new(Announce(tx)));
        tokio::spawn(send_changes(self.client.clone(), subject, rx));
        tokio::spawn(apply_changes(incoming, runtime));
        Ok(())
    }
}

/// Queues the changes of this node's service for NATS; unbounded, because the service
/// calls it inside a request and changes are rare and small.
struct Announce(mpsc::UnboundedSender<wire::FlowsChanged>);

impl FlowChanges for Announce {
    fn changed(&self, tenant: &TenantId, ids: &[Id]) {
        let _ = self.0.send(wire::FlowsChanged {
            tenant: tenant.as_str().to_owned(),
            flows: ids.iter().map(|id| id.0).collect(),
        });
    }
}

async fn send_changes(
    client: async_nats::Client,
    subject: String,
    mut changes: mpsc::UnboundedReceiver<wire::FlowsChanged>,
) {
    while let Some(change) = changes.recv().await {
        let Ok(payload) = serde_json::to_vec(&change) else {
            continue;
        };
        if let Err(error) = client.publish(subject.clone(), payload.into()).await {
            tracing::error!(%error, tenant = %change.tenant, "cluster: a flow change could not go to NATS; peers keep the old state");
        }
    }
}

/// Reloads the flows peers changed, one change after the other.
async fn apply_changes(mut incoming: async_nats::Subscriber, runtime: Runtime) {
    while let Some(message) = incoming.next().await {
        let Ok(change) = serde_json::from_slice::<wire::FlowsChanged>(&message.payload) else {
            tracing::warn!("cluster: a peer's message is not a flow change; dropped");
            continue;
        };
        let Ok(tenant) = TenantId::parse(&change.tenant) else {
            continue;
        };
        let ids: Vec<Id> = change.flows.into_iter().map(Id).collect();
        let runtime = runtime.clone();
        // Reloading reads the flows from the database.
        if tokio::task::spawn_blocking(move || runtime.reload(&tenant, &ids))
            .await
            .is_err()
        {
            tracing::error!("cluster: reloading a peer's flow change failed");
        }
    }
}
