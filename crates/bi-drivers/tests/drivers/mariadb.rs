//! MariaDB (the MYSQL driver type) at `WEIR_TEST_MYSQL_URL` (`root`, empty password),
//! reached from 127.0.0.1 (the scratch users are `...@'127.0.0.1'`); without it these
//! tests are skipped.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mysql::prelude::Queryable;
use weir_bi_catalog::drivers::{ConnectionSpec, DriverError, Drivers, FieldType, TableInfo};
use weir_bi_catalog::query::{QueryRequest, plan};
use weir_bi_catalog::testing::shop_model;
use weir_bi_drivers::SqlDrivers;
use weir_test_kit::external::{self, Address};

use crate::common::{closed_port, is_stale, message_without, scratch_name, shapes, spec};

const PASSWORD: &str = "my-Secret-4jq8";

/// The server of these tests; each test asks [`Scratch::create`] or [`external::mariadb`]
/// first, which skip it when the variable is unset.
fn server() -> Address {
    external::MARIADB
        .address()
        .expect("WEIR_TEST_MYSQL_URL, asked for first")
}

/// The user the tests connect as.
fn user(server: &Address) -> &str {
    server.user.as_deref().unwrap_or("root")
}

fn admin() -> mysql::Conn {
    let server = server();
    let opts = mysql::OptsBuilder::new()
        .ip_or_hostname(Some(server.host.clone()))
        .tcp_port(server.port)
        .user(Some(user(&server)))
        .pass(server.password.clone())
        .prefer_socket(false);
    mysql::Conn::new(opts).expect("MariaDB at WEIR_TEST_MYSQL_URL")
}

/// The scratch database, dropped when the test ends, even by a panic.
struct Scratch {
    name: String,
}

impl Scratch {
    /// `None` when no server is given (the test is skipped).
    fn create() -> Option<Self> {
        external::mariadb()?;
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
        Some(scratch)
    }

