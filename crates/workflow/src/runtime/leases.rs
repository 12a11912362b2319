//! Which timers this node fires: the leases it holds through [`TimerLeases`], and until
//! when it trusts each of them.
//!
//! Every node runs every enabled timer flow's schedule, and at each due time fires only
//! the flows whose lease it holds then. The runtime renews all of its timer flows' leases
//! in one claim every `timer_renew`, each for `timer_lease`; a node that stops or dies
//! stops renewing, and once its leases expire the next claim of another node takes them.
//! So a timer moves to a surviving node at most `timer_lease + timer_renew` after its
//! node died (13 s with the defaults, 10 s and 3 s), and at once (its next renewal) when
//! the node stopped cleanly and released them.
//!
//! A node trusts a lease until one renewal interval before it expires, not up to its
//! end: the time another node's clock may run ahead (the expiry is compared with the
//! claimer's clock) and the time a renewal takes. While renewals succeed the lease
//! always has more left than that; when the store cannot be reached the node stops
//! firing before another node may take over. Clocks are assumed to agree within
//! `timer_renew` (NTP).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use weir_kernel::{Id, Millis, StoreError};

use crate::ports::TimerLeases;

/// This node's leases.
pub struct Leases {
    port: Arc<dyn TimerLeases>,
    node: String,
    /// How long a claimed lease lasts, in milliseconds.
    ttl: Millis,
    /// How often leases are renewed, in milliseconds: also the margin kept before expiry.
    renew: Millis,
    /// The flows this node holds, with when each lease it wrote runs out.
    held: Mutex<Held>,
}

/// What this node holds, and whether it gave everything up (a clean shutdown): a renewal
/// that was already under way then keeps nothing it claimed.
#[derive(Default)]
struct Held {
    until: HashMap<Id, Millis>,
    stopped: bool,
}

impl std::fmt::Debug for Leases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leases")
            .field("node", &self.node)
            .field("ttl", &self.ttl)
            .field("renew", &self.renew)
            .finish_non_exhaustive()
    }
}

impl Leases {
    /// `ttl` is raised to more than twice `renew`, so that a lease is renewed at least
    /// once before this node stops trusting it.
    pub fn new(port: Arc<dyn TimerLeases>, node: String, ttl: Millis, renew: Millis) -> Self {
        let renew = renew.max(1);
        Self {
            port,
            node,
            ttl: ttl.max(renew.saturating_mul(2).saturating_add(1)),
            renew,
            held: Mutex::new(Held::default()),
        }
    }

    /// The name of this node (process), as its leases name it.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Claims or renews the leases of `wanted` (blocking: one call to the store), and
    /// from now on holds what the store answered. On an error the leases held stay until
    /// they run out.
    pub fn renew(&self, wanted: &[Id], now: Millis) -> Result<(), StoreError> {
        if lock(&self.held).stopped {
            return Ok(());
        }
        let until = now.saturating_add(self.ttl);
        let claimed = self.port.claim(&self.node, wanted, now, until)?;
        let mut held = lock(&self.held);
        if held.stopped {
            // Given up while this claim ran: what it took goes back at once.
            drop(held);
            return self.port.release(&self.node, &claimed);
        }
        held.until.clear();
        held.until.extend(claimed.into_iter().map(|id| (id, until)));
        Ok(())
    }

    /// Whether this node may fire `flow` at `now`.
    pub fn holds(&self, flow: Id, now: Millis) -> bool {
        lock(&self.held)
            .until
            .get(&flow)
            .is_some_and(|until| now < until - self.renew)
    }

    /// The flows this node holds, trusted at `now`.
    pub fn held(&self, now: Millis) -> Vec<Id> {
        let mut ids: Vec<Id> = lock(&self.held)
            .until
            .iter()
            .filter(|(_, until)| now < **until - self.renew)
            .map(|(id, _)| *id)
            .collect();
        ids.sort();
        ids
    }

