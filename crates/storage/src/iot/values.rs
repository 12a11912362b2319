//! Latest values, history and aggregates: [`ValueRepo`] over diesel.

use std::collections::BTreeMap;

use diesel::dsl::{case_when, count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Binary, Bool, Double, Nullable, Text};
use diesel::upsert::excluded;
use weir_iot::model::ValueType;
use weir_iot::ports::{Aggregate, AggregateResult, EntityRepo, ValuePoint, ValueRepo};
use weir_iot::rollup::{Rollup, SUM_SCALE};
use weir_kernel::{Id, Millis, PageRequest, StoreError, TenantId};

use super::IotRepo;
use super::rows::*;
use super::shared::*;
use crate::backend::DbConn;
use crate::errors::OrStore;
use crate::filters::ids;
use crate::schema::*;

fn load_points(rows: Vec<ValueTuple>) -> R<Vec<ValuePoint>> {
    rows.into_iter().map(point_of).collect()
}

/// The selected columns of a value table, as [`ValueTuple`].
macro_rules! value_columns {
    ($t:ident) => {
        (
            $t::entity_id,
            $t::ts,
            $t::long_value,
            $t::double_value,
            $t::bool_value,
            $t::text_value,
            $t::binary_value,
        )
    };
}

/// Stores the points of a batch that met a stored point, skipping those already stored,
/// and answers the keys it stored: one statement whatever the batch size (the columns
/// travel as arrays, so PostgreSQL parses and plans once).
fn insert_skipping_stored(
    c: &mut diesel::PgConnection,
    t: &TenantId,
    points: &[ValuePoint],
) -> R<Vec<(i64, i64)>> {
    let columns = HistoryColumns::of(points);
    let stored: Vec<StoredKey> = diesel::sql_query(
        "INSERT INTO entity_history \
         (entity_id, ts, tenant_id, long_value, double_value, bool_value, text_value, binary_value) \
         SELECT e, ts, $1, l, d, b, x, y \
         FROM unnest($2, $3, $4, $5, $6, $7, $8) AS u(e, ts, l, d, b, x, y) \
         ON CONFLICT DO NOTHING RETURNING entity_id, ts",
    )
    .bind::<Text, _>(t.as_str())
    .bind::<Array<BigInt>, _>(&columns.entity_ids)
    .bind::<Array<BigInt>, _>(&columns.timestamps)
    .bind::<Array<Nullable<BigInt>>, _>(&columns.values.long_value)
    .bind::<Array<Nullable<Double>>, _>(&columns.values.double_value)
    .bind::<Array<Nullable<Bool>>, _>(&columns.values.bool_value)
    .bind::<Array<Nullable<Text>>, _>(&columns.values.text_value)
    .bind::<Array<Nullable<Binary>>, _>(&columns.values.binary_value)
    .load(c)
    .or_store()?;
    Ok(stored.into_iter().map(|k| (k.entity_id, k.ts)).collect())
}

