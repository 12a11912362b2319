//! Where datasources may not go: internal addresses unless the allow-list opens them,
//! Weir's own database whatever the allow-list says, and SQLite files outside the folder.
//! Refusals come before any connection: they read the same whether a port is open or not,
//! and no message carries what a remote service sent.

use std::collections::BTreeMap;

use weir_bi_catalog::drivers::{ConnectionSpec, DriverError, Drivers};
use weir_bi_catalog::query::{QueryRequest, plan};
use weir_bi_drivers::{Guard, SqlDrivers};
use weir_outbound::testing::Banner;
use weir_outbound_policy::{OutboundPolicy, target};
use weir_test_kit::external;

use crate::common::{closed_port, local_guard, spec};

const POLICY: &str = "is not reached: the outbound policy refuses loopback, private, \
                      link-local and other internal addresses unless the operator opens \
                      them in outbound.allow";

/// Every way the drivers connect: a test, a sync's listings, a query.
fn every_call(d: &SqlDrivers, s: &ConnectionSpec) -> Vec<Result<(), DriverError>> {
    let model = weir_bi_catalog::testing::shop_model("shop");
    let ask = QueryRequest {
        dimensions: vec!["region".into()],
        measures: vec!["credit".into()],
        ..QueryRequest::default()
    };
    let p = plan(&model, &ask, &BTreeMap::new(), 10).unwrap();
    vec![
        d.test(s),
        d.schemas(s).map(|_| ()),
        d.tables(s, "shop").map(|_| ()),
        d.columns(s, "shop", "orders").map(|_| ()),
        d.query(s, &p).map(|_| ()),
    ]
}

fn refused_everywhere(d: &SqlDrivers, s: &ConnectionSpec, message: &str) {
    for result in every_call(d, s) {
        assert_eq!(result, Err(DriverError::Refused(message.to_owned())));
    }
}

#[test]
fn the_default_policy_refuses_this_machine_alike_whether_a_port_is_open() {
    // The open ports are those of this machine's PostgreSQL and MariaDB.
    let (Some(pg), Some(maria)) = (external::postgres(), external::mariadb()) else {
        return;
    };
    let strict = SqlDrivers::new(Guard::new(OutboundPolicy::strict()));
    let closed = closed_port();
    for (driver, scheme, port) in [
        ("POSTGRESQL", "postgresql", pg.port),
        ("POSTGRESQL", "postgresql", closed),
        ("MYSQL", "mysql", maria.port),
        ("MYSQL", "mariadb", closed),
    ] {
        for host in [
            "127.0.0.1",
            "localhost",
            "[::1]",
            "10.0.0.1",
            "169.254.169.254",
        ] {
            let s = spec(
                driver,
                &format!("jdbc:{scheme}://{host}:{port}/postgres"),
                "postgres",
                "",
            );
            refused_everywhere(&strict, &s, &format!("{} {POLICY}", target(host, port)));
        }
    }
}

#[test]
fn weir_own_postgresql_database_is_refused_even_where_the_allow_list_opens_it() {
    // This machine's server, reached by loopback names below.
    let Some(pg) = external::postgres() else {
        return;
    };
    let port = pg.port;
    // Weir keeps its data in the `postgres` database of this machine's server.
    let guard = local_guard()
        .own_database(&format!(
            "postgres://postgres@127.0.0.1:{port}/postgres?sslmode=disable"
        ))
        .unwrap();
    let d = SqlDrivers::new(guard);
    for (host, database) in [
        ("127.0.0.1", "postgres"),
        ("localhost", "postgres"),
        ("127.0.0.2", "postgres"),
        ("[::ffff:127.0.0.1]", "POSTGRES"),
    ] {
        let s = spec(
            "POSTGRESQL",
            &format!("jdbc:postgresql://{host}:{port}/{database}"),
            "postgres",
            "",
        );
        let label = format!("{}/{database}", target(host, port));
        refused_everywhere(
            &d,
            &s,
            &format!("{label} is Weir's own database (database.url), which is never a datasource"),
        );
    }
    // No database named: PostgreSQL takes the user's, which is Weir's here.
    let s = spec(
        "POSTGRESQL",
        &format!("jdbc:postgresql://127.0.0.1:{port}/"),
        "postgres",
        "",
    );
    assert!(matches!(d.test(&s), Err(DriverError::Refused(_))));
    // A MySQL session could read every database of the server: refused whatever it names.
    let s = spec(
        "MYSQL",
        &format!("jdbc:mysql://127.0.0.1:{port}/shop"),
        "root",
        "",
    );
    assert!(matches!(d.test(&s), Err(DriverError::Refused(_))));
    // Another database of the same server is another datasource.
    let s = spec(
        "POSTGRESQL",
        &format!("jdbc:postgresql://127.0.0.1:{port}/template1"),
        "postgres",
        "",
    );
    assert_eq!(d.test(&s), Ok(()));
}

#[test]
fn what_a_service_that_is_no_database_sent_is_never_quoted() {
    let ssh = Banner::start("SSH-2.0-OpenSSH_9.6 secret-banner\r\n");
    let port = ssh.addr().port();
    let d = crate::common::drivers();
    for (driver, scheme) in [("POSTGRESQL", "postgresql"), ("MYSQL", "mysql")] {
        let mut s = spec(
            driver,
            &format!("jdbc:{scheme}://127.0.0.1:{port}/x"),
            "weir",
            "",
        );
        s.timeout = std::time::Duration::from_secs(2);
        let err = d.test(&s).unwrap_err();
        let message = err.to_string();
        assert!(
            !message.contains("secret") && !message.contains("SSH"),
            "{driver}: {message}"
        );
    }
}

#[test]
fn sqlite_files_outside_the_folder_are_refused_alike_whether_they_exist() {
    let d = crate::common::drivers();
    for path in [
        "/etc/hostname",
        "/etc/no-such-file.db",
        "/proc/self/environ",
    ] {
        let s = spec("SQLITE", &format!("jdbc:sqlite:{path}"), "", "");
        refused_everywhere(
            &d,
            &s,
            &format!("SQLite file {path}: no such file inside the folder bi.sqlite_folder opens"),
        );
    }
    let off = SqlDrivers::new(Guard::new(OutboundPolicy::strict()));
    let dir = tempfile::tempdir().unwrap();
    let s = spec(
        "SQLITE",
        &format!("jdbc:sqlite:{}/x.db", dir.path().display()),
        "",
        "",
    );
    refused_everywhere(
        &off,
        &s,
        "SQLite datasources are off: the operator has not set bi.sqlite_folder",
    );
}
