//! The drivers against the machine's own services: PostgreSQL at
//! `WEIR_TEST_PG_DATASOURCE_URL` (user `postgres`, trust), MariaDB at `WEIR_TEST_MYSQL_URL`
//! (`root`, empty password), both skipped when their variable is unset, and SQLite files
//! in temporary folders. Each server backend gets a scratch database named after the test
//! process, dropped at the end (and, should a run die, by a later run).

// Test code: a panic is how a test fails (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod guard;
mod mariadb;
mod postgres;
mod queries;
mod spans;
mod sqlite;

use std::time::Duration;

use weir_bi_catalog::drivers::{DriverError, Drivers};

use common::spec;

#[test]
fn other_driver_types_are_not_available() {
    let s = spec(
        "ORACLE",
        "jdbc:oracle://127.0.0.1:1521/orcl",
        "scott",
        "tiger-pw",
    );
    for result in [
        common::drivers().test(&s).map(|_| ()),
        common::drivers().schemas(&s).map(|_| ()),
        common::drivers().tables(&s, "x").map(|_| ()),
        common::drivers().columns(&s, "x", "y").map(|_| ()),
    ] {
        assert_eq!(result, Err(DriverError::NotAvailable("ORACLE".into())));
    }
}

#[test]
fn a_url_for_another_driver_is_a_bad_url() {
    let err = common::drivers()
        .test(&spec(
            "POSTGRESQL",
            "jdbc:mysql://127.0.0.1:3306/x",
            "root",
            "pw-secret",
        ))
        .unwrap_err();
    assert_eq!(
        err,
        DriverError::BadUrl(
            "a POSTGRESQL datasource needs a jdbc:postgresql:// URL, not jdbc:mysql:".into()
        )
    );
    let err = common::drivers()
        .schemas(&spec(
            "MARIADB",
            "jdbc:sqlite:/tmp/x.db",
            "root",
            "pw-secret",
        ))
        .unwrap_err();
    assert!(
        matches!(&err, DriverError::BadUrl(m) if m.contains("jdbc:sqlite:")),
        "{err:?}"
    );
}

#[test]
fn a_zero_timeout_does_not_switch_timeouts_off() {
    // A listener that never answers: the connect succeeds (the kernel's backlog), the
    // handshake never does.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let mut s = spec(
        "MYSQL",
        &format!("jdbc:mysql://127.0.0.1:{port}/x"),
        "root",
        "pw-secret",
    );
    s.timeout = Duration::ZERO;
    let started = std::time::Instant::now();
    let err = common::drivers().test(&s).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        matches!(err, DriverError::Timeout(_) | DriverError::Connect(_)),
        "{err:?}"
    );
}
