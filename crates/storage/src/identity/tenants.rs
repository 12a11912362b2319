//! Tenants: [`TenantRepo`] over diesel.

use diesel::prelude::*;
use weir_identity::{Tenant, TenantRepo};
use weir_kernel::TenantId;

use super::IdentityRepo;
use super::rows::*;
use super::shared::*;
use crate::errors::{Found, OrStore};
use crate::schema::*;

impl TenantRepo for IdentityRepo {
    fn tenant(&mut self, id: &TenantId) -> R<Option<Tenant>> {
        tenants::table
            .find(id.as_str())
            .select(TenantRow::as_select())
            .first(self.c())
            .found(TenantRow::into_tenant)
    }

    fn tenants(&mut self) -> R<Vec<Tenant>> {
        tenants::table
            .order(tenants::created_at)
            .select(TenantRow::as_select())
            .load(self.c())
            .or_store()?
            .into_iter()
            .map(TenantRow::into_tenant)
            .collect()
    }

    fn insert_tenant(&mut self, tenant: &Tenant) -> R<()> {
        diesel::insert_into(tenants::table)
            .values(TenantRow::new(tenant))
            .execute(self.c())
            .or_store()
            .map(drop)
    }

    fn update_tenant(&mut self, t: &Tenant) -> R<()> {
        diesel::update(tenants::table.find(t.id.as_str()))
            .set((
                tenants::name.eq(&t.name),
                tenants::parent_id.eq(t.parent_id.as_ref().map(|p| p.as_str())),
                tenants::path.eq(&t.path),
                tenants::sort_order.eq(i64::from(t.order)),
                tenants::enabled.eq(t.enabled),
            ))
            .execute(self.c())
            .or_store()
            .map(drop)
    }

    fn claim_tenant_initialization(&mut self, id: &TenantId) -> R<bool> {
        let n = diesel::update(
            tenants::table
                .find(id.as_str())
                .filter(tenants::initialized.eq(false)),
        )
        .set(tenants::initialized.eq(true))
        .execute(self.c())
        .or_store()?;
        Ok(n == 1)
    }
}
