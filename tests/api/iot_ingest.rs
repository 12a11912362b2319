//! HTTP ingest: `POST /device/{id}/token` issues a device its token, and
//! `POST /device/report` takes the device's values with that token in `X-Device-Token`,
//! creating entities on first sight. With the thermostats of `iot_smoke`.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use weir_test_kit::{PASSWORD, Session, TestApp};

use crate::iot_smoke::Thermostats;
use crate::support::{
    ACME, Answer, UNKNOWN_ID, add_tenant, forbidden, invalid, login_in, not_found, ok, refused,
    register_in, send, unauthenticated, user_with,
};

const HALL: &str = "thermo.device.SN-0001";
/// An end of window after any arrival time (2100-01-01).
const END: i64 = 4_102_444_800_000;
/// What the 401 of a bad device token says.
const BAD_TOKEN: &str = "device token is missing, unknown or replaced";

// ---- servers, devices and calls ----

async fn thermo_app() -> (TestApp, Session) {
    let app = TestApp::spawn_with_integrations(|_| {}, vec![Thermostats::arc()]).await;
    let admin = app.register_admin().await;
    (app, admin)
}

/// Adds a thermostat (it declares a DOUBLE `temp` in °C) as `who`; returns its id.
async fn new_device(app: &TestApp, who: &Session, name: &str, serial: &str) -> String {
    let body = json!({"name": name, "integration": "thermo", "param_entities": {"sn": serial}});
    let answer = app
        .call("POST", "/api/v1/device", Some(who), Some(body))
        .await;
    ok(&answer)["device_id"]
        .as_str()
        .expect("device_id")
        .to_owned()
}

/// `POST /api/v1/device/{id}/token` as `who`.
async fn issue(app: &TestApp, who: Option<&Session>, id: &str) -> Answer {
    let path = format!("/api/v1/device/{id}/token");
    app.call("POST", &path, who, None).await
}

/// Issues a token as `who` and returns it after checking the answer's shape.
async fn token_for(app: &TestApp, who: &Session, id: &str, key: &str) -> String {
    let answer = issue(app, Some(who), id).await;
    let data = ok(&answer);
    let token = data["token"].as_str().expect("token").to_owned();
    assert_eq!(
        data,
        &json!({"device_id": id, "device_key": key, "token": token})
    );
    let hex = token.strip_prefix("wdt_").expect("wdt_ prefix");
    assert_eq!(hex.len(), 64, "{token}");
    assert!(
        hex.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{token}"
    );
    token
}

/// `POST path` with a raw JSON body and, when given, the device token header.
async fn report_at(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Answer {
    let mut req = app
        .client()
        .post(app.url(path))
        .header("content-type", "application/json")
        .body(body);
    if let Some(t) = token {
        req = req.header("X-Device-Token", t);
    }
    send(req).await.0
}

/// `POST /api/v1/device/report` with this JSON body.
async fn report(app: &TestApp, token: Option<&str>, body: &Value) -> Answer {
    report_at(app, "/api/v1/device/report", token, body.to_string()).await
}

/// Reports and asserts the answer is `{"stored": n}`.
async fn reported(app: &TestApp, token: &str, body: &Value, n: usize) {
    let answer = report(app, Some(token), body).await;
    assert_eq!(ok(&answer), &json!({"stored": n}), "{body}");
}

fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock");
    i64::try_from(since.as_millis()).expect("ms")
}

/// Reports and returns the window `(before, after)` of the server's arrival stamp.
async fn reported_now(app: &TestApp, token: &str, body: &Value, n: usize) -> (i64, i64) {
    let before = now_ms();
    reported(app, token, body, n).await;
    (before, now_ms())
}

/// Asserts a 400 with this code whose message names `field`.
fn refused_naming(answer: &Answer, code: &str, field: &str) {
    let message = refused(answer, 400, code);
    assert!(message.contains(field), "`{field}` not named in: {message}");
}

// ---- reading back through the user API ----

/// The device's entities from `GET /api/v1/device/{id}`, by key.
async fn device_entities(app: &TestApp, who: &Session, id: &str) -> BTreeMap<String, Value> {
    let answer = app
        .call("GET", &format!("/api/v1/device/{id}"), Some(who), None)
        .await;
    ok(&answer)["entities"]
        .as_array()
        .expect("entities")
        .iter()
        .map(|e| (e["key"].as_str().expect("key").to_owned(), e.clone()))
        .collect()
}

/// The id of every entity of the device, by key.
async fn entity_ids(app: &TestApp, who: &Session, id: &str) -> BTreeMap<String, String> {
    device_entities(app, who, id)
        .await
        .into_iter()
        .map(|(k, e)| (k, e["id"].as_str().expect("id").to_owned()))
        .collect()
}

