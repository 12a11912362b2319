//! What the MQTT adapter is told by the app (the `[mqtt]` section of the configuration),
//! checked once at start, and what `GET /mqtt/broker-info` derives from it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use serde::{Deserialize, Serialize};

use crate::topics::{TopicError, Topics};

/// Where MQTT devices connect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Weir runs a broker in its own process (`embedded_addr`).
    #[default]
    Embedded,
    /// Weir connects to a broker at `url` (Mosquitto, EMQX...).
    External,
    /// No MQTT at all; mqtt-device devices can still be created.
    Off,
}

/// The default MQTT port.
pub const MQTT_PORT: u16 = 1883;

#[derive(Clone)]
pub struct MqttSettings {
    pub mode: Mode,
    /// The external broker: `mqtt://host:port` (`tcp://` too; the port defaults to 1883).
    pub url: Option<String>,
    /// Weir's login at the external broker.
    pub username: Option<String>,
    pub password: Option<String>,
    /// Weir's client id: fixed, because the broker keeps Weir's persistent session under it.
    pub client_id: String,
    pub topic_prefix: String,
    /// Where the embedded broker listens.
    pub embedded_addr: String,
    /// The host and port `GET /mqtt/broker-info` gives devices (derived when unset).
    pub public_host: Option<String>,
    pub public_port: Option<u16>,
    /// Reports stored at the same time (each holds a database connection while it runs).
    pub workers: usize,
    /// The largest message accepted (the embedded broker's limit, and Weir's client's).
    pub max_payload_bytes: usize,
    /// Cluster mode: the nodes subscribe to the uplinks as one MQTT shared subscription
    /// (`$share/<group>/...`), so the broker hands each message to one node.
    pub shared_group: Option<String>,
}

impl std::fmt::Debug for MqttSettings {
    // The password stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttSettings")
            .field("mode", &self.mode)
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("client_id", &self.client_id)
            .field("topic_prefix", &self.topic_prefix)
            .field("embedded_addr", &self.embedded_addr)
            .field("public_host", &self.public_host)
            .field("public_port", &self.public_port)
            .field("workers", &self.workers)
            .field("max_payload_bytes", &self.max_payload_bytes)
            .field("shared_group", &self.shared_group)
            .finish()
    }
}

impl Default for MqttSettings {
    fn default() -> Self {
        Self {
            mode: Mode::Embedded,
            url: None,
            username: None,
            password: None,
            client_id: "weir".into(),
            topic_prefix: "weir".into(),
            embedded_addr: format!("0.0.0.0:{MQTT_PORT}"),
            public_host: None,
            public_port: None,
            workers: 4,
            max_payload_bytes: 256 * 1024,
            shared_group: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Topic(#[from] TopicError),
    #[error(
        "mqtt.mode = \"external\" needs mqtt.url (WEIR_MQTT__URL), such as mqtt://127.0.0.1:1883"
    )]
    MissingUrl,
    #[error("mqtt.url `{url}`: {reason}")]
    BadUrl { url: String, reason: &'static str },
    #[error("mqtt.embedded.addr `{0}` is not a host:port this machine can listen on")]
    BadEmbeddedAddr(String),
    #[error("mqtt.client_id must be 1 to 64 printable ASCII characters without '+', '#' or '/'")]
    BadClientId,
    #[error("mqtt.workers must be from 1 to 64")]
    BadWorkers,
    #[error("mqtt.max_payload_bytes must be from 1024 to 268435455")]
    BadPayloadLimit,
}

/// Where Weir's own client connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BrokerAddress {
    pub host: String,
    pub port: u16,
}

/// The settings, checked: what the adapter runs with.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub topics: Topics,
    pub target: Target,
}

/// What the mode needs, one variant a mode: an external mode always has its broker.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    Off,
    /// The external broker Weir's client connects to.
    External(BrokerAddress),
    /// The embedded broker's listening address.
    Embedded(SocketAddr),
}

/// The host and ports `GET /mqtt/broker-info` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerInfo {
    pub host: String,
    /// `None` when MQTT is off and no `public_port` is configured.
    pub mqtt_port: Option<u16>,
}

impl MqttSettings {
    /// Checks every setting; errors name the setting to fix.
    pub fn check(&self) -> Result<(), SettingsError> {
        self.checked().map(|_| ())
    }

    pub(crate) fn checked(&self) -> Result<Checked, SettingsError> {
        let topics = Topics::new(&self.topic_prefix)?;
        let id_ok = !self.client_id.is_empty()
            && self.client_id.len() <= 64
            && self
                .client_id
                .bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'+' | b'#' | b'/'));
        if !id_ok {
            return Err(SettingsError::BadClientId);
        }
        if !(1..=64).contains(&self.workers) {
            return Err(SettingsError::BadWorkers);
        }
        if !(1024..=268_435_455).contains(&self.max_payload_bytes) {
            return Err(SettingsError::BadPayloadLimit);
        }
        let target = match self.mode {
            Mode::Off => Target::Off,
            Mode::External => {
                let url = self.url.as_deref().ok_or(SettingsError::MissingUrl)?;
                Target::External(parse_url(url)?)
            }
            Mode::Embedded => Target::Embedded(self.embedded_socket()?),
        };
        Ok(Checked { topics, target })
    }

    fn embedded_socket(&self) -> Result<SocketAddr, SettingsError> {
        let bad = || SettingsError::BadEmbeddedAddr(self.embedded_addr.clone());
        self.embedded_addr
            .to_socket_addrs()
            .map_err(|_| bad())?
            .next()
            .ok_or_else(bad)
    }

    /// What devices are told: the configured public host and port, else those of the
    /// broker (an embedded broker listening on every interface answers `localhost`).
    pub fn broker_info(&self) -> BrokerInfo {
        let (host, port) = match self.mode {
            Mode::Off => ("localhost".to_owned(), None),
            Mode::External => self
                .url
                .as_deref()
                .and_then(|u| parse_url(u).ok())
                .map_or(("localhost".to_owned(), None), |a| (a.host, Some(a.port))),
            Mode::Embedded => match self.embedded_socket() {
                Ok(addr) if addr.ip().is_unspecified() => {
                    ("localhost".to_owned(), Some(addr.port()))
                }
                Ok(addr) => (addr.ip().to_string(), Some(addr.port())),
                Err(_) => ("localhost".to_owned(), None),
            },
        };
        BrokerInfo {
            host: self.public_host.clone().unwrap_or(host),
            mqtt_port: self.public_port.or(port),
        }
    }
}

