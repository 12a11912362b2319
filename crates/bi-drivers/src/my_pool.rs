//! Kept MySQL/MariaDB connections for queries, as `pg_pool` keeps PostgreSQL's and under the
//! same rules ([`crate::kept`]: per datasource key, at most 4 idle, kept a minute).
//! Connection tests and syncs still open their own connection.
//!
//! A kept session is the one `my::connect` opened: its statement time limit set once, its
//! prepared statements cached by the client (a query run again skips the prepare). Weir's
//! queries are single autocommit `SELECT`s that change no session state, so a session is
//! not reset between queries (the `mysql` crate's reset would also drop the time limit).
//!
//! **A connection that broke while kept** (the server restarted, `KILL`, `wait_timeout`) is
//! found by the query itself: when a kept connection fails with a connection error (not a
//! timeout, not an answer of the server to the statement), it is closed and the query runs
//! once more on a fresh connection. A `SELECT` is safe to run again. This costs nothing
//! while connections are fine, where checking each one on checkout (a `COM_PING`) would
//! cost a round trip per query, and it also covers a connection that breaks between the
//! check and the query. A fresh connection that fails is not retried.
//!
//! Why not the `mysql` crate's own `Pool` (one per key): its `PoolConstraints::max` bounds
//! the connections open, in use or not, so a datasource's fifth query at once would wait
//! (the PostgreSQL side has no such limit), or, with a large bound, that many idle
//! connections would stay open; and its synchronous pool closes no idle connection after
//! a while (`mysql_async` does, not `mysql`). Its health check is the per-checkout ping
//! above.

use mysql::Conn;
use weir_bi_catalog::drivers::DriverError;

use crate::Server;
use crate::kept::{Kept, Key};
use crate::my;

/// MariaDB's `ER_CONNECTION_KILLED`, MySQL's `ER_SERVER_SHUTDOWN` and
/// `ER_CLIENT_INTERACTION_TIMEOUT`: the server closed the session, and says so.
const SESSION_GONE_CODES: [u16; 3] = [1927, 1053, 4031];

pub(crate) struct MyPool {
    kept: Kept<Conn>,
}

impl std::fmt::Debug for MyPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MyPool")
            .field("kept", &self.kept)
            .finish_non_exhaustive()
    }
}

/// Kept MySQL connections have no state to check without I/O.
fn any(_: &Conn) -> bool {
    true
}

impl MyPool {
    /// `max_idle` connections kept per datasource (0: a connection per query).
    pub(crate) fn new(max_idle: usize) -> Self {
        Self {
            kept: Kept::new(max_idle, crate::kept::IDLE_FOR),
        }
    }

    /// Runs `work` on a kept connection of the server, or a new one (see the module's notes
    /// on broken connections: `work` may run twice).
    pub(crate) fn run_query<T>(
        &self,
        server: &Server,
        mut work: impl FnMut(&mut Conn) -> Result<T, mysql::Error>,
    ) -> Result<T, DriverError> {
        self.attempt(server, &mut work)
            .map_err(|e| server.scrub.error(e))
    }

    fn attempt<T>(
        &self,
        server: &Server,
        work: &mut impl FnMut(&mut Conn) -> Result<T, mysql::Error>,
    ) -> Result<T, DriverError> {
        // Before any kept connection: the URL's TLS demands are not part of the key.
        my::check_tls(server)?;
        let key = Key::of(server);
        if let Some(mut conn) = self.kept.take(&key, any) {
            match work(&mut conn) {
                // Closed: the query runs again on a fresh connection below.
                Err(e) if broke(&e) => drop(conn),
                done => return self.finish(server, key, conn, done),
            }
        }
        let mut conn = my::connect(server)?;
        let done = work(&mut conn);
        self.finish(server, key, conn, done)
    }

    /// Keeps the connection unless the call left it unusable; answers the outcome.
    fn finish<T>(
        &self,
        server: &Server,
        key: Key,
        conn: Conn,
        done: Result<T, mysql::Error>,
    ) -> Result<T, DriverError> {
        match done {
            Ok(value) => {
                self.kept.give_back(key, conn, any);
                Ok(value)
            }
            Err(e) => {
                // The server refused the statement (a syntax error, its time limit): the
                // session is fine. Anything else (a socket timeout mid-answer, a protocol
                // error) leaves it in an unknown state: it is closed.
                if matches!(&e, mysql::Error::MySqlError(m) if !SESSION_GONE_CODES.contains(&m.code))
                {
                    self.kept.give_back(key, conn, any);
                }
                Err(my::query_error(server, &e))
            }
        }
    }
}

/// The connection broke, rather than the statement failing or timing out: the server
/// closed it (end of stream, a reset or broken socket, the server's last word), or the
/// answer made no sense.
fn broke(e: &mysql::Error) -> bool {
    match e {
        mysql::Error::MySqlError(m) => SESSION_GONE_CODES.contains(&m.code),
        mysql::Error::IoError(_) | mysql::Error::CodecError(_) => !my::timed_out(e),
        mysql::Error::DriverError(
            mysql::DriverError::PacketOutOfSync | mysql::DriverError::UnexpectedPacket,
        ) => true,
        _ => false,
    }
}
