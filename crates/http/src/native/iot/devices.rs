//! Devices: `POST /device`, `POST /device/search`, `PUT /device/{id}`, `GET /device/{id}`,
//! `POST /device/batch-delete`.

use actix_web::{get, post, put, web};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use utoipa::ToSchema;
use weir_iot::ports::Device;
use weir_kernel::Id;

use super::{EntityDto, IotViewer};
use crate::native::dto::{PageDto, Time, page_query};
use crate::native::envelope::{Empty, Envelope, NativeError, Refusals, Success};
use crate::native::extract::{Body, State, blocking, path_id};
use crate::openapi::IdText;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateDeviceRequest {
    /// 1 to 64 characters.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// The integration's id.
    pub integration: String,
    /// Values of the integration's add-device parameters, by parameter identifier.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub param_entities: Map<String, Json>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedDevice {
    #[schema(value_type = IdText)]
    pub device_id: Id,
}

/// Adds a device through its integration's add-device service.
#[utoipa::path(
    tag = "devices",
    request_body = CreateDeviceRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<CreatedDevice>), Refusals)
)]
#[post("/device")]
pub async fn create(
    state: State,
    viewer: IotViewer,
    body: Body<CreateDeviceRequest>,
) -> Result<Success<CreatedDevice>, NativeError> {
    let b = body.0;
    let device = blocking(move || {
        state
            .iot
            .create_device(&viewer.0, &b.name, &b.integration, &b.param_entities)
    })
    .await?;
    Ok(Success(CreatedDevice {
        device_id: device.id,
    }))
}

/// A device as lists show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceDto {
    #[schema(value_type = IdText)]
    pub id: Id,
    /// `{integration}.device.{identifier}`.
    pub key: String,
    pub name: String,
    pub integration: String,
    pub integration_name: String,
    pub identifier: String,
    #[schema(value_type = Object)]
    pub additional_data: Map<String, Json>,
    pub created_at: Time,
    pub updated_at: Time,
    /// Whether its integration can delete it.
    pub deletable: bool,
}

fn device_dto(state: &State, d: Device) -> DeviceDto {
    let info = state.iot.registry().get(&d.integration).map(|i| i.info());
    DeviceDto {
        key: format!("{}.device.{}", d.integration, d.identifier),
        integration_name: info.map_or_else(|| d.integration.clone(), |i| i.name.clone()),
        deletable: info.is_some_and(|i| i.delete_device.is_some()),
        id: d.id,
        name: d.name,
        integration: d.integration,
        identifier: d.identifier,
        additional_data: d.additional,
        created_at: d.created_at,
        updated_at: d.updated_at,
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct DeviceSearch {
    /// Matched, case-insensitively, as a substring of the name.
    pub name: Option<String>,
    pub page_number: Option<i64>,
    pub page_size: Option<i64>,
}

/// Devices the caller may see, newest first.
#[utoipa::path(
    tag = "devices",
    request_body = DeviceSearch,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<PageDto<DeviceDto>>), Refusals)
)]
#[post("/device/search")]
pub async fn search(
    state: State,
    viewer: IotViewer,
    body: Body<DeviceSearch>,
) -> Result<Success<PageDto<DeviceDto>>, NativeError> {
    let b = body.0;
    let query = page_query(b.name, b.page_number, b.page_size);
    let iot = state.clone();
    let page = blocking(move || iot.iot.search_devices(&viewer.0, &query)).await?;
    Ok(Success(PageDto::from_page(page, |d| device_dto(&state, d))))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RenameDevice {
    /// 1 to 64 characters.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
}

#[utoipa::path(
    tag = "devices",
    request_body = RenameDevice,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Empty>), Refusals)
)]
#[put("/device/{device_id}")]
pub async fn rename(
    state: State,
    viewer: IotViewer,
    path: web::Path<String>,
    body: Body<RenameDevice>,
) -> Result<Success<Empty>, NativeError> {
    let id = path_id("device_id", &path)?;
    blocking(move || state.iot.rename_device(&viewer.0, id, &body.0.name)).await?;
    Ok(Success(Empty {}))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceDetails {
    #[serde(flatten)]
    pub device: DeviceDto,
    pub entities: Vec<EntityDto>,
}

/// A device with the entities of it the caller may see.
#[utoipa::path(
    tag = "devices",
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<DeviceDetails>), Refusals)
)]
#[get("/device/{device_id}")]
pub async fn details(
    state: State,
    viewer: IotViewer,
    path: web::Path<String>,
) -> Result<Success<DeviceDetails>, NativeError> {
    let id = path_id("device_id", &path)?;
    let iot = state.clone();
    let (device, entities) = blocking(move || iot.iot.device_details(&viewer.0, id)).await?;
    Ok(Success(DeviceDetails {
        device: device_dto(&state, device),
        entities: entities.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchDeleteDevices {
    /// 1 to 1000 device ids; all are deleted or none.
    #[schema(value_type = Vec<IdText>)]
    pub device_id_list: Vec<Id>,
}

#[utoipa::path(
    tag = "devices",
    request_body = BatchDeleteDevices,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Empty>), Refusals)
)]
#[post("/device/batch-delete")]
pub async fn batch_delete(
    state: State,
    viewer: IotViewer,
    body: Body<BatchDeleteDevices>,
) -> Result<Success<Empty>, NativeError> {
    blocking(move || state.iot.delete_devices(&viewer.0, &body.0.device_id_list)).await?;
    Ok(Success(Empty {}))
}
