//! The built-in `demo` integration (`demo.enabled`): three simulated devices whose entities
//! are declared with units and ranges, reporting plausible values every
//! `demo.interval_secs` into the history, the latest values and the WebSocket. Users
//! cannot add demo devices; they can delete them, and a deleted one comes back at the
//! next start. Off by default.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;
use weir_test_kit::{Session, TestApp};

use crate::support::{ok, refused};

/// An end of window after any arrival time (2100-01-01).
const END: i64 = 4_102_444_800_000;

/// One declared entity: identifier, value type, unit, min, max, fraction digits.
type Declared = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<f64>,
    Option<f64>,
    Option<u64>,
);

/// The devices the demo makes, with their names and entities.
const DEVICES: &[(&str, &str, &[Declared])] = &[
    (
        "greenhouse",
        "Greenhouse",
        &[
            ("co2", "LONG", Some("ppm"), Some(400.0), Some(1200.0), None),
            ("fan", "BOOLEAN", None, None, None, None),
            (
                "humidity",
                "DOUBLE",
                Some("%"),
                Some(40.0),
                Some(80.0),
                Some(1),
            ),
            (
                "temperature",
                "DOUBLE",
                Some("°C"),
                Some(18.0),
                Some(28.0),
                Some(1),
            ),
        ],
    ),
    (
        "power-meter",
        "Power meter",
        &[
            ("energy", "DOUBLE", Some("kWh"), Some(0.0), None, Some(3)),
            (
                "power",
                "DOUBLE",
                Some("W"),
                Some(0.0),
                Some(5000.0),
                Some(1),
            ),
            ("status", "STRING", None, None, None, None),
        ],
    ),
    (
        "water-tank",
        "Water tank",
        &[
            (
                "level",
                "DOUBLE",
                Some("%"),
                Some(0.0),
                Some(100.0),
                Some(1),
            ),
            ("pump", "BOOLEAN", None, None, None, None),
        ],
    ),
];

/// A server running the demo devices every second, with its admin.
async fn demo_app() -> (TestApp, Session) {
    let app = TestApp::spawn_with(|s| {
        s.demo.enabled = true;
        s.demo.interval_secs = 1;
    })
    .await;
    let admin = app.register_admin().await;
    (app, admin)
}