/// Every entity row of `POST /api/v1/entity/search` whose key holds `keyword`.
async fn search_entities(app: &TestApp, who: &Session, keyword: &str) -> Value {
    let body = json!({"keyword": keyword, "page_size": 100});
    let answer = app
        .call("POST", "/api/v1/entity/search", Some(who), Some(body))
        .await;
    ok(&answer).clone()
}

/// The whole history of an entity, newest first (`{total, content, ...}`).
async fn history(app: &TestApp, who: &Session, entity: &str) -> Value {
    let body =
        json!({"entity_id": entity, "start_timestamp": 0, "end_timestamp": END, "page_size": 100});
    let answer = app
        .call(
            "POST",
            "/api/v1/entity/history/search",
            Some(who),
            Some(body),
        )
        .await;
    ok(&answer).clone()
}

/// The history's points as `(timestamp, value)`, newest first; checks the total and the
/// value type.
async fn points(app: &TestApp, who: &Session, entity: &str, value_type: &str) -> Vec<(i64, Value)> {
    let page = history(app, who, entity).await;
    let content = page["content"].as_array().expect("content");
    assert_eq!(page["total"], content.len(), "{page}");
    content
        .iter()
        .map(|p| {
            assert_eq!(p["value_type"], value_type, "{p}");
            assert_eq!(p.as_object().map(Map::len), Some(3), "{p}");
            (
                p["timestamp"].as_i64().expect("timestamp"),
                p["value"].clone(),
            )
        })
        .collect()
}

/// `GET /api/v1/entity/{id}/status`.
async fn status(app: &TestApp, who: &Session, entity: &str) -> Value {
    let path = format!("/api/v1/entity/{entity}/status");
    ok(&app.call("GET", &path, Some(who), None).await).clone()
}

/// Every entity of `who`'s tenant with its whole history and latest value: what a refused
/// report must leave as it was.
async fn snapshot(app: &TestApp, who: &Session) -> Value {
    let rows = search_entities(app, who, "").await;
    let mut out = Map::new();
    for row in rows["content"].as_array().expect("content") {
        let id = row["entity_id"].as_str().expect("entity_id");
        let key = row["entity_key"].as_str().expect("entity_key");
        let values = json!({
            "history": history(app, who, id).await,
            "latest": status(app, who, id).await,
        });
        out.insert(key.to_owned(), values);
    }
    assert_eq!(rows["total"], out.len(), "{rows}");
    Value::Object(out)
}

/// A device Hall with its token, which has reported a temperature, a count and a position
/// once.
async fn reporting_hall() -> (TestApp, Session, String, String) {
    let (app, admin) = thermo_app().await;
    let hall = new_device(&app, &admin, "Hall", "SN-0001").await;
    let token = token_for(&app, &admin, &hall, HALL).await;
    let body = json!({"ts": 1000, "values": {"temp": 21.5, "count": 3, "pos": {"lat": 1.5}}});
    reported(&app, &token, &body, 3).await;
    (app, admin, hall, token)
}

// ---- reports become entities, history and latest values ----

