//! Who may connect. Devices log in at the gate with their device token as the password
//! (the username is not checked; the device identifier is a good choice). Behind the gate,
//! rumqttd's own port takes two logins only, both random secrets made at each start: Weir's
//! client's, and the gate's, which the gate puts in place of each device's.

use std::sync::Arc;

use rand::RngCore;
use rumqttd::protocol::{ConnectReturnCode, Login};
use weir_iot::IotService;
use weir_iot::errors::IotError;
use weir_kernel::TenantId;

use crate::integration::INTEGRATION_ID;
use crate::topics::shorten;

/// A login made at start, never configured, never logged.
#[derive(Clone)]
pub(crate) struct InternalLogin {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for InternalLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InternalLogin")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl InternalLogin {
    pub fn random(username: &str) -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self {
            username: username.into(),
            password: hex::encode(bytes),
        }
    }

    fn matches(&self, username: &str, password: &str) -> bool {
        username == self.username && same_secret(password, &self.password)
    }
}

/// Compares secrets in time that does not depend on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Decides CONNECTs at rumqttd's own port (127.0.0.1 only): Weir's client, under its
/// client id, and the gate. A device token is refused there, so the gate cannot be gone
/// around by a process of this machine.
pub(super) struct InternalPort {
    pub weir: InternalLogin,
    pub weir_client_id: String,
    pub gate: InternalLogin,
}

impl InternalPort {
    pub fn allows(&self, client_id: &str, username: &str, password: &str) -> bool {
        let ok = if self.weir.matches(username, password) {
            client_id == self.weir_client_id
        } else {
            // The gate never forwards Weir's client id (see `Refusal::WeirsClientId`).
            self.gate.matches(username, password) && client_id != self.weir_client_id
        };
        if !ok {
            tracing::warn!(
                client_id = shorten(client_id),
                username = shorten(username),
                "MQTT connect refused on the embedded broker's internal port: devices connect \
                 to mqtt.embedded.addr"
            );
        }
        ok
    }
}

/// A CONNECT the gate refuses: it answers the CONNACK [`code`](Self::code) and logs the
/// [`reason`](Self::reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    NoToken,
    OtherIntegration,
    Unchecked,
    EmptyClientId,
    BadClientId,
    WeirsClientId,
    ForeignWill,
}

impl Refusal {
    pub fn code(self) -> ConnectReturnCode {
        match self {
            Self::NoToken => ConnectReturnCode::BadUserNamePassword,
            Self::OtherIntegration | Self::ForeignWill => ConnectReturnCode::NotAuthorized,
            Self::Unchecked => ConnectReturnCode::ServiceUnavailable,
            Self::EmptyClientId | Self::BadClientId | Self::WeirsClientId => {
                ConnectReturnCode::ClientIdentifierNotValid
            }
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Self::NoToken => "the password is not a current device token",
            Self::OtherIntegration => "the token belongs to a device of another integration",
            Self::Unchecked => "the token could not be checked",
            Self::EmptyClientId => "an empty client id asks for a persistent session",
            Self::BadClientId => {
                "the client id holds one of '+', '#', '$', '/', which the broker does not take"
            }
            Self::WeirsClientId => "the client id would be Weir's own (mqtt.client_id)",
            Self::ForeignWill => "the will topic is not the device's own uplink",
        }
    }
}

/// The mqtt-device device whose token `login` carries: its tenant and identifier.
/// Checked on the blocking pool (it reads the database).
pub(super) async fn device_of(
    iot: &Arc<IotService>,
    login: Option<&Login>,
) -> Result<(TenantId, String), Refusal> {
    let Some(password) = login.map(|l| l.password.clone()) else {
        return Err(Refusal::NoToken);
    };
    let iot = iot.clone();
    match tokio::task::spawn_blocking(move || iot.device_for_token(&password)).await {
        Ok(Ok(device)) if device.integration == INTEGRATION_ID => {
            Ok((device.tenant_id, device.identifier))
        }
        Ok(Ok(_)) => Err(Refusal::OtherIntegration),
        Ok(Err(IotError::BadDeviceToken)) => Err(Refusal::NoToken),
        Ok(Err(error)) => {
            tracing::error!(%error, "an MQTT device token could not be checked");
            Err(Refusal::Unchecked)
        }
        Err(_) => Err(Refusal::Unchecked),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        let a = InternalLogin::random("x");
        let b = InternalLogin::random("x");
        assert_ne!(a.password, b.password);
        assert!(!format!("{a:?}").contains(&a.password));
    }

    #[test]
    fn the_internal_port_takes_weir_and_the_gate_only() {
        let port = InternalPort {
            weir: InternalLogin::random("weir-internal"),
            weir_client_id: "weir".into(),
            gate: InternalLogin::random("weir-gate"),
        };
        let (weir, gate) = (port.weir.clone(), port.gate.clone());
        assert!(port.allows("weir", &weir.username, &weir.password));
        assert!(!port.allows("other", &weir.username, &weir.password));
        assert!(port.allows("acme/a/c1", &gate.username, &gate.password));
        assert!(!port.allows("weir", &gate.username, &gate.password));
        assert!(!port.allows("acme/a/c1", &gate.username, &weir.password));
        assert!(!port.allows("acme/a/c1", "a", "wdt_token"));
    }
}
