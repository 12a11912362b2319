//! Time-series storage figures, in one run on one database:
//! - appending history through the repository (1,000-row statements, one transaction per
//!   1,000 values) against a hand-written multi-row INSERT of the same rows;
//! - AVG over one entity's whole history through the repository against the hand-written
//!   SQL.
//!
//! cargo bench -p weir-storage --bench timeseries                  (SQLite, temp file)
//! WEIR_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/weir_bench \
//!     cargo bench -p weir-storage --bench timeseries              (PostgreSQL)
//! WEIR_BENCH_POINTS=10000000 ...                                  (default 1,000,000)

// Benchmark code: a panic stops the run with its reason (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use diesel::connection::SimpleConnection;
use weir_identity::{IdentityTx, Tenant};
use weir_iot::ports::{Aggregate, IotTx, ValuePoint};
use weir_iot::value::EntityValue;
use weir_kernel::store::write;
use weir_kernel::{Id, TenantId, Transactions, TxMode};
use weir_storage::{Database, DatabaseOptions};

const BATCH: usize = 1000;

fn main() {
    let points: usize = std::env::var("WEIR_BENCH_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
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
        c.batch_execute("DELETE FROM entity_history WHERE entity_id IN (9000000001, 9000000002)")
            .map_err(|e| weir_kernel::StoreError::Internal(e.to_string()))
    })
    .unwrap();

    let started = Instant::now();
    for chunk_start in (0..points).step_by(BATCH) {
        let batch: Vec<ValuePoint> = (chunk_start..(chunk_start + BATCH).min(points))
            .map(|i| ValuePoint {
                entity_id: ours,
                timestamp: i as i64,
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
                i,
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
        "append: repository {:.0} values/s, hand-written INSERT {:.0} values/s, ratio {:.2}",
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
    let runs = 5;
    let started = Instant::now();
    for _ in 0..runs {
        weir_kernel::store::read(iot, |tx| {
            tx.aggregate(&tenant, ours, 0, points as i64, Aggregate::Avg)
        })
        .unwrap();
    }
    let repo_avg = started.elapsed().as_secs_f64() / runs as f64;
    let hand = format!(
        "SELECT AVG(double_value) FROM entity_history WHERE tenant_id = 'bench' AND entity_id = {} AND ts BETWEEN 0 AND {}",
        theirs.get(),
        points
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
}
