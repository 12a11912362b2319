//! PostgreSQL at `WEIR_TEST_PG_DATASOURCE_URL` (user `postgres`, trust authentication);
//! without it these tests are skipped.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio_postgres::NoTls;
use weir_bi_catalog::drivers::{
    ColumnInfo, ConnectionSpec, DriverError, Drivers, FieldType, TableInfo,
};
use weir_bi_catalog::query::{QueryRequest, plan};
use weir_bi_catalog::testing::shop_model;
use weir_bi_drivers::SqlDrivers;
use weir_test_kit::external::{self, Address};

use crate::common::{closed_port, is_stale, message_without, scratch_name, shapes, spec};

const PASSWORD: &str = "pg-Secret-9f3k";

const FIXTURE: &str = r#"
    CREATE SCHEMA shop;
    CREATE SCHEMA empty_one;
    CREATE TABLE shop.orders (id int, amount numeric(10,2), placed_at timestamp, note text);
    CREATE TABLE shop.customers (
        id bigint PRIMARY KEY,
        name varchar(80) NOT NULL,
        vip boolean,
        born date,
        wakes time,
        seen timestamptz,
        score double precision,
        small smallint,
        uid uuid,
        tags text[],
        data jsonb
    );
    CREATE VIEW shop.big_orders AS SELECT id, amount FROM shop.orders WHERE amount > 100;
    CREATE TABLE shop."odd ""name""" (x int);
    CREATE TABLE shop.no_columns ();
"#;

/// The server of these tests; each test asks [`Scratch::create`] or [`external::postgres`]
/// first, which skip it when the variable is unset.
fn server() -> Address {
    external::POSTGRES
        .address()
        .expect("WEIR_TEST_PG_DATASOURCE_URL, asked for first")
}

/// The user the tests connect as.
fn user(server: &Address) -> &str {
    server.user.as_deref().unwrap_or("postgres")
}

/// Runs SQL as the server's user on one of its databases.
fn admin(database: &str, sql: &str) -> Result<Vec<String>, tokio_postgres::Error> {
    let server = server();
    let mut config = format!(
        "host={} port={} user={} dbname={database}",
        server.host,
        server.port,
        user(&server)
    );
    if let Some(password) = &server.password {
        config.push_str(&format!(" password={password}"));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&config, NoTls).await?;
        let connection = tokio::spawn(connection);
        let rows = client.simple_query(sql).await;
        drop(client);
        let _ = connection.await;
        Ok(rows?
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
                _ => None,
            })
            .collect())
    })
}

/// The scratch database, dropped when the test ends, even by a panic.
struct Scratch {
    name: String,
}

impl Scratch {
    /// `None` when no server is given (the test is skipped).
    fn create() -> Option<Self> {
        external::postgres()?;
        let existing = admin(
            "postgres",
            r"SELECT datname FROM pg_database WHERE datname LIKE 'weir\_drivers\_test\_%'",
        )
        .unwrap();
        for stale in existing.iter().filter(|n| is_stale(n)) {
            let _ = admin(
                "postgres",
                &format!("DROP DATABASE IF EXISTS \"{stale}\" WITH (FORCE)"),
            );
        }
        let name = scratch_name();
        admin(
            "postgres",
            &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        )
        .unwrap();
        admin("postgres", &format!("CREATE DATABASE \"{name}\"")).unwrap();
        let scratch = Self { name };
        admin(&scratch.name, FIXTURE).unwrap();
        Some(scratch)
    }

    fn spec(&self) -> ConnectionSpec {
        let server = server();
        spec(
            "POSTGRESQL",
            &format!(
                "jdbc:postgresql://{}/{}?sslmode=disable&ApplicationName=x",
                server.host_port(),
                self.name
            ),
            user(&server),
            PASSWORD,
        )
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = admin(
            "postgres",
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        );
    }
}

fn table(name: &str, kind: &str) -> TableInfo {
    TableInfo {
        name: name.into(),
        kind: kind.into(),
    }
}

