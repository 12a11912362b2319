//! A data model query against the same SQL written by hand, on the local PostgreSQL, in one
//! run: two tables (10,000 customers, 1,000,000 orders), sales by region and status with a
//! row permission (two regions of four) on the customers.
//!
//! - Weir: `Drivers::query` on the planned query: the plan rendered to SQL, a connection
//!   opened, the statement run with bound parameters, the rows read back as JSON;
//! - by hand: the equivalent SQL, its values written in, run on a connection already open.
//!
//! The figure is the ratio of the medians; the aim is under 10% plus 2 ms.
//!
//! cargo bench -p weir-bi-drivers --bench query
//! WEIR_BENCH_ROUNDS=30 WEIR_BENCH_PG_HOST=127.0.0.1 ...     (defaults: 15 rounds, 127.0.0.1)

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio_postgres::NoTls;
use weir_bi_catalog::drivers::{ConnectionSpec, Drivers};
use weir_bi_catalog::jdbc::{DriverType, JdbcUrl};
use weir_bi_catalog::query::{Condition, Operand, Operator, QueryRequest, plan};
use weir_bi_drivers::SqlDrivers;

const FIXTURE: &str = "
    CREATE SCHEMA q;
    CREATE TABLE q.q_customers (id bigint PRIMARY KEY, region text, credit numeric(10,2));
    CREATE TABLE q.q_orders (id bigint PRIMARY KEY, customer_id bigint, amount numeric(10,2),
                             status text);
    INSERT INTO q.q_customers
        SELECT i, (ARRAY['north','south','east','west'])[1 + i % 4], i % 100
        FROM generate_series(1, 10000) i;
    INSERT INTO q.q_orders
        SELECT i, 1 + i % 10000, (i % 1000) / 10.0, (ARRAY['open','paid','void'])[1 + i % 3]
        FROM generate_series(1, 1000000) i;
    CREATE INDEX ON q.q_orders (customer_id);
    ANALYZE;
";

const BY_HAND: &str = "
    SELECT c.region, o.status, SUM(o.amount) AS sales
    FROM q.q_orders o RIGHT JOIN q.q_customers c ON o.customer_id = c.id
    WHERE c.region IN ('north', 'east')
    GROUP BY c.region, o.status
    ORDER BY c.region, o.status
    LIMIT 1000";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = env_or("WEIR_BENCH_ROUNDS", 15);
    let host: String = env_or("WEIR_BENCH_PG_HOST", "127.0.0.1".to_string());
    let db = format!("weir_bench_query_{}", std::process::id());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let connect = |database: &str| {
        let dsn = format!("host={host} port=5432 user=postgres dbname={database}");
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&dsn, NoTls).await.unwrap();
            tokio::spawn(connection);
            client
        })
    };
    let admin = connect("postgres");
    runtime
        .block_on(admin.batch_execute(&format!("CREATE DATABASE \"{db}\"")))
        .unwrap();
    let direct = connect(&db);
    println!("loading 1,000,000 orders...");
    runtime.block_on(direct.batch_execute(FIXTURE)).unwrap();

    let model = weir_bi_catalog::testing::shop_model("q");
    let request = QueryRequest {
        dimensions: vec!["region".into(), "status".into()],
        measures: vec!["sales".into()],
        order: vec![
            weir_bi_catalog::query::OrderBy {
                field: "region".into(),
                descending: false,
            },
            weir_bi_catalog::query::OrderBy {
                field: "status".into(),
                descending: false,
            },
        ],
        ..QueryRequest::default()
    };
    let permission = Condition::Compare {
        column: "region".into(),
        operator: Operator::In,
        operand: Operand::Values(vec![json!("north"), json!("east")]),
    };
    let plan = plan(
        &model,
        &request,
        &BTreeMap::from([("c".to_string(), permission)]),
        1000,
    )
    .unwrap();
    let spec = ConnectionSpec {
        driver: DriverType::PostgreSql,
        url: JdbcUrl::parse(&format!("jdbc:postgresql://{host}:5432/{db}")).unwrap(),
        user: Some("postgres".into()),
        password: None,
        timeout: Duration::from_secs(60),
    };
    let drivers = SqlDrivers::new();
    println!("{}", drivers.statement(&spec, &plan).unwrap().sql);

    // Warm both paths (caches, plans), and check they agree.
    let weir_rows = drivers.query(&spec, &plan).unwrap().rows;
    let hand_rows = runtime.block_on(direct.query(BY_HAND, &[])).unwrap();
    assert_eq!(weir_rows.len(), hand_rows.len());

    let mut weir = Vec::new();
    let mut hand = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        drivers.query(&spec, &plan).unwrap();
        weir.push(t.elapsed());
        let t = Instant::now();
        runtime.block_on(direct.query(BY_HAND, &[])).unwrap();
        hand.push(t.elapsed());
    }
    // What a connection costs: Weir opens one per call (no pool yet).
    let mut connections = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        drivers.test(&spec).unwrap();
        connections.push(t.elapsed());
    }
    let (w, h) = (median(weir), median(hand));
    println!(
        "opening a connection and running SELECT 1: median {:.1} ms",
        median(connections).as_secs_f64() * 1000.0
    );
    println!(
        "{rounds} rounds, medians: Weir {:.1} ms, by hand {:.1} ms, ratio {:.3}, overhead {:.1} ms",
        w.as_secs_f64() * 1000.0,
        h.as_secs_f64() * 1000.0,
        w.as_secs_f64() / h.as_secs_f64(),
        (w.as_secs_f64() - h.as_secs_f64()) * 1000.0
    );
    drop(direct);
    runtime
        .block_on(admin.batch_execute(&format!("DROP DATABASE \"{db}\" WITH (FORCE)")))
        .unwrap();
}
