//! Devices: added through their integration's add-device service (or ensured by an
//! integration that creates its own), listed, renamed, read with their entities, and
//! deleted through the delete-device service.

use std::collections::BTreeSet;

use serde_json::{Map, Value as Json};
use weir_kernel::store::{read, write};
use weir_kernel::{Id, Page, SearchQuery, StoreError, TenantId};

use super::{IotService, display_name};
use crate::errors::IotError;
use crate::integration::{Integration, NewDevice};
use crate::key::{EntityKey, valid_segment};
use crate::ports::{Device, DeviceFilter, DeviceRepo, Entity};
use crate::viewer::Viewer;

/// Most devices one batch delete may name.
pub const MAX_DEVICE_BATCH: usize = 1000;

impl IotService {
    /// An integration the caller may see.
    fn visible_integration(&self, v: &Viewer, id: &str) -> Result<&dyn Integration, IotError> {
        self.integrations
            .get(id)
            .filter(|_| v.sees_integration(id))
            .map(|i| &**i)
            .ok_or_else(|| IotError::not_found("integration", id))
    }

    /// A device of the caller's tenant that the caller may see.
    fn visible_device(
        &self,
        tx: &mut dyn DeviceRepo,
        v: &Viewer,
        id: Id,
    ) -> Result<Device, IotError> {
        tx.device(&v.tenant_id, id)?
            .filter(|d| v.sees_device(d))
            .ok_or_else(|| IotError::not_found("device", id))
    }

    /// Adds a device through its integration's add-device service, with its entities.
    pub fn create_device(
        &self,
        v: &Viewer,
        name: &str,
        integration: &str,
        params: &Map<String, Json>,
    ) -> Result<Device, IotError> {
        v.require("device.add")?;
        let name = display_name(name)?;
        let plugin = self.visible_integration(v, integration)?;
        let info = plugin.info();
        let service = info
            .add_device
            .as_ref()
            .ok_or_else(|| IotError::CannotAddDevices(integration.into()))?;
        let params = service.by_identifier(&info.service_key(service), params)?;
        let checked = service.check(&params)?;
        let new = plugin.add_device(&name, &checked)?;
        let (device, rows) = self.device_rows(&v.tenant_id, integration, name, &new)?;
        let exists = || IotError::DeviceExists {
            integration: integration.into(),
            identifier: new.identifier.clone(),
        };
        write(self.store(), |tx| {
            if tx
                .device_by_identifier(&v.tenant_id, integration, &device.identifier)?
                .is_some()
            {
                return Err(exists());
            }
            tx.insert_device(&device)?;
            tx.insert_entities(&rows)?;
            Ok(())
        })
        .map_err(|e| match e {
            // Two requests adding the same device at once: the database's unique key decides.
            IotError::Store(StoreError::Conflict(_)) => exists(),
            other => other,
        })?;
        Ok(device)
    }

    /// Makes sure a device an integration creates itself exists (the `demo` integration's
    /// devices, which users cannot add): when the viewer's tenant has no device
    /// `new.identifier` of `integration`, it is inserted with `new.entities`; when it has
    /// one, it is kept as it is (name included) and only the declared entities it lacks are
    /// added. Returns the device. This bypasses the add-device service, so it is meant for
    /// integrations acting as [`Viewer::system`]; it still needs `device.add`.
    pub fn ensure_device(
        &self,
        v: &Viewer,
        integration: &str,
        name: &str,
        new: &NewDevice,
    ) -> Result<Device, IotError> {
        v.require("device.add")?;
        let name = display_name(name)?;
        self.visible_integration(v, integration)?;
        let (device, rows) = self.device_rows(&v.tenant_id, integration, name, new)?;
        let attempt = || {
            write(self.store(), |tx| {
                let Some(existing) =
                    tx.device_by_identifier(&v.tenant_id, integration, &device.identifier)?
                else {
                    tx.insert_device(&device)?;
                    tx.insert_entities(&rows)?;
                    return Ok(device.clone());
                };
                let have: BTreeSet<String> = tx
                    .entities_of_device(&v.tenant_id, existing.id)?
                    .into_iter()
                    .map(|e| e.key)
                    .collect();
                let missing: Vec<Entity> = rows
                    .iter()
                    .filter(|r| !have.contains(&r.key))
                    .map(|r| Entity {
                        device_id: Some(existing.id),
                        ..r.clone()
                    })
                    .collect();
                if !missing.is_empty() {
                    tx.insert_entities(&missing)?;
                }
                Ok(existing)
            })
        };
        match attempt() {
            // Another process ensured the same device at the same moment: it exists now.
            Err(IotError::Store(StoreError::Conflict(_))) => attempt(),
            other => other,
        }
    }

