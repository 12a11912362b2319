//! Use-cases run directly (no HTTP) on real storage: SQLite, or PostgreSQL when
//! `WEIR_TEST_DATABASE_URL` is set. For domain rules whose HTTP routes come later.

// Test code: a panic is how a test fails (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bi_catalog;
mod bi_grants;
mod bi_models;
mod identity;
mod iot;
mod oidc;
mod scratch_pg;
mod timer_leases;
mod workflow;
mod workflow_logs;

use weir_bi_drivers::{Guard, SqlDrivers};
use weir_identity::{IdentityTx, Tenant};
use weir_kernel::store::write;
use weir_kernel::{TenantId, Transactions};
use weir_outbound::OutboundPolicy;
use weir_storage::testing::TestDatabase;
use weir_storage::{Database, DatabaseOptions};

/// The rows of `table`, counted straight in the database (to see what a use-case stored).
fn count(db: &Database, table: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    db.transaction(weir_kernel::TxMode::Read, |c| {
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
            .get_result::<N>(c)
            .map_err(|e| weir_kernel::StoreError::Internal(e.to_string()))
    })
    .unwrap()
    .n
}

/// A tenant id of the tests.
fn tenant(id: &str) -> TenantId {
    TenantId::parse(id).unwrap()
}

/// A fresh database holding the tenants `t1` and `t2`; keep the `TestDatabase` alive as
/// long as the `Database` is used.
fn database_with_tenants() -> (TestDatabase, Database) {
    let place = TestDatabase::new().unwrap();
    let db = Database::open(&DatabaseOptions::new(place.url.clone())).unwrap();
    let identity: &dyn Transactions<dyn IdentityTx> = &db;
    for t in ["t1", "t2"] {
        write(identity, |tx| {
            tx.insert_tenant(&Tenant::top_level(tenant(t), t.into(), 0))
        })
        .unwrap();
    }
    (place, db)
}

/// The drivers as these tests use them: this machine's services reachable (loopback in the
/// allow-list, SQLite files in the temporary folder), the test's own database (`place`)
/// never.
fn local_drivers(place: &TestDatabase) -> SqlDrivers {
    let guard = Guard::new(OutboundPolicy::allowing(["127.0.0.0/8", "::1"]).unwrap())
        .own_database(&place.url)
        .unwrap()
        .sqlite_folder(&std::env::temp_dir())
        .unwrap();
    SqlDrivers::new(guard)
}