#[test]
fn postgresql_catalog() {
    let Some(scratch) = Scratch::create() else {
        return;
    };
    let d = crate::common::drivers();
    let s = scratch.spec();

    d.test(&s).unwrap();

    let schemas = d.schemas(&s).unwrap();
    for expected in ["empty_one", "public", "shop"] {
        assert!(schemas.iter().any(|x| x == expected), "{schemas:?}");
    }
    for system in ["pg_catalog", "information_schema", "pg_toast"] {
        assert!(!schemas.iter().any(|x| x == system), "{schemas:?}");
    }
    let mut sorted = schemas.clone();
    sorted.sort();
    assert_eq!(schemas, sorted);

    assert_eq!(
        d.tables(&s, "shop").unwrap(),
        vec![
            table("big_orders", "VIEW"),
            table("customers", "TABLE"),
            table("no_columns", "TABLE"),
            table("odd \"name\"", "TABLE"),
            table("orders", "TABLE"),
        ]
    );
    assert_eq!(d.tables(&s, "empty_one").unwrap(), vec![]);

    let orders = d.columns(&s, "shop", "orders").unwrap();
    assert_eq!(
        orders,
        vec![
            column("id", "integer", FieldType::Integer, true),
            column("amount", "numeric", FieldType::Double, true),
            column(
                "placed_at",
                "timestamp without time zone",
                FieldType::Datetime,
                true
            ),
            column("note", "text", FieldType::String, true),
        ]
    );
    let customers = d.columns(&s, "shop", "customers").unwrap();
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
            ("small", FieldType::Integer, true),
            ("uid", FieldType::String, true),
            ("tags", FieldType::Other, true),
            ("data", FieldType::Other, true),
        ]
    );
    assert_eq!(customers[1].native_type, "character varying");
    assert_eq!(customers[9].native_type, "text[]");
    assert_eq!(customers[10].native_type, "jsonb");

    let view = d.columns(&s, "shop", "big_orders").unwrap();
    assert_eq!(
        view.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["id", "amount"]
    );
    // Identifiers are bound, so any name works, and none is SQL.
    assert_eq!(
        shapes(&d.columns(&s, "shop", "odd \"name\"").unwrap()),
        vec![("x", FieldType::Integer, true)]
    );
    assert_eq!(d.columns(&s, "shop", "no_columns").unwrap(), vec![]);

    assert_eq!(
        d.tables(&s, "nope"),
        Err(DriverError::Missing("schema nope".into()))
    );
    assert_eq!(
        d.tables(&s, "shop' OR '1'='1"),
        Err(DriverError::Missing("schema shop' OR '1'='1".into()))
    );
    assert_eq!(
        d.columns(&s, "shop", "nope"),
        Err(DriverError::Missing("table shop.nope".into()))
    );
    assert_eq!(
        d.columns(&s, "nope", "orders"),
        Err(DriverError::Missing("schema nope".into()))
    );
}

fn column(name: &str, native: &str, field_type: FieldType, nullable: bool) -> ColumnInfo {
    ColumnInfo {
        name: name.into(),
        native_type: native.into(),
        field_type,
        nullable,
    }
}

#[test]
fn an_unreachable_port_is_a_connect_error_without_the_password() {
    let port = closed_port();
    let s = spec(
        "POSTGRESQL",
        &format!("jdbc:postgresql://127.0.0.1:{port}/postgres"),
        "postgres",
        PASSWORD,
    );
    let err = crate::common::drivers().test(&s).unwrap_err();
    let message = message_without(&err, PASSWORD);
    assert!(matches!(err, DriverError::Connect(_)), "{err:?}");
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
    assert!(message.contains("refused"), "{message}");
}

