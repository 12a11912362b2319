//! MySQL and MariaDB, through the pure-Rust `mysql` client without TLS.
//!
//! The TCP connect, every read and every write are bounded by the spec's timeout, and so is
//! each statement on the server (`max_statement_time` on MariaDB, `max_execution_time` on
//! MySQL 5.7.8 and later). Schemas are databases.
//!
//! Tests and listings open a session per call (`run`); queries run on kept sessions
//! (`my_pool`), opened by the same `connect`, which goes to the addresses the guard checked.

use std::error::Error as _;
use std::io;

use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder};
use weir_bi_catalog::drivers::{ColumnInfo, DriverError, TableInfo};

use crate::types::mysql_field_type;
use crate::{Server, missing_schema, missing_table, whole_seconds};

/// The server's own databases, not listed as schemas.
const SYSTEM_SCHEMAS: &str = "'information_schema', 'mysql', 'performance_schema', 'sys'";

/// MariaDB's `ER_STATEMENT_TIMEOUT` and MySQL's `ER_QUERY_TIMEOUT`.
const STATEMENT_TIMEOUT_CODES: [u16; 2] = [1969, 3024];
/// `ER_UNKNOWN_SYSTEM_VARIABLE`: the other server's timeout variable.
const UNKNOWN_VARIABLE: u16 = 1193;

pub(crate) fn test(server: &Server) -> Result<(), DriverError> {
    run(server, |conn| {
        conn.query_drop("SELECT 1")?;
        Ok(())
    })
}

pub(crate) fn schemas(server: &Server) -> Result<Vec<String>, DriverError> {
    run(server, |conn| {
        Ok(conn.query(format!(
            "SELECT schema_name FROM information_schema.schemata \
             WHERE schema_name NOT IN ({SYSTEM_SCHEMAS}) ORDER BY schema_name"
        ))?)
    })
}

pub(crate) fn tables(server: &Server, schema: &str) -> Result<Vec<TableInfo>, DriverError> {
    run(server, |conn| {
        let rows: Vec<(String, String)> = conn.exec(
            "SELECT table_name, table_type FROM information_schema.tables \
             WHERE table_schema = ? \
             AND table_type IN ('BASE TABLE', 'SYSTEM VERSIONED', 'VIEW', 'SYSTEM VIEW') \
             ORDER BY table_name",
            (schema,),
        )?;
        if rows.is_empty() && !schema_exists(conn, schema)? {
            return Err(missing_schema(schema).into());
        }
        Ok(rows
            .into_iter()
            .map(|(name, kind)| TableInfo {
                name,
                kind: if kind.ends_with("VIEW") {
                    "VIEW"
                } else {
                    "TABLE"
                }
                .to_owned(),
            })
            .collect())
    })
}

pub(crate) fn columns(
    server: &Server,
    schema: &str,
    table: &str,
) -> Result<Vec<ColumnInfo>, DriverError> {
    run(server, |conn| {
        let rows: Vec<(String, Option<String>, Option<String>, String)> = conn.exec(
            "SELECT column_name, data_type, column_type, is_nullable \
             FROM information_schema.columns \
             WHERE table_schema = ? AND table_name = ? \
             ORDER BY ordinal_position",
            (schema, table),
        )?;
        // MySQL tables always have a column: none means no such table (or no right to it).
        if rows.is_empty() {
            return Err(if schema_exists(conn, schema)? {
                missing_table(schema, table)
            } else {
                missing_schema(schema)
            }
            .into());
        }
        Ok(rows
            .into_iter()
            .map(|(name, data_type, column_type, nullable)| {
                let data_type = data_type.unwrap_or_default();
                let native_type = column_type.unwrap_or_else(|| data_type.clone());
                ColumnInfo {
                    name,
                    field_type: mysql_field_type(&data_type, &native_type),
                    native_type,
                    nullable: nullable.eq_ignore_ascii_case("YES"),
                }
            })
            .collect())
    })
}

fn schema_exists(conn: &mut Conn, schema: &str) -> Result<bool, mysql::Error> {
    let found: Option<u64> = conn.exec_first(
        "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?",
        (schema,),
    )?;
    Ok(found.unwrap_or(0) > 0)
}

/// Why a unit of work stopped: the server said no, or the driver decided (`Missing`).
enum Fail {
    My(mysql::Error),
    Driver(DriverError),
}

impl From<mysql::Error> for Fail {
    fn from(e: mysql::Error) -> Self {
        Self::My(e)
    }
}

impl From<DriverError> for Fail {
    fn from(e: DriverError) -> Self {
        Self::Driver(e)
    }
}

/// Connects, runs `work`; the connection closes on drop.
fn run<T>(
    server: &Server,
    work: impl FnOnce(&mut Conn) -> Result<T, Fail>,
) -> Result<T, DriverError> {
    let result = connect(server).and_then(|mut conn| {
        work(&mut conn).map_err(|fail| match fail {
            Fail::Driver(e) => e,
            Fail::My(e) => query_error(server, &e),
        })
    });
    result.map_err(|e| server.scrub.error(e))
}

