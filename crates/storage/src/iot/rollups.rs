//! Rollups of numeric history ([`weir_iot::rollup`]) and retention: what [`ValueRepo`]'s
//! rollup and retention methods run, for both backends.
//!
//! [`ValueRepo`]: weir_iot::ports::ValueRepo

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Double, Nullable, Text};
use weir_iot::model::ValueType;
use weir_iot::ports::ValuePoint;
use weir_iot::rollup::{Rollup, SPANS, SUM_SCALE, rows_of};
use weir_kernel::{Id, Millis, StoreError, TenantId};

use super::IotRepo;
use super::shared::*;
use crate::backend::DbConn;
use crate::errors::{OrStore, tenant_id};
use crate::schema::*;

/// Rows per SQLite statement: 12 parameters each, under SQLite's 32,766.
const ROLLUP_CHUNK: usize = 500;

const ROLLUP_COLUMNS: &str = "entity_id, span, bucket, tenant_id, value_count, value_sum, \
    min_value, max_value, first_ts, first_value, last_ts, last_value";

/// Merges a bucket's new points into its stored row; every right-hand side reads the
/// stored row (`entity_rollups.`) or the new one (`excluded.`), so the order is free.
const MERGE: &str = "ON CONFLICT (entity_id, span, bucket) DO UPDATE SET \
    value_count = entity_rollups.value_count + excluded.value_count, \
    value_sum = entity_rollups.value_sum + excluded.value_sum, \
    min_value = CASE WHEN excluded.min_value < entity_rollups.min_value \
        THEN excluded.min_value ELSE entity_rollups.min_value END, \
    max_value = CASE WHEN excluded.max_value > entity_rollups.max_value \
        THEN excluded.max_value ELSE entity_rollups.max_value END, \
    first_value = CASE WHEN excluded.first_ts < entity_rollups.first_ts \
        THEN excluded.first_value ELSE entity_rollups.first_value END, \
    first_ts = CASE WHEN excluded.first_ts < entity_rollups.first_ts \
        THEN excluded.first_ts ELSE entity_rollups.first_ts END, \
    last_value = CASE WHEN excluded.last_ts > entity_rollups.last_ts \
        THEN excluded.last_value ELSE entity_rollups.last_value END, \
    last_ts = CASE WHEN excluded.last_ts > entity_rollups.last_ts \
        THEN excluded.last_ts ELSE entity_rollups.last_ts END";

struct RollupDbRow<'a> {
    entity_id: i64,
    span: i64,
    bucket: i64,
    tenant_id: &'a str,
    value_count: i64,
    value_sum: f64,
    min_value: f64,
    max_value: f64,
    first_ts: i64,
    first_value: f64,
    last_ts: i64,
    last_value: f64,
}

/// count, scaled sum, min, max of a set of points or rollups.
type Totals = (Option<i64>, Option<f64>, Option<f64>, Option<f64>);

