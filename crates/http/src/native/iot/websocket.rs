//! Live updates over a WebSocket (`GET /websocket`), as the Beaver IoT web console uses it.
//!
//! The handshake authenticates the access token (the `Authorization` query parameter, or
//! the header) and needs `entity_data.view`; the connection checks the token again every
//! `websocket_recheck` and closes (1008, policy) when it no longer passes — revoked, user or
//! tenant disabled, `entity_data.view` taken away — while changed grants take effect. The client then names the entity keys it
//! watches (`Exchange`); every committed write of a watched key that the caller may see
//! is pushed as one `Exchange` frame carrying the keys and their values. Each connection is
//! one local task reading the client's frames and its own bus subscription, whose bounded
//! queue drops the oldest events when the socket cannot keep up, so ingest never waits for a
//! slow client.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, get, web};
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, ProtocolError};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep_until};
use weir_iot::Viewer;
use weir_iot::events::{Subscription, ValuesCommitted};
use weir_kernel::Millis;

use super::IotViewer;
use crate::native::envelope::{NativeError, Refusals};
use crate::native::extract::{State, bearer_token, header_token, parse_json_of};

/// Most keys one `Exchange` may watch.
pub const MAX_KEYS: usize = 5000;
/// A connection that hears nothing from its client (no frame, no pong) this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How often the server pings, so a live client that sends nothing still answers a pong.
pub const PING_INTERVAL: Duration = Duration::from_secs(20);

/// Opens the live-update WebSocket. The token is the `Authorization` query parameter
/// (`Bearer <token>` or the bare token) or the `Authorization` header; the caller needs
/// `entity_data.view`. The messages are described in docs/native-api.md.
#[utoipa::path(
    tag = "entities",
    params(("Authorization" = Option<String>, Query, description = "`Bearer <access token>` (URL-encoded), or the bare token; else the Authorization header is read")),
    security(("bearer" = [])),
    responses(
        (status = 101, description = "Switched to the WebSocket protocol"),
        Refusals,
    )
)]
#[get("/websocket")]
pub async fn websocket(
    state: State,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, NativeError> {
    let token = request_token(&req)?;
    let viewer = viewer_of(&state, token.clone()).await?;
    let (response, session, stream) = actix_ws::handle(&req, body)
        .map_err(|e| NativeError::invalid(format!("not a WebSocket handshake: {e}")))?;
    // Subscribed before the upgrade answers, so nothing committed after it is missed.
    let events = state.iot.events().subscribe();
    let limit = state.settings.max_body_bytes;
    let stream = stream
        .max_frame_size(limit)
        .aggregate_continuations()
        .max_continuation_size(limit);
    let connection = Connection {
        viewer,
        keys: HashSet::new(),
        token,
        state: state.clone(),
    };
    actix_web::rt::spawn(connection.run(session, stream, events));
    Ok(response)
}

/// Who the token speaks for, if they may watch values.
async fn viewer_of(state: &State, token: String) -> Result<Viewer, NativeError> {
    let viewer = IotViewer::authenticate(state, token).await?.0;
    viewer.require("entity_data.view")?;
    Ok(viewer)
}

/// The token of the `Authorization` query parameter, else of the header.
fn request_token(req: &HttpRequest) -> Result<String, NativeError> {
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let value = query
        .into_iter()
        .find(|(k, v)| k.eq_ignore_ascii_case("authorization") && !v.trim().is_empty());
    Ok(match value.as_ref().map(|(_, v)| v.trim()) {
        None => header_token(req)?,
        Some(v) if v.contains(' ') => bearer_token(v)?,
        Some(v) => v.to_owned(),
    })
}

/// What the client sends.
#[derive(Debug, Deserialize)]
#[serde(tag = "event_type", content = "payload")]
enum ClientMessage {
    /// Replaces the watched keys.
    Exchange(Watch),
    /// Echoed back as sent.
    Heartbeat(Option<Json>),
}

#[derive(Debug, Deserialize)]
struct Watch {
    #[serde(default)]
    entity_key: Vec<String>,
}

/// What the server sends: `Exchange` with `values`, `Heartbeat` with the client's
/// payload, `Error` with `{error_code, error_message}`.
#[derive(Debug, Serialize)]
struct ServerMessage<'a, P> {
    event_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<P>,
    #[serde(skip_serializing_if = "Option::is_none")]
    values: Option<BTreeMap<&'a str, LiveValue>>,
}

impl<P: Serialize> ServerMessage<'_, P> {
    fn new(event_type: &'static str, payload: Option<P>) -> Self {
        Self {
            event_type,
            payload,
            values: None,
        }
    }

    fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[derive(Debug, Serialize)]
struct Changed<'a> {
    entity_key: Vec<&'a str>,
}

#[derive(Debug, Serialize)]
struct LiveValue {
    value: Json,
    timestamp: Millis,
}

#[derive(Debug, Serialize)]
struct ErrorPayload<'a> {
    error_code: &'a str,
    error_message: &'a str,
}

