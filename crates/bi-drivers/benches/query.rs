//! Data model queries against the same SQL written by hand, on the local PostgreSQL and
//! MariaDB, in one run: two tables (10,000 customers, 1,000,000 orders), sales by region and
//! status with a row permission (two regions of four) on the customers; then a small query
//! (credit by region, the customers alone), where what a connection costs shows.
//!
//! - Weir, kept connections: `Drivers::query` as the server runs it (`SqlDrivers::new`): the
//!   plan rendered to SQL, run with bound parameters on a kept connection, the rows read
//!   back as JSON;
//! - Weir, a connection per query: the same with nothing kept (`SqlDrivers::keeping(0)`),
//!   a new connection opened (and its statement time limit set) for each query;
//! - by hand: the equivalent SQL, its values written in, run on a connection already open.
//!
//! The three run in turn in each round, on warm caches. The figures are the ratios of the
//! medians (and of the fastest rounds) to the hand-written SQL; the aim is under 10% plus
//! 2 ms. The large MariaDB query varies by ±20% from one run to the next on a shared
//! machine: its ratios move with it, the small query's show what a connection costs. A PostgreSQL round of
//! the large query takes about half a second, a MariaDB one about 2.5 s (MariaDB joins the
//! orders by index lookups); a default run takes about a minute.
//!
//! cargo bench -p weir-bi-drivers --bench query
//! WEIR_BENCH_BACKEND=postgresql|mariadb|both    (default: both)
//! WEIR_BENCH_ROUNDS=30                          (default: 15)
//! WEIR_BENCH_PG_HOST, WEIR_BENCH_MY_HOST        (default: 127.0.0.1; PostgreSQL as
//!                                                `postgres` on 5432, MariaDB as `root` on
//!                                                3306, both without a password)

// Benchmark code: a panic stops the run with its reason (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mysql::prelude::Queryable;
use serde_json::json;
use tokio_postgres::NoTls;
use weir_bi_catalog::drivers::{ConnectionSpec, Drivers};
use weir_bi_catalog::jdbc::{DriverType, JdbcUrl};
use weir_bi_catalog::query::{Condition, Operand, Operator, OrderBy, QueryRequest, plan};
use weir_bi_drivers::{Guard, SqlDrivers};
use weir_outbound_policy::OutboundPolicy;

const PG_FIXTURE: &str = "
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

/// The same rows on MariaDB (its `seq_1_to_n` tables stand for `generate_series`).
const MY_FIXTURE: &[&str] = &[
    "CREATE TABLE q_customers (id bigint PRIMARY KEY, region varchar(10), credit decimal(10,2))",
    "CREATE TABLE q_orders (id bigint PRIMARY KEY, customer_id bigint, amount decimal(10,2),
                            status varchar(10))",
    "INSERT INTO q_customers
        SELECT seq, ELT(1 + seq % 4, 'north', 'south', 'east', 'west'), seq % 100
        FROM seq_1_to_10000",
    "INSERT INTO q_orders
        SELECT seq, 1 + seq % 10000, (seq % 1000) / 10.0, ELT(1 + seq % 3, 'open', 'paid', 'void')
        FROM seq_1_to_1000000",
    "CREATE INDEX q_orders_customer_id ON q_orders (customer_id)",
    "ANALYZE TABLE q_customers, q_orders",
];

/// The queries by hand, in SQL both databases run; `{schema}` is the model's schema.
/// The large one: sales (orders) by region (customers) and status.
const BY_HAND: &str = "
    SELECT c.region, o.status, SUM(o.amount) AS sales
    FROM {schema}.q_orders o RIGHT JOIN {schema}.q_customers c ON o.customer_id = c.id
    WHERE c.region IN ('north', 'east')
    GROUP BY c.region, o.status
    ORDER BY c.region, o.status
    LIMIT 1000";
/// The small one: credit by region, the customers alone, where a connection's cost shows.
const BY_HAND_SMALL: &str = "
    SELECT c.region, SUM(c.credit) AS credit
    FROM {schema}.q_customers c
    WHERE c.region IN ('north', 'east')
    GROUP BY c.region
    ORDER BY c.region
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

