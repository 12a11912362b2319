//! `GET /mqtt/broker-info`: the broker MQTT devices should connect to (docs/mqtt.md).

use crate::MqttBrokerInfo;
use crate::native::envelope::{Envelope, NativeError, Refusals, Success};
use crate::native::extract::{Caller, State};
use actix_web::get;

/// Host and ports of the broker devices should use. Any signed-in user of the tenant.
#[utoipa::path(
    tag = "devices",
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<MqttBrokerInfo>), Refusals)
)]
#[get("/mqtt/broker-info")]
pub async fn broker_info(
    state: State,
    _caller: Caller,
) -> Result<Success<MqttBrokerInfo>, NativeError> {
    Ok(Success(state.mqtt.clone()))
}
