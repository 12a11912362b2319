//! The identity domain's [`ResourceDirectory`] over the IoT and workflow stores and the
//! registered integrations: a role is granted only objects its tenant has, so an id of
//! another tenant's device, flow or dashboard is "not found" and nothing is stored.

use std::sync::Arc;

use weir_identity::{ResourceDirectory, ResourceRef, ResourceType};
use weir_iot::integration::IntegrationRegistry;
use weir_iot::ports::IotStore;
use weir_kernel::store::read;
use weir_kernel::{Id, StoreError, TenantId};
use weir_workflow::WorkflowStore;

pub struct TenantResources {
    pub iot: Arc<IotStore>,
    pub workflow: Arc<WorkflowStore>,
    pub integrations: Arc<IntegrationRegistry>,
}

impl ResourceDirectory for TenantResources {
    fn first_missing(
        &self,
        t: &TenantId,
        items: &[ResourceRef],
    ) -> Result<Option<ResourceRef>, StoreError> {
        for item in items {
            if !self.exists(t, item)? {
                return Ok(Some(item.clone()));
            }
        }
        Ok(None)
    }
}

impl TenantResources {
    fn exists(&self, t: &TenantId, item: &ResourceRef) -> Result<bool, StoreError> {
        if item.resource_type == ResourceType::Integration {
            // Integrations are registered for every tenant alike.
            return Ok(self.integrations.get(&item.resource_id).is_some());
        }
        let Ok(id) = item.resource_id.parse::<Id>() else {
            return Ok(false);
        };
        match item.resource_type {
            ResourceType::Device => read(&*self.iot, |tx| Ok(tx.device(t, id)?.is_some())),
            ResourceType::Entity => read(&*self.iot, |tx| Ok(tx.entity(t, id)?.is_some())),
            ResourceType::Dashboard => read(&*self.iot, |tx| Ok(tx.dashboard(t, id)?.is_some())),
            ResourceType::Workflow => read(&*self.workflow, |tx| Ok(tx.flow(t, id)?.is_some())),
            ResourceType::Integration => unreachable!("answered above"),
        }
    }
}
