//! Connections kept idle between queries, per datasource: the map the PostgreSQL and the
//! MySQL/MariaDB query pools share (`pg_pool`, `my_pool`). Each backend opens, checks and
//! runs its own connections; this only keeps them.
//!
//! - A connection is kept under its datasource's [`Key`]: host, port, database, user,
//!   password and timeout. A datasource whose settings change gets a new key, so its old
//!   connections are never used again; they expire like any other.
//! - At most `max_idle` connections are kept per key (a connection given back beyond that is
//!   closed); there is no limit on connections in use, as when none are kept.
//! - A connection idle for `idle_for` is closed: every take and give-back sweeps all keys,
//!   so connections of a datasource no longer queried go too.
//! - The most recently given back is taken first, so the others age out when fewer are
//!   needed.
//!
//! Connections are closed (dropped) outside the lock: closing may write to the socket.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::Server;

/// Idle connections kept per datasource.
pub(crate) const MAX_IDLE: usize = 4;
/// How long an idle connection is kept.
pub(crate) const IDLE_FOR: Duration = Duration::from_secs(60);

/// What tells one datasource's connections from another's. It holds the password: it lives
/// in memory only and is never printed (no `Debug`).
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct Key(String);

impl Key {
    pub(crate) fn of(server: &Server) -> Self {
        Self(format!(
            "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
            server.host,
            server.port,
            server.database,
            server.user.as_deref().unwrap_or(""),
            server.password.as_deref().unwrap_or(""),
            server.timeout.as_millis()
        ))
    }
}

pub(crate) struct Kept<C> {
    max_idle: usize,
    idle_for: Duration,
    idle: Mutex<HashMap<Key, Vec<(C, Instant)>>>,
}

impl<C> std::fmt::Debug for Kept<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kept")
            .field("max_idle", &self.max_idle)
            .field("idle_for", &self.idle_for)
            .finish_non_exhaustive()
    }
}

impl<C> Kept<C> {
    /// `max_idle` 0 keeps nothing: a connection per query.
    pub(crate) fn new(max_idle: usize, idle_for: Duration) -> Self {
        Self {
            max_idle,
            idle_for,
            idle: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Vec<(C, Instant)>>> {
        // A panic while holding the lock leaves a consistent map (a push or a pop).
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Removes the connections idle for too long, or no longer `usable`, from every key.
    fn sweep(
        &self,
        idle: &mut HashMap<Key, Vec<(C, Instant)>>,
        usable: &impl Fn(&C) -> bool,
        closed: &mut Vec<C>,
    ) {
        idle.retain(|_, kept| {
            let (keep, gone): (Vec<_>, Vec<_>) = std::mem::take(kept)
                .into_iter()
                .partition(|(c, since)| since.elapsed() < self.idle_for && usable(c));
            closed.extend(gone.into_iter().map(|(c, _)| c));
            *kept = keep;
            !kept.is_empty()
        });
    }

    /// The key's most recently given back connection that is still `usable` (a check
    /// without I/O, such as "not closed"), if any.
    pub(crate) fn take(&self, key: &Key, usable: impl Fn(&C) -> bool) -> Option<C> {
        let mut closed = Vec::new();
        let taken = {
            let mut idle = self.lock();
            self.sweep(&mut idle, &usable, &mut closed);
            idle.get_mut(key).and_then(Vec::pop).map(|(c, _)| c)
        };
        drop(closed);
        taken
    }

    /// Keeps `conn` for the key's next query, unless it is not `usable` or the key already
    /// keeps `max_idle`.
    pub(crate) fn give_back(&self, key: Key, conn: C, usable: impl Fn(&C) -> bool) {
        let mut closed = Vec::new();
        {
            let mut idle = self.lock();
            self.sweep(&mut idle, &usable, &mut closed);
            let kept = idle.entry(key).or_default();
            if kept.len() < self.max_idle && usable(&conn) {
                kept.push((conn, Instant::now()));
            } else {
                closed.push(conn);
            }
            idle.retain(|_, kept| !kept.is_empty());
        }
        drop(closed);
    }

    /// Closes every kept connection.
    pub(crate) fn clear(&self) {
        let all = std::mem::take(&mut *self.lock());
        drop(all);
    }

    #[cfg(test)]
    fn idle(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Key {
        Key(k.to_owned())
    }

    fn yes(_: &u32) -> bool {
        true
    }

    #[test]
    fn connections_are_kept_per_key_most_recent_first() {
        let kept = Kept::new(4, IDLE_FOR);
        kept.give_back(key("a"), 1, yes);
        kept.give_back(key("a"), 2, yes);
        kept.give_back(key("b"), 3, yes);
        assert_eq!(kept.take(&key("a"), yes), Some(2));
        assert_eq!(kept.take(&key("a"), yes), Some(1));
        assert_eq!(kept.take(&key("a"), yes), None);
        assert_eq!(kept.take(&key("c"), yes), None);
        assert_eq!(kept.take(&key("b"), yes), Some(3));
    }

    #[test]
    fn at_most_max_idle_per_key() {
        let kept = Kept::new(2, IDLE_FOR);
        for c in 1..=3 {
            kept.give_back(key("a"), c, yes);
        }
        kept.give_back(key("b"), 4, yes);
        assert_eq!(kept.idle(), 3);
        assert_eq!(kept.take(&key("a"), yes), Some(2));

        let none = Kept::new(0, IDLE_FOR);
        none.give_back(key("a"), 1, yes);
        assert_eq!(none.take(&key("a"), yes), None);
    }

    #[test]
    fn idle_and_unusable_connections_are_closed_on_every_call() {
        let kept = Kept::new(4, Duration::from_millis(50));
        kept.give_back(key("old"), 1, yes);
        kept.give_back(key("a"), 2, yes);
        std::thread::sleep(Duration::from_millis(80));
        kept.give_back(key("a"), 3, yes);
        // The other key's connection expired too.
        assert_eq!(kept.idle(), 1);
        assert_eq!(kept.take(&key("a"), yes), Some(3));

        kept.give_back(key("a"), 4, yes);
        kept.give_back(key("a"), 5, yes);
        assert_eq!(kept.take(&key("a"), |c| *c != 5), Some(4));
        assert_eq!(kept.idle(), 0);
        kept.give_back(key("a"), 6, |c| *c != 6);
        assert_eq!(kept.idle(), 0);
    }

    #[test]
    fn clear_closes_everything() {
        let kept = Kept::new(4, IDLE_FOR);
        kept.give_back(key("a"), 1, yes);
        kept.give_back(key("b"), 2, yes);
        kept.clear();
        assert_eq!(kept.idle(), 0);
    }
}
