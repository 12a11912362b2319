//! The topic layout. Devices publish on their uplink and listen on their downlink:
//!
//! - uplink: `{prefix}/{tenant_id}/{device_identifier}/uplink`
//! - downlink: `{prefix}/{tenant_id}/{device_identifier}/downlink`
//!
//! Weir subscribes to `{prefix}/+/+/uplink`. The prefix (`weir` by default) may have several
//! levels (`acme/weir`); it lets one broker carry several Weir installations, and the tests
//! run side by side on one broker with a prefix each.

use weir_kernel::TenantId;

/// The last level of the topics devices publish on.
pub const UPLINK: &str = "uplink";
/// The last level of the topics Weir publishes property writes and service calls on.
pub const DOWNLINK: &str = "downlink";

/// The longest prefix accepted.
const PREFIX_MAX: usize = 128;

/// The topics of one Weir installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    prefix: String,
}

/// Which device an uplink topic names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAddress {
    pub tenant: TenantId,
    /// The device's identifier: the device segment of its entity keys.
    pub device: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    #[error(
        "mqtt.topic_prefix must be 1 to {PREFIX_MAX} characters of levels split by '/', none \
         empty, without '+', '#' or a leading '$'"
    )]
    BadPrefix,
    #[error("not an uplink topic (expected {0})")]
    NotUplink(String),
    #[error("`{0}` is not a tenant id (a-z, 0-9, '-', '_'; at most 64)")]
    BadTenant(String),
    #[error("`{0}` is not a device identifier (letters, digits, '_', '-', ':'; at most 50)")]
    BadDevice(String),
}

/// Whether `s` can name a device of the mqtt-device integration (and so a topic level).
pub use weir_iot::builtin::valid_device_identifier as valid_identifier;

impl Topics {
    pub fn new(prefix: &str) -> Result<Self, TopicError> {
        let ok = !prefix.is_empty()
            && prefix.len() <= PREFIX_MAX
            && !prefix.starts_with('$')
            && prefix
                .split('/')
                .all(|level| !level.is_empty() && !level.contains(['+', '#', '\0']));
        if ok {
            Ok(Self {
                prefix: prefix.to_owned(),
            })
        } else {
            Err(TopicError::BadPrefix)
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// What Weir subscribes to: every device's uplink.
    pub fn uplink_filter(&self) -> String {
        format!("{}/+/+/{UPLINK}", self.prefix)
    }

    pub fn uplink(&self, tenant: &TenantId, device: &str) -> String {
        format!("{}/{tenant}/{device}/{UPLINK}", self.prefix)
    }

    pub fn downlink(&self, tenant: &TenantId, device: &str) -> String {
        format!("{}/{tenant}/{device}/{DOWNLINK}", self.prefix)
    }

    /// The tenant and device an uplink topic names, both validated.
    pub fn parse_uplink(&self, topic: &str) -> Result<DeviceAddress, TopicError> {
        let not_uplink = || TopicError::NotUplink(self.uplink_filter());
        let rest = topic
            .strip_prefix(self.prefix.as_str())
            .and_then(|r| r.strip_prefix('/'))
            .ok_or_else(not_uplink)?;
        let levels: Vec<&str> = rest.split('/').collect();
        let [tenant, device, last] = levels.as_slice() else {
            return Err(not_uplink());
        };
        if *last != UPLINK {
            return Err(not_uplink());
        }
        let tenant = TenantId::parse(tenant).map_err(|_| TopicError::BadTenant(shorten(tenant)))?;
        if !valid_identifier(device) {
            return Err(TopicError::BadDevice(shorten(device)));
        }
        Ok(DeviceAddress {
            tenant,
            device: (*device).to_owned(),
        })
    }
}

/// At most 80 characters of something a client sent, for a log line.
pub(crate) fn shorten(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_follow_the_layout() {
        let t = Topics::new("weir").unwrap();
        let tenant = TenantId::parse("acme").unwrap();
        assert_eq!(t.uplink_filter(), "weir/+/+/uplink");
        assert_eq!(t.uplink(&tenant, "s-1"), "weir/acme/s-1/uplink");
        assert_eq!(t.downlink(&tenant, "s-1"), "weir/acme/s-1/downlink");
        assert_eq!(
            t.parse_uplink("weir/acme/s-1/uplink").unwrap(),
            DeviceAddress {
                tenant,
                device: "s-1".into()
            }
        );
    }

    #[test]
    fn prefixes_may_have_levels_but_no_wildcards() {
        let t = Topics::new("acme/weir").unwrap();
        assert_eq!(t.uplink_filter(), "acme/weir/+/+/uplink");
        assert_eq!(
            t.parse_uplink("acme/weir/default/a:b/uplink")
                .unwrap()
                .device,
            "a:b"
        );
        for bad in ["", "/weir", "weir/", "a//b", "we+ir", "#", "$SYS"] {
            assert_eq!(Topics::new(bad), Err(TopicError::BadPrefix), "{bad}");
        }
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        let t = Topics::new("weir").unwrap();
        assert!(matches!(
            t.parse_uplink("weir/acme/s1/downlink"),
            Err(TopicError::NotUplink(_))
        ));
        assert!(matches!(
            t.parse_uplink("other/acme/s1/uplink"),
            Err(TopicError::NotUplink(_))
        ));
        assert!(matches!(
            t.parse_uplink("weirx/acme/s1/uplink"),
            Err(TopicError::NotUplink(_))
        ));
        assert!(matches!(
            t.parse_uplink("weir/Acme/s1/uplink"),
            Err(TopicError::BadTenant(_))
        ));
        assert!(matches!(
            t.parse_uplink("weir/acme/s.1/uplink"),
            Err(TopicError::BadDevice(_))
        ));
        let long = "d".repeat(51);
        assert!(matches!(
            t.parse_uplink(&format!("weir/acme/{long}/uplink")),
            Err(TopicError::BadDevice(_))
        ));
    }
}
