//! The run-log use-cases: the engine records what each run did, a caller lists the runs of
//! a flow they see and reads one with its node traces, and the retention job purges old
//! ones. Every method is blocking (it waits on the database).

use std::collections::{BTreeSet, HashMap, HashSet};

use weir_kernel::store::{read, write};
use weir_kernel::{Id, Millis, Page, SearchQuery, TenantId};

use crate::caller::{Caller, functions};
use crate::errors::WorkflowError;
use crate::ports::WorkflowTx;
use crate::run_log::{RunLog, RunStatus};
use crate::service::WorkflowService;

/// Most run logs one purge transaction deletes, so that it never holds its locks long.
const PURGE_BATCH: i64 = 10_000;
/// Most flow ids one existence check names.
const FLOW_CHECK_CHUNK: usize = 1000;

/// The status filter of a search: none when absent or blank, else `SUCCESS` or `ERROR`.
fn status_filter(raw: Option<&str>) -> Result<Option<RunStatus>, WorkflowError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => RunStatus::parse(s)
            .map(Some)
            .ok_or_else(|| WorkflowError::invalid("status", "must be SUCCESS or ERROR")),
    }
}

impl WorkflowService {
    /// The runs of a flow the caller sees, newest first, without their traces; only those
    /// that ended with `status` when it is given.
    pub fn search_logs(
        &self,
        c: &Caller,
        flow_id: Id,
        status: Option<&str>,
        q: &SearchQuery,
    ) -> Result<Page<RunLog>, WorkflowError> {
        c.require(functions::VIEW)?;
        let status = status_filter(status)?;
        let page = q.page(self.settings.max_page_size, &[])?;
        let (logs, total) = read(self.store(), |tx| {
            Self::own_flow(tx, c, flow_id)?;
            Ok::<_, WorkflowError>(tx.search_logs(&c.tenant_id, flow_id, status, &page)?)
        })?;
        Ok(Page::new(&page, total, logs))
    }

    /// One run with the trace of every node it ran. A log of another tenant, or of a flow
    /// the caller does not see, is not found.
    pub fn run_log(&self, c: &Caller, log_id: Id) -> Result<RunLog, WorkflowError> {
        c.require(functions::VIEW)?;
        let not_found = || WorkflowError::not_found("log", log_id);
        read(self.store(), |tx| {
            let log = tx.log(&c.tenant_id, log_id)?.ok_or_else(not_found)?;
            tx.flow(&c.tenant_id, log.flow_id)?
                .filter(|f| c.sees(f))
                .ok_or_else(not_found)?;
            Ok(log)
        })
    }

    /// Stores a batch of run logs for the engine, in one transaction. The logs of a flow
    /// deleted since it ran (or not of the log's tenant) are dropped, so that they do not
    /// cost the others theirs.
    pub fn record_logs(&self, logs: &[RunLog]) -> Result<(), WorkflowError> {
        if logs.is_empty() {
            return Ok(());
        }
        let attempt = || write(self.store(), |tx| Self::insert_live_logs(tx, logs));
        // On PostgreSQL a flow deleted between the check and the insert still fails the
        // batch on its foreign key; the second attempt sees the flow gone.
        attempt().or_else(|e| match e {
            WorkflowError::Store(_) => attempt(),
            other => Err(other),
        })
    }

    /// Deletes the run logs of every tenant that started before `older_than`, in batches
    /// of `PURGE_BATCH` rows, each its own transaction, until none is left; answers how many.
    pub fn purge_logs(&self, older_than: Millis) -> Result<usize, WorkflowError> {
        let mut deleted = 0;
        loop {
            let n = write(self.store(), |tx| {
                tx.delete_logs_before(older_than, PURGE_BATCH)
            })?;
            deleted += n;
            if (n as i64) < PURGE_BATCH {
                return Ok(deleted);
            }
        }
    }

    /// Inserts the logs whose flow exists in the log's tenant.
    fn insert_live_logs(tx: &mut dyn WorkflowTx, logs: &[RunLog]) -> Result<(), WorkflowError> {
        let mut wanted: HashMap<&TenantId, BTreeSet<Id>> = HashMap::new();
        for log in logs {
            wanted
                .entry(&log.tenant_id)
                .or_default()
                .insert(log.flow_id);
        }
        let mut live: HashMap<&TenantId, HashSet<Id>> = HashMap::new();
        for (t, flow_ids) in wanted {
            let flow_ids: Vec<Id> = flow_ids.into_iter().collect();
            let found = live.entry(t).or_default();
            for chunk in flow_ids.chunks(FLOW_CHECK_CHUNK) {
                found.extend(tx.flows(t, chunk)?.into_iter().map(|f| f.id));
            }
        }
        let is_live = |log: &RunLog| {
            live.get(&log.tenant_id)
                .is_some_and(|found| found.contains(&log.flow_id))
        };
        if logs.iter().all(is_live) {
            tx.insert_logs(logs)?;
        } else {
            let kept: Vec<RunLog> = logs.iter().filter(|l| is_live(l)).cloned().collect();
            if !kept.is_empty() {
                tx.insert_logs(&kept)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_filter_is_success_error_or_none() {
        assert_eq!(status_filter(None).unwrap(), None);
        assert_eq!(status_filter(Some("  ")).unwrap(), None);
        assert_eq!(
            status_filter(Some("success")).unwrap(),
            Some(RunStatus::Success)
        );
        assert_eq!(
            status_filter(Some("ERROR")).unwrap(),
            Some(RunStatus::Error)
        );
        let e = status_filter(Some("FAILED")).unwrap_err();
        assert_eq!(e.to_string(), "status: must be SUCCESS or ERROR");
    }
}
