//! `POST /entity/form`: the forms of properties' and services' values, what a client fills
//! before `POST /entity/property/update` or `POST /entity/service/call`.

use actix_web::post;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use weir_iot::ports::Entity;
use weir_iot::service::EntityForm;
use weir_iot::{AccessMod, EntityType, ValueType};
use weir_kernel::Id;

use super::IotViewer;
use crate::native::envelope::{Envelope, NativeError, Refusals, Success};
use crate::native::extract::{Body, State, blocking};
use crate::openapi::IdText;

#[derive(Debug, Deserialize, ToSchema)]
pub struct EntityFormRequest {
    /// 1 to 100 ids of properties or services the caller may see.
    #[schema(value_type = Vec<IdText>)]
    pub entity_id_list: Vec<Id>,
}

/// One field of a form: one key of the `exchange` the write or call sends.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntityFormField {
    #[schema(value_type = IdText)]
    pub entity_id: Id,
    /// The field's name in `exchange`: the entity's full key.
    pub key: String,
    pub name: String,
    #[schema(value_type = String)]
    pub value_type: ValueType,
    #[schema(value_type = String)]
    pub access_mod: AccessMod,
    /// False when the entity's `value_attribute.optional` is true.
    pub required: bool,
    /// The value's rules: `min`, `max`, `min_length`, `max_length`, `fraction_digits`,
    /// `format`, `enum` (value to label), `default_value`, `unit`, `optional`.
    #[schema(value_type = Object)]
    pub value_attribute: weir_iot::ValueAttribute,
}

/// The form of one property or service.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntityFormDto {
    #[schema(value_type = IdText)]
    pub entity_id: Id,
    pub entity_key: String,
    pub entity_name: String,
    #[schema(value_type = String)]
    pub entity_type: EntityType,
    #[schema(value_type = String)]
    pub entity_access_mod: AccessMod,
    #[schema(value_type = String)]
    pub entity_value_type: ValueType,
    /// An OBJECT entity's children (those the caller sees), else the entity itself.
    pub fields: Vec<EntityFormField>,
}

fn field(e: Entity) -> EntityFormField {
    let d = e.definition;
    EntityFormField {
        entity_id: e.id,
        key: e.key,
        name: d.name,
        value_type: d.value_type,
        access_mod: d.access_mod,
        required: d.value_attribute.optional != Some(true),
        value_attribute: d.value_attribute,
    }
}

impl From<EntityForm> for EntityFormDto {
    fn from(f: EntityForm) -> Self {
        let e = f.entity;
        let d = e.definition;
        Self {
            entity_id: e.id,
            entity_key: e.key,
            entity_name: d.name,
            entity_type: d.entity_type,
            entity_access_mod: d.access_mod,
            entity_value_type: d.value_type,
            fields: f.fields.into_iter().map(field).collect(),
        }
    }
}

/// The forms of the named properties and services, in the order asked: each with the
/// fields its write or call fills. Needs `entity_data.view`; an entity the caller does
/// not see answers 404, an event (it takes no values) 400.
#[utoipa::path(tag = "entities", request_body = EntityFormRequest, security(("bearer" = [])), responses((status = 200, body = Envelope<Vec<EntityFormDto>>), Refusals))]
#[post("/entity/form")]
pub async fn forms(
    state: State,
    viewer: IotViewer,
    body: Body<EntityFormRequest>,
) -> Result<Success<Vec<EntityFormDto>>, NativeError> {
    let ids = body.0.entity_id_list;
    let forms = blocking(move || state.iot.entity_forms(&viewer.0, &ids)).await?;
    Ok(Success(forms.into_iter().map(Into::into).collect()))
}
