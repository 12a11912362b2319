//! Designs: `POST /workflow/flows/design` (save), `GET /workflow/flows/{flow_id}/design`
//! (read one version) and `POST /workflow/flows/design/validate`.

use actix_web::{get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use weir_kernel::Id;
use weir_workflow::caller::functions;
use weir_workflow::{SaveDesign, parse_and_validate};

use super::WorkflowCaller;
use super::flows::FlowHead;
use crate::native::dto::Time;
use crate::native::envelope::{Envelope, NativeError, Refusals, Success};
use crate::native::extract::{Body, State, blocking, path_id};
use crate::openapi::IdText;

#[derive(Debug, Deserialize, ToSchema)]
pub struct SaveDesignRequest {
    /// The flow to save a new version of; without it, a new flow is created.
    #[schema(value_type = Option<IdText>)]
    pub id: Option<Id>,
    /// The version the design was edited from; required with `id`. A stale version answers
    /// 400 `workflow_version_conflict`.
    pub version: Option<i64>,
    /// 1 to 64 characters.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// At most 512 characters.
    #[schema(max_length = 512)]
    pub remark: Option<String>,
    /// Whether the flow runs. Omitted: false for a new flow, unchanged for an existing one.
    pub enabled: Option<bool>,
    /// The console's design (a JSON string of nodes and edges), stored as given.
    pub design_data: String,
}

/// A saved design: the flow and its new version.
#[derive(Debug, Serialize, ToSchema)]
pub struct SavedDesign {
    #[schema(value_type = IdText)]
    pub id: Id,
    pub version: i64,
}

/// Saves a design: a new flow at version 1 (needs `workflow.add`), or the next version of
/// an existing flow saved from its current version (needs `workflow.edit`). The design is
/// validated first; a refusal names the node and the field.
#[utoipa::path(
    tag = "workflows",
    request_body = SaveDesignRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<SavedDesign>), Refusals)
)]
#[post("/workflow/flows/design")]
pub async fn save(
    state: State,
    who: WorkflowCaller,
    body: Body<SaveDesignRequest>,
) -> Result<Success<SavedDesign>, NativeError> {
    let b = body.0;
    let (id, version) = blocking(move || -> Result<_, NativeError> {
        let c = &who.caller;
        let enabled = match (b.id, b.enabled) {
            (_, Some(enabled)) => enabled,
            (None, None) => false,
            // Keep the flow's state: read it as the caller, once the edit is allowed
            // (the read itself is gated by `workflow.view`, which an editor need not hold).
            (Some(id), None) => {
                c.require(functions::EDIT)?;
                let reader = who.granted(functions::VIEW);
                state.workflow.design(&reader, id, None)?.0.enabled
            }
        };
        let req = SaveDesign {
            id: b.id,
            version: b.version,
            name: b.name,
            remark: b.remark,
            enabled,
            design_data: b.design_data,
        };
        Ok(state.workflow.save_design(c, req)?)
    })
    .await?;
    Ok(Success(SavedDesign { id, version }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DesignQuery {
    /// The version to read; the newest when omitted.
    #[param(value_type = Option<i64>)]
    pub version: Option<String>,
}

/// A flow with one of its designs.
#[derive(Debug, Serialize, ToSchema)]
pub struct DesignDto {
    #[serde(flatten)]
    pub head: FlowHead,
    /// The version of this design (not necessarily the newest).
    pub version: i64,
    /// The design as it was saved.
    pub design_data: String,
    pub created_at: Time,
    pub updated_at: Time,
}

/// A flow's newest design, or the `version` asked for. Needs `workflow.view`.
#[utoipa::path(
    tag = "workflows",
    security(("bearer" = [])),
    params(DesignQuery),
    responses((status = 200, body = Envelope<DesignDto>), Refusals)
)]
#[get("/workflow/flows/{flow_id}/design")]
pub async fn design(
    state: State,
    who: WorkflowCaller,
    path: web::Path<String>,
    query: web::Query<DesignQuery>,
) -> Result<Success<DesignDto>, NativeError> {
    let id = path_id("flow_id", &path)?;
    let version = match query.into_inner().version.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(v) => Some(v.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(|| {
            NativeError::invalid(format!(
                "version must be a positive whole number, got `{}`",
                v.chars().take(40).collect::<String>()
            ))
        })?),
    };
    let (flow, design) = blocking(move || state.workflow.design(&who.caller, id, version)).await?;
    Ok(Success(DesignDto {
        head: FlowHead {
            id: flow.id,
            name: flow.name,
            remark: flow.remark,
            enabled: flow.enabled,
        },
        version: design.version,
        design_data: design.design_data,
        created_at: flow.created_at,
        updated_at: flow.updated_at,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ValidateDesign {
    /// The console's design, as a save would send it.
    pub design_data: String,
}

/// The answer of a design that passed validation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Validity {
    /// Always true: a refused design answers 400 `parameter_validation_failed`.
    pub valid: bool,
}

/// Checks a design as a save would, storing nothing. A refused design answers 400
/// `parameter_validation_failed`, naming every node and field at fault. Needs
/// `workflow.add` or `workflow.edit`.
#[utoipa::path(
    tag = "workflows",
    request_body = ValidateDesign,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Validity>), Refusals)
)]
#[post("/workflow/flows/design/validate")]
pub async fn validate(
    state: State,
    who: WorkflowCaller,
    body: Body<ValidateDesign>,
) -> Result<Success<Validity>, NativeError> {
    who.require_any(&[functions::ADD, functions::EDIT])?;
    let design_data = body.0.design_data;
    let limits = state.workflow.limits();
    blocking(move || parse_and_validate(&design_data, &limits).map(|_| ())).await?;
    Ok(Success(Validity { valid: true }))
}
