//! Dashboards: [`DashboardRepo`] over diesel.

use diesel::prelude::*;
use weir_iot::ports::{Dashboard, DashboardRepo};
use weir_kernel::{Id, TenantId};

use super::IotRepo;
use super::rows::*;
use super::shared::*;
use crate::errors::{Found, OrStore};
use crate::schema::*;

impl DashboardRepo for IotRepo {
    fn insert_dashboard(&mut self, dashboard: &Dashboard) -> R<()> {
        diesel::insert_into(dashboards::table)
            .values(DashboardRow::from(dashboard))
            .execute(self.c())
            .or_store()
            .map(drop)
    }

    fn update_dashboard(&mut self, dashboard: &Dashboard) -> R<()> {
        diesel::update(
            dashboards::table
                .find(dashboard.id.get())
                .filter(dashboards::tenant_id.eq(dashboard.tenant_id.as_str())),
        )
        .set(DashboardRow::from(dashboard))
        .execute(self.c())
        .or_store()
        .map(drop)
    }

    fn dashboard(&mut self, t: &TenantId, id: Id) -> R<Option<Dashboard>> {
        dashboards::table
            .find(id.get())
            .filter(dashboards::tenant_id.eq(t.as_str()))
            .select(DashboardRow::as_select())
            .first(self.c())
            .found(DashboardRow::into_dashboard)
    }

    fn dashboard_by_name(&mut self, t: &TenantId, name: &str) -> R<Option<Dashboard>> {
        dashboards::table
            .filter(dashboards::tenant_id.eq(t.as_str()))
            .filter(dashboards::name.eq(name))
            .select(DashboardRow::as_select())
            .first(self.c())
            .found(DashboardRow::into_dashboard)
    }

    fn dashboards(&mut self, t: &TenantId) -> R<Vec<Dashboard>> {
        dashboards::table
            .filter(dashboards::tenant_id.eq(t.as_str()))
            .order((dashboards::created_at.asc(), dashboards::id.asc()))
            .select(DashboardRow::as_select())
            .load(self.c())
            .or_store()?
            .into_iter()
            .map(DashboardRow::into_dashboard)
            .collect()
    }

    fn delete_dashboard(&mut self, t: &TenantId, id: Id) -> R<()> {
        diesel::delete(
            dashboards::table
                .find(id.get())
                .filter(dashboards::tenant_id.eq(t.as_str())),
        )
        .execute(self.c())
        .or_store()
        .map(drop)
    }
}
