//! Fresh, disposable PostgreSQL schemas for test suites (the test kit uses these).

use diesel::{Connection, PgConnection, RunQueryDsl};
use weir_kernel::StoreError;

use crate::errors::OrStore;

/// Creates schema `name` in the database at `base_url` and returns a URL whose connections
/// use it (through libpq's `options=-csearch_path=...`).
pub fn create_postgres_schema(base_url: &str, name: &str) -> Result<String, StoreError> {
    check_name(name)?;
    let mut conn =
        PgConnection::establish(base_url).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    diesel::sql_query(format!("CREATE SCHEMA \"{name}\""))
        .execute(&mut conn)
        .or_store()?;
    let sep = if base_url.contains('?') { '&' } else { '?' };
    Ok(format!("{base_url}{sep}options=-csearch_path%3D{name}"))
}

/// Drops a schema made by [`create_postgres_schema`] with everything in it.
pub fn drop_postgres_schema(base_url: &str, name: &str) -> Result<(), StoreError> {
    check_name(name)?;
    let mut conn =
        PgConnection::establish(base_url).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    diesel::sql_query(format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
        .execute(&mut conn)
        .or_store()
        .map(drop)
}

fn check_name(name: &str) -> Result<(), StoreError> {
    if !name.is_empty()
        && name.len() < 60
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        Ok(())
    } else {
        Err(StoreError::Internal(format!("bad schema name `{name}`")))
    }
}

/// The environment variable naming a PostgreSQL database for tests.
pub const POSTGRES_URL_VAR: &str = "WEIR_TEST_DATABASE_URL";

/// A database for one test: a fresh SQLite file in a temporary folder, or, when
/// [`POSTGRES_URL_VAR`] names a PostgreSQL database, a fresh schema in it. Both go away
/// when this is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    /// The URL to open it with.
    pub url: String,
    _dir: tempfile::TempDir,
    schema: Option<(String, String)>,
}

impl TestDatabase {
    pub fn new() -> Result<Self, StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Unavailable(e.to_string()))?;
        match std::env::var(POSTGRES_URL_VAR)
            .ok()
            .filter(|v| !v.is_empty())
        {
            Some(base) => {
                let mut suffix = [0u8; 6];
                rand::RngCore::fill_bytes(&mut rand::rng(), &mut suffix);
                let name = format!("weir_test_{}", hex::encode(suffix));
                let url = create_postgres_schema(&base, &name)?;
                Ok(Self {
                    url,
                    _dir: dir,
                    schema: Some((base, name)),
                })
            }
            None => {
                let url = dir.path().join("weir.db").to_string_lossy().into_owned();
                Ok(Self {
                    url,
                    _dir: dir,
                    schema: None,
                })
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((base, name)) = self.schema.take() {
            // A thread of its own: the drop may run on an async worker.
            let _ = std::thread::spawn(move || drop_postgres_schema(&base, &name)).join();
        }
    }
}
