//! Dashboards: `POST /dashboard`, `PUT /dashboard/{id}`, `DELETE /dashboard/{id}`,
//! `GET /dashboard/dashboards`; one widget at a time: `POST /dashboard/{id}/widget`,
//! `PUT /dashboard/{id}/widget/{widget_id}`, `DELETE /dashboard/{id}/widget/{widget_id}`.

use actix_web::{delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use utoipa::ToSchema;
use weir_iot::ports::Dashboard;
use weir_iot::service::WidgetInput;
use weir_kernel::Id;

use super::IotViewer;
use crate::native::dto::Time;
use crate::native::envelope::{Empty, Envelope, NativeError, Refusals, Success};
use crate::native::extract::{Body, State, blocking, path_id};
use crate::openapi::IdText;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateDashboard {
    /// 1 to 64 characters, unique in the tenant.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedDashboard {
    #[schema(value_type = IdText)]
    pub dashboard_id: Id,
}

#[utoipa::path(tag = "dashboards", request_body = CreateDashboard, security(("bearer" = [])), responses((status = 200, body = Envelope<CreatedDashboard>), Refusals))]
#[post("/dashboard")]
pub async fn create(
    state: State,
    viewer: IotViewer,
    body: Body<CreateDashboard>,
) -> Result<Success<CreatedDashboard>, NativeError> {
    let d = blocking(move || state.iot.create_dashboard(&viewer.0, &body.0.name)).await?;
    Ok(Success(CreatedDashboard { dashboard_id: d.id }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WidgetDto {
    pub widget_id: String,
    /// What the console draws; kept as given.
    #[schema(value_type = Object)]
    pub data: Map<String, Json>,
}

/// A widget of a dashboard update.
#[derive(Debug, Deserialize, ToSchema)]
pub struct WidgetUpdateDto {
    /// Absent (or null) for a new widget: the server gives it one.
    pub widget_id: Option<String>,
    /// The web console's temporary id of a new widget (epoch ms as text or a number);
    /// accepted and not kept.
    #[serde(default, rename = "tempId")]
    #[schema(value_type = Option<String>)]
    pub temp_id: Option<Json>,
    /// What the console draws; kept as given.
    #[schema(value_type = Object)]
    pub data: Map<String, Json>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateDashboard {
    /// 1 to 64 characters, unique in the tenant.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// Replaces every widget; at most 100, each `widget_id` once.
    pub widgets: Vec<WidgetUpdateDto>,
}

/// Renames a dashboard and replaces its widgets; widgets without `widget_id` are new.
#[utoipa::path(tag = "dashboards", request_body = UpdateDashboard, security(("bearer" = [])), responses((status = 200, body = Envelope<Empty>), Refusals))]
#[put("/dashboard/{dashboard_id}")]
pub async fn update(
    state: State,
    viewer: IotViewer,
    path: web::Path<String>,
    body: Body<UpdateDashboard>,
) -> Result<Success<Empty>, NativeError> {
    let id = path_id("dashboard_id", &path)?;
    let b = body.0;
    let widgets = b
        .widgets
        .into_iter()
        .map(|w| WidgetInput {
            widget_id: w.widget_id,
            data: w.data,
        })
        .collect();
    blocking(move || state.iot.update_dashboard(&viewer.0, id, &b.name, widgets)).await?;
    Ok(Success(Empty {}))
}

#[utoipa::path(tag = "dashboards", security(("bearer" = [])), responses((status = 200, body = Envelope<Empty>), Refusals))]
#[delete("/dashboard/{dashboard_id}")]
pub async fn delete_one(
    state: State,
    viewer: IotViewer,
    path: web::Path<String>,
) -> Result<Success<Empty>, NativeError> {
    let id = path_id("dashboard_id", &path)?;
    blocking(move || state.iot.delete_dashboard(&viewer.0, id)).await?;
    Ok(Success(Empty {}))
}

/// One widget, as the console's `addWidget` and `updateWidget` send it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct WidgetBody {
    /// What the console draws; kept as given.
    #[schema(value_type = Object)]
    pub data: Map<String, Json>,
    /// Ignored: the server gives a new widget its id, and the path names the one updated.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub widget_id: Option<Json>,
    /// The web console's temporary id of a new widget; accepted and not kept.
    #[serde(default, rename = "tempId")]
    #[schema(value_type = Option<String>)]
    pub temp_id: Option<Json>,
}

/// Adds a widget to the dashboard (it gets a new `widget_id`); the dashboard's other
/// widgets are kept. Needs `dashboard.edit`; at most 100 widgets a dashboard.
#[utoipa::path(tag = "dashboards", request_body = WidgetBody, security(("bearer" = [])), responses((status = 200, body = Envelope<WidgetDto>), Refusals))]
#[post("/dashboard/{dashboard_id}/widget")]
pub async fn add_widget(
    state: State,
    viewer: IotViewer,
    path: web::Path<String>,
    body: Body<WidgetBody>,
) -> Result<Success<WidgetDto>, NativeError> {
    let id = path_id("dashboard_id", &path)?;
    let data = body.0.data;
    let w = blocking(move || state.iot.add_widget(&viewer.0, id, data)).await?;
    Ok(Success(WidgetDto {
        widget_id: w.widget_id,
        data: w.data,
    }))
}

/// Replaces one widget's `data`; an unknown widget answers 404. Needs `dashboard.edit`.
#[utoipa::path(tag = "dashboards", request_body = WidgetBody, security(("bearer" = [])), responses((status = 200, body = Envelope<Empty>), Refusals))]
#[put("/dashboard/{dashboard_id}/widget/{widget_id}")]
pub async fn update_widget(
    state: State,
    viewer: IotViewer,
    path: web::Path<(String, String)>,
    body: Body<WidgetBody>,
) -> Result<Success<Empty>, NativeError> {
    let (dashboard, widget) = path.into_inner();
    let id = path_id("dashboard_id", &dashboard)?;
    let data = body.0.data;
    blocking(move || state.iot.update_widget(&viewer.0, id, &widget, data)).await?;
    Ok(Success(Empty {}))
}

/// Removes one widget; an unknown widget answers 404. Needs `dashboard.edit`.
#[utoipa::path(tag = "dashboards", security(("bearer" = [])), responses((status = 200, body = Envelope<Empty>), Refusals))]
#[delete("/dashboard/{dashboard_id}/widget/{widget_id}")]
pub async fn delete_widget(
    state: State,
    viewer: IotViewer,
    path: web::Path<(String, String)>,
) -> Result<Success<Empty>, NativeError> {
    let (dashboard, widget) = path.into_inner();
    let id = path_id("dashboard_id", &dashboard)?;
    blocking(move || state.iot.delete_widget(&viewer.0, id, &widget)).await?;
    Ok(Success(Empty {}))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardDto {
    #[schema(value_type = IdText)]
    pub dashboard_id: Id,
    /// Who created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<IdText>)]
    pub user_id: Option<Id>,
    pub name: String,
    pub widgets: Vec<WidgetDto>,
    pub created_at: Time,
    pub updated_at: Time,
}

impl From<Dashboard> for DashboardDto {
    fn from(d: Dashboard) -> Self {
        Self {
            dashboard_id: d.id,
            user_id: d.user_id,
            name: d.name,
            widgets: d
                .widgets
                .into_iter()
                .map(|w| WidgetDto {
                    widget_id: w.widget_id,
                    data: w.data,
                })
                .collect(),
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// The dashboards the caller may see (granted, or created by them), oldest first.
#[utoipa::path(tag = "dashboards", security(("bearer" = [])), responses((status = 200, body = Envelope<Vec<DashboardDto>>), Refusals))]
#[get("/dashboard/dashboards")]
pub async fn list(
    state: State,
    viewer: IotViewer,
) -> Result<Success<Vec<DashboardDto>>, NativeError> {
    let all = blocking(move || state.iot.dashboards(&viewer.0)).await?;
    Ok(Success(all.into_iter().map(Into::into).collect()))
}
