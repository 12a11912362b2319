//! What the workflow use-cases need from storage. The storage adapter implements
//! [`WorkflowTx`]; a unit of work runs in one transaction through [`WorkflowStore`].

use weir_kernel::{Id, Millis, PageRequest, StoreError, TenantId, Transactions};

use crate::run_log::{RunLog, RunStatus};

type R<T> = Result<T, StoreError>;

/// A flow of one tenant: its name and state, and the number of its newest design.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// Unique across tenants, time-ordered.
    pub id: Id,
    /// The tenant that owns it.
    pub tenant_id: TenantId,
    /// Trimmed, 1 to [`NAME_MAX`](crate::service::NAME_MAX) characters.
    pub name: String,
    /// The user's note; trimmed, empty when none was given.
    pub remark: String,
    /// Whether the runtime keeps it ready to run (see [`crate::runtime`]).
    pub enabled: bool,
    /// The newest [`FlowVersion`]; 1 for a new flow, one more with each saved design.
    pub version: i64,
    /// Who created it, when a user did.
    pub user_id: Option<Id>,
    /// The SHA-256 (hex) of the secret of its `httpIn` credential, once one was issued.
    pub http_secret: Option<String>,
    /// When it was created (epoch milliseconds).
    pub created_at: Millis,
    /// When it was last saved, renamed, enabled or disabled, or given a credential (epoch
    /// milliseconds).
    pub updated_at: Millis,
}

/// One saved design of a flow. Older versions are kept when a newer one is saved.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowVersion {
    /// The flow it belongs to.
    pub flow_id: Id,
    /// Its number: 1 for the first design, one more with each save.
    pub version: i64,
    /// The console's design, as it sent it (see [`crate::design`]).
    pub design_data: String,
    /// When it was saved (epoch milliseconds).
    pub created_at: Millis,
}

/// The flows a limited caller sees: those granted to their roles, and those they created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Visible {
    /// The flows granted to the caller's roles.
    pub ids: Vec<Id>,
    /// The caller's user id: flows they created are visible too.
    pub creator: Option<Id>,
}

/// The workflow repository inside one transaction. Every method filters by the tenant.
pub trait WorkflowTx {
    /// Adds a new flow (without its versions).
    fn insert_flow(&mut self, flow: &Flow) -> R<()>;
    /// The tenant's flow with this id.
    fn flow(&mut self, t: &TenantId, id: Id) -> R<Option<Flow>>;
    /// The flows among `ids` (in no particular order).
    fn flows(&mut self, t: &TenantId, ids: &[Id]) -> R<Vec<Flow>>;
    /// Writes name, remark, enabled, version and updated_at.
    fn update_flow(&mut self, flow: &Flow) -> R<()>;
    /// Adds a version; a version the flow already has is a [`StoreError::Conflict`].
    fn insert_version(&mut self, version: &FlowVersion) -> R<()>;
    /// One version of the tenant's flow.
    fn version(&mut self, t: &TenantId, flow_id: Id, version: i64) -> R<Option<FlowVersion>>;
    /// The flow's newest version.
    fn latest_version(&mut self, t: &TenantId, flow_id: Id) -> R<Option<FlowVersion>>;
    /// Flows whose name contains `keyword` (case-insensitive), newest first, with the total;
    /// only the `visible` ones when it is given, and only those `enabled` or not when it is.
    fn search_flows(
        &mut self,
        t: &TenantId,
        keyword: Option<&str>,
        enabled: Option<bool>,
        visible: Option<&Visible>,
        page: &PageRequest,
    ) -> R<(Vec<Flow>, i64)>;
    /// Every enabled flow of every tenant, with its newest version: what the engine runs.
    fn enabled_flows(&mut self) -> R<Vec<(Flow, FlowVersion)>>;
    /// Deletes flows with all their versions and run logs.
    fn delete_flows(&mut self, t: &TenantId, ids: &[Id]) -> R<usize>;

    /// Stores run logs, each with its traces, as a few multi-row statements. Every log's
    /// flow must exist.
    fn insert_logs(&mut self, logs: &[RunLog]) -> R<()>;
    /// The runs of a flow, with `status` when it is given, newest first (start time, then
    /// id), with the total; without their traces.
    fn search_logs(
        &mut self,
        t: &TenantId,
        flow_id: Id,
        status: Option<RunStatus>,
        page: &PageRequest,
    ) -> R<(Vec<RunLog>, i64)>;
    /// One run log with its traces.
    fn log(&mut self, t: &TenantId, id: Id) -> R<Option<RunLog>>;
    /// Deletes at most `limit` run logs of any tenant that started before `before`,
    /// oldest first; answers how many.
    fn delete_logs_before(&mut self, before: Millis, limit: i64) -> R<usize>;
}

/// Where flows live.
pub type WorkflowStore = dyn Transactions<dyn WorkflowTx>;

/// Which process (node) fires each timer flow, when several share one database: a lease
/// per flow that its node renews while it runs (see [`crate::runtime`], "Timers"). Both
/// operations are blocking calls to the store.
pub trait TimerLeases: Send + Sync {
    /// For each of `flows` that is still enabled: takes its lease for `node` until `until`
    /// when the lease is free, expired at `now`, or already `node`'s (renewing it), in one
    /// atomic step per flow. Answers the flows among `flows` that `node` holds afterwards.
    fn claim(&self, node: &str, flows: &[Id], now: Millis, until: Millis) -> R<Vec<Id>>;
    /// Gives up `node`'s leases of `flows`; others' leases stay.
    fn release(&self, node: &str, flows: &[Id]) -> R<()>;
}

/// The leases of a process alone on its data (a single process, an embedder without a
/// shared database): it holds every lease it asks for.
#[derive(Debug, Clone, Copy, Default)]
pub struct SoleNode;

impl TimerLeases for SoleNode {
    fn claim(&self, _node: &str, flows: &[Id], _now: Millis, _until: Millis) -> R<Vec<Id>> {
        Ok(flows.to_vec())
    }

    fn release(&self, _node: &str, _flows: &[Id]) -> R<()> {
        Ok(())
    }
}
