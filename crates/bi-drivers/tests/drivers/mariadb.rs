//! MariaDB (the MYSQL driver type) on 127.0.0.1:3306 (`root`, empty password).

use std::time::{Duration, Instant};

use mysql::prelude::Queryable;
use weir_bi_catalog::drivers::{ConnectionSpec, DriverError, Drivers, FieldType, TableInfo};
use weir_bi_drivers::SqlDrivers;

use crate::common::{
    closed_port, is_stale, message_without, require_service, scratch_name, shapes, spec,
};

const START: &str = "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd";
const PASSWORD: &str = "my-Secret-4jq8";

fn admin() -> mysql::Conn {
    let opts = mysql::OptsBuilder::new()
        .ip_or_hostname(Some("127.0.0.1"))
        .tcp_port(3306)
        .user(Some("root"))
        .prefer_socket(false);
    mysql::Conn::new(opts).expect("MariaDB as root with an empty password")
}

/// The scratch database, dropped when the test ends, even by a panic.
struct Scratch {
    name: String,
}

impl Scratch {
    fn create() -> Self {
        require_service("MariaDB", 3306, START);
        let mut conn = admin();
        let existing: Vec<String> = conn
            .query(r"SHOW DATABASES LIKE 'weir\_drivers\_test\_%'")
            .unwrap();
        for stale in existing.iter().filter(|n| is_stale(n)) {
            let _ = conn.query_drop(format!("DROP DATABASE IF EXISTS `{stale}`"));
        }
        let name = scratch_name();
        conn.query_drop(format!("DROP DATABASE IF EXISTS `{name}`"))
            .unwrap();
        conn.query_drop(format!("CREATE DATABASE `{name}`"))
            .unwrap();
        let scratch = Self { name };
        for statement in [
            "CREATE TABLE orders (id int, amount decimal(10,2), placed_at datetime, note text)",
            "CREATE TABLE customers (
                id bigint PRIMARY KEY,
                name varchar(80) NOT NULL,
                vip tinyint(1),
                born date,
                wakes time,
                seen timestamp NULL,
                score double,
                size enum('s','m','l'),
                photo blob
            )",
            "CREATE VIEW big_orders AS SELECT id, amount FROM orders WHERE amount > 100",
            "CREATE TABLE `odd ``name``` (x int)",
        ] {
            conn.query_drop(format!("USE `{}`", scratch.name)).unwrap();
            conn.query_drop(statement).unwrap();
        }
        scratch
    }

    fn spec(&self) -> ConnectionSpec {
        spec(
            "MARIADB",
            &format!("jdbc:mariadb://127.0.0.1:3306/{}?useSSL=false", self.name),
            "root",
            "",
        )
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Ok(mut conn) = std::panic::catch_unwind(admin) {
            let _ = conn.query_drop(format!("DROP DATABASE IF EXISTS `{}`", self.name));
        }
    }
}

fn table(name: &str, kind: &str) -> TableInfo {
    TableInfo {
        name: name.into(),
        kind: kind.into(),
    }
}

#[test]
fn mariadb_catalog() {
    let scratch = Scratch::create();
    let d = SqlDrivers::new();
    let s = scratch.spec();

    d.test(&s).unwrap();

    let schemas = d.schemas(&s).unwrap();
    assert!(schemas.contains(&scratch.name), "{schemas:?}");
    for system in ["information_schema", "mysql", "performance_schema", "sys"] {
        assert!(!schemas.iter().any(|x| x == system), "{schemas:?}");
    }

    assert_eq!(
        d.tables(&s, &scratch.name).unwrap(),
        vec![
            table("big_orders", "VIEW"),
            table("customers", "TABLE"),
            table("odd `name`", "TABLE"),
            table("orders", "TABLE"),
        ]
    );

    let orders = d.columns(&s, &scratch.name, "orders").unwrap();
    assert_eq!(
        shapes(&orders),
        vec![
            ("id", FieldType::Integer, true),
            ("amount", FieldType::Double, true),
            ("placed_at", FieldType::Datetime, true),
            ("note", FieldType::String, true),
        ]
    );
    assert_eq!(orders[1].native_type, "decimal(10,2)");
    let customers = d.columns(&s, &scratch.name, "customers").unwrap();
    assert_eq!(
        shapes(&customers),
        vec![
            ("id", FieldType::Integer, false),
            ("name", FieldType::String, false),
            ("vip", FieldType::Boolean, true),
            ("born", FieldType::Date, true),
            ("wakes", FieldType::Time, true),
            ("seen", FieldType::Datetime, true),
            ("score", FieldType::Double, true),
            ("size", FieldType::String, true),
            ("photo", FieldType::Other, true),
        ]
    );
    assert_eq!(customers[1].native_type, "varchar(80)");
    assert_eq!(
        shapes(&d.columns(&s, &scratch.name, "odd `name`").unwrap()),
        vec![("x", FieldType::Integer, true)]
    );

    assert_eq!(
        d.tables(&s, "weir_no_such_db"),
        Err(DriverError::Missing("schema weir_no_such_db".into()))
    );
    assert_eq!(
        d.columns(&s, &scratch.name, "nope"),
        Err(DriverError::Missing(format!("table {}.nope", scratch.name)))
    );
    assert_eq!(
        d.columns(&s, "weir_no_such_db", "orders"),
        Err(DriverError::Missing("schema weir_no_such_db".into()))
    );
    assert_eq!(
        d.columns(&s, &scratch.name, "orders' OR '1'='1"),
        Err(DriverError::Missing(format!(
            "table {}.orders' OR '1'='1",
            scratch.name
        )))
    );
}

