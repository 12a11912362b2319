//! Integrations: the plug-ins that own devices. The app registers the built-in ones; a
//! program embedding Weir registers its own through the same [`IntegrationRegistry`].

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value as Json};
use weir_kernel::TenantId;

use crate::key::{EntityKey, valid_segment};
use crate::model::{DefinitionError, EntityDefinition};
use crate::value::{EntityValue, ValueError};

/// A service of the integration, with the parameters a user fills in (the add-device and
/// delete-device services).
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceService {
    /// The service entity's identifier; its key is `{integration}.integration.{identifier}`.
    pub identifier: String,
    /// The parameters, as the children of the service entity.
    pub params: Vec<EntityDefinition>,
}

impl DeviceService {
    /// The service as an entity: a SERVICE of OBJECT type whose children are its parameters.
    pub fn as_definition(&self) -> EntityDefinition {
        EntityDefinition {
            identifier: self.identifier.clone(),
            name: self.identifier.replace('_', " "),
            entity_type: crate::model::EntityType::Service,
            access_mod: crate::model::AccessMod::W,
            value_type: crate::model::ValueType::Object,
            value_attribute: Default::default(),
            children: self.params.clone(),
        }
    }

    /// `given` with every parameter named by its identifier. The web console names a
    /// parameter by its full entity key, `{service_key}.{identifier}`
    /// (`http-device.integration.add_device.identifier`); the seed document by its
    /// identifier alone. Both are accepted, but not both for one parameter. A key that is
    /// neither is kept as it is, for [`Self::check`] to refuse.
    pub fn by_identifier(
        &self,
        service_key: &str,
        given: &Map<String, Json>,
    ) -> Result<Map<String, Json>, ParamError> {
        let mut out = Map::new();
        for (key, value) in given {
            let short = key
                .strip_prefix(service_key)
                .and_then(|rest| rest.strip_prefix('.'))
                .filter(|id| self.params.iter().any(|p| p.identifier == *id))
                .unwrap_or(key);
            if out.insert(short.to_owned(), value.clone()).is_some() {
                return Err(ParamError {
                    param: short.to_owned(),
                    error: ParamProblem::Repeated,
                });
            }
        }
        Ok(out)
    }

    /// Checks the values a user gave for the parameters: each known, each valid, none
    /// missing unless its `value_attribute.optional` is true. Errors name the parameter.
    pub fn check(
        &self,
        given: &Map<String, Json>,
    ) -> Result<BTreeMap<String, EntityValue>, ParamError> {
        if let Some(unknown) = given
            .keys()
            .find(|k| !self.params.iter().any(|p| &p.identifier == *k))
        {
            return Err(ParamError {
                param: unknown.clone(),
                error: ParamProblem::Unknown,
            });
        }
        let mut out = BTreeMap::new();
        for p in &self.params {
            match given.get(&p.identifier).filter(|v| !v.is_null()) {
                Some(raw) => {
                    let v = EntityValue::check(p, raw).map_err(|e| ParamError {
                        param: p.identifier.clone(),
                        error: ParamProblem::Value(e),
                    })?;
                    out.insert(p.identifier.clone(), v);
                }
                None if p.value_attribute.optional == Some(true) => {}
                None => {
                    return Err(ParamError {
                        param: p.identifier.clone(),
                        error: ParamProblem::Value(ValueError::Required),
                    });
                }
            }
        }
        Ok(out)
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("param_entities.{param}: {error}")]
/// A parameter of a device service that was refused.
pub struct ParamError {
    /// The parameter as the request named it.
    pub param: String,
    /// What is wrong with it.
    pub error: ParamProblem,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
/// What is wrong with a device-service parameter.
pub enum ParamProblem {
    #[error("not a parameter of this service")]
    /// The service has no parameter by that name.
    Unknown,
    #[error("given twice, by its identifier and by its full key")]
    /// Given twice, by its identifier and by its full key.
    Repeated,
    #[error(transparent)]
    /// Its value does not fit the parameter's definition.
    Value(ValueError),
}

/// What an integration says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct IntegrationInfo {
    /// The first segment of its entity keys: 1 to 64 letters, digits, '_', '-' or ':'.
    pub id: String,
    /// The display name.
    pub name: String,
    /// What it does, for display; may be empty.
    pub description: String,
    /// An icon for the console; `None`: the default one.
    pub icon: Option<String>,
    /// The integration's own entities (`{id}.integration.{entity}`).
    pub entities: Vec<EntityDefinition>,
    /// Present when users may add devices to it.
    pub add_device: Option<DeviceService>,
    /// Present when users may delete its devices.
    pub delete_device: Option<DeviceService>,
}

impl IntegrationInfo {
    /// The entity key of one of its device services (`{id}.integration.{identifier}`).
    pub fn service_key(&self, service: &DeviceService) -> String {
        EntityKey::integration(&self.id, &service.identifier).to_string()
    }
}

/// A device an integration agreed to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDevice {
    /// Unique within the integration; the device segment of its entity keys.
    pub identifier: String,
    /// The device's entities.
    pub entities: Vec<EntityDefinition>,
    /// Integration-specific settings kept with the device (never secrets in clear).
    pub additional: Map<String, Json>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
/// Why an integration refused or failed a call.
pub enum IntegrationError {
    #[error(transparent)]
    /// A parameter of the call is wrong.
    Param(#[from] ParamError),
    #[error("{0}")]
    /// The integration refuses the call; the message says why, for the user.
    Refused(String),
    #[error("integration unavailable: {0}")]
    /// The integration cannot be reached or failed; the message says how.
    Unavailable(String),
}

/// A plug-in that owns devices. Calls are blocking and happen on the blocking pool.
pub trait Integration: Send + Sync {
    /// What the integration is and declares; the same every call.
    fn info(&self) -> &IntegrationInfo;

