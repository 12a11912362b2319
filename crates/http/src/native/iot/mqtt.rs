//! `GET /mqtt/broker-info`: the broker MQTT devices should connect to (docs/mqtt.md).

use actix_web::get;
use serde::Serialize;
use utoipa::ToSchema;

use crate::native::envelope::{Envelope, NativeError, Refusals, Success};
use crate::native::extract::{Caller, State};

/// Beaver IoT's field names. **Decision:** the ports Weir does not serve (TLS, WebSocket)
/// are sent as `null` rather than left out, as the reference console reads every key.
#[derive(Debug, Serialize, ToSchema)]
pub struct BrokerInfo {
    /// The host devices connect to (`mqtt.public_host`).
    pub host: String,
    /// The plain MQTT port (`mqtt.public_port`); `null` when MQTT is off.
    pub mqtt_port: Option<u16>,
    pub mqtts_port: Option<u16>,
    pub ws_port: Option<u16>,
    pub wss_port: Option<u16>,
    pub ws_path: Option<String>,
}

/// Host and ports of the broker devices should use. Any signed-in user of the tenant.
#[utoipa::path(
    tag = "devices",
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<BrokerInfo>), Refusals)
)]
#[get("/mqtt/broker-info")]
pub async fn broker_info(
    state: State,
    _caller: Caller,
) -> Result<Success<BrokerInfo>, NativeError> {
    let info = state.mqtt.clone();
    Ok(Success(BrokerInfo {
        host: info.host,
        mqtt_port: info.mqtt_port,
        mqtts_port: info.mqtts_port,
        ws_port: info.ws_port,
        wss_port: info.wss_port,
        ws_path: info.ws_path,
    }))
}
