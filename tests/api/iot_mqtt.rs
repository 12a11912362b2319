//! The mqtt-device integration end to end: a real broker (the embedded one on a free port,
//! or the external one `WEIR_TEST_MQTT_URL` names), a device played by rumqttc, and the
//! server over HTTP. Tests of what only an external broker does (persistent sessions,
//! topics outside a device's own) are skipped without that variable.

use std::future::Future;
use std::net::TcpListener;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event, LastWill, MqttOptions, Packet, QoS,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use weir_iot::model::{AccessMod, EntityDefinition, EntityType, ValueType};
use weir_iot::ports::{Entity, IotTx};
use weir_kernel::store::write;
use weir_kernel::{Id, TenantId, Transactions};
use weir_test_kit::{
    PASSWORD, Session, Settings, TestApp, any_mqtt, embedded_mqtt, external, external_mqtt,
};

use crate::support::{ACME, add_tenant, login_in, ok, register_in, unauthenticated};

const WAIT: Duration = Duration::from_secs(10);

// ---- the scene ----

/// A server with MQTT as `mqtt` sets it, its admin signed in, Weir's client subscribed.
async fn mqtt_app(mqtt: impl FnOnce(&mut Settings)) -> (TestApp, Session) {
    let app = TestApp::spawn_with(mqtt).await;
    let admin = app.register_admin().await;
    app.wait_mqtt_ready().await;
    (app, admin)
}