/// The least disturbed round: what the work costs when nothing else runs.
fn fastest(v: &[Duration]) -> Duration {
    v.iter().copied().min().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A loaded database: the datasource Weir queries, the model's schema, how to run SQL by
/// hand on an open connection (answering the row count), and how to drop it all.
struct Loaded {
    name: &'static str,
    spec: ConnectionSpec,
    schema: String,
    by_hand: Box<dyn FnMut(&str) -> usize>,
    drop: Box<dyn FnOnce()>,
}

fn postgresql(db: &str) -> Loaded {
    let host: String = env_or("WEIR_BENCH_PG_HOST", "127.0.0.1".to_string());
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
    let direct = connect(db);
    println!("postgresql: loading 1,000,000 orders...");
    runtime.block_on(direct.batch_execute(PG_FIXTURE)).unwrap();
    let runtime = std::rc::Rc::new(runtime);
    let by_hand = {
        let runtime = runtime.clone();
        move |sql: &str| runtime.block_on(direct.query(sql, &[])).unwrap().len()
    };
    let db = db.to_owned();
    Loaded {
        name: "postgresql",
        spec: ConnectionSpec {
            driver: DriverType::PostgreSql,
            url: JdbcUrl::parse(&format!("jdbc:postgresql://{host}:5432/{db}")).unwrap(),
            user: Some("postgres".into()),
            password: None,
            timeout: Duration::from_secs(60),
        },
        schema: "q".into(),
        by_hand: Box::new(by_hand),
        drop: Box::new(move || {
            runtime
                .block_on(admin.batch_execute(&format!("DROP DATABASE \"{db}\" WITH (FORCE)")))
                .unwrap();
        }),
    }
}

fn mariadb(db: &str) -> Loaded {
    let host: String = env_or("WEIR_BENCH_MY_HOST", "127.0.0.1".to_string());
    let opts = mysql::OptsBuilder::new()
        .ip_or_hostname(Some(host.clone()))
        .tcp_port(3306)
        .user(Some("root"))
        .prefer_socket(false);
    let mut direct = mysql::Conn::new(opts).unwrap();
    direct
        .query_drop(format!("CREATE DATABASE `{db}`"))
        .unwrap();
    direct.query_drop(format!("USE `{db}`")).unwrap();
    println!("mariadb: loading 1,000,000 orders...");
    for statement in MY_FIXTURE {
        direct.query_drop(statement).unwrap();
    }
    let direct = std::rc::Rc::new(std::cell::RefCell::new(direct));
    let by_hand = {
        let direct = direct.clone();
        move |sql: &str| {
            direct
                .borrow_mut()
                .query::<mysql::Row, _>(sql)
                .unwrap()
                .len()
        }
    };
    let db = db.to_owned();
    Loaded {
        name: "mariadb",
        spec: ConnectionSpec {
            driver: DriverType::MySql,
            url: JdbcUrl::parse(&format!("jdbc:mariadb://{host}:3306/{db}")).unwrap(),
            user: Some("root".into()),
            password: None,
            timeout: Duration::from_secs(60),
        },
        schema: db.clone(),
        by_hand: Box::new(by_hand),
        drop: Box::new(move || {
            direct
                .borrow_mut()
                .query_drop(format!("DROP DATABASE `{db}`"))
                .unwrap();
        }),
    }
}

fn bench(mut loaded: Loaded, rounds: usize) {
    let order = |field: &str| OrderBy {
        field: field.into(),
        descending: false,
    };
    let large = QueryRequest {
        dimensions: vec!["region".into(), "status".into()],
        measures: vec!["sales".into()],
        order: vec![order("region"), order("status")],
        ..QueryRequest::default()
    };
    let small = QueryRequest {
        dimensions: vec!["region".into()],
        measures: vec!["credit".into()],
        order: vec![order("region")],
        ..QueryRequest::default()
    };
    // The local PostgreSQL is on loopback, which the allow-list must open.
    let guard = Guard::new(OutboundPolicy::allowing(["127.0.0.0/8"]).unwrap());
    let kept = SqlDrivers::new(guard.clone());
    let each = SqlDrivers::keeping(0, guard);
    for (what, request, by_hand) in [
        ("1,000,000 orders", large, BY_HAND),
        ("10,000 customers", small, BY_HAND_SMALL),
    ] {
        let by_hand = by_hand.replace("{schema}", &loaded.schema);
        let timings = compare(&mut loaded, &kept, &each, &request, &by_hand, rounds);
        let hand = (median(timings.by_hand.clone()), fastest(&timings.by_hand));
        println!(
            "{} ({what}): {rounds} rounds: by hand median {:.2} ms, fastest {:.2} ms",
            loaded.name,
            ms(hand.0),
            ms(hand.1)
        );
        for (how, weir) in [
            ("a connection per query", timings.with_each),
            ("kept connections", timings.with_kept),
        ] {
            let weir = (median(weir.clone()), fastest(&weir));
            println!(
                "{} ({what}): Weir, {how}: median {:.2} ms, ratio {:.3}, overhead {:.2} ms; \
                 fastest {:.2} ms, ratio {:.3}",
                loaded.name,
                ms(weir.0),
                weir.0.as_secs_f64() / hand.0.as_secs_f64(),
                ms(weir.0) - ms(hand.0),
                ms(weir.1),
                weir.1.as_secs_f64() / hand.1.as_secs_f64(),
            );
        }
    }
    // What a connection costs: a connection test opens one and runs SELECT 1.
    let mut connections = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        kept.test(&loaded.spec).unwrap();
        connections.push(t.elapsed());
    }
    println!(
        "{}: opening a connection and running SELECT 1: median {:.2} ms",
        loaded.name,
        ms(median(connections))
    );
    drop(kept);
    drop(each);
    (loaded.drop)();
}