fn error_frame(e: &NativeError) -> String {
    let payload = ErrorPayload {
        error_code: e.code,
        error_message: &e.message,
    };
    ServerMessage::new("Error", Some(payload)).to_text()
}

/// One client: who they are and which keys they watch, and the token to check again.
struct Connection {
    viewer: Viewer,
    keys: HashSet<String>,
    token: String,
    state: State,
}

impl Connection {
    async fn run(
        mut self,
        mut session: actix_ws::Session,
        mut stream: AggregatedMessageStream,
        mut events: Subscription,
    ) {
        let mut ping = interval_at(Instant::now() + PING_INTERVAL, PING_INTERVAL);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let every = self.state.settings.websocket_recheck;
        let mut recheck = interval_at(Instant::now() + every, every);
        recheck.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut heard = Instant::now();
        let _open = crate::measure::WebSocketOpen::new();
        let close = loop {
            tokio::select! {
                frame = stream.recv() => {
                    let frame = match frame {
                        None => break None,
                        Some(Err(e)) => break Some(protocol_close(&e)),
                        Some(Ok(frame)) => frame,
                    };
                    heard = Instant::now();
                    let reply = match frame {
                        AggregatedMessage::Text(text) => self.on_text(&text),
                        AggregatedMessage::Binary(_) => Some(error_frame(&NativeError::invalid(
                            "binary frames are not read; send JSON text frames",
                        ))),
                        AggregatedMessage::Ping(bytes) => {
                            if session.pong(&bytes).await.is_err() {
                                return;
                            }
                            None
                        }
                        AggregatedMessage::Pong(_) => None,
                        AggregatedMessage::Close(reason) => break reason,
                    };
                    if let Some(text) = reply
                        && session.text(text).await.is_err()
                    {
                        return;
                    }
                }
                event = events.next() => {
                    let Some(event) = event else {
                        break Some(CloseCode::Away.into());
                    };
                    if let Some(text) = self.changes(&event) {
                        if session.text(text).await.is_err() {
                            return;
                        }
                        metrics::counter!("weir_websocket_pushes_total").increment(1);
                    }
                }
                _ = ping.tick() => {
                    if session.ping(b"").await.is_err() {
                        return;
                    }
                }
                _ = recheck.tick() => {
                    match viewer_of(&self.state, self.token.clone()).await {
                        Ok(viewer) => self.viewer = viewer,
                        Err(e) => break Some(CloseReason {
                            code: CloseCode::Policy,
                            description: Some(e.message),
                        }),
                    }
                }
                () = sleep_until(heard + IDLE_TIMEOUT) => {
                    break Some(CloseReason {
                        code: CloseCode::Normal,
                        description: Some(format!(
                            "idle timeout: nothing heard for {} s",
                            IDLE_TIMEOUT.as_secs()
                        )),
                    });
                }
            }
        };
        let _ = session.close(close).await;
    }

    /// Handles a client's text frame; the reply, if any.
    fn on_text(&mut self, text: &str) -> Option<String> {
        match parse_json_of::<ClientMessage>("message", text.as_bytes()) {
            Err(e) => Some(error_frame(&e.into())),
            Ok(ClientMessage::Heartbeat(payload)) => {
                Some(ServerMessage::new("Heartbeat", payload).to_text())
            }
            Ok(ClientMessage::Exchange(watch)) if watch.entity_key.len() > MAX_KEYS => {
                Some(error_frame(&NativeError::invalid(format!(
                    "payload.entity_key: at most {MAX_KEYS} keys, got {}",
                    watch.entity_key.len()
                ))))
            }
            Ok(ClientMessage::Exchange(watch)) => {
                self.keys = watch.entity_key.into_iter().collect();
                None
            }
        }
    }

    /// The `Exchange` frame for the watched keys of this event that the viewer may see;
    /// `None` when there are none.
    fn changes(&self, event: &ValuesCommitted) -> Option<String> {
        let mut keys = Vec::new();
        let mut values: BTreeMap<&str, LiveValue> = BTreeMap::new();
        let watched = event
            .values
            .iter()
            .filter(|c| self.keys.contains(&c.key) && self.viewer.sees_value(&event.tenant_id, c));
        for c in watched {
            match values.get(c.key.as_str()) {
                // One write may carry several points of a key: the newest is the value.
                Some(v) if v.timestamp > c.timestamp => continue,
                Some(_) => {}
                None => keys.push(c.key.as_str()),
            }
            let value = LiveValue {
                value: c.value.to_json(),
                timestamp: c.timestamp,
            };
            values.insert(&c.key, value);
        }
        if keys.is_empty() {
            return None;
        }
        let message = ServerMessage {
            event_type: "Exchange",
            payload: Some(Changed { entity_key: keys }),
            values: Some(values),
        };
        Some(message.to_text())
    }
}

fn protocol_close(e: &ProtocolError) -> CloseReason {
    let code = match e {
        ProtocolError::Overflow => CloseCode::Size,
        _ => CloseCode::Protocol,
    };
    CloseReason {
        code,
        description: Some(e.to_string()),
    }
}