#[test]
fn an_unknown_user_or_database_is_a_connect_error_without_the_password() {
    let Some(server) = external::postgres() else {
        return;
    };
    // Trust authentication accepts any password, so a refused login is an unknown role.
    let s = spec(
        "POSTGRESQL",
        &format!("jdbc:postgresql://{}/postgres", server.host_port()),
        "weir_no_such_role",
        PASSWORD,
    );
    let err = crate::common::drivers().schemas(&s).unwrap_err();
    let message = message_without(&err, PASSWORD);
    assert!(matches!(err, DriverError::Connect(_)), "{err:?}");
    assert!(message.contains("weir_no_such_role"), "{message}");

    // Even a server that echoes the password (here, as a database name) does not leak it.
    let s = spec(
        "POSTGRESQL",
        &format!("jdbc:postgresql://{}/{PASSWORD}", server.host_port()),
        user(&server),
        PASSWORD,
    );
    let err = crate::common::drivers().test(&s).unwrap_err();
    let message = message_without(&err, PASSWORD);
    assert!(matches!(err, DriverError::Connect(_)), "{err:?}");
    assert!(message.contains("does not exist"), "{message}");
}

#[test]
fn a_silent_server_times_out() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let mut s = spec(
        "POSTGRESQL",
        &format!("jdbc:postgresql://127.0.0.1:{port}/postgres"),
        "postgres",
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
        "jdbc:postgresql://127.0.0.1:5432/postgres?sslmode=require",
        "jdbc:postgresql://127.0.0.1:5432/postgres?sslmode=verify-full",
        "jdbc:postgresql://127.0.0.1:5432/postgres?ssl=true",
    ] {
        let err = crate::common::drivers()
            .test(&spec("POSTGRESQL", url, "postgres", PASSWORD))
            .unwrap_err();
        assert!(
            matches!(&err, DriverError::BadUrl(m) if m.contains("TLS")),
            "{url}: {err:?}"
        );
    }
}

#[test]
fn postgresql_queries_answer_the_expected_rows() {
    let Some(scratch) = Scratch::create() else {
        return;
    };
    admin(
        &scratch.name,
        "CREATE SCHEMA q;
         CREATE TABLE q.q_customers (id bigint, region text, credit numeric(10,2));
         CREATE TABLE q.q_orders (id bigint, customer_id bigint, amount numeric(10,2), status varchar(20));",
    )
    .unwrap();
    for s in crate::queries::inserts("q.q_customers", "q.q_orders") {
        admin(&scratch.name, &s).unwrap();
    }
    crate::queries::check_queries(&scratch.spec(), "q");
}

/// The connection a query ran on: `q.q_customers` is a view of one row whose `credit` is
/// `pg_backend_pid()`, read through the shop model's `credit` by `region`.
fn backend_pid(d: &SqlDrivers, spec: &ConnectionSpec) -> Result<u64, DriverError> {
    let request = QueryRequest {
        dimensions: vec!["region".into()],
        measures: vec!["credit".into()],
        ..QueryRequest::default()
    };
    let plan = plan(&shop_model("q"), &request, &BTreeMap::new(), 10).unwrap();
    let rows = d.query(spec, &plan)?.rows;
    assert_eq!(rows.len(), 1, "{rows:?}");
    Ok(rows[0][1].as_f64().expect("a backend pid") as u64)
}

#[test]
fn postgresql_queries_reuse_a_kept_connection_and_survive_its_end() {
    let Some(scratch) = Scratch::create() else {
        return;
    };
    admin(
        &scratch.name,
        "CREATE SCHEMA q;
         CREATE VIEW q.q_customers AS
             SELECT 1::bigint AS id, 'here'::text AS region, pg_backend_pid() AS credit;
         CREATE TABLE q.q_orders (id bigint, customer_id bigint, amount numeric(10,2), status text);",
    )
    .unwrap();
    let s = scratch.spec();
    let d = crate::common::drivers();
    let first = backend_pid(&d, &s).unwrap();
    assert_eq!(backend_pid(&d, &s).unwrap(), first);

    let mut other = s.clone();
    other.timeout = Duration::from_secs(6);
    assert_ne!(backend_pid(&d, &other).unwrap(), first);

    admin(
        "postgres",
        &format!("SELECT pg_terminate_backend({first})::text"),
    )
    .unwrap();
    let second = backend_pid(&d, &s).unwrap();
    assert_ne!(second, first);
    assert_eq!(backend_pid(&d, &s).unwrap(), second);
}
