//! The event bus of a cluster node: the in-process bus for this node's subscribers, plus
//! NATS, so that every node's subscribers see every node's committed values, each once.

use std::sync::{Arc, OnceLock};

use tokio::sync::mpsc;
use weir_iot::events::{EventBus, EventHandler, LocalBus, Origin, Subscription, ValuesCommitted};

/// Values this node committed, waiting to go out to its peers. A burst beyond this waits
/// in no queue of ours: it is counted as dropped for peers' live views (never for flows,
/// which run on the committing node).
const OUTGOING_QUEUE: usize = 16_384;

/// [`EventBus`] for cluster mode. Until [`crate::Cluster::connect`] links it to NATS, it
/// is the in-process bus alone.
#[derive(Debug)]
pub struct ClusterBus {
    local: LocalBus,
    outgoing: OnceLock<mpsc::Sender<Arc<ValuesCommitted>>>,
}

impl ClusterBus {
    /// A bus keeping up to `capacity` events queued per local subscriber.
    pub fn new(capacity: usize) -> Self {
        Self {
            local: LocalBus::new(capacity),
            outgoing: OnceLock::new(),
        }
    }

    /// Where this node's values go to its peers, set once the link is up; answers the
    /// queue's receiving end, or `None` when it was linked already.
    pub(crate) fn link(&self) -> Option<mpsc::Receiver<Arc<ValuesCommitted>>> {
        let (tx, rx) = mpsc::channel(OUTGOING_QUEUE);
        self.outgoing.set(tx).ok().map(|()| rx)
    }

    /// Hands a peer's values to this node's subscribers.
    pub(crate) fn deliver_from_peer(&self, event: ValuesCommitted) {
        debug_assert_eq!(event.origin, Origin::Peer);
        if self.local.has_subscribers() {
            self.local.publish(Arc::new(event));
        }
    }
}

impl EventBus for ClusterBus {
    fn publish(&self, event: Arc<ValuesCommitted>) {
        if let Some(out) = self.outgoing.get()
            && event.origin == Origin::Here
            && out.try_send(event.clone()).is_err()
        {
            metrics::counter!("weir_cluster_events_dropped_total").increment(1);
        }
        self.local.publish(event);
    }

    fn subscribe(&self) -> Subscription {
        self.local.subscribe()
    }

    fn pace(&self, event: &Arc<ValuesCommitted>) {
        self.local.pace(event);
    }

    /// Handlers get the peers' events too, marked [`Origin::Peer`].
    fn attach(&self, handler: Arc<dyn EventHandler>) {
        self.local.attach(handler);
    }

    /// Peers may have subscribers this node cannot see: once linked, always.
    fn has_subscribers(&self) -> bool {
        self.outgoing.get().is_some() || self.local.has_subscribers()
    }
}
