//! Run logs in `flow_logs`: one row per run, the node traces as one JSON text column
//! (`trace_info`), read only when one log is shown.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use weir_kernel::{Id, Millis, PageRequest, StoreError, TenantId};
use weir_workflow::{NodeTrace, RunLog, RunStatus};

use crate::backend::{DbConn, MultiBackend, on_each_backend};
use crate::errors::{Found, OrStore, tenant_id};
use crate::schema::flow_logs;

type R<T> = Result<T, StoreError>;

/// Rows per multi-row INSERT: 9 columns each, 9,000 bind parameters, well under SQLite's
/// 32,766 and PostgreSQL's 65,535 (and a bounded statement when traces are large).
const INSERT_CHUNK: usize = 1000;

/// A whole row: what an insert writes and what reading one log loads.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = flow_logs)]
struct LogRow {
    #[diesel(embed)]
    head: LogHeadRow,
    trace_info: String,
}

/// A row without its `trace_info`: what a search loads.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = flow_logs)]
struct LogHeadRow {
    id: i64,
    tenant_id: String,
    flow_id: i64,
    version: i64,
    status: String,
    start_time: i64,
    time_cost: i64,
    message: String,
}

/// One item of `trace_info`, named as the API answers it. `input` and `output` stay text:
/// the engine may have cut them, so they need not be JSON any more.
#[derive(Serialize, Deserialize)]
struct TraceJson {
    message_id: String,
    node_id: String,
    node_label: String,
    status: String,
    start_time: Millis,
    time_cost: i64,
    error_message: Option<String>,
    input: String,
    output: String,
}

fn status(raw: &str) -> R<RunStatus> {
    RunStatus::parse(raw)
        .ok_or_else(|| StoreError::Internal(format!("stored run status `{raw}` is invalid")))
}

fn trace_info(traces: &[NodeTrace]) -> R<String> {
    let items: Vec<TraceJson> = traces
        .iter()
        .map(|t| TraceJson {
            message_id: t.message_id.clone(),
            node_id: t.node_id.clone(),
            node_label: t.node_label.clone(),
            status: t.status.as_str().to_owned(),
            start_time: t.start_time,
            time_cost: t.time_cost,
            error_message: t.error_message.clone(),
            input: t.input.clone(),
            output: t.output.clone(),
        })
        .collect();
    serde_json::to_string(&items).map_err(|e| StoreError::Internal(format!("run log traces: {e}")))
}

fn traces(raw: &str) -> R<Vec<NodeTrace>> {
    let items: Vec<TraceJson> = serde_json::from_str(raw)
        .map_err(|e| StoreError::Internal(format!("stored trace_info is invalid: {e}")))?;
    items
        .into_iter()
        .map(|t| {
            Ok(NodeTrace {
                status: status(&t.status)?,
                message_id: t.message_id,
                node_id: t.node_id,
                node_label: t.node_label,
                start_time: t.start_time,
                time_cost: t.time_cost,
                error_message: t.error_message,
                input: t.input,
                output: t.output,
            })
        })
        .collect()
}

impl LogRow {
    fn new(log: &RunLog) -> R<Self> {
        Ok(Self {
            head: LogHeadRow {
                id: log.id.get(),
                tenant_id: log.tenant_id.to_string(),
                flow_id: log.flow_id.get(),
                version: log.version,
                status: log.status.as_str().to_owned(),
                start_time: log.start_time,
                time_cost: log.time_cost,
                message: log.message.clone(),
            },
            trace_info: trace_info(&log.traces)?,
        })
    }

    fn into_log(self) -> R<RunLog> {
        Ok(RunLog {
            traces: traces(&self.trace_info)?,
            ..self.head.into_log()?
        })
    }
}

impl LogHeadRow {
    fn into_log(self) -> R<RunLog> {
        Ok(RunLog {
            id: Id(self.id),
            tenant_id: tenant_id(self.tenant_id)?,
            flow_id: Id(self.flow_id),
            version: self.version,
            status: status(&self.status)?,
            start_time: self.start_time,
            time_cost: self.time_cost,
            message: self.message,
            traces: Vec::new(),
        })
    }
}

pub(super) fn insert(c: &mut DbConn, logs: &[RunLog]) -> R<()> {
    for chunk in logs.chunks(INSERT_CHUNK) {
        let rows = chunk.iter().map(LogRow::new).collect::<R<Vec<_>>>()?;
        on_each_backend!(&mut *c, |c| diesel::insert_into(flow_logs::table)
            .values(&rows)
            .execute(c))
        .or_store()?;
    }
    Ok(())
}

fn of_flow<'a>(
    t: &'a TenantId,
    flow_id: Id,
    status: Option<RunStatus>,
) -> flow_logs::BoxedQuery<'a, MultiBackend> {
    let mut q = flow_logs::table
        .filter(flow_logs::tenant_id.eq(t.as_str()))
        .filter(flow_logs::flow_id.eq(flow_id.get()))
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(flow_logs::status.eq(s.as_str()));
    }
    q
}

pub(super) fn search(
    c: &mut DbConn,
    t: &TenantId,
    flow_id: Id,
    status: Option<RunStatus>,
    page: &PageRequest,
) -> R<(Vec<RunLog>, i64)> {
    let total: i64 = of_flow(t, flow_id, status)
        .count()
        .get_result(c)
        .or_store()?;
    let rows = of_flow(t, flow_id, status)
        .order((flow_logs::start_time.desc(), flow_logs::id.desc()))
        .offset(page.offset())
        .limit(page.limit())
        .select(LogHeadRow::as_select())
        .load(c)
        .or_store()?;
    let logs = rows
        .into_iter()
        .map(LogHeadRow::into_log)
        .collect::<R<_>>()?;
    Ok((logs, total))
}

pub(super) fn find(c: &mut DbConn, t: &TenantId, id: Id) -> R<Option<RunLog>> {
    flow_logs::table
        .find(id.get())
        .filter(flow_logs::tenant_id.eq(t.as_str()))
        .select(LogRow::as_select())
        .first(c)
        .found(LogRow::into_log)
}

pub(super) fn delete_before(c: &mut DbConn, before: Millis, limit: i64) -> R<usize> {
    // One statement on both backends: DELETE ... WHERE id IN (the oldest `limit`). The
    // subquery reads the same table under an alias, which diesel needs to type-check it.
    let old = diesel::alias!(flow_logs as old_logs);
    let oldest = old
        .filter(old.field(flow_logs::start_time).lt(before))
        .order((
            old.field(flow_logs::start_time).asc(),
            old.field(flow_logs::id).asc(),
        ))
        .limit(limit)
        .select(old.field(flow_logs::id));
    diesel::delete(flow_logs::table.filter(flow_logs::id.eq_any(oldest)))
        .execute(c)
        .or_store()
}
