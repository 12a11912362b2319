//! Kept PostgreSQL connections for queries. A fresh connection costs a few milliseconds to
//! open and more to warm its server-side catalog caches; a data model query against a
//! large table is then measurably slower than the same SQL on an open session (see the
//! `query` benchmark). Queries therefore reuse connections, per datasource (host, port,
//! database, user, password and timeout), kept idle for at most a minute. Connection tests
//! and syncs still open their own connection: they check that one can be opened.
//!
//! The connections live on one small runtime of the pool's own, which drives them between
//! calls; a call blocks on it (callers are on blocking threads, as for every driver call).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio_postgres::{Client, NoTls};
use weir_bi_catalog::drivers::DriverError;

use crate::Server;

/// Idle connections kept per datasource.
const MAX_IDLE: usize = 4;
/// How long an idle connection is kept.
const IDLE_FOR: Duration = Duration::from_secs(60);

pub(crate) struct PgPool {
    /// Taken by `drop`, which shuts it down without waiting (a pool may be dropped on an
    /// async task, where waiting is not allowed).
    runtime: Option<tokio::runtime::Runtime>,
    idle: Mutex<HashMap<String, Vec<(Client, Instant)>>>,
}

impl std::fmt::Debug for PgPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgPool").finish_non_exhaustive()
    }
}

impl PgPool {
    pub(crate) fn new() -> Result<Self, DriverError> {
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
            idle: Mutex::new(HashMap::new()),
        })
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime
            .as_ref()
            .expect("the runtime lives as long as the pool")
    }

    /// What tells one datasource's connections from another's (in memory only).
    fn key(server: &Server) -> String {
        format!(
            "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
            server.host,
            server.port,
            server.database,
            server.user.as_deref().unwrap_or(""),
            server.password.as_deref().unwrap_or(""),
            server.timeout.as_millis()
        )
    }

    fn take(&self, key: &str) -> Option<Client> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let kept = idle.get_mut(key)?;
        kept.retain(|(c, since)| !c.is_closed() && since.elapsed() < IDLE_FOR);
        kept.pop().map(|(c, _)| c)
    }

    fn give_back(&self, key: String, client: Client) {
        if client.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let kept = idle.entry(key).or_default();
        if kept.len() < MAX_IDLE {
            kept.push((client, Instant::now()));
        }
    }

    /// Runs `sql` with `params` on a kept connection of the server (or a new one), within
    /// the server's timeout; answers the first column of each row.
    pub(crate) fn query_json(
        &self,
        server: &Server,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<serde_json::Value>, DriverError> {
        let key = Self::key(server);
        let kept = self.take(&key);
        let config = crate::pg::config(server)?;
        let statement_ms = server.timeout.as_millis().max(1);
        let secs = crate::whole_seconds(server.timeout);
        let outcome = self.runtime().block_on(async {
            tokio::time::timeout(server.timeout, async {
                let client = match kept {
                    Some(c) => c,
                    None => {
                        let (client, connection) = config
                            .connect(NoTls)
                            .await
                            .map_err(|e| crate::pg::connect_error(server, &e))?;
                        tokio::spawn(connection);
                        client
                            .batch_execute(&format!("SET statement_timeout = {statement_ms}"))
                            .await
                            .map_err(|e| crate::pg::query_error(server, &e))?;
                        client
                    }
                };
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
        self.give_back(key, client);
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
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
