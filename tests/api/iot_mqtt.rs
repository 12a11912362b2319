//! The mqtt-device integration end to end: a real broker (the local Mosquitto, or the
//! embedded one on a free port), a device played by rumqttc, and the server over HTTP.

use std::future::Future;
use std::net::TcpListener;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rumqttc::{AsyncClient, ConnectReturnCode, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use weir_iot::model::{AccessMod, EntityDefinition, EntityType, ValueType};
use weir_iot::ports::{Entity, IotTx};
use weir_kernel::store::write;
use weir_kernel::{Id, TenantId, Transactions};
use weir_test_kit::{Session, Settings, TestApp, embedded_mqtt, external_mqtt};

use crate::support::{ok, unauthenticated};

const WAIT: Duration = Duration::from_secs(10);

// ---- the scene ----

/// A server with MQTT as `mqtt` sets it, its admin signed in, Weir's client subscribed.
async fn mqtt_app(mqtt: fn(&mut Settings)) -> (TestApp, Session) {
    let app = TestApp::spawn_with(mqtt).await;
    let admin = app.register_admin().await;
    app.wait_mqtt_ready().await;
    (app, admin)
}

/// Adds an mqtt-device device through the API; answers its id.
async fn add_device(app: &TestApp, admin: &Session, name: &str, identifier: &str) -> String {
    let body = json!({"name": name, "integration": "mqtt-device", "param_entities": {"identifier": identifier}});
    let answer = app
        .call("POST", "/api/v1/device", Some(admin), Some(body))
        .await;
    ok(&answer)["device_id"]
        .as_str()
        .expect("device_id")
        .to_owned()
}

fn topic(app: &TestApp, tenant: &str, device: &str, direction: &str) -> String {
    let prefix = &app.weir.settings.mqtt.topic_prefix;
    format!("{prefix}/{tenant}/{device}/{direction}")
}

fn uplink(app: &TestApp, device: &str) -> String {
    topic(app, "default", device, "uplink")
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("time")
        .as_millis() as i64
}

/// Polls `probe` until it answers something, for 10 s at most.
async fn eventually<T, F: Future<Output = Option<T>>>(
    what: &str,
    mut probe: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A device's entities as `GET /device/{id}` lists them.
async fn entities_of(app: &TestApp, admin: &Session, device_id: &str) -> Vec<Value> {
    let answer = app
        .call(
            "GET",
            &format!("/api/v1/device/{device_id}"),
            Some(admin),
            None,
        )
        .await;
    ok(&answer)["entities"]
        .as_array()
        .expect("entities")
        .clone()
}

/// The id of the entity with this key, once it exists.
async fn entity_id(app: &TestApp, admin: &Session, key: &str) -> String {
    eventually(key, || async {
        let answer = app
            .call(
                "POST",
                "/api/v1/entity/search",
                Some(admin),
                Some(json!({"keyword": key, "page_size": 100})),
            )
            .await;
        ok(&answer)["content"]
            .as_array()?
            .iter()
            .find(|e| e["entity_key"] == key)
            .and_then(|e| e["entity_id"].as_str())
            .map(str::to_owned)
    })
    .await
}

/// The values of an entity's history, newest first.
async fn history(app: &TestApp, admin: &Session, entity_id: &str) -> Vec<Value> {
    let body = json!({"entity_id": entity_id, "start_timestamp": 0, "end_timestamp": now_ms() + 60_000, "page_size": 100});
    let answer = app
        .call(
            "POST",
            "/api/v1/entity/history/search",
            Some(admin),
            Some(body),
        )
        .await;
    ok(&answer)["content"]
        .as_array()
        .expect("content")
        .iter()
        .map(|p| p["value"].clone())
        .collect()
}

/// Waits until the entity's history holds exactly `count` values; answers them.
async fn history_of_len(
    app: &TestApp,
    admin: &Session,
    entity_id: &str,
    count: usize,
) -> Vec<Value> {
    eventually(&format!("{count} values of {entity_id}"), || async {
        let values = history(app, admin, entity_id).await;
        (values.len() >= count).then_some(values)
    })
    .await
}

/// The entity's latest value (`GET /entity/{id}/status`).
async fn status(app: &TestApp, admin: &Session, entity_id: &str) -> Value {
    let answer = app
        .call(
            "GET",
            &format!("/api/v1/entity/{entity_id}/status"),
            Some(admin),
            None,
        )
        .await;
    ok(&answer).clone()
}

// ---- a device, played by rumqttc ----

/// An MQTT client standing in for a device; what it receives arrives on `incoming`.
struct Device {
    client: AsyncClient,
    incoming: mpsc::UnboundedReceiver<Packet>,
    task: JoinHandle<()>,
}

impl Drop for Device {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Where a device of `app` connects: the embedded broker, or the external one.
fn broker_of(app: &TestApp) -> (String, u16) {
    match app.mqtt_broker() {
        Some(addr) => (addr.ip().to_string(), addr.port()),
        None => {
            let url = app
                .weir
                .settings
                .mqtt
                .url
                .clone()
                .expect("an external broker");
            let rest = url
                .trim_start_matches("mqtt://")
                .trim_start_matches("tcp://");
            let (host, port) = rest.rsplit_once(':').unwrap_or((rest, "1883"));
            (host.to_owned(), port.parse().expect("a port"))
        }
    }
}

impl Device {
    /// Connects (clean session) and waits for the broker's answer.
    async fn connect(
        app: &TestApp,
        client_id: &str,
        login: Option<(&str, &str)>,
    ) -> Result<Device, String> {
        let (host, port) = broker_of(app);
        // Unique per server, so test runs sharing the broker do not take over each
        // other's devices; Weir's own client id is used as it is.
        let weirs = &app.weir.settings.mqtt.client_id;
        let client_id = if client_id == weirs {
            client_id.to_owned()
        } else {
            format!("{client_id}-{weirs}")
        };
        let mut options = MqttOptions::new(client_id, host, port);
        options.set_keep_alive(Duration::from_secs(5));
        if let Some((user, password)) = login {
            options.set_credentials(user, password);
        }
        let (client, mut events) = AsyncClient::new(options, 64);
        match tokio::time::timeout(WAIT, events.poll()).await {
            Ok(Ok(Event::Incoming(Packet::ConnAck(ack))))
                if ack.code == ConnectReturnCode::Success => {}
            other => return Err(format!("{other:?}")),
        }
        let (tx, incoming) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(packet)) => {
                        let _ = tx.send(packet);
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        Ok(Device {
            client,
            incoming,
            task,
        })
    }

    /// Publishes at QoS 1 and waits for the broker's PUBACK: the broker has it.
    async fn publish(&mut self, topic: &str, payload: impl Into<Vec<u8>>) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .expect("publish queued");
        self.next(|p| matches!(p, Packet::PubAck(_))).await;
    }

    async fn subscribe(&mut self, topic: &str) {
        self.client
            .subscribe(topic, QoS::AtLeastOnce)
            .await
            .expect("subscribe queued");
        self.next(|p| matches!(p, Packet::SubAck(_))).await;
    }

    /// The next packet received that `wanted` accepts.
    async fn next(&mut self, wanted: impl Fn(&Packet) -> bool) -> Packet {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let packet = tokio::time::timeout_at(deadline, self.incoming.recv())
                .await
                .expect("a packet within 10 s")
                .expect("the device's connection");
            if wanted(&packet) {
                return packet;
            }
        }
    }

    /// The JSON of the next message received on `topic`.
    async fn message_on(&mut self, topic: &str) -> Value {
        let packet = self
            .next(|p| matches!(p, Packet::Publish(m) if m.topic == topic))
            .await;
        let Packet::Publish(m) = packet else {
            unreachable!()
        };
        serde_json::from_slice(&m.payload).expect("a JSON downlink")
    }
}

// ---- (a) reports become typed entity values ----

#[tokio::test]
async fn mqtt_reports_become_typed_entity_values_with_their_history() {
    let (app, admin) = mqtt_app(external_mqtt).await;
    let device_id = add_device(&app, &admin, "Kitchen", "kitchen-1").await;
    let mut device = Device::connect(&app, "kitchen-1-device", None)
        .await
        .expect("connect");
    let up = uplink(&app, "kitchen-1");
    // A plain object of values, stamped on arrival.
    let plain = json!({"temperature": 21.5, "humidity": 40, "door": true, "label": "hall", "led": {"on": true, "level": 3}});
    device.publish(&up, plain.to_string()).await;
    // Two timed samples, older than the first message.
    let t0 = now_ms() - 60_000;
    let timed = json!([
        {"ts": t0, "values": {"temperature": 20.25}},
        {"ts": t0 + 1000, "values": {"temperature": 19.5, "door": false}}
    ]);
    device.publish(&up, timed.to_string()).await;

    let key = |e: &str| format!("mqtt-device.device.kitchen-1.{e}");
    let temperature = entity_id(&app, &admin, &key("temperature")).await;
    let values = history_of_len(&app, &admin, &temperature, 3).await;
    assert_eq!(values, vec![json!(21.5), json!(19.5), json!(20.25)]);
    let latest = status(&app, &admin, &temperature).await;
    assert_eq!(
        (&latest["value"], &latest["value_type"]),
        (&json!(21.5), &json!("DOUBLE"))
    );

    // Entities were created on first sight, read-only, typed by their first value.
    let door = entity_id(&app, &admin, &key("door")).await;
    history_of_len(&app, &admin, &door, 2).await;
    let types: Vec<(String, String, String)> = entities_of(&app, &admin, &device_id)
        .await
        .iter()
        .map(|e| {
            let s = |f: &str| e[f].as_str().unwrap_or_default().to_owned();
            (s("key"), s("value_type"), s("access_mod"))
        })
        .collect();
    for (entity, value_type) in [
        ("temperature", "DOUBLE"),
        ("humidity", "LONG"),
        ("door", "BOOLEAN"),
        ("label", "STRING"),
        ("led", "OBJECT"),
    ] {
        assert!(
            types.contains(&(key(entity), value_type.into(), "R".into())),
            "{entity} {value_type} in {types:?}"
        );
    }
    // The OBJECT's members are its children.
    let level = entity_id(&app, &admin, &key("led.level")).await;
    assert_eq!(status(&app, &admin, &level).await["value_type"], "LONG");
    // An older point never replaces a newer latest value.
    assert_eq!(status(&app, &admin, &door).await["value"], true);
    // Entity search finds every inferred entity of the device.
    let answer = app
        .call(
            "POST",
            "/api/v1/entity/search",
            Some(&admin),
            Some(json!({"keyword": "kitchen-1", "page_size": 100})),
        )
        .await;
    assert_eq!(ok(&answer)["total"], 7, "{answer:?}");
}

// ---- (b) refused messages are acknowledged and change nothing ----

#[tokio::test]
async fn mqtt_refused_messages_change_nothing_and_later_ones_still_arrive() {
    let (app, admin) = mqtt_app(external_mqtt).await;
    add_device(&app, &admin, "Counter", "counter-1").await;
    let mut device = Device::connect(&app, "counter-1-device", None)
        .await
        .expect("connect");
    let up = uplink(&app, "counter-1");
    device.publish(&up, json!({"count": 1}).to_string()).await;
    let count = entity_id(&app, &admin, "mqtt-device.device.counter-1.count").await;
    history_of_len(&app, &admin, &count, 1).await;

    // More refusals than Mosquitto's in-flight window (20 by default): had Weir not
    // acknowledged them, the broker would stop delivering and the last message would
    // never arrive.
    let ghost = uplink(&app, "ghost");
    let bad_tenant = topic(&app, "No-Such", "counter-1", "uplink");
    for round in 0..6 {
        device.publish(&up, "not json {").await;
        device
            .publish(&up, json!({"count": "many"}).to_string())
            .await;
        device
            .publish(&ghost, json!({"count": round}).to_string())
            .await;
        device
            .publish(&bad_tenant, json!({"count": round}).to_string())
            .await;
        device.publish(&up, json!([]).to_string()).await;
    }
    device.publish(&up, json!({"count": 2}).to_string()).await;

    let values = history_of_len(&app, &admin, &count, 2).await;
    assert_eq!(values, vec![json!(2), json!(1)]);
    assert_eq!(status(&app, &admin, &count).await["value"], 2);
    // The unknown device was not created by its messages.
    let answer = app
        .call(
            "POST",
            "/api/v1/device/search",
            Some(&admin),
            Some(json!({"name": "ghost"})),
        )
        .await;
    assert_eq!(ok(&answer)["total"], 0);
    let answer = app
        .call(
            "POST",
            "/api/v1/entity/search",
            Some(&admin),
            Some(json!({"keyword": "counter-1"})),
        )
        .await;
    assert_eq!(ok(&answer)["total"], 1, "no entity from a refused message");
}

// ---- (c) writes to the device go out on its downlink ----

/// A writable entity of the device, stored directly: entities a device reports are
/// read-only, and no API yet declares writable ones for an mqtt-device device (the
/// integration has no device templates).
fn writable_entity(
    device_id: &str,
    identifier: &str,
    entity_type: EntityType,
    value_type: ValueType,
    id: i64,
) -> Entity {
    let now = now_ms();
    Entity {
        id: Id(id),
        tenant_id: TenantId::default_tenant(),
        key: format!("mqtt-device.device.valve-1.{identifier}"),
        integration: "mqtt-device".into(),
        device_id: Some(device_id.parse().expect("a device id")),
        parent_key: None,
        definition: EntityDefinition {
            identifier: identifier.into(),
            name: identifier.into(),
            entity_type,
            access_mod: AccessMod::RW,
            value_type,
            value_attribute: Default::default(),
            children: vec![],
        },
        created_at: now,
        updated_at: now,
    }
}

#[tokio::test]
async fn mqtt_property_updates_and_service_calls_go_out_on_the_downlink() {
    let (app, admin) = mqtt_app(external_mqtt).await;
    let device_id = add_device(&app, &admin, "Valve", "valve-1").await;
    let rows = vec![
        writable_entity(
            &device_id,
            "setpoint",
            EntityType::Property,
            ValueType::Double,
            9_000_000_001,
        ),
        writable_entity(
            &device_id,
            "reboot",
            EntityType::Service,
            ValueType::Boolean,
            9_000_000_002,
        ),
    ];
    let database = app.weir.database.clone();
    tokio::task::spawn_blocking(move || {
        let store: &dyn Transactions<dyn IotTx> = &database;
        write(store, |tx| tx.insert_entities(&rows))
    })
    .await
    .expect("insert task")
    .expect("insert the writable entities");

    let mut device = Device::connect(&app, "valve-1-device", None)
        .await
        .expect("connect");
    let down = topic(&app, "default", "valve-1", "downlink");
    device.subscribe(&down).await;

    let answer = app
        .call(
            "POST",
            "/api/v1/entity/property/update",
            Some(&admin),
            Some(json!({"exchange": {"mqtt-device.device.valve-1.setpoint": 22.5}})),
        )
        .await;
    ok(&answer);
    assert_eq!(device.message_on(&down).await, json!({"setpoint": 22.5}));

    let answer = app
        .call(
            "POST",
            "/api/v1/entity/service/call",
            Some(&admin),
            Some(json!({"exchange": {"mqtt-device.device.valve-1.reboot": true}})),
        )
        .await;
    ok(&answer);
    assert_eq!(device.message_on(&down).await, json!({"reboot": true}));
    // The write was stored as well.
    let setpoint = entity_id(&app, &admin, "mqtt-device.device.valve-1.setpoint").await;
    assert_eq!(status(&app, &admin, &setpoint).await["value"], 22.5);
}

// ---- (d) GET /mqtt/broker-info ----

#[tokio::test]
async fn mqtt_broker_info_names_the_broker_for_any_signed_in_user() {
    let (app, admin) = mqtt_app(external_mqtt).await;
    let plain = app.create_user(&admin, "plain@weir.test").await;
    let expected = json!({"host": "127.0.0.1", "mqtt_port": 1883, "mqtts_port": null, "ws_port": null, "wss_port": null, "ws_path": null});
    for (path, who) in [
        ("/api/v1/mqtt/broker-info", &admin),
        ("/mqtt/broker-info", &plain),
    ] {
        let answer = app.call("GET", path, Some(who), None).await;
        if std::env::var(weir_test_kit::MQTT_URL_VAR).is_err() {
            assert_eq!(ok(&answer), &expected, "{path}");
        } else {
            assert!(ok(&answer)["mqtt_port"].is_number(), "{path}");
        }
    }
    unauthenticated(
        &app.call("GET", "/api/v1/mqtt/broker-info", None, None)
            .await,
        "missing",
    );
    unauthenticated(
        &app.call("GET", "/mqtt/broker-info", None, None).await,
        "missing",
    );
}

#[tokio::test]
async fn mqtt_devices_can_be_added_with_mqtt_off() {
    let app = TestApp::spawn_with(|s| {
        s.mqtt.public_host = Some("iot.example.com".into());
        s.mqtt.public_port = Some(11883);
    })
    .await;
    let admin = app.register_admin().await;
    assert!(!app.mqtt_running());
    let answer = app
        .call(
            "POST",
            "/api/v1/integration/search",
            Some(&admin),
            Some(json!({"device_addable": true})),
        )
        .await;
    let mqtt = ok(&answer)
        .as_array()
        .and_then(|l| l.iter().find(|i| i["id"] == "mqtt-device").cloned())
        .expect("mqtt-device listed");
    assert_eq!(
        (
            &mqtt["name"],
            &mqtt["add_device_service_key"],
            &mqtt["delete_device_service_key"]
        ),
        (
            &json!("MQTT device"),
            &json!("mqtt-device.integration.add_device"),
            &json!("mqtt-device.integration.delete_device")
        )
    );
    let id = add_device(&app, &admin, "Offline", "offline-1").await;
    let answer = app
        .call("GET", &format!("/api/v1/device/{id}"), Some(&admin), None)
        .await;
    assert_eq!(ok(&answer)["key"], "mqtt-device.device.offline-1");
    // A bad identifier is refused naming the parameter.
    let body = json!({"name": "Bad", "integration": "mqtt-device", "param_entities": {"identifier": "a/b"}});
    let answer = app
        .call("POST", "/api/v1/device", Some(&admin), Some(body))
        .await;
    let message = crate::support::refused(&answer, 400, "entity_value_invalid_format");
    assert!(message.contains("identifier"), "{message}");
    // What devices are told comes from the configuration.
    let answer = app
        .call("GET", "/api/v1/mqtt/broker-info", Some(&admin), None)
        .await;
    assert_eq!(ok(&answer)["host"], "iot.example.com");
    assert_eq!(ok(&answer)["mqtt_port"], 11883);
}

// ---- persistent session ----

#[tokio::test]
async fn mqtt_messages_sent_while_weir_is_away_arrive_when_it_is_back() {
    let (app, admin) = mqtt_app(external_mqtt).await;
    add_device(&app, &admin, "Meter", "meter-1").await;
    let mut device = Device::connect(&app, "meter-1-device", None)
        .await
        .expect("connect");
    let up = uplink(&app, "meter-1");
    device.publish(&up, json!({"kwh": 1}).to_string()).await;
    let kwh = entity_id(&app, &admin, "mqtt-device.device.meter-1.kwh").await;
    history_of_len(&app, &admin, &kwh, 1).await;

    app.stop_mqtt().await;
    // The broker accepts these for Weir's persistent session.
    device.publish(&up, json!({"kwh": 2}).to_string()).await;
    device.publish(&up, json!({"kwh": 3}).to_string()).await;
    app.start_mqtt();
    let values = history_of_len(&app, &admin, &kwh, 3).await;
    assert_eq!(values, vec![json!(3), json!(2), json!(1)]);
}

// ---- (e) the embedded broker and device credentials ----

#[tokio::test]
async fn mqtt_embedded_broker_takes_devices_with_their_token_only() {
    let (app, admin) = mqtt_app(embedded_mqtt).await;
    let device_id = add_device(&app, &admin, "Sensor", "sensor-1").await;
    let answer = app
        .call(
            "POST",
            &format!("/api/v1/device/{device_id}/token"),
            Some(&admin),
            None,
        )
        .await;
    let token = ok(&answer)["token"].as_str().expect("token").to_owned();

    // A wrong password, no login at all, and Weir's own client id are refused at CONNECT.
    assert!(
        Device::connect(&app, "sensor-1", Some(("sensor-1", "wdt_wrong")))
            .await
            .is_err()
    );
    assert!(Device::connect(&app, "sensor-1", None).await.is_err());
    let weirs_id = app.weir.settings.mqtt.client_id.clone();
    assert!(
        Device::connect(&app, &weirs_id, Some(("sensor-1", &token)))
            .await
            .is_err()
    );

    let mut device = Device::connect(&app, "sensor-1", Some(("sensor-1", &token)))
        .await
        .expect("the device's token is accepted");
    device
        .publish(&uplink(&app, "sensor-1"), json!({"lux": 312.5}).to_string())
        .await;
    let lux = entity_id(&app, &admin, "mqtt-device.device.sensor-1.lux").await;
    assert_eq!(
        history_of_len(&app, &admin, &lux, 1).await,
        vec![json!(312.5)]
    );

    // A new token revokes the old one for new connections.
    app.call(
        "POST",
        &format!("/api/v1/device/{device_id}/token"),
        Some(&admin),
        None,
    )
    .await;
    assert!(
        Device::connect(&app, "sensor-1b", Some(("sensor-1", &token)))
            .await
            .is_err()
    );
    // broker-info names the embedded broker.
    let port = app.mqtt_broker().expect("the embedded broker").port();
    let answer = app
        .call("GET", "/mqtt/broker-info", Some(&admin), None)
        .await;
    assert_eq!(
        (&ok(&answer)["host"], &ok(&answer)["mqtt_port"]),
        (&json!("127.0.0.1"), &json!(port))
    );
}

// ---- (f) the embedded broker's port is taken ----

#[tokio::test]
async fn mqtt_embedded_broker_on_a_taken_port_leaves_the_server_running() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = taken.local_addr().expect("its address").port();
    let app = TestApp::spawn_with(|s| {
        embedded_mqtt(s);
        s.mqtt.embedded.addr = format!("127.0.0.1:{port}");
    })
    .await;
    assert!(!app.mqtt_running());
    assert_eq!(app.mqtt_broker(), None);
    let (status, _) = app.call("GET", "/healthz", None, None).await;
    assert_eq!(status, 200);
    let admin = app.register_admin().await;
    add_device(&app, &admin, "Later", "later-1").await;
    drop(taken);
}