    /// Stops firing `flows` at once; [`Self::release`] then gives their leases up.
    pub fn forget(&self, flows: &[Id]) {
        let mut held = lock(&self.held);
        for id in flows {
            held.until.remove(id);
        }
    }

    /// Gives up this node's leases of `flows` (blocking: one call to the store).
    pub fn release(&self, flows: &[Id]) -> Result<(), StoreError> {
        self.forget(flows);
        self.port.release(&self.node, flows)
    }

    /// Gives up every lease this node holds and those of `also` (blocking), as a clean
    /// shutdown does; no later renewal claims any again.
    pub fn release_all(&self, also: &[Id]) -> Result<(), StoreError> {
        let mut all: Vec<Id> = {
            let mut held = lock(&self.held);
            held.stopped = true;
            held.until.drain().map(|(id, _)| id).collect()
        };
        all.extend_from_slice(also);
        all.sort();
        all.dedup();
        self.port.release(&self.node, &all)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::ports::SoleNode;

    /// The store's rule in memory: a lease is taken when free, expired, or the claimer's.
    #[derive(Default)]
    struct Table {
        rows: Mutex<HashMap<Id, (String, Millis)>>,
        down: AtomicBool,
    }

    impl TimerLeases for Table {
        fn claim(
            &self,
            node: &str,
            flows: &[Id],
            now: Millis,
            until: Millis,
        ) -> Result<Vec<Id>, StoreError> {
            if self.down.load(Ordering::SeqCst) {
                return Err(StoreError::Unavailable("down".into()));
            }
            let mut rows = lock(&self.rows);
            let mut held = Vec::new();
            for id in flows {
                let row = rows.entry(*id).or_insert_with(|| (node.to_owned(), until));
                if row.0 == node || row.1 < now {
                    *row = (node.to_owned(), until);
                }
                if row.0 == node {
                    held.push(*id);
                }
            }
            Ok(held)
        }

        fn release(&self, node: &str, flows: &[Id]) -> Result<(), StoreError> {
            lock(&self.rows).retain(|id, (n, _)| !(flows.contains(id) && n == node));
            Ok(())
        }
    }

    const TTL: Millis = 10_000;
    const RENEW: Millis = 3_000;

    fn two_nodes() -> (Arc<Table>, Leases, Leases) {
        let table = Arc::new(Table::default());
        let a = Leases::new(table.clone(), "a".into(), TTL, RENEW);
        let b = Leases::new(table.clone(), "b".into(), TTL, RENEW);
        (table, a, b)
    }

    const F1: Id = Id(1);
    const F2: Id = Id(2);

    #[test]
    fn one_node_holds_each_timer_and_renews_it() {
        let (_, a, b) = two_nodes();
        a.renew(&[F1], 0).unwrap();
        b.renew(&[F1, F2], 100).unwrap();
        assert!(a.holds(F1, 100) && !b.holds(F1, 100));
        assert!(b.holds(F2, 100) && !a.holds(F2, 100));
        // Renewed every interval, a lease never lapses, however long the node runs.
        for now in (RENEW..60_000).step_by(RENEW as usize) {
            a.renew(&[F1], now).unwrap();
            b.renew(&[F1, F2], now + 100).unwrap();
            assert!(
                a.holds(F1, now + 100) && !b.holds(F1, now + 100),
                "at {now}"
            );
        }
    }

    /// A store whose claims wait, once they are written, until the test lets them answer.
    struct Paused {
        table: Arc<Table>,
        claimed: std::sync::Barrier,
        answer: std::sync::Barrier,
    }

    impl TimerLeases for Paused {
        fn claim(
            &self,
            node: &str,
            flows: &[Id],
            now: Millis,
            until: Millis,
        ) -> Result<Vec<Id>, StoreError> {
            let held = self.table.claim(node, flows, now, until)?;
            self.claimed.wait();
            self.answer.wait();
            Ok(held)
        }

        fn release(&self, node: &str, flows: &[Id]) -> Result<(), StoreError> {
            self.table.release(node, flows)
        }
    }

    #[test]
    fn a_renewal_under_way_when_the_node_stops_keeps_nothing() {
        let table = Arc::new(Table::default());
        let port = Arc::new(Paused {
            table: table.clone(),
            claimed: std::sync::Barrier::new(2),
            answer: std::sync::Barrier::new(2),
        });
        let a = Arc::new(Leases::new(port.clone(), "a".into(), TTL, RENEW));
        let renewing = {
            let a = a.clone();
            std::thread::spawn(move || a.renew(&[F1], 0))
        };
        port.claimed.wait();
        // The clean stop runs while the claim is written but not yet answered.
        a.release_all(&[]).unwrap();
        port.answer.wait();
        renewing.join().unwrap().unwrap();
        assert!(a.held(1).is_empty());
        let b = Leases::new(table, "b".into(), TTL, RENEW);
        b.renew(&[F1], 1).unwrap();
        assert!(
            b.holds(F1, 1),
            "the stopped node's late claim still holds the lease"
        );
        // And no later renewal claims again.
        a.renew(&[F1], TTL * 2).unwrap();
        assert!(a.held(TTL * 2).is_empty());
    }

    #[test]
    fn a_dead_nodes_timer_moves_within_lease_plus_renewal() {
        let (_, a, b) = two_nodes();
        a.renew(&[F1], 0).unwrap();
        // a dies right after this renewal; b keeps claiming every interval.
        let mut taken = None;
        for now in (100..60_000).step_by(RENEW as usize) {
            b.renew(&[F1], now).unwrap();
            if b.holds(F1, now) {
                taken = Some(now);
                break;
            }
        }
        let taken = taken.unwrap();
        assert!(taken > TTL && taken <= TTL + RENEW, "taken at {taken}");
        // a, had it only been paused, no longer fires it: it stopped trusting the lease
        // one interval before it ran out, and its next claim is refused.
        assert!(!a.holds(F1, TTL - RENEW));
        a.renew(&[F1], taken + 1).unwrap();
        assert!(!a.holds(F1, taken + 1));
    }

    #[test]
    fn a_released_timer_moves_at_the_next_claim() {
        let (table, a, b) = two_nodes();
        a.renew(&[F1, F2], 0).unwrap();
        a.release(&[F1]).unwrap();
        assert!(!a.holds(F1, 1) && a.holds(F2, 1));
        b.renew(&[F1, F2], 2).unwrap();
        assert_eq!(b.held(2), vec![F1]);
        a.release_all(&[]).unwrap();
        assert!(a.held(3).is_empty());
        b.renew(&[F1, F2], 3).unwrap();
        assert_eq!(b.held(3), vec![F1, F2]);
        // Releasing is by node: a's release leaves b's leases alone.
        a.release(&[F1, F2]).unwrap();
        assert_eq!(lock(&table.rows).len(), 2);
    }

    #[test]
    fn without_the_store_a_node_stops_firing_before_its_leases_can_move() {
        let (table, a, b) = two_nodes();
        a.renew(&[F1], 0).unwrap();
        table.down.store(true, Ordering::SeqCst);
        assert!(a.renew(&[F1], RENEW).is_err());
        assert!(a.holds(F1, TTL - RENEW - 1));
        assert!(!a.holds(F1, TTL - RENEW));
        table.down.store(false, Ordering::SeqCst);
        // b may take it only once it expired, after a stopped firing it.
        b.renew(&[F1], TTL).unwrap();
        assert!(!b.holds(F1, TTL));
        b.renew(&[F1], TTL + 1).unwrap();
        assert!(b.holds(F1, TTL + 1));
    }

    #[test]
    fn a_lease_is_always_renewed_before_it_stops_being_trusted() {
        let leases = Leases::new(Arc::new(SoleNode), "n".into(), 1_000, 3_000);
        leases.renew(&[F1], 0).unwrap();
        // A TTL under two intervals is raised: one renewal may be late or lost.
        assert!(leases.holds(F1, 3_000));
        assert!(!leases.holds(F1, 4_001));
    }
}
