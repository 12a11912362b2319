//! Carries one device's connection to rumqttd and back once the gate admitted it. What
//! the device sends is decoded packet by packet (rumqttd's own codec), checked against
//! its [`DeviceScope`], and encoded again: the broker gets exactly what was checked.
//! What the broker sends is copied as it comes (the device only gets what it may
//! subscribe to). A refused packet closes the connection, with one warning.

use std::time::Duration;

use bytes::BytesMut;
use rumqttd::protocol::v4::V4;
use rumqttd::protocol::{self, Packet, Protocol};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use super::scope::DeviceScope;
use crate::topics::shorten;

/// Bytes read at a time (more when a packet needs more).
const READ_CHUNK: usize = 16 * 1024;
/// How long a device that closed its side waits for the broker to close too, so that a
/// DISCONNECT it sent last still cancels its will.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// A device connected through the gate.
pub(super) struct Connected {
    pub scope: DeviceScope,
    /// The client id the device sent, for log lines.
    pub client_id: String,
}

/// Takes the next whole packet out of `buf`: None until all of it is there.
pub(super) fn take_packet(
    buf: &mut BytesMut,
    max_payload_bytes: usize,
) -> Result<Option<Packet>, protocol::Error> {
    match V4.read_mut(buf, max_payload_bytes) {
        Ok(packet) => Ok(Some(packet)),
        Err(protocol::Error::InsufficientBytes(missing)) => {
            buf.reserve(missing);
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// Reads more of `stream` into `buf`; false at its end.
pub(super) async fn fill(
    stream: &mut (impl AsyncRead + Unpin),
    buf: &mut BytesMut,
) -> std::io::Result<bool> {
    buf.reserve(READ_CHUNK);
    Ok(stream.read_buf(buf).await? > 0)
}

/// Writes one packet (a CONNECT forwarded, a CONNACK refusing).
pub(super) async fn send(stream: &mut TcpStream, packet: Packet) -> std::io::Result<()> {
    let mut out = BytesMut::new();
    V4.write(packet, &mut out).map_err(std::io::Error::other)?;
    stream.write_all(&out).await
}

/// Relays until either side closes or the device sends what it may not. `read` holds
/// what the gate read past the CONNECT.
pub(super) async fn run(
    device: TcpStream,
    broker: TcpStream,
    read: BytesMut,
    who: Connected,
    max_payload_bytes: usize,
) {
    let (device_rx, device_tx) = device.into_split();
    let (broker_rx, broker_tx) = broker.into_split();
    let mut down = std::pin::pin!(down(broker_rx, device_tx));
    tokio::select! {
        closed = up(device_rx, broker_tx, read, &who, max_payload_bytes) => {
            if closed {
                let _ = tokio::time::timeout(CLOSE_GRACE, down).await;
            }
        }
        () = &mut down => {}
    }
    tracing::debug!(
        client_id = shorten(&who.client_id),
        tenant = %who.scope.tenant,
        device = who.scope.device,
        "MQTT device disconnected"
    );
}

/// Broker to device, as it comes.
async fn down(broker: OwnedReadHalf, mut device: OwnedWriteHalf) {
    let mut broker = BufReader::with_capacity(READ_CHUNK, broker);
    let _ = tokio::io::copy_buf(&mut broker, &mut device).await;
}

/// Device to broker, checked. Answers true when the device closed its side (the broker's
/// side is then closed after what was read), false when the connection is to end now.
async fn up(
    mut device: OwnedReadHalf,
    mut broker: OwnedWriteHalf,
    mut read: BytesMut,
    who: &Connected,
    max_payload_bytes: usize,
) -> bool {
    let mut out = BytesMut::with_capacity(READ_CHUNK);
    loop {
        // Every whole packet read so far goes out in one write.
        loop {
            match take_packet(&mut read, max_payload_bytes) {
                Ok(Some(packet)) => {
                    if let Some((what, topic)) = refused(&who.scope, &packet) {
                        tracing::warn!(
                            client_id = shorten(&who.client_id),
                            tenant = %who.scope.tenant,
                            device = who.scope.device,
                            topic = shorten(&topic),
                            "MQTT {what} refused: a device may publish on its own uplink and \
                             subscribe to its own downlink only; its connection is closed"
                        );
                        return false;
                    }
                    if V4.write(packet, &mut out).is_err() {
                        return false;
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    bad_packet(who, &error);
                    return false;
                }
            }
        }
        if !out.is_empty() {
            if broker.write_all(&out).await.is_err() {
                return false;
            }
            out.clear();
        }
        match fill(&mut device, &mut read).await {
            Ok(true) => {}
            Ok(false) => {
                let _ = broker.shutdown().await;
                return true;
            }
            Err(_) => return false,
        }
    }
}

/// What the device may not send: a PUBLISH beside its uplink, a SUBSCRIBE beside its
/// downlink, a second CONNECT. Answers what and on which topic.
fn refused(scope: &DeviceScope, packet: &Packet) -> Option<(&'static str, String)> {
    match packet {
        Packet::Publish(publish, _) if !scope.may_publish(&publish.topic) => Some((
            "publish",
            String::from_utf8_lossy(&publish.topic).into_owned(),
        )),
        Packet::Subscribe(subscribe, _) => subscribe
            .filters
            .iter()
            .find(|f| !scope.may_subscribe(&f.path))
            .map(|f| ("subscribe", f.path.clone())),
        Packet::Connect(connect, ..) => Some(("second connect", connect.client_id.clone())),
        _ => None,
    }
}

fn bad_packet(who: &Connected, error: &protocol::Error) {
    let (client_id, device) = (shorten(&who.client_id), &who.scope.device);
    match error {
        protocol::Error::PayloadSizeLimitExceeded(size) => tracing::warn!(
            client_id,
            tenant = %who.scope.tenant,
            device,
            size,
            "MQTT packet over mqtt.max_payload_bytes: the device's connection is closed"
        ),
        error => tracing::debug!(
            client_id,
            device,
            %error,
            "MQTT packet malformed: the device's connection is closed"
        ),
    }
}

#[cfg(test)]
mod tests {
    use rumqttd::protocol::{Filter, Publish, QoS, RetainForwardRule, Subscribe};
    use weir_kernel::TenantId;

    use super::*;
    use crate::topics::Topics;

    fn scope() -> DeviceScope {
        DeviceScope::new(
            &Topics::new("weir").unwrap(),
            TenantId::parse("acme").unwrap(),
            "a".into(),
        )
    }

    fn subscribe(filters: &[&str]) -> Packet {
        let filters = filters
            .iter()
            .map(|path| Filter {
                path: (*path).into(),
                qos: QoS::AtLeastOnce,
                nolocal: false,
                preserve_retain: false,
                retain_forward_rule: RetainForwardRule::OnEverySubscribe,
            })
            .collect();
        Packet::Subscribe(Subscribe { pkid: 1, filters }, None)
    }

    #[test]
    fn packets_are_read_whole_and_written_as_read() {
        let publish = Packet::Publish(Publish::new("weir/acme/a/uplink", "{}", false), None);
        let mut wire = BytesMut::new();
        V4.write(publish.clone(), &mut wire).unwrap();
        V4.write(subscribe(&["weir/acme/a/downlink"]), &mut wire)
            .unwrap();
        let whole = wire.clone();
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&wire[..5]);
        assert_eq!(take_packet(&mut buf, 1024).unwrap(), None);
        buf.extend_from_slice(&wire[5..]);
        let first = take_packet(&mut buf, 1024).unwrap().unwrap();
        let second = take_packet(&mut buf, 1024).unwrap().unwrap();
        assert_eq!(take_packet(&mut buf, 1024).unwrap(), None);
        let mut again = BytesMut::new();
        V4.write(first, &mut again).unwrap();
        V4.write(second, &mut again).unwrap();
        assert_eq!(again, whole);
        let payload = bytes::Bytes::from(vec![b'x'; 2000]);
        let big = Packet::Publish(
            Publish::new(
                bytes::Bytes::from_static(b"weir/acme/a/uplink"),
                payload,
                false,
            ),
            None,
        );
        let mut buf = BytesMut::new();
        V4.write(big, &mut buf).unwrap();
        assert!(matches!(
            take_packet(&mut buf, 1024),
            Err(protocol::Error::PayloadSizeLimitExceeded(_))
        ));
    }

    #[test]
    fn only_the_devices_own_topics_pass() {
        let a = scope();
        let own = Packet::Publish(Publish::new("weir/acme/a/uplink", "{}", false), None);
        assert_eq!(refused(&a, &own), None);
        let theirs = Packet::Publish(Publish::new("weir/acme/b/uplink", "{}", false), None);
        assert_eq!(
            refused(&a, &theirs),
            Some(("publish", "weir/acme/b/uplink".into()))
        );
        assert_eq!(refused(&a, &subscribe(&["weir/acme/a/downlink"])), None);
        assert_eq!(
            refused(&a, &subscribe(&["weir/acme/a/downlink", "#"])),
            Some(("subscribe", "#".into()))
        );
        assert_eq!(
            refused(&a, &Packet::PingReq(protocol::PingReq)),
            None,
            "anything else passes"
        );
    }
}