/// `mqtt://host[:port]` (or `tcp://`). TLS is not supported (no `mqtts://`), and
/// credentials belong in `mqtt.username` / `mqtt.password`, not in the URL.
fn parse_url(raw: &str) -> Result<BrokerAddress, SettingsError> {
    let bad = |reason| SettingsError::BadUrl {
        url: raw.to_owned(),
        reason,
    };
    let url = url::Url::parse(raw).map_err(|_| bad("not a URL such as mqtt://host:1883"))?;
    match url.scheme() {
        "mqtt" | "tcp" => {}
        "mqtts" | "ssl" | "tls" => {
            return Err(bad(
                "TLS is not supported yet; use mqtt:// on a trusted network or a local TLS proxy",
            ));
        }
        _ => return Err(bad("the scheme must be mqtt://")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "put the login in mqtt.username and mqtt.password, not in the URL",
        ));
    }
    if !matches!(url.path(), "" | "/") || url.query().is_some() {
        return Err(bad("only mqtt://host:port is understood"));
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| bad("the host is missing"))?;
    // `[::1]` comes back with its brackets; the client wants the bare address.
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    Ok(BrokerAddress {
        host,
        port: url.port().unwrap_or(MQTT_PORT),
    })
}

/// Where a client on this machine reaches a broker listening on `addr`.
pub(crate) fn local_address(addr: SocketAddr) -> BrokerAddress {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    BrokerAddress {
        host: ip.to_string(),
        port: addr.port(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn external(url: &str) -> MqttSettings {
        MqttSettings {
            mode: Mode::External,
            url: Some(url.into()),
            ..MqttSettings::default()
        }
    }

    fn external_address(url: &str) -> BrokerAddress {
        match external(url).checked().unwrap().target {
            Target::External(address) => address,
            other => panic!("an external mode checks into {other:?}"),
        }
    }

    #[test]
    fn defaults_are_an_embedded_broker_on_1883() {
        let s = MqttSettings::default();
        let Target::Embedded(embedded) = s.checked().unwrap().target else {
            panic!("the default mode is embedded")
        };
        assert_eq!(embedded.port(), 1883);
        assert_eq!(
            s.broker_info(),
            BrokerInfo {
                host: "localhost".into(),
                mqtt_port: Some(1883)
            }
        );
        assert_eq!(
            local_address(embedded),
            BrokerAddress {
                host: "127.0.0.1".into(),
                port: 1883
            }
        );
    }

    #[test]
    fn external_urls_are_read_and_tls_is_refused() {
        assert_eq!(
            external_address("mqtt://broker.local:1884"),
            BrokerAddress {
                host: "broker.local".into(),
                port: 1884
            }
        );
        assert_eq!(
            external_address("tcp://[::1]"),
            BrokerAddress {
                host: "::1".into(),
                port: 1883
            }
        );
        let info = external("mqtt://10.0.0.5:1883").broker_info();
        assert_eq!(
            (info.host.as_str(), info.mqtt_port),
            ("10.0.0.5", Some(1883))
        );
        for bad in [
            "mqtts://h:8883",
            "http://h",
            "mqtt://u:p@h:1883",
            "mqtt://h:1883/x",
            "h:1883",
        ] {
            assert!(
                matches!(external(bad).check(), Err(SettingsError::BadUrl { .. })),
                "{bad}"
            );
        }
        let no_url = MqttSettings {
            mode: Mode::External,
            ..MqttSettings::default()
        };
        assert!(matches!(no_url.check(), Err(SettingsError::MissingUrl)));
    }

    #[test]
    fn public_host_and_port_win() {
        let s = MqttSettings {
            public_host: Some("iot.example.com".into()),
            public_port: Some(11883),
            ..MqttSettings::default()
        };
        assert_eq!(
            s.broker_info(),
            BrokerInfo {
                host: "iot.example.com".into(),
                mqtt_port: Some(11883)
            }
        );
        let off = MqttSettings {
            mode: Mode::Off,
            ..MqttSettings::default()
        };
        assert_eq!(off.broker_info().mqtt_port, None);
    }

    #[test]
    fn bad_settings_name_the_setting() {
        let s = |f: fn(&mut MqttSettings)| {
            let mut s = MqttSettings::default();
            f(&mut s);
            s.check().unwrap_err().to_string()
        };
        assert!(s(|s| s.client_id = "a/b".into()).contains("mqtt.client_id"));
        assert!(s(|s| s.topic_prefix = "a/#".into()).contains("mqtt.topic_prefix"));
        assert!(s(|s| s.embedded_addr = "nowhere".into()).contains("mqtt.embedded.addr"));
        assert!(s(|s| s.workers = 0).contains("mqtt.workers"));
    }

    #[test]
    fn debug_hides_the_password() {
        let s = MqttSettings {
            password: Some("hunter2".into()),
            ..MqttSettings::default()
        };
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
