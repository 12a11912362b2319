//! User groups, their members and the roles granted to them: [`GroupRepo`] over diesel.

use diesel::prelude::*;
use weir_identity::{Group, GroupLink, GroupRepo};
use weir_kernel::{Id, TenantId};

use super::IdentityRepo;
use super::rows::*;
use super::shared::*;
use crate::backend::insert_ignoring_duplicates;
use crate::errors::{Found, OrStore};
use crate::filters::escape_like;
use crate::schema::*;

fn load_groups(rows: Vec<GroupRow>) -> R<Vec<Group>> {
    rows.into_iter().map(GroupRow::into_group).collect()
}

fn group_links(rows: Vec<(GroupRow, bool)>) -> R<Vec<GroupLink>> {
    rows.into_iter()
        .map(|(g, is_default)| {
            Ok(GroupLink {
                group: g.into_group()?,
                is_default,
            })
        })
        .collect()
}

impl GroupRepo for IdentityRepo {
    fn insert_group(&mut self, group: &Group) -> R<()> {
        diesel::insert_into(user_groups::table)
            .values(GroupRow::from(group))
            .execute(self.c())
            .or_store()
            .map(drop)
    }

    fn update_group(&mut self, g: &Group) -> R<()> {
        diesel::update(
            user_groups::table
                .filter(user_groups::tenant_id.eq(g.tenant_id.as_str()))
                .filter(user_groups::id.eq(&g.id)),
        )
        .set((
            user_groups::name.eq(&g.name),
            user_groups::alias.eq(&g.alias),
            user_groups::description.eq(&g.description),
            user_groups::code.eq(&g.code),
            user_groups::parent_id.eq(&g.parent_id),
            user_groups::path.eq(&g.path),
        ))
        .execute(self.c())
        .or_store()
        .map(drop)
    }

    fn group(&mut self, t: &TenantId, id: &str) -> R<Option<Group>> {
        user_groups::table
            .filter(user_groups::tenant_id.eq(t.as_str()))
            .filter(user_groups::id.eq(id))
            .select(GroupRow::as_select())
            .first(self.c())
            .found(GroupRow::into_group)
    }

    fn groups_by_ids(&mut self, t: &TenantId, wanted: &[String]) -> R<Vec<Group>> {
        load_groups(
            user_groups::table
                .filter(user_groups::tenant_id.eq(t.as_str()))
                .filter(user_groups::id.eq_any(wanted))
                .select(GroupRow::as_select())
                .load(self.c())
                .or_store()?,
        )
    }

    fn groups_under(&mut self, t: &TenantId, path: &str) -> R<Vec<Group>> {
        let pattern = format!("{}/%", escape_like(path));
        load_groups(
            user_groups::table
                .filter(user_groups::tenant_id.eq(t.as_str()))
                .filter(user_groups::path.like(pattern).escape('\\'))
                .order(user_groups::path.asc())
                .select(GroupRow::as_select())
                .load(self.c())
                .or_store()?,
        )
    }

    fn delete_groups(&mut self, t: &TenantId, wanted: &[String]) -> R<()> {
        // Memberships go first: SQLite enforces the composite foreign keys only when asked.
        diesel::delete(
            group_users::table
                .filter(group_users::tenant_id.eq(t.as_str()))
                .filter(group_users::group_id.eq_any(wanted)),
        )
        .execute(self.c())
        .or_store()?;
        diesel::delete(
            group_roles::table
                .filter(group_roles::tenant_id.eq(t.as_str()))
                .filter(group_roles::group_id.eq_any(wanted)),
        )
        .execute(self.c())
        .or_store()?;
        diesel::update(
            roles::table
                .filter(roles::tenant_id.eq(t.as_str()))
                .filter(roles::group_id.eq_any(wanted)),
        )
        .set(roles::group_id.eq(None::<String>))
        .execute(self.c())
        .or_store()?;
        diesel::delete(
            user_groups::table
                .filter(user_groups::tenant_id.eq(t.as_str()))
                .filter(user_groups::id.eq_any(wanted)),
        )
        .execute(self.c())
        .or_store()
        .map(drop)
    }