#[tokio::test]
async fn iot_ingest_reports_become_entities_history_and_latest_values() {
    let (app, admin) = thermo_app().await;
    let hall = new_device(&app, &admin, "Hall", "SN-0001").await;
    let token = token_for(&app, &admin, &hall, HALL).await;

    // A plain object of values, stamped on arrival.
    let plain = json!({"temp": 21.5, "count": 3, "door": true, "mode": "eco", "pos": {"lat": 1.5, "lon": 2}});
    let (t1_from, t1_to) = reported_now(&app, &token, &plain, 6).await;
    // One timed sample.
    let timed = json!({"ts": 1000, "values": {"temp": 20, "count": 4}});
    reported(&app, &token, &timed, 2).await;
    // Three samples, the last one stamped on arrival; `pos` gains a member.
    let many = json!([
        {"ts": 2000, "values": {"count": 5, "door": false}},
        {"ts": 3000, "values": {"count": 6, "pos": {"lat": 3.25, "alt": 7}}},
        {"values": {"mode": "comfort"}},
    ]);
    let (t3_from, t3_to) = reported_now(&app, &token, &many, 6).await;

    // The entities: read-only properties of the inferred types; the declared one kept.
    let entities = device_entities(&app, &admin, &hall).await;
    let inferred = |id: &str, value_type: &str, parent: Option<&str>| {
        let key = format!("{HALL}.{id}");
        let name = key.rsplit('.').next().unwrap_or_default().to_owned();
        let mut e = json!({"id": entities[&key]["id"], "key": key, "name": name, "type": "PROPERTY", "access_mod": "R", "value_type": value_type, "value_attribute": {}});
        if let Some(p) = parent {
            e["parent"] = json!(format!("{HALL}.{p}"));
        }
        (key, e)
    };
    let mut expected: BTreeMap<String, Value> = [
        inferred("count", "LONG", None),
        inferred("door", "BOOLEAN", None),
        inferred("mode", "STRING", None),
        inferred("pos", "OBJECT", None),
        inferred("pos.alt", "LONG", Some("pos")),
        inferred("pos.lat", "DOUBLE", Some("pos")),
        inferred("pos.lon", "LONG", Some("pos")),
    ]
    .into_iter()
    .collect();
    let temp_key = format!("{HALL}.temp");
    expected.insert(
        temp_key.clone(),
        json!({"id": entities[&temp_key]["id"], "key": temp_key, "name": "Temperature", "type": "PROPERTY", "access_mod": "R", "value_type": "DOUBLE", "value_attribute": {"unit": "°C"}}),
    );
    assert_eq!(entities, expected);
    let ids: BTreeMap<&str, &str> = entities
        .iter()
        .map(|(k, e)| {
            let short = k.strip_prefix(&format!("{HALL}.")).expect("device key");
            (short, e["id"].as_str().expect("id"))
        })
        .collect();

    // The entity list shows the same, ordered by key, with the device's name.
    let page = search_entities(&app, &admin, &format!("{HALL}.")).await;
    assert_eq!(page["total"], 8, "{page}");
    let rows: Vec<Value> = page["content"]
        .as_array()
        .expect("content")
        .iter()
        .map(|r| {
            json!([
                r["entity_key"],
                r["entity_type"],
                r["entity_access_mod"],
                r["entity_value_type"],
                r["entity_parent_key"],
                r["device_name"],
                r["integration_name"]
            ])
        })
        .collect();
    let row = |id: &str, value_type: &str, parent: Option<&str>| {
        let parent = parent.map(|p| format!("{HALL}.{p}"));
        json!([
            format!("{HALL}.{id}"),
            "PROPERTY",
            "R",
            value_type,
            parent,
            "Hall",
            "Thermostats"
        ])
    };
    assert_eq!(
        rows,
        [
            row("count", "LONG", None),
            row("door", "BOOLEAN", None),
            row("mode", "STRING", None),
            row("pos", "OBJECT", None),
            row("pos.alt", "LONG", Some("pos")),
            row("pos.lat", "DOUBLE", Some("pos")),
            row("pos.lon", "LONG", Some("pos")),
            row("temp", "DOUBLE", None),
        ]
    );
    let path = format!("/api/v1/entity/{}/children", ids["pos"]);
    let children = ok(&app.call("GET", &path, Some(&admin), None).await).clone();
    let mut keys: Vec<&str> = children
        .as_array()
        .expect("children")
        .iter()
        .map(|c| c["entity_key"].as_str().expect("entity_key"))
        .collect();
    keys.sort_unstable();
    let want: Vec<String> = ["alt", "lat", "lon"]
        .iter()
        .map(|c| format!("{HALL}.pos.{c}"))
        .collect();
    assert_eq!(keys, want);

    // History: each value at its time, newest first.
    let count = points(&app, &admin, ids["count"], "LONG").await;
    let t1 = count[0].0;
    assert!(
        (t1_from..=t1_to).contains(&t1),
        "{t1} not in {t1_from}..={t1_to}"
    );
    assert_eq!(
        count,
        [
            (t1, json!(3)),
            (3000, json!(6)),
            (2000, json!(5)),
            (1000, json!(4))
        ]
    );
    assert_eq!(
        points(&app, &admin, ids["temp"], "DOUBLE").await,
        [(t1, json!(21.5)), (1000, json!(20.0))]
    );
    assert_eq!(
        points(&app, &admin, ids["door"], "BOOLEAN").await,
        [(t1, json!(true)), (2000, json!(false))]
    );
    let mode = points(&app, &admin, ids["mode"], "STRING").await;
    let t3 = mode[0].0;
    assert!(
        (t3_from..=t3_to).contains(&t3),
        "{t3} not in {t3_from}..={t3_to}"
    );
    assert_eq!(mode, [(t3, json!("comfort")), (t1, json!("eco"))]);
    assert_eq!(
        points(&app, &admin, ids["pos.lat"], "DOUBLE").await,
        [(t1, json!(1.5)), (3000, json!(3.25))]
    );
    assert_eq!(
        points(&app, &admin, ids["pos.lon"], "LONG").await,
        [(t1, json!(2))]
    );
    assert_eq!(
        points(&app, &admin, ids["pos.alt"], "LONG").await,
        [(3000, json!(7))]
    );
    let pos = history(&app, &admin, ids["pos"]).await;
    assert_eq!((&pos["total"], &pos["content"]), (&json!(0), &json!([])));

    // Latest values: an older sample arriving later does not replace a newer one.
    assert_eq!(
        status(&app, &admin, ids["count"]).await,
        json!({"value": 3, "updated_at": t1, "value_type": "LONG"})
    );
    let all: Vec<&str> = ids.values().copied().collect();
    let answer = app
        .call(
            "POST",
            "/api/v1/entity/batch-get-status",
            Some(&admin),
            Some(json!({ "entity_ids": all })),
        )
        .await;
    let latest = ok(&answer);
    let want = |id: &str, value: Value, at: i64, value_type: &str| {
        (
            ids[id].to_owned(),
            json!({"value": value, "updated_at": at, "value_type": value_type}),
        )
    };
    let mut expected: Map<String, Value> = [
        want("count", json!(3), t1, "LONG"),
        want("door", json!(true), t1, "BOOLEAN"),
        want("mode", json!("comfort"), t3, "STRING"),
        want("pos.alt", json!(7), 3000, "LONG"),
        want("pos.lat", json!(1.5), t1, "DOUBLE"),
        want("pos.lon", json!(2), t1, "LONG"),
        want("temp", json!(21.5), t1, "DOUBLE"),
    ]
    .into_iter()
    .collect();
    expected.insert(ids["pos"].to_owned(), json!({"value_type": "OBJECT"}));
    assert_eq!(latest, &Value::Object(expected));
}

