//! [`WorkflowTx`] over one connection inside a transaction. Every query filters by the
//! tenant; versions, which have no tenant column, through their flow.

use diesel::prelude::*;
use weir_kernel::{Id, Millis, PageRequest, StoreError, TenantId};
use weir_workflow::{Flow, FlowVersion, RunLog, RunStatus, Visible, WorkflowTx};

use super::logs;
use super::rows::*;
use crate::backend::{DbConn, MultiBackend};
use crate::database::Pooled;
use crate::errors::{Found, OrStore};
use crate::filters::{contains_pattern, ids};
use crate::schema::*;

type R<T> = Result<T, StoreError>;

/// Owns its pooled connection for the length of one transaction.
pub(super) struct WorkflowRepo {
    pub conn: Pooled,
}

impl WorkflowRepo {
    fn c(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

fn flows_matching<'a>(
    t: &'a TenantId,
    keyword: Option<&str>,
    enabled: Option<bool>,
    visible: Option<&Visible>,
) -> flows::BoxedQuery<'a, MultiBackend> {
    let mut q = flows::table
        .filter(flows::tenant_id.eq(t.as_str()))
        .into_boxed();
    if let Some(k) = keyword.map(str::trim).filter(|k| !k.is_empty()) {
        q = q.filter(flows::name_folded.like(contains_pattern(k)).escape('\\'));
    }
    if let Some(enabled) = enabled {
        q = q.filter(flows::enabled.eq(enabled));
    }
    if let Some(v) = visible {
        // -1 is no user id: a caller without one created nothing.
        let creator = v.creator.map_or(-1, |id| id.get());
        q = q.filter(flows::id.eq_any(ids(&v.ids)).or(flows::user_id.eq(creator)));
    }
    q
}

fn load_flows(rows: Vec<FlowRow>) -> R<Vec<Flow>> {
    rows.into_iter().map(FlowRow::into_flow).collect()
}

impl WorkflowTx for WorkflowRepo {
    fn insert_flow(&mut self, flow: &Flow) -> R<()> {
        diesel::insert_into(flows::table)
            .values(FlowRow::from(flow))
            .execute(self.c())
            .or_store()
            .map(drop)
    }

    fn flow(&mut self, t: &TenantId, id: Id) -> R<Option<Flow>> {
        flows::table
            .find(id.get())
            .filter(flows::tenant_id.eq(t.as_str()))
            .select(FlowRow::as_select())
            .first(self.c())
            .found(FlowRow::into_flow)
    }

    fn flows(&mut self, t: &TenantId, wanted: &[Id]) -> R<Vec<Flow>> {
        let rows = flows::table
            .filter(flows::tenant_id.eq(t.as_str()))
            .filter(flows::id.eq_any(ids(wanted)))
            .select(FlowRow::as_select())
            .load(self.c())
            .or_store()?;
        load_flows(rows)
    }

    fn update_flow(&mut self, flow: &Flow) -> R<()> {
        diesel::update(
            flows::table
                .find(flow.id.get())
                .filter(flows::tenant_id.eq(flow.tenant_id.as_str())),
        )
        .set((
            flows::name.eq(&flow.name),
            flows::name_folded.eq(flow.name.to_lowercase()),
            flows::remark.eq(&flow.remark),
            flows::enabled.eq(flow.enabled),
            flows::version.eq(flow.version),
            flows::updated_at.eq(flow.updated_at),
            flows::http_secret.eq(&flow.http_secret),
        ))
        .execute(self.c())
        .or_store()
        .map(drop)
    }

    fn insert_version(&mut self, version: &FlowVersion) -> R<()> {
        diesel::insert_into(flow_versions::table)
            .values(FlowVersionRow::from(version))
            .execute(self.c())
            .or_store()
            .map(drop)
    }

    fn version(&mut self, t: &TenantId, flow_id: Id, version: i64) -> R<Option<FlowVersion>> {
        Ok(flow_versions::table
            .inner_join(flows::table)
            .filter(flows::tenant_id.eq(t.as_str()))
            .filter(flow_versions::flow_id.eq(flow_id.get()))
            .filter(flow_versions::version.eq(version))
            .select(FlowVersionRow::as_select())
            .first(self.c())
            .optional()
            .or_store()?
            .map(FlowVersion::from))
    }

    fn latest_version(&mut self, t: &TenantId, flow_id: Id) -> R<Option<FlowVersion>> {
        Ok(flow_versions::table
            .inner_join(flows::table)
            .filter(flows::tenant_id.eq(t.as_str()))
            .filter(flow_versions::flow_id.eq(flow_id.get()))
            .order(flow_versions::version.desc())
            .select(FlowVersionRow::as_select())
            .first(self.c())
            .optional()
            .or_store()?
            .map(FlowVersion::from))
    }

    fn search_flows(
        &mut self,
        t: &TenantId,
        keyword: Option<&str>,
        enabled: Option<bool>,
        visible: Option<&Visible>,
        page: &PageRequest,
    ) -> R<(Vec<Flow>, i64)> {
        let total: i64 = flows_matching(t, keyword, enabled, visible)
            .count()
            .get_result(self.c())
            .or_store()?;
        let rows = flows_matching(t, keyword, enabled, visible)
            .order((flows::created_at.desc(), flows::id.desc()))
            .offset(page.offset())
            .limit(page.limit())
            .select(FlowRow::as_select())
            .load(self.c())
            .or_store()?;
        Ok((load_flows(rows)?, total))
    }

    fn enabled_flows(&mut self) -> R<Vec<(Flow, FlowVersion)>> {
        let rows: Vec<(FlowRow, FlowVersionRow)> = flows::table
            .inner_join(
                flow_versions::table.on(flow_versions::flow_id
                    .eq(flows::id)
                    .and(flow_versions::version.eq(flows::version))),
            )
            .filter(flows::enabled.eq(true))
            .order(flows::id.asc())
            .select((FlowRow::as_select(), FlowVersionRow::as_select()))
            .load(self.c())
            .or_store()?;
        rows.into_iter()
            .map(|(f, v)| Ok((f.into_flow()?, FlowVersion::from(v))))
            .collect()
    }

    fn delete_flows(&mut self, t: &TenantId, wanted: &[Id]) -> R<usize> {
        // Versions and run logs go with their flow (ON DELETE CASCADE).
        diesel::delete(
            flows::table
                .filter(flows::tenant_id.eq(t.as_str()))
                .filter(flows::id.eq_any(ids(wanted))),
        )
        .execute(self.c())
        .or_store()
    }

    fn insert_logs(&mut self, list: &[RunLog]) -> R<()> {
        logs::insert(self.c(), list)
    }

    fn search_logs(
        &mut self,
        t: &TenantId,
        flow_id: Id,
        status: Option<RunStatus>,
        page: &PageRequest,
    ) -> R<(Vec<RunLog>, i64)> {
        logs::search(self.c(), t, flow_id, status, page)
    }

    fn log(&mut self, t: &TenantId, id: Id) -> R<Option<RunLog>> {
        logs::find(self.c(), t, id)
    }

    fn delete_logs_before(&mut self, before: Millis, limit: i64) -> R<usize> {
        logs::delete_before(self.c(), before, limit)
    }
}
