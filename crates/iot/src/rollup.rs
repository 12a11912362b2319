//! Rollups of numeric history: per entity, per minute and per hour, the count, sum, min,
//! max, first and last of its LONG and DOUBLE values. The storage adapter keeps them at
//! ingest (in the transaction that appends the history); aggregates over long windows read
//! whole minutes and hours from them and only the edges from the raw history, so the
//! answer is the raw aggregate's (see docs/scaling.md, "Rollups and retention").

use std::collections::BTreeMap;

use weir_kernel::{Id, Millis};

use crate::ports::ValuePoint;
use crate::value::EntityValue;

/// One minute, in milliseconds: the span of the finer rollups.
pub const MINUTE: Millis = 60_000;
/// One hour, in milliseconds: the span of the coarser rollups.
pub const HOUR: Millis = 3_600_000;
/// The spans rollups are kept for, finest first.
pub const SPANS: [Millis; 2] = [MINUTE, HOUR];

/// 2^-64: what sums are scaled by, in rollups as in the raw aggregates. A power of two
/// changes no digit of a double, and a running total of values near the largest double
/// can no longer overflow where the result itself fits.
pub const SUM_SCALE: f64 = 1.0 / 18_446_744_073_709_551_616.0;

/// The numbers of one bucket (or of any set of points): enough to answer COUNT of points,
/// SUM, AVG (sum over count), MIN, MAX, FIRST and LAST.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rollup {
    /// How many points.
    pub count: i64,
    /// Their sum, scaled by [`SUM_SCALE`].
    pub sum_scaled: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
    /// The oldest point's time.
    pub first_ts: Millis,
    /// The oldest point's value.
    pub first: f64,
    /// The newest point's time.
    pub last_ts: Millis,
    /// The newest point's value.
    pub last: f64,
}

impl Rollup {
    /// The rollup of one point.
    pub fn of(ts: Millis, value: f64) -> Self {
        Self {
            count: 1,
            sum_scaled: value * SUM_SCALE,
            min: value,
            max: value,
            first_ts: ts,
            first: value,
            last_ts: ts,
            last: value,
        }
    }

    /// Adds the points `other` sums up (points of other times than this one's).
    pub fn merge(&mut self, other: &Rollup) {
        self.count += other.count;
        self.sum_scaled += other.sum_scaled;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        if other.first_ts < self.first_ts {
            self.first_ts = other.first_ts;
            self.first = other.first;
        }
        if other.last_ts > self.last_ts {
            self.last_ts = other.last_ts;
            self.last = other.last;
        }
    }

    /// Merges the rollups that are there; `None` when there is none.
    pub fn combine(parts: impl IntoIterator<Item = Option<Rollup>>) -> Option<Rollup> {
        parts.into_iter().flatten().reduce(|mut a, b| {
            a.merge(&b);
            a
        })
    }

    /// The sum, scaled back.
    pub fn sum(&self) -> f64 {
        self.sum_scaled / SUM_SCALE
    }

    /// The mean.
    pub fn avg(&self) -> f64 {
        self.sum_scaled / self.count as f64 / SUM_SCALE
    }
}

/// The number a value is rolled up as: LONG and DOUBLE values; `None` for the others.
pub fn number(value: &EntityValue) -> Option<f64> {
    match value {
        EntityValue::Long(n) => Some(*n as f64),
        EntityValue::Double(d) => Some(*d),
        _ => None,
    }
}

/// The start of the bucket of `span` holding `ts` (buckets start at the epoch).
pub fn bucket(ts: Millis, span: Millis) -> Millis {
    ts - ts.rem_euclid(span)
}

/// One rollup row: an entity's points in one bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RollupRow {
    /// The entity.
    pub entity_id: Id,
    /// [`MINUTE`] or [`HOUR`].
    pub span: Millis,
    /// The bucket's start.
    pub bucket: Millis,
    /// Its numbers.
    pub rollup: Rollup,
}

