//! The live-update WebSocket (`/websocket`): the handshake's token and permission,
//! heartbeats, subscriptions and the values they push, visibility, and bad input.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};
use weir_iot::integration::Integration;
use weir_test_kit::{PASSWORD, Session, TestApp};

use crate::support::{
    ACME, Answer, add_tenant, declared, forbidden, invalid, login_in, ok, register_in,
    unauthenticated, user_with,
};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a frame may take to arrive.
const WAIT: Duration = Duration::from_secs(5);
/// How long to listen before deciding that nothing comes.
const QUIET: Duration = Duration::from_millis(300);

/// Lamps: a settable level and mode.
fn lamps() -> Arc<dyn Integration> {
    declared(
        "lamp",
        "Lamps",
        vec![
            json!({"identifier": "level", "name": "Level", "type": "PROPERTY", "access_mod": "RW", "value_type": "LONG", "value_attribute": {"min": 0, "max": 100}}),
            json!({"identifier": "mode", "name": "Mode", "type": "PROPERTY", "access_mod": "RW", "value_type": "STRING"}),
        ],
    )
}

/// The key of a lamp's entity.
fn key(lamp: &str, entity: &str) -> String {
    format!("lamp.device.{lamp}.{entity}")
}

/// A server with the lamp integration, its admin, and the lamps `l1` and `l2`, whose device
/// ids are returned.
async fn setup() -> (TestApp, Session, String, String) {
    let app = TestApp::spawn_with_integrations(|_| {}, vec![lamps()]).await;
    let admin = app.register_admin().await;
    let l1 = add_lamp(&app, &admin, "L1").await;
    let l2 = add_lamp(&app, &admin, "L2").await;
    (app, admin, l1, l2)
}

async fn add_lamp(app: &TestApp, who: &Session, name: &str) -> String {
    let body = json!({"name": name, "integration": "lamp"});
    let answer = app.call("POST", "/device", Some(who), Some(body)).await;
    ok(&answer)["device_id"].as_str().unwrap().to_owned()
}

/// Sets properties over HTTP as `who`.
async fn update(app: &TestApp, who: &Session, exchange: Value) {
    let body = json!({ "exchange": exchange });
    let answer = app
        .call("POST", "/entity/property/update", Some(who), Some(body))
        .await;
    assert_eq!(ok(&answer), &json!({}));
}

/// The latest value's time of the entity with this key, as the status endpoint says.
async fn updated_at(app: &TestApp, who: &Session, key: &str) -> Value {
    let body = json!({"keyword": key, "page_size": 100});
    let answer = app
        .call("POST", "/entity/search", Some(who), Some(body))
        .await;
    let rows = ok(&answer)["content"].as_array().unwrap().clone();
    let row = rows.iter().find(|r| r["entity_key"] == key).unwrap();
    let id = row["entity_id"].as_str().unwrap();
    let answer = app
        .call("GET", &format!("/entity/{id}/status"), Some(who), None)
        .await;
    ok(&answer)["updated_at"].clone()
}

/// Opens `path` (with a query, if any) sending `header` as the Authorization header: the
/// socket, or the refusal's status and body.
async fn connect(app: &TestApp, path: &str, header: Option<&str>) -> Result<Ws, Answer> {
    let mut req = format!("ws://{}{path}", app.addr)
        .into_client_request()
        .unwrap();
    if let Some(h) = header {
        req.headers_mut()
            .insert("Authorization", h.parse().unwrap());
    }
    match connect_async(req).await {
        Ok((ws, res)) => {
            assert_eq!(res.status().as_u16(), 101);
            Ok(ws)
        }
        Err(tungstenite::Error::Http(res)) => {
            let body = res
                .body()
                .as_deref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(Value::Null);
            Err((res.status().as_u16(), body))
        }
        Err(e) => panic!("connect {path}: {e}"),
    }
}

/// The refusal of a handshake that must fail.
async fn refusal(app: &TestApp, path: &str, header: Option<&str>) -> Answer {
    match connect(app, path, header).await {
        Ok(_) => panic!("{path} was upgraded"),
        Err(answer) => answer,
    }
}

