//! The port to the datasources themselves: connect, list what is there, and (later) run
//! queries. An adapter crate implements it for PostgreSQL, MySQL/MariaDB and SQLite. Every
//! method is blocking and bounded by `ConnectionSpec::timeout`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::jdbc::{DriverType, JdbcUrl};
use crate::query::Plan;

/// How to reach a datasource, with its password in clear (only ever in memory).
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionSpec {
    /// Which driver to use.
    pub driver: DriverType,
    /// Where the datasource is, its URL parsed.
    pub url: JdbcUrl,
    /// The user to connect as; `None` when the datasource has none (SQLite).
    pub user: Option<String>,
    /// The password in clear, opened from its sealed form; `None` when none is stored.
    pub password: Option<String>,
    /// For connecting and for each statement.
    pub timeout: Duration,
}

impl std::fmt::Debug for ConnectionSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionSpec")
            .field("driver", &self.driver)
            .field("url", &self.url)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "********"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A table or view of a schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableInfo {
    /// The table's name in the schema.
    pub name: String,
    /// `TABLE` or `VIEW`.
    pub kind: String,
}

/// The kind of values a column holds, as the catalog types fields (`valueType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FieldType {
    /// Text.
    String,
    /// Any integer type.
    Integer,
    /// Any non-integer number (float, double, decimal).
    Double,
    /// True or false.
    Boolean,
    /// A date without a time.
    Date,
    /// A date and a time (`timestamp`, `datetime`).
    Datetime,
    /// A time of day.
    Time,
    /// Anything else (binary, JSON, arrays...).
    Other,
}

/// A column of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnInfo {
    /// The column's name in the table.
    pub name: String,
    /// The database's own type name (`character varying`, `int(11)`...).
    pub native_type: String,
    /// The kind of values, read from the native type.
    pub field_type: FieldType,
    /// Whether the column may hold `NULL`.
    pub nullable: bool,
}

/// Why a driver could not do what was asked. Messages never contain the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriverError {
    /// A `driverType` Weir stores but cannot connect to.
    #[error(
        "driver not available: Weir connects to POSTGRESQL, MYSQL (and MariaDB) and SQLITE datasources, not {0}"
    )]
    NotAvailable(String),
    /// The URL does not fit the driver type (`jdbc:mysql:` for a POSTGRESQL datasource).
    #[error("url: {0}")]
    BadUrl(String),
    /// Weir could not connect or log in (unreachable host, refused login, unreadable SQLite
    /// file); the text says why.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// Weir does not go there: the outbound policy refuses the address, an SQLite file is
    /// outside `bi.sqlite_folder`, or it is Weir's own storage. The message names the rule
    /// and its setting, and reads the same whether anything is there.
    #[error("{0}")]
    Refused(String),
    /// The schema or table does not exist.
    #[error("{0} not found in the datasource")]
    Missing(String),
    /// The datasource answered an error to a statement; the text is its message.
    #[error("the datasource failed: {0}")]
    Failed(String),
    /// Connecting or a statement outlasted the spec's timeout, given here in whole seconds.
    #[error("the datasource did not answer within {0} s")]
    Timeout(u64),
}

/// A rendered statement and the values bound to its placeholders: what a dry run answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// The statement in the datasource's dialect, with placeholders for the values.
    pub sql: String,
    /// The values bound to the placeholders, in order.
    pub params: Vec<serde_json::Value>,
}

/// The rows a query answered: one value per column, the plan's dimensions then its
/// measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rows {
    /// The output names: the plan's dimensions, then its measures.
    pub columns: Vec<String>,
    /// The rows, each one value per column, in the order of `columns`.
    pub rows: Vec<Vec<serde_json::Value>>,
}

/// Reaches datasources.
pub trait Drivers: Send + Sync {
    /// Opens a connection and runs a trivial statement.
    fn test(&self, spec: &ConnectionSpec) -> Result<(), DriverError>;
    /// The schemas (PostgreSQL schemas, MySQL databases, `main` for SQLite).
    fn schemas(&self, spec: &ConnectionSpec) -> Result<Vec<String>, DriverError>;
    /// The tables and views of a schema, by name.
    fn tables(&self, spec: &ConnectionSpec, schema: &str) -> Result<Vec<TableInfo>, DriverError>;
    /// The columns of a table, in their order.
    fn columns(
        &self,
        spec: &ConnectionSpec,
        schema: &str,
        table: &str,
    ) -> Result<Vec<ColumnInfo>, DriverError>;
    /// The statement a query plan becomes in the datasource's dialect, without running it.
    fn statement(&self, spec: &ConnectionSpec, plan: &Plan) -> Result<Statement, DriverError>;
    /// Runs a query plan (its limit is in the statement; the spec's timeout bounds it).
    fn query(&self, spec: &ConnectionSpec, plan: &Plan) -> Result<Rows, DriverError>;
}
