//! Flows: `POST /workflow/flows/search`, `PUT /workflow/flows/{flow_id}`,
//! `POST /workflow/flows/batch-delete`, `GET /workflow/flows/{flow_id}/enable` and
//! `GET /workflow/flows/{flow_id}/disable`.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::{get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use weir_kernel::Id;
use weir_workflow::Flow;

use super::WorkflowCaller;
use crate::native::dto::{PageDto, Time, page_query};
use crate::native::envelope::{Empty, Envelope, NativeError, Refusals, Success};
use crate::native::extract::{Body, State, blocking, path_id};
use crate::openapi::IdText;

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct FlowSearch {
    /// Matched, case-insensitively, as a substring of the name.
    pub name: Option<String>,
    /// From 1; default 1.
    pub page_number: Option<i64>,
    /// Default 10; capped at the configured maximum.
    pub page_size: Option<i64>,
    /// Only the enabled flows (`ENABLE`) or the disabled ones (`DISABLE`), in any case (the
    /// web console spells them `enable` and `disable`); absent or empty for both.
    #[schema(example = "ENABLE")]
    pub status: Option<String>,
}

/// What every answer about one flow starts with.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlowHead {
    #[schema(value_type = IdText)]
    pub id: Id,
    pub name: String,
    pub remark: String,
    pub enabled: bool,
}

/// A flow as the list shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlowDto {
    #[serde(flatten)]
    pub head: FlowHead,
    /// The number of the newest saved design.
    pub version: i64,
    /// Who created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<IdText>)]
    pub user_id: Option<Id>,
    /// The creator's nickname; empty when it is not known to the caller (see
    /// docs/native-api.md).
    pub user_nickname: String,
    pub created_at: Time,
    pub updated_at: Time,
}

fn flow_dto(f: Flow, nicknames: &BTreeMap<Id, String>) -> FlowDto {
    FlowDto {
        user_nickname: f
            .user_id
            .and_then(|u| nicknames.get(&u).cloned())
            .unwrap_or_default(),
        head: FlowHead {
            id: f.id,
            name: f.name,
            remark: f.remark,
            enabled: f.enabled,
        },
        version: f.version,
        user_id: f.user_id,
        created_at: f.created_at,
        updated_at: f.updated_at,
    }
}

/// The flows the caller may see (granted to their roles, or created by them), newest
/// first, only the enabled or disabled ones when `status` says so. Needs `workflow.view`.
#[utoipa::path(
    tag = "workflows",
    request_body = FlowSearch,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<PageDto<FlowDto>>), Refusals)
)]
#[post("/workflow/flows/search")]
pub async fn search(
    state: State,
    who: WorkflowCaller,
    body: Body<FlowSearch>,
) -> Result<Success<PageDto<FlowDto>>, NativeError> {
    let b = body.0;
    let query = page_query(b.name, b.page_number, b.page_size);
    let status = b.status;
    let (page, nicknames) = blocking(move || -> Result<_, NativeError> {
        let page = state
            .workflow
            .search_by_status(&who.caller, &query, status.as_deref())?;
        // One query for the page's creators.
        let creators: BTreeSet<Id> = page.content.iter().filter_map(|f| f.user_id).collect();
        let creators: Vec<Id> = creators.into_iter().collect();
        let nicknames = if creators.is_empty() {
            BTreeMap::new()
        } else {
            state.identity.nicknames(&who.principal, &creators)?
        };
        Ok((page, nicknames))
    })
    .await?;
    Ok(Success(PageDto::from_page(page, |f| {
        flow_dto(f, &nicknames)
    })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RenameFlow {
    /// 1 to 64 characters.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// At most 512 characters; may be empty.
    #[schema(max_length = 512)]
    pub remark: String,
}

/// Renames a flow and replaces its remark; its design, version and state stay. Needs
/// `workflow.edit`.
#[utoipa::path(
    tag = "workflows",
    request_body = RenameFlow,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Empty>), Refusals)
)]
#[put("/workflow/flows/{flow_id}")]
pub async fn rename(
    state: State,
    who: WorkflowCaller,
    path: web::Path<String>,
    body: Body<RenameFlow>,
) -> Result<Success<Empty>, NativeError> {
    let id = path_id("flow_id", &path)?;
    let b = body.0;
    blocking(move || {
        state
            .workflow
            .rename(&who.caller, id, &b.name, Some(&b.remark))
    })
    .await?;
    Ok(Success(Empty {}))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DeleteFlows {
    /// 1 to 1000 flow ids; all of them are deleted, or none.
    #[schema(value_type = Vec<IdText>)]
    pub workflow_id_list: Vec<Id>,
}

/// Deletes flows with every saved version, all or nothing. Needs `workflow.delete`.
#[utoipa::path(
    tag = "workflows",
    request_body = DeleteFlows,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Empty>), Refusals)
)]
#[post("/workflow/flows/batch-delete")]
pub async fn batch_delete(
    state: State,
    who: WorkflowCaller,
    body: Body<DeleteFlows>,
) -> Result<Success<Empty>, NativeError> {
    let ids = body.0.workflow_id_list;
    blocking(move || state.workflow.delete(&who.caller, &ids)).await?;
    Ok(Success(Empty {}))
}

async fn set_enabled(
    state: State,
    who: WorkflowCaller,
    path: &str,
    enabled: bool,
) -> Result<Success<Empty>, NativeError> {
    let id = path_id("flow_id", path)?;
    blocking(move || state.workflow.set_enabled(&who.caller, id, enabled)).await?;
    Ok(Success(Empty {}))
}

/// Enables a flow (enabling an enabled flow changes nothing). Needs `workflow.edit`.
#[utoipa::path(
    tag = "workflows",
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Empty>), Refusals)
)]
#[get("/workflow/flows/{flow_id}/enable")]
pub async fn enable(
    state: State,
    who: WorkflowCaller,
    path: web::Path<String>,
) -> Result<Success<Empty>, NativeError> {
    set_enabled(state, who, &path, true).await
}

/// Disables a flow (disabling a disabled flow changes nothing). Needs `workflow.edit`.
#[utoipa::path(
    tag = "workflows",
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Empty>), Refusals)
)]
#[get("/workflow/flows/{flow_id}/disable")]
pub async fn disable(
    state: State,
    who: WorkflowCaller,
    path: web::Path<String>,
) -> Result<Success<Empty>, NativeError> {
    set_enabled(state, who, &path, false).await
}
