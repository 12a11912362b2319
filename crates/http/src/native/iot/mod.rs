//! The IoT half of the native API: integrations, devices, entities and their values.

pub mod custom_entities;
pub mod dashboards;
pub mod devices;
pub mod entities;
pub mod export;
pub mod forms;
pub mod ingest;
pub mod integrations;
pub mod mqtt;
pub mod role_resources;
pub mod websocket;

use serde::Serialize;
use utoipa::ToSchema;
use weir_iot::Viewer;
use weir_iot::ports::Entity;
use weir_kernel::Id;

use super::envelope::NativeError;
use super::extract::{State, authenticate, from_bearer_token};
use crate::openapi::IdText;

/// The caller as the IoT use-cases see them: their tenant, function codes and the
/// integrations, devices and entities their roles were granted (the super admin: all).
#[derive(Debug)]
pub struct IotViewer(pub Viewer);

from_bearer_token!(IotViewer, NativeError);

impl IotViewer {
    /// Checks an access token (as [`authenticate`] does); the IoT domain builds the
    /// viewer from what the caller holds.
    pub async fn authenticate(state: &State, token: String) -> Result<Self, NativeError> {
        let p = authenticate(state, token).await?;
        Ok(Self(Viewer::of(&p.access())))
    }
}

/// An entity as integration and device answers list it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntityDto {
    #[schema(value_type = IdText)]
    pub id: Id,
    pub key: String,
    pub name: String,
    /// PROPERTY, SERVICE or EVENT.
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub entity_type: weir_iot::EntityType,
    /// R, W or RW.
    #[schema(value_type = String)]
    pub access_mod: weir_iot::AccessMod,
    /// STRING, LONG, DOUBLE, BOOLEAN, BINARY or OBJECT.
    #[schema(value_type = String)]
    pub value_type: weir_iot::ValueType,
    #[schema(value_type = Object)]
    pub value_attribute: weir_iot::ValueAttribute,
    /// The parent's key, for a child of an OBJECT entity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

impl From<Entity> for EntityDto {
    fn from(e: Entity) -> Self {
        let d = e.definition;
        Self {
            id: e.id,
            key: e.key,
            name: d.name,
            entity_type: d.entity_type,
            access_mod: d.access_mod,
            value_type: d.value_type,
            value_attribute: d.value_attribute,
            parent: e.parent_key,
        }
    }
}
