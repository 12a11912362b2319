//! Run logs: `POST /workflow/flows/{flow_id}/logs/search` and
//! `GET /workflow/flows/logs/{log_id}` (with its `trace_info`).

use actix_web::{get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use weir_kernel::Id;
use weir_workflow::{NodeTrace, RunLog};

use super::WorkflowCaller;
use crate::native::dto::{PageDto, Time, page_query};
use crate::native::envelope::{Envelope, NativeError, Refusals, Success};
use crate::native::extract::{Body, State, blocking, path_id};
use crate::openapi::IdText;

/// One node's part in a run.
#[derive(Debug, Serialize, ToSchema)]
pub struct TraceDto {
    pub message_id: String,
    pub node_id: String,
    pub node_label: String,
    /// SUCCESS or ERROR.
    pub status: &'static str,
    pub start_time: Time,
    /// Milliseconds.
    pub time_cost: i64,
    /// Why the node failed; empty when it did not.
    pub error_message: String,
    /// The node's input, as JSON text (cut to the configured size, ending in `...`).
    pub input: String,
    /// The node's output, as JSON text.
    pub output: String,
}

impl From<NodeTrace> for TraceDto {
    fn from(t: NodeTrace) -> Self {
        Self {
            message_id: t.message_id,
            node_id: t.node_id,
            node_label: t.node_label,
            status: t.status.as_str(),
            start_time: t.start_time,
            time_cost: t.time_cost,
            error_message: t.error_message.unwrap_or_default(),
            input: t.input,
            output: t.output,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LogSearch {
    /// SUCCESS or ERROR; absent for both.
    pub status: Option<String>,
    pub page_number: Option<i64>,
    pub page_size: Option<i64>,
}

/// A run, as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogDto {
    #[schema(value_type = IdText)]
    pub id: Id,
    #[schema(value_type = IdText)]
    pub flow_id: Id,
    /// The version of the design that ran.
    pub version: i64,
    /// SUCCESS or ERROR.
    pub status: &'static str,
    pub start_time: Time,
    /// Milliseconds.
    pub time_cost: i64,
    /// Why the run failed, naming the node; empty on success.
    pub message: String,
}

impl From<&RunLog> for LogDto {
    fn from(l: &RunLog) -> Self {
        Self {
            id: l.id,
            flow_id: l.flow_id,
            version: l.version,
            status: l.status.as_str(),
            start_time: l.start_time,
            time_cost: l.time_cost,
            message: l.message.clone(),
        }
    }
}

/// A flow's runs, newest first. Needs `workflow.view`.
#[utoipa::path(tag = "workflows", request_body = LogSearch, security(("bearer" = [])), responses((status = 200, body = Envelope<PageDto<LogDto>>), Refusals))]
#[post("/workflow/flows/{flow_id}/logs/search")]
pub async fn search(
    state: State,
    who: WorkflowCaller,
    path: web::Path<String>,
    body: Body<LogSearch>,
) -> Result<Success<PageDto<LogDto>>, NativeError> {
    let id = path_id("flow_id", &path)?;
    let b = body.0;
    let query = page_query(None, b.page_number, b.page_size);
    let page = blocking(move || {
        state
            .workflow
            .search_logs(&who.caller, id, b.status.as_deref(), &query)
    })
    .await?;
    Ok(Success(PageDto::from_page(page, |l| LogDto::from(&l))))
}

/// A run with the trace of every node it ran.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogDetail {
    #[serde(flatten)]
    pub log: LogDto,
    pub trace_info: Vec<TraceDto>,
}

/// One run with its trace. Needs `workflow.view`.
#[utoipa::path(tag = "workflows", security(("bearer" = [])), responses((status = 200, body = Envelope<LogDetail>), Refusals))]
#[get("/workflow/flows/logs/{log_id}")]
pub async fn detail(
    state: State,
    who: WorkflowCaller,
    path: web::Path<String>,
) -> Result<Success<LogDetail>, NativeError> {
    let id = path_id("log_id", &path)?;
    let log = blocking(move || state.workflow.run_log(&who.caller, id)).await?;
    Ok(Success(LogDetail {
        log: LogDto::from(&log),
        trace_info: log.traces.into_iter().map(TraceDto::from).collect(),
    }))
}