    fn spec(&self) -> ConnectionSpec {
        let server = server();
        spec(
            "MARIADB",
            &format!(
                "jdbc:mariadb://{}/{}?useSSL=false",
                server.host_port(),
                self.name
            ),
            user(&server),
            server.password.as_deref().unwrap_or_default(),
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
    let Some(scratch) = Scratch::create() else {
        return;
    };
    let d = crate::common::drivers();
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
    let Some(server) = external::mariadb() else {
        return;
    };
    let url = format!("jdbc:mysql://{}/", server.host_port());
    let s = spec("MYSQL", &url, user(&server), PASSWORD);
    let err = crate::common::drivers().test(&s).unwrap_err();
    let message = message_without(&err, PASSWORD);
    assert!(matches!(err, DriverError::Connect(_)), "{err:?}");
    assert!(message.contains("Access denied"), "{message}");
    assert!(message.contains(&server.host_port()), "{message}");
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
    let err = crate::common::drivers().schemas(&s).unwrap_err();
    let message = message_without(&err, PASSWORD);
    assert!(matches!(err, DriverError::Connect(_)), "{err:?}");
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
}

#[test]
fn an_unknown_database_is_a_connect_error() {
    let Some(server) = external::mariadb() else {
        return;
    };
    let s = spec(
        "MYSQL",
        &format!("jdbc:mysql://{}/weir_no_such_db", server.host_port()),
        user(&server),
        server.password.as_deref().unwrap_or_default(),
    );
    let err = crate::common::drivers().test(&s).unwrap_err();
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
    assert_eq!(
        crate::common::drivers().test(&s),
        Err(DriverError::Timeout(1))
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn tls_only_urls_are_refused() {
    for url in [
        "jdbc:mysql://127.0.0.1:3306/x?sslMode=REQUIRED",
        "jdbc:mysql://127.0.0.1:3306/x?useSSL=true",
        "jdbc:mariadb://127.0.0.1:3306/x?sslMode=verify-full",
    ] {
        let err = crate::common::drivers()
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
    let Some(scratch) = Scratch::create() else {
        return;
    };
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

/// Makes the shop model's `credit` by `region` answer the id of the connection that runs
/// it: `q_customers` is a view of one row whose `credit` is `CONNECTION_ID()`. So the kept
/// connections are seen through the query path itself.
fn connection_view(db: &str) {
    let mut conn = admin();
    conn.query_drop(format!(
        "CREATE VIEW `{db}`.q_customers AS \
         SELECT 1 AS id, 'here' AS region, CONNECTION_ID() AS credit"
    ))
    .unwrap();
    conn.query_drop(format!(
        "CREATE TABLE `{db}`.q_orders \
         (id bigint, customer_id bigint, amount decimal(10,2), status varchar(20))"
    ))
    .unwrap();
}

/// The connection a query ran on (see [`connection_view`]).
fn connection_id(d: &SqlDrivers, spec: &ConnectionSpec, schema: &str) -> Result<u64, DriverError> {
    let request = QueryRequest {
        dimensions: vec!["region".into()],
        measures: vec!["credit".into()],
        ..QueryRequest::default()
    };
    let plan = plan(&shop_model(schema), &request, &BTreeMap::new(), 10).unwrap();
    let rows = d.query(spec, &plan)?.rows;
    assert_eq!(rows.len(), 1, "{rows:?}");
    Ok(rows[0][1].as_f64().expect("a connection id") as u64)
}

/// Connections to a database, from the server's process list, once it shows `expected`
/// (a closed connection leaves the list soon after, not at once) or after 5 seconds.
fn sessions_on(db: &str, expected: u64) -> u64 {
    let mut conn = admin();
    let started = Instant::now();
    loop {
        let n: u64 = conn
            .exec_first(
                "SELECT COUNT(*) FROM information_schema.processlist WHERE db = ?",
                (db,),
            )
            .unwrap()
            .unwrap();
        if n == expected || started.elapsed() > Duration::from_secs(5) {
            return n;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn mariadb_queries_reuse_a_kept_connection() {
    let Some(scratch) = Scratch::create() else {
        return;
    };
    connection_view(&scratch.name);
    let s = scratch.spec();
    let d = crate::common::drivers();

    let first = connection_id(&d, &s, &scratch.name).unwrap();
    assert_eq!(connection_id(&d, &s, &scratch.name).unwrap(), first);
    // A clone shares the kept connections.
    assert_eq!(connection_id(&d.clone(), &s, &scratch.name).unwrap(), first);
    assert_eq!(sessions_on(&scratch.name, 1), 1);

    // A statement the server refuses leaves the session usable: it is kept.
    let missing = plan(
        &shop_model("weir_no_such_db"),
        &QueryRequest {
            dimensions: vec!["region".into()],
            ..QueryRequest::default()
        },
        &BTreeMap::new(),
        10,
    )
    .unwrap();
    let err = d.query(&s, &missing).unwrap_err();
    assert!(
        matches!(&err, DriverError::Failed(m) if m.contains("weir_no_such_db")),
        "{err:?}"
    );
    assert_eq!(connection_id(&d, &s, &scratch.name).unwrap(), first);

    // Connection tests open their own, and close it.
    d.test(&s).unwrap();
    assert_eq!(sessions_on(&scratch.name, 1), 1);

    // Without kept connections, each query has its own.
    let each = SqlDrivers::keeping(0, crate::common::local_guard());
    let one = connection_id(&each, &s, &scratch.name).unwrap();
    let two = connection_id(&each, &s, &scratch.name).unwrap();
    assert!(
        one != two && one != first && two != first,
        "{one} {two} {first}"
    );
    drop(d);
    assert_eq!(sessions_on(&scratch.name, 0), 0);
}

/// A user of the scratch database with a password, dropped when the test ends.
struct ScratchUser {
    name: String,
}

impl ScratchUser {
    fn create(db: &str, password: &str) -> Self {
        let mut conn = admin();
        let existing: Vec<String> = conn
            .query(r"SELECT user FROM mysql.user WHERE user LIKE 'weir\_drivers\_test\_%'")
            .unwrap();
        for stale in existing.iter().filter(|n| is_stale(n)) {
            let _ = conn.query_drop(format!("DROP USER IF EXISTS `{stale}`@'127.0.0.1'"));
        }
        let name = scratch_name();
        // Statements on users take no placeholders; the test's passwords have no quotes.
        conn.query_drop(format!(
            "CREATE USER `{name}`@'127.0.0.1' IDENTIFIED BY '{password}'"
        ))
        .unwrap();
        conn.query_drop(format!("GRANT SELECT ON `{db}`.* TO `{name}`@'127.0.0.1'"))
            .unwrap();
        Self { name }
    }

    fn set_password(&self, password: &str) {
        admin()
            .query_drop(format!(
                "ALTER USER `{}`@'127.0.0.1' IDENTIFIED BY '{password}'",
                self.name
            ))
            .unwrap();
    }
}

impl Drop for ScratchUser {
    fn drop(&mut self) {
        if let Ok(mut conn) = std::panic::catch_unwind(admin) {
            let _ = conn.query_drop(format!("DROP USER IF EXISTS `{}`@'127.0.0.1'", self.name));
        }
    }
}

#[test]
fn a_changed_database_or_password_gets_another_connection() {
    let (Some(a), Some(b)) = (Scratch::create(), Scratch::create()) else {
        return;
    };
    connection_view(&a.name);
    connection_view(&b.name);
    let d = crate::common::drivers();

    let on_a = connection_id(&d, &a.spec(), &a.name).unwrap();
    let on_b = connection_id(&d, &b.spec(), &b.name).unwrap();
    assert_ne!(on_a, on_b);
    assert_eq!(connection_id(&d, &a.spec(), &a.name).unwrap(), on_a);
    assert_eq!(connection_id(&d, &b.spec(), &b.name).unwrap(), on_b);

    let first_password = "pw-One-7xk2";
    let user = ScratchUser::create(&a.name, first_password);
    let url = format!("jdbc:mariadb://{}/{}", server().host_port(), a.name);
    let as_user = |password: &str| spec("MARIADB", &url, &user.name, password);
    let first = connection_id(&d, &as_user(first_password), &a.name).unwrap();
    assert_ne!(first, on_a);
    assert_eq!(
        connection_id(&d, &as_user(first_password), &a.name).unwrap(),
        first
    );
    // A wrong password is never answered from a connection kept for the right one.
    let err = connection_id(&d, &as_user(PASSWORD), &a.name).unwrap_err();
    let message = message_without(&err, PASSWORD);
    assert!(matches!(err, DriverError::Connect(_)), "{err:?}");
    assert!(message.contains("Access denied"), "{message}");

    let second_password = "pw-Two-9mq3";
    user.set_password(second_password);
    let second = connection_id(&d, &as_user(second_password), &a.name).unwrap();
    assert_ne!(second, first);
    assert_eq!(
        connection_id(&d, &as_user(second_password), &a.name).unwrap(),
        second
    );

    // A changed timeout is another datasource too.
    let mut slower = a.spec();
    slower.timeout = Duration::from_secs(6);
    assert_ne!(connection_id(&d, &slower, &a.name).unwrap(), on_a);
}

#[test]
fn a_killed_kept_connection_does_not_fail_the_next_query() {
    let Some(scratch) = Scratch::create() else {
        return;
    };
    connection_view(&scratch.name);
    let s = scratch.spec();
    let d = crate::common::drivers();
    let first = connection_id(&d, &s, &scratch.name).unwrap();

    let mut conn = admin();
    conn.query_drop(format!("KILL {first}")).unwrap();
    // Wait until the server has closed it, so that the query meets a closed connection.
    let started = Instant::now();
    while conn
        .exec_first::<u64, _, _>(
            "SELECT id FROM information_schema.processlist WHERE id = ?",
            (first,),
        )
        .unwrap()
        .is_some()
    {
        assert!(started.elapsed() < Duration::from_secs(5), "KILL {first}");
        std::thread::sleep(Duration::from_millis(10));
    }

    let second = connection_id(&d, &s, &scratch.name).unwrap();
    assert_ne!(second, first);
    // The fresh connection is kept in its place.
    assert_eq!(connection_id(&d, &s, &scratch.name).unwrap(), second);
    assert_eq!(sessions_on(&scratch.name, 1), 1);

    // Killed just before the query, the server maybe not done closing it: the same.
    conn.query_drop(format!("KILL {second}")).unwrap();
    let third = connection_id(&d, &s, &scratch.name).unwrap();
    assert!(
        third != second && third != first,
        "{first} {second} {third}"
    );
}
