//! Resources granted to roles: [`ResourceGrantRepo`] over diesel.

use diesel::dsl::exists;
use diesel::prelude::*;
use weir_identity::{ResourceGrantRepo, ResourceRef, ResourceType};
use weir_kernel::{Id, StoreError, TenantId};

use super::IdentityRepo;
use super::rows::*;
use super::shared::*;
use crate::backend::insert_ignoring_duplicates;
use crate::errors::OrStore;
use crate::schema::*;

/// Grant rows read back as resource references.
fn resource_refs(rows: Vec<(String, String)>) -> R<Vec<ResourceRef>> {
    rows.into_iter()
        .map(|(kind, id)| {
            ResourceRef::parse("resource_type", "resource_id", &kind, &id)
                .map_err(|e| StoreError::Internal(e.to_string()))
        })
        .collect()
}

impl ResourceGrantRepo for IdentityRepo {
    fn add_role_resources(&mut self, t: &TenantId, role: Id, items: &[ResourceRef]) -> R<()> {
        let rows: Vec<RoleResourceRow> = items
            .iter()
            .map(|r| RoleResourceRow {
                role_id: role.get(),
                resource_type: r.resource_type.as_str(),
                resource_id: &r.resource_id,
                tenant_id: t.as_str(),
            })
            .collect();
        insert_ignoring_duplicates!(self.c(), role_resources::table, &rows).map(drop)
    }

    fn remove_role_resources(&mut self, t: &TenantId, role: Id, items: &[ResourceRef]) -> R<()> {
        for r in items {
            diesel::delete(
                role_resources::table
                    .filter(role_resources::tenant_id.eq(t.as_str()))
                    .filter(role_resources::role_id.eq(role.get()))
                    .filter(role_resources::resource_type.eq(r.resource_type.as_str()))
                    .filter(role_resources::resource_id.eq(&r.resource_id)),
            )
            .execute(self.c())
            .or_store()?;
        }
        Ok(())
    }

    fn role_resources(
        &mut self,
        t: &TenantId,
        role: Id,
        kind: Option<ResourceType>,
    ) -> R<Vec<ResourceRef>> {
        let mut q = role_resources::table
            .filter(role_resources::tenant_id.eq(t.as_str()))
            .filter(role_resources::role_id.eq(role.get()))
            .into_boxed();
        if let Some(kind) = kind {
            q = q.filter(role_resources::resource_type.eq(kind.as_str()));
        }
        let rows: Vec<(String, String)> = q
            .order((
                role_resources::resource_type.asc(),
                role_resources::resource_id.asc(),
            ))
            .select((role_resources::resource_type, role_resources::resource_id))
            .load(self.c())
            .or_store()?;
        resource_refs(rows)
    }

    fn user_has_resource(&mut self, t: &TenantId, user: Id, item: &ResourceRef) -> R<bool> {
        diesel::select(exists(
            role_resources::table
                .filter(role_resources::tenant_id.eq(t.as_str()))
                .filter(role_resources::resource_type.eq(item.resource_type.as_str()))
                .filter(role_resources::resource_id.eq(&item.resource_id))
                .filter(role_resources::role_id.eq_any(roles_of_user!(t, user))),
        ))
        .get_result(self.c())
        .or_store()
    }

    fn resources_of_user(&mut self, t: &TenantId, user: Id) -> R<Vec<ResourceRef>> {
        let rows: Vec<(String, String)> = role_resources::table
            .filter(role_resources::tenant_id.eq(t.as_str()))
            .filter(role_resources::role_id.eq_any(roles_of_user!(t, user)))
            .select((role_resources::resource_type, role_resources::resource_id))
            .distinct()
            .load(self.c())
            .or_store()?;
        resource_refs(rows)
    }
}