/// The demo devices (`identifier` → device row), waiting (10 s at most) until `count`
/// exist.
async fn demo_devices(app: &TestApp, who: &Session, count: usize) -> BTreeMap<String, Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let body = json!({"page_size": 100});
        let answer = app
            .call("POST", "/api/v1/device/search", Some(who), Some(body))
            .await;
        let devices: BTreeMap<String, Value> = ok(&answer)["content"]
            .as_array()
            .expect("content")
            .iter()
            .filter(|d| d["integration"] == "demo")
            .map(|d| {
                (
                    d["identifier"].as_str().expect("identifier").into(),
                    d.clone(),
                )
            })
            .collect();
        if devices.len() == count {
            return devices;
        }
        assert!(
            Instant::now() < deadline,
            "{} demo devices, not {count}: {devices:?}",
            devices.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A device's entities from `GET /api/v1/device/{id}`, by identifier.
async fn entities_of(app: &TestApp, who: &Session, device: &Value) -> BTreeMap<String, Value> {
    let id = device["id"].as_str().expect("id");
    let answer = app
        .call("GET", &format!("/api/v1/device/{id}"), Some(who), None)
        .await;
    ok(&answer)["entities"]
        .as_array()
        .expect("entities")
        .iter()
        .map(|e| {
            let key = e["key"].as_str().expect("key");
            (key.rsplit('.').next().unwrap_or(key).to_owned(), e.clone())
        })
        .collect()
}

/// The number of points and the values of an entity's history, newest first.
async fn history(app: &TestApp, who: &Session, entity: &str) -> (u64, Vec<Value>) {
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
    let page = ok(&answer);
    let values = page["content"]
        .as_array()
        .expect("content")
        .iter()
        .map(|p| p["value"].clone())
        .collect();
    (page["total"].as_u64().expect("total"), values)
}

/// Asserts a value fits its declared entity: type, range, fraction digits, enum.
fn assert_fits(key: &str, declared: &Declared, value: &Value) {
    let (_, value_type, _, min, max, digits) = *declared;
    match value_type {
        "BOOLEAN" => assert!(value.is_boolean(), "{key} = {value}"),
        "STRING" => assert!(
            value == "ok" || value == "high",
            "{key} = {value}: not ok or high"
        ),
        "LONG" => assert!(value.is_i64(), "{key} = {value}"),
        _ => assert!(value.is_number(), "{key} = {value}"),
    }
    if let Some(v) = value.as_f64() {
        assert!(min.is_none_or(|m| v >= m), "{key} = {v} below {min:?}");
        assert!(max.is_none_or(|m| v <= m), "{key} = {v} above {max:?}");
    }
    if let Some(d) = digits {
        let text = value.to_string();
        let got = text.split_once('.').map_or(0, |(_, f)| f.len());
        assert!(got as u64 <= d, "{key} = {text}: more than {d} digits");
    }
}

#[tokio::test]
async fn iot_demo_devices_declare_their_entities_and_report_live_values() {
    let (app, admin) = demo_app().await;
    let devices = demo_devices(&app, &admin, DEVICES.len()).await;

    // The devices and their entities, declared up front with units and ranges.
    let mut ids: BTreeMap<String, (String, &Declared)> = BTreeMap::new();
    for (identifier, name, declared) in DEVICES {
        let device = &devices[*identifier];
        assert_eq!(device["name"], *name, "{device}");
        assert_eq!(device["integration_name"], "Demo devices", "{device}");
        assert_eq!(device["deletable"], true, "{device}");
        let entities = entities_of(&app, &admin, device).await;
        let got: Vec<&String> = entities.keys().collect();
        let want: Vec<&str> = declared.iter().map(|d| d.0).collect();
        assert_eq!(got, want, "{identifier}");
        for d in *declared {
            let (entity_id, value_type, unit, min, max, digits) = *d;
            let e = &entities[entity_id];
            let key = format!("demo.device.{identifier}.{entity_id}");
            assert_eq!(e["key"], key.as_str());
            assert_eq!(
                (&e["type"], &e["access_mod"], &e["value_type"]),
                (&json!("PROPERTY"), &json!("R"), &json!(value_type)),
                "{key}"
            );
            let attribute = &e["value_attribute"];
            assert_eq!(attribute["unit"].as_str(), unit, "{key}");
            assert_eq!(attribute["min"].as_f64(), min, "{key}");
            assert_eq!(attribute["max"].as_f64(), max, "{key}");
            assert_eq!(attribute["fraction_digits"].as_u64(), digits, "{key}");
            if entity_id == "status" {
                assert_eq!(
                    attribute["enum"],
                    json!({"ok": "OK", "high": "High load"}),
                    "{key}"
                );
            }
            ids.insert(key, (e["id"].as_str().expect("id").to_owned(), d));
        }
    }
    // The entity search lists them with their device and integration names.
    let body = json!({"keyword": "demo.device.", "page_size": 100});
    let answer = app
        .call("POST", "/api/v1/entity/search", Some(&admin), Some(body))
        .await;
    let rows = ok(&answer)["content"].as_array().expect("content").clone();
    assert_eq!(rows.len(), ids.len(), "{rows:?}");
    for row in &rows {
        assert_eq!(row["integration_name"], "Demo devices", "{row}");
        assert!(row["device_name"].is_string(), "{row}");
        assert!(row["entity_value_attribute"].is_object(), "{row}");
    }

    // Values arrive every second: the histories grow, every value fits its entity, the
    // power moves and the energy counter never goes back.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut before = BTreeMap::new();
    for (key, (id, _)) in &ids {
        before.insert(key.clone(), history(&app, &admin, id).await.0);
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    for (key, (id, declared)) in &ids {
        let (total, values) = history(&app, &admin, id).await;
        assert!(
            total > before[key] && total >= 2,
            "{key}: {} then {total} points",
            before[key]
        );
        for v in &values {
            assert_fits(key, declared, v);
        }
        let answer = app
            .call(
                "GET",
                &format!("/api/v1/entity/{id}/status"),
                Some(&admin),
                None,
            )
            .await;
        let latest = ok(&answer);
        assert_eq!(latest["value_type"], declared.1, "{latest}");
        assert_fits(key, declared, &latest["value"]);
        if key.ends_with(".power") {
            let distinct: Vec<&Value> = values.iter().fold(Vec::new(), |mut seen, v| {
                if !seen.contains(&v) {
                    seen.push(v);
                }
                seen
            });
            assert!(distinct.len() >= 2, "{key} did not move: {values:?}");
        }
        if key.ends_with(".energy") {
            let energy: Vec<f64> = values.iter().filter_map(Value::as_f64).collect();
            // Newest first: each point is at most the one after it in time.
            assert!(
                energy.windows(2).all(|w| w[0] >= w[1]),
                "energy went back: {energy:?}"
            );
        }
    }
}

#[tokio::test]
async fn iot_demo_values_reach_the_websocket() {
    let (app, admin) = demo_app().await;
    demo_devices(&app, &admin, DEVICES.len()).await;
    let url = format!(
        "ws://{}/websocket?Authorization=Bearer%20{}",
        app.addr, admin.access_token
    );
    let (mut ws, _) = connect_async(url).await.expect("upgraded");
    let key = "demo.device.power-meter.power";
    let watch = json!({"event_type": "Exchange", "payload": {"entity_key": [key]}});
    futures_util::SinkExt::send(&mut ws, Message::text(watch.to_string()))
        .await
        .expect("sent");
    let frame = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    let frame: Value = serde_json::from_str(&text).expect("JSON");
                    if frame["values"].get(key).is_some() {
                        return frame;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("the socket ended: {other:?}"),
            }
        }
    })
    .await
    .expect("a demo value within 5 s");
    let power = frame["values"][key]["value"].as_f64().expect("a number");
    assert!((0.0..=5000.0).contains(&power), "{frame}");
    assert!(frame["values"][key]["timestamp"].is_i64(), "{frame}");
}

