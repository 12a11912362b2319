//! The event bus: values are published on it after they are committed, for live views
//! (the WebSocket) and flows. [`EventBus`] is the port; [`LocalBus`] is the in-process
//! implementation the server uses.
//!
//! Two kinds of readers: [`Subscription`]s, each with a bounded queue, for readers that may
//! lose events when they fall behind (a WebSocket viewer); and [`EventHandler`]s, called
//! on the publisher's thread for every event, for readers that must see each one (the
//! workflow runtime, which queues the runs an event starts).
//!
//! Every event says what caused its write ([`Cause`]): the chain of flow runs that led to
//! it, so that the workflow runtime can stop flows that trigger each other's runs forever.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use tokio::sync::broadcast;
use weir_kernel::{Id, Millis, TenantId};

use crate::value::EntityValue;

/// Values one write committed, all of one tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct ValuesCommitted {
    /// The tenant every value belongs to.
    pub tenant_id: TenantId,
    /// The values, each with its entity.
    pub values: Vec<CommittedValue>,
    /// What led to the write.
    pub cause: Cause,
    /// Whether this process committed the write or a peer did (cluster mode).
    pub origin: Origin,
}

/// Which process committed a write. With several Weir processes on one database, each
/// process's bus also carries its peers' writes: live views show them all, while a flow
/// runs only on the process that committed the write, so that each write starts its runs
/// once in the cluster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Origin {
    /// This process committed it.
    #[default]
    Here,
    /// Another process of the cluster committed it; it came through the cluster's bus.
    Peer,
}

/// What led to a write, as far as flows go: the flows whose runs led to it, oldest first,
/// each started by a value the one before wrote; the flow that made the write is last.
/// Empty (depth 0) for values written by devices, integrations, users and the API. The IoT
/// domain only carries it; the workflow runtime reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cause {
    /// The flows whose runs led to the write, oldest first; empty for writes no flow made.
    pub flows: Vec<Id>,
}

impl Cause {
    /// A write made by no flow.
    pub fn external() -> Self {
        Self::default()
    }

    /// How many flow runs led to the write: 0 for a device or API write, 1 for a write made
    /// by a flow that such a write started, and so on.
    pub fn depth(&self) -> usize {
        self.flows.len()
    }
}

/// One committed value, with what a subscriber needs to decide whether its user may see it.
#[derive(Debug, Clone, PartialEq)]
pub struct CommittedValue {
    /// The entity's key.
    pub key: String,
    /// The entity's id.
    pub entity_id: Id,
    /// The id of the integration the entity belongs to.
    pub integration: String,
    /// The device the entity belongs to; `None` for integration and custom entities.
    pub device_id: Option<Id>,
    /// When the value was measured or written (epoch milliseconds).
    pub timestamp: Millis,
    /// The value.
    pub value: EntityValue,
}

/// Reads every event, on the publisher's thread, before [`EventBus::publish`] returns.
/// `handle` must be quick and never block: events are published in commit order by
/// whichever writer committed a group of writes (see `service::group_commit`), so a
/// handler that waited there would hold up every write behind it, flows' own included.
pub trait EventHandler: Send + Sync {
    /// One committed event.
    fn handle(&self, event: &Arc<ValuesCommitted>);

    /// Called on the thread of the writer whose write `event` is, after it was handled,
    /// outside the commit order: where a handler may block to slow down writes no flow
    /// made ([`Cause::depth`] 0), never a flow's own writes (that would deadlock the runs
    /// that free the room it waits for).
    fn pace(&self, event: &Arc<ValuesCommitted>) {
        let _ = event;
    }
}

/// Where committed values go. Publishing never waits for subscribers; it waits for
/// handlers only as long as they hold it (see [`EventHandler`]).
pub trait EventBus: Send + Sync {
    /// Hands the event to every handler, then to the current subscribers without waiting
    /// for them; a subscriber that cannot keep up may lose events.
    fn publish(&self, event: Arc<ValuesCommitted>);
    /// A new subscriber, receiving events published from now on.
    fn subscribe(&self) -> Subscription;
    /// Calls `handler` with every event published from now on.
    fn attach(&self, handler: Arc<dyn EventHandler>);
    /// Whether anyone listens: publishers skip building events nobody would read.
    fn has_subscribers(&self) -> bool {
        true
    }
    /// Calls every handler's [`EventHandler::pace`] for an event this writer published.
    fn pace(&self, event: &Arc<ValuesCommitted>);
}