#[tokio::test]
async fn iot_ingest_keeps_one_value_per_entity_and_millisecond() {
    let (app, admin, hall, token) = reporting_hall().await;
    let ids = entity_ids(&app, &admin, &hall).await;
    let count = &ids[&format!("{HALL}.count")];
    let lat = &ids[&format!("{HALL}.pos.lat")];
    // A repeated (entity, ts) is skipped, in a later report or in the same one.
    reported(
        &app,
        &token,
        &json!({"ts": 1000, "values": {"count": 99}}),
        1,
    )
    .await;
    let twice = json!([
        {"ts": 5000, "values": {"count": 7, "pos": {"lat": 2.5}}},
        {"ts": 5000, "values": {"count": 8, "pos": {"lat": 9.5}}},
    ]);
    reported(&app, &token, &twice, 4).await;
    assert_eq!(
        points(&app, &admin, count, "LONG").await,
        [(5000, json!(7)), (1000, json!(3))]
    );
    assert_eq!(
        points(&app, &admin, lat, "DOUBLE").await,
        [(5000, json!(2.5)), (1000, json!(1.5))]
    );
    assert_eq!(
        status(&app, &admin, lat).await,
        json!({"value": 2.5, "updated_at": 5000, "value_type": "DOUBLE"})
    );
    // An older sample fills the history in but leaves the latest value.
    reported(
        &app,
        &token,
        &json!({"ts": 4000, "values": {"count": 6}}),
        1,
    )
    .await;
    assert_eq!(
        points(&app, &admin, count, "LONG").await,
        [(5000, json!(7)), (4000, json!(6)), (1000, json!(3))]
    );
    assert_eq!(
        status(&app, &admin, count).await,
        json!({"value": 7, "updated_at": 5000, "value_type": "LONG"})
    );
    // A number without a fraction is taken by a DOUBLE entity; a LONG one refuses 1.5.
    reported(
        &app,
        &token,
        &json!({"ts": 6000, "values": {"temp": 22}}),
        1,
    )
    .await;
    let temp = &ids[&format!("{HALL}.temp")];
    assert_eq!(
        status(&app, &admin, temp).await,
        json!({"value": 22.0, "updated_at": 6000, "value_type": "DOUBLE"})
    );
}

