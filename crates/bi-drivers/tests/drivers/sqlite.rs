//! SQLite files in temporary folders.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use weir_bi_catalog::drivers::{ConnectionSpec, DriverError, Drivers, FieldType, TableInfo};

use crate::common::{message_without, shapes, spec};

fn sqlite_spec(path: &Path) -> ConnectionSpec {
    spec("SQLITE", &format!("jdbc:sqlite:{}", path.display()), "", "")
}

fn shop(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("shop.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        r#"
        CREATE TABLE orders (id int, amount numeric(10,2), placed_at timestamp, note text);
        CREATE TABLE customers (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name VARCHAR(80) NOT NULL,
            vip BOOLEAN,
            born DATE,
            seen DATETIME,
            wakes TIME,
            score REAL,
            photo BLOB,
            anything
        );
        CREATE VIEW big_orders AS SELECT id, amount FROM orders WHERE amount > 100;
        CREATE TABLE "odd ""name""" (x bigint);
        INSERT INTO customers (name) VALUES ('a');
        "#,
    )
    .unwrap();
    path
}

fn table(name: &str, kind: &str) -> TableInfo {
    TableInfo {
        name: name.into(),
        kind: kind.into(),
    }
}

#[test]
fn sqlite_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let path = shop(dir.path());
    let d = crate::common::drivers();
    let s = sqlite_spec(&path);

    d.test(&s).unwrap();
    assert_eq!(d.schemas(&s).unwrap(), vec!["main".to_owned()]);
    // sqlite_sequence (from AUTOINCREMENT) is SQLite's own.
    assert_eq!(
        d.tables(&s, "main").unwrap(),
        vec![
            table("big_orders", "VIEW"),
            table("customers", "TABLE"),
            table("odd \"name\"", "TABLE"),
            table("orders", "TABLE"),
        ]
    );
    assert_eq!(
        shapes(&d.columns(&s, "main", "orders").unwrap()),
        vec![
            ("id", FieldType::Integer, true),
            ("amount", FieldType::Double, true),
            ("placed_at", FieldType::Datetime, true),
            ("note", FieldType::String, true),
        ]
    );
    let customers = d.columns(&s, "main", "customers").unwrap();
    assert_eq!(
        shapes(&customers),
        vec![
            ("id", FieldType::Integer, false),
            ("name", FieldType::String, false),
            ("vip", FieldType::Boolean, true),
            ("born", FieldType::Date, true),
            ("seen", FieldType::Datetime, true),
            ("wakes", FieldType::Time, true),
            ("score", FieldType::Double, true),
            ("photo", FieldType::Other, true),
            ("anything", FieldType::Other, true),
        ]
    );
    assert_eq!(customers[1].native_type, "VARCHAR(80)");
    assert_eq!(
        shapes(&d.columns(&s, "main", "odd \"name\"").unwrap()),
        vec![("x", FieldType::Integer, true)]
    );
    assert_eq!(
        d.columns(&s, "main", "big_orders")
            .unwrap()
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["id", "amount"]
    );

    assert_eq!(
        d.tables(&s, "other"),
        Err(DriverError::Missing("schema other".into()))
    );
    assert_eq!(
        d.columns(&s, "main", "nope"),
        Err(DriverError::Missing("table main.nope".into()))
    );
    assert_eq!(
        d.columns(&s, "main", "sqlite_master"),
        Err(DriverError::Missing("table main.sqlite_master".into()))
    );
    assert_eq!(
        d.columns(&s, "other", "orders"),
        Err(DriverError::Missing("schema other".into()))
    );
}

#[test]
fn a_missing_file_is_refused_naming_it_and_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.db");
    let err = crate::common::drivers()
        .test(&sqlite_spec(&path))
        .unwrap_err();
    // The words of a file outside the folder: a refusal does not tell which files exist.
    assert_eq!(
        err,
        DriverError::Refused(format!(
            "SQLite file {}: no such file inside the folder bi.sqlite_folder opens",
            path.display()
        ))
    );
    assert!(!path.exists());
}

#[test]
fn a_file_that_is_not_a_database_is_a_connect_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    std::fs::write(&path, "this is not a database, just some text ".repeat(50)).unwrap();
    let err = crate::common::drivers()
        .schemas(&sqlite_spec(&path))
        .unwrap_err();
    let message = message_without(&err, "text ");
    assert!(matches!(err, DriverError::Connect(_)), "{err:?}");
    assert!(message.contains("notes.db"), "{message}");
}

#[test]
fn the_file_is_opened_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = shop(dir.path());
    let before = std::fs::read(&path).unwrap();
    let d = crate::common::drivers();
    let s = sqlite_spec(&path);
    d.tables(&s, "main").unwrap();
    d.columns(&s, "main", "orders").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_locked_file_times_out_on_the_busy_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let path = shop(dir.path());
    // In rollback-journal mode an EXCLUSIVE lock keeps readers out.
    let writer = Connection::open(&path).unwrap();
    writer.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let mut s = sqlite_spec(&path);
    s.timeout = Duration::from_millis(300);
    let started = Instant::now();
    assert_eq!(
        crate::common::drivers().tables(&s, "main"),
        Err(DriverError::Timeout(1))
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    writer.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn sqlite_queries_answer_the_expected_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE q_customers (id integer, region text, credit real);
         CREATE TABLE q_orders (id integer, customer_id integer, amount real, status text);",
    )
    .unwrap();
    for s in crate::queries::inserts("q_customers", "q_orders") {
        conn.execute_batch(&s).unwrap();
    }
    drop(conn);
    crate::queries::check_queries(&sqlite_spec(&path), "main");
}
