//! The BI catalog's [`Drivers`] port over real databases: PostgreSQL, MySQL and MariaDB,
//! and SQLite files. [`SqlDrivers`] is the one implementation.
//!
//! - **PostgreSQL** through `tokio-postgres`, without TLS (`NoTls`), each call on a small
//!   current-thread runtime of its own and bounded as a whole by the spec's timeout (connect,
//!   authentication and every statement), with `statement_timeout` set on the session so the
//!   server gives up too. `sslmode=disable`, `allow` and `prefer` connect in clear;
//!   `require`, `verify-ca`, `verify-full` and `ssl=true` are refused (`BadUrl`).
//! - **MySQL and MariaDB** through the pure-Rust `mysql` client, without TLS: the TCP connect,
//!   every read and every write are bounded by the timeout, and the session's
//!   `max_statement_time` (MariaDB) or `max_execution_time` (MySQL) is set to it. URLs that
//!   require TLS (`sslMode=REQUIRED`, `requireSSL=true`, MariaDB's `useSsl=true`...) are
//!   refused.
//! - **SQLite** through `rusqlite` (the same bundled `libsqlite3-sys` diesel links), opened
//!   read-only and never created; its one schema is `main`; the busy timeout is the spec's
//!   timeout.
//!
//! Every other `driverType` answers [`DriverError::NotAvailable`]. A URL whose driver does
//! not match the type answers [`DriverError::BadUrl`].
//!
//! Every connection first passes the [`Guard`]: servers where Weir's outbound policy allows
//! (connecting to the addresses it checked), SQLite files inside `bi.sqlite_folder`, and
//! never Weir's own storage; anything else answers [`DriverError::Refused`].
//!
//! Connection tests and listings open one connection per call: the catalog calls them
//! rarely (a test, a sync), and a test must open one. Queries, which users run often, reuse
//! kept connections on PostgreSQL (`pg_pool`) and MySQL/MariaDB (`my_pool`), per datasource
//! (host, port, database, user, password and timeout), at most 4 idle for at most a minute
//! (`kept`). SQLite queries open their file each time (a file open, no session to warm).
//!
//! Every method blocks. Call them from a blocking thread (`web::block`, `spawn_blocking`),
//! never from inside an async task: the PostgreSQL driver runs a runtime of its own.
//!
//! Identifiers reach the databases as bound parameters only (`$1`, `?`,
//! `pragma_table_info(?1)`), never spliced into SQL. No message contains the password: the
//! drivers' own messages do not carry it, and every message is scrubbed of it all the same.

mod execute;
mod guard;
mod kept;
mod my;
mod my_pool;
mod own;
mod pg;
mod pg_pool;
pub mod render;
mod sqlite;
mod types;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use weir_bi_catalog::drivers::{
    ColumnInfo, ConnectionSpec, DriverError, Drivers, Rows, Statement, TableInfo,
};
use weir_bi_catalog::query::Plan;

use render::{Dialect, render};
use weir_bi_catalog::jdbc::{DriverType, JdbcUrl};

pub use guard::{Guard, GuardError};
pub use types::{mysql_field_type, postgres_field_type, sqlite_field_type};

/// The [`Drivers`] port over PostgreSQL, MySQL/MariaDB and SQLite. One connection per call,
/// except PostgreSQL and MySQL/MariaDB queries, which reuse kept connections (see `kept`).
/// Clones share the kept connections.
#[derive(Debug, Clone)]
pub struct SqlDrivers {
    max_idle: usize,
    guard: Arc<Guard>,
    /// Made at the first PostgreSQL query.
    pg: Arc<OnceLock<Result<pg_pool::PgPool, DriverError>>>,
    my: Arc<my_pool::MyPool>,
}

impl SqlDrivers {
    /// Datasources where `guard` allows; queries keep up to 4 idle connections per
    /// datasource, for a minute.
    pub fn new(guard: Guard) -> Self {
        Self::keeping(kept::MAX_IDLE, guard)
    }

    /// Queries keep up to `max_idle` idle connections per datasource; 0 opens a connection
    /// per query, as tests and listings do (the `query` benchmark compares the two).
    pub fn keeping(max_idle: usize, guard: Guard) -> Self {
        Self {
            max_idle,
            guard: Arc::new(guard),
            pg: Arc::default(),
            my: Arc::new(my_pool::MyPool::new(max_idle)),
        }
    }

    fn target(&self, spec: &ConnectionSpec) -> Result<Target, DriverError> {
        Target::of(spec, &self.guard)
    }

