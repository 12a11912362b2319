//! Kept PostgreSQL connections for queries. A fresh connection costs a few milliseconds to
//! open and more to warm its server-side catalog caches; a data model query against a
//! large table is then measurably slower than the same SQL on an open session (see the
//! `query` benchmark). Queries therefore reuse connections, per datasource, under the rules
//! of [`crate::kept`] (the same key as MySQL's: host, port, database, user, password and
//! timeout; at most 4 idle, kept a minute). Connection tests and syncs still open their own
//! connection: they check that one can be opened.
//!
//! The connections live on one small runtime of the pool's own, which drives them between
//! calls; a call blocks on it (callers are on blocking threads, as for every driver call).
//! That runtime notices a connection the server closed soon after (`Client::is_closed`), and
//! such a connection is not taken again. One that ends in between (the query finds it
//! closed, or the server's last word is `admin_shutdown`) is closed and the query runs
//! once more on a fresh connection, as on MySQL (see `my_pool`).

use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls};
use tracing::Instrument;
use weir_bi_catalog::drivers::DriverError;

use crate::Server;
use crate::kept::{Kept, Key};

pub(crate) struct PgPool {
    /// Taken by `drop`, which shuts it down without waiting (a pool may be dropped on an
    /// async task, where waiting is not allowed).
    runtime: Option<tokio::runtime::Runtime>,
    kept: Kept<Client>,
}

impl std::fmt::Debug for PgPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgPool")
            .field("kept", &self.kept)
            .finish_non_exhaustive()
    }
}

fn open(c: &Client) -> bool {
    !c.is_closed()
}

/// The kept connection ended under the query: the server closed it (a restart,
/// `pg_terminate_backend`) before the pool's runtime noticed, or while the query was sent.
fn broke(e: &tokio_postgres::Error) -> bool {
    e.is_closed()
        || matches!(
            e.code(),
            Some(&SqlState::ADMIN_SHUTDOWN | &SqlState::CRASH_SHUTDOWN)
        )
}

impl PgPool {
    /// `max_idle` connections kept per datasource (0: a connection per query).
    pub(crate) fn new(max_idle: usize) -> Result<Self, DriverError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("weir-bi-pg")
            .enable_all()
            .build()
            .map_err(|e| {
                DriverError::Failed(format!("cannot start the PostgreSQL client runtime: {e}"))
            })?;
        Ok(Self {
            runtime: Some(runtime),
            kept: Kept::new(max_idle, crate::kept::IDLE_FOR),
        })
    }

    // `runtime` is an Option only so that `drop` can take it; until then it is there.
    #[allow(clippy::expect_used)]
    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime
            .as_ref()
            .expect("the runtime lives as long as the pool")
    }

    /// Runs `sql` with `params` on a kept connection of the server (or a new one), within
    /// the server's timeout; answers the first column of each row.
    pub(crate) fn query_json(
        &self,
        server: &Server,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<serde_json::Value>, DriverError> {
        let key = Key::of(server);
        let kept = self.kept.take(&key, open);
        let statement_ms = server.timeout.as_millis().max(1);
        let secs = crate::whole_seconds(server.timeout);
        let outcome = self.runtime().block_on(async {
            tokio::time::timeout(server.timeout, async {
                if let Some(client) = kept {
                    match client.query(sql, params).await {
                        // Closed: the query runs again on a fresh connection below.
                        Err(e) if broke(&e) => drop(client),
                        rows => return Ok((client, rows)),
                    }
                }
                // A new connection is checked by the guard now; a kept one was when opened.
                let (client, connection) = async {
                    crate::pg::config(server)?
                        .connect(NoTls)
                        .await
                        .map_err(|e| crate::pg::connect_error(server, &e))
                }
                .instrument(server.connect_span())
                .await?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("SET statement_timeout = {statement_ms}"))
                    .await
                    .map_err(|e| crate::pg::query_error(server, &e))?;
                let rows = client.query(sql, params).await;
                Ok::<_, DriverError>((client, rows))
            })
            .await
        });
        let (client, rows) = match outcome {
            Ok(Ok(done)) => done,
            Ok(Err(e)) => return Err(server.scrub.error(e)),
            // The connection is dropped with the future: a timed-out statement does not
            // come back to the pool.
            Err(_) => return Err(DriverError::Timeout(secs)),
        };
        // A statement that failed leaves an autocommit session usable.
        self.kept.give_back(key, client, open);
        let rows = rows.map_err(|e| server.scrub.error(crate::pg::query_error(server, &e)))?;
        Ok(rows
            .iter()
            .map(|r| r.get::<_, serde_json::Value>(0))
            .collect())
    }
}

impl Drop for PgPool {
    fn drop(&mut self) {
        // Idle connections first, while their runtime still runs; then the runtime.
        self.kept.clear();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