    /// Turns an add-device request into the device to create. The parameters have already
    /// passed [`DeviceService::check`].
    fn add_device(
        &self,
        name: &str,
        params: &BTreeMap<String, EntityValue>,
    ) -> Result<NewDevice, IntegrationError>;

    /// Called before one of its devices is deleted.
    fn delete_device(&self, _device: &str) -> Result<(), IntegrationError> {
        Ok(())
    }

    /// Property writes and service calls addressed to one of its devices, after they were
    /// checked and committed (an MQTT integration publishes them to the device).
    fn deliver(
        &self,
        _tenant: &TenantId,
        _device: &str,
        _values: &[(EntityKey, EntityValue)],
    ) -> Result<(), IntegrationError> {
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
/// Why [`IntegrationRegistry::register`] refused an integration.
pub enum RegistryError {
    #[error("an integration `{0}` is already registered")]
    /// An integration with this id is registered already.
    Duplicate(String),
    #[error("integration id `{0}` must be 1 to 64 letters, digits, '_', '-' or ':'")]
    /// The id is not a valid key segment (see [`crate::key::valid_segment`]).
    BadId(String),
    #[error("integration `{id}`: {error}")]
    /// An entity the integration declares (its own, or a service parameter) is invalid.
    BadDefinition {
        /// The integration's id.
        id: String,
        /// What is wrong with the definition.
        error: DefinitionError,
    },
}

/// The integrations a server runs, by id.
#[derive(Default, Clone)]
pub struct IntegrationRegistry {
    by_id: BTreeMap<String, Arc<dyn Integration>>,
}

impl std::fmt::Debug for IntegrationRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.by_id.keys()).finish()
    }
}

impl IntegrationRegistry {
    /// Adds an integration after checking its id and every entity it declares.
    pub fn register(&mut self, integration: Arc<dyn Integration>) -> Result<(), RegistryError> {
        let info = integration.info();
        if !valid_segment(&info.id) {
            return Err(RegistryError::BadId(info.id.clone()));
        }
        if self.by_id.contains_key(&info.id) {
            return Err(RegistryError::Duplicate(info.id.clone()));
        }
        let services = info.add_device.iter().chain(&info.delete_device);
        let definitions = info.entities.iter().chain(services.flat_map(|s| &s.params));
        for def in definitions {
            def.check().map_err(|error| RegistryError::BadDefinition {
                id: info.id.clone(),
                error,
            })?;
        }
        self.by_id.insert(info.id.clone(), integration);
        Ok(())
    }

    /// The integration with this id, if registered.
    pub fn get(&self, id: &str) -> Option<&Arc<dyn Integration>> {
        self.by_id.get(id)
    }

