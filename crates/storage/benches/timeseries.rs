//! Time-series storage figures, in one run on one database:
//! - appending one entity's history, a point a second, through the repository (1,000-row
//!   statements, one transaction per 1,000 values; the rollups kept as it goes) against a
//!   hand-written multi-row INSERT of the same rows into the history alone;
//! - the same with 1,000 entities (`WEIR_BENCH_ENTITIES`), a point a second each: batches
//!   of one point per entity, a minute and an hour rollup row to update per point (the
//!   worst case for the rollups' cost at ingest);
//! - AVG over the entity's whole history: through the use-case (rollups for whole minutes
//!   and hours, raw edges), through the repository over the raw history alone, and by
//!   hand-written SQL.
//!
//! cargo bench -p weir-storage --bench timeseries                  (SQLite, temp file)
//! WEIR_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/weir_bench \
//!     cargo bench -p weir-storage --bench timeseries              (PostgreSQL)
//! WEIR_BENCH_POINTS=31536000 ...                                  (default 2,000,000;
//!                                                                  a year a second: 31,536,000)
//! WEIR_BENCH_SCATTERED=500000 ...                                 (default 200,000)

// Benchmark code: a panic stops the run with its reason (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Instant;

use diesel::connection::SimpleConnection;
use weir_identity::{IdentityTx, Tenant};
use weir_iot::events::LocalBus;
use weir_iot::ports::{Aggregate, AggregateResult, IotTx, ValuePoint};
use weir_iot::value::EntityValue;
use weir_iot::{IntegrationRegistry, IotPorts, IotService, IotSettings, Viewer};
use weir_kernel::store::write;
use weir_kernel::{Id, IdGenerator, SystemClock, TenantId, Transactions, TxMode};
use weir_storage::{Database, DatabaseOptions};

const BATCH: usize = 1000;

