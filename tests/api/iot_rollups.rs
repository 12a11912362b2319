//! Rollups and retention (issue 16): `/entity/history/aggregate` over windows holding whole
//! minutes and hours answers from the rollups for those and from the raw history for the
//! edges, the same as over the raw history; retention deletes old raw points in bounded
//! batches and keeps the rollups, which then answer for whole minutes.

use std::collections::BTreeMap;

use crate::support::declared;
use serde_json::{Value, json};
use weir_iot::Viewer;
use weir_iot::ports::ValuePoint;
use weir_iot::rollup::{HOUR, MINUTE, bucket, rows_of};
use weir_iot::service::WriteKind;
use weir_iot::{EntityValue, integration::Integration};
use weir_kernel::{Id, TenantId};
use weir_test_kit::{Session, TestApp};

/// Meters: a LONG count, a DOUBLE reading and a STRING state.
fn meters() -> std::sync::Arc<dyn Integration> {
    declared(
        "meter",
        "Meters",
        vec![
            json!({"identifier": "n", "name": "Count", "type": "PROPERTY", "access_mod": "R", "value_type": "LONG"}),
            json!({"identifier": "x", "name": "Reading", "type": "PROPERTY", "access_mod": "R", "value_type": "DOUBLE"}),
            json!({"identifier": "s", "name": "State", "type": "PROPERTY", "access_mod": "R", "value_type": "STRING"}),
        ],
    )
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> i64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % below) as i64
    }
}

/// One stored point of the test: (ts, LONG value, DOUBLE value).
type Point = (i64, i64, f64);

