//! Several processes starting at once on one fresh database: all migrate without error
//! and get distinct id nodes. Runs on PostgreSQL when `WEIR_TEST_DATABASE_URL` is set
//! (CI's PostgreSQL pass), and on an SQLite file otherwise.

// Test code: a panic is how a test fails (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use weir_storage::{Database, DatabaseOptions, testing};

#[test]
fn simultaneous_starts_migrate_once_and_get_distinct_nodes() {
    let place = testing::TestDatabase::new().unwrap();
    let url = place.url.clone();
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let db = Database::open(&DatabaseOptions::new(url)).expect("open and migrate");
                db.allocate_id_node().expect("node")
            })
        })
        .collect();
    let nodes: HashSet<i64> = starts.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(nodes.len(), 4, "every process gets its own id node");
}