impl IotRepo {
    /// Adds newly stored points to their minute and hour rollups: one upsert per entity,
    /// span and bucket, merging into what the row holds.
    pub(super) fn add_rollups<'p>(
        &mut self,
        t: &TenantId,
        points: impl IntoIterator<Item = &'p ValuePoint>,
    ) -> R<()> {
        let rows: Vec<RollupDbRow> = rows_of(points)
            .into_iter()
            .map(|r| RollupDbRow {
                entity_id: r.entity_id.get(),
                span: r.span,
                bucket: r.bucket,
                tenant_id: t.as_str(),
                value_count: r.rollup.count,
                value_sum: r.rollup.sum_scaled,
                min_value: r.rollup.min,
                max_value: r.rollup.max,
                first_ts: r.rollup.first_ts,
                first_value: r.rollup.first,
                last_ts: r.rollup.last_ts,
                last_value: r.rollup.last,
            })
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        match self.c() {
            // One statement: the columns travel as arrays (as the history's do).
            DbConn::Pg(c) => {
                let col = |f: fn(&RollupDbRow) -> i64| rows.iter().map(f).collect::<Vec<i64>>();
                let num = |f: fn(&RollupDbRow) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
                diesel::sql_query(format!(
                    "INSERT INTO entity_rollups ({ROLLUP_COLUMNS}) \
                     SELECT e, s, b, $1, n, su, mi, ma, ft, fv, lt, lv \
                     FROM unnest($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                     AS u(e, s, b, n, su, mi, ma, ft, fv, lt, lv) {MERGE}"
                ))
                .bind::<Text, _>(t.as_str())
                .bind::<Array<BigInt>, _>(col(|r| r.entity_id))
                .bind::<Array<BigInt>, _>(col(|r| r.span))
                .bind::<Array<BigInt>, _>(col(|r| r.bucket))
                .bind::<Array<BigInt>, _>(col(|r| r.value_count))
                .bind::<Array<Double>, _>(num(|r| r.value_sum))
                .bind::<Array<Double>, _>(num(|r| r.min_value))
                .bind::<Array<Double>, _>(num(|r| r.max_value))
                .bind::<Array<BigInt>, _>(col(|r| r.first_ts))
                .bind::<Array<Double>, _>(num(|r| r.first_value))
                .bind::<Array<BigInt>, _>(col(|r| r.last_ts))
                .bind::<Array<Double>, _>(num(|r| r.last_value))
                .execute(c)
                .or_store()?;
            }
            // Multi-row statements of ROLLUP_CHUNK rows (diesel's own SQLite upsert takes
            // one row a statement, which costs several times more here).
            DbConn::Sqlite(c) => {
                for chunk in rows.chunks(ROLLUP_CHUNK) {
                    let tuples =
                        vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
                    let mut q = diesel::sql_query(format!(
                        "INSERT INTO entity_rollups ({ROLLUP_COLUMNS}) VALUES {tuples} {MERGE}"
                    ))
                    .into_boxed::<diesel::sqlite::Sqlite>();
                    for r in chunk {
                        q = q
                            .bind::<BigInt, _>(r.entity_id)
                            .bind::<BigInt, _>(r.span)
                            .bind::<BigInt, _>(r.bucket)
                            .bind::<Text, _>(r.tenant_id)
                            .bind::<BigInt, _>(r.value_count)
                            .bind::<Double, _>(r.value_sum)
                            .bind::<Double, _>(r.min_value)
                            .bind::<Double, _>(r.max_value)
                            .bind::<BigInt, _>(r.first_ts)
                            .bind::<Double, _>(r.first_value)
                            .bind::<BigInt, _>(r.last_ts)
                            .bind::<Double, _>(r.last_value);
                    }
                    q.execute(c).or_store()?;
                }
            }
        }
        Ok(())
    }

    /// The rollup of the raw history in [from, to]; `column` is the number's SQL.
    pub(super) fn raw_rollup(
        &mut self,
        t: &TenantId,
        entity: Id,
        value_type: ValueType,
        from: Millis,
        to: Millis,
    ) -> R<Option<Rollup>> {
        let column = Self::number_column(value_type).ok_or_else(|| {
            StoreError::Internal(format!("rollup of a {} entity", value_type.as_str()))
        })?;
        let window = || {
            entity_history::table
                .filter(entity_history::tenant_id.eq(t.as_str()))
                .filter(entity_history::entity_id.eq(entity.get()))
                .filter(entity_history::ts.between(from, to))
        };
        let n = || sql::<Nullable<Double>>(column);
        let scaled = sql::<Nullable<Double>>(&format!("({column} * {SUM_SCALE:e})"));
        let (count, sum, min, max): (i64, Option<f64>, Option<f64>, Option<f64>) = window()
            .select((
                diesel::dsl::count(n()),
                diesel::dsl::sum(scaled),
                diesel::dsl::min(n()),
                diesel::dsl::max(n()),
            ))
            .first(self.c())
            .or_store()?;
        let (Some(sum), Some(min), Some(max)) = (sum, min, max) else {
            return Ok(None);
        };
        if count == 0 {
            return Ok(None);
        }
        let first: Option<(i64, Option<f64>)> = window()
            .order(entity_history::ts.asc())
            .select((entity_history::ts, n()))
            .first(self.c())
            .optional()
            .or_store()?;
        let last: Option<(i64, Option<f64>)> = window()
            .order(entity_history::ts.desc())
            .select((entity_history::ts, n()))
            .first(self.c())
            .optional()
            .or_store()?;
        let (Some((first_ts, Some(first))), Some((last_ts, Some(last)))) = (first, last) else {
            return Ok(None);
        };
        Ok(Some(Rollup {
            count,
            sum_scaled: sum,
            min,
            max,
            first_ts,
            first,
            last_ts,
            last,
        }))
    }

    /// The stored rollups of `span` with buckets in [from, to), merged.
    pub(super) fn stored_rollup(
        &mut self,
        t: &TenantId,
        entity: Id,
        span: Millis,
        from: Millis,
        to: Millis,
    ) -> R<Option<Rollup>> {
        use entity_rollups as r;
        let rows = || {
            r::table
                .filter(r::entity_id.eq(entity.get()))
                .filter(r::span.eq(span))
                .filter(r::bucket.ge(from))
                .filter(r::bucket.lt(to))
                .filter(r::tenant_id.eq(t.as_str()))
        };
        // SUM of a BIGINT is a NUMERIC on PostgreSQL: cast it back.
        let (count, sum, min, max): Totals = rows()
            .select((
                sql::<Nullable<BigInt>>("CAST(SUM(value_count) AS BIGINT)"),
                diesel::dsl::sum(r::value_sum),
                diesel::dsl::min(r::min_value),
                diesel::dsl::max(r::max_value),
            ))
            .first(self.c())
            .or_store()?;
        let (Some(count), Some(sum), Some(min), Some(max)) = (count, sum, min, max) else {
            return Ok(None);
        };
        let first: Option<(i64, f64)> = rows()
            .order(r::bucket.asc())
            .select((r::first_ts, r::first_value))
            .first(self.c())
            .optional()
            .or_store()?;
        let last: Option<(i64, f64)> = rows()
            .order(r::bucket.desc())
            .select((r::last_ts, r::last_value))
            .first(self.c())
            .optional()
            .or_store()?;
        let (Some((first_ts, first)), Some((last_ts, last))) = (first, last) else {
            return Ok(None);
        };
        Ok(Some(Rollup {
            count,
            sum_scaled: sum,
            min,
            max,
            first_ts,
            first,
            last_ts,
            last,
        }))
    }

    pub(super) fn tenants_with_entities(&mut self) -> R<Vec<TenantId>> {
        let raw: Vec<String> = entities::table
            .select(entities::tenant_id)
            .distinct()
            .load(self.c())
            .or_store()?;
        raw.into_iter().map(tenant_id).collect()
    }

    pub(super) fn entity_ids(&mut self, t: &TenantId) -> R<Vec<Id>> {
        let ids: Vec<i64> = entities::table
            .filter(entities::tenant_id.eq(t.as_str()))
            .order(entities::id.asc())
            .select(entities::id)
            .load(self.c())
            .or_store()?;
        Ok(ids.into_iter().map(Id).collect())
    }

    /// Deletes up to `limit` of the oldest points before `before`: finds the time of the
    /// `limit`-th through the key, then deletes up to it (one range of the key).
    pub(super) fn delete_old_history(
        &mut self,
        t: &TenantId,
        entity: Id,
        before: Millis,
        limit: usize,
    ) -> R<usize> {
        use entity_history as h;
        if limit == 0 {
            return Ok(0);
        }
        let old = || {
            h::table
                .filter(h::entity_id.eq(entity.get()))
                .filter(h::ts.lt(before))
                .filter(h::tenant_id.eq(t.as_str()))
        };
        let upto: Option<i64> = old()
            .order(h::ts.asc())
            .offset(limit as i64 - 1)
            .select(h::ts)
            .first(self.c())
            .optional()
            .or_store()?;
        let through = upto.unwrap_or(before - 1);
        diesel::delete(old().filter(h::ts.le(through)))
            .execute(self.c())
            .or_store()
    }

    /// Deletes up to `limit` rollup rows whose bucket ended by `before`, oldest first per
    /// span.
    pub(super) fn delete_old_rollups(
        &mut self,
        t: &TenantId,
        entity: Id,
        before: Millis,
        limit: usize,
    ) -> R<usize> {
        use entity_rollups as r;
        let mut deleted = 0;
        for span in SPANS {
            if deleted >= limit {
                break;
            }
            let old = || {
                r::table
                    .filter(r::entity_id.eq(entity.get()))
                    .filter(r::span.eq(span))
                    .filter(r::bucket.le(before - span))
                    .filter(r::tenant_id.eq(t.as_str()))
            };
            let upto: Option<i64> = old()
                .order(r::bucket.asc())
                .offset((limit - deleted) as i64 - 1)
                .select(r::bucket)
                .first(self.c())
                .optional()
                .or_store()?;
            let through = upto.unwrap_or(before - span);
            deleted += diesel::delete(old().filter(r::bucket.le(through)))
                .execute(self.c())
                .or_store()?;
        }
        Ok(deleted)
    }
}
