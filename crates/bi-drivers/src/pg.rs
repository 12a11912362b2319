//! PostgreSQL, through `tokio-postgres` without TLS.
//!
//! Each call builds a current-thread runtime, connects, sets `statement_timeout`, runs its
//! statements and closes the connection, all inside one `tokio::time::timeout` of the spec's
//! timeout: a server that accepts the connection and then says nothing cannot hold the
//! caller longer than that. (The synchronous `postgres` crate bounds only the TCP connect.)
//! Each connection goes to the addresses the guard checked (`hostaddr`), never resolving
//! the host's name itself.

use std::error::Error as _;
use std::io;

use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config, NoTls};
use tracing::Instrument;
use weir_bi_catalog::drivers::{ColumnInfo, DriverError, TableInfo};

use crate::types::postgres_field_type;
use crate::{Server, chain, missing_schema, missing_table, whole_seconds};

pub(crate) fn test(server: &Server) -> Result<(), DriverError> {
    run(server, async |client| {
        client.query_one("SELECT 1", &[]).await?;
        Ok(())
    })
}

pub(crate) fn schemas(server: &Server) -> Result<Vec<String>, DriverError> {
    run(server, async |client| {
        let rows = client
            .query(
                "SELECT nspname::text FROM pg_catalog.pg_namespace \
                 WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' \
                 AND has_schema_privilege(oid, 'USAGE') \
                 ORDER BY nspname",
                &[],
            )
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    })
}

pub(crate) fn tables(server: &Server, schema: &str) -> Result<Vec<TableInfo>, DriverError> {
    run(server, async |client| {
        let rows = client
            .query(
                "SELECT table_name::text, table_type::text FROM information_schema.tables \
                 WHERE table_schema::text = $1 AND table_type IN ('BASE TABLE', 'VIEW', 'FOREIGN') \
                 ORDER BY table_name",
                &[&schema],
            )
            .await?;
        if rows.is_empty() && !schema_exists(client, schema).await? {
            return Err(missing_schema(schema).into());
        }
        Ok(rows
            .iter()
            .map(|r| {
                let kind: &str = r.get(1);
                TableInfo {
                    name: r.get(0),
                    kind: if kind == "VIEW" { "VIEW" } else { "TABLE" }.to_owned(),
                }
            })
            .collect())
    })
}

pub(crate) fn columns(
    server: &Server,
    schema: &str,
    table: &str,
) -> Result<Vec<ColumnInfo>, DriverError> {
    run(server, async |client| {
        let rows = client
            .query(
                "SELECT column_name::text, data_type::text, udt_name::text, is_nullable::text \
                 FROM information_schema.columns \
                 WHERE table_schema::text = $1 AND table_name::text = $2 \
                 ORDER BY ordinal_position",
                &[&schema, &table],
            )
            .await?;
        if rows.is_empty() {
            // A table may have no columns at all; tell that from a table that is not there.
            let table_exists: bool = client
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM information_schema.tables \
                     WHERE table_schema::text = $1 AND table_name::text = $2)",
                    &[&schema, &table],
                )
                .await?
                .get(0);
            if !table_exists {
                return Err(if schema_exists(client, schema).await? {
                    missing_table(schema, table)
                } else {
                    missing_schema(schema)
                }
                .into());
            }
        }
        Ok(rows
            .iter()
            .map(|r| {
                let data_type: String = r.get(1);
                let udt_name: String = r.get(2);
                let nullable: &str = r.get(3);
                let native_type = match data_type.as_str() {
                    "USER-DEFINED" => udt_name.clone(),
                    "ARRAY" => format!("{}[]", udt_name.trim_start_matches('_')),
                    _ => data_type.clone(),
                };
                ColumnInfo {
                    name: r.get(0),
                    field_type: postgres_field_type(&data_type, &udt_name),
                    native_type,
                    nullable: nullable == "YES",
                }
            })
            .collect())
    })
}

async fn schema_exists(client: &Client, schema: &str) -> Result<bool, tokio_postgres::Error> {
    Ok(client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname::text = $1)",
            &[&schema],
        )
        .await?
        .get(0))
}

/// Why a unit of work stopped: the server said no, or the driver decided (`Missing`).
enum Fail {
    Pg(tokio_postgres::Error),
    Driver(DriverError),
}

impl From<tokio_postgres::Error> for Fail {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Pg(e)
    }
}

impl From<DriverError> for Fail {
    fn from(e: DriverError) -> Self {
        Self::Driver(e)
    }
}

