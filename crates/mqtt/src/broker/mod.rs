//! The embedded broker (MQTT 3.1.1, no TLS), so a first start needs nothing else. It keeps
//! everything in memory.
//!
//! rumqttd checks who connects but not what they publish or subscribe to, so devices do
//! not reach it directly: Weir listens on `mqtt.embedded.addr` itself (the gate), admits
//! each device by its token, and relays its packets to rumqttd on a port of 127.0.0.1,
//! letting a device publish on its own uplink and subscribe to its own downlink only.
//! Weir's client connects to rumqttd directly.
//!
//! - [`auth`]: who may connect, at the gate and at rumqttd's own port;
//! - [`scope`]: what one device may do, and the client id the broker knows it by;
//! - [`gate`]: the public listener and the CONNECT;
//! - [`relay`]: the packets both ways, checked on their way in;
//! - [`internal`]: rumqttd itself.
//!
//! Before starting, Weir binds the public address; when it cannot (another broker runs on
//! this machine), Weir logs one warning naming the settings that fix it and runs on
//! without MQTT.

mod auth;
mod gate;
mod internal;
mod relay;
mod scope;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use tokio::sync::watch;
use weir_iot::IotService;

pub(crate) use auth::InternalLogin;

use crate::topics::Topics;

/// The username of the gate's login at rumqttd.
const GATE_USERNAME: &str = "weir-gate";

/// Binds the address devices connect to, now, so that a taken one is known at once.
pub(crate) fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// The warning logged, once, when the embedded broker's address is taken.
pub(crate) fn warn_address_taken(addr: SocketAddr, error: &std::io::Error) {
    tracing::warn!(
        "the embedded MQTT broker cannot listen on {addr} ({error}); Weir runs on without \
         MQTT ingest. To fix it, either move the embedded broker: mqtt.embedded.addr \
         (WEIR_MQTT__EMBEDDED__ADDR=0.0.0.0:11883), or use the broker already there: \
         mqtt.mode = \"external\" and mqtt.url (WEIR_MQTT__MODE=external \
         WEIR_MQTT__URL=mqtt://127.0.0.1:1883)"
    );
}

/// What the embedded broker is made of.
pub(crate) struct Embedded {
    /// Where devices connect (from [`bind`]).
    pub listener: TcpListener,
    pub iot: Arc<IotService>,
    pub topics: Topics,
    /// Weir's client's login and client id at rumqttd.
    pub weir: InternalLogin,
    pub weir_client_id: String,
    pub max_payload_bytes: usize,
}

/// Starts rumqttd and the gate in front of it; answers where rumqttd listens (Weir's
/// client connects there). Both stop when `shutdown` turns true: the listeners close and
/// every device's connection is dropped.
pub(crate) async fn start(
    embedded: Embedded,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<SocketAddr> {
    let public = embedded.listener.local_addr()?;
    let gate_login = InternalLogin::random(GATE_USERNAME);
    let logins = Arc::new(auth::InternalPort {
        weir: embedded.weir,
        weir_client_id: embedded.weir_client_id.clone(),
        gate: gate_login.clone(),
    });
    let broker = internal::start(embedded.max_payload_bytes, logins, shutdown.clone()).await?;
    let gate = gate::Gate {
        iot: embedded.iot,
        topics: embedded.topics,
        login: gate_login,
        weir_client_id: embedded.weir_client_id,
        broker,
        max_payload_bytes: embedded.max_payload_bytes,
    };
    gate::start(Arc::new(gate), embedded.listener, shutdown)?;
    tracing::info!(addr = %public, internal = %broker, "embedded MQTT broker listening");
    Ok(broker)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_address_is_found_before_starting() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        assert!(bind(addr).is_err());
        drop(taken);
        assert!(bind(addr).is_ok());
    }
}