    /// The device row and its entity rows for a device an integration described; checks
    /// the identifier and every entity definition first.
    fn device_rows(
        &self,
        tenant: &TenantId,
        integration: &str,
        name: String,
        new: &NewDevice,
    ) -> Result<(Device, Vec<Entity>), IotError> {
        if !valid_segment(&new.identifier) {
            return Err(IotError::invalid(
                "identifier",
                "must be 1 to 64 letters, digits, '_', '-' or ':'",
            ));
        }
        for def in &new.entities {
            def.check()
                .map_err(|e| IotError::invalid(format!("entities.{}", e.field), e.message))?;
        }
        let now = self.clock.now_ms();
        let device = Device {
            id: self.ids.next_id(),
            tenant_id: tenant.clone(),
            integration: integration.into(),
            identifier: new.identifier.clone(),
            name,
            additional: new.additional.clone(),
            created_at: now,
            updated_at: now,
        };
        let rows: Vec<Entity> = new
            .entities
            .iter()
            .flat_map(|def| {
                let key = EntityKey::device(integration, &device.identifier, &def.identifier);
                self.entity_rows(tenant, integration, Some(device.id), &key, def, now)
            })
            .collect();
        Ok((device, rows))
    }

    /// Devices the caller may see, whose name contains the keyword; newest first.
    pub fn search_devices(&self, v: &Viewer, q: &SearchQuery) -> Result<Page<Device>, IotError> {
        v.require("device.view")?;
        let page = q.page(self.settings.max_page_size, &[])?;
        let filter = DeviceFilter {
            keyword: q.keyword().map(str::to_owned),
            visible: v.visible().cloned(),
        };
        let (devices, total) = read(self.store(), |tx| {
            tx.search_devices(&v.tenant_id, &filter, &page)
        })?;
        Ok(Page::new(&page, total, devices))
    }

    /// The devices among `ids` the caller may see.
    pub fn devices_by_ids(&self, v: &Viewer, ids: &[Id]) -> Result<Vec<Device>, IotError> {
        v.require("device.view")?;
        let found = read(self.store(), |tx| tx.devices(&v.tenant_id, ids))?;
        Ok(found.into_iter().filter(|d| v.sees_device(d)).collect())
    }

    /// Renames a device the caller sees; needs `device.edit`. The name is trimmed, 1 to 64
    /// characters.
    pub fn rename_device(&self, v: &Viewer, id: Id, name: &str) -> Result<(), IotError> {
        v.require("device.edit")?;
        let name = display_name(name)?;
        let now = self.clock.now_ms();
        write(self.store(), |tx| {
            self.visible_device(tx, v, id)?;
            Ok(tx.rename_device(&v.tenant_id, id, &name, now)?)
        })
    }

    /// A device with the entities of it the caller may see.
    pub fn device_details(&self, v: &Viewer, id: Id) -> Result<(Device, Vec<Entity>), IotError> {
        v.require("device.view")?;
        read(self.store(), |tx| {
            let device = self.visible_device(tx, v, id)?;
            let entities = tx
                .entities_of_device(&v.tenant_id, id)?
                .into_iter()
                .filter(|e| v.sees_entity(e))
                .collect();
            Ok((device, entities))
        })
    }

    /// Deletes devices (all or none) through their integrations' delete-device services;
    /// their entities and values go with them.
    pub fn delete_devices(&self, v: &Viewer, ids: &[Id]) -> Result<(), IotError> {
        v.require("device.delete")?;
        if ids.is_empty() || ids.len() > MAX_DEVICE_BATCH {
            return Err(IotError::invalid(
                "device_id_list",
                format!("must name 1 to {MAX_DEVICE_BATCH} devices"),
            ));
        }
        let devices = read(self.store(), |tx| {
            ids.iter()
                .map(|id| self.visible_device(tx, v, *id))
                .collect::<Result<Vec<_>, _>>()
        })?;
        // The devices are visible to the caller; their integrations need not be (a DEVICE
        // grant reaches the device, not its integration). A device whose integration is no
        // longer registered (the demo turned off, a plug-in removed) has nobody to ask, so
        // it can always be deleted.
        let mut plugins = Vec::with_capacity(devices.len());
        for d in &devices {
            let Some(plugin) = self.integrations.get(&d.integration) else {
                continue;
            };
            if plugin.info().delete_device.is_none() {
                return Err(IotError::CannotDeleteDevices(d.integration.clone()));
            }
            plugins.push((plugin, &d.identifier));
        }
        for (plugin, identifier) in plugins {
            plugin.delete_device(identifier)?;
        }
        write(self.store(), |tx| {
            Ok(tx.delete_devices(&v.tenant_id, ids).map(drop)?)
        })
    }
}
