//! Wires the workflow engine to the rest of Weir: its `Entities` port over the IoT
//! use-cases, the IoT event bus to `eventListener` flows, and the script, webhook and mail
//! adapters.

use std::sync::Arc;

use serde_json::{Map, Value as Json};
use weir_iot::service::WriteKind;
use weir_iot::{IotService, Viewer};
use weir_kernel::TenantId;
use weir_workflow::engine::{Entities, NodeError};
use weir_workflow::runtime::Runtime;

/// The workflow's view of the IoT domain: a flow acts with every right in its tenant, as
/// the user who enabled it configured it.
pub struct IotEntities(pub Arc<IotService>);

fn node_error(e: weir_iot::errors::IotError) -> NodeError {
    NodeError(e.to_string())
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

    fn assign(&self, tenant: &TenantId, values: &Map<String, Json>) -> Result<(), NodeError> {
        self.0
            .write_values(
                &Viewer::system(tenant.clone()),
                values,
                WriteKind::PropertyUpdate,
                None,
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
            .write_values(
                &Viewer::system(tenant.clone()),
                &exchange,
                WriteKind::ServiceCall,
                None,
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

/// Hands every committed value to the flows listening to it, until the bus closes.
pub async fn listen(iot: Arc<IotService>, runtime: Runtime) {
    let mut events = iot.events().subscribe();
    while let Some(event) = events.next().await {
        let values: Vec<(String, Json)> = event
            .values
            .iter()
            .map(|v| (v.key.clone(), v.value.to_json()))
            .collect();
        runtime.on_values(&event.tenant_id, &values).await;
    }
}