    fn pg_pool(&self) -> Result<&pg_pool::PgPool, DriverError> {
        self.pg
            .get_or_init(|| pg_pool::PgPool::new(self.max_idle))
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl Drivers for SqlDrivers {
    fn test(&self, spec: &ConnectionSpec) -> Result<(), DriverError> {
        match self.target(spec)? {
            Target::Postgres(t) => pg::test(&t),
            Target::MySql(t) => my::test(&t),
            Target::Sqlite(t) => sqlite::test(&t),
        }
    }

    fn schemas(&self, spec: &ConnectionSpec) -> Result<Vec<String>, DriverError> {
        match self.target(spec)? {
            Target::Postgres(t) => pg::schemas(&t),
            Target::MySql(t) => my::schemas(&t),
            Target::Sqlite(t) => sqlite::schemas(&t),
        }
    }

    fn tables(&self, spec: &ConnectionSpec, schema: &str) -> Result<Vec<TableInfo>, DriverError> {
        match self.target(spec)? {
            Target::Postgres(t) => pg::tables(&t, schema),
            Target::MySql(t) => my::tables(&t, schema),
            Target::Sqlite(t) => sqlite::tables(&t, schema),
        }
    }

    fn columns(
        &self,
        spec: &ConnectionSpec,
        schema: &str,
        table: &str,
    ) -> Result<Vec<ColumnInfo>, DriverError> {
        match self.target(spec)? {
            Target::Postgres(t) => pg::columns(&t, schema, table),
            Target::MySql(t) => my::columns(&t, schema, table),
            Target::Sqlite(t) => sqlite::columns(&t, schema, table),
        }
    }

    fn statement(&self, spec: &ConnectionSpec, plan: &Plan) -> Result<Statement, DriverError> {
        let target = self.target(spec)?;
        let r = render(plan, target.dialect()).map_err(|e| DriverError::Failed(e.0))?;
        Ok(Statement {
            sql: r.sql,
            params: r.params,
        })
    }

    #[tracing::instrument(level = "debug", name = "datasource_query", skip_all)]
    fn query(&self, spec: &ConnectionSpec, plan: &Plan) -> Result<Rows, DriverError> {
        let target = self.target(spec)?;
        let r = render(plan, target.dialect()).map_err(|e| DriverError::Failed(e.0))?;
        let columns = execute::columns(plan);
        let driver = target.driver_label();
        let started = std::time::Instant::now();
        let rows = match target {
            Target::Postgres(t) => execute::postgres(self.pg_pool()?, &t, &r, &columns),
            Target::MySql(t) => execute::mysql(&self.my, &t, &r, &columns),
            Target::Sqlite(t) => execute::sqlite(&t, &r, &columns),
        };
        let outcome = if rows.is_ok() { "ok" } else { "error" };
        metrics::histogram!(
            "weir_bi_query_duration_seconds",
            "driver" => driver,
            "outcome" => outcome
        )
        .record(started.elapsed().as_secs_f64());
        rows
    }
}

impl Target {
    /// The `driver` label of the query metrics (docs/operations.md, "Metrics").
    fn driver_label(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgresql",
            Self::MySql(_) => "mysql",
            Self::Sqlite(_) => "sqlite",
        }
    }

    fn dialect(&self) -> Dialect {
        match self {
            Self::Postgres(_) => Dialect::Postgres,
            Self::MySql(_) => Dialect::MySql,
            Self::Sqlite(_) => Dialect::Sqlite,
        }
    }
}

/// What a call connects to, read off the spec once the driver type and the URL agree.
enum Target {
    Postgres(Server),
    MySql(Server),
    Sqlite(SqliteFile),
}

/// A database server and how to log in to it.
pub(crate) struct Server {
    /// PostgreSQL (else MySQL/MariaDB).
    pub postgres: bool,
    pub host: String,
    pub port: u16,
    /// Empty when the URL names none.
    pub database: String,
    pub params: Vec<(String, String)>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub timeout: Duration,
    pub scrub: Scrub,
    guard: Arc<Guard>,
}

impl Server {
    /// The addresses to connect to, as the guard checked them now: call it for each new
    /// connection, and connect to these only.
    pub fn addresses(&self) -> Result<Vec<SocketAddr>, DriverError> {
        self.guard.server(self)
    }

    /// `host:port/database` for messages (never the user's password, never the parameters).
    pub fn label(&self) -> String {
        format!("{}/{}", self.host_port(), self.database)
    }

    /// `host:port` (`[::1]:5432` for an IPv6 address): no user, no password.
    pub fn host_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The span of opening a session on this server (see [`connect_span`]).
    pub fn connect_span(&self) -> tracing::Span {
        let driver = if self.postgres { "postgresql" } else { "mysql" };
        connect_span(driver, &self.host_port())
    }