/// Connects as the device `identifier` (of id `device_id`): with its token on the embedded
/// broker, which lets no device in without one; as it is on the external broker.
async fn connect_device(
    app: &TestApp,
    admin: &Session,
    (device_id, identifier): (&str, &str),
    client_id: &str,
) -> Device {
    let token = match app.mqtt_broker() {
        Some(_) => Some(token_of(app, admin, device_id).await),
        None => None,
    };
    Device::connect(app, client_id, token.as_deref().map(|t| (identifier, t)))
        .await
        .expect("connect")
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

/// What a device's connection sees.
#[derive(Debug)]
enum Seen {
    Packet(Packet),
    /// The connection ended (the client then connects again by itself).
    Closed,
}

/// An MQTT client standing in for a device; what it receives arrives on `incoming`.
struct Device {
    client: AsyncClient,
    incoming: mpsc::UnboundedReceiver<Seen>,
    /// What the broker's CONNACK said.
    session_present: bool,
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
        Self::connect_with(app, client_id, login, |_| {})
            .await
            .map_err(|code| format!("refused: {code:?}"))
    }

    /// Connects with options `tweak` changes. A refusal answers the CONNACK's code, or
    /// None when the broker closed the connection without one.
    async fn connect_with(
        app: &TestApp,
        client_id: &str,
        login: Option<(&str, &str)>,
        tweak: impl FnOnce(&mut MqttOptions),
    ) -> Result<Device, Option<ConnectReturnCode>> {
        Self::connect_at(broker_of(app), app, client_id, login, tweak).await
    }

    /// [`Device::connect_with`] the broker at `host` and `port`.
    async fn connect_at(
        (host, port): (String, u16),
        app: &TestApp,
        client_id: &str,
        login: Option<(&str, &str)>,
        tweak: impl FnOnce(&mut MqttOptions),
    ) -> Result<Device, Option<ConnectReturnCode>> {
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
        tweak(&mut options);
        let (client, mut events) = AsyncClient::new(options, 64);
        let session_present = match tokio::time::timeout(WAIT, events.poll()).await {
            Ok(Ok(Event::Incoming(Packet::ConnAck(ack))))
                if ack.code == ConnectReturnCode::Success =>
            {
                ack.session_present
            }
            Ok(Err(ConnectionError::ConnectionRefused(code))) => return Err(Some(code)),
            _ => return Err(None),
        };
        let (tx, incoming) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(packet)) => {
                        let _ = tx.send(Seen::Packet(packet));
                    }
                    Ok(_) => {}
                    Err(_) => {
                        let _ = tx.send(Seen::Closed);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        Ok(Device {
            client,
            incoming,
            session_present,
            task,
        })
    }

    /// Waits until the broker closes the connection; nothing may arrive before.
    async fn closed_with_nothing_received(&mut self) {
        let seen = tokio::time::timeout(WAIT, self.incoming.recv())
            .await
            .expect("the connection closed within 10 s");
        assert!(matches!(seen, Some(Seen::Closed)), "{seen:?}");
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

    /// The next packet received that `wanted` accepts; the connection may not close
    /// meanwhile.
    async fn next(&mut self, wanted: impl Fn(&Packet) -> bool) -> Packet {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let seen = tokio::time::timeout_at(deadline, self.incoming.recv())
                .await
                .expect("a packet within 10 s")
                .expect("the device's connection");
            match seen {
                Seen::Packet(packet) if wanted(&packet) => return packet,
                Seen::Packet(_) => {}
                Seen::Closed => panic!("the device's connection closed"),
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
    let (app, admin) = mqtt_app(any_mqtt).await;
    let device_id = add_device(&app, &admin, "Kitchen", "kitchen-1").await;
    let mut device =
        connect_device(&app, &admin, (&device_id, "kitchen-1"), "kitchen-1-device").await;
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
    // The embedded broker would not take topics outside the device's own.
    let Some(broker) = external::mqtt() else {
        return;
    };
    let (app, admin) = mqtt_app(|s| external_mqtt(s, &broker)).await;
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
    (tenant, device_id, device): (&str, &str, &str),
    identifier: &str,
    entity_type: EntityType,
    value_type: ValueType,
    id: i64,
) -> Entity {
    let now = now_ms();
    Entity {
        id: Id(id),
        tenant_id: TenantId::parse(tenant).expect("a tenant id"),
        key: format!("mqtt-device.device.{device}.{identifier}"),
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

async fn insert_entities(app: &TestApp, rows: Vec<Entity>) {
    let database = app.weir.database.clone();
    tokio::task::spawn_blocking(move || {
        let store: &dyn Transactions<dyn IotTx> = &database;
        write(store, |tx| tx.insert_entities(&rows))
    })
    .await
    .expect("insert task")
    .expect("insert the writable entities");
}

#[tokio::test]
async fn mqtt_property_updates_and_service_calls_go_out_on_the_downlink() {
    let (app, admin) = mqtt_app(any_mqtt).await;
    let device_id = add_device(&app, &admin, "Valve", "valve-1").await;
    let rows = vec![
        writable_entity(
            ("default", &device_id, "valve-1"),
            "setpoint",
            EntityType::Property,
            ValueType::Double,
            9_000_000_001,
        ),
        writable_entity(
            ("default", &device_id, "valve-1"),
            "reboot",
            EntityType::Service,
            ValueType::Boolean,
            9_000_000_002,
        ),
    ];
    insert_entities(&app, rows).await;

    let mut device = connect_device(&app, &admin, (&device_id, "valve-1"), "valve-1-device").await;
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
    let (app, admin) = mqtt_app(any_mqtt).await;
    let plain = app.create_user(&admin, "plain@weir.test").await;
    let (host, port) = broker_of(&app);
    let expected = json!({"host": host, "mqtt_port": port, "mqtts_port": null, "ws_port": null, "wss_port": null, "ws_path": null});
    for (path, who) in [
        ("/api/v1/mqtt/broker-info", &admin),
        ("/mqtt/broker-info", &plain),
    ] {
        let answer = app.call("GET", path, Some(who), None).await;
        assert_eq!(ok(&answer), &expected, "{path}");
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
    // The embedded broker stops with Weir's MQTT and keeps no session.
    let Some(broker) = external::mqtt() else {
        return;
    };
    let (app, admin) = mqtt_app(|s| external_mqtt(s, &broker)).await;
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

/// Issues a token for the device as `who`; answers it.
async fn token_of(app: &TestApp, who: &Session, device_id: &str) -> String {
    let answer = app
        .call(
            "POST",
            &format!("/api/v1/device/{device_id}/token"),
            Some(who),
            None,
        )
        .await;
    ok(&answer)["token"].as_str().expect("token").to_owned()
}

/// The CONNACK code a refused CONNECT is answered with.
async fn refusal(
    app: &TestApp,
    client_id: &str,
    login: Option<(&str, &str)>,
    tweak: impl FnOnce(&mut MqttOptions),
) -> Option<ConnectReturnCode> {
    match Device::connect_with(app, client_id, login, tweak).await {
        Ok(_) => panic!("{client_id} was let in"),
        Err(code) => code,
    }
}

#[tokio::test]
async fn mqtt_connections_messages_and_values_are_counted() {
    use crate::metrics::{sample, scrape, with_token};
    let (app, admin) = mqtt_app(|s| {
        embedded_mqtt(s);
        with_token(s);
    })
    .await;
    let device_id = add_device(&app, &admin, "Meter", "meter-1").await;
    let before = scrape(&app).await;
    let wrong = Some(("meter-1", "wdt_wrong"));
    assert!(refusal(&app, "meter-1", wrong, |_| {}).await.is_some());
    let mut device = connect_device(&app, &admin, (&device_id, "meter-1"), "meter-1").await;
    let up = uplink(&app, "meter-1");
    device
        .publish(&up, json!({"power": 12.5, "on": true}).to_string())
        .await;
    device.publish(&up, "not json").await;
    let power = entity_id(&app, &admin, "mqtt-device.device.meter-1.power").await;
    history_of_len(&app, &admin, &power, 1).await;
    // Counters of the whole process (other tests' servers add to them): what this one did
    // is the least they grew by.
    let grew = |text: &str, name: &str, labels: &[(&str, &str)]| {
        sample(text, name, labels) - sample(&before, name, labels)
    };
    let after = eventually("the refused message counted", || async {
        let text = scrape(&app).await;
        let refused = [("direction", "uplink"), ("outcome", "refused")];
        (grew(&text, "weir_mqtt_messages_total", &refused) >= 1.0).then_some(text)
    })
    .await;
    let stored = [("direction", "uplink"), ("outcome", "stored")];
    assert!(
        grew(&after, "weir_mqtt_messages_total", &stored) >= 1.0,
        "{after}"
    );
    let mqtt = [("channel", "mqtt")];
    assert!(
        grew(&after, "weir_values_ingested_total", &mqtt) >= 2.0,
        "{after}"
    );
    let accepted = [("outcome", "accepted")];
    assert!(
        grew(&after, "weir_mqtt_connects_total", &accepted) >= 1.0,
        "{after}"
    );
    let refused = [("outcome", "refused")];
    assert!(
        grew(&after, "weir_mqtt_connects_total", &refused) >= 1.0,
        "{after}"
    );
    assert!(
        sample(&after, "weir_mqtt_connections_open", &[]) >= 1.0,
        "{after}"
    );
}

#[tokio::test]
async fn mqtt_embedded_broker_takes_devices_with_their_token_only() {
    let (app, admin) = mqtt_app(embedded_mqtt).await;
    let device_id = add_device(&app, &admin, "Sensor", "sensor-1").await;
    let token = token_of(&app, &admin, &device_id).await;

    // A wrong password and no login at all are refused at CONNECT, with a CONNACK.
    let bad_login = Some(ConnectReturnCode::BadUserNamePassword);
    let wrong = Some(("sensor-1", "wdt_wrong"));
    assert_eq!(refusal(&app, "sensor-1", wrong, |_| {}).await, bad_login);
    assert_eq!(refusal(&app, "sensor-1", None, |_| {}).await, bad_login);
    // An empty client id is for a clean session only (MQTT 3.1.1).
    let login = Some(("sensor-1", token.as_str()));
    let persistent = |o: &mut MqttOptions| {
        o.set_clean_session(false).set_client_id(String::new());
    };
    assert_eq!(
        refusal(&app, "sensor-1", login, persistent).await,
        Some(ConnectReturnCode::BadClientId)
    );
    let anonymous = |o: &mut MqttOptions| {
        o.set_client_id(String::new());
    };
    Device::connect_with(&app, "", login, anonymous)
        .await
        .expect("an empty client id with a clean session");
    assert_eq!(
        refusal(&app, "sensor/1", login, |_| {}).await,
        Some(ConnectReturnCode::BadClientId)
    );

    let mut device = Device::connect(&app, "sensor-1", login)
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
    token_of(&app, &admin, &device_id).await;
    assert_eq!(refusal(&app, "sensor-1b", login, |_| {}).await, bad_login);
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

/// A property `setpoint` Weir can write to `device` of `tenant`, so a downlink can be
/// sent to it.
fn setpoint(tenant: &str, device_id: &str, device: &str, id: i64) -> Entity {
    writable_entity(
        (tenant, device_id, device),
        "setpoint",
        EntityType::Property,
        ValueType::Long,
        id,
    )
}

/// Writes `value` to the device's `setpoint` as `who`: Weir publishes it on the device's
/// downlink.
async fn write_setpoint(app: &TestApp, who: &Session, device: &str, value: i64) {
    let key = format!("mqtt-device.device.{device}.setpoint");
    let body = json!({"exchange": {key: value}});
    let answer = app
        .call(
            "POST",
            "/api/v1/entity/property/update",
            Some(who),
            Some(body),
        )
        .await;
    ok(&answer);
}

#[tokio::test]
async fn mqtt_embedded_broker_keeps_each_device_to_its_own_topics() {
    let (app, admin) = mqtt_app(embedded_mqtt).await;
    add_tenant(&app, ACME).await.expect("add acme");
    ok(&register_in(&app, ACME, "boss@acme.test", PASSWORD).await);
    let (boss, _) = login_in(&app, ACME, "boss@acme.test", PASSWORD).await;
    // `a` and `b` in the default tenant, and a `b` of acme's.
    let a_id = add_device(&app, &admin, "A", "dev-a").await;
    let b_id = add_device(&app, &admin, "B", "dev-b").await;
    let theirs_id = add_device(&app, &boss, "B of acme", "dev-b").await;
    let a_token = token_of(&app, &admin, &a_id).await;
    let b_token = token_of(&app, &admin, &b_id).await;
    let their_token = token_of(&app, &boss, &theirs_id).await;
    let a_login = Some(("dev-a", a_token.as_str()));
    let a_up = topic(&app, "default", "dev-a", "uplink");
    let a_down = topic(&app, "default", "dev-a", "downlink");
    let b_up = topic(&app, "default", "dev-b", "uplink");
    let b_down = topic(&app, "default", "dev-b", "downlink");
    let their_up = topic(&app, ACME, "dev-b", "uplink");
    let their_down = topic(&app, ACME, "dev-b", "downlink");

    // A's own uplink works.
    let mut a = Device::connect(&app, "a", a_login).await.expect("connect");
    a.publish(&a_up, json!({"t": 1}).to_string()).await;
    let t = entity_id(&app, &admin, "mqtt-device.device.dev-a.t").await;
    history_of_len(&app, &admin, &t, 1).await;

    // Publishing anywhere else, in its tenant or another, closes A's connection (A
    // probes under another client id: the same one would take `a`'s connection over).
    // Each probe has a client id of its own: the broker may still be dropping the last
    // probe's session when the next one connects.
    for (i, other) in [&b_up, &their_up, &a_down].into_iter().enumerate() {
        let mut a = Device::connect(&app, &format!("a-probe-{i}"), a_login)
            .await
            .expect("connect");
        a.client
            .publish(other.as_str(), QoS::AtLeastOnce, false, r#"{"stolen": 1}"#)
            .await
            .expect("publish queued");
        a.closed_with_nothing_received().await;
    }
    // So does subscribing to anything but its own downlink: no SUBACK, nothing received.
    let prefix = &app.weir.settings.mqtt.topic_prefix;
    let everything = [
        "#".to_owned(),
        "+/+/+/downlink".to_owned(),
        format!("{prefix}/#"),
        format!("{prefix}/default/dev-a/#"),
        b_down.clone(),
        their_down.clone(),
        a_up.clone(),
    ];
    for (i, filter) in everything.into_iter().enumerate() {
        let mut a = Device::connect(&app, &format!("a-sub-probe-{i}"), a_login)
            .await
            .expect("connect");
        a.client
            .subscribe(filter.as_str(), QoS::AtLeastOnce)
            .await
            .expect("subscribe queued");
        a.closed_with_nothing_received().await;
    }
    // A will must be on its own uplink.
    let will_on = |topic: &str| {
        let will = LastWill::new(topic, "gone", QoS::AtLeastOnce, false);
        move |o: &mut MqttOptions| {
            o.set_last_will(will);
        }
    };
    assert_eq!(
        refusal(&app, "a-probe", a_login, will_on(&b_up)).await,
        Some(ConnectReturnCode::NotAuthorized)
    );
    Device::connect_with(&app, "a-probe", a_login, will_on(&a_up))
        .await
        .expect("a will on its own uplink");

    // Nothing A tried reached B: once A's next message is stored, B of either tenant has
    // no value.
    a.publish(&a_up, json!({"t": 2}).to_string()).await;
    history_of_len(&app, &admin, &t, 2).await;
    assert_eq!(entities_of(&app, &admin, &b_id).await, Vec::<Value>::new());
    assert_eq!(
        entities_of(&app, &boss, &theirs_id).await,
        Vec::<Value>::new()
    );

    // Downlinks: each device gets its own, and only it.
    insert_entities(
        &app,
        vec![
            setpoint("default", &a_id, "dev-a", 9_000_000_001),
            setpoint("default", &b_id, "dev-b", 9_000_000_002),
            setpoint(ACME, &theirs_id, "dev-b", 9_000_000_003),
        ],
    )
    .await;
    a.subscribe(&a_down).await;
    let mut b = Device::connect(&app, "b", Some(("dev-b", &b_token)))
        .await
        .expect("connect");
    b.subscribe(&b_down).await;
    let mut theirs = Device::connect(&app, "b", Some(("dev-b", &their_token)))
        .await
        .expect("connect");
    theirs.subscribe(&their_down).await;
    write_setpoint(&app, &admin, "dev-b", 2).await;
    write_setpoint(&app, &boss, "dev-b", 3).await;
    write_setpoint(&app, &admin, "dev-a", 1).await;
    assert_eq!(b.message_on(&b_down).await, json!({"setpoint": 2}));
    assert_eq!(theirs.message_on(&their_down).await, json!({"setpoint": 3}));
    let first = a.next(|p| matches!(p, Packet::Publish(_))).await;
    let Packet::Publish(first) = first else {
        unreachable!()
    };
    assert_eq!(
        (first.topic.as_str(), &first.payload[..]),
        (a_down.as_str(), &br#"{"setpoint":1}"#[..])
    );
}

#[tokio::test]
async fn mqtt_embedded_broker_cannot_be_gone_around_nor_sessions_taken_over() {
    let (app, admin) = mqtt_app(embedded_mqtt).await;
    let a_id = add_device(&app, &admin, "A", "dev-a").await;
    let b_id = add_device(&app, &admin, "B", "dev-b").await;
    let a_token = token_of(&app, &admin, &a_id).await;
    let b_token = token_of(&app, &admin, &b_id).await;
    let a_login = Some(("dev-a", a_token.as_str()));
    let b_login = Some(("dev-b", b_token.as_str()));

    // rumqttd's own port takes no device token: it closes the connection.
    let internal = app.mqtt_internal_port().expect("rumqttd's own port");
    assert_ne!(Some(internal), app.mqtt_broker());
    let direct = (internal.ip().to_string(), internal.port());
    let answer = Device::connect_at(direct, &app, "a", a_login, |_| {}).await;
    assert!(matches!(answer, Err(None)), "let in directly");

    // B cannot take A's persistent session: the same client id is another session.
    let persistent = |o: &mut MqttOptions| {
        o.set_clean_session(false);
    };
    let mut a = Device::connect_with(&app, "shared", a_login, persistent)
        .await
        .expect("connect");
    assert!(!a.session_present);
    let a_down = topic(&app, "default", "dev-a", "downlink");
    a.subscribe(&a_down).await;
    let b = Device::connect_with(&app, "shared", b_login, persistent)
        .await
        .expect("connect");
    assert!(!b.session_present, "B was handed A's session");
    drop(b);
    // A was not kicked off: it still receives its downlink.
    insert_entities(
        &app,
        vec![setpoint("default", &a_id, "dev-a", 9_000_000_001)],
    )
    .await;
    write_setpoint(&app, &admin, "dev-a", 7).await;
    assert_eq!(a.message_on(&a_down).await, json!({"setpoint": 7}));
    drop(a);
    // A itself gets its session back.
    let a = Device::connect_with(&app, "shared", a_login, persistent)
        .await
        .expect("connect");
    assert!(a.session_present);

    // Weir's own client id is just another client id for a device: it is not handed
    // Weir's session, and Weir goes on storing.
    let weirs_id = app.weir.settings.mqtt.client_id.clone();
    let mut posing = Device::connect_with(&app, &weirs_id, b_login, persistent)
        .await
        .expect("connect");
    assert!(
        !posing.session_present,
        "a device was handed Weir's session"
    );
    posing
        .publish(&uplink(&app, "dev-b"), json!({"n": 1}).to_string())
        .await;
    let n = entity_id(&app, &admin, "mqtt-device.device.dev-b.n").await;
    assert_eq!(history_of_len(&app, &admin, &n, 1).await, vec![json!(1)]);

    // A message over mqtt.max_payload_bytes closes the connection.
    let big = |o: &mut MqttOptions| {
        o.set_max_packet_size(1 << 20, 1 << 20);
    };
    let mut b = Device::connect_with(&app, "b", b_login, big)
        .await
        .expect("connect");
    let too_big = vec![b' '; app.weir.settings.mqtt.max_payload_bytes + 1];
    b.client
        .publish(uplink(&app, "dev-b"), QoS::AtLeastOnce, false, too_big)
        .await
        .expect("publish queued");
    b.closed_with_nothing_received().await;
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
