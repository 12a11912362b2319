//! Which nodes are up: every node says so on NATS every second, and says when it leaves.
//! A peer that left, or that nothing was heard from for [`SILENT_FOR`], is gone; one
//! survivor (the one whose name sorts first) is then told, to take over what that peer
//! held outside the database (its MQTT session).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::{Cluster, ClusterError};

/// How often a node says it is up.
pub const BEAT_EVERY: Duration = Duration::from_secs(1);
/// A peer silent this long is taken for dead.
pub const SILENT_FOR: Duration = Duration::from_secs(5);

/// What a node is told when a peer is gone: the peer's node name.
pub type PeerGone = Arc<dyn Fn(String) + Send + Sync>;

#[derive(Debug, Serialize, Deserialize)]
struct Beat {
    node: String,
    /// False when the node is stopping.
    up: bool,
}

impl Cluster {
    /// Joins the nodes' roll call: this node beats until it [`Cluster::leave`]s, and when a
    /// peer is gone, `gone` is called on one survivor.
    pub async fn watch_peers(&self, gone: PeerGone) -> Result<(), ClusterError> {
        let subject = self.subject("nodes");
        let incoming = self.subscribe(&subject).await?;
        tokio::spawn(beat(self.clone(), subject));
        tokio::spawn(watch(self.clone(), incoming, gone));
        Ok(())
    }

    /// Tells the peers this node is stopping (after its MQTT client stopped), so that one
    /// of them takes over at once rather than after the silence.
    pub async fn leave(&self) {
        let beat = Beat {
            node: self.node().to_owned(),
            up: false,
        };
        if let Ok(payload) = serde_json::to_vec(&beat) {
            let _ = self
                .client
                .publish(self.subject("nodes"), payload.into())
                .await;
        }
        self.flush().await;
    }
}

async fn beat(cluster: Cluster, subject: String) {
    let mut every = tokio::time::interval(BEAT_EVERY);
    loop {
        every.tick().await;
        let beat = Beat {
            node: cluster.node().to_owned(),
            up: true,
        };
        let Ok(payload) = serde_json::to_vec(&beat) else {
            return;
        };
        if cluster
            .client
            .publish(subject.clone(), payload.into())
            .await
            .is_err()
        {
            tracing::debug!("cluster: a beat could not go to NATS");
        }
    }
}

async fn watch(cluster: Cluster, mut incoming: async_nats::Subscriber, gone: PeerGone) {
    let me = cluster.node().to_owned();
    let mut peers: BTreeMap<String, Instant> = BTreeMap::new();
    let mut check = tokio::time::interval(BEAT_EVERY);
    loop {
        tokio::select! {
            message = incoming.next() => {
                let Some(message) = message else { return };
                let Ok(beat) = serde_json::from_slice::<Beat>(&message.payload) else { continue };
                if beat.node == me {
                    continue;
                }
                if beat.up {
                    peers.insert(beat.node, Instant::now());
                } else {
                    // Acted on even when never heard from: its session may hold messages.
                    peers.remove(&beat.node);
                    tracing::info!(node = beat.node, "cluster: a node left");
                    if first_of(&peers, &me) {
                        gone(beat.node);
                    }
                }
            }
            _ = check.tick() => {
                let now = Instant::now();
                // Cut off from NATS, this node hears no one: that says nothing of the
                // peers. They get a whole silence again once the link is back.
                if cluster.client.connection_state() != async_nats::connection::State::Connected {
                    for seen in peers.values_mut() {
                        *seen = now;
                    }
                    continue;
                }
                let silent: Vec<String> = peers
                    .iter()
                    .filter(|(_, seen)| now.duration_since(**seen) >= SILENT_FOR)
                    .map(|(node, _)| node.clone())
                    .collect();
                for node in silent {
                    peers.remove(&node);
                    tracing::warn!(node, "cluster: a node went silent; taken for dead");
                    if first_of(&peers, &me) {
                        gone(node);
                    }
                }
            }
        }
    }
}

/// Whether `me` sorts first among the nodes still up: the one survivor that acts.
fn first_of(peers: &BTreeMap<String, Instant>, me: &str) -> bool {
    peers.keys().next().is_none_or(|first| me < first.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_survivor_whose_name_sorts_first_acts() {
        let mut peers = BTreeMap::new();
        assert!(first_of(&peers, "b"));
        peers.insert("c".to_owned(), Instant::now());
        assert!(first_of(&peers, "b"));
        peers.insert("a".to_owned(), Instant::now());
        assert!(!first_of(&peers, "b"));
    }
}