    /// A URL parameter, by case-insensitive name; the last one wins, as in JDBC drivers.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) struct SqliteFile {
    /// As the URL names it (without `file:` and a query), unchecked.
    pub path: PathBuf,
    /// The path as the URL gives it, for messages.
    pub shown: String,
    pub timeout: Duration,
    guard: Arc<Guard>,
}

impl SqliteFile {
    /// JDBC's `jdbc:sqlite:file:/x.db?mode=ro` form names the same file as
    /// `jdbc:sqlite:/x.db`.
    pub(crate) fn new(raw: &str, timeout: Duration, guard: impl Into<Arc<Guard>>) -> Self {
        let path = match raw.strip_prefix("file:") {
            Some(rest) => rest.split_once('?').map_or(rest, |(p, _)| p),
            None => raw,
        };
        Self {
            path: PathBuf::from(path),
            shown: path.to_owned(),
            timeout,
            guard: guard.into(),
        }
    }

    /// The file to open, as the guard checked it now: call it for each opening, and open
    /// this path only.
    pub fn checked(&self) -> Result<PathBuf, DriverError> {
        self.guard.sqlite(self)
    }
}

impl Target {
    fn of(spec: &ConnectionSpec, guard: &Arc<Guard>) -> Result<Self, DriverError> {
        // A zero timeout would switch some socket timeouts off: read it as the shortest one.
        let timeout = spec.timeout.max(Duration::from_millis(1));
        let expected = match &spec.driver {
            DriverType::PostgreSql => "jdbc:postgresql://",
            DriverType::MySql => "jdbc:mysql:// or jdbc:mariadb://",
            DriverType::Sqlite => "jdbc:sqlite:",
            DriverType::Other(other) => return Err(DriverError::NotAvailable(other.clone())),
        };
        let mismatch = |scheme: &str| {
            DriverError::BadUrl(format!(
                "a {} datasource needs a {expected} URL, not jdbc:{scheme}:",
                spec.driver.as_str()
            ))
        };
        match (&spec.driver, &spec.url) {
            (
                DriverType::PostgreSql | DriverType::MySql,
                JdbcUrl::Server {
                    scheme,
                    host,
                    port,
                    database,
                    params,
                },
            ) => {
                let postgres = matches!(spec.driver, DriverType::PostgreSql);
                let fits = if postgres {
                    matches!(scheme.as_str(), "postgresql" | "postgres")
                } else {
                    matches!(scheme.as_str(), "mysql" | "mariadb")
                };
                if !fits {
                    return Err(mismatch(scheme));
                }
                let param = |name: &str| {
                    params
                        .iter()
                        .rev()
                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v.clone())
                };
                // The spec's credentials first; JDBC URLs may carry their own.
                let user = spec
                    .user
                    .clone()
                    .filter(|u| !u.is_empty())
                    .or_else(|| param("user"));
                let password = spec.password.clone().or_else(|| param("password"));
                let server = Server {
                    postgres,
                    host: host.clone(),
                    port: port.unwrap_or(if postgres { 5432 } else { 3306 }),
                    database: database.clone(),
                    params: params.clone(),
                    user,
                    scrub: Scrub::new([spec.password.as_deref(), param("password").as_deref()]),
                    password,
                    timeout,
                    guard: guard.clone(),
                };
                Ok(if postgres {
                    Self::Postgres(server)
                } else {
                    Self::MySql(server)
                })
            }
            (DriverType::Sqlite, JdbcUrl::File { path, .. }) => {
                Ok(Self::Sqlite(SqliteFile::new(path, timeout, guard.clone())))
            }
            (_, JdbcUrl::Server { scheme, .. } | JdbcUrl::File { scheme, .. }) => {
                Err(mismatch(scheme))
            }
        }
    }
}

/// The `datasource_connect` span around opening a connection, so that a slow connect shows
/// in traces (docs/operations.md, "Traces"): `driver` as the query metrics name it, `host`
/// the server's `host:port` or the SQLite file's path, never a user or a password.
pub(crate) fn connect_span(driver: &'static str, host: &str) -> tracing::Span {
    tracing::debug_span!("datasource_connect", driver, host)
}

/// Removes the password from messages, should a driver ever echo it.
#[derive(Clone, Default)]
pub(crate) struct Scrub {
    secrets: Vec<String>,
}

