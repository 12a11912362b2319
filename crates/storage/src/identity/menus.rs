//! Menus and the roles that grant them: [`MenuRepo`] over diesel.

use diesel::prelude::*;
use weir_identity::{Menu, MenuRepo};
use weir_kernel::{Id, TenantId};

use super::IdentityRepo;
use super::rows::*;
use super::shared::*;
use crate::backend::insert_ignoring_duplicates;
use crate::errors::{Found, OrStore};
use crate::filters::ids;
use crate::schema::*;

fn load_menus(rows: Vec<MenuRow>) -> R<Vec<Menu>> {
    rows.into_iter().map(MenuRow::into_menu).collect()
}

/// The tenant's menus granted by the `role_menus` rows `which` selects, oldest first, as
/// one query. (A macro, as the two callers' subqueries have different diesel types.)
macro_rules! menus_granted {
    ($t:expr, $which:expr) => {
        menus::table
            .filter(menus::tenant_id.eq($t.as_str()))
            .filter(
                menus::id.eq_any(
                    role_menus::table
                        .filter(role_menus::tenant_id.eq($t.as_str()))
                        .filter($which)
                        .select(role_menus::menu_id),
                ),
            )
            .order((menus::created_at.asc(), menus::id.asc()))
            .select(MenuRow::as_select())
    };
}

impl MenuRepo for IdentityRepo {
    fn insert_menu(&mut self, menu: &Menu) -> R<()> {
        diesel::insert_into(menus::table)
            .values(MenuRow::from(menu))
            .execute(self.c())
            .or_store()
            .map(drop)
    }

    fn update_menu(&mut self, menu: &Menu) -> R<()> {
        diesel::update(
            menus::table
                .find(menu.id.get())
                .filter(menus::tenant_id.eq(menu.tenant_id.as_str())),
        )
        .set(MenuRow::from(menu))
        .execute(self.c())
        .or_store()
        .map(drop)
    }

    fn menu(&mut self, t: &TenantId, id: Id) -> R<Option<Menu>> {
        menus::table
            .find(id.get())
            .filter(menus::tenant_id.eq(t.as_str()))
            .select(MenuRow::as_select())
            .first(self.c())
            .found(MenuRow::into_menu)
    }

    fn menu_by_code(&mut self, t: &TenantId, code: &str) -> R<Option<Menu>> {
        menus::table
            .filter(menus::tenant_id.eq(t.as_str()))
            .filter(menus::code.eq(code))
            .select(MenuRow::as_select())
            .first(self.c())
            .found(MenuRow::into_menu)
    }

    fn menus(&mut self, t: &TenantId) -> R<Vec<Menu>> {
        load_menus(
            menus::table
                .filter(menus::tenant_id.eq(t.as_str()))
                .order((menus::created_at.asc(), menus::id.asc()))
                .select(MenuRow::as_select())
                .load(self.c())
                .or_store()?,
        )
    }

    fn menus_by_ids(&mut self, t: &TenantId, wanted: &[Id]) -> R<Vec<Menu>> {
        load_menus(
            menus::table
                .filter(menus::tenant_id.eq(t.as_str()))
                .filter(menus::id.eq_any(ids(wanted)))
                .select(MenuRow::as_select())
                .load(self.c())
                .or_store()?,
        )
    }

    fn count_menu_children(&mut self, t: &TenantId, id: Id) -> R<i64> {
        menus::table
            .filter(menus::tenant_id.eq(t.as_str()))
            .filter(menus::parent_id.eq(id.get()))
            .count()
            .get_result(self.c())
            .or_store()
    }

    fn delete_menu(&mut self, t: &TenantId, id: Id) -> R<()> {
        diesel::delete(
            menus::table
                .find(id.get())
                .filter(menus::tenant_id.eq(t.as_str())),
        )
        .execute(self.c())
        .or_store()
        .map(drop)
    }

    fn add_role_menus(&mut self, t: &TenantId, role: Id, wanted: &[Id]) -> R<()> {
        let rows: Vec<RoleMenuRow> = wanted
            .iter()
            .map(|m| RoleMenuRow {
                role_id: role.get(),
                menu_id: m.get(),
                tenant_id: t.as_str(),
            })
            .collect();
        insert_ignoring_duplicates!(self.c(), role_menus::table, &rows).map(drop)
    }

    fn remove_role_menus(&mut self, t: &TenantId, role: Id, wanted: &[Id]) -> R<()> {
        diesel::delete(
            role_menus::table
                .filter(role_menus::tenant_id.eq(t.as_str()))
                .filter(role_menus::role_id.eq(role.get()))
                .filter(role_menus::menu_id.eq_any(ids(wanted))),
        )
        .execute(self.c())
        .or_store()
        .map(drop)
    }

    fn role_menus(&mut self, t: &TenantId, role: Id) -> R<Vec<Menu>> {
        let rows = menus_granted!(t, role_menus::role_id.eq(role.get()))
            .load(self.c())
            .or_store()?;
        load_menus(rows)
    }

    fn menus_of_user(&mut self, t: &TenantId, user: Id) -> R<Vec<Menu>> {
        let rows = menus_granted!(t, role_menus::role_id.eq_any(roles_of_user!(t, user)))
            .load(self.c())
            .or_store()?;
        load_menus(rows)
    }

    fn menu_codes_of_roles(&mut self, t: &TenantId, roles: &[Id]) -> R<Vec<String>> {
        role_menus::table
            .inner_join(menus::table)
            .filter(role_menus::tenant_id.eq(t.as_str()))
            .filter(role_menus::role_id.eq_any(ids(roles)))
            .select(menus::code)
            .distinct()
            .load(self.c())
            .or_store()
    }

    fn set_role_menus(&mut self, t: &TenantId, role: Id, wanted: &[Id]) -> R<()> {
        diesel::delete(
            role_menus::table
                .filter(role_menus::tenant_id.eq(t.as_str()))
                .filter(role_menus::role_id.eq(role.get())),
        )
        .execute(self.c())
        .or_store()?;
        self.add_role_menus(t, role, wanted)
    }
}