/// Connects, runs `work` and disconnects, all within the server's timeout.
fn run<T>(
    server: &Server,
    work: impl AsyncFnOnce(&Client) -> Result<T, Fail>,
) -> Result<T, DriverError> {
    // The guard's lookup and the connect, in one span.
    let connecting = server.connect_span();
    let result = connecting.in_scope(|| config(server)).and_then(|config| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                DriverError::Failed(format!("cannot start the PostgreSQL client runtime: {e}"))
            })?;
        let secs = whole_seconds(server.timeout);
        let statement_ms = server.timeout.as_millis().max(1);
        runtime.block_on(async {
            let session = async {
                let (client, connection) = config
                    .connect(NoTls)
                    .instrument(connecting.clone())
                    .await
                    .map_err(|e| connect_error(server, &e))?;
                let connection = tokio::spawn(connection);
                let outcome = async {
                    client
                        .batch_execute(&format!("SET statement_timeout = {statement_ms}"))
                        .await?;
                    work(&client).await
                }
                .await;
                // Dropping the client ends the connection task with a clean Terminate.
                drop(client);
                let _ = connection.await;
                outcome.map_err(|fail| match fail {
                    Fail::Driver(e) => e,
                    Fail::Pg(e) => query_error(server, &e),
                })
            };
            tokio::time::timeout(server.timeout, session)
                .await
                .unwrap_or(Err(DriverError::Timeout(secs)))
        })
    });
    result.map_err(|e| server.scrub.error(e))
}

/// How to open a new connection: to the addresses the guard checked now (each a `host`
/// with its `hostaddr`, tried in order), never resolving the name again.
pub(crate) fn config(server: &Server) -> Result<Config, DriverError> {
    check_tls(server)?;
    let user = server.user.as_deref().ok_or_else(|| {
        DriverError::Connect(format!(
            "PostgreSQL at {}: no user given (set the datasource's user)",
            server.label()
        ))
    })?;
    let mut config = Config::new();
    for addr in server.addresses()? {
        config.host(&server.host).hostaddr(addr.ip());
    }
    config
        .port(server.port)
        .user(user)
        .application_name("weir")
        .ssl_mode(SslMode::Disable)
        .connect_timeout(server.timeout)
        .tcp_user_timeout(server.timeout);
    if let Some(password) = &server.password {
        config.password(password);
    }
    if !server.database.is_empty() {
        config.dbname(&server.database);
    }
    Ok(config)
}

/// TLS is not built in: a URL that requires it is refused rather than quietly downgraded.
fn check_tls(server: &Server) -> Result<(), DriverError> {
    if let Some(mode) = server.param("sslmode") {
        let mode = mode.to_ascii_lowercase();
        return match mode.as_str() {
            "disable" | "allow" | "prefer" => Ok(()),
            _ => Err(DriverError::BadUrl(format!(
                "sslmode={mode} requires TLS, which Weir's PostgreSQL driver does not support; \
                 use sslmode=disable or sslmode=prefer"
            ))),
        };
    }
    match server.param("ssl") {
        Some(ssl) if !ssl.eq_ignore_ascii_case("false") => Err(DriverError::BadUrl(
            "ssl=true requires TLS, which Weir's PostgreSQL driver does not support; \
             remove it or use sslmode=disable"
                .to_owned(),
        )),
        _ => Ok(()),
    }
}

fn user_label(server: &Server) -> String {
    match &server.user {
        Some(user) => format!("PostgreSQL at {} as {user}", server.label()),
        None => format!("PostgreSQL at {}", server.label()),
    }
}

pub(crate) fn connect_error(server: &Server, e: &tokio_postgres::Error) -> DriverError {
    if timed_out(e) {
        return DriverError::Timeout(whole_seconds(server.timeout));
    }
    DriverError::Connect(format!("{}: {}", user_label(server), describe(e)))
}

pub(crate) fn query_error(server: &Server, e: &tokio_postgres::Error) -> DriverError {
    if e.code() == Some(&SqlState::QUERY_CANCELED) || timed_out(e) {
        return DriverError::Timeout(whole_seconds(server.timeout));
    }
    DriverError::Failed(format!("{}: {}", user_label(server), describe(e)))
}

/// The server's own words for database errors (`password authentication failed for user
/// "x"`), the error and its causes otherwise.
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => chain(e),
    }
}

fn timed_out(e: &tokio_postgres::Error) -> bool {
    let mut source = e.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<io::Error>()
            && io.kind() == io::ErrorKind::TimedOut
        {
            return true;
        }
        source = cause.source();
    }
    false
}