impl Scrub {
    fn new<'a>(secrets: impl IntoIterator<Item = Option<&'a str>>) -> Self {
        Self {
            secrets: secrets
                .into_iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }

    pub fn clean(&self, mut message: String) -> String {
        for secret in &self.secrets {
            if message.contains(secret.as_str()) {
                message = message.replace(secret.as_str(), "********");
            }
        }
        message
    }

    /// Scrubs the message of any variant.
    pub fn error(&self, error: DriverError) -> DriverError {
        match error {
            DriverError::NotAvailable(m) => DriverError::NotAvailable(self.clean(m)),
            DriverError::BadUrl(m) => DriverError::BadUrl(self.clean(m)),
            DriverError::Connect(m) => DriverError::Connect(self.clean(m)),
            DriverError::Refused(m) => DriverError::Refused(self.clean(m)),
            DriverError::Missing(m) => DriverError::Missing(self.clean(m)),
            DriverError::Failed(m) => DriverError::Failed(self.clean(m)),
            DriverError::Timeout(s) => DriverError::Timeout(s),
        }
    }
}

/// The timeout in whole seconds for [`DriverError::Timeout`], rounded up.
pub(crate) fn whole_seconds(timeout: Duration) -> u64 {
    let secs = timeout.as_secs();
    if timeout.subsec_nanos() > 0 {
        secs + 1
    } else {
        secs
    }
}

/// The error and its sources, `: `-separated, without repeats.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// `schema` for messages (`Missing("schema x")`).
pub(crate) fn missing_schema(schema: &str) -> DriverError {
    DriverError::Missing(format!("schema {schema}"))
}

/// `schema.table` for messages (`Missing("table x.y")`).
pub(crate) fn missing_table(schema: &str, table: &str) -> DriverError {
    DriverError::Missing(format!("table {schema}.{table}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(driver: &str, url: &str) -> ConnectionSpec {
        ConnectionSpec {
            driver: DriverType::parse(driver),
            url: JdbcUrl::parse(url).unwrap(),
            user: Some("u".into()),
            password: Some("s3cret".into()),
            timeout: Duration::from_secs(2),
        }
    }

    #[test]
    fn other_driver_types_are_not_available() {
        let err = SqlDrivers::new(Guard::default())
            .test(&spec("ORACLE", "jdbc:oracle://h/db"))
            .unwrap_err();
        assert_eq!(err, DriverError::NotAvailable("ORACLE".into()));
    }

    #[test]
    fn mismatched_schemes_are_bad_urls() {
        let d = SqlDrivers::new(Guard::default());
        for (driver, url, says) in [
            (
                "POSTGRESQL",
                "jdbc:mysql://h/db",
                "a POSTGRESQL datasource needs a jdbc:postgresql:// URL, not jdbc:mysql:",
            ),
            (
                "MARIADB",
                "jdbc:sqlite:/tmp/x.db",
                "a MYSQL datasource needs a jdbc:mysql:// or jdbc:mariadb:// URL, not jdbc:sqlite:",
            ),
            (
                "SQLITE",
                "jdbc:postgresql://h/db",
                "a SQLITE datasource needs a jdbc:sqlite: URL, not jdbc:postgresql:",
            ),
        ] {
            assert_eq!(
                d.schemas(&spec(driver, url)).unwrap_err(),
                DriverError::BadUrl(says.into())
            );
        }
    }

    #[test]
    fn credentials_and_ports_come_from_the_spec_then_the_url() {
        let mut s = spec("POSTGRESQL", "jdbc:postgresql://h/db?user=x&password=pw2");
        s.user = None;
        s.password = None;
        let Target::Postgres(server) = Target::of(&s, &Arc::default()).unwrap() else {
            panic!("not postgres")
        };
        assert_eq!(server.user.as_deref(), Some("x"));
        assert_eq!(server.password.as_deref(), Some("pw2"));
        assert_eq!(server.port, 5432);
        assert_eq!(server.label(), "h:5432/db");
        assert_eq!(server.scrub.clean("a pw2 b".into()), "a ******** b");

        let Target::MySql(server) = Target::of(
            &spec("MYSQL", "jdbc:mariadb://db.local/x?password=pw3"),
            &Arc::default(),
        )
        .unwrap() else {
            panic!("not mysql")
        };
        assert_eq!(server.user.as_deref(), Some("u"));
        assert_eq!(server.password.as_deref(), Some("s3cret"));
        assert_eq!(server.port, 3306);
        assert_eq!(server.label(), "db.local:3306/x");
        // Both passwords are scrubbed.
        assert_eq!(server.scrub.clean("s3cret pw3".into()), "******** ********");
    }

    #[test]
    fn timeouts_round_up_to_whole_seconds() {
        assert_eq!(whole_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(whole_seconds(Duration::from_secs(3)), 3);
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
    }
}
