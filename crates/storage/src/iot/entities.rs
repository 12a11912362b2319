//! Entities: [`EntityRepo`] over diesel.

use diesel::prelude::*;
use weir_iot::ports::{Entity, EntityFilter, EntityRepo};
use weir_iot::service::SYSTEM_INTEGRATION;
use weir_kernel::{Id, PageRequest, TenantId};

use super::IotRepo;
use super::rows::*;
use super::shared::*;
use crate::backend::{MultiBackend, on_each_backend};
use crate::errors::{Found, OrStore};
use crate::filters::{contains_pattern, ids, keyword};
use crate::schema::*;

fn load_entities(rows: Vec<EntityRow>) -> R<Vec<Entity>> {
    rows.into_iter().map(EntityRow::into_entity).collect()
}

fn entities_matching<'a>(
    t: &'a TenantId,
    f: &EntityFilter,
) -> entities::BoxedQuery<'a, MultiBackend> {
    let mut q = entities::table
        .filter(entities::tenant_id.eq(t.as_str()))
        .into_boxed();
    if let Some(k) = keyword(f.keyword.as_deref()) {
        let pat = contains_pattern(k);
        q = q.filter(
            entities::key_folded
                .like(pat.clone())
                .escape('\\')
                .or(entities::name_folded.like(pat).escape('\\')),
        );
    }
    if !f.entity_types.is_empty() {
        q = q.filter(
            entities::entity_type.eq_any(f.entity_types.iter().map(enum_text).collect::<Vec<_>>()),
        );
    }
    if !f.value_types.is_empty() {
        q = q.filter(
            entities::value_type.eq_any(f.value_types.iter().map(enum_text).collect::<Vec<_>>()),
        );
    }
    if !f.access_mods.is_empty() {
        q = q.filter(
            entities::access_mod.eq_any(f.access_mods.iter().map(enum_text).collect::<Vec<_>>()),
        );
    }
    if f.exclude_children {
        q = q.filter(entities::parent_key.is_null());
    }
    match f.customized {
        Some(true) => {
            q = q.filter(
                entities::integration
                    .eq(SYSTEM_INTEGRATION)
                    .and(entities::device_id.is_null()),
            );
        }
        Some(false) => {
            q = q.filter(
                entities::integration
                    .ne(SYSTEM_INTEGRATION)
                    .or(entities::device_id.is_not_null()),
            );
        }
        None => {}
    }
    if let Some(v) = &f.visible {
        q = q.filter(
            entities::id
                .eq_any(ids(&v.entities))
                .or(entities::device_id.eq_any(ids(&v.devices)))
                .or(entities::integration.eq_any(v.integrations.clone())),
        );
    }
    q
}

impl EntityRepo for IotRepo {
    fn insert_entities(&mut self, list: &[Entity]) -> R<()> {
        let rows: Vec<EntityRow> = list.iter().map(EntityRow::from).collect();
        for chunk in rows.chunks(CHUNK) {
            on_each_backend!(self.c(), |c| diesel::insert_into(entities::table)
                .values(chunk)
                .execute(c))
            .or_store()?;
        }
        Ok(())
    }

    fn update_entity(&mut self, entity: &Entity) -> R<()> {
        diesel::update(
            entities::table
                .find(entity.id.get())
                .filter(entities::tenant_id.eq(entity.tenant_id.as_str())),
        )
        .set(EntityRow::from(entity))
        .execute(self.c())
        .or_store()
        .map(drop)
    }

    fn entity(&mut self, t: &TenantId, id: Id) -> R<Option<Entity>> {
        entities::table
            .find(id.get())
            .filter(entities::tenant_id.eq(t.as_str()))
            .select(EntityRow::as_select())
            .first(self.c())
            .found(EntityRow::into_entity)
    }

    fn entities(&mut self, t: &TenantId, wanted: &[Id]) -> R<Vec<Entity>> {
        let mut out = Vec::new();
        for chunk in ids(wanted).chunks(CHUNK) {
            let rows = entities::table
                .filter(entities::tenant_id.eq(t.as_str()))
                .filter(entities::id.eq_any(chunk))
                .select(EntityRow::as_select())
                .load(self.c())
                .or_store()?;
            out.extend(load_entities(rows)?);
        }
        Ok(out)
    }

    fn entities_by_keys(&mut self, t: &TenantId, keys: &[String]) -> R<Vec<Entity>> {
        let mut out = Vec::new();
        for chunk in keys.chunks(CHUNK) {
            let rows = entities::table
                .filter(entities::tenant_id.eq(t.as_str()))
                .filter(entities::entity_key.eq_any(chunk))
                .select(EntityRow::as_select())
                .load(self.c())
                .or_store()?;
            out.extend(load_entities(rows)?);
        }
        Ok(out)
    }

    fn integration_entities(&mut self, t: &TenantId, integration: &str) -> R<Vec<Entity>> {
        load_entities(
            entities::table
                .filter(entities::tenant_id.eq(t.as_str()))
                .filter(entities::integration.eq(integration))
                .filter(entities::device_id.is_null())
                .order(entities::entity_key.asc())
                .select(EntityRow::as_select())
                .load(self.c())
                .or_store()?,
        )
    }

    fn entities_of_device(&mut self, t: &TenantId, device: Id) -> R<Vec<Entity>> {
        load_entities(
            entities::table
                .filter(entities::tenant_id.eq(t.as_str()))
                .filter(entities::device_id.eq(device.get()))
                .order(entities::entity_key.asc())
                .select(EntityRow::as_select())
                .load(self.c())
                .or_store()?,
        )
    }

    fn children(&mut self, t: &TenantId, parent_key: &str) -> R<Vec<Entity>> {
        load_entities(
            entities::table
                .filter(entities::tenant_id.eq(t.as_str()))
                .filter(entities::parent_key.eq(parent_key))
                .order(entities::entity_key.asc())
                .select(EntityRow::as_select())
                .load(self.c())
                .or_store()?,
        )
    }

    fn search_entities(
        &mut self,
        t: &TenantId,
        f: &EntityFilter,
        page: &PageRequest,
    ) -> R<(Vec<Entity>, i64)> {
        let total: i64 = entities_matching(t, f)
            .count()
            .get_result(self.c())
            .or_store()?;
        let rows = entities_matching(t, f)
            .order(entities::entity_key.asc())
            .offset(page.offset())
            .limit(page.limit())
            .select(EntityRow::as_select())
            .load(self.c())
            .or_store()?;
        Ok((load_entities(rows)?, total))
    }

    fn delete_entities(&mut self, t: &TenantId, wanted: &[Id]) -> R<usize> {
        let keys: Vec<String> = entities::table
            .filter(entities::tenant_id.eq(t.as_str()))
            .filter(entities::id.eq_any(ids(wanted)))
            .select(entities::entity_key)
            .load(self.c())
            .or_store()?;
        let all: Vec<i64> = entities::table
            .filter(entities::tenant_id.eq(t.as_str()))
            .filter(
                entities::id
                    .eq_any(ids(wanted))
                    .or(entities::parent_key.eq_any(&keys)),
            )
            .select(entities::id)
            .load(self.c())
            .or_store()?;
        self.delete_values(t, &all)?;
        let mut deleted = 0;
        for chunk in all.chunks(CHUNK) {
            deleted += diesel::delete(
                entities::table
                    .filter(entities::tenant_id.eq(t.as_str()))
                    .filter(entities::id.eq_any(chunk)),
            )
            .execute(self.c())
            .or_store()?;
        }
        Ok(deleted)
    }
}
