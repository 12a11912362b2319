//! The workflow use-cases: designs saved as numbered versions, read back, searched,
//! renamed, enabled or disabled, deleted. Every method is blocking (it waits on the
//! database): async callers run it on a blocking thread.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock, RwLock};

use weir_kernel::store::{read, write};
use weir_kernel::{Clock, Id, IdGenerator, Page, SearchQuery, StoreError, TenantId};

use crate::caller::{Caller, functions};
use crate::design::Node;
use crate::entity_uses::{self, EntityCatalog};
use crate::errors::WorkflowError;
use crate::ports::{Flow, FlowVersion, WorkflowStore, WorkflowTx};
use crate::validate::{DesignRefusal, Limits, parse_and_validate};

/// Longest flow name, in characters.
pub const NAME_MAX: usize = 64;
/// Longest remark, in characters.
pub const REMARK_MAX: usize = 512;
/// Most flows one batch delete may name.
pub const MAX_DELETE_BATCH: usize = 1000;

/// How the workflow use-cases are tuned.
#[derive(Debug, Clone)]
pub struct WorkflowSettings {
    /// Largest page a search answers; larger requests are capped.
    pub max_page_size: u32,
    /// How large a design may be.
    pub limits: Limits,
}

impl Default for WorkflowSettings {
    fn default() -> Self {
        Self {
            max_page_size: 1000,
            limits: Limits::default(),
        }
    }
}

/// The ports the workflow use-cases run on.
pub struct WorkflowPorts {
    /// Where flows and run logs are stored.
    pub store: Arc<WorkflowStore>,
    /// Gives new flows their ids.
    pub ids: Arc<IdGenerator>,
    /// Stamps `created_at` and `updated_at`.
    pub clock: Arc<dyn Clock>,
}

/// A design to save: a new flow when `id` is `None`, else a new version of flow `id`, saved
/// from its stored `version`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SaveDesign {
    /// The flow to save a new version of; `None` for a new flow.
    pub id: Option<Id>,
    /// The version the design was edited from; required with `id`.
    pub version: Option<i64>,
    /// The flow's name, saved with the design; trimmed, 1 to [`NAME_MAX`] characters.
    pub name: String,
    /// The flow's remark, trimmed, up to [`REMARK_MAX`] characters; `None` saves an empty one.
    pub remark: Option<String>,
    /// Whether the flow is enabled once saved.
    pub enabled: bool,
    /// The console's design as a JSON string (see [`crate::design`]); saved as it came.
    pub design_data: String,
}

/// The workflow use-cases, on behalf of a [`Caller`]. Blocking: see the module doc.
pub struct WorkflowService {
    store: Arc<WorkflowStore>,
    ids: Arc<IdGenerator>,
    clock: Arc<dyn Clock>,
    pub(crate) settings: WorkflowSettings,
    /// Told about every flow a use-case changed, once the change is committed.
    observers: RwLock<Vec<Arc<dyn FlowChanges>>>,
    /// Checks the entities a design names against the caller's rights; none: no check.
    entities: OnceLock<Arc<dyn EntityCatalog>>,
}

/// Hears which flows changed (saved, renamed, enabled, disabled, deleted), so that what
/// runs them (the [`crate::runtime::Runtime`]) can reload them. Called on the thread of the
/// use-case, after its transaction committed: when the use-case returns, the observer has
/// caught up.
pub trait FlowChanges: Send + Sync {
    /// Called with the tenant and the ids of the flows that changed.
    fn changed(&self, tenant: &TenantId, ids: &[Id]);
}

impl std::fmt::Debug for WorkflowService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkflowService")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// A flow name: trimmed, 1 to [`NAME_MAX`] characters, no control characters.
fn flow_name(raw: &str) -> Result<String, WorkflowError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(WorkflowError::invalid(
            "name",
            format!("must be 1 to {NAME_MAX} characters"),
        ));
    }
    Ok(name.to_owned())
}

