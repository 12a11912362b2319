//! The login throttle's records: [`ThrottleRepo`] over diesel, shared by every process on
//! the database.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::upsert::excluded;
use weir_identity::ThrottleRepo;
use weir_identity::throttle::ThrottleRecord;
use weir_kernel::Millis;

use super::IdentityRepo;
use super::rows::ThrottleRow;
use super::shared::*;
use crate::backend::DbConn;
use crate::errors::OrStore;
use crate::schema::*;

impl ThrottleRepo for IdentityRepo {
    fn throttle_records(&mut self, keys: &[&str]) -> R<Vec<ThrottleRecord>> {
        let rows = login_throttle::table
            .filter(login_throttle::key.eq_any(keys))
            .select(ThrottleRow::as_select())
            .load(self.c())
            .or_store()?;
        in_order(keys, rows)
    }

    fn lock_throttle_records(&mut self, keys: &[&str]) -> R<Vec<ThrottleRecord>> {
        let mut sorted = keys.to_vec();
        // One order for every transaction, so two that lock overlapping keys cannot
        // deadlock.
        sorted.sort_unstable();
        sorted.dedup();
        let mut rows = Vec::with_capacity(sorted.len());
        for key in sorted {
            let empty = ThrottleRow::new(key, &ThrottleRecord::default());
            let row = match self.c() {
                // Inserts the row or locks the one there, in one atomic statement: a
                // concurrent insert of the key is waited for, not duplicated, and a row
                // deleted meanwhile is inserted again.
                DbConn::Pg(c) => diesel::insert_into(login_throttle::table)
                    .values(&empty)
                    .on_conflict(login_throttle::key)
                    .do_update()
                    .set(login_throttle::key.eq(excluded(login_throttle::key)))
                    .returning(ThrottleRow::as_returning())
                    .get_result(c)
                    .or_store()?,
                // BEGIN IMMEDIATE: this transaction is the only writer already.
                DbConn::Sqlite(c) => {
                    diesel::insert_into(login_throttle::table)
                        .values(&empty)
                        .on_conflict_do_nothing()
                        .execute(c)
                        .or_store()?;
                    login_throttle::table
                        .find(key)
                        .select(ThrottleRow::as_select())
                        .first(c)
                        .or_store()?
                }
            };
            rows.push(row);
        }
        in_order(keys, rows)
    }

    fn save_throttle_record(&mut self, key: &str, record: &ThrottleRecord) -> R<()> {
        diesel::update(login_throttle::table.find(key))
            .set(&ThrottleRow::new(key, record))
            .execute(self.c())
            .or_store()
            .map(drop)
    }

    fn delete_throttle_record(&mut self, key: &str) -> R<()> {
        diesel::delete(login_throttle::table.find(key))
            .execute(self.c())
            .or_store()
            .map(drop)
    }

    fn purge_throttle_records(&mut self, before: Millis, limit: i64) -> R<usize> {
        let old = login_throttle::table
            .filter(login_throttle::last_event.lt(before))
            .select(login_throttle::key)
            .limit(limit);
        let keys: Vec<String> = match self.c() {
            // Locked until the delete, so a failure counted meanwhile on another process
            // waits and then inserts its row again. SKIP LOCKED: a row another
            // transaction holds is left for a later purge, so a purge never waits.
            DbConn::Pg(c) => old.for_update().skip_locked().load(c),
            // BEGIN IMMEDIATE: this transaction is the only writer already.
            DbConn::Sqlite(c) => old.load(c),
        }
        .or_store()?;
        if keys.is_empty() {
            return Ok(0);
        }
        diesel::delete(login_throttle::table.filter(login_throttle::key.eq_any(&keys)))
            .execute(self.c())
            .or_store()
    }
}

/// The records of `keys` in their order, from `rows` in any order; empty ones for keys
/// without a row.
fn in_order(keys: &[&str], rows: Vec<ThrottleRow>) -> R<Vec<ThrottleRecord>> {
    let mut by_key: HashMap<String, ThrottleRecord> = HashMap::with_capacity(rows.len());
    for row in rows {
        by_key.insert(row.key.clone(), row.into_record()?);
    }
    Ok(keys
        .iter()
        .map(|k| by_key.get(*k).copied().unwrap_or_default())
        .collect())
}