#[test]
fn a_wrong_password_is_a_connect_error_without_the_password() {
    require_service("MariaDB", 3306, START);
    let s = spec("MYSQL", "jdbc:mysql://127.0.0.1:3306/", "root", PASSWORD);
    let err = SqlDrivers::new().test(&s).unwrap_err();
    let message = message_without(&err, PASSWORD);
    assert!(matches!(err, DriverError::Connect(_)), "{err:?}");
    assert!(message.contains("Access denied"), "{message}");
    assert!(message.contains("127.0.0.1:3306"), "{message}");
}

#[test]
fn an_unreachable_port_is_a_connect_error_without_the_password() {
    let port = closed_port();
    let s = spec(
        "MYSQL",
        &format!("jdbc:mysql://127.0.0.1:{port}/db"),
        "root",
        PASSWORD,
    );
    let err = SqlDrivers::new().schemas(&s).unwrap_err();
    let message = message_without(&err, PASSWORD);
    assert!(matches!(err, DriverError::Connect(_)), "{err:?}");
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
}

#[test]
fn an_unknown_database_is_a_connect_error() {
    require_service("MariaDB", 3306, START);
    let s = spec(
        "MYSQL",
        "jdbc:mysql://127.0.0.1:3306/weir_no_such_db",
        "root",
        "",
    );
    let err = SqlDrivers::new().test(&s).unwrap_err();
    assert!(
        matches!(&err, DriverError::Connect(m) if m.contains("weir_no_such_db")),
        "{err:?}"
    );
}

#[test]
fn a_silent_server_times_out() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let mut s = spec(
        "MYSQL",
        &format!("jdbc:mysql://127.0.0.1:{port}/db"),
        "root",
        PASSWORD,
    );
    s.timeout = Duration::from_millis(700);
    let started = Instant::now();
    assert_eq!(SqlDrivers::new().test(&s), Err(DriverError::Timeout(1)));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn tls_only_urls_are_refused() {
    for url in [
        "jdbc:mysql://127.0.0.1:3306/x?sslMode=REQUIRED",
        "jdbc:mysql://127.0.0.1:3306/x?useSSL=true",
        "jdbc:mariadb://127.0.0.1:3306/x?sslMode=verify-full",
    ] {
        let err = SqlDrivers::new()
            .test(&spec("MYSQL", url, "root", PASSWORD))
            .unwrap_err();
        assert!(
            matches!(&err, DriverError::BadUrl(m) if m.contains("TLS")),
            "{url}: {err:?}"
        );
    }
}

#[test]
fn mariadb_queries_answer_the_expected_rows() {
    let scratch = Scratch::create();
    let mut conn = admin();
    conn.query_drop(format!("USE `{}`", scratch.name)).unwrap();
    for s in [
        "CREATE TABLE q_customers (id bigint, region varchar(20), credit decimal(10,2))".to_string(),
        "CREATE TABLE q_orders (id bigint, customer_id bigint, amount decimal(10,2), status varchar(20))".to_string(),
    ]
    .into_iter()
    .chain(crate::queries::inserts("q_customers", "q_orders"))
    {
        conn.query_drop(s).unwrap();
    }
    crate::queries::check_queries(&scratch.spec(), &scratch.name);
}