/// A remark: trimmed, at most [`REMARK_MAX`] characters; none is empty.
fn remark(raw: Option<&str>) -> Result<String, WorkflowError> {
    let remark = raw.unwrap_or_default().trim();
    if remark.chars().count() > REMARK_MAX {
        return Err(WorkflowError::invalid(
            "remark",
            format!("must be at most {REMARK_MAX} characters"),
        ));
    }
    Ok(remark.to_owned())
}

impl WorkflowService {
    /// A service over these ports.
    pub fn new(ports: WorkflowPorts, settings: WorkflowSettings) -> Self {
        Self {
            store: ports.store,
            ids: ports.ids,
            clock: ports.clock,
            settings,
            observers: RwLock::new(Vec::new()),
            entities: OnceLock::new(),
        }
    }

    /// Sets what checks the entities designs name (the app wires the IoT domain). Without
    /// it, designs may name any entity: for programs that use flows without IoT.
    pub fn check_entities_with(&self, catalog: Arc<dyn EntityCatalog>) {
        let _ = self.entities.set(catalog);
    }

    /// Refuses nodes that name entities the caller may not use (see [`crate::entity_uses`]).
    pub fn check_entities<'a>(
        &self,
        c: &Caller,
        nodes: impl IntoIterator<Item = &'a Node>,
    ) -> Result<(), WorkflowError> {
        let Some(catalog) = self.entities.get() else {
            return Ok(());
        };
        let problems = entity_uses::check(&**catalog, c, nodes)?;
        if problems.is_empty() {
            Ok(())
        } else {
            Err(WorkflowError::Design(DesignRefusal(problems)))
        }
    }

    /// Registers an observer of flow changes.
    pub fn observe(&self, observer: Arc<dyn FlowChanges>) {
        self.observers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(observer);
    }

    fn changed(&self, tenant: &TenantId, ids: &[Id]) {
        let observers = self.observers.read().unwrap_or_else(|e| e.into_inner());
        for o in observers.iter() {
            o.changed(tenant, ids);
        }
    }

    /// How large a design may be.
    pub fn limits(&self) -> Limits {
        self.settings.limits
    }

    /// Every enabled flow of every tenant with its newest version, for the runtime.
    pub fn enabled_flows(&self) -> Result<Vec<(Flow, FlowVersion)>, WorkflowError> {
        Ok(read(self.store(), |tx| tx.enabled_flows())?)
    }

    /// Makes a new credential for the flow's `httpIn` entry, replacing the old one, and
    /// answers it: `{flow id}.{secret}`. Only a hash of the secret is kept, so this is the
    /// one time it can be read.
    pub fn issue_http_credential(&self, c: &Caller, id: Id) -> Result<String, WorkflowError> {
        c.require(functions::EDIT)?;
        let secret = crate::credential::new_secret();
        let hash = crate::credential::hash(&secret);
        let now = self.clock.now_ms();
        write(self.store(), |tx| {
            let mut flow = Self::own_flow(tx, c, id)?;
            flow.http_secret = Some(hash.clone());
            flow.updated_at = now;
            Ok::<_, WorkflowError>(tx.update_flow(&flow)?)
        })?;
        self.changed(&c.tenant_id, &[id]);
        Ok(format!("{id}.{secret}"))
    }

    pub(crate) fn store(&self) -> &WorkflowStore {
        &*self.store
    }

    /// A flow of the caller's tenant.
    pub(crate) fn own_flow(
        tx: &mut dyn WorkflowTx,
        c: &Caller,
        id: Id,
    ) -> Result<Flow, WorkflowError> {
        tx.flow(&c.tenant_id, id)?
            .filter(|f| c.sees(f))
            .ok_or_else(|| WorkflowError::not_found("flow", id))
    }

    /// Saves a design: a new flow at version 1, or the next version of an existing flow
    /// when `version` is the one stored. Older versions are kept. Returns the flow's id
    /// and its new version.
    pub fn save_design(&self, c: &Caller, req: SaveDesign) -> Result<(Id, i64), WorkflowError> {
        c.require(match req.id {
            None => functions::ADD,
            Some(_) => functions::EDIT,
        })?;
        let name = flow_name(&req.name)?;
        let remark = remark(req.remark.as_deref())?;
        let validated = parse_and_validate(&req.design_data, &self.settings.limits)?;
        self.check_entities(c, &validated.design().nodes)?;
        let now = self.clock.now_ms();
        let Some(id) = req.id else {
            let flow = Flow {
                id: self.ids.next_id(),
                tenant_id: c.tenant_id.clone(),
                name,
                remark,
                enabled: req.enabled,
                version: 1,
                user_id: c.user_id,
                created_at: now,
                updated_at: now,
                http_secret: None,
            };
            let version = FlowVersion {
                flow_id: flow.id,
                version: 1,
                design_data: req.design_data,
                created_at: now,
            };
            write(self.store(), |tx| -> Result<(), WorkflowError> {
                tx.insert_flow(&flow)?;
                Ok(tx.insert_version(&version)?)
            })?;
            self.changed(&c.tenant_id, &[flow.id]);
            return Ok((flow.id, 1));
        };
        let given = req
            .version
            .ok_or_else(|| WorkflowError::invalid("version", "is required to save a flow"))?;
        let mut current = None;
        write(self.store(), |tx| {
            let mut flow = Self::own_flow(tx, c, id)?;
            current = Some(flow.version);
            if flow.version != given {
                return Err(WorkflowError::VersionConflict {
                    id: id.to_string(),
                    given,
                    current: flow.version,
                });
            }
            flow.name = name.clone();
            flow.remark = remark.clone();
            flow.enabled = req.enabled;
            flow.version = given + 1;
            flow.updated_at = now;
            tx.update_flow(&flow)?;
            tx.insert_version(&FlowVersion {
                flow_id: id,
                version: flow.version,
                design_data: req.design_data.clone(),
                created_at: now,
            })?;
            Ok((id, flow.version))
        })
        .map_err(|e| match e {
            // Two saves from the same version at once: the version's primary key decides.
            WorkflowError::Store(StoreError::Conflict(_)) => WorkflowError::VersionConflict {
                id: id.to_string(),
                given,
                current: current.map_or(given + 1, |v| v + 1),
            },
            other => other,
        })
        .inspect(|_| self.changed(&c.tenant_id, &[id]))
    }

    /// A flow with one of its designs: `version`, or the newest.
    pub fn design(
        &self,
        c: &Caller,
        id: Id,
        version: Option<i64>,
    ) -> Result<(Flow, FlowVersion), WorkflowError> {
        c.require(functions::VIEW)?;
        read(self.store(), |tx| {
            let flow = Self::own_flow(tx, c, id)?;
            let design = match version {
                Some(v) => tx
                    .version(&c.tenant_id, id, v)?
                    .ok_or_else(|| WorkflowError::not_found("flow version", format!("{id}/{v}")))?,
                None => tx
                    .latest_version(&c.tenant_id, id)?
                    .ok_or_else(|| WorkflowError::not_found("flow version", id))?,
            };
            Ok((flow, design))
        })
    }

    /// The tenant's flows whose name contains the keyword, newest first.
    pub fn search(&self, c: &Caller, q: &SearchQuery) -> Result<Page<Flow>, WorkflowError> {
        self.search_by_status(c, q, None)
    }

    /// [`Self::search`], only the flows enabled (`status` ENABLE) or disabled (DISABLE) when
    /// `status` is given (in any case; the web console's type spells them `enable` and
    /// `disable`).
    pub fn search_by_status(
        &self,
        c: &Caller,
        q: &SearchQuery,
        status: Option<&str>,
    ) -> Result<Page<Flow>, WorkflowError> {
        c.require(functions::VIEW)?;
        let enabled = match status.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) if s.eq_ignore_ascii_case("enable") => Some(true),
            Some(s) if s.eq_ignore_ascii_case("disable") => Some(false),
            Some(_) => {
                return Err(WorkflowError::invalid(
                    "status",
                    "must be ENABLE or DISABLE",
                ));
            }
        };
        let page = q.page(self.settings.max_page_size, &[])?;
        let (flows, total) = read(self.store(), |tx| {
            tx.search_flows(
                &c.tenant_id,
                q.keyword(),
                enabled,
                c.visible().as_ref(),
                &page,
            )
        })?;
        Ok(Page::new(&page, total, flows))
    }

    /// Renames a flow and replaces its remark; its design and version stay.
    pub fn rename(
        &self,
        c: &Caller,
        id: Id,
        name: &str,
        remark_text: Option<&str>,
    ) -> Result<(), WorkflowError> {
        c.require(functions::EDIT)?;
        let name = flow_name(name)?;
        let remark = remark(remark_text)?;
        let now = self.clock.now_ms();
        write(self.store(), |tx| -> Result<(), WorkflowError> {
            let mut flow = Self::own_flow(tx, c, id)?;
            flow.name = name.clone();
            flow.remark = remark.clone();
            flow.updated_at = now;
            Ok(tx.update_flow(&flow)?)
        })?;
        // The runtime reloads it: its name shows in logs, and its timer's interval counts
        // from `updated_at` on every node.
        self.changed(&c.tenant_id, &[id]);
        Ok(())
    }

    /// Enables or disables a flow. Who enables a flow vouches for the entities it names:
    /// they must be theirs to use, as when it was saved.
    pub fn set_enabled(&self, c: &Caller, id: Id, enabled: bool) -> Result<(), WorkflowError> {
        c.require(functions::EDIT)?;
        if enabled && self.entities.get().is_some() {
            let (_, version) = self.design(
                &Caller {
                    functions: None,
                    ..c.clone()
                },
                id,
                None,
            )?;
            let validated = parse_and_validate(&version.design_data, &self.settings.limits)?;
            self.check_entities(c, &validated.design().nodes)?;
        }
        let now = self.clock.now_ms();
        write(self.store(), |tx| -> Result<(), WorkflowError> {
            let mut flow = Self::own_flow(tx, c, id)?;
            if flow.enabled == enabled {
                return Ok(());
            }
            flow.enabled = enabled;
            flow.updated_at = now;
            Ok(tx.update_flow(&flow)?)
        })?;
        self.changed(&c.tenant_id, &[id]);
        Ok(())
    }

    /// Deletes flows with all their versions: every one of `ids`, or none when one is not
    /// the tenant's.
    pub fn delete(&self, c: &Caller, ids: &[Id]) -> Result<(), WorkflowError> {
        c.require(functions::DELETE)?;
        let wanted: BTreeSet<Id> = ids.iter().copied().collect();
        if wanted.is_empty() || wanted.len() > MAX_DELETE_BATCH {
            return Err(WorkflowError::invalid(
                "workflow_id_list",
                format!("must name 1 to {MAX_DELETE_BATCH} flows"),
            ));
        }
        let wanted: Vec<Id> = wanted.into_iter().collect();
        write(self.store(), |tx| -> Result<(), WorkflowError> {
            let found: BTreeSet<Id> = tx
                .flows(&c.tenant_id, &wanted)?
                .into_iter()
                .filter(|f| c.sees(f))
                .map(|f| f.id)
                .collect();
            if let Some(missing) = wanted.iter().find(|id| !found.contains(id)) {
                return Err(WorkflowError::not_found("flow", missing));
            }
            tx.delete_flows(&c.tenant_id, &wanted)?;
            Ok(())
        })?;
        self.changed(&c.tenant_id, &wanted);
        Ok(())
    }
}
