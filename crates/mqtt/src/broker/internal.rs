//! rumqttd itself, on a port of 127.0.0.1 the system picks. Only Weir's client and the
//! gate log in there (see [`InternalPort`]); devices come through the gate.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use rumqttd::protocol::v4::V4;
use rumqttd::{ConnectionSettings, LinkType, Router, RouterConfig, Server, ServerSettings};
use tokio::sync::watch;

use super::auth::InternalPort;

/// Connections the broker accepts at most (every device takes one, through the gate).
const MAX_CONNECTIONS: usize = 10_000;
/// QoS 1 messages sent to one client and not yet acknowledged, at most.
const MAX_INFLIGHT: usize = 100;
/// Messages are kept per subscription filter in segments; the oldest segment goes first.
const SEGMENT_BYTES: usize = 8 * 1024 * 1024;
const SEGMENTS: usize = 8;
/// A client must send CONNECT within this after opening its connection.
const CONNECT_TIMEOUT_MS: u16 = 10_000;
/// Room for what the gate changes in a CONNECT (a namespaced client id, its own login in
/// place of the device's): the gate holds device packets to `max_payload_bytes` itself.
const CONNECT_HEADROOM: usize = 1024;
/// Ports tried before giving up, should another process take the one picked meanwhile.
const PORT_TRIES: usize = 3;

/// Starts the router and the broker; answers where it listens once it does. It stops
/// listening when `shutdown` turns true.
pub(super) async fn start(
    max_payload_bytes: usize,
    logins: Arc<InternalPort>,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<SocketAddr> {
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
        max_payload_size: max_payload_bytes.saturating_add(CONNECT_HEADROOM),
        max_inflight_count: MAX_INFLIGHT,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
    connections.set_auth_handler(move |client_id, username, password| {
        std::future::ready(logins.allows(&client_id, &username, &password))
    });
    let mut last_error = None;
    for _ in 0..PORT_TRIES {
        let addr = free_port()?;
        let mut server = Server::new(
            ServerSettings {
                name: "weir-embedded".into(),
                listen: addr,
                tls: None,
                next_connection_delay_ms: 1,
                connections: connections.clone(),
            },
            router_tx.clone(),
            V4,
        );
        let mut shutdown = shutdown.clone();
        let mut serve = Box::pin(async move {
            tokio::select! {
                result = server.start(LinkType::Remote) => result.map_err(|e| e.to_string()),
                _ = shutdown.wait_for(|stop| *stop) => Ok(()),
            }
        });
        // rumqttd binds on the first poll (a SocketAddr needs no lookup): a port taken
        // since it was picked shows at once. A later failure is logged by the task.
        match poll_once(&mut serve).await {
            Poll::Ready(Err(error)) => last_error = Some(std::io::Error::other(error)),
            Poll::Ready(Ok(())) => return Err(std::io::Error::other("stopped while starting")),
            Poll::Pending => {
                tokio::spawn(async move {
                    if let Err(error) = serve.await {
                        tracing::error!(%addr, %error, "the embedded MQTT broker stopped");
                    }
                });
                return Ok(addr);
            }
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("no free port")))
}

/// A port of 127.0.0.1 free now.
fn free_port() -> std::io::Result<SocketAddr> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()
}

/// Polls `future` once, whatever it answers.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}