/// The rollup rows of newly stored points, for every span: one per entity, span and
/// bucket, sorted by (entity, span, bucket) so that concurrent writers update rows in the
/// same order. Points of non-numeric values are left out.
pub fn rows_of<'a>(points: impl IntoIterator<Item = &'a ValuePoint>) -> Vec<RollupRow> {
    let mut rows: BTreeMap<(i64, Millis, Millis), Rollup> = BTreeMap::new();
    for p in points {
        let Some(v) = number(&p.value) else {
            continue;
        };
        let one = Rollup::of(p.timestamp, v);
        for span in SPANS {
            rows.entry((p.entity_id.get(), span, bucket(p.timestamp, span)))
                .and_modify(|r| r.merge(&one))
                .or_insert(one);
        }
    }
    rows.into_iter()
        .map(|((entity, span, bucket), rollup)| RollupRow {
            entity_id: Id(entity),
            span,
            bucket,
            rollup,
        })
        .collect()
}

/// A window [from, to] cut into what rollups answer and what the raw history answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowPlan {
    /// Inclusive ranges [a, b] read from the raw history: the partial minutes at the edges.
    pub raw: Vec<(Millis, Millis)>,
    /// Half-open ranges [a, b) of whole minutes read from minute rollups.
    pub minutes: Vec<(Millis, Millis)>,
    /// The half-open range [a, b) of whole hours read from hour rollups, if any.
    pub hours: Option<(Millis, Millis)>,
}

impl WindowPlan {
    /// Cuts [from, to] (inclusive, as the API's windows): `None` when it holds no whole
    /// minute (the raw history answers it all).
    pub fn of(from: Millis, to: Millis) -> Option<Self> {
        if from > to {
            return None;
        }
        // Whole minutes: [m0, m1).
        let m0 = from.checked_add(MINUTE - 1).map(|f| bucket(f, MINUTE))?;
        let m1 = to.checked_add(1).map(|t| bucket(t, MINUTE))?;
        if m0 >= m1 {
            return None;
        }
        let mut raw = Vec::new();
        if from < m0 {
            raw.push((from, m0 - 1));
        }
        if m1 <= to {
            raw.push((m1, to));
        }
        let h0 = m0.checked_add(HOUR - 1).map(|m| bucket(m, HOUR))?;
        let h1 = bucket(m1, HOUR);
        let (minutes, hours) = if h0 < h1 {
            let minutes = [(m0, h0), (h1, m1)]
                .into_iter()
                .filter(|(a, b)| a < b)
                .collect();
            (minutes, Some((h0, h1)))
        } else {
            (vec![(m0, m1)], None)
        };
        Some(Self {
            raw,
            minutes,
            hours,
        })
    }
}

/// How long one tenant's values are kept, in days; `None` keeps them forever.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// Raw history points older than this are deleted.
    pub raw_days: Option<u32>,
    /// Rollup rows whose bucket ended longer ago than this are deleted.
    pub rollup_days: Option<u32>,
}

impl Retention {
    /// Keeps everything.
    pub fn is_forever(&self) -> bool {
        self.raw_days.is_none() && self.rollup_days.is_none()
    }
}

/// Retention for every tenant: a default, and tenants of their own.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RetentionPolicy {
    /// What tenants without their own setting keep.
    pub default: Retention,
    /// Tenants with their own setting, by tenant id.
    pub tenants: BTreeMap<String, Retention>,
}

impl RetentionPolicy {
    /// What `tenant` keeps.
    pub fn of(&self, tenant: &str) -> Retention {
        self.tenants.get(tenant).copied().unwrap_or(self.default)
    }
}

