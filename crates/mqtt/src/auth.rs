//! Who may connect to the embedded broker: Weir's own client, with a random login made at
//! each start, and devices of the mqtt-device integration, with their device token as the
//! password (the username is not checked; the device identifier is a good choice).

use std::sync::Arc;

use rand::RngCore;
use weir_iot::IotService;
use weir_iot::errors::IotError;

use crate::integration::INTEGRATION_ID;
use crate::topics::shorten;

/// Weir's own login at the embedded broker. Never logged, never configured.
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
    pub fn random() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self {
            username: "weir-internal".into(),
            password: hex::encode(bytes),
        }
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

/// Decides CONNECTs at the embedded broker.
pub(crate) struct BrokerAuth {
    pub iot: Arc<IotService>,
    pub internal: InternalLogin,
    /// Weir's own client id: no device may take it (it would take Weir's session over).
    pub internal_client_id: String,
}

impl BrokerAuth {
    /// Whether this login may connect. Device tokens are checked on the blocking pool.
    pub async fn allows(
        self: Arc<Self>,
        client_id: String,
        username: String,
        password: String,
    ) -> bool {
        if username == self.internal.username {
            let ok = same_secret(&password, &self.internal.password)
                && client_id == self.internal_client_id;
            if !ok {
                tracing::warn!(
                    client_id = shorten(&client_id),
                    "MQTT connect refused: a wrong internal login"
                );
            }
            return ok;
        }
        if client_id == self.internal_client_id {
            tracing::warn!(
                client_id = shorten(&client_id),
                username = shorten(&username),
                "MQTT connect refused: a device used Weir's own client id (mqtt.client_id)"
            );
            return false;
        }
        let this = self.clone();
        let checked =
            tokio::task::spawn_blocking(move || this.iot.device_for_token(&password)).await;
        let refuse = |reason: &str| {
            tracing::warn!(
                client_id = shorten(&client_id),
                username = shorten(&username),
                reason,
                "MQTT connect refused"
            );
            false
        };
        match checked {
            Ok(Ok(device)) if device.integration == INTEGRATION_ID => {
                tracing::debug!(
                    client_id = shorten(&client_id),
                    tenant = %device.tenant_id,
                    device = device.identifier,
                    "MQTT device connected"
                );
                true
            }
            Ok(Ok(_)) => refuse("the token belongs to a device of another integration"),
            Ok(Err(IotError::BadDeviceToken)) => {
                refuse("the password is not a current device token")
            }
            Ok(Err(e)) => refuse(&format!("the token could not be checked: {e}")),
            Err(_) => refuse("the token check did not finish"),
        }
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
        let a = InternalLogin::random();
        let b = InternalLogin::random();
        assert_ne!(a.password, b.password);
        assert!(!format!("{a:?}").contains(&a.password));
    }
}