/// A new session, its statements bounded (messages not yet scrubbed of the password), at
/// the first of the addresses the guard checked now that takes the connection; the host's
/// name is never resolved again. A server that answers (even to refuse the login) ends the
/// search.
pub(crate) fn connect(server: &Server) -> Result<Conn, DriverError> {
    check_tls(server)?;
    let _span = server.connect_span().entered();
    let mut last = None;
    for addr in server.addresses()? {
        match Conn::new(options(server, addr.ip())) {
            Ok(mut conn) => {
                limit_statements(server, &mut conn).map_err(|e| query_error(server, &e))?;
                return Ok(conn);
            }
            Err(e @ mysql::Error::MySqlError(_)) => return Err(connect_error(server, &e)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.map_or_else(
        || DriverError::Connect(format!("{}: no address", user_label(server))),
        |e| connect_error(server, &e),
    ))
}

fn options(server: &Server, ip: std::net::IpAddr) -> Opts {
    let database = Some(server.database.clone()).filter(|d| !d.is_empty());
    OptsBuilder::new()
        .ip_or_hostname(Some(ip.to_string()))
        .tcp_port(server.port)
        .user(server.user.clone())
        .pass(server.password.clone())
        .db_name(database)
        // Stay on the TCP connection asked for, even to localhost.
        .prefer_socket(false)
        .tcp_connect_timeout(Some(server.timeout))
        .read_timeout(Some(server.timeout))
        .write_timeout(Some(server.timeout))
        .into()
}

/// Sets the server-side statement timeout: MariaDB's variable first, then MySQL's. Servers
/// with neither (MySQL before 5.7.8) rely on the read timeout alone.
fn limit_statements(server: &Server, conn: &mut Conn) -> Result<(), mysql::Error> {
    let secs = server.timeout.as_secs_f64();
    match conn.query_drop(format!("SET SESSION max_statement_time = {secs:.3}")) {
        Err(mysql::Error::MySqlError(e)) if e.code == UNKNOWN_VARIABLE => {
            let ms = server.timeout.as_millis().max(1);
            match conn.query_drop(format!("SET SESSION max_execution_time = {ms}")) {
                Err(mysql::Error::MySqlError(e)) if e.code == UNKNOWN_VARIABLE => Ok(()),
                other => other,
            }
        }
        other => other,
    }
}

/// TLS is not built in: a URL that requires it is refused rather than quietly downgraded.
pub(crate) fn check_tls(server: &Server) -> Result<(), DriverError> {
    let refuse = |asked: String| {
        Err(DriverError::BadUrl(format!(
            "{asked} requires TLS, which Weir's MySQL/MariaDB driver does not support; \
             use sslMode=DISABLED (or useSSL=false)"
        )))
    };
    if let Some(mode) = server.param("sslMode") {
        match mode.to_ascii_lowercase().as_str() {
            "disabled" | "disable" | "preferred" => {}
            _ => return refuse(format!("sslMode={mode}")),
        }
    }
    for flag in ["useSSL", "requireSSL"] {
        if let Some(value) = server.param(flag)
            && !value.eq_ignore_ascii_case("false")
        {
            return refuse(format!("{flag}={value}"));
        }
    }
    Ok(())
}

fn user_label(server: &Server) -> String {
    match &server.user {
        Some(user) => format!("MySQL at {} as {user}", server.label()),
        None => format!("MySQL at {}", server.label()),
    }
}

fn connect_error(server: &Server, e: &mysql::Error) -> DriverError {
    if timed_out(e) {
        return DriverError::Timeout(whole_seconds(server.timeout));
    }
    DriverError::Connect(format!("{}: {}", user_label(server), describe(e)))
}

pub(crate) fn query_error(server: &Server, e: &mysql::Error) -> DriverError {
    let cancelled =
        matches!(e, mysql::Error::MySqlError(m) if STATEMENT_TIMEOUT_CODES.contains(&m.code));
    if cancelled || timed_out(e) {
        return DriverError::Timeout(whole_seconds(server.timeout));
    }
    DriverError::Failed(format!("{}: {}", user_label(server), describe(e)))
}

/// The error without the crate's `IoError { .. }` wrapping.
fn describe(e: &mysql::Error) -> String {
    match e {
        mysql::Error::IoError(io) => io.to_string(),
        mysql::Error::MySqlError(my) => my.to_string(),
        mysql::Error::DriverError(driver) => driver.to_string(),
        mysql::Error::CodecError(codec) => match codec.source() {
            Some(io) => io.to_string(),
            None => format!("protocol error: {codec}"),
        },
        other => other.to_string(),
    }
}

/// A socket timeout (`WouldBlock` is how Linux reports an expired read timeout), directly
/// or under the packet codec, or the driver's own connect timeout.
pub(crate) fn timed_out(e: &mysql::Error) -> bool {
    let slow = |io: &io::Error| {
        matches!(
            io.kind(),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
        )
    };
    match e {
        mysql::Error::IoError(io) => slow(io),
        mysql::Error::CodecError(codec) => codec
            .source()
            .and_then(|s| s.downcast_ref::<io::Error>())
            .is_some_and(slow),
        mysql::Error::DriverError(
            mysql::DriverError::ConnectTimeout | mysql::DriverError::Timeout,
        ) => true,
        mysql::Error::DriverError(mysql::DriverError::CouldNotConnect(Some((_, _, kind)))) => {
            matches!(kind, io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock)
        }
        _ => false,
    }
}
