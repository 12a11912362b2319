//! SQLite files, through `rusqlite` on the workspace's bundled `libsqlite3-sys`.
//!
//! The file is opened read-only (`SQLITE_OPEN_READONLY`, the `mode=ro` of SQLite URIs) and
//! never created, at the path the guard resolved and checked (inside `bi.sqlite_folder`,
//! never Weir's own storage), at every opening. Its one schema is `main`. Waiting on another process's lock is bounded by the spec's timeout (the busy
//! timeout).

use rusqlite::{Connection, ErrorCode, OpenFlags};
use weir_bi_catalog::drivers::{ColumnInfo, DriverError, TableInfo};

use crate::types::sqlite_field_type;
use crate::{SqliteFile, missing_schema, missing_table, whole_seconds};

const SCHEMA: &str = "main";

pub(crate) fn test(file: &SqliteFile) -> Result<(), DriverError> {
    // Reading the schema reads the header: a file that is not a database fails here.
    let conn = open(file)?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
        .map_err(|e| failure(file, &e))
}

pub(crate) fn schemas(file: &SqliteFile) -> Result<Vec<String>, DriverError> {
    test(file)?;
    Ok(vec![SCHEMA.to_owned()])
}

pub(crate) fn tables(file: &SqliteFile, schema: &str) -> Result<Vec<TableInfo>, DriverError> {
    let conn = open(file)?;
    check_schema(schema)?;
    let mut statement = conn
        .prepare(
            "SELECT name, type FROM sqlite_master \
             WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             ORDER BY name",
        )
        .map_err(|e| failure(file, &e))?;
    let rows = statement
        .query_map([], |row| {
            let kind: String = row.get(1)?;
            Ok(TableInfo {
                name: row.get(0)?,
                kind: if kind == "view" { "VIEW" } else { "TABLE" }.to_owned(),
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| failure(file, &e))?;
    Ok(rows)
}

pub(crate) fn columns(
    file: &SqliteFile,
    schema: &str,
    table: &str,
) -> Result<Vec<ColumnInfo>, DriverError> {
    let conn = open(file)?;
    check_schema(schema)?;
    let exists: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master \
             WHERE type IN ('table', 'view') AND name = ?1)",
            [table],
            |row| row.get(0),
        )
        .map_err(|e| failure(file, &e))?;
    if !exists {
        return Err(missing_table(SCHEMA, table));
    }
    // The table-valued form of PRAGMA table_info takes the table name as a bound
    // parameter: no identifier is spliced into the SQL.
    let mut statement = conn
        .prepare(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1, 'main') ORDER BY cid",
        )
        .map_err(|e| failure(file, &e))?;
    let columns = statement
        .query_map([table], |row| {
            let declared: String = row.get(1)?;
            let not_null: bool = row.get(2)?;
            let primary_key: i64 = row.get(3)?;
            // An INTEGER PRIMARY KEY is the rowid, never NULL, declared NOT NULL or not.
            let rowid = primary_key > 0 && declared.eq_ignore_ascii_case("INTEGER");
            Ok(ColumnInfo {
                name: row.get(0)?,
                field_type: sqlite_field_type(&declared),
                native_type: declared,
                nullable: !not_null && !rowid,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| failure(file, &e))?;
    Ok(columns)
}

/// SQLite schema names are case-insensitive; attached databases are not offered.
fn check_schema(schema: &str) -> Result<(), DriverError> {
    if schema.eq_ignore_ascii_case(SCHEMA) {
        Ok(())
    } else {
        Err(missing_schema(schema))
    }
}

/// Runs one statement with its parameters; interrupted when it runs past the timeout.
pub(crate) fn run_query<T>(
    file: &SqliteFile,
    sql: &str,
    params: &[rusqlite::types::Value],
    row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, DriverError> {
    let conn = open(file)?;
    let deadline = std::time::Instant::now() + file.timeout;
    // Looked at every 10,000 virtual-machine steps; true interrupts the statement.
    conn.progress_handler(10_000, Some(move || std::time::Instant::now() >= deadline));
    let mut statement = conn.prepare(sql).map_err(|e| failure(file, &e))?;
    statement
        .query_map(rusqlite::params_from_iter(params.iter()), row)
        .and_then(|rows| rows.collect())
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::OperationInterrupted => {
                DriverError::Timeout(whole_seconds(file.timeout))
            }
            e => failure(file, &e),
        })
}

fn open(file: &SqliteFile) -> Result<Connection, DriverError> {
    let path = file.checked()?;
    let shown = &file.shown;
    let _span = crate::connect_span("sqlite", shown).entered();
    if path.is_dir() {
        return Err(DriverError::Connect(format!(
            "SQLite file {shown} is a directory"
        )));
    }
    // No SQLITE_OPEN_CREATE: a file that vanishes meanwhile is an error, not a new database.
    // No SQLITE_OPEN_URI: the path is a path.
    let conn = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| DriverError::Connect(format!("SQLite file {shown}: {e}")))?;
    conn.busy_timeout(file.timeout)
        .map_err(|e| DriverError::Connect(format!("SQLite file {shown}: {e}")))?;
    Ok(conn)
}

fn failure(file: &SqliteFile, e: &rusqlite::Error) -> DriverError {
    let shown = &file.shown;
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            DriverError::Timeout(whole_seconds(file.timeout))
        }
        Some(ErrorCode::NotADatabase | ErrorCode::CannotOpen) => {
            DriverError::Connect(format!("SQLite file {shown}: {e}"))
        }
        _ => DriverError::Failed(format!("SQLite file {shown}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use crate::{Guard, SqliteFile};

    #[test]
    fn file_urls_name_the_file() {
        let file = |raw: &str| SqliteFile::new(raw, Duration::from_secs(1), Guard::default());
        assert_eq!(file("/tmp/a.db").path, Path::new("/tmp/a.db"));
        assert_eq!(file("file:/tmp/a.db?mode=ro").path, Path::new("/tmp/a.db"));
        assert_eq!(file("file:/tmp/a.db?mode=ro").shown, "/tmp/a.db");
        assert_eq!(file("rel.db").path, Path::new("rel.db"));
    }
}