impl ValueRepo for IotRepo {
    fn append_history(&mut self, t: &TenantId, points: &[ValuePoint]) -> R<()> {
        // A point at a time already stored is skipped, and only the points stored are
        // added to the rollups. The common case (nothing stored yet) runs a plain insert
        // in a savepoint; only when it meets a stored point (a redelivered message) is
        // the batch stored again, skipping those. (A plain insert checks the key once per
        // row; ON CONFLICT checks it again before inserting.)
        let rows: Vec<HistoryRow> = points
            .iter()
            .map(|p| HistoryRow::new(t.as_str(), p))
            .collect();
        let all_new = match self.c() {
            // Binary COPY: no statement to parse or plan, the values sent in their binary
            // form (measured in docs/scaling.md).
            DbConn::Pg(c) => {
                let plain = c.transaction(|c| {
                    diesel::copy_from(entity_history::table)
                        .from_insertable(&rows)
                        .execute(c)
                });
                match plain {
                    Err(diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _,
                    )) => Some(insert_skipping_stored(c, t, points)?),
                    other => {
                        other.or_store()?;
                        None
                    }
                }
            }
            // SQLite has no arrays; it runs multi-row statements of CHUNK rows.
            DbConn::Sqlite(c) => {
                let plain = c.transaction(|c| {
                    for chunk in rows.chunks(CHUNK) {
                        diesel::insert_into(entity_history::table)
                            .values(chunk)
                            .execute(c)?;
                    }
                    Ok(())
                });
                match plain {
                    Err(diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _,
                    )) => {
                        let mut stored = Vec::new();
                        for row in &rows {
                            if diesel::insert_or_ignore_into(entity_history::table)
                                .values(row)
                                .execute(c)
                                .or_store()?
                                == 1
                            {
                                stored.push((row.entity_id, row.ts));
                            }
                        }
                        Some(stored)
                    }
                    other => {
                        other.or_store()?;
                        None
                    }
                }
            }
        };
        match all_new {
            None => self.add_rollups(t, points),
            Some(stored) => {
                // Each stored key once: of two points of one time in the batch, the first
                // was stored.
                let mut stored: std::collections::BTreeSet<(i64, i64)> =
                    stored.into_iter().collect();
                let kept: Vec<&ValuePoint> = points
                    .iter()
                    .filter(|p| stored.remove(&(p.entity_id.get(), p.timestamp)))
                    .collect();
                self.add_rollups(t, kept)
            }
        }
    }

    fn upsert_latest(&mut self, t: &TenantId, points: &[ValuePoint]) -> R<()> {
        // Once per entity per batch: the newest point of each, in entity order so that
        // concurrent batches lock rows in the same order (no deadlock).
        let mut newest: BTreeMap<Id, &ValuePoint> = BTreeMap::new();
        for p in points {
            let slot = newest.entry(p.entity_id).or_insert(p);
            if p.timestamp > slot.timestamp {
                *slot = p;
            }
        }
        let rows: Vec<LatestRow> = newest
            .values()
            .map(|p| LatestRow::new(t.as_str(), p))
            .collect();
        // Each column keeps its stored value unless the incoming point is newer: a
        // conditional upsert both backends accept, safe under concurrent writers.
        macro_rules! newer_or_kept {
            ($col:expr) => {
                $col.eq(case_when(
                    excluded(entity_latest::ts).gt(entity_latest::ts),
                    excluded($col),
                )
                .otherwise($col))
            };
        }
        macro_rules! upsert {
            ($values:expr) => {
                diesel::insert_into(entity_latest::table)
                    .values($values)
                    .on_conflict(entity_latest::entity_id)
                    .do_update()
                    .set((
                        newer_or_kept!(entity_latest::long_value),
                        newer_or_kept!(entity_latest::double_value),
                        newer_or_kept!(entity_latest::bool_value),
                        newer_or_kept!(entity_latest::text_value),
                        newer_or_kept!(entity_latest::binary_value),
                        // Every right-hand side reads the stored row, so the order is free.
                        newer_or_kept!(entity_latest::ts),
                    ))
            };
        }
        match self.c() {
            DbConn::Pg(c) => {
                for chunk in rows.chunks(CHUNK) {
                    upsert!(chunk).execute(c).or_store()?;
                }
            }
            // diesel's SQLite upsert takes one row; in-process with a cached prepared
            // statement, that is cheap.
            DbConn::Sqlite(c) => {
                for row in &rows {
                    upsert!(row).execute(c).or_store()?;
                }
            }
        }
        Ok(())
    }

    fn latest(&mut self, t: &TenantId, wanted: &[Id]) -> R<Vec<ValuePoint>> {
        let mut out = Vec::new();
        for chunk in ids(wanted).chunks(CHUNK) {
            let rows: Vec<ValueTuple> = entity_latest::table
                .filter(entity_latest::tenant_id.eq(t.as_str()))
                .filter(entity_latest::entity_id.eq_any(chunk))
                .select(value_columns!(entity_latest))
                .load(self.c())
                .or_store()?;
            out.extend(load_points(rows)?);
        }
        Ok(out)
    }

    fn history(
        &mut self,
        t: &TenantId,
        entity: Id,
        from: Millis,
        to: Millis,
        page: &PageRequest,
    ) -> R<(Vec<ValuePoint>, i64)> {
        let window = entity_history::table
            .filter(entity_history::tenant_id.eq(t.as_str()))
            .filter(entity_history::entity_id.eq(entity.get()))
            .filter(entity_history::ts.between(from, to));
        let total: i64 = window.count().get_result(self.c()).or_store()?;
        let rows: Vec<ValueTuple> = window
            .order(entity_history::ts.desc())
            .offset(page.offset())
            .limit(page.limit())
            .select(value_columns!(entity_history))
            .load(self.c())
            .or_store()?;
        Ok((load_points(rows)?, total))
    }

    fn aggregate(
        &mut self,
        t: &TenantId,
        entity: Id,
        from: Millis,
        to: Millis,
        aggregate: Aggregate,
    ) -> R<AggregateResult> {
        let Some(e) = self.entity(t, entity)? else {
            return Ok(AggregateResult::Number(None));
        };
        let window = entity_history::table
            .filter(entity_history::tenant_id.eq(t.as_str()))
            .filter(entity_history::entity_id.eq(entity.get()))
            .filter(entity_history::ts.between(from, to));
        let value_type = e.definition.value_type;
        if aggregate == Aggregate::Last {
            let row: Option<ValueTuple> = window
                .order(entity_history::ts.desc())
                .select(value_columns!(entity_history))
                .first(self.c())
                .optional()
                .or_store()?;
            return Ok(AggregateResult::Last(row.map(point_of).transpose()?));
        }
        if aggregate == Aggregate::Count {
            return Ok(AggregateResult::Counts(
                self.count_values(t, entity, from, to, value_type)?,
            ));
        }
        // The use-case admits MIN, MAX, AVG and SUM for numbers only.
        let column = Self::number_column(value_type).ok_or_else(|| {
            StoreError::Internal(format!("{aggregate:?} of a {} entity", value_type.as_str()))
        })?;
        let n = sql::<Nullable<Double>>(column);
        // AVG and SUM add up values scaled down by 2^-64 and scale the result back: a power
        // of two changes no digit of a double, and the running total can no longer
        // overflow (PostgreSQL fails the statement when it does, SQLite answers infinity)
        // where the result itself fits. AVG is that sum over the count: PostgreSQL's own
        // AVG of doubles also adds up squares, which overflow far sooner. A SUM past the
        // range of a double comes back infinite, for the use-case to refuse. (`{:e}`
        // writes the shortest text that reads back as the same double.)
        let scaled = sql::<Nullable<Double>>(&format!("({column} * {SUM_SCALE:e})"));
        let c = self.c();
        let value: Option<f64> = match aggregate {
            Aggregate::Min => window.select(diesel::dsl::min(n)).first(c).or_store()?,
            Aggregate::Max => window.select(diesel::dsl::max(n)).first(c).or_store()?,
            Aggregate::Avg => {
                let (sum, count): (Option<f64>, i64) = window
                    .select((diesel::dsl::sum(scaled), diesel::dsl::count(n)))
                    .first(c)
                    .or_store()?;
                sum.map(|s| s / count as f64 / SUM_SCALE)
            }
            _ => window
                .select(diesel::dsl::sum(scaled))
                .first::<Option<f64>>(c)
                .or_store()?
                .map(|s| s / SUM_SCALE),
        };
        Ok(AggregateResult::Number(value))
    }

    fn history_rollup(
        &mut self,
        t: &TenantId,
        entity: Id,
        value_type: ValueType,
        from: Millis,
        to: Millis,
    ) -> R<Option<Rollup>> {
        self.raw_rollup(t, entity, value_type, from, to)
    }

    fn rollup(
        &mut self,
        t: &TenantId,
        entity: Id,
        span: Millis,
        from: Millis,
        to: Millis,
    ) -> R<Option<Rollup>> {
        self.stored_rollup(t, entity, span, from, to)
    }

    fn value_tenants(&mut self) -> R<Vec<TenantId>> {
        self.tenants_with_entities()
    }

    fn value_entities(&mut self, t: &TenantId) -> R<Vec<Id>> {
        self.entity_ids(t)
    }

    fn delete_history_before(
        &mut self,
        t: &TenantId,
        entity: Id,
        before: Millis,
        limit: usize,
    ) -> R<usize> {
        self.delete_old_history(t, entity, before, limit)
    }

    fn delete_rollups_before(
        &mut self,
        t: &TenantId,
        entity: Id,
        before: Millis,
        limit: usize,
    ) -> R<usize> {
        self.delete_old_rollups(t, entity, before, limit)
    }
}

