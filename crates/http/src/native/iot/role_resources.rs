//! What a role reaches in the IoT: its integrations, devices and dashboards, and the ones
//! it does not reach yet (`undistributed-*`). Role management is for the super admin.

use std::collections::BTreeSet;

use actix_web::{post, web};
use serde::Serialize;
use utoipa::ToSchema;
use weir_identity::{Principal, ResourceType};
use weir_iot::ports::{Dashboard, Device, VisibleSet};
use weir_iot::{Limits, Viewer};
use weir_kernel::{Id, SearchQuery};

use crate::native::dto::{KeywordRequest, Time};
use crate::native::envelope::{Envelope, NativeError, Refusals, Success};
use crate::native::extract::{Body, Caller, State, blocking, path_id};
use crate::openapi::IdText;

/// The role's grants of one kind, after checking the caller may manage roles.
async fn grants(
    state: &State,
    p: &Principal,
    role: &str,
    kind: ResourceType,
) -> Result<BTreeSet<String>, NativeError> {
    let id = path_id("role_id", role)?;
    let (identity, p) = (state.identity.clone(), p.clone());
    let items = blocking(move || identity.role_resources(&p, id, Some(kind))).await?;
    Ok(items.into_iter().map(|r| r.resource_id).collect())
}

fn matches(keyword: &Option<String>, name: &str) -> bool {
    keyword
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .is_none_or(|k| name.to_lowercase().contains(&k.to_lowercase()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleIntegrationDto {
    pub integration_id: String,
    pub integration_name: String,
    pub device_num: i64,
    pub entity_num: i64,
}

async fn integrations(
    state: State,
    caller: Caller,
    role: &str,
    keyword: Option<String>,
    granted: bool,
) -> Result<Vec<RoleIntegrationDto>, NativeError> {
    let p = caller.0;
    let ids = grants(&state, &p, role, ResourceType::Integration).await?;
    let all = blocking(move || {
        state
            .iot
            .integrations(&Viewer::system(p.tenant_id), None, None)
    })
    .await?;
    Ok(all
        .into_iter()
        .filter(|s| ids.contains(&s.info.id) == granted && matches(&keyword, &s.info.name))
        .map(|s| RoleIntegrationDto {
            integration_id: s.info.id.clone(),
            integration_name: s.info.name.clone(),
            device_num: s.device_count,
            entity_num: s.entity_count,
        })
        .collect())
}

/// The integrations the role was granted.
#[utoipa::path(tag = "roles", request_body = KeywordRequest, security(("bearer" = [])), responses((status = 200, body = Envelope<Vec<RoleIntegrationDto>>), Refusals))]
#[post("/user/roles/{role_id}/integrations")]
pub async fn role_integrations(
    state: State,
    caller: Caller,
    path: web::Path<String>,
    body: Body<KeywordRequest>,
) -> Result<Success<Vec<RoleIntegrationDto>>, NativeError> {
    integrations(state, caller, &path, body.0.keyword, true)
        .await
        .map(Success)
}

/// The integrations the role was not granted.
#[utoipa::path(tag = "roles", request_body = KeywordRequest, security(("bearer" = [])), responses((status = 200, body = Envelope<Vec<RoleIntegrationDto>>), Refusals))]
#[post("/user/roles/{role_id}/undistributed-integrations")]
pub async fn undistributed_integrations(
    state: State,
    caller: Caller,
    path: web::Path<String>,
    body: Body<KeywordRequest>,
) -> Result<Success<Vec<RoleIntegrationDto>>, NativeError> {
    integrations(state, caller, &path, body.0.keyword, false)
        .await
        .map(Success)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleDeviceDto {
    #[schema(value_type = IdText)]
    pub device_id: Id,
    pub device_name: String,
    pub created_at: Time,
    pub integration_id: String,
    pub integration_name: String,
    /// Reached through a grant of its integration rather than of the device itself.
    pub role_integration: bool,
}

/// Most devices one of these lists shows.
const LIST_MAX: i64 = 1000;

async fn devices(
    state: State,
    caller: Caller,
    role: &str,
    keyword: Option<String>,
    granted: bool,
) -> Result<Vec<RoleDeviceDto>, NativeError> {
    let p = caller.0;
    let by_integration = grants(&state, &p, role, ResourceType::Integration).await?;
    let by_device: Vec<Id> = grants(&state, &p, role, ResourceType::Device)
        .await?
        .iter()
        .filter_map(|i| i.parse().ok())
        .collect();
    let reach = VisibleSet {
        integrations: by_integration.iter().cloned().collect(),
        devices: by_device,
        ..Default::default()
    };
    let tenant = p.tenant_id.clone();
    let iot = state.clone();
    let query = SearchQuery {
        keyword,
        page_size: Some(LIST_MAX),
        ..Default::default()
    };
    let found: Vec<Device> = blocking(move || {
        let everything = Viewer::system(tenant.clone());
        let role_view = Viewer::limited(
            tenant,
            Limits {
                functions: BTreeSet::from(["device.view".to_owned()]),
                grants: reach,
            },
        );
        let all = iot.iot.search_devices(&everything, &query)?.content;
        Ok::<_, weir_iot::errors::IotError>(
            all.into_iter()
                .filter(|d| role_view.sees_device(d) == granted)
                .collect(),
        )
    })
    .await?;
    Ok(found
        .into_iter()
        .map(|d| RoleDeviceDto {
            integration_name: state
                .iot
                .registry()
                .get(&d.integration)
                .map_or_else(|| d.integration.clone(), |i| i.info().name.clone()),
            role_integration: by_integration.contains(&d.integration),
            device_id: d.id,
            device_name: d.name,
            created_at: d.created_at,
            integration_id: d.integration,
        })
        .collect())
}

/// The devices the role reaches, itself or through their integration.
#[utoipa::path(tag = "roles", request_body = KeywordRequest, security(("bearer" = [])), responses((status = 200, body = Envelope<Vec<RoleDeviceDto>>), Refusals))]
#[post("/user/roles/{role_id}/devices")]
pub async fn role_devices(
    state: State,
    caller: Caller,
    path: web::Path<String>,
    body: Body<KeywordRequest>,
) -> Result<Success<Vec<RoleDeviceDto>>, NativeError> {
    devices(state, caller, &path, body.0.keyword, true)
        .await
        .map(Success)
}

/// The devices the role does not reach.
#[utoipa::path(tag = "roles", request_body = KeywordRequest, security(("bearer" = [])), responses((status = 200, body = Envelope<Vec<RoleDeviceDto>>), Refusals))]
#[post("/user/roles/{role_id}/undistributed-devices")]
pub async fn undistributed_devices(
    state: State,
    caller: Caller,
    path: web::Path<String>,
    body: Body<KeywordRequest>,
) -> Result<Success<Vec<RoleDeviceDto>>, NativeError> {
    devices(state, caller, &path, body.0.keyword, false)
        .await
        .map(Success)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleDashboardDto {
    #[schema(value_type = IdText)]
    pub dashboard_id: Id,
    pub dashboard_name: String,
    pub created_at: Time,
    /// Who created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<IdText>)]
    pub user_id: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_nickname: Option<String>,
}

async fn dashboards(
    state: State,
    caller: Caller,
    role: &str,
    keyword: Option<String>,
    granted: bool,
) -> Result<Vec<RoleDashboardDto>, NativeError> {
    let p = caller.0;
    let ids = grants(&state, &p, role, ResourceType::Dashboard).await?;
    let iot = state.clone();
    let tenant = p.tenant_id.clone();
    let all: Vec<Dashboard> = blocking(move || iot.iot.dashboards(&Viewer::system(tenant))).await?;
    let picked: Vec<Dashboard> = all
        .into_iter()
        .filter(|d| ids.contains(&d.id.to_string()) == granted && matches(&keyword, &d.name))
        .collect();
    let creators: Vec<Id> = picked.iter().filter_map(|d| d.user_id).collect();
    let identity = state.identity.clone();
    let users = blocking(move || identity.members_by_ids(&p, &creators)).await?;
    Ok(picked
        .into_iter()
        .map(|d| {
            let user = d.user_id.and_then(|u| users.iter().find(|x| x.id == u));
            RoleDashboardDto {
                dashboard_id: d.id,
                dashboard_name: d.name,
                created_at: d.created_at,
                user_id: d.user_id,
                user_email: user.map(|u| u.email_or_username().to_owned()),
                user_nickname: user.map(|u| u.nickname.clone()),
            }
        })
        .collect())
}

/// The dashboards the role was granted.
#[utoipa::path(tag = "roles", request_body = KeywordRequest, security(("bearer" = [])), responses((status = 200, body = Envelope<Vec<RoleDashboardDto>>), Refusals))]
#[post("/user/roles/{role_id}/dashboards")]
pub async fn role_dashboards(
    state: State,
    caller: Caller,
    path: web::Path<String>,
    body: Body<KeywordRequest>,
) -> Result<Success<Vec<RoleDashboardDto>>, NativeError> {
    dashboards(state, caller, &path, body.0.keyword, true)
        .await
        .map(Success)
}

/// The dashboards the role was not granted.
#[utoipa::path(tag = "roles", request_body = KeywordRequest, security(("bearer" = [])), responses((status = 200, body = Envelope<Vec<RoleDashboardDto>>), Refusals))]
#[post("/user/roles/{role_id}/undistributed-dashboards")]
pub async fn undistributed_dashboards(
    state: State,
    caller: Caller,
    path: web::Path<String>,
    body: Body<KeywordRequest>,
) -> Result<Success<Vec<RoleDashboardDto>>, NativeError> {
    dashboards(state, caller, &path, body.0.keyword, false)
        .await
        .map(Success)
}
