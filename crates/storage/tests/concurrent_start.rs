//! Several processes starting at once on one fresh database: all migrate without error
//! and get distinct id nodes. Runs on PostgreSQL when `WEIR_TEST_DATABASE_URL` is set
//! (CI's PostgreSQL pass), and on an SQLite file otherwise.

use std::collections::HashSet;

use weir_storage::{Database, DatabaseOptions, testing};

/// Drops the PostgreSQL schema even when the test fails.
struct Schema(Option<(String, String)>);

impl Drop for Schema {
    fn drop(&mut self) {
        if let Some((base, name)) = self.0.take() {
            let _ = testing::drop_postgres_schema(&base, &name);
        }
    }
}

#[test]
fn simultaneous_starts_migrate_once_and_get_distinct_nodes() {
    let tmp = tempfile::tempdir().unwrap();
    let (url, _schema) = match std::env::var("WEIR_TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
    {
        Some(base) => {
            let name = format!("weir_start_{}", std::process::id());
            (
                testing::create_postgres_schema(&base, &name).unwrap(),
                Schema(Some((base, name))),
            )
        }
        None => (
            tmp.path().join("weir.db").to_string_lossy().into_owned(),
            Schema(None),
        ),
    };
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
