//! What one device may do on the embedded broker: publish on its own uplink, subscribe to
//! its own downlink, leave a will on its own uplink; nothing else, in no other device's
//! name and no other tenant's. And under which client id the broker knows it, so that no
//! device can take another one's session over.

use weir_kernel::TenantId;

use crate::topics::Topics;

/// One connected device's rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DeviceScope {
    pub tenant: TenantId,
    /// The device's identifier (its topic level).
    pub device: String,
    uplink: String,
    downlink: String,
}

impl DeviceScope {
    pub fn new(topics: &Topics, tenant: TenantId, device: String) -> Self {
        Self {
            uplink: topics.uplink(&tenant, &device),
            downlink: topics.downlink(&tenant, &device),
            tenant,
            device,
        }
    }

    /// A PUBLISH (or a will) only on the device's own uplink. Topics are compared as the
    /// bytes the device sent, so no other spelling can name the same topic.
    pub fn may_publish(&self, topic: &[u8]) -> bool {
        topic == self.uplink.as_bytes()
    }

    /// A SUBSCRIBE only to the device's own downlink, spelled out: no wildcard, which
    /// would match other devices' topics (or its own uplink) too.
    pub fn may_subscribe(&self, filter: &str) -> bool {
        filter == self.downlink
    }

    /// The client id the broker knows this connection by: the device's own, under its
    /// tenant and identifier. A broker kicks a connection whose client id another one
    /// takes and hands its persistent session over; namespaced, a device can only do
    /// that to its own connections. `.` is in no tenant id and no identifier, so two
    /// devices never share a namespace (rumqttd takes no `/` in a client id).
    pub fn broker_client_id(&self, client_id: &str) -> String {
        format!("{}.{}.{client_id}", self.tenant, self.device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(tenant: &str, device: &str) -> DeviceScope {
        DeviceScope::new(
            &Topics::new("weir").unwrap(),
            TenantId::parse(tenant).unwrap(),
            device.into(),
        )
    }

    #[test]
    fn a_device_publishes_on_its_own_uplink_only() {
        let a = scope("acme", "a");
        assert!(a.may_publish(b"weir/acme/a/uplink"));
        for other in [
            "weir/acme/b/uplink",
            "weir/default/a/uplink",
            "weir/acme/a/downlink",
            "weir/acme/a/uplink/x",
            "weir/acme/+/uplink",
            "weir/acme/a/uplink ",
            "other/acme/a/uplink",
            "$SYS/x",
            "",
        ] {
            assert!(!a.may_publish(other.as_bytes()), "{other}");
        }
    }

    #[test]
    fn a_device_subscribes_to_its_own_downlink_only() {
        let a = scope("acme", "a");
        assert!(a.may_subscribe("weir/acme/a/downlink"));
        for other in [
            "#",
            "weir/#",
            "weir/acme/#",
            "weir/acme/a/#",
            "weir/acme/a/+",
            "+/+/+/downlink",
            "weir/+/a/downlink",
            "weir/acme/+/downlink",
            "weir/acme/b/downlink",
            "weir/default/a/downlink",
            "weir/acme/a/uplink",
            "$share/g/weir/acme/a/downlink",
        ] {
            assert!(!a.may_subscribe(other), "{other}");
        }
    }

    #[test]
    fn client_ids_are_namespaced_by_tenant_and_device() {
        // "a:b" with client "c" and "a" with client "b:c" must not meet.
        assert_eq!(scope("acme", "a:b").broker_client_id("c"), "acme.a:b.c");
        assert_eq!(scope("acme", "a").broker_client_id("b:c"), "acme.a.b:c");
        // What keeps namespaces apart: no tenant id and no identifier holds a dot.
        assert!(TenantId::parse("a.b").is_err());
        assert!(!crate::topics::valid_identifier("a.b"));
        assert_ne!(
            scope("acme", "a").broker_client_id("x"),
            scope("default", "a").broker_client_id("x")
        );
    }
}