    /// Every registered integration, by id.
    pub fn all(&self) -> impl Iterator<Item = &Arc<dyn Integration>> {
        self.by_id.values()
    }
}

/// An integration whose devices all have the same entities, declared up front: the
/// simplest plug-in a program embedding Weir can register (and what tests and benchmarks
/// use). Users may add its devices (`POST /device`, no parameters; the identifier is the
/// name in lower case) but not delete them.
#[derive(Debug)]
pub struct FixedEntities {
    info: IntegrationInfo,
    entities: Vec<EntityDefinition>,
}

impl FixedEntities {
    /// An integration `id`, shown as `name`, whose every device has `entities`.
    pub fn new(id: &str, name: &str, entities: Vec<EntityDefinition>) -> Self {
        Self {
            info: IntegrationInfo {
                id: id.into(),
                name: name.into(),
                description: String::new(),
                icon: None,
                entities: vec![],
                add_device: Some(DeviceService {
                    identifier: "add_device".into(),
                    params: vec![],
                }),
                delete_device: None,
            },
            entities,
        }
    }
}

impl Integration for FixedEntities {
    fn info(&self) -> &IntegrationInfo {
        &self.info
    }

    fn add_device(
        &self,
        name: &str,
        _: &BTreeMap<String, EntityValue>,
    ) -> Result<NewDevice, IntegrationError> {
        Ok(NewDevice {
            identifier: name.to_lowercase(),
            entities: self.entities.clone(),
            additional: Map::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::{AccessMod, EntityType, ValueAttribute, ValueType};

    fn param(id: &str, t: ValueType, attr: Json) -> EntityDefinition {
        EntityDefinition {
            identifier: id.into(),
            name: id.into(),
            entity_type: EntityType::Property,
            access_mod: AccessMod::RW,
            value_type: t,
            value_attribute: serde_json::from_value::<ValueAttribute>(attr).unwrap(),
            children: vec![],
        }
    }

    struct Fake(IntegrationInfo);

    impl Integration for Fake {
        fn info(&self) -> &IntegrationInfo {
            &self.0
        }
        fn add_device(
            &self,
            name: &str,
            _: &BTreeMap<String, EntityValue>,
        ) -> Result<NewDevice, IntegrationError> {
            Ok(NewDevice {
                identifier: name.into(),
                entities: vec![],
                additional: Map::new(),
            })
        }
    }

    fn fake(id: &str) -> Arc<dyn Integration> {
        Arc::new(Fake(IntegrationInfo {
            id: id.into(),
            name: "Fake".into(),
            description: String::new(),
            icon: None,
            entities: vec![],
            add_device: Some(DeviceService {
                identifier: "add_device".into(),
                params: vec![
                    param("sn", ValueType::String, json!({"min_length": 4})),
                    param(
                        "interval",
                        ValueType::Long,
                        json!({"min": 1, "optional": true}),
                    ),
                ],
            }),
            delete_device: None,
        }))
    }

    #[test]
    fn registry_refuses_duplicates_and_bad_ids() {
        let mut r = IntegrationRegistry::default();
        r.register(fake("fake")).unwrap();
        assert_eq!(
            r.register(fake("fake")),
            Err(RegistryError::Duplicate("fake".into()))
        );
        assert_eq!(
            r.register(fake("a.b")),
            Err(RegistryError::BadId("a.b".into()))
        );
        assert_eq!(r.all().count(), 1);
        let info = r.get("fake").unwrap().info();
        assert_eq!(
            info.service_key(info.add_device.as_ref().unwrap()),
            "fake.integration.add_device"
        );
    }

    #[test]
    fn add_device_params_are_checked_and_named() {
        let f = fake("fake");
        let service = f.info().add_device.clone().unwrap();
        let given = |v: Json| v.as_object().unwrap().clone();
        let ok = service.check(&given(json!({"sn": "ABCD"}))).unwrap();
        assert_eq!(ok.get("sn"), Some(&EntityValue::String("ABCD".into())));
        let missing = service.check(&given(json!({}))).unwrap_err();
        assert_eq!(
            (missing.param.as_str(), missing.to_string().as_str()),
            ("sn", "param_entities.sn: a value is required")
        );
        assert_eq!(
            service
                .check(&given(json!({"sn": "AB"})))
                .unwrap_err()
                .param,
            "sn"
        );
        assert_eq!(
            service
                .check(&given(json!({"sn": "ABCD", "interval": 0})))
                .unwrap_err()
                .param,
            "interval"
        );
        assert_eq!(
            service
                .check(&given(json!({"sn": "ABCD", "x": 1})))
                .unwrap_err()
                .error,
            ParamProblem::Unknown
        );
    }
}
