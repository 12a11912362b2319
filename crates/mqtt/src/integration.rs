//! The `mqtt-device` integration: devices that publish JSON over MQTT. A device is added
//! with its identifier (the device segment of its entity keys and of its topics); its
//! entities appear as it reports values. Property writes and service calls addressed to
//! it are published on its downlink topic.

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use rumqttc::{AsyncClient, QoS};
use serde_json::{Map, Value as Json};
use weir_iot::builtin::{identified_device, identified_services};
use weir_iot::integration::{Integration, IntegrationError, IntegrationInfo, NewDevice};
use weir_iot::{EntityKey, EntityValue};
use weir_kernel::TenantId;

use crate::topics::Topics;

/// The integration's id: the first segment of its entity keys.
pub const INTEGRATION_ID: &str = "mqtt-device";

pub use weir_iot::builtin::IDENTIFIER_PARAM;

/// Where downlinks go while the client runs.
struct Downlink {
    client: AsyncClient,
    topics: Topics,
    /// Which start of MQTT attached it (a stopping one must not detach its successor).
    generation: u64,
}

/// The mqtt-device integration. Registered whatever the MQTT mode, so devices can be made
/// before a broker is there; it publishes downlinks only while Weir's client runs.
pub struct MqttDevices {
    info: IntegrationInfo,
    downlink: RwLock<Option<Downlink>>,
    generations: AtomicU64,
}

impl std::fmt::Debug for MqttDevices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttDevices")
            .field("id", &self.info.id)
            .finish_non_exhaustive()
    }
}

impl Default for MqttDevices {
    fn default() -> Self {
        Self::new()
    }
}

impl MqttDevices {
    pub fn new() -> Self {
        let (add_device, delete_device) = identified_services();
        Self {
            info: IntegrationInfo {
                id: INTEGRATION_ID.into(),
                name: "MQTT device".into(),
                description: "Devices that publish JSON values to an MQTT broker; writes to \
                              them are published back (see docs/mqtt.md)."
                    .into(),
                icon: None,
                entities: vec![],
                add_device: Some(add_device),
                delete_device: Some(delete_device),
            },
            downlink: RwLock::new(None),
            generations: AtomicU64::new(0),
        }
    }

    /// A number for one start of MQTT.
    pub(crate) fn next_generation(&self) -> u64 {
        self.generations.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// From now on, downlinks are published through `client`.
    pub(crate) fn attach(&self, client: AsyncClient, topics: Topics, generation: u64) {
        *self.downlink.write().unwrap_or_else(|e| e.into_inner()) = Some(Downlink {
            client,
            topics,
            generation,
        });
    }

    /// Downlinks are refused from now on, if the client of `generation` is still attached
    /// (it stopped).
    pub(crate) fn detach(&self, generation: u64) {
        let mut slot = self.downlink.write().unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_some_and(|d| d.generation == generation) {
            *slot = None;
        }
    }
}

/// What a device receives on its downlink: `{entity_identifier: value}`, a child of an
/// OBJECT nested under its parent, values typed as the native API shows them (BINARY as
/// base64), so a downlink reads like an uplink.
pub fn downlink_payload(values: &[(EntityKey, EntityValue)]) -> Json {
    let mut out = Map::new();
    for (key, value) in values {
        match &key.child {
            None => {
                out.insert(key.entity.clone(), value.to_json());
            }
            Some(child) => {
                let parent = out
                    .entry(key.entity.clone())
                    .or_insert_with(|| Json::Object(Map::new()));
                if let Json::Object(members) = parent {
                    members.insert(child.clone(), value.to_json());
                }
            }
        }
    }
    Json::Object(out)
}

impl Integration for MqttDevices {
    fn info(&self) -> &IntegrationInfo {
        &self.info
    }

    fn add_device(
        &self,
        _name: &str,
        params: &BTreeMap<String, EntityValue>,
    ) -> Result<NewDevice, IntegrationError> {
        identified_device(params)
    }

    /// Publishes the values on the device's downlink at QoS 1, without waiting: the
    /// client's queue takes it or the delivery fails (the values stay stored).
    fn deliver(
        &self,
        tenant: &TenantId,
        device: &str,
        values: &[(EntityKey, EntityValue)],
    ) -> Result<(), IntegrationError> {
        let guard = self.downlink.read().unwrap_or_else(|e| e.into_inner());
        let Some(downlink) = guard.as_ref() else {
            return Err(IntegrationError::Unavailable(
                "MQTT is off, or its broker is not running".into(),
            ));
        };
        let topic = downlink.topics.downlink(tenant, device);
        let payload = downlink_payload(values).to_string();
        let queued = downlink
            .client
            .try_publish(topic.as_str(), QoS::AtLeastOnce, false, payload)
            .map_err(|e| {
                tracing::warn!(%tenant, device, topic, error = %e, "MQTT downlink not queued");
                IntegrationError::Unavailable(format!("the MQTT client is busy: {e}"))
            });
        let outcome = if queued.is_ok() { "sent" } else { "refused" };
        crate::measure::message("downlink", outcome);
        queued
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_integration_registers() {
        let mut registry = weir_iot::IntegrationRegistry::default();
        registry
            .register(std::sync::Arc::new(MqttDevices::new()))
            .unwrap();
        let info = registry.get(INTEGRATION_ID).unwrap().info();
        assert_eq!(info.name, "MQTT device");
        assert!(info.delete_device.is_some());
    }

    #[test]
    fn downlinks_read_like_uplinks() {
        let key = |k: &str| k.parse::<EntityKey>().unwrap();
        let payload = downlink_payload(&[
            (
                key("mqtt-device.device.d1.setpoint"),
                EntityValue::Double(21.5),
            ),
            (
                key("mqtt-device.device.d1.led.on"),
                EntityValue::Boolean(true),
            ),
            (
                key("mqtt-device.device.d1.led.color"),
                EntityValue::String("red".into()),
            ),
            (
                key("mqtt-device.device.d1.blob"),
                EntityValue::Binary(vec![1, 2, 3]),
            ),
        ]);
        assert_eq!(
            payload,
            json!({"setpoint": 21.5, "led": {"on": true, "color": "red"}, "blob": "AQID"})
        );
    }

    #[test]
    fn without_a_client_deliveries_fail() {
        let d = MqttDevices::new();
        let err = d
            .deliver(&TenantId::default_tenant(), "d1", &[])
            .unwrap_err();
        assert!(matches!(err, IntegrationError::Unavailable(_)));
    }
}