struct Timings {
    with_each: Vec<Duration>,
    with_kept: Vec<Duration>,
    by_hand: Vec<Duration>,
}

/// Runs the three in each round, each round starting with the next of them (so that none
/// always runs first, or right after the others).
fn compare(
    loaded: &mut Loaded,
    kept: &SqlDrivers,
    each: &SqlDrivers,
    request: &QueryRequest,
    by_hand: &str,
    rounds: usize,
) -> Timings {
    let model = weir_bi_catalog::testing::shop_model(&loaded.schema);
    let permission = Condition::Compare {
        column: "region".into(),
        operator: Operator::In,
        operand: Operand::Values(vec![json!("north"), json!("east")]),
    };
    let plan = plan(
        &model,
        request,
        &BTreeMap::from([("c".to_string(), permission)]),
        1000,
    )
    .unwrap();
    let spec = &loaded.spec;
    println!("{}", kept.statement(spec, &plan).unwrap().sql);

    // Warm every path (caches, plans, the kept connection), and check they agree.
    let expected = (loaded.by_hand)(by_hand);
    assert_eq!(kept.query(spec, &plan).unwrap().rows.len(), expected);
    assert_eq!(each.query(spec, &plan).unwrap().rows.len(), expected);

    let mut t = Timings {
        with_each: Vec::new(),
        with_kept: Vec::new(),
        by_hand: Vec::new(),
    };
    for round in 0..rounds {
        for turn in 0..3 {
            let started = Instant::now();
            match (round + turn) % 3 {
                0 => {
                    each.query(spec, &plan).unwrap();
                    t.with_each.push(started.elapsed());
                }
                1 => {
                    kept.query(spec, &plan).unwrap();
                    t.with_kept.push(started.elapsed());
                }
                _ => {
                    (loaded.by_hand)(by_hand);
                    t.by_hand.push(started.elapsed());
                }
            }
        }
    }
    t
}

fn main() {
    let rounds: usize = env_or("WEIR_BENCH_ROUNDS", 15);
    let backend: String = env_or("WEIR_BENCH_BACKEND", "both".to_string());
    let db = format!("weir_bench_query_{}", std::process::id());
    let (pg, my) = match backend.to_ascii_lowercase().as_str() {
        "postgresql" | "postgres" | "pg" => (true, false),
        "mariadb" | "mysql" => (false, true),
        "both" => (true, true),
        other => panic!("WEIR_BENCH_BACKEND={other}: postgresql, mariadb or both"),
    };
    if pg {
        bench(postgresql(&db), rounds);
    }
    if my {
        bench(mariadb(&db), rounds);
    }
}
