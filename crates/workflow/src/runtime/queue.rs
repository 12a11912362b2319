//! Runs that events started, queued per tenant until one of the tenant's run slots frees.
//!
//! Events are matched to the flows listening to them on the thread that published them
//! ([`super::Runtime::enqueue_values`]), and the runs they start go into their tenant's
//! queue at once, so no event a flow listens to is lost however far the runs fall behind.
//! One task per tenant takes the runs in order and starts each when a slot frees: runs of
//! a flow start in the order of the events, and one tenant's backlog never holds up
//! another's runs.
//!
//! The queue is kept bounded by slowing down its cause: a write no flow made (a device, the
//! API) waits, once its runs are queued, while its tenant has `max_queued_runs` runs
//! waiting ([`super::Runtime::pace`]), so the queue exceeds the bound by at most the runs
//! of the writes waiting at once. A flow's own writes
//! never wait, since the runs they would wait for may be the ones writing; past ten times
//! the bound, the runs they would start are refused with an `ERROR` log saying so.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value as Json};
use tokio::sync::mpsc;
use weir_kernel::Id;

use super::active::ActiveFlow;

/// How many times `max_queued_runs` a flow's own writes may queue before their runs are
/// refused.
pub const FLOW_WRITES_FACTOR: usize = 10;

/// A run an event started, waiting for a slot.
pub(crate) struct Queued {
    /// The flow to run (as it was when the event came; it is checked again before it starts).
    pub flow: Arc<ActiveFlow>,
    /// The values it listens to.
    pub input: Map<String, Json>,
    /// The runs that led to this one, this flow last.
    pub chain: Vec<Id>,
}

/// One tenant's queue of `T` (a [`Queued`] run): the sending end, and how many wait in it.
pub(crate) struct TenantQueue<T = Queued> {
    tx: mpsc::UnboundedSender<T>,
    waiting: Mutex<usize>,
    room: Condvar,
}

impl<T> TenantQueue<T> {
    /// A queue, and the receiving end its dispatcher reads.
    pub fn new() -> (Arc<Self>, mpsc::UnboundedReceiver<T>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let queue = Arc::new(Self {
            tx,
            waiting: Mutex::new(0),
            room: Condvar::new(),
        });
        (queue, rx)
    }

    fn count(&self) -> std::sync::MutexGuard<'_, usize> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many runs wait.
    pub fn waiting(&self) -> usize {
        *self.count()
    }

    /// Queues a run; false when the dispatcher has stopped (the runtime is gone).
    pub fn push(&self, run: T) -> bool {
        let mut waiting = self.count();
        if self.tx.send(run).is_err() {
            return false;
        }
        *waiting += 1;
        true
    }

    /// The dispatcher took a run out (to start it, or because its flow went away).
    pub fn took_one(&self) {
        let mut waiting = self.count();
        *waiting = waiting.saturating_sub(1);
        self.room.notify_all();
    }

    /// Blocks while `limit` runs or more wait, for at most `at_most`; answers whether
    /// there was room in the end. Call it on a thread that may block.
    pub fn wait_for_room(&self, limit: usize, at_most: Duration) -> bool {
        let deadline = Instant::now() + at_most;
        let mut waiting = self.count();
        while *waiting >= limit {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            waiting = self
                .room
                .wait_timeout(waiting, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_counts_and_room_is_signalled() {
        let (queue, _rx) = TenantQueue::<u32>::new();
        assert!(queue.wait_for_room(1, Duration::ZERO));
        assert!(queue.push(1));
        assert!(queue.push(2));
        assert_eq!(queue.waiting(), 2);
        assert!(!queue.wait_for_room(2, Duration::from_millis(10)));
        let q = queue.clone();
        let freer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            q.took_one();
        });
        assert!(queue.wait_for_room(2, Duration::from_secs(5)));
        freer.join().unwrap();
        assert_eq!(queue.waiting(), 1);
    }

    #[test]
    fn a_closed_queue_takes_nothing() {
        let (queue, rx) = TenantQueue::<u32>::new();
        drop(rx);
        assert!(!queue.push(1));
        assert_eq!(queue.waiting(), 0);
    }
}
