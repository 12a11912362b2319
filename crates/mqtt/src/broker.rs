//! The embedded broker (rumqttd, MQTT 3.1.1, no TLS), so a first start needs nothing else.
//! It keeps everything in memory. Before starting it, Weir checks that its address can be
//! bound; when it cannot (another broker runs on this machine), Weir logs one warning
//! naming the settings that fix it and runs on without MQTT.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use rumqttd::protocol::v4::V4;
use rumqttd::{ConnectionSettings, LinkType, Router, RouterConfig, Server, ServerSettings};
use tokio::runtime::Handle;
use tokio::sync::watch;

use crate::auth::BrokerAuth;

/// Connections the embedded broker accepts at most.
const MAX_CONNECTIONS: usize = 10_000;
/// QoS 1 messages sent to one client and not yet acknowledged, at most.
const MAX_INFLIGHT: usize = 100;
/// Messages are kept per subscription filter in segments; the oldest segment goes first.
const SEGMENT_BYTES: usize = 8 * 1024 * 1024;
const SEGMENTS: usize = 8;
/// A client must send CONNECT within this after opening its connection.
const CONNECT_TIMEOUT_MS: u16 = 10_000;

/// Whether `addr` can be listened on now. The probe is closed again at once.
pub(crate) fn probe(addr: SocketAddr) -> std::io::Result<()> {
    TcpListener::bind(addr).map(drop)
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

/// Starts the broker on `runtime`; it stops when `shutdown` turns true (the listener
/// closes and every connection is dropped).
pub(crate) fn start(
    runtime: &Handle,
    addr: SocketAddr,
    max_payload_bytes: usize,
    auth: Arc<BrokerAuth>,
    mut shutdown: watch::Receiver<bool>,
) {
    let router = Router::new(
        0,
        RouterConfig {
            max_connections: MAX_CONNECTIONS,
            max_outgoing_packet_count: 200,
            max_segment_size: SEGMENT_BYTES,
            max_segment_count: SEGMENTS,
            custom_segment: None,
            initialized_filters: None,
            shared_subscriptions_strategy: Default::default(),
        },
    );
    // The router runs on a thread of its own; it idles once the listener is gone.
    let router_tx = router.spawn();
    let mut connections = ConnectionSettings {
        connection_timeout_ms: CONNECT_TIMEOUT_MS,
        max_payload_size: max_payload_bytes,
        max_inflight_count: MAX_INFLIGHT,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
    connections.set_auth_handler(move |client_id, username, password| {
        auth.clone().allows(client_id, username, password)
    });
    let settings = ServerSettings {
        name: "weir-embedded".into(),
        listen: addr,
        tls: None,
        next_connection_delay_ms: 1,
        connections,
    };
    let mut server = Server::new(settings, router_tx, V4);
    runtime.spawn(async move {
        tokio::select! {
            result = server.start(LinkType::Remote) => {
                if let Err(error) = result {
                    tracing::error!(%addr, %error, "the embedded MQTT broker stopped");
                }
            }
            _ = shutdown.wait_for(|stop| *stop) => {}
        }
    });
    tracing::info!(%addr, "embedded MQTT broker listening");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_address_is_found_before_starting() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        assert!(probe(addr).is_err());
        drop(taken);
        assert!(probe(addr).is_ok());
    }
}