#[tokio::test]
async fn iot_demo_devices_cannot_be_added_but_can_be_deleted_until_the_next_start() {
    let (app, admin) = demo_app().await;
    let devices = demo_devices(&app, &admin, DEVICES.len()).await;

    // The integration deletes devices and does not add them.
    let answer = app
        .call(
            "POST",
            "/api/v1/integration/search",
            Some(&admin),
            Some(json!({})),
        )
        .await;
    let demo = ok(&answer)
        .as_array()
        .expect("integrations")
        .iter()
        .find(|i| i["id"] == "demo")
        .expect("the demo integration")
        .clone();
    assert_eq!(demo["name"], "Demo devices", "{demo}");
    assert!(demo.get("add_device_service_key").is_none(), "{demo}");
    assert_eq!(
        demo["delete_device_service_key"], "demo.integration.delete_device",
        "{demo}"
    );
    assert_eq!(demo["deviceCount"], 3, "{demo}");

    // Users cannot add demo devices.
    let body = json!({"name": "Mine", "integration": "demo", "param_entities": {}});
    let answer = app
        .call("POST", "/api/v1/device", Some(&admin), Some(body))
        .await;
    let message = refused(&answer, 400, "integration_not_support");
    assert!(message.contains("demo"), "{message}");

    // A deleted device stays deleted while the server runs; the others keep reporting.
    let tank = devices["water-tank"]["id"].as_str().expect("id");
    let body = json!({"device_id_list": [tank]});
    let answer = app
        .call(
            "POST",
            "/api/v1/device/batch-delete",
            Some(&admin),
            Some(body),
        )
        .await;
    assert_eq!(ok(&answer), &json!({}));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let left = demo_devices(&app, &admin, 2).await;
    assert!(!left.contains_key("water-tank"), "{left:?}");
    let body = json!({"keyword": "demo.device.water-tank", "page_size": 100});
    let answer = app
        .call("POST", "/api/v1/entity/search", Some(&admin), Some(body))
        .await;
    assert_eq!(ok(&answer)["total"], 0, "no entity came back");

    // At the next start it is created again, and the power meter's energy counter goes
    // on from where it was.
    let energy = entities_of(&app, &admin, &left["power-meter"]).await["energy"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (_, stored) = history(&app, &admin, &energy).await;
    let last = stored[0].as_f64().expect("energy");
    let restarted = app.weir.start_demo().expect("start the demo again");
    let back = demo_devices(&app, &admin, DEVICES.len()).await;
    assert_ne!(back["water-tank"]["id"], devices["water-tank"]["id"]);
    assert_eq!(back["power-meter"]["id"], devices["power-meter"]["id"]);
    assert!(
        entities_of(&app, &admin, &back["water-tank"])
            .await
            .contains_key("level")
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    restarted.stop().await;
    let (_, after) = history(&app, &admin, &energy).await;
    assert!(after[0].as_f64().expect("energy") >= last, "{after:?}");
}

#[tokio::test]
async fn iot_demo_is_off_by_default() {
    let app = TestApp::spawn().await;
    let admin = app.register_admin().await;
    let answer = app
        .call(
            "POST",
            "/api/v1/integration/search",
            Some(&admin),
            Some(json!({})),
        )
        .await;
    let ids: Vec<&Value> = ok(&answer)
        .as_array()
        .expect("integrations")
        .iter()
        .map(|i| &i["id"])
        .collect();
    assert!(!ids.contains(&&json!("demo")), "{ids:?}");
    assert!(ids.contains(&&json!("http-device")), "{ids:?}");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let answer = app
        .call(
            "POST",
            "/api/v1/device/search",
            Some(&admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(ok(&answer)["total"], 0);
    let body = json!({"name": "Mine", "integration": "demo", "param_entities": {}});
    let answer = app
        .call("POST", "/api/v1/device", Some(&admin), Some(body))
        .await;
    refused(&answer, 404, "data_no_found");
}
