//! Running flows from the API: `POST /workflow/flows/design/test` (a design, once, kept
//! nowhere), `POST /workflow/flows/node/test` (one node), `POST /workflow/flows/{id}/trigger`
//! (an enabled flow that starts with a `trigger` node), and
//! `POST /workflow/flows/{id}/http-credential` (the credential of an `httpIn` flow).

use actix_web::{post, web};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use utoipa::ToSchema;
use weir_workflow::Node;
use weir_workflow::engine::RunOutcome;
use weir_workflow::runtime::Runtime;

use super::WorkflowCaller;
use super::logs::TraceDto;
use crate::native::dto::Time;
use crate::native::envelope::{Empty, Envelope, NativeError, Refusals, Success};
use crate::native::extract::{Body, State, blocking, path_id};

/// The runtime, or 503 when the app runs without one.
pub(crate) fn runtime(state: &State) -> Result<Runtime, NativeError> {
    state.workflow_runtime.clone().ok_or_else(|| {
        NativeError::new(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "the workflow engine is not running on this server",
        )
    })
}

/// How a run went, with a trace of every node it ran.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunDto {
    /// SUCCESS or ERROR.
    pub status: &'static str,
    /// Why it failed, naming the node; empty on success.
    pub message: String,
    /// The result of the `output` node, when the run reached one.
    #[schema(value_type = Option<Object>)]
    pub output: Option<Json>,
    pub start_time: Time,
    /// Milliseconds.
    pub time_cost: i64,
    pub trace_info: Vec<TraceDto>,
}

impl From<RunOutcome> for RunDto {
    fn from(o: RunOutcome) -> Self {
        Self {
            status: o.status.as_str(),
            message: o.message,
            output: o.output,
            start_time: o.start_time,
            time_cost: o.time_cost,
            trace_info: o.traces.into_iter().map(TraceDto::from).collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TestDesign {
    /// The design to run, as `POST /workflow/flows/design` takes it.
    pub design_data: String,
    /// What the entry node starts with (a trigger's values, an event's entity values...).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub input: Map<String, Json>,
}

/// Runs a design once with the given input, without saving anything: not the design, not
/// a log. Nodes act for real (an entity assigner writes its values, a webhook is sent).
/// Needs `workflow.edit`.
#[utoipa::path(tag = "workflows", request_body = TestDesign, security(("bearer" = [])), responses((status = 200, body = Envelope<RunDto>), Refusals))]
#[post("/workflow/flows/design/test")]
pub async fn test_design(
    state: State,
    who: WorkflowCaller,
    body: Body<TestDesign>,
) -> Result<Success<RunDto>, NativeError> {
    let b = body.0;
    let outcome = runtime(&state)?
        .test_design(&who.caller, &b.design_data, b.input)
        .await?;
    Ok(Success(outcome.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TestNode {
    /// One node of a design: `{id, componentName, data: {nodeName, parameters}}`.
    #[schema(value_type = Object)]
    pub node: Json,
    /// The node's message; a reference to another node (`{{n1.x}}`) reads `input.n1.x`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub input: Map<String, Json>,
}

/// Runs one node on its own. Needs `workflow.edit`.
#[utoipa::path(tag = "workflows", request_body = TestNode, security(("bearer" = [])), responses((status = 200, body = Envelope<RunDto>), Refusals))]
#[post("/workflow/flows/node/test")]
pub async fn test_node(
    state: State,
    who: WorkflowCaller,
    body: Body<TestNode>,
) -> Result<Success<RunDto>, NativeError> {
    let b = body.0;
    let node: Node = serde_path_to_error::deserialize(b.node)
        .map_err(|e| NativeError::invalid(format!("node.{}: {}", e.path(), e.inner())))?;
    let outcome = runtime(&state)?
        .test_node(&who.caller, node, b.input)
        .await?;
    Ok(Success(outcome.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TriggerFlow {
    /// The trigger's values, as its `entityConfigs` declare them.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub input: Map<String, Json>,
}

/// Runs an enabled flow that starts with a `trigger` node and answers how it went; the
/// run is logged. Needs `workflow.edit`.
#[utoipa::path(tag = "workflows", request_body = TriggerFlow, security(("bearer" = [])), responses((status = 200, body = Envelope<RunDto>), Refusals))]
#[post("/workflow/flows/{flow_id}/trigger")]
pub async fn trigger(
    state: State,
    who: WorkflowCaller,
    path: web::Path<String>,
    body: Body<TriggerFlow>,
) -> Result<Success<RunDto>, NativeError> {
    let id = path_id("flow_id", &path)?;
    let outcome = runtime(&state)?
        .trigger(&who.caller, id, body.0.input)
        .await?;
    Ok(Success(outcome.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HttpCredential {
    /// Send it as `Authorization: Bearer <credential>` to `/workflow-http-in/{path}`.
    pub credential: String,
}

/// Makes a new credential for the flow's HTTP-in entry, replacing the old one. Only its
/// hash is kept: this answer is the one time it can be read. Needs `workflow.edit`.
#[utoipa::path(
    tag = "workflows",
    security(("bearer" = [])),
    request_body(content = Option<Empty>, description = "None: the body is not read"),
    responses((status = 200, body = Envelope<HttpCredential>), Refusals)
)]
#[post("/workflow/flows/{flow_id}/http-credential")]
pub async fn http_credential(
    state: State,
    who: WorkflowCaller,
    path: web::Path<String>,
) -> Result<Success<HttpCredential>, NativeError> {
    let id = path_id("flow_id", &path)?;
    let credential =
        blocking(move || state.workflow.issue_http_credential(&who.caller, id)).await?;
    Ok(Success(HttpCredential { credential }))
}
