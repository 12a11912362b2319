//! What the workflow use-cases need from storage. The storage adapter implements
//! [`WorkflowTx`]; a unit of work runs in one transaction through [`WorkflowStore`].

use weir_kernel::{Id, Millis, PageRequest, StoreError, TenantId, Transactions};

type R<T> = Result<T, StoreError>;

/// A flow of one tenant: its name and state, and the number of its newest design.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub id: Id,
    pub tenant_id: TenantId,
    pub name: String,
    pub remark: String,
    pub enabled: bool,
    /// The newest [`FlowVersion`]; 1 for a new flow, one more with each saved design.
    pub version: i64,
    /// Who created it, when a user did.
    pub user_id: Option<Id>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// One saved design of a flow. Older versions are kept when a newer one is saved.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowVersion {
    pub flow_id: Id,
    pub version: i64,
    /// The console's design, as it sent it (see [`crate::design`]).
    pub design_data: String,
    pub created_at: Millis,
}

/// The workflow repository inside one transaction. Every method filters by the tenant.
pub trait WorkflowTx {
    fn insert_flow(&mut self, flow: &Flow) -> R<()>;
    fn flow(&mut self, t: &TenantId, id: Id) -> R<Option<Flow>>;
    /// The flows among `ids` (in no particular order).
    fn flows(&mut self, t: &TenantId, ids: &[Id]) -> R<Vec<Flow>>;
    /// Writes name, remark, enabled, version and updated_at.
    fn update_flow(&mut self, flow: &Flow) -> R<()>;
    /// Adds a version; a version the flow already has is a [`StoreError::Conflict`].
    fn insert_version(&mut self, version: &FlowVersion) -> R<()>;
    fn version(&mut self, t: &TenantId, flow_id: Id, version: i64) -> R<Option<FlowVersion>>;
    /// The flow's newest version.
    fn latest_version(&mut self, t: &TenantId, flow_id: Id) -> R<Option<FlowVersion>>;
    /// Flows whose name contains `keyword` (case-insensitive), newest first, with the total.
    fn search_flows(
        &mut self,
        t: &TenantId,
        keyword: Option<&str>,
        page: &PageRequest,
    ) -> R<(Vec<Flow>, i64)>;
    /// Deletes flows with all their versions.
    fn delete_flows(&mut self, t: &TenantId, ids: &[Id]) -> R<usize>;
}

/// Where flows live.
pub type WorkflowStore = dyn Transactions<dyn WorkflowTx>;
