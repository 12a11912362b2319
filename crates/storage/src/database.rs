//! Opening a database, migrating it, and running units of work in transactions.

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use weir_kernel::{StoreError, TxMode, id::NODE_COUNT};

use crate::backend::{Backend, DbConn, SqlitePragmas, on_each_backend};
use crate::errors::{OrStore, pool_error};
use crate::schema::{counters, settings};

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
type MigrationError = Box<dyn std::error::Error + Send + Sync>;

/// PostgreSQL advisory lock key held while migrating ("weir" in ASCII).
const MIGRATION_LOCK: i64 = 0x7765_6972;

/// PostgreSQL advisory lock key held while a process seeds what every start makes sure of
/// ("wei2" in ASCII).
const START_LOCK: i64 = 0x7765_6932;

/// A connection lent by the pool.
pub(crate) type Pooled = PooledConnection<ConnectionManager<DbConn>>;

#[derive(Debug, Clone)]
pub struct DatabaseOptions {
    /// A `postgres://` URL or an SQLite file path.
    pub url: String,
    /// Connections in the pool.
    pub pool_size: u32,
    /// How long a request waits for a free connection before it fails as unavailable.
    pub connect_timeout: Duration,
}

impl DatabaseOptions {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: 10,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// Counts the pool's checkouts: how long each waited for a connection, and the waits that
/// gave up (the request then answers 503).
#[derive(Debug)]
struct PoolMetrics;

impl diesel::r2d2::HandleEvent for PoolMetrics {
    fn handle_checkout(&self, event: diesel::r2d2::event::CheckoutEvent) {
        metrics::histogram!("weir_db_pool_wait_seconds").record(event.duration().as_secs_f64());
    }

