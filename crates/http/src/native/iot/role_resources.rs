//! What a role reaches in the IoT: its integrations, devices and dashboards, and the ones
//! it does not reach yet (`undistributed-*`). Role management is for the super admin.
//! Each list answers the plain list (`{keyword}`), or one page of it when the body names
//! `page_number` or `page_size` (the web console's form).

use actix_web::{post, web};
use serde::Serialize;
use utoipa::ToSchema;
use weir_identity::{Principal, ResourceType};
use weir_iot::IotService;
use weir_iot::errors::IotError;
use weir_iot::ports::{Dashboard, Device, VisibleSet};
use weir_iot::service::IntegrationSummary;
use weir_kernel::Id;

use crate::native::dto::{ListRequest, Listed, Listing, PageDto, Time};
use crate::native::envelope::{Envelope, NativeError, Refusals, Success};
use crate::native::extract::{Body, Caller, State, blocking, path_id};
use crate::openapi::IdText;

/// What the role reaches, after checking the caller may manage roles.
async fn reach(state: &State, p: &Principal, role: &str) -> Result<VisibleSet, NativeError> {
    let id = path_id("role_id", role)?;
    let (identity, p) = (state.identity.clone(), p.clone());
    let grants = blocking(move || identity.role_resources(&p, id, None)).await?;
    let mut reach = VisibleSet::default();
    for g in grants {
        match g.resource_type {
            ResourceType::Integration => reach.integrations.push(g.resource_id),
            ResourceType::Device => reach.devices.extend(g.resource_id.parse::<Id>().ok()),
            ResourceType::Dashboard => reach.dashboards.extend(g.resource_id.parse::<Id>().ok()),
            _ => {}
        }
    }
    Ok(reach)
}

/// The list a use-case makes, whole or the page the request asks for.
async fn listed<T: Send + 'static>(
    state: &State,
    listing: Listing,
    list: impl Fn(&IotService, Option<&str>) -> Result<Vec<T>, IotError> + Send + 'static,
) -> Result<Listed<T>, NativeError> {
    let iot = state.iot.clone();
    Ok(match listing {
        Listing::All(keyword) => {
            Listed::List(blocking(move || list(&iot, keyword.as_deref())).await?)
        }
        Listing::Page(q) => {
            let page = blocking(move || iot.page_of_list(&q, |k| list(&iot, k))).await?;
            Listed::Page(PageDto::from_page(page, |x| x))
        }
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleIntegrationDto {
    pub integration_id: String,
    pub integration_name: String,
    pub device_num: i64,
    pub entity_num: i64,
}

async fn integration_rows(
    _: &State,
    _: Principal,
    _: &VisibleSet,
    found: Listed<IntegrationSummary>,
) -> Result<Listed<RoleIntegrationDto>, NativeError> {
    Ok(found.map(|s| RoleIntegrationDto {
        integration_id: s.info.id.clone(),
        integration_name: s.info.name.clone(),
        device_num: s.device_count,
        entity_num: s.entity_count,
    }))
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

/// Devices with their integration's name, and whether the role reaches them through it.
async fn device_rows(
    state: &State,
    _: Principal,
    reach: &VisibleSet,
    found: Listed<Device>,
) -> Result<Listed<RoleDeviceDto>, NativeError> {
    Ok(found.map(|d| RoleDeviceDto {
        integration_name: state
            .iot
            .registry()
            .get(&d.integration)
            .map_or_else(|| d.integration.clone(), |i| i.info().name.clone()),
        role_integration: reach.integrations.contains(&d.integration),
        device_id: d.id,
        device_name: d.name,
        created_at: d.created_at,
        integration_id: d.integration,
    }))
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

/// Dashboards with their creators' names.
async fn dashboard_rows(
    state: &State,
    p: Principal,
    _: &VisibleSet,
    found: Listed<Dashboard>,
) -> Result<Listed<RoleDashboardDto>, NativeError> {
    let creators: Vec<Id> = found.items().iter().filter_map(|d| d.user_id).collect();
    let identity = state.identity.clone();
    let users = blocking(move || identity.members_by_ids(&p, &creators)).await?;
    Ok(found.map(|d| {
        let user = d.user_id.and_then(|u| users.iter().find(|x| x.id == u));
        RoleDashboardDto {
            dashboard_id: d.id,
            dashboard_name: d.name,
            created_at: d.created_at,
            user_id: d.user_id,
            user_email: user.map(|u| u.email_or_username().to_owned()),
            user_nickname: user.map(|u| u.nickname.clone()),
        }
    }))
}

/// The role's lists: `POST /user/roles/{role_id}/<route>` with a [`ListRequest`], through
/// the IoT use-case named, keeping what the role reaches (`true`) or what it does not
/// (`false`), answered as rows by the function named (each takes the caller, the
/// role's reach and what was found, using what its rows need). They differ in nothing else, so they
/// are written once.
macro_rules! role_lists {
    ($($(#[$doc:meta])* $name:ident($route:tt, $granted:expr, $use_case:ident, $rows:ident, $dto:ty);)*) => {$(
        $(#[$doc])*
        #[utoipa::path(
            tag = "roles",
            request_body = ListRequest,
            security(("bearer" = [])),
            responses((status = 200, body = Envelope<Listed<$dto>>), Refusals)
        )]
        #[post($route)]
        pub async fn $name(
            state: State,
            caller: Caller,
            path: web::Path<String>,
            body: Body<ListRequest>,
        ) -> Result<Success<Listed<$dto>>, NativeError> {
            let p = caller.0;
            let reach = reach(&state, &p, &path).await?;
            let (tenant, kept) = (p.tenant_id.clone(), reach.clone());
            let found = listed(&state, body.0.listing(), move |iot, keyword| {
                iot.$use_case(&tenant, &kept, $granted, keyword)
            })
            .await?;
            Ok(Success($rows(&state, p, &reach, found).await?))
        }
    )*};
}

role_lists! {
    /// The integrations the role was granted.
    role_integrations("/user/roles/{role_id}/integrations", true, role_integrations,
        integration_rows, RoleIntegrationDto);
    /// The integrations the role was not granted.
    undistributed_integrations("/user/roles/{role_id}/undistributed-integrations", false,
        role_integrations, integration_rows, RoleIntegrationDto);
    /// The devices the role reaches, itself or through their integration.
    role_devices("/user/roles/{role_id}/devices", true, role_devices,
        device_rows, RoleDeviceDto);
    /// The devices the role does not reach.
    undistributed_devices("/user/roles/{role_id}/undistributed-devices", false, role_devices,
        device_rows, RoleDeviceDto);
    /// The dashboards the role was granted.
    role_dashboards("/user/roles/{role_id}/dashboards", true, role_dashboards,
        dashboard_rows, RoleDashboardDto);
    /// The dashboards the role was not granted.
    undistributed_dashboards("/user/roles/{role_id}/undistributed-dashboards", false,
        role_dashboards, dashboard_rows, RoleDashboardDto);
}
