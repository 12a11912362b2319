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
