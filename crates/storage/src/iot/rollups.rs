//! Rollups of numeric history ([`weir_iot::rollup`]) and retention: what [`ValueRepo`]'s
//! rollup and retention methods run, for both backends.
//!
//! [`ValueRepo`]: weir_iot::ports::ValueRepo

use diesel::dsl::{case_when, sql};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable};
use diesel::upsert::excluded;
use weir_iot::model::ValueType;
use weir_iot::ports::ValuePoint;
use weir_iot::rollup::{Rollup, SPANS, SUM_SCALE, rows_of};
use weir_kernel::{Id, Millis, StoreError, TenantId};

use super::IotRepo;
use super::shared::*;
use crate::backend::DbConn;
use crate::errors::{OrStore, tenant_id};
use crate::schema::*;

#[derive(Insertable)]
#[diesel(table_name = entity_rollups)]
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
        use entity_rollups as r;
        // Every right-hand side reads the stored row, so the order is free.
        macro_rules! upsert {
            ($values:expr) => {
                diesel::insert_into(r::table)
                    .values($values)
                    .on_conflict((r::entity_id, r::span, r::bucket))
                    .do_update()
                    .set((
                        r::value_count.eq(r::value_count + excluded(r::value_count)),
                        r::value_sum.eq(r::value_sum + excluded(r::value_sum)),
                        r::min_value.eq(case_when(
                            excluded(r::min_value).lt(r::min_value),
                            excluded(r::min_value),
                        )
                        .otherwise(r::min_value)),
                        r::max_value.eq(case_when(
                            excluded(r::max_value).gt(r::max_value),
                            excluded(r::max_value),
                        )
                        .otherwise(r::max_value)),
                        r::first_value.eq(case_when(
                            excluded(r::first_ts).lt(r::first_ts),
                            excluded(r::first_value),
                        )
                        .otherwise(r::first_value)),
                        r::first_ts.eq(case_when(
                            excluded(r::first_ts).lt(r::first_ts),
                            excluded(r::first_ts),
                        )
                        .otherwise(r::first_ts)),
                        r::last_value.eq(case_when(
                            excluded(r::last_ts).gt(r::last_ts),
                            excluded(r::last_value),
                        )
                        .otherwise(r::last_value)),
                        r::last_ts.eq(case_when(
                            excluded(r::last_ts).gt(r::last_ts),
                            excluded(r::last_ts),
                        )
                        .otherwise(r::last_ts)),
                    ))
            };
        }
        match self.c() {
            DbConn::Pg(c) => {
                for chunk in rows.chunks(CHUNK) {
                    upsert!(chunk).execute(c).or_store()?;
                }
            }
            // diesel's SQLite upsert takes one row (see `upsert_latest`).
            DbConn::Sqlite(c) => {
                for row in &rows {
                    upsert!(row).execute(c).or_store()?;
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