/// A subscriber's end of the bus. It holds a bounded queue: a subscriber that falls behind
/// loses the oldest events, never slows the publisher.
#[derive(Debug)]
pub struct Subscription {
    rx: broadcast::Receiver<Arc<ValuesCommitted>>,
    dropped: u64,
    bus_dropped: Arc<AtomicU64>,
}

impl Subscription {
    /// The next event; `None` once the bus is gone.
    pub async fn next(&mut self) -> Option<Arc<ValuesCommitted>> {
        loop {
            match self.rx.recv().await {
                Ok(event) => return Some(event),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    self.dropped += n;
                    self.bus_dropped.fetch_add(n, Ordering::Relaxed);
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next event if one is waiting, without waiting.
    pub fn try_next(&mut self) -> Option<Arc<ValuesCommitted>> {
        loop {
            match self.rx.try_recv() {
                Ok(event) => return Some(event),
                Err(broadcast::error::TryRecvError::Lagged(n)) => {
                    self.dropped += n;
                    self.bus_dropped.fetch_add(n, Ordering::Relaxed);
                }
                Err(_) => return None,
            }
        }
    }

    /// How many events this subscriber lost by falling behind.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// The in-process bus: a broadcast channel whose queue holds `capacity` events per
/// subscriber, and the handlers.
pub struct LocalBus {
    tx: broadcast::Sender<Arc<ValuesCommitted>>,
    dropped: Arc<AtomicU64>,
    handlers: RwLock<Vec<Arc<dyn EventHandler>>>,
}

impl std::fmt::Debug for LocalBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalBus")
            .field("subscribers", &self.tx.receiver_count())
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

impl LocalBus {
    /// A bus keeping up to `capacity` events (at least 1) queued per subscriber.
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(1));
        Self {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
            handlers: RwLock::new(Vec::new()),
        }
    }

    /// Events lost by slow subscribers so far, all subscribers together.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl Default for LocalBus {
    fn default() -> Self {
        Self::new(1024)
    }
}

impl EventBus for LocalBus {
    fn publish(&self, event: Arc<ValuesCommitted>) {
        for handler in self
            .handlers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            handler.handle(&event);
        }
        // An error only means nobody listens.
        let _ = self.tx.send(event);
    }

    fn pace(&self, event: &Arc<ValuesCommitted>) {
        for handler in self
            .handlers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            handler.pace(event);
        }
    }

    fn has_subscribers(&self) -> bool {
        self.tx.receiver_count() > 0
            || !self
                .handlers
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .is_empty()
    }

    fn attach(&self, handler: Arc<dyn EventHandler>) {
        self.handlers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(handler);
    }

    fn subscribe(&self) -> Subscription {
        Subscription {
            rx: self.tx.subscribe(),
            dropped: 0,
            bus_dropped: self.dropped.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: i64) -> Arc<ValuesCommitted> {
        Arc::new(ValuesCommitted {
            tenant_id: TenantId::default_tenant(),
            values: vec![CommittedValue {
                key: "i.device.d.t".into(),
                entity_id: Id(1),
                integration: "i".into(),
                device_id: None,
                timestamp: n,
                value: EntityValue::Long(n),
            }],
            cause: Cause::external(),
            origin: Origin::Here,
        })
    }

    #[tokio::test]
    async fn a_slow_subscriber_loses_the_oldest_and_never_blocks_the_publisher() {
        let bus = LocalBus::new(4);
        let mut slow = bus.subscribe();
        for n in 0..10 {
            bus.publish(event(n));
        }
        let first = slow.next().await.unwrap();
        assert_eq!(first.values[0].timestamp, 6);
        assert_eq!(slow.dropped(), 6);
        assert_eq!(bus.dropped(), 6);
        for n in 7..10 {
            assert_eq!(slow.next().await.unwrap().values[0].timestamp, n);
        }
    }
}