#[tokio::test]
async fn iot_ingest_answers_at_the_bare_paths_too() {
    let (app, admin) = thermo_app().await;
    let hall = new_device(&app, &admin, "Hall", "SN-0001").await;
    let answer = app
        .call("POST", &format!("/device/{hall}/token"), Some(&admin), None)
        .await;
    let token = ok(&answer)["token"].as_str().expect("token").to_owned();
    let answer = report_at(&app, "/device/report", Some(&token), r#"{"count": 1}"#).await;
    assert_eq!(ok(&answer), &json!({"stored": 1}));
    let ids = entity_ids(&app, &admin, &hall).await;
    let count = &ids[&format!("{HALL}.count")];
    assert_eq!(status(&app, &admin, count).await["value"], 1);
}

// ---- tokens ----

#[tokio::test]
async fn iot_ingest_a_new_token_revokes_the_previous_one() {
    let (app, admin) = thermo_app().await;
    let hall = new_device(&app, &admin, "Hall", "SN-0001").await;
    let old = token_for(&app, &admin, &hall, HALL).await;
    reported(&app, &old, &json!({"ts": 1000, "values": {"count": 1}}), 1).await;
    let new = token_for(&app, &admin, &hall, HALL).await;
    assert_ne!(old, new);
    let answer = report(
        &app,
        Some(&old),
        &json!({"ts": 2000, "values": {"count": 2}}),
    )
    .await;
    unauthenticated(&answer, BAD_TOKEN);
    reported(&app, &new, &json!({"ts": 3000, "values": {"count": 3}}), 1).await;
    let ids = entity_ids(&app, &admin, &hall).await;
    let count = &ids[&format!("{HALL}.count")];
    assert_eq!(
        points(&app, &admin, count, "LONG").await,
        [(3000, json!(3)), (1000, json!(1))]
    );
}

#[tokio::test]
async fn iot_ingest_refuses_missing_and_bad_tokens_with_401() {
    let (app, admin, hall, token) = reporting_hall().await;
    let before = snapshot(&app, &admin).await;
    let body = json!({"ts": 2000, "values": {"count": 4, "fresh": 1}});
    let unprefixed = token.trim_start_matches("wdt_").to_owned();
    let upper = token.to_uppercase();
    let zeros = format!("wdt_{}", "0".repeat(64));
    let long = format!("{token}{}", "0".repeat(100));
    for bad in [
        None,
        Some(""),
        Some("nope"),
        Some("wdt_"),
        Some(unprefixed.as_str()),
        Some(upper.as_str()),
        Some(zeros.as_str()),
        Some(long.as_str()),
        Some(admin.access_token.as_str()),
    ] {
        unauthenticated(&report(&app, bad, &body).await, BAD_TOKEN);
    }
    // The token is checked before the body's form.
    for body in [
        json!([]),
        json!("x"),
        json!({"ts": -1, "values": {}}),
        json!({}),
    ] {
        unauthenticated(&report(&app, None, &body).await, BAD_TOKEN);
        unauthenticated(&report(&app, Some("nope"), &body).await, BAD_TOKEN);
    }
    // A user's login is no device token.
    let req = app
        .client()
        .post(app.url("/api/v1/device/report"))
        .bearer_auth(&admin.access_token)
        .json(&body);
    unauthenticated(&send(req).await.0, BAD_TOKEN);
    assert_eq!(snapshot(&app, &admin).await, before);
    // The token still works, and the header is read whatever its case.
    let req = app
        .client()
        .post(app.url("/api/v1/device/report"))
        .header("x-device-token", &token)
        .json(&body);
    assert_eq!(ok(&send(req).await.0), &json!({"stored": 2}));
    assert!(
        entity_ids(&app, &admin, &hall)
            .await
            .contains_key(&format!("{HALL}.fresh"))
    );
}

// ---- bad reports ----

#[tokio::test]
async fn iot_ingest_refuses_malformed_json_with_a_syntax_error() {
    let (app, admin, _, token) = reporting_hall().await;
    let before = snapshot(&app, &admin).await;
    for body in ["{\"count\": ", "{count: 1}", "not json", "[{\"ts\": 1,]"] {
        let answer = report_at(&app, "/api/v1/device/report", Some(&token), body).await;
        refused(&answer, 400, "parameter_syntax_error");
    }
    assert_eq!(snapshot(&app, &admin).await, before);
}

#[tokio::test]
async fn iot_ingest_refuses_bad_forms_naming_the_field_and_stores_nothing() {
    let (app, admin, _, token) = reporting_hall().await;
    let before = snapshot(&app, &admin).await;
    let long = "x".repeat(51);
    let sample = |ts: i64| json!({"ts": ts, "values": {"count": 1, "fresh": 1}});
    for (body, field) in [
        (json!([]), "body"),
        (json!({}), "values"),
        (json!("x"), "body"),
        (json!(5), "body"),
        (json!(null), "body"),
        (json!({"ts": -1, "values": {}}), "ts"),
        (json!({"ts": -1, "values": {"count": 1}}), "ts"),
        (json!({"ts": "soon", "values": {"count": 1}}), "ts"),
        (json!({"ts": 1.5, "values": {"count": 1}}), "ts"),
        (json!({"ts": 5, "values": {}}), "values"),
        (json!([sample(10), {"count": 2}]), "[1]"),
        (json!([sample(10), 3]), "[1]"),
        (
            json!([sample(10), {"ts": -5, "values": {"count": 1}}]),
            "[1].ts",
        ),
        (json!([sample(10), {"ts": 20, "values": {}}]), "values"),
        (json!({"fresh": 1, "a.b": 1}), "values.a.b"),
        (json!({"fresh": 1, "a b": 1}), "values.a b"),
        (json!({"fresh": 1, long.clone(): 1}), long.as_str()),
        (json!({"fresh": 1, "arr": [1, 2]}), "values.arr"),
        (json!({"fresh": 1, "nothing": null}), "values.nothing"),
        (
            json!({"fresh": 1, "obj": {"deep": {"x": 1}}}),
            "values.obj.deep",
        ),
        (json!({"fresh": 1, "obj": {"list": [1]}}), "values.obj.list"),
        (json!({"fresh": 1, "obj": {"a.b": 1}}), "a.b"),
        (json!({"fresh": 1, "obj": {"x": null}}), "values.obj.x"),
    ] {
        invalid(&report(&app, Some(&token), &body).await, field);
    }
    assert_eq!(snapshot(&app, &admin).await, before);
}

#[tokio::test]
async fn iot_ingest_checks_values_against_existing_entities_all_or_nothing() {
    let (app, admin, _, token) = reporting_hall().await;
    let before = snapshot(&app, &admin).await;
    let count = format!("{HALL}.count");
    let temp = format!("{HALL}.temp");
    let lat = format!("{HALL}.pos.lat");
    let pos = format!("{HALL}.pos");
    for (body, code, key) in [
        (json!({"count": 1.5}), "entity_value_not_match_type", &count),
        (json!({"count": "3"}), "entity_value_not_match_type", &count),
        (
            json!({"count": true}),
            "entity_value_not_match_type",
            &count,
        ),
        (
            json!({"temp": "warm"}),
            "entity_value_not_match_type",
            &temp,
        ),
        (json!({"temp": null}), "entity_value_required", &temp),
        (
            json!({"fresh": 1, "count": "x"}),
            "entity_value_not_match_type",
            &count,
        ),
        (
            json!({"pos": {"lat": "north", "new_member": 1}}),
            "entity_value_not_match_type",
            &lat,
        ),
        (json!({"pos": 1}), "entity_value_not_match_type", &pos),
        (
            json!([
                {"ts": 10, "values": {"count": 1, "fresh": 2}},
                {"ts": 20, "values": {"count": "x"}},
            ]),
            "entity_value_not_match_type",
            &count,
        ),
    ] {
        refused_naming(&report(&app, Some(&token), &body).await, code, key);
    }
    assert_eq!(snapshot(&app, &admin).await, before);
}

#[tokio::test]
async fn iot_ingest_takes_at_most_5000_values_per_report() {
    let (app, admin, _, token) = reporting_hall().await;
    let before = snapshot(&app, &admin).await;
    let samples = |n: i64| {
        let all: Vec<Value> = (0..n)
            .map(|i| json!({"ts": 10_000 + i, "values": {"v0": i, "v1": i, "v2": i, "v3": i, "v4": i}}))
            .collect();
        Value::Array(all)
    };
    let wide: Map<String, Value> = (0..5001).map(|i| (format!("v{i}"), json!(i))).collect();
    for body in [samples(1001), Value::Object(wide)] {
        let message = refused(
            &report(&app, Some(&token), &body).await,
            400,
            "parameter_validation_failed",
        );
        assert!(
            message.contains("values") && message.contains("5000"),
            "{message}"
        );
    }
    assert_eq!(snapshot(&app, &admin).await, before);
    reported(&app, &token, &samples(1000), 5000).await;
    let page = search_entities(&app, &admin, &format!("{HALL}.v")).await;
    assert_eq!(page["total"], 5);
    let v4 = page["content"][4]["entity_id"].as_str().expect("entity_id");
    assert_eq!(history(&app, &admin, v4).await["total"], 1000);
}

#[tokio::test]
async fn iot_ingest_refuses_a_body_over_the_limit_with_413() {
    let app = TestApp::spawn_with_integrations(
        |s| s.http.max_body_bytes = 1024,
        vec![Thermostats::arc()],
    )
    .await;
    let admin = app.register_admin().await;
    let hall = new_device(&app, &admin, "Hall", "SN-0001").await;
    let token = token_for(&app, &admin, &hall, HALL).await;
    let before = snapshot(&app, &admin).await;
    let big = json!({"note": "x".repeat(2048)});
    let message = refused(
        &report(&app, Some(&token), &big).await,
        413,
        "data_too_large",
    );
    assert!(message.contains("1024"), "{message}");
    assert_eq!(snapshot(&app, &admin).await, before);
    reported(&app, &token, &json!({"note": "x".repeat(512)}), 1).await;
}

// ---- who may issue a token ----

#[tokio::test]
async fn iot_ingest_issuing_a_token_needs_device_edit_and_sight_of_the_device() {
    let (app, admin) = thermo_app().await;
    let hall = new_device(&app, &admin, "Hall", "SN-0001").await;
    let attic = new_device(&app, &admin, "Attic", "SN-0002").await;
    let attic_token = token_for(&app, &admin, &attic, "thermo.device.SN-0002").await;
    unauthenticated(&issue(&app, None, &hall).await, "missing access token");
    let plain = app.create_user(&admin, "plain@weir.test").await;
    forbidden(&issue(&app, Some(&plain), &hall).await);
    let thermo = Some(("INTEGRATION", "thermo"));
    let others = [
        "device.view",
        "device.add",
        "device.delete",
        "entity_data.edit",
    ];
    let other = user_with(&app, &admin, "other@weir.test", &others, thermo).await;
    forbidden(&issue(&app, Some(&other), &hall).await);
    let none = user_with(&app, &admin, "none@weir.test", &["device.edit"], None).await;
    let granted = Some(("DEVICE", hall.as_str()));
    let one = user_with(&app, &admin, "one@weir.test", &["device.edit"], granted).await;
    let all = user_with(&app, &admin, "all@weir.test", &["device.edit"], thermo).await;
    for (who, id, visible) in [
        (&none, &hall, false),
        (&none, &attic, false),
        (&one, &attic, false),
        (&one, &hall, true),
    ] {
        let answer = issue(&app, Some(who), id).await;
        if visible {
            token_for(&app, who, id, HALL).await;
        } else {
            not_found(&answer, id);
        }
    }
    // The refusals left the Attic's token in place.
    reported(&app, &attic_token, &json!({"count": 1}), 1).await;
    let token = token_for(&app, &all, &attic, "thermo.device.SN-0002").await;
    unauthenticated(
        &report(&app, Some(&attic_token), &json!({"count": 2})).await,
        BAD_TOKEN,
    );
    reported(&app, &token, &json!({"count": 3}), 1).await;
}

#[tokio::test]
async fn iot_ingest_issuing_a_token_refuses_unknown_and_malformed_ids() {
    let (app, admin) = thermo_app().await;
    new_device(&app, &admin, "Hall", "SN-0001").await;
    not_found(&issue(&app, Some(&admin), UNKNOWN_ID).await, UNKNOWN_ID);
    for bad in ["abc", "1.5", "0", "-3", "99999999999999999999"] {
        invalid(&issue(&app, Some(&admin), bad).await, "device_id");
    }
    unauthenticated(&issue(&app, None, "abc").await, "missing access token");
}

// ---- tenants and deleted devices ----

/// Adds the `acme` tenant and signs in its first user.
async fn join_acme(app: &TestApp) -> Session {
    add_tenant(app, ACME).await.expect("add acme");
    ok(&register_in(app, ACME, "boss@acme.test", PASSWORD).await);
    login_in(app, ACME, "boss@acme.test", PASSWORD).await.0
}

#[tokio::test]
async fn iot_ingest_a_token_writes_to_its_own_device_in_its_own_tenant() {
    let (app, admin) = thermo_app().await;
    let boss = join_acme(&app).await;
    let hall = new_device(&app, &admin, "Hall", "SN-0001").await;
    let attic = new_device(&app, &admin, "Attic", "SN-0002").await;
    // The same serial in the other tenant.
    let theirs = new_device(&app, &boss, "Hall", "SN-0001").await;
    not_found(&issue(&app, Some(&boss), &hall).await, &hall);
    not_found(&issue(&app, Some(&admin), &theirs).await, &theirs);
    let hall_token = token_for(&app, &admin, &hall, HALL).await;
    let attic_token = token_for(&app, &admin, &attic, "thermo.device.SN-0002").await;
    let their_token = token_for(&app, &boss, &theirs, HALL).await;

    reported(
        &app,
        &hall_token,
        &json!({"ts": 1000, "values": {"temp": 21.5, "hum": 40}}),
        2,
    )
    .await;
    reported(
        &app,
        &their_token,
        &json!({"ts": 1000, "values": {"temp": 5.5, "co2": 400}}),
        2,
    )
    .await;
    reported(
        &app,
        &attic_token,
        &json!({"ts": 1000, "values": {"temp": 18.0}}),
        1,
    )
    .await;

    let keys = |m: BTreeMap<String, String>| m.into_keys().collect::<Vec<_>>();
    assert_eq!(
        keys(entity_ids(&app, &admin, &hall).await),
        [format!("{HALL}.hum"), format!("{HALL}.temp")]
    );
    assert_eq!(
        keys(entity_ids(&app, &admin, &attic).await),
        ["thermo.device.SN-0002.temp"]
    );
    assert_eq!(
        keys(entity_ids(&app, &boss, &theirs).await),
        [format!("{HALL}.co2"), format!("{HALL}.temp")]
    );
    for (who, device, temp) in [
        (&admin, &hall, 21.5),
        (&admin, &attic, 18.0),
        (&boss, &theirs, 5.5),
    ] {
        let ids = entity_ids(&app, who, device).await;
        let id = ids
            .iter()
            .find(|(k, _)| k.ends_with(".temp"))
            .expect("temp")
            .1;
        assert_eq!(points(&app, who, id, "DOUBLE").await, [(1000, json!(temp))]);
    }
    assert_eq!(search_entities(&app, &admin, "co2").await["total"], 0);
    assert_eq!(search_entities(&app, &boss, "hum").await["total"], 0);

    // A deleted device's token is refused, even once its serial is taken again.
    let answer = app
        .call(
            "POST",
            "/api/v1/device/batch-delete",
            Some(&admin),
            Some(json!({"device_id_list": [hall]})),
        )
        .await;
    assert_eq!(ok(&answer), &json!({}));
    let body = json!({"ts": 2000, "values": {"temp": 22.0, "hum": 41}});
    unauthenticated(&report(&app, Some(&hall_token), &body).await, BAD_TOKEN);
    let again = new_device(&app, &admin, "Hall again", "SN-0001").await;
    unauthenticated(&report(&app, Some(&hall_token), &body).await, BAD_TOKEN);
    let ids = entity_ids(&app, &admin, &again).await;
    assert_eq!(keys(ids.clone()), [format!("{HALL}.temp")]);
    let temp = &ids[&format!("{HALL}.temp")];
    assert_eq!(history(&app, &admin, temp).await["total"], 0);
    // The others' tokens still work.
    reported(
        &app,
        &attic_token,
        &json!({"ts": 2000, "values": {"temp": 18.5}}),
        1,
    )
    .await;
    reported(
        &app,
        &their_token,
        &json!({"ts": 2000, "values": {"temp": 6.0}}),
        1,
    )
    .await;
}

/// SUM and AVG add up doubles near the largest one without overflowing on the way, on
/// both backends (PostgreSQL answered 500, SQLite no value); a SUM past the range of a
/// double is refused, saying so.
#[tokio::test]
async fn iot_ingest_sums_and_averages_of_huge_doubles_stay_finite() {
    let app = TestApp::spawn().await;
    let admin = app.register_admin().await;
    let body = json!({"name": "big", "integration": "http-device",
                      "param_entities": {"identifier": "big-1"}});
    let answer = app
        .call("POST", "/api/v1/device", Some(&admin), Some(body))
        .await;
    let device = ok(&answer)["device_id"].as_str().expect("id").to_owned();
    let token = ok(&issue(&app, Some(&admin), &device).await)["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let samples = json!([
        {"ts": 1000, "values": {"x": 1e308}},
        {"ts": 2000, "values": {"x": 1.7e308}},
        {"ts": 3000, "values": {"x": -1.7e308}},
    ]);
    reported(&app, &token, &samples, 3).await;
    let x = entity_ids(&app, &admin, &device).await["http-device.device.big-1.x"].clone();
    let aggregate = |kind: &str, end: i64| {
        let body = json!({"entity_id": x, "aggregate_type": kind,
                          "start_timestamp": 0, "end_timestamp": end});
        app.call(
            "POST",
            "/api/v1/entity/history/aggregate",
            Some(&admin),
            Some(body),
        )
    };
    let close = |got: &Value, want: f64| {
        let got = got["value"]
            .as_f64()
            .unwrap_or_else(|| panic!("no value: {got}"));
        assert!((got - want).abs() <= want.abs() * 1e-12, "{got} != {want}");
    };
    close(ok(&aggregate("SUM", 5000).await), 1e308);
    close(ok(&aggregate("AVG", 5000).await), 1e308 / 3.0);
    close(ok(&aggregate("AVG", 2500).await), 1.35e308);
    close(ok(&aggregate("MAX", 5000).await), 1.7e308);
    let message = refused(
        &aggregate("SUM", 2500).await,
        400,
        "parameter_validation_failed",
    );
    assert!(
        message.starts_with("aggregate_type SUM is beyond the range of a double"),
        "{message}"
    );
}