    fn handle_timeout(&self, _event: diesel::r2d2::event::TimeoutEvent) {
        metrics::counter!("weir_db_pool_timeouts_total").increment(1);
    }
}

/// A pool of connections to one database, PostgreSQL or SQLite.
#[derive(Clone)]
pub struct Database {
    pool: Pool<ConnectionManager<DbConn>>,
    backend: Backend,
    /// What the pool connects to, for a connection of its own ([`Self::one_start_at_a_time`]).
    url: String,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Database {
    /// Opens the pool and runs pending migrations. An SQLite file and its folder are
    /// created when missing.
    pub fn open(options: &DatabaseOptions) -> Result<Self, StoreError> {
        let (backend, url) = Backend::detect(&options.url);
        let sqlite_dir = std::path::Path::new(&url)
            .parent()
            .filter(|d| !d.as_os_str().is_empty());
        if let (Backend::Sqlite, Some(dir)) = (backend, sqlite_dir) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let pool = Pool::builder()
            .max_size(options.pool_size.max(1))
            // Open connections as they are needed rather than all of them at start.
            .min_idle(Some(1))
            // A PostgreSQL connection can die with its server, so it is checked before each
            // use; an SQLite connection is a file handle that cannot, so that query is saved.
            .test_on_check_out(backend == Backend::Postgres)
            .connection_timeout(options.connect_timeout)
            .connection_customizer(Box::new(SqlitePragmas))
            .event_handler(Box::new(PoolMetrics))
            .build(ConnectionManager::<DbConn>::new(url.clone()))
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let db = Self { pool, backend, url };
        db.migrate()?;
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Sets the pool gauges of the process's metrics to the pool's state now: connections
    /// in use, idle, and the most the pool opens. Called before each scrape of `/metrics`;
    /// the waits for a connection are counted as they happen (docs/operations.md).
    pub fn record_pool_metrics(&self) {
        let state = self.pool.state();
        let in_use = state.connections.saturating_sub(state.idle_connections);
        metrics::gauge!("weir_db_pool_connections", "state" => "in_use").set(f64::from(in_use));
        metrics::gauge!("weir_db_pool_connections", "state" => "idle")
            .set(f64::from(state.idle_connections));
        metrics::gauge!("weir_db_pool_max_connections").set(f64::from(self.pool.max_size()));
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.get().map_err(pool_error)?;
        let result = match &mut *conn {
            DbConn::Pg(c) => {
                // Processes starting together on one database take turns: the first
                // migrates, the others find nothing pending.
                diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
                    .execute(c)
                    .or_store()?;
                let result = c.run_pending_migrations(PG_MIGRATIONS).map(drop);
                diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
                    .execute(c)
                    .or_store()?;
                result
            }
            // One writer at a time: the first start migrates, the others wait on the busy
            // timeout and then find nothing pending.
            DbConn::Sqlite(c) => c.immediate_transaction::<_, MigrationError, _>(|c| {
                c.run_pending_migrations(SQLITE_MIGRATIONS).map(drop)
            }),
        };
        result.map_err(|e| StoreError::Internal(format!("migrations failed: {e}")))
    }

    /// Runs `work` in one transaction on a pooled connection, on this thread.
    pub fn transaction<T>(
        &self,
        mode: TxMode,
        work: impl FnOnce(&mut DbConn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.transaction_owned(mode, |mut conn| {
            let result = work(&mut conn);
            (conn, result)
        })
    }

    /// Like [`Self::transaction`], but lends the connection by value, so that a repository
    /// can own it (domain ports want `'static` trait objects) and hand it back.
    ///
    /// SQLite write transactions start IMMEDIATE, so two writers queue on the busy timeout
    /// instead of failing when one upgrades its read lock.
    #[tracing::instrument(level = "debug", name = "transaction", skip_all, fields(mode = ?mode))]
    pub(crate) fn transaction_owned<T>(
        &self,
        mode: TxMode,
        work: impl FnOnce(Pooled) -> (Pooled, Result<T, StoreError>),
    ) -> Result<T, StoreError> {
        let mut conn = self.pool.get().map_err(pool_error)?;
        match (&mut *conn, mode) {
            (DbConn::Sqlite(c), TxMode::Write) => {
                AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
            }
            (c, _) => on_each_backend!(c, |c| AnsiTransactionManager::begin_transaction(c)),
        }
        .or_store()?;
        let (mut conn, result) = work(conn);
        let conn: &mut DbConn = &mut conn;
        match result {
            Ok(value) => {
                let committed =
                    on_each_backend!(&mut *conn, |c| AnsiTransactionManager::commit_transaction(
                        c
                    ));
                if let Err(e) = committed {
                    let _ =
                        on_each_backend!(conn, |c| AnsiTransactionManager::rollback_transaction(c));
                    return Err(e).or_store();
                }
                Ok(value)
            }
            Err(e) => {
                let _ = on_each_backend!(conn, |c| AnsiTransactionManager::rollback_transaction(c));
                Err(e)
            }
        }
    }

    /// Whether the database answers (`/readyz`).
    pub fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.get().map_err(pool_error)?;
        diesel::sql_query("SELECT 1")
            .execute(&mut *conn)
            .or_store()
            .map(drop)
    }

    /// Runs `work` (what each start makes sure exists: the default tenant, its roles, the
    /// integrations' entities) while no other process starting on this PostgreSQL database
    /// runs its own, so that processes started together do not race to insert the same rows.
    /// The lock is held on a connection of its own, outside the pool `work` uses. SQLite
    /// belongs to one process: `work` just runs.
    pub fn one_start_at_a_time<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        if self.backend != Backend::Postgres {
            return work();
        }
        let mut lock = diesel::PgConnection::establish(&self.url)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        diesel::sql_query(format!("SELECT pg_advisory_lock({START_LOCK})"))
            .execute(&mut lock)
            .or_store()?;
        let result = work();
        // Closing the connection releases the lock too; unlocking first says so at once.
        let _ = diesel::sql_query(format!("SELECT pg_advisory_unlock({START_LOCK})"))
            .execute(&mut lock);
        result
    }

    /// A node number for the id generator, distinct from the numbers of the last 1023
    /// processes that started on this database.
    pub fn allocate_id_node(&self) -> Result<i64, StoreError> {
        self.transaction(TxMode::Write, |conn| {
            let name = "id_node";
            on_each_backend!(&mut *conn, |c| diesel::insert_into(counters::table)
                .values((counters::name.eq(name), counters::value.eq(0i64)))
                .on_conflict_do_nothing()
                .execute(c))
            .or_store()?;
            diesel::update(counters::table.find(name))
                .set(counters::value.eq(counters::value + 1))
                .execute(conn)
                .or_store()?;
            let value: i64 = counters::table
                .find(name)
                .select(counters::value)
                .first(conn)
                .or_store()?;
            Ok(value.rem_euclid(NODE_COUNT))
        })
    }

    /// The stored setting `name`, set to `init()` first if it has none. Processes racing
    /// on a fresh database all end up with the one value that was stored first.
    pub fn setting_or_init(
        &self,
        name: &str,
        init: impl FnOnce() -> String,
    ) -> Result<String, StoreError> {
        self.transaction(TxMode::Write, |conn| {
            let value = init();
            on_each_backend!(&mut *conn, |c| diesel::insert_into(settings::table)
                .values((settings::name.eq(name), settings::value.eq(&value)))
                .on_conflict_do_nothing()
                .execute(c))
            .or_store()?;
            settings::table
                .find(name)
                .select(settings::value)
                .first(conn)
                .or_store()
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn listing(backend: &str) -> Vec<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../migrations")
            .join(backend);
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("migrations folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Both backends must have the same migrations, under the same names.
    #[test]
    fn migration_folders_match() {
        let pg = listing("postgres");
        assert!(!pg.is_empty());
        assert_eq!(pg, listing("sqlite"));
    }

    #[test]
    fn sqlite_database_opens_migrates_and_hands_out_distinct_nodes() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("nested/weir.db");
        let db =
            super::Database::open(&super::DatabaseOptions::new(url.to_string_lossy())).unwrap();
        db.ping().unwrap();
        let a = db.allocate_id_node().unwrap();
        let b = db.allocate_id_node().unwrap();
        assert_ne!(a, b);
        let k1 = db.setting_or_init("k", || "one".into()).unwrap();
        let k2 = db.setting_or_init("k", || "two".into()).unwrap();
        assert_eq!((k1.as_str(), k2.as_str()), ("one", "one"));
    }
}
