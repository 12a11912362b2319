//! `POST /integration/search` and `GET /integration/{id}`.

use actix_web::{get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use weir_iot::service::IntegrationSummary;

use super::{EntityDto, IotViewer};
use crate::native::envelope::{Envelope, NativeError, Refusals, Success};
use crate::native::extract::{Body, State, blocking};

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct IntegrationSearch {
    /// Only integrations that can (true) or cannot (false) add devices.
    pub device_addable: Option<bool>,
    /// Only integrations that can (true) or cannot (false) delete devices.
    pub device_deletable: Option<bool>,
}

/// An integration with its device and entity counts in the caller's tenant. The counts
/// keep the document's camelCase names.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationDto {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    pub name: String,
    pub description: String,
    /// The add-device service's entity key; absent when devices cannot be added.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub add_device_service_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_device_service_key: Option<String>,
    #[serde(rename = "deviceCount")]
    pub device_count: i64,
    #[serde(rename = "entityCount")]
    pub entity_count: i64,
}

impl From<IntegrationSummary> for IntegrationDto {
    fn from(s: IntegrationSummary) -> Self {
        let info = &s.info;
        Self {
            add_device_service_key: info.add_device.as_ref().map(|d| info.service_key(d)),
            delete_device_service_key: info.delete_device.as_ref().map(|d| info.service_key(d)),
            id: info.id.clone(),
            icon: info.icon.clone(),
            name: info.name.clone(),
            description: info.description.clone(),
            device_count: s.device_count,
            entity_count: s.entity_count,
        }
    }
}

#[utoipa::path(
    tag = "integrations",
    request_body = IntegrationSearch,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Vec<IntegrationDto>>), Refusals)
)]
#[post("/integration/search")]
pub async fn search(
    state: State,
    viewer: IotViewer,
    body: Body<IntegrationSearch>,
) -> Result<Success<Vec<IntegrationDto>>, NativeError> {
    let b = body.0;
    let found = blocking(move || {
        state
            .iot
            .integrations(&viewer.0, b.device_addable, b.device_deletable)
    })
    .await?;
    Ok(Success(found.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationDetails {
    #[serde(flatten)]
    pub integration: IntegrationDto,
    pub integration_entities: Vec<EntityDto>,
}

#[utoipa::path(
    tag = "integrations",
    security(("bearer" = [])),
    params(("integration_id" = String, Path, description = "The integration's name: `http-device`, `mqtt-device`, `demo`...")),
    responses((status = 200, body = Envelope<IntegrationDetails>), Refusals)
)]
#[get("/integration/{integration_id}")]
pub async fn details(
    state: State,
    viewer: IotViewer,
    path: web::Path<String>,
) -> Result<Success<IntegrationDetails>, NativeError> {
    let id = path.into_inner();
    let (summary, entities) = blocking(move || state.iot.integration(&viewer.0, &id)).await?;
    Ok(Success(IntegrationDetails {
        integration: summary.into(),
        integration_entities: entities.into_iter().map(Into::into).collect(),
    }))
}