/// Opens `/websocket` as `who`, with the token in the query as the console sends it.
async fn open(app: &TestApp, who: &Session) -> Ws {
    let path = format!("/websocket?Authorization=Bearer%20{}", who.access_token);
    connect(app, &path, None).await.expect("upgraded")
}

async fn send(ws: &mut Ws, message: Value) {
    ws.send(Message::text(message.to_string())).await.unwrap();
}

/// The next text frame, as JSON (control frames are skipped).
async fn recv(ws: &mut Ws) -> Value {
    loop {
        let frame = timeout(WAIT, ws.next())
            .await
            .expect("a frame in time")
            .expect("the socket is open")
            .expect("a valid frame");
        match frame {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// Asserts no text frame arrives for a moment.
async fn assert_quiet(ws: &mut Ws) {
    let deadline = tokio::time::Instant::now() + QUIET;
    while let Ok(frame) = tokio::time::timeout_at(deadline, ws.next()).await {
        match frame {
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected nothing, got {other:?}"),
        }
    }
}

fn heartbeat() -> Value {
    json!({"event_type": "Heartbeat", "payload": "ping"})
}

/// Watches these keys, and waits until the server has read the request (a heartbeat sent
/// after it comes back).
async fn watch(ws: &mut Ws, keys: &[&str]) {
    send(
        ws,
        json!({"event_type": "Exchange", "payload": {"entity_key": keys}}),
    )
    .await;
    send(ws, heartbeat()).await;
    assert_eq!(recv(ws).await, heartbeat());
}

/// The frame a change of these keys pushes: `(key, value, timestamp)`.
fn exchange(changes: &[(&str, Value, &Value)]) -> Value {
    let keys: Vec<&str> = changes.iter().map(|(k, _, _)| *k).collect();
    let values: Map<String, Value> = changes
        .iter()
        .map(|(k, v, t)| ((*k).to_owned(), json!({"value": v, "timestamp": t})))
        .collect();
    json!({"event_type": "Exchange", "payload": {"entity_key": keys}, "values": values})
}

/// The `Error` frame with this code; returns its message.
fn error_frame(frame: &Value, code: &str) -> String {
    assert_eq!(frame["event_type"], "Error", "{frame}");
    assert_eq!(frame["payload"]["error_code"], code, "{frame}");
    assert_eq!(frame.as_object().unwrap().len(), 2, "{frame}");
    assert_eq!(frame["payload"].as_object().unwrap().len(), 2, "{frame}");
    frame["payload"]["error_message"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_handshake_needs_a_valid_token_in_the_query_or_the_header() {
    let (app, admin, _, _) = setup().await;
    for path in ["/websocket", "/api/v1/websocket"] {
        let refused = refusal(&app, path, None).await;
        unauthenticated(&refused, "missing access token");
        let garbage = format!("{path}?Authorization=Bearer%20not.a.token");
        let refused = refusal(&app, &garbage, None).await;
        unauthenticated(&refused, "");
        let refused = refusal(&app, path, Some("Bearer not.a.token")).await;
        unauthenticated(&refused, "");
        let token = &admin.access_token;
        for query in [
            format!("Bearer%20{token}"),
            format!("Bearer+{token}"),
            token.clone(),
        ] {
            let mut ws = connect(&app, &format!("{path}?Authorization={query}"), None)
                .await
                .expect("upgraded with the token in the query");
            send(&mut ws, heartbeat()).await;
            assert_eq!(recv(&mut ws).await, heartbeat());
        }
        let mut ws = connect(&app, path, Some(&format!("Bearer {token}")))
            .await
            .expect("upgraded with the token in the header");
        send(&mut ws, heartbeat()).await;
        assert_eq!(recv(&mut ws).await, heartbeat());
    }
    // A plain GET with a good token is not a handshake.
    let answer = app.call("GET", "/websocket", Some(&admin), None).await;
    invalid(&answer, "WebSocket");
}

#[tokio::test]
async fn the_handshake_needs_entity_data_view() {
    let (app, admin, _, _) = setup().await;
    let plain = app.create_user(&admin, "plain@weir.test").await;
    let path = format!("/websocket?Authorization=Bearer%20{}", plain.access_token);
    forbidden(&refusal(&app, &path, None).await);
    let viewer = user_with(
        &app,
        &admin,
        "viewer@weir.test",
        &["entity_data.view"],
        None,
    )
    .await;
    let mut ws = open(&app, &viewer).await;
    send(&mut ws, heartbeat()).await;
    assert_eq!(recv(&mut ws).await, heartbeat());
}

#[tokio::test]
async fn heartbeats_and_pings_are_answered_and_a_close_is_returned() {
    let (app, admin, _, _) = setup().await;
    let mut ws = open(&app, &admin).await;
    send(&mut ws, heartbeat()).await;
    assert_eq!(recv(&mut ws).await, heartbeat());
    let other = json!({"event_type": "Heartbeat", "payload": {"n": 1}});
    send(&mut ws, other.clone()).await;
    assert_eq!(recv(&mut ws).await, other);
    let bare = json!({"event_type": "Heartbeat"});
    send(&mut ws, bare.clone()).await;
    assert_eq!(recv(&mut ws).await, bare);
    ws.send(Message::Ping(b"are you there".to_vec().into()))
        .await
        .unwrap();
    let pong = timeout(WAIT, ws.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(pong, Message::Pong(b"are you there".to_vec().into()));
    ws.close(None).await.unwrap();
    loop {
        match timeout(WAIT, ws.next()).await.expect("closed in time") {
            None => break,
            Some(Ok(Message::Close(_))) => {}
            Some(Ok(other)) => panic!("unexpected {other:?}"),
            Some(Err(e)) => panic!("unclean close: {e}"),
        }
    }
}

#[tokio::test]
async fn open_websockets_and_their_pushes_are_counted() {
    use crate::metrics::{sample, scrape, with_token};
    let app = TestApp::spawn_with_integrations(with_token, vec![lamps()]).await;
    let admin = app.register_admin().await;
    add_lamp(&app, &admin, "L1").await;
    let level = key("l1", "level");
    let before = scrape(&app).await;
    let mut ws = open(&app, &admin).await;
    watch(&mut ws, &[&level]).await;
    update(&app, &admin, json!({ &level: 42 })).await;
    recv(&mut ws).await;
    let after = scrape(&app).await;
    // Other tests open and close sockets meanwhile: this one is open, and pushed once.
    assert!(
        sample(&after, "weir_websocket_connections_open", &[]) >= 1.0,
        "{after}"
    );
    let pushes = |text: &str| sample(text, "weir_websocket_pushes_total", &[]);
    assert!(pushes(&after) - pushes(&before) >= 1.0, "{after}");
}

#[tokio::test]
async fn watched_keys_push_their_new_values_and_a_new_watch_replaces_the_old() {
    let (app, admin, _, _) = setup().await;
    let (level1, mode1, level2) = (key("l1", "level"), key("l1", "mode"), key("l2", "level"));
    let mut ws = open(&app, &admin).await;
    // Nothing is watched yet.
    update(&app, &admin, json!({ &level1: 1 })).await;
    assert_quiet(&mut ws).await;

    watch(&mut ws, &[&level1, &mode1]).await;
    update(&app, &admin, json!({ &level1: 42 })).await;
    let t = updated_at(&app, &admin, &level1).await;
    assert!(t.is_i64(), "{t}");
    assert_eq!(recv(&mut ws).await, exchange(&[(&level1, json!(42), &t)]));

    // One message per write, with only the watched keys of it.
    update(
        &app,
        &admin,
        json!({ &level1: 7, &mode1: "warm", &level2: 9 }),
    )
    .await;
    let frame = recv(&mut ws).await;
    let t = updated_at(&app, &admin, &level1).await;
    let mut keys: Vec<String> =
        serde_json::from_value(frame["payload"]["entity_key"].clone()).unwrap();
    keys.sort();
    assert_eq!(keys, [level1.clone(), mode1.clone()]);
    assert_eq!(
        frame["values"],
        json!({ &level1: {"value": 7, "timestamp": t}, &mode1: {"value": "warm", "timestamp": t} })
    );
    assert_eq!(frame.as_object().unwrap().len(), 3, "{frame}");

    // An unwatched key sends nothing: the next frame is that of the watched write after it.
    update(&app, &admin, json!({ &level2: 10 })).await;
    update(&app, &admin, json!({ &mode1: "cold" })).await;
    let t = updated_at(&app, &admin, &mode1).await;
    assert_eq!(
        recv(&mut ws).await,
        exchange(&[(&mode1, json!("cold"), &t)])
    );

    // A new watch replaces the old one.
    watch(&mut ws, &[&level2]).await;
    update(&app, &admin, json!({ &level1: 11 })).await;
    update(&app, &admin, json!({ &level2: 12 })).await;
    let t = updated_at(&app, &admin, &level2).await;
    assert_eq!(recv(&mut ws).await, exchange(&[(&level2, json!(12), &t)]));

    // An empty watch stops everything.
    watch(&mut ws, &[]).await;
    update(&app, &admin, json!({ &level2: 13 })).await;
    assert_quiet(&mut ws).await;
}

#[tokio::test]
async fn values_are_pushed_only_to_those_who_may_see_them() {
    let (app, admin, _, l2) = setup().await;
    let (level1, level2) = (key("l1", "level"), key("l2", "level"));
    let blind = user_with(&app, &admin, "blind@weir.test", &["entity_data.view"], None).await;
    let granted = user_with(
        &app,
        &admin,
        "granted@weir.test",
        &["entity_data.view"],
        Some(("DEVICE", &l2)),
    )
    .await;
    add_tenant(&app, ACME).await.expect("add acme");
    ok(&register_in(&app, ACME, "boss@acme.test", PASSWORD).await);
    let (boss, _) = login_in(&app, ACME, "boss@acme.test", PASSWORD).await;
    // Acme has a lamp with the same key as the default tenant's.
    add_lamp(&app, &boss, "L1").await;

    let mut sockets = Vec::new();
    for who in [&admin, &blind, &granted, &boss] {
        let mut ws = open(&app, who).await;
        watch(&mut ws, &[&level1, &level2]).await;
        sockets.push(ws);
    }
    let [admin_ws, blind_ws, granted_ws, boss_ws] = &mut sockets[..] else {
        unreachable!()
    };

    update(&app, &admin, json!({ &level1: 1, &level2: 2 })).await;
    let t = updated_at(&app, &admin, &level1).await;
    let frame = recv(admin_ws).await;
    assert_eq!(frame["values"].as_object().unwrap().len(), 2, "{frame}");
    assert_eq!(
        frame["values"][&level1],
        json!({"value": 1, "timestamp": t})
    );
    // The device grant shows l2's level only.
    assert_eq!(recv(granted_ws).await, exchange(&[(&level2, json!(2), &t)]));

    update(&app, &admin, json!({ &level1: 3 })).await;
    let t = updated_at(&app, &admin, &level1).await;
    assert_eq!(recv(admin_ws).await, exchange(&[(&level1, json!(3), &t)]));

    // Acme's own write reaches acme's boss only; it is the first frame the boss sees.
    update(&app, &boss, json!({ &level1: 4 })).await;
    let t = updated_at(&app, &boss, &level1).await;
    assert_eq!(recv(boss_ws).await, exchange(&[(&level1, json!(4), &t)]));

    assert_quiet(admin_ws).await;
    assert_quiet(blind_ws).await;
    assert_quiet(granted_ws).await;
    assert_quiet(boss_ws).await;
}

#[tokio::test]
async fn bad_frames_answer_an_error_and_keep_the_connection() {
    let (app, admin, _, _) = setup().await;
    let level1 = key("l1", "level");
    let mut ws = open(&app, &admin).await;
    watch(&mut ws, &[&level1]).await;

    ws.send(Message::text("{not json")).await.unwrap();
    let message = error_frame(&recv(&mut ws).await, "parameter_syntax_error");
    assert!(
        message.starts_with("message is not valid JSON"),
        "{message}"
    );

    send(&mut ws, json!({"event_type": "Subscribe", "payload": {}})).await;
    let message = error_frame(&recv(&mut ws).await, "parameter_validation_failed");
    assert!(
        message.starts_with("event_type: unknown variant `Subscribe`"),
        "{message}"
    );

    send(
        &mut ws,
        json!({"event_type": "Exchange", "payload": {"entity_key": "k"}}),
    )
    .await;
    let message = error_frame(&recv(&mut ws).await, "parameter_validation_failed");
    assert!(
        message.starts_with("payload.entity_key: invalid type"),
        "{message}"
    );

    let many: Vec<String> = (0..5001).map(|i| format!("k{i}")).collect();
    send(
        &mut ws,
        json!({"event_type": "Exchange", "payload": {"entity_key": many}}),
    )
    .await;
    let message = error_frame(&recv(&mut ws).await, "parameter_validation_failed");
    assert!(
        message.contains("payload.entity_key: at most 5000"),
        "{message}"
    );

    ws.send(Message::binary(b"\x01\x02".to_vec()))
        .await
        .unwrap();
    error_frame(&recv(&mut ws).await, "parameter_validation_failed");

    // Still open, and the refused watches left the old one in place.
    send(&mut ws, heartbeat()).await;
    assert_eq!(recv(&mut ws).await, heartbeat());
    update(&app, &admin, json!({ &level1: 5 })).await;
    let t = updated_at(&app, &admin, &level1).await;
    assert_eq!(recv(&mut ws).await, exchange(&[(&level1, json!(5), &t)]));
}

#[tokio::test]
async fn a_client_that_does_not_read_never_holds_up_writes() {
    // A bus queue of 4 events: a connection that falls behind loses the oldest.
    let app = TestApp::spawn_with_integrations(|s| s.iot.event_queue = 4, vec![lamps()]).await;
    let admin = app.register_admin().await;
    add_lamp(&app, &admin, "L1").await;
    let level1 = key("l1", "level");
    let mut ws = open(&app, &admin).await;
    watch(&mut ws, &[&level1]).await;
    // Many writes while the client reads nothing: each is answered at once.
    for n in 0..=60 {
        let write = timeout(WAIT, update(&app, &admin, json!({ &level1: n })));
        write.await.expect("a write is not held up by the socket");
    }
    // The client then gets values in order, possibly with gaps, up to the last one.
    let mut last = -1;
    while last < 60 {
        let frame = recv(&mut ws).await;
        let n = frame["values"][&level1]["value"].as_i64().expect("a value");
        assert!(n > last, "{n} after {last}");
        last = n;
    }
}

/// Waits for the server to close the socket; the close code.
async fn closed_by_server(ws: &mut Ws) -> u16 {
    loop {
        match timeout(WAIT, ws.next()).await.expect("closed in time") {
            Some(Ok(Message::Close(Some(frame)))) => return frame.code.into(),
            Some(Ok(Message::Close(None))) | None => panic!("closed without a code"),
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("unclean close: {e}"),
        }
    }
}

#[tokio::test]
async fn an_open_socket_closes_once_its_user_is_disabled_or_loses_the_right_to_watch() {
    let app =
        TestApp::spawn_with_integrations(|s| s.http.websocket_recheck_secs = 1, vec![lamps()])
            .await;
    let admin = app.register_admin().await;
    let codes = ["entity_data.view"];
    let leaver = user_with(&app, &admin, "leaver@weir.test", &codes, None).await;
    let mover = user_with(&app, &admin, "mover@weir.test", &codes, None).await;
    let (mut admin_ws, mut leaver_ws, mut mover_ws) = (
        open(&app, &admin).await,
        open(&app, &leaver).await,
        open(&app, &mover).await,
    );

    // Disabled through another API (Smartbi's user/update).
    let answer = crate::smartbi_models::act(
        &app,
        &admin,
        "user/update",
        json!({"id": leaver.user_id, "enabled": false}),
    )
    .await;
    crate::smartbi_models::success(&answer);
    assert_eq!(closed_by_server(&mut leaver_ws).await, 1008);

    // The mover's role loses entity_data.view.
    let me = ok(&app.call("GET", "/user", Some(&mover), None).await).clone();
    let role = me["roles"][0]["role_id"].as_str().unwrap().to_owned();
    let menu = app.menu_id(&admin, "entity_data.view").await;
    let body = json!({"menu_ids": [menu]});
    let path = format!("/user/roles/{role}/disassociate-menu");
    ok(&app.call("POST", &path, Some(&admin), Some(body)).await);
    assert_eq!(closed_by_server(&mut mover_ws).await, 1008);

    // Others' sockets stay open.
    send(&mut admin_ws, heartbeat()).await;
    assert_eq!(recv(&mut admin_ws).await, heartbeat());
}