/// The time before which data kept `days` is deleted, at `now`.
pub fn cutoff(now: Millis, days: u32) -> Millis {
    now.saturating_sub(i64::from(days) * 86_400_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(e: i64, ts: Millis, v: f64) -> ValuePoint {
        ValuePoint {
            entity_id: Id(e),
            timestamp: ts,
            value: EntityValue::Double(v),
        }
    }

    #[test]
    fn a_window_splits_into_edges_minutes_and_hours() {
        assert_eq!(
            WindowPlan::of(0, 59_999),
            Some(WindowPlan {
                raw: vec![],
                minutes: vec![(0, 60_000)],
                hours: None
            })
        );
        assert_eq!(WindowPlan::of(1, 60_000), None, "no whole minute");
        assert_eq!(WindowPlan::of(10, 5), None);
        let from = HOUR - 90_500; // mid-minute, before the first whole hour
        let to = 3 * HOUR + 61_234; // mid-minute, after the last
        assert_eq!(
            WindowPlan::of(from, to),
            Some(WindowPlan {
                raw: vec![(from, HOUR - 60_001), (3 * HOUR + 60_000, to)],
                minutes: vec![(HOUR - 60_000, HOUR), (3 * HOUR, 3 * HOUR + 60_000)],
                hours: Some((HOUR, 3 * HOUR)),
            })
        );
        // Exactly whole hours: no edges, no minutes.
        assert_eq!(
            WindowPlan::of(HOUR, 2 * HOUR - 1),
            Some(WindowPlan {
                raw: vec![],
                minutes: vec![],
                hours: Some((HOUR, 2 * HOUR)),
            })
        );
        // Before the epoch too.
        assert_eq!(
            WindowPlan::of(-90_000, -1).map(|p| p.minutes),
            Some(vec![(-60_000, 0)])
        );
    }

    #[test]
    fn every_instant_of_a_window_is_covered_once() {
        for (from, to) in [
            (0, 10 * HOUR),
            (123, 3 * HOUR + 7),
            (59_999, 2 * HOUR + 60_000),
        ] {
            let plan = WindowPlan::of(from, to).unwrap();
            // Sample instants every 997 ms and at the boundaries.
            let mut t = from;
            while t <= to {
                let hits = plan.raw.iter().filter(|(a, b)| *a <= t && t <= *b).count()
                    + plan
                        .minutes
                        .iter()
                        .filter(|(a, b)| *a <= t && t < *b)
                        .count()
                    + plan.hours.iter().filter(|(a, b)| *a <= t && t < *b).count();
                assert_eq!(hits, 1, "{t} in {from}..={to}: {plan:?}");
                t += 997;
            }
        }
    }

    #[test]
    fn rows_merge_points_per_bucket_and_match_a_direct_reduction() {
        let points: Vec<ValuePoint> = (0..500)
            .map(|i| point(1 + i % 2, i * 17_001, ((i * 37) % 101) as f64 - 50.0))
            .collect();
        let rows = rows_of(&points);
        for span in SPANS {
            let mut total: BTreeMap<i64, Rollup> = BTreeMap::new();
            for r in rows.iter().filter(|r| r.span == span) {
                assert_eq!(r.bucket % span, 0);
                assert!(r.rollup.first_ts >= r.bucket && r.rollup.last_ts < r.bucket + span);
                total
                    .entry(r.entity_id.get())
                    .and_modify(|t| t.merge(&r.rollup))
                    .or_insert(r.rollup);
            }
            for (e, t) in total {
                let mine: Vec<&ValuePoint> =
                    points.iter().filter(|p| p.entity_id.get() == e).collect();
                let values: Vec<f64> = mine.iter().filter_map(|p| number(&p.value)).collect();
                assert_eq!(t.count, mine.len() as i64);
                assert_eq!(t.sum(), values.iter().sum::<f64>());
                assert_eq!(t.min, values.iter().copied().fold(f64::INFINITY, f64::min));
                assert_eq!(
                    t.max,
                    values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                );
                assert_eq!((t.first_ts, t.first), (mine[0].timestamp, values[0]));
                let last = mine.len() - 1;
                assert_eq!((t.last_ts, t.last), (mine[last].timestamp, values[last]));
            }
        }
        let text = ValuePoint {
            entity_id: Id(3),
            timestamp: 0,
            value: EntityValue::String("x".into()),
        };
        assert!(
            rows_of([&text]).is_empty(),
            "non-numeric values are not rolled up"
        );
    }

    #[test]
    fn retention_falls_back_to_the_default() {
        let policy = RetentionPolicy {
            default: Retention {
                raw_days: Some(30),
                rollup_days: None,
            },
            tenants: [("acme".to_owned(), Retention::default())].into(),
        };
        assert_eq!(policy.of("other").raw_days, Some(30));
        assert!(policy.of("acme").is_forever());
        assert_eq!(cutoff(86_400_000 * 2, 1), 86_400_000);
    }
}