    fn groups_of_user(&mut self, t: &TenantId, user: Id) -> R<Vec<GroupLink>> {
        let rows: Vec<(GroupRow, bool)> = group_users::table
            .inner_join(
                user_groups::table.on(user_groups::tenant_id
                    .eq(group_users::tenant_id)
                    .and(user_groups::id.eq(group_users::group_id))),
            )
            .filter(group_users::tenant_id.eq(t.as_str()))
            .filter(group_users::user_id.eq(user.get()))
            .order(user_groups::path.asc())
            .select((GroupRow::as_select(), group_users::is_default))
            .load(self.c())
            .or_store()?;
        group_links(rows)
    }

    fn group_ids_of_user(&mut self, t: &TenantId, user: Id) -> R<Vec<String>> {
        group_users::table
            .filter(group_users::tenant_id.eq(t.as_str()))
            .filter(group_users::user_id.eq(user.get()))
            .select(group_users::group_id)
            .load(self.c())
            .or_store()
    }

    fn groups_of_role(&mut self, t: &TenantId, role: Id) -> R<Vec<Group>> {
        let granted = group_roles::table
            .filter(group_roles::tenant_id.eq(t.as_str()))
            .filter(group_roles::role_id.eq(role.get()))
            .select(group_roles::group_id);
        load_groups(
            user_groups::table
                .filter(user_groups::tenant_id.eq(t.as_str()))
                .filter(user_groups::id.eq_any(granted))
                .order(user_groups::path.asc())
                .select(GroupRow::as_select())
                .load(self.c())
                .or_store()?,
        )
    }

    fn add_user_groups(
        &mut self,
        t: &TenantId,
        user: Id,
        groups: &[String],
        default: Option<&str>,
    ) -> R<()> {
        let rows: Vec<_> = groups
            .iter()
            .map(|g| {
                (
                    group_users::tenant_id.eq(t.as_str()),
                    group_users::group_id.eq(g.as_str()),
                    group_users::user_id.eq(user.get()),
                    group_users::is_default.eq(false),
                )
            })
            .collect();
        insert_ignoring_duplicates!(self.c(), group_users::table, &rows)?;
        if let Some(default) = default {
            let mine = group_users::table
                .filter(group_users::tenant_id.eq(t.as_str()))
                .filter(group_users::user_id.eq(user.get()));
            diesel::update(mine)
                .set(group_users::is_default.eq(group_users::group_id.eq(default)))
                .execute(self.c())
                .or_store()?;
        }
        Ok(())
    }

    fn remove_user_groups(&mut self, t: &TenantId, user: Id, groups: &[String]) -> R<()> {
        diesel::delete(
            group_users::table
                .filter(group_users::tenant_id.eq(t.as_str()))
                .filter(group_users::user_id.eq(user.get()))
                .filter(group_users::group_id.eq_any(groups)),
        )
        .execute(self.c())
        .or_store()
        .map(drop)
    }

    fn add_role_groups(&mut self, t: &TenantId, role: Id, groups: &[String]) -> R<()> {
        let rows: Vec<_> = groups
            .iter()
            .map(|g| {
                (
                    group_roles::tenant_id.eq(t.as_str()),
                    group_roles::group_id.eq(g.as_str()),
                    group_roles::role_id.eq(role.get()),
                )
            })
            .collect();
        insert_ignoring_duplicates!(self.c(), group_roles::table, &rows).map(drop)
    }

    fn remove_role_groups(&mut self, t: &TenantId, role: Id, groups: &[String]) -> R<()> {
        diesel::delete(
            group_roles::table
                .filter(group_roles::tenant_id.eq(t.as_str()))
                .filter(group_roles::role_id.eq(role.get()))
                .filter(group_roles::group_id.eq_any(groups)),
        )
        .execute(self.c())
        .or_store()
        .map(drop)
    }
}
