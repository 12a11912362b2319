//! What the built-in device integrations share: devices named by an identifier the user
//! gives when adding them, with entities that appear as the device reports values. And
//! the simplest of them, `http-device`, for devices that post their values over HTTP.

use std::collections::BTreeMap;

use serde_json::Map;

use crate::integration::{
    DeviceService, Integration, IntegrationError, IntegrationInfo, NewDevice, ParamError,
    ParamProblem,
};
use crate::key::valid_segment;
use crate::model::{
    AccessMod, EntityDefinition, EntityType, IDENTIFIER_MAX, ValueAttribute, ValueType,
};
use crate::value::{EntityValue, ValueError};

/// The add-device parameter naming the device.
pub const IDENTIFIER_PARAM: &str = "identifier";

/// Add-device and delete-device services of an integration whose devices are named by an
/// `identifier` parameter.
pub fn identified_services() -> (DeviceService, DeviceService) {
    let identifier = EntityDefinition {
        identifier: IDENTIFIER_PARAM.into(),
        name: "Device identifier".into(),
        entity_type: EntityType::Property,
        access_mod: AccessMod::W,
        value_type: ValueType::String,
        value_attribute: ValueAttribute {
            min_length: Some(1),
            // A constant of 50: the cast cannot truncate.
            max_length: Some(IDENTIFIER_MAX as u32),
            ..ValueAttribute::default()
        },
        children: vec![],
    };
    (
        DeviceService {
            identifier: "add_device".into(),
            params: vec![identifier],
        },
        DeviceService {
            identifier: "delete_device".into(),
            params: vec![],
        },
    )
}

/// Whether `s` can name a device: a key segment of at most 50 characters (letters,
/// digits, '_', '-', ':'), so it also fits in an MQTT topic level.
pub fn valid_device_identifier(s: &str) -> bool {
    valid_segment(s) && s.len() <= IDENTIFIER_MAX
}

/// The device an add-device request names: its identifier (letters, digits, '_', '-',
/// ':'; the device segment of entity keys and MQTT topics), no entities yet.
pub fn identified_device(
    params: &BTreeMap<String, EntityValue>,
) -> Result<NewDevice, IntegrationError> {
    let refuse = |error| {
        IntegrationError::Param(ParamError {
            param: IDENTIFIER_PARAM.into(),
            error: ParamProblem::Value(error),
        })
    };
    let identifier = match params.get(IDENTIFIER_PARAM) {
        Some(EntityValue::String(s)) => s.trim().to_owned(),
        _ => return Err(refuse(ValueError::Required)),
    };
    if !valid_device_identifier(&identifier) {
        return Err(refuse(ValueError::InvalidFormat {
            format: "device identifier (1 to 50 letters, digits, '_', '-' or ':')".into(),
        }));
    }
    Ok(NewDevice {
        identifier,
        entities: vec![],
        additional: Map::new(),
    })
}

/// The `http-device` integration's id.
pub const HTTP_DEVICE: &str = "http-device";

/// Devices that post their values to `POST /api/v1/device/report` with their device
/// token. They cannot be written to: property updates and service calls addressed to
/// them are stored but not delivered.
#[derive(Debug)]
pub struct HttpDevices {
    info: IntegrationInfo,
}

impl Default for HttpDevices {
    fn default() -> Self {
        let (add, delete) = identified_services();
        Self {
            info: IntegrationInfo {
                id: HTTP_DEVICE.into(),
                name: "HTTP device".into(),
                description: "Devices that post JSON values over HTTP with a device token \
                              (see docs/native-api.md, HTTP ingest)."
                    .into(),
                icon: None,
                entities: vec![],
                add_device: Some(add),
                delete_device: Some(delete),
            },
        }
    }
}

impl Integration for HttpDevices {
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

    fn deliver(
        &self,
        _tenant: &weir_kernel::TenantId,
        _device: &str,
        _values: &[(crate::key::EntityKey, EntityValue)],
    ) -> Result<(), IntegrationError> {
        Err(IntegrationError::Unavailable(
            "an HTTP device cannot be written to".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(identifier: &str) -> BTreeMap<String, EntityValue> {
        BTreeMap::from([(
            IDENTIFIER_PARAM.to_owned(),
            EntityValue::String(identifier.into()),
        )])
    }

    #[test]
    fn the_identifier_names_the_device() {
        let new = identified_device(&params(" kitchen-1 ")).unwrap();
        assert_eq!(new.identifier, "kitchen-1");
        assert!(new.entities.is_empty());
        for bad in ["a.b", "a/b", "a+b", "#", "", &"x".repeat(51)] {
            assert!(
                matches!(
                    identified_device(&params(bad)),
                    Err(IntegrationError::Param(ParamError { ref param, .. })) if param == "identifier"
                ),
                "{bad}"
            );
        }
        assert!(identified_device(&BTreeMap::new()).is_err());
    }

    #[test]
    fn http_devices_register() {
        let mut registry = crate::IntegrationRegistry::default();
        registry
            .register(std::sync::Arc::new(HttpDevices::default()))
            .unwrap();
        let info = registry.get(HTTP_DEVICE).unwrap().info();
        assert_eq!(
            info.add_device.as_ref().unwrap().params[0].identifier,
            "identifier"
        );
    }
}
