//! Wires the workflow engine to the rest of Weir: its `Entities` port over the IoT
//! use-cases, the IoT event bus to `eventListener` flows, and the script, webhook and mail
//! adapters.

use std::sync::Arc;

use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;
use weir_iot::service::WriteKind;

use weir_iot::errors::IotError;
use weir_iot::events::{Cause, EventHandler, Origin, ValuesCommitted};
use weir_iot::ports::{Entity, VisibleSet};
use weir_iot::{EntityType, IotService, Limits, Viewer};
use weir_kernel::{Id, StoreError, TenantId};
use weir_workflow::Caller;
use weir_workflow::engine::{Entities, NodeError};
use weir_workflow::entity_uses::{Access, EntityCatalog, EntityUse};
use weir_workflow::runtime::WeakRuntime;

/// The workflow's view of the IoT domain: a flow acts with every right in its tenant, as
/// the user who enabled it configured it.
pub struct IotEntities(pub Arc<IotService>);

fn node_error(e: weir_iot::errors::IotError) -> NodeError {
    NodeError(e.to_string())
}

/// What a run's writes say caused them: the flows whose runs led to the run, its own last.
fn cause(chain: &[Id]) -> Cause {
    Cause {
        flows: chain.to_vec(),
    }
}

impl Entities for IotEntities {
    fn latest(&self, tenant: &TenantId, keys: &[String]) -> Result<Map<String, Json>, NodeError> {
        let values = self
            .0
            .latest_by_keys(&Viewer::system(tenant.clone()), keys)
            .map_err(node_error)?;
        Ok(values
            .into_iter()
            .map(|(k, v)| (k, v.map_or(Json::Null, |v| v.to_json())))
            .collect())
    }

    fn assign(
        &self,
        tenant: &TenantId,
        chain: &[Id],
        values: &Map<String, Json>,
    ) -> Result<(), NodeError> {
        self.0
            .write_values_caused(
                &Viewer::system(tenant.clone()),
                values,
                WriteKind::PropertyUpdate,
                None,
                &cause(chain),
            )
            .map(drop)
            .map_err(node_error)
    }

    /// The call's exchange: each parameter named by its full key is kept (the service's own
    /// key, for a service that takes one value: `{"...reboot": true}`), any other goes under
    /// the service's key (`reboot.delay` for a parameter `delay` of service `reboot`); no
    /// parameters call an OBJECT service with `{}`.
    fn invoke(
        &self,
        tenant: &TenantId,
        chain: &[Id],
        service: &str,
        params: &Map<String, Json>,
    ) -> Result<Json, NodeError> {
        let mut exchange = Map::new();
        for (name, value) in params {
            let key = if name == service || name.starts_with(&format!("{service}.")) {
                name.clone()
            } else {
                format!("{service}.{name}")
            };
            exchange.insert(key, value.clone());
        }
        if exchange.is_empty() {
            exchange.insert(service.to_owned(), Json::Object(Map::new()));
        }
        let outcome = self
            .0
            .write_values_caused(
                &Viewer::system(tenant.clone()),
                &exchange,
                WriteKind::ServiceCall,
                None,
                &cause(chain),
            )
            .map_err(node_error)?;
        if !outcome.undelivered.is_empty() {
            return Err(NodeError(format!(
                "service {service} was recorded but device {} could not be reached",
                outcome.undelivered.join(", ")
            )));
        }
        Ok(serde_json::json!({"service": service, "params": Json::Object(exchange)}))
    }
}

/// The IoT viewer a workflow caller would be on the API: their function codes and
/// grants, or everything for the super admin.
fn viewer_of(tenant: &TenantId, c: &Caller) -> Viewer {
    match (&c.functions, &c.entity_grants) {
        (None, _) => Viewer::system(tenant.clone()),
        (Some(functions), grants) => {
            let grants = grants.clone().unwrap_or_default();
            Viewer::limited(
                tenant.clone(),
                Limits {
                    functions: functions.clone(),
                    grants: VisibleSet {
                        integrations: grants.integrations,
                        devices: grants.devices,
                        entities: grants.entities,
                        dashboards: Vec::new(),
                    },
                },
            )
        }
    }
}

impl EntityCatalog for IotEntities {
    fn refusals(
        &self,
        tenant: &TenantId,
        caller: &Caller,
        uses: &[EntityUse],
    ) -> Result<Vec<(usize, String)>, StoreError> {
        let viewer = viewer_of(tenant, caller);
        let keys: Vec<String> = uses.iter().map(|u| u.key.clone()).collect();
        let found: BTreeMap<String, Entity> = match self.0.entities_named(&viewer, &keys) {
            Ok(found) => found.into_iter().map(|e| (e.key.clone(), e)).collect(),
            Err(IotError::Store(e)) => return Err(e),
            Err(e) => return Err(StoreError::Internal(e.to_string())),
        };
        let may = |code: &str| viewer.require(code).is_ok();
        Ok(uses
            .iter()
            .enumerate()
            .filter_map(|(i, u)| {
                let Some(e) = found.get(&u.key) else {
                    return Some((i, format!("entity {} not found", u.key)));
                };
                let d = &e.definition;
                let why = match u.access {
                    Access::Read if !may("entity_data.view") => {
                        "reading it needs the `entity_data.view` permission"
                    }
                    Access::Write if d.entity_type != EntityType::Property => "not a PROPERTY",
                    Access::Write if !d.access_mod.writable() => "read-only",
                    Access::Call if d.entity_type != EntityType::Service => "not a SERVICE",
                    Access::Write | Access::Call if !may("entity_data.edit") => {
                        "changing it needs the `entity_data.edit` permission"
                    }
                    _ => return None,
                };
                Some((i, format!("entity {}: {why}", u.key)))
            })
            .collect())
    }
}

/// Hands every value this process committed to the flows listening to it, with the chain
/// of runs that wrote it (so that flows triggering each other stop): an [`EventHandler`],
/// so that no event is lost to a reader falling behind; the runs queue in the runtime.
/// A peer's values (cluster mode) start their runs on that peer. It holds the runtime
/// weakly: the runtime reaches the bus through its engine, and a strong handle here would
/// make a cycle that keeps both (and the database pool) alive after the server is dropped.
pub struct FlowTriggers(pub WeakRuntime);

impl EventHandler for FlowTriggers {
    fn handle(&self, event: &Arc<ValuesCommitted>) {
        if event.origin == Origin::Peer {
            return;
        }
        let Some(runtime) = self.0.upgrade() else {
            return;
        };
        let values: Vec<(String, Json)> = event
            .values
            .iter()
            .map(|v| (v.key.clone(), v.value.to_json()))
            .collect();
        runtime.enqueue_values(&event.tenant_id, &values, &event.cause.flows);
    }

    fn pace(&self, event: &Arc<ValuesCommitted>) {
        if event.origin == Origin::Peer {
            return;
        }
        if let Some(runtime) = self.0.upgrade() {
            runtime.pace(&event.tenant_id, &event.cause.flows);
        }
    }
}