/// The key of a history row an `INSERT ... RETURNING` stored.
#[derive(QueryableByName)]
struct StoredKey {
    #[diesel(sql_type = BigInt)]
    entity_id: i64,
    #[diesel(sql_type = BigInt)]
    ts: i64,
}

impl IotRepo {
    /// The number of an entity's history: `long_value` or `double_value` as a double (CAST
    /// to DOUBLE PRECISION reads as REAL on SQLite).
    pub(super) fn number_column(value_type: ValueType) -> Option<&'static str> {
        match value_type {
            ValueType::Long => Some("CAST(long_value AS DOUBLE PRECISION)"),
            ValueType::Double => Some("double_value"),
            _ => None,
        }
    }

    /// COUNT: how often each distinct value occurs in the window, most frequent first.
    fn count_values(
        &mut self,
        t: &TenantId,
        entity: Id,
        from: Millis,
        to: Millis,
        value_type: ValueType,
    ) -> R<Vec<(String, i64)>> {
        let window = entity_history::table
            .filter(entity_history::tenant_id.eq(t.as_str()))
            .filter(entity_history::entity_id.eq(entity.get()))
            .filter(entity_history::ts.between(from, to));
        macro_rules! grouped {
            ($col:expr, $text:expr) => {
                window
                    .group_by($col)
                    .select(($col, count_star()))
                    .load(self.c())
                    .or_store()?
                    .into_iter()
                    .filter_map(|(v, n): (Option<_>, i64)| v.map(|v| ($text(v), n)))
                    .collect::<Vec<(String, i64)>>()
            };
        }
        let mut counts = match value_type {
            ValueType::Long => grouped!(entity_history::long_value, |v: i64| v.to_string()),
            ValueType::Double => grouped!(entity_history::double_value, |v: f64| v.to_string()),
            ValueType::Boolean => grouped!(entity_history::bool_value, |v: bool| v.to_string()),
            ValueType::String => grouped!(entity_history::text_value, |v: String| v),
            ValueType::Binary => {
                grouped!(entity_history::binary_value, |v: Vec<u8>| {
                    weir_iot::value::EntityValue::Binary(v).as_text()
                })
            }
            ValueType::Object => Vec::new(),
        };
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(counts)
    }
}