fn main() {
    let points: usize = std::env::var("WEIR_BENCH_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    let scattered: usize = std::env::var("WEIR_BENCH_SCATTERED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir().unwrap();
    let url = std::env::var("WEIR_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| dir.path().join("bench.db").to_string_lossy().into_owned());
    let db = Database::open(&DatabaseOptions::new(url)).unwrap();
    println!("backend {:?}, {points} points", db.backend());
    let tenant = TenantId::parse("bench").unwrap();
    let identity: &dyn Transactions<dyn IdentityTx> = &db;
    let _ = write(identity, |tx| {
        tx.insert_tenant(&Tenant::top_level(tenant.clone(), "bench".into(), 0))
    });
    let iot: &dyn Transactions<dyn IotTx> = &db;
    // Two entity ids the tables have not seen (value tables have no foreign keys).
    let (ours, theirs) = (Id(9_000_000_001), Id(9_000_000_002));
    db.transaction(TxMode::Write, |c| {
        c.batch_execute(
            "DELETE FROM entity_history WHERE entity_id IN (9000000001, 9000000002) \
             OR entity_id BETWEEN 9100000000 AND 9100001999; \
             DELETE FROM entity_rollups WHERE entity_id IN (9000000001, 9000000002) \
             OR entity_id BETWEEN 9100000000 AND 9100001999",
        )
        .map_err(|e| weir_kernel::StoreError::Internal(e.to_string()))
    })
    .unwrap();

    let started = Instant::now();
    for chunk_start in (0..points).step_by(BATCH) {
        let batch: Vec<ValuePoint> = (chunk_start..(chunk_start + BATCH).min(points))
            .map(|i| ValuePoint {
                entity_id: ours,
                timestamp: i as i64 * 1000,
                value: EntityValue::Double(i as f64 % 100.0),
            })
            .collect();
        write(iot, |tx| tx.append_history(&tenant, &batch)).unwrap();
    }
    let repo_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    for chunk_start in (0..points).step_by(BATCH) {
        let mut sql = String::from(
            "INSERT INTO entity_history (entity_id, ts, tenant_id, double_value) VALUES ",
        );
        for i in chunk_start..(chunk_start + BATCH).min(points) {
            if i > chunk_start {
                sql.push(',');
            }
            sql.push_str(&format!(
                "({},{},'bench',{})",
                theirs.get(),
                i * 1000,
                i as f64 % 100.0
            ));
        }
        db.transaction(TxMode::Write, |c| {
            c.batch_execute(&sql)
                .map_err(|e| weir_kernel::StoreError::Internal(e.to_string()))
        })
        .unwrap();
    }
    let raw_secs = started.elapsed().as_secs_f64();
    println!(
        "append, one entity: repository (with rollups) {:.0} values/s, hand-written INSERT {:.0} values/s, ratio {:.2}",
        points as f64 / repo_secs,
        points as f64 / raw_secs,
        raw_secs / repo_secs
    );

    // The repository reads the entity's value type first; give it one.
    db.transaction(TxMode::Write, |c| {
        c.batch_execute(&format!(
            "INSERT INTO entities (id, tenant_id, entity_key, key_folded, integration, identifier, name, name_folded, \
             entity_type, access_mod, value_type, value_attribute, created_at, updated_at) \
             VALUES ({0}, 'bench', 'bench.integration.e{0}', 'bench.integration.e{0}', 'bench', 'e', 'e', 'e', \
             'PROPERTY', 'R', 'DOUBLE', '{{}}', 0, 0) ON CONFLICT DO NOTHING",
            ours.get()
        ))
        .map_err(|e| weir_kernel::StoreError::Internal(e.to_string()))
    })
    .unwrap();
    let last = points as i64 * 1000;
    let runs = 3;
    let started = Instant::now();
    let mut raw_answer = None;
    for _ in 0..runs {
        raw_answer = Some(
            weir_kernel::store::read(iot, |tx| {
                tx.aggregate(&tenant, ours, 0, last, Aggregate::Avg)
            })
            .unwrap(),
        );
    }
    let repo_avg = started.elapsed().as_secs_f64() / runs as f64;
    let hand = format!(
        "SELECT AVG(double_value) FROM entity_history WHERE tenant_id = 'bench' AND entity_id = {} AND ts BETWEEN 0 AND {}",
        theirs.get(),
        last
    );
    let started = Instant::now();
    for _ in 0..runs {
        db.transaction(TxMode::Read, |c| {
            c.batch_execute(&hand)
                .map_err(|e| weir_kernel::StoreError::Internal(e.to_string()))
        })
        .unwrap();
    }
    let raw_avg = started.elapsed().as_secs_f64() / runs as f64;
    println!(
        "AVG over {points} points: repository {:.1} ms, hand-written SQL {:.1} ms, ratio {:.2}",
        repo_avg * 1000.0,
        raw_avg * 1000.0,
        repo_avg / raw_avg
    );

    // The use-case, which reads whole minutes and hours from the rollups. The window
    // starts and ends mid-minute, as a chart's would.
    let service = IotService::new(
        IotPorts {
            store: Arc::new(db.clone()),
            integrations: Arc::new(IntegrationRegistry::default()),
            ids: Arc::new(IdGenerator::new(1, Box::new(SystemClock))),
            clock: Arc::new(SystemClock),
            events: Arc::new(LocalBus::new(16)),
        },
        IotSettings::default(),
    );
    let viewer = Viewer::system(tenant.clone());
    let runs = 20;
    let started = Instant::now();
    let mut rolled_answer = None;
    for _ in 0..runs {
        rolled_answer = Some(
            service
                .aggregate(&viewer, ours, 0, last, Aggregate::Avg)
                .unwrap()
                .1,
        );
    }
    let rolled_avg = started.elapsed().as_secs_f64() / runs as f64;
    let close = match (&raw_answer, &rolled_answer) {
        (Some(AggregateResult::Number(Some(a))), Some(AggregateResult::Number(Some(b)))) => {
            (a - b).abs() <= a.abs() * 1e-12
        }
        _ => false,
    };
    assert!(close, "{raw_answer:?} against {rolled_answer:?}");
    let (from, to) = (12_345, last - 23_456);
    let mid = |s: &IotService| {
        s.aggregate(&viewer, ours, from, to, Aggregate::Avg)
            .unwrap()
            .1
    };
    let started = Instant::now();
    let mid_answer = mid(&service);
    let rolled_mid = started.elapsed().as_secs_f64();
    let raw_mid = weir_kernel::store::read(iot, |tx| {
        tx.aggregate(&tenant, ours, from, to, Aggregate::Avg)
    })
    .unwrap();
    assert!(
        matches!((&raw_mid, &mid_answer), (AggregateResult::Number(Some(a)), AggregateResult::Number(Some(b))) if (a - b).abs() <= a.abs() * 1e-12),
        "{raw_mid:?} against {mid_answer:?}"
    );
    println!(
        "AVG over {points} points ({:.1} days): raw history {:.1} ms, with rollups {:.2} ms \
         (mid-minute window: {:.2} ms), raw ÷ rollups {:.0}",
        last as f64 / 86_400_000.0,
        repo_avg * 1000.0,
        rolled_avg * 1000.0,
        rolled_mid * 1000.0,
        repo_avg / rolled_avg
    );

    // Scattered: 1,000 entities (WEIR_BENCH_ENTITIES), a point a second each, batches of
    // 1,000 points in time order (so with 100 entities, 10 points of each per batch).
    let entities: usize = std::env::var("WEIR_BENCH_ENTITIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
        .clamp(1, 1000);
    let started = Instant::now();
    for chunk_start in (0..scattered).step_by(BATCH) {
        let batch: Vec<ValuePoint> = (chunk_start..(chunk_start + BATCH).min(scattered))
            .map(|i| ValuePoint {
                entity_id: Id(9_100_000_000 + (i % entities) as i64),
                timestamp: (i / entities) as i64 * 1000,
                value: EntityValue::Double(i as f64 % 100.0),
            })
            .collect();
        write(iot, |tx| tx.append_history(&tenant, &batch)).unwrap();
    }
    let repo_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for chunk_start in (0..scattered).step_by(BATCH) {
        let mut sql = String::from(
            "INSERT INTO entity_history (entity_id, ts, tenant_id, double_value) VALUES ",
        );
        for i in chunk_start..(chunk_start + BATCH).min(scattered) {
            if i > chunk_start {
                sql.push(',');
            }
            sql.push_str(&format!(
                "({},{},'bench',{})",
                9_100_001_000 + (i % entities) as i64,
                (i / entities) * 1000,
                i as f64 % 100.0
            ));
        }
        db.transaction(TxMode::Write, |c| {
            c.batch_execute(&sql)
                .map_err(|e| weir_kernel::StoreError::Internal(e.to_string()))
        })
        .unwrap();
    }
    let raw_secs = started.elapsed().as_secs_f64();
    println!(
        "append, {entities} entities in turn ({scattered} points): repository (with rollups) {:.0} values/s, \
         hand-written INSERT {:.0} values/s, ratio {:.2}",
        scattered as f64 / repo_secs,
        scattered as f64 / raw_secs,
        raw_secs / repo_secs
    );
}
