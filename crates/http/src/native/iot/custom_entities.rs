//! Custom entities: `POST /entity`, `PUT /entity/{id}`, `POST /entity/delete`.

use actix_web::{post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use weir_iot::{AccessMod, EntityDefinition, EntityType, ValueAttribute, ValueType};
use weir_kernel::Id;

use super::IotViewer;
use crate::native::envelope::{Empty, Envelope, NativeError, Refusals, Success};
use crate::native::extract::{Body, State, blocking, path_id};
use crate::openapi::{IdText, one_of, serde_name};
use utoipa::openapi::{RefOr, Schema};

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateEntityRequest {
    /// At most 64 characters.
    #[schema(max_length = 64)]
    pub name: String,
    /// At most 50 letters, digits, '_', '-' or ':'; the key is `system.integration.{identifier}`.
    #[schema(pattern = "^[A-Za-z0-9_:-]{1,50}$")]
    pub identifier: String,
    #[serde(rename = "type")]
    #[schema(schema_with = entity_types)]
    pub entity_type: EntityType,
    #[schema(schema_with = access_modes)]
    pub access_mod: AccessMod,
    #[schema(schema_with = value_types)]
    pub value_type: ValueType,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub value_attribute: ValueAttribute,
    /// The children of an OBJECT entity, in the same shape.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub children: Vec<EntityDefinition>,
}

fn entity_types() -> RefOr<Schema> {
    one_of(EntityType::ALL.iter().map(serde_name))
}

fn access_modes() -> RefOr<Schema> {
    one_of(AccessMod::ALL.iter().map(serde_name))
}

fn value_types() -> RefOr<Schema> {
    one_of(ValueType::ALL.map(ValueType::as_str))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedEntity {
    #[schema(value_type = IdText)]
    pub entity_id: Id,
    pub entity_key: String,
}

#[utoipa::path(tag = "entities", request_body = CreateEntityRequest, security(("bearer" = [])), responses((status = 200, body = Envelope<CreatedEntity>), Refusals))]
#[post("/entity")]
pub async fn create(
    state: State,
    viewer: IotViewer,
    body: Body<CreateEntityRequest>,
) -> Result<Success<CreatedEntity>, NativeError> {
    let b = body.0;
    let def = EntityDefinition {
        identifier: b.identifier,
        name: b.name,
        entity_type: b.entity_type,
        access_mod: b.access_mod,
        value_type: b.value_type,
        value_attribute: b.value_attribute,
        children: b.children,
    };
    let entity = blocking(move || state.iot.create_custom_entity(&viewer.0, def)).await?;
    Ok(Success(CreatedEntity {
        entity_id: entity.id,
        entity_key: entity.key,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateEntityRequest {
    pub name: String,
    /// The new attributes; absent, the stored ones stay (a rename alone).
    #[schema(value_type = Option<Object>)]
    pub value_attribute: Option<ValueAttribute>,
}

#[utoipa::path(tag = "entities", request_body = UpdateEntityRequest, security(("bearer" = [])), responses((status = 200, body = Envelope<Empty>), Refusals))]
#[put("/entity/{entity_id}")]
pub async fn update(
    state: State,
    viewer: IotViewer,
    path: web::Path<String>,
    body: Body<UpdateEntityRequest>,
) -> Result<Success<Empty>, NativeError> {
    let id = path_id("entity_id", &path)?;
    let b = body.0;
    blocking(move || {
        state
            .iot
            .update_custom_entity(&viewer.0, id, &b.name, b.value_attribute)
    })
    .await?;
    Ok(Success(Empty {}))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DeleteEntitiesRequest {
    /// 1 to 1000 custom entity ids; all are deleted or none.
    #[schema(value_type = Vec<IdText>)]
    pub entity_ids: Vec<Id>,
}

#[utoipa::path(tag = "entities", request_body = DeleteEntitiesRequest, security(("bearer" = [])), responses((status = 200, body = Envelope<Empty>), Refusals))]
#[post("/entity/delete")]
pub async fn delete(
    state: State,
    viewer: IotViewer,
    body: Body<DeleteEntitiesRequest>,
) -> Result<Success<Empty>, NativeError> {
    blocking(move || {
        state
            .iot
            .delete_custom_entities(&viewer.0, &body.0.entity_ids)
    })
    .await?;
    Ok(Success(Empty {}))
}
