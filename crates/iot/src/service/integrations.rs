//! Integrations as a tenant sees them: what they are, how many devices and entities they
//! have, and their own entities (kept in storage so values can be written to them).

use std::collections::HashSet;

use weir_kernel::TenantId;
use weir_kernel::store::{read, write};

use super::IotService;
use crate::errors::IotError;
use crate::integration::IntegrationInfo;
use crate::key::EntityKey;
use crate::ports::Entity;
use crate::viewer::Viewer;

#[derive(Debug, Clone)]
/// An integration with how much of the tenant it owns.
pub struct IntegrationSummary {
    /// What the integration says about itself.
    pub info: IntegrationInfo,
    /// How many devices of the tenant it owns.
    pub device_count: i64,
    /// How many entities of the tenant it owns (of its devices and its own, children included).
    pub entity_count: i64,
}

/// Who may list integrations: their own page, and the device pages that pick one.
const LIST_CODES: &[&str] = &["integration.view", "device.view", "device.add"];

impl IotService {
    /// Stores the integrations' own entities that the tenant does not have yet (at start,
    /// and when a tenant is added).
    pub fn ensure_integration_entities(&self, tenant: &TenantId) -> Result<(), IotError> {
        let now = self.clock.now_ms();
        write(self.store(), |tx| {
            for integration in self.integrations.all() {
                let info = integration.info();
                let have: HashSet<String> = tx
                    .integration_entities(tenant, &info.id)?
                    .into_iter()
                    .map(|e| e.key)
                    .collect();
                let services = info.add_device.iter().chain(&info.delete_device);
                let mut rows = Vec::new();
                for def in info.entities.iter() {
                    let key = EntityKey::integration(&info.id, &def.identifier);
                    if !have.contains(&key.to_string()) {
                        rows.extend(self.entity_rows(tenant, &info.id, None, &key, def, now));
                    }
                }
                for service in services {
                    let key = EntityKey::integration(&info.id, &service.identifier);
                    if !have.contains(&key.to_string()) {
                        rows.extend(self.entity_rows(
                            tenant,
                            &info.id,
                            None,
                            &key,
                            &service.as_definition(),
                            now,
                        ));
                    }
                }
                tx.insert_entities(&rows)?;
            }
            Ok(())
        })
    }

    /// The integrations the caller may see, optionally only those that can add or delete
    /// devices, with their device and entity counts in the caller's tenant.
    pub fn integrations(
        &self,
        v: &Viewer,
        device_addable: Option<bool>,
        device_deletable: Option<bool>,
    ) -> Result<Vec<IntegrationSummary>, IotError> {
        v.require_any(LIST_CODES)?;
        let counts = read(self.store(), |tx| tx.counts_by_integration(&v.tenant_id))?;
        Ok(self
            .integrations
            .all()
            .map(|i| i.info())
            .filter(|info| v.sees_integration(&info.id))
            .filter(|info| device_addable.is_none_or(|want| info.add_device.is_some() == want))
            .filter(|info| device_deletable.is_none_or(|want| info.delete_device.is_some() == want))
            .map(|info| {
                let (_, devices, entities) = counts
                    .iter()
                    .find(|(id, ..)| *id == info.id)
                    .cloned()
                    .unwrap_or_default();
                IntegrationSummary {
                    info: info.clone(),
                    device_count: devices,
                    entity_count: entities,
                }
            })
            .collect())
    }

    /// One integration with its own entities.
    pub fn integration(
        &self,
        v: &Viewer,
        id: &str,
    ) -> Result<(IntegrationSummary, Vec<Entity>), IotError> {
        let summary = self
            .integrations(v, None, None)?
            .into_iter()
            .find(|s| s.info.id == id)
            .ok_or_else(|| IotError::not_found("integration", id))?;
        let entities = read(self.store(), |tx| tx.integration_entities(&v.tenant_id, id))?;
        Ok((summary, entities))
    }
}
