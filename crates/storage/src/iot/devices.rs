//! Devices and their tokens: [`DeviceRepo`] over diesel.

use std::collections::HashMap;

use diesel::dsl::count_star;
use diesel::prelude::*;
use weir_iot::ports::{Device, DeviceFilter, DeviceRepo};
use weir_kernel::{Id, Millis, PageRequest, TenantId};

use super::IotRepo;
use super::rows::*;
use super::shared::*;
use crate::backend::MultiBackend;
use crate::errors::{Found, OrStore};
use crate::filters::{contains_pattern, ids, keyword};
use crate::schema::*;

fn devices_matching<'a>(
    t: &'a TenantId,
    f: &DeviceFilter,
) -> devices::BoxedQuery<'a, MultiBackend> {
    let mut q = devices::table
        .filter(devices::tenant_id.eq(t.as_str()))
        .into_boxed();
    if let Some(k) = keyword(f.keyword.as_deref()) {
        q = q.filter(devices::name_folded.like(contains_pattern(k)).escape('\\'));
    }
    if let Some(v) = &f.visible {
        q = q.filter(
            devices::id
                .eq_any(ids(&v.devices))
                .or(devices::integration.eq_any(v.integrations.clone())),
        );
    }
    q
}

impl DeviceRepo for IotRepo {
    fn insert_device(&mut self, device: &Device) -> R<()> {
        diesel::insert_into(devices::table)
            .values(DeviceRow::from(device))
            .execute(self.c())
            .or_store()
            .map(drop)
    }

    fn device(&mut self, t: &TenantId, id: Id) -> R<Option<Device>> {
        devices::table
            .find(id.get())
            .filter(devices::tenant_id.eq(t.as_str()))
            .select(DeviceRow::as_select())
            .first(self.c())
            .found(DeviceRow::into_device)
    }

    fn device_by_identifier(
        &mut self,
        t: &TenantId,
        integration: &str,
        identifier: &str,
    ) -> R<Option<Device>> {
        devices::table
            .filter(devices::tenant_id.eq(t.as_str()))
            .filter(devices::integration.eq(integration))
            .filter(devices::identifier.eq(identifier))
            .select(DeviceRow::as_select())
            .first(self.c())
            .found(DeviceRow::into_device)
    }

    fn devices(&mut self, t: &TenantId, wanted: &[Id]) -> R<Vec<Device>> {
        devices::table
            .filter(devices::tenant_id.eq(t.as_str()))
            .filter(devices::id.eq_any(ids(wanted)))
            .select(DeviceRow::as_select())
            .load(self.c())
            .or_store()?
            .into_iter()
            .map(DeviceRow::into_device)
            .collect()
    }

    fn rename_device(&mut self, t: &TenantId, id: Id, name: &str, now: Millis) -> R<()> {
        diesel::update(
            devices::table
                .find(id.get())
                .filter(devices::tenant_id.eq(t.as_str())),
        )
        .set((
            devices::name.eq(name),
            devices::name_folded.eq(name.to_lowercase()),
            devices::updated_at.eq(now),
        ))
        .execute(self.c())
        .or_store()
        .map(drop)
    }

    fn search_devices(
        &mut self,
        t: &TenantId,
        f: &DeviceFilter,
        page: &PageRequest,
    ) -> R<(Vec<Device>, i64)> {
        let total: i64 = devices_matching(t, f)
            .count()
            .get_result(self.c())
            .or_store()?;
        let rows: Vec<DeviceRow> = devices_matching(t, f)
            .order((devices::created_at.desc(), devices::id.desc()))
            .offset(page.offset())
            .limit(page.limit())
            .select(DeviceRow::as_select())
            .load(self.c())
            .or_store()?;
        Ok((
            rows.into_iter()
                .map(DeviceRow::into_device)
                .collect::<R<_>>()?,
            total,
        ))
    }

    fn delete_devices(&mut self, t: &TenantId, wanted: &[Id]) -> R<usize> {
        let entity_ids: Vec<i64> = entities::table
            .filter(entities::tenant_id.eq(t.as_str()))
            .filter(entities::device_id.eq_any(ids(wanted)))
            .select(entities::id)
            .load(self.c())
            .or_store()?;
        self.delete_values(t, &entity_ids)?;
        // Entities go with their device (ON DELETE CASCADE).
        diesel::delete(
            devices::table
                .filter(devices::tenant_id.eq(t.as_str()))
                .filter(devices::id.eq_any(ids(wanted))),
        )
        .execute(self.c())
        .or_store()
    }

    fn counts_by_integration(&mut self, t: &TenantId) -> R<Vec<(String, i64, i64)>> {
        let devices: Vec<(String, i64)> = devices::table
            .filter(devices::tenant_id.eq(t.as_str()))
            .group_by(devices::integration)
            .select((devices::integration, count_star()))
            .load(self.c())
            .or_store()?;
        let entities: Vec<(String, i64)> = entities::table
            .filter(entities::tenant_id.eq(t.as_str()))
            .group_by(entities::integration)
            .select((entities::integration, count_star()))
            .load(self.c())
            .or_store()?;
        let mut by: HashMap<String, (i64, i64)> = HashMap::new();
        for (i, n) in devices {
            by.entry(i).or_default().0 = n;
        }
        for (i, n) in entities {
            by.entry(i).or_default().1 = n;
        }
        let mut out: Vec<(String, i64, i64)> =
            by.into_iter().map(|(i, (d, e))| (i, d, e)).collect();
        out.sort();
        Ok(out)
    }

    fn set_device_token(&mut self, t: &TenantId, device: Id, hash: &str, now: Millis) -> R<()> {
        diesel::delete(
            device_tokens::table
                .filter(device_tokens::tenant_id.eq(t.as_str()))
                .filter(device_tokens::device_id.eq(device.get())),
        )
        .execute(self.c())
        .or_store()?;
        diesel::insert_into(device_tokens::table)
            .values((
                device_tokens::token_hash.eq(hash),
                device_tokens::tenant_id.eq(t.as_str()),
                device_tokens::device_id.eq(device.get()),
                device_tokens::created_at.eq(now),
            ))
            .execute(self.c())
            .or_store()?;
        Ok(())
    }

    fn device_by_token(&mut self, hash: &str) -> R<Option<Device>> {
        device_tokens::table
            .inner_join(devices::table)
            .filter(device_tokens::token_hash.eq(hash))
            .select(DeviceRow::as_select())
            .first(self.c())
            .found(DeviceRow::into_device)
    }
}