/// A server with a meter `m1`; its entity ids by identifier.
async fn spawn(
    tweak: impl FnOnce(&mut weir::Settings),
) -> (TestApp, Session, BTreeMap<String, String>) {
    let app = TestApp::spawn_with_integrations(tweak, vec![meters()]).await;
    let admin = app.register_admin().await;
    let (s, body) = app
        .call(
            "POST",
            "/device",
            Some(&admin),
            Some(json!({"name": "M1", "integration": "meter"})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let id = body["data"]["device_id"].as_str().unwrap().to_owned();
    let (_, body) = app
        .call("GET", &format!("/device/{id}"), Some(&admin), None)
        .await;
    let ids = body["data"]["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["key"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("meter.device.m1.")
                    .to_owned(),
                e["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (app, admin, ids)
}

/// Reports each point (and, every tenth, a state) as the device would, one report each.
async fn report(app: &TestApp, points: Vec<Point>) {
    let iot = app.weir.iot.clone();
    tokio::task::spawn_blocking(move || {
        let system = Viewer::system(TenantId::default_tenant());
        for (i, (ts, n, x)) in points.into_iter().enumerate() {
            let mut values = json!({"meter.device.m1.n": n, "meter.device.m1.x": x});
            if i % 10 == 0 {
                values["meter.device.m1.s"] = json!(if i % 20 == 0 { "on" } else { "off" });
            }
            iot.write_values(
                &system,
                values.as_object().unwrap(),
                WriteKind::Report,
                Some(ts),
            )
            .unwrap();
        }
    })
    .await
    .unwrap();
}

async fn aggregate(
    app: &TestApp,
    admin: &Session,
    entity: &str,
    kind: &str,
    from: i64,
    to: i64,
) -> Value {
    let (s, body) = app
        .call(
            "POST",
            "/entity/history/aggregate",
            Some(admin),
            Some(json!({"entity_id": entity, "aggregate_type": kind, "start_timestamp": from, "end_timestamp": to})),
        )
        .await;
    assert_eq!(s, 200, "{kind} {from}..={to}: {body}");
    body["data"].clone()
}

/// What the raw history answers for the points in [from, to]: every kind but COUNT, for
/// the LONG entity (`long`) or the DOUBLE one.
fn expected(points: &[Point], from: i64, to: i64, kind: &str, long: bool) -> Value {
    let window: Vec<(i64, f64)> = points
        .iter()
        .filter(|p| from <= p.0 && p.0 <= to)
        .map(|p| (p.0, if long { p.1 as f64 } else { p.2 }))
        .collect();
    let value_type = if long { "LONG" } else { "DOUBLE" };
    let typed = |v: f64| if long { json!(v as i64) } else { json!(v) };
    if window.is_empty() {
        let value_type = if matches!(kind, "AVG" | "SUM") {
            "DOUBLE"
        } else {
            value_type
        };
        return json!({"value_type": value_type});
    }
    let values = window.iter().map(|w| w.1);
    match kind {
        "MIN" => {
            json!({"value": typed(values.fold(f64::INFINITY, f64::min)), "value_type": value_type})
        }
        "MAX" => {
            json!({"value": typed(values.fold(f64::NEG_INFINITY, f64::max)), "value_type": value_type})
        }
        "SUM" => json!({"value": values.sum::<f64>(), "value_type": "DOUBLE"}),
        "AVG" => {
            json!({"value": values.sum::<f64>() / window.len() as f64, "value_type": "DOUBLE"})
        }
        "LAST" => {
            let last = window.iter().max_by_key(|w| w.0).unwrap();
            json!({"value": typed(last.1), "value_type": value_type})
        }
        _ => unreachable!("{kind}"),
    }
}

const KINDS: [&str; 5] = ["MIN", "MAX", "AVG", "SUM", "LAST"];

/// Asserts the answer is the expected one. An AVG (a quotient, not a multiple of 1/4) may
/// read back one unit in the last place off: serde_json's default float parser does not
/// promise to read back the exact double the server wrote.
fn assert_answer(got: &Value, want: &Value, what: &str) {
    if let (Some(a), Some(b)) = (got["value"].as_f64(), want["value"].as_f64())
        && got["value"].is_f64()
    {
        assert!(
            (a - b).abs() <= b.abs() * 4.0 * f64::EPSILON,
            "{what}: {got} against {want}"
        );
        assert_eq!(got["value_type"], want["value_type"], "{what}");
        return;
    }
    assert_eq!(got, want, "{what}");
}

#[tokio::test]
async fn aggregates_over_rollups_equal_the_raw_aggregates() {
    let (app, admin, ids) = spawn(|_| {}).await;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // From 41 minutes before an hour, mid-minute, to 3 h 20 min later: whole hours,
    // whole minutes and partial minutes. DOUBLE values are multiples of 1/4, so that any
    // order of addition gives the same sums.
    let start = 500 * HOUR - 41 * MINUTE + 1_234;
    let end = start + 3 * HOUR + 20 * MINUTE;
    let mut points: Vec<Point> = Vec::new();
    let mut ts = start;
    while ts < end {
        points.push((
            ts,
            rng.next(2001) - 1000,
            (rng.next(8001) - 4000) as f64 / 4.0,
        ));
        ts += 1 + rng.next(25_000);
    }
    // Points exactly on minute and hour boundaries and just before them.
    for t in [
        501 * HOUR,
        501 * HOUR - 1,
        502 * HOUR + MINUTE,
        502 * HOUR + MINUTE - 1,
    ] {
        if !points.iter().any(|p| p.0 == t) {
            points.push((
                t,
                rng.next(2001) - 1000,
                (rng.next(8001) - 4000) as f64 / 4.0,
            ));
        }
    }
    report(&app, points.clone()).await;
    // Redelivered reports (same times, other values) are skipped by the history, and by the
    // rollups too.
    let again: Vec<Point> = points
        .iter()
        .step_by(17)
        .map(|p| (p.0, 999_999, 1e9))
        .collect();
    report(&app, again).await;

    let mut windows = vec![
        (start, end),
        (start - HOUR, end + HOUR),
        (start + 1_000, end - 1_000),
        (500 * HOUR, 502 * HOUR - 1),
        (500 * HOUR + 1, 502 * HOUR),
        (501 * HOUR - 1, 502 * HOUR + MINUTE),
        (
            500 * HOUR + 5 * MINUTE + 10,
            500 * HOUR + 5 * MINUTE + 50_000,
        ),
        (start - 10 * HOUR, start - 9 * HOUR),
    ];
    for _ in 0..12 {
        let a = start - 5 * MINUTE + rng.next((end - start + 10 * MINUTE) as u64);
        let b = a + rng.next((end + 5 * MINUTE - a) as u64);
        windows.push((a, b));
    }
    for (from, to) in windows {
        for (entity, long) in [("n", true), ("x", false)] {
            for kind in KINDS {
                let got = aggregate(&app, &admin, &ids[entity], kind, from, to).await;
                let want = expected(&points, from, to, kind, long);
                if kind == "AVG" {
                    assert_answer(&got, &want, &format!("AVG of {entity} over {from}..={to}"));
                } else {
                    assert_eq!(got, want, "{kind} of {entity} over {from}..={to}");
                }
            }
            let counts = aggregate(&app, &admin, &ids[entity], "COUNT", from, to).await;
            let total: i64 = counts["count_result"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["count"].as_i64().unwrap())
                .sum();
            let want = points.iter().filter(|p| from <= p.0 && p.0 <= to).count();
            assert_eq!(total, want as i64, "COUNT of {entity} over {from}..={to}");
        }
        // Non-numeric entities keep their behaviour: COUNT and LAST from the raw history,
        // numeric aggregates refused.
        let states = aggregate(&app, &admin, &ids["s"], "COUNT", from, to).await;
        assert!(states["count_result"].is_array(), "{states}");
        let (s, _) = app
            .call(
                "POST",
                "/entity/history/aggregate",
                Some(&admin),
                Some(json!({"entity_id": ids["s"], "aggregate_type": "SUM", "start_timestamp": from, "end_timestamp": to})),
            )
            .await;
        assert_eq!(s, 400);
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test]
async fn retention_deletes_old_points_and_the_rollups_answer_for_them() {
    let (app, admin, ids) = spawn(|s| {
        s.iot.retention_days = Some(2);
        s.iot.rollup_retention_days = Some(30);
        // Small batches: many transactions in one pass.
        s.iot.retention_batch = 100;
        s.iot.retention_pause_ms = 0;
    })
    .await;
    let now = now_ms();
    let mut rng = Rng(42);
    let mut series = |from: i64, count: usize, step: i64| -> Vec<Point> {
        (0..count)
            .map(|i| {
                (
                    from + i as i64 * step,
                    rng.next(201) - 100,
                    (rng.next(4001) - 2000) as f64 / 4.0,
                )
            })
            .collect()
    };
    // Past the rollups' retention, past the raw retention, and recent.
    let ancient = series(bucket(now - 40 * 24 * HOUR, HOUR) + 7_000, 20, 7_000);
    let old = series(
        bucket(now - 5 * 24 * HOUR, HOUR) + 10 * MINUTE + 3_500,
        800,
        7_000,
    );
    let recent = series(now - HOUR, 30, 60_000);
    report(
        &app,
        [ancient.clone(), old.clone(), recent.clone()].concat(),
    )
    .await;

    let weir = app.weir.clone();
    let outcome = tokio::task::spawn_blocking(move || weir.purge_old_values())
        .await
        .unwrap()
        .unwrap();
    // Each point is a LONG and a DOUBLE value; every tenth has a state as well.
    let states = |n: usize| n.div_ceil(10);
    let deleted = 2 * (ancient.len() + old.len()) + states(ancient.len()) + states(old.len());
    assert_eq!(outcome.history, deleted, "{outcome:?}");
    let entity = |e: &str| Id(ids[e].parse().unwrap());
    let ancient_rollups: Vec<ValuePoint> = ancient
        .iter()
        .flat_map(|p| {
            [
                ValuePoint {
                    entity_id: entity("n"),
                    timestamp: p.0,
                    value: EntityValue::Long(p.1),
                },
                ValuePoint {
                    entity_id: entity("x"),
                    timestamp: p.0,
                    value: EntityValue::Double(p.2),
                },
            ]
        })
        .collect();
    assert_eq!(
        outcome.rollups,
        rows_of(&ancient_rollups).len(),
        "{outcome:?}"
    );

    // The raw points are gone but the recent ones.
    let total = |from: i64, to: i64| {
        let app = &app;
        let admin = &admin;
        let id = ids["n"].clone();
        async move {
            let (_, body) = app
                .call(
                    "POST",
                    "/entity/history/search",
                    Some(admin),
                    Some(json!({"entity_id": id, "start_timestamp": from, "end_timestamp": to})),
                )
                .await;
            body["data"]["total"].as_i64().unwrap()
        }
    };
    assert_eq!(total(0, now - 2 * 24 * HOUR).await, 0);
    assert_eq!(total(now - 2 * HOUR, now).await, recent.len() as i64);

    // Over the deleted points, the rollups answer for the whole minutes of the window: a
    // window from mid-minute to mid-minute counts the points of its whole minutes only.
    let (from, to) = (old[3].0 + 1, old[old.len() - 5].0 + 1);
    let (m0, m1) = (bucket(from + MINUTE - 1, MINUTE), bucket(to + 1, MINUTE));
    for (e, long) in [("n", true), ("x", false)] {
        for kind in KINDS {
            let got = aggregate(&app, &admin, &ids[e], kind, from, to).await;
            let want = expected(&old, m0, m1 - 1, kind, long);
            assert_answer(&got, &want, &format!("{kind} of {e} over deleted points"));
        }
        // A window over deleted and kept points: rollups for the deleted whole minutes,
        // raw points for the rest.
        let all = [old.clone(), recent.clone()].concat();
        let from = old[0].0 - 30_000;
        let m0 = bucket(from + MINUTE - 1, MINUTE);
        for kind in ["MIN", "MAX", "AVG", "SUM", "LAST"] {
            let got = aggregate(&app, &admin, &ids[e], kind, from, now).await;
            assert_answer(
                &got,
                &expected(&all, m0, now, kind, long),
                &format!("{kind} of {e}"),
            );
        }
        // COUNT of distinct values reads raw points only: none are left.
        let counts = aggregate(&app, &admin, &ids[e], "COUNT", from, to).await;
        assert_eq!(counts["count_result"], json!([]));
        // Past the rollups' retention nothing is left.
        let (a, b) = (ancient[0].0 - MINUTE, ancient[19].0 + MINUTE);
        let got = aggregate(&app, &admin, &ids[e], "MAX", a, b).await;
        assert!(got.get("value").is_none(), "{got}");
    }
}
