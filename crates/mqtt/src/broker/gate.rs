//! The gate: Weir listens on `mqtt.embedded.addr` itself. For each connection it reads
//! the CONNECT, checks the device token and the will, and opens a connection to rumqttd
//! under its own login and the device's namespaced client id; the relay then carries the
//! packets. A refused CONNECT is answered with a CONNACK naming why (and one warning).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use rand::RngCore;
use rumqttd::protocol::{ConnAck, Connect, LastWill, Login, Packet};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use weir_iot::IotService;

use super::auth::{self, InternalLogin, Refusal};
use super::relay::{self, Connected};
use super::scope::DeviceScope;
use crate::topics::{Topics, shorten};

/// A device must send CONNECT within this after opening its connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) struct Gate {
    pub iot: Arc<IotService>,
    pub topics: Topics,
    /// The gate's own login at rumqttd.
    pub login: InternalLogin,
    pub weir_client_id: String,
    /// Where rumqttd listens.
    pub broker: SocketAddr,
    pub max_payload_bytes: usize,
}

/// Accepts devices on `listener` until `shutdown` turns true; their connections end then
/// too.
pub(super) fn start(
    gate: Arc<Gate>,
    listener: std::net::TcpListener,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let listener = TcpListener::from_std(listener)?;
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = shutdown.wait_for(|stop| *stop) => return,
            };
            match accepted {
                Ok((device, _)) => {
                    let (gate, mut shutdown) = (gate.clone(), shutdown.clone());
                    tokio::spawn(async move {
                        tokio::select! {
                            () = gate.serve(device) => {}
                            _ = shutdown.wait_for(|stop| *stop) => {}
                        }
                    });
                }
                Err(error) => {
                    // Out of file descriptors, mostly: let some connections end first.
                    tracing::debug!(%error, "MQTT accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    });
    Ok(())
}

impl Gate {
    async fn serve(&self, mut device: TcpStream) {
        let _ = device.set_nodelay(true);
        let mut read = BytesMut::new();
        let connect =
            tokio::time::timeout(CONNECT_TIMEOUT, self.first_packet(&mut device, &mut read));
        let Ok(Some(Packet::Connect(connect, _, will, _, login))) = connect.await else {
            tracing::debug!("MQTT connection closed before a CONNECT");
            return;
        };
        let client_id = connect.client_id.clone();
        let username = login.as_ref().map(|l| l.username.clone());
        let (scope, forward) = match self.admit(connect, will, login).await {
            Ok(admitted) => admitted,
            Err(refusal) => {
                metrics::counter!("weir_mqtt_connects_total", "outcome" => "refused").increment(1);
                tracing::warn!(
                    client_id = shorten(&client_id),
                    username = username.as_deref().map(shorten),
                    reason = refusal.reason(),
                    "MQTT connect refused"
                );
                let ack = ConnAck {
                    session_present: false,
                    code: refusal.code(),
                };
                if relay::send(&mut device, Packet::ConnAck(ack, None))
                    .await
                    .is_ok()
                {
                    // Closed gracefully, so the CONNACK is read before the end.
                    let _ = device.shutdown().await;
                }
                return;
            }
        };
        let mut broker = match TcpStream::connect(self.broker).await {
            Ok(broker) => broker,
            Err(error) => {
                tracing::error!(%error, "the embedded MQTT broker cannot be reached");
                return;
            }
        };
        let _ = broker.set_nodelay(true);
        if relay::send(&mut broker, forward).await.is_err() {
            return;
        }
        tracing::debug!(
            client_id = shorten(&client_id),
            tenant = %scope.tenant,
            device = scope.device,
            "MQTT device connected"
        );
        let who = Connected { scope, client_id };
        let _open = crate::measure::Connection::open();
        relay::run(device, broker, read, who, self.max_payload_bytes).await;
    }

    /// The first packet of a connection, None if it ends or is malformed first.
    async fn first_packet(&self, device: &mut TcpStream, read: &mut BytesMut) -> Option<Packet> {
        loop {
            if let Some(packet) = relay::take_packet(read, self.max_payload_bytes).ok()? {
                return Some(packet);
            }
            if !relay::fill(device, read).await.ok()? {
                return None;
            }
        }
    }

    /// The device's scope and the CONNECT the broker gets in its name, or why not.
    async fn admit(
        &self,
        mut connect: Connect,
        will: Option<LastWill>,
        login: Option<Login>,
    ) -> Result<(DeviceScope, Packet), Refusal> {
        let (tenant, device) = auth::device_of(&self.iot, login.as_ref()).await?;
        let scope = DeviceScope::new(&self.topics, tenant, device);
        if will.as_ref().is_some_and(|w| !scope.may_publish(&w.topic)) {
            return Err(Refusal::ForeignWill);
        }
        let own = if connect.client_id.is_empty() {
            // MQTT 3.1.1: an empty id gets one from the server, for a clean session only.
            if !connect.clean_session {
                return Err(Refusal::EmptyClientId);
            }
            let mut bytes = [0u8; 8];
            rand::rng().fill_bytes(&mut bytes);
            hex::encode(bytes)
        } else if connect.client_id.contains(['+', '#', '$', '/']) {
            return Err(Refusal::BadClientId);
        } else {
            connect.client_id.clone()
        };
        connect.client_id = scope.broker_client_id(&own);
        if connect.client_id == self.weir_client_id {
            return Err(Refusal::WeirsClientId);
        }
        let login = Login {
            username: self.login.username.clone(),
            password: self.login.password.clone(),
        };
        Ok((
            scope,
            Packet::Connect(connect, None, will, None, Some(login)),
        ))
    }
}
