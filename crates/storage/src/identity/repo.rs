//! [`IdentityTx`] over one connection inside a transaction. Every query on tenant-owned
//! rows filters by the tenant.

use diesel::dsl::{count_star, exists, not};
use diesel::prelude::*;
use weir_identity::{
    Email, Group, GroupLink, IdentityTx, Menu, RefreshTokenRecord, ResourceRef, ResourceType, Role,
    RoleSummary, Tenant, User,
};
use weir_kernel::{Direction, Id, Millis, PageRequest, StoreError, TenantId};

use super::rows::*;
use crate::backend::{DbConn, MultiBackend, insert_ignoring_duplicates};
use crate::database::Pooled;
use crate::errors::OrStore;
use crate::filters::{contains_pattern, ids};
use crate::schema::*;

type R<T> = Result<T, StoreError>;

/// Whether `roles::id` is a role the user holds: given directly, or given to one of the
/// user's groups. (Boxed subqueries cannot sit inside these queries, so macros keep the
/// rule written once.)
macro_rules! held_by_user {
    ($t:expr, $user:expr) => {
        roles::id
            .eq_any(
                role_users::table
                    .filter(role_users::tenant_id.eq($t.as_str()))
                    .filter(role_users::user_id.eq($user.get()))
                    .select(role_users::role_id),
            )
            .or(roles::id.eq_any(
                group_roles::table
                    .filter(group_roles::tenant_id.eq($t.as_str()))
                    .filter(
                        group_roles::group_id.eq_any(
                            group_users::table
                                .filter(group_users::tenant_id.eq($t.as_str()))
                                .filter(group_users::user_id.eq($user.get()))
                                .select(group_users::group_id),
                        ),
                    )
                    .select(group_roles::role_id),
            ))
    };
}

/// The ids of the enabled roles a user holds, directly or through a group, as a subquery.
macro_rules! roles_of_user {
    ($t:expr, $user:expr) => {
        roles::table
            .filter(roles::tenant_id.eq($t.as_str()))
            .filter(roles::enabled.eq(true))
            .filter(held_by_user!($t, $user))
            .select(roles::id)
    };
}

/// Grant rows read back as resource references.
fn resource_refs(rows: Vec<(String, String)>) -> R<Vec<ResourceRef>> {
    rows.into_iter()
        .map(|(kind, id)| {
            ResourceRef::parse("resource_type", "resource_id", &kind, &id)
                .map_err(|e| StoreError::Internal(e.to_string()))
        })
        .collect()
}

/// Owns its pooled connection for the length of one transaction.
pub(super) struct IdentityRepo {
    pub conn: Pooled,
}

fn users_matching<'a>(
    t: &'a TenantId,
    keyword: Option<&str>,
) -> users::BoxedQuery<'a, MultiBackend> {
    let mut q = users::table
        .filter(users::tenant_id.eq(t.as_str()))
        .into_boxed();
    if let Some(k) = keyword {
        let pat = contains_pattern(k);
        q = q.filter(
            users::nickname_folded
                .like(pat.clone())
                .escape('\\')
                .or(users::email.like(pat.clone()).escape('\\'))
                .or(users::username.like(pat).escape('\\')),
        );
    }
    q
}

fn roles_matching<'a>(
    t: &'a TenantId,
    keyword: Option<&str>,
) -> roles::BoxedQuery<'a, MultiBackend> {
    let mut q = roles::table
        .filter(roles::tenant_id.eq(t.as_str()))
        .into_boxed();
    if let Some(k) = keyword {
        q = q.filter(roles::name_folded.like(contains_pattern(k)).escape('\\'));
    }
    q
}

fn load_users(rows: Vec<UserRow>) -> R<Vec<User>> {
    rows.into_iter().map(UserRow::into_user).collect()
}

fn load_menus(rows: Vec<MenuRow>) -> R<Vec<Menu>> {
    rows.into_iter().map(MenuRow::into_menu).collect()
}

fn load_roles(rows: Vec<RoleRow>) -> R<Vec<Role>> {
    rows.into_iter().map(RoleRow::into_role).collect()
}

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

impl IdentityRepo {
    fn c(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

impl IdentityTx for IdentityRepo {
    fn tenant(&mut self, id: &TenantId) -> R<Option<Tenant>> {
        tenants::table
            .find(id.as_str())
            .select(TenantRow::as_select())
            .first(self.c())
            .optional()
            .or_store()?
            .map(TenantRow::into_tenant)
            .transpose()
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

    fn insert_user(&mut self, user: &User) -> R<()> {
        diesel::insert_into(users::table)
            .values(UserRow::from(user))
            .execute(self.c())
            .or_store()
            .map(drop)
    }

    fn update_user(&mut self, user: &User) -> R<()> {
        diesel::update(
            users::table
                .find(user.id.get())
                .filter(users::tenant_id.eq(user.tenant_id.as_str())),
        )
        .set(UserRow::from(user))
        .execute(self.c())
        .or_store()
        .map(drop)
    }

    fn user(&mut self, t: &TenantId, id: Id) -> R<Option<User>> {
        users::table
            .find(id.get())
            .filter(users::tenant_id.eq(t.as_str()))
            .select(UserRow::as_select())
            .first(self.c())
            .optional()
            .or_store()?
            .map(UserRow::into_user)
            .transpose()
    }

    fn user_by_email(&mut self, t: &TenantId, email: &Email) -> R<Option<User>> {
        users::table
            .filter(users::tenant_id.eq(t.as_str()))
            .filter(users::email.eq(email.as_str()))
            .select(UserRow::as_select())
            .first(self.c())
            .optional()
            .or_store()?
            .map(UserRow::into_user)
            .transpose()
    }

    fn user_and_tenant_state(&mut self, t: &TenantId, id: Id) -> R<Option<(User, bool)>> {
        users::table
            .inner_join(tenants::table.on(tenants::id.eq(users::tenant_id)))
            .filter(users::id.eq(id.get()))
            .filter(users::tenant_id.eq(t.as_str()))
            .select((UserRow::as_select(), tenants::enabled))
            .first::<(UserRow, bool)>(self.c())
            .optional()
            .or_store()?
            .map(|(u, enabled)| Ok((u.into_user()?, enabled)))
            .transpose()
    }

    fn user_by_username(&mut self, t: &TenantId, username: &str) -> R<Option<User>> {
        users::table
            .filter(users::tenant_id.eq(t.as_str()))
            .filter(users::username.eq(username))
            .select(UserRow::as_select())
            .first(self.c())
            .optional()
            .or_store()?
            .map(UserRow::into_user)
            .transpose()
    }

    fn users(&mut self, t: &TenantId, wanted: &[Id]) -> R<Vec<User>> {
        load_users(
            users::table
                .filter(users::tenant_id.eq(t.as_str()))
                .filter(users::id.eq_any(ids(wanted)))
                .select(UserRow::as_select())
                .load(self.c())
                .or_store()?,
        )
    }

    fn search_users(
        &mut self,
        t: &TenantId,
        keyword: Option<&str>,
        page: &PageRequest,
    ) -> R<(Vec<User>, i64)> {
        let total: i64 = users_matching(t, keyword)
            .count()
            .get_result(self.c())
            .or_store()?;
        let mut q = users_matching(t, keyword);
        for s in &page.sorts {
            q = match (s.property.as_str(), s.direction) {
                ("nickname", Direction::Asc) => q.then_order_by(users::nickname.asc()),
                ("nickname", Direction::Desc) => q.then_order_by(users::nickname.desc()),
                ("email", Direction::Asc) => q.then_order_by(users::email.asc()),
                ("email", Direction::Desc) => q.then_order_by(users::email.desc()),
                ("created_at", Direction::Asc) => q.then_order_by(users::created_at.asc()),
                _ => q.then_order_by(users::created_at.desc()),
            };
        }
        let rows = q
            .then_order_by(users::id.desc())
            .offset(page.offset())
            .limit(page.limit())
            .select(UserRow::as_select())
            .load(self.c())
            .or_store()?;
        Ok((load_users(rows)?, total))
    }

    fn delete_users(&mut self, t: &TenantId, wanted: &[Id]) -> R<usize> {
        diesel::delete(
            users::table
                .filter(users::tenant_id.eq(t.as_str()))
                .filter(users::id.eq_any(ids(wanted))),
        )
        .execute(self.c())
        .or_store()
    }

    fn count_users(&mut self, t: &TenantId) -> R<i64> {
        users::table
            .filter(users::tenant_id.eq(t.as_str()))
            .count()
            .get_result(self.c())
            .or_store()
    }

    fn insert_role(&mut self, role: &Role) -> R<()> {
        diesel::insert_into(roles::table)
            .values(RoleRow::from(role))
            .execute(self.c())
            .or_store()
            .map(drop)
    }

    fn update_role(&mut self, role: &Role) -> R<()> {
        diesel::update(
            roles::table
                .find(role.id.get())
                .filter(roles::tenant_id.eq(role.tenant_id.as_str())),
        )
        .set(RoleRow::from(role))
        .execute(self.c())
        .or_store()
        .map(drop)
    }

    fn role(&mut self, t: &TenantId, id: Id) -> R<Option<Role>> {
        roles::table
            .find(id.get())
            .filter(roles::tenant_id.eq(t.as_str()))
            .select(RoleRow::as_select())
            .first(self.c())
            .optional()
            .or_store()?
            .map(RoleRow::into_role)
            .transpose()
    }

    fn role_by_name(&mut self, t: &TenantId, name: &str) -> R<Option<Role>> {
        roles::table
            .filter(roles::tenant_id.eq(t.as_str()))
            .filter(roles::name.eq(name))
            .select(RoleRow::as_select())
            .first(self.c())
            .optional()
            .or_store()?
            .map(RoleRow::into_role)
            .transpose()
    }

    fn roles_by_ids(&mut self, t: &TenantId, wanted: &[Id]) -> R<Vec<Role>> {
        load_roles(
            roles::table
                .filter(roles::tenant_id.eq(t.as_str()))
                .filter(roles::id.eq_any(ids(wanted)))
                .order((roles::created_at.asc(), roles::id.asc()))
                .select(RoleRow::as_select())
                .load(self.c())
                .or_store()?,
        )
    }

    fn all_roles(&mut self, t: &TenantId) -> R<Vec<Role>> {
        load_roles(
            roles::table
                .filter(roles::tenant_id.eq(t.as_str()))
                .order((roles::name.asc(), roles::id.asc()))
                .select(RoleRow::as_select())
                .load(self.c())
                .or_store()?,
        )
    }

    fn delete_role(&mut self, t: &TenantId, id: Id) -> R<()> {
        diesel::delete(
            roles::table
                .find(id.get())
                .filter(roles::tenant_id.eq(t.as_str())),
        )
        .execute(self.c())
        .or_store()
        .map(drop)
    }

    fn search_roles(
        &mut self,
        t: &TenantId,
        keyword: Option<&str>,
        page: &PageRequest,
    ) -> R<(Vec<RoleSummary>, i64)> {
        let total: i64 = roles_matching(t, keyword)
            .count()
            .get_result(self.c())
            .or_store()?;
        let mut q = roles_matching(t, keyword);
        for s in &page.sorts {
            q = match (s.property.as_str(), s.direction) {
                ("name", Direction::Asc) => q.then_order_by(roles::name.asc()),
                ("name", Direction::Desc) => q.then_order_by(roles::name.desc()),
                ("created_at", Direction::Asc) => q.then_order_by(roles::created_at.asc()),
                _ => q.then_order_by(roles::created_at.desc()),
            };
        }
        let rows: Vec<RoleRow> = q
            .then_order_by(roles::id.desc())
            .offset(page.offset())
            .limit(page.limit())
            .select(RoleRow::as_select())
            .load(self.c())
            .or_store()?;
        let role_ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let user_counts: Vec<(i64, i64)> = role_users::table
            .filter(role_users::role_id.eq_any(&role_ids))
            .group_by(role_users::role_id)
            .select((role_users::role_id, count_star()))
            .load(self.c())
            .or_store()?;
        let integration_counts: Vec<(i64, i64)> = role_resources::table
            .filter(role_resources::role_id.eq_any(&role_ids))
            .filter(role_resources::resource_type.eq(ResourceType::Integration.as_str()))
            .group_by(role_resources::role_id)
            .select((role_resources::role_id, count_star()))
            .load(self.c())
            .or_store()?;
        let count_of =
            |v: &[(i64, i64)], id: i64| v.iter().find(|(r, _)| *r == id).map_or(0, |(_, n)| *n);
        let roles = rows
            .into_iter()
            .map(|row| {
                let (users, integrations) = (
                    count_of(&user_counts, row.id),
                    count_of(&integration_counts, row.id),
                );
                Ok(RoleSummary {
                    role: row.into_role()?,
                    user_count: users,
                    integration_count: integrations,
                })
            })
            .collect::<R<Vec<_>>>()?;
        Ok((roles, total))
    }

    fn roles_of_users(&mut self, t: &TenantId, wanted: &[Id]) -> R<Vec<(Id, Role)>> {
        let rows: Vec<(i64, RoleRow)> = role_users::table
            .inner_join(roles::table)
            .filter(role_users::tenant_id.eq(t.as_str()))
            .filter(roles::tenant_id.eq(t.as_str()))
            .filter(role_users::user_id.eq_any(ids(wanted)))
            .order((roles::created_at.asc(), roles::id.asc()))
            .select((role_users::user_id, RoleRow::as_select()))
            .load(self.c())
            .or_store()?;
        rows.into_iter()
            .map(|(u, r)| Ok((Id(u), r.into_role()?)))
            .collect()
    }

    fn roles_of_user(&mut self, t: &TenantId, user: Id) -> R<Vec<Role>> {
        load_roles(
            roles::table
                .filter(roles::tenant_id.eq(t.as_str()))
                .filter(roles::enabled.eq(true))
                .filter(held_by_user!(t, user))
                .order((roles::created_at.asc(), roles::id.asc()))
                .select(RoleRow::as_select())
                .load(self.c())
                .or_store()?,
        )
    }

    fn direct_roles_of_user(&mut self, t: &TenantId, user: Id) -> R<Vec<Role>> {
        Ok(self
            .roles_of_users(t, &[user])?
            .into_iter()
            .map(|(_, r)| r)
            .collect())
    }

    fn role_permissions(&mut self, t: &TenantId, role: Id) -> R<Vec<String>> {
        role_permissions::table
            .filter(role_permissions::tenant_id.eq(t.as_str()))
            .filter(role_permissions::role_id.eq(role.get()))
            .order(role_permissions::name.asc())
            .select(role_permissions::name)
            .load(self.c())
            .or_store()
    }

    fn set_role_permissions(&mut self, t: &TenantId, role: Id, names: &[String]) -> R<()> {
        diesel::delete(
            role_permissions::table
                .filter(role_permissions::tenant_id.eq(t.as_str()))
                .filter(role_permissions::role_id.eq(role.get())),
        )
        .execute(self.c())
        .or_store()?;
        let rows: Vec<_> = names
            .iter()
            .map(|n| {
                (
                    role_permissions::role_id.eq(role.get()),
                    role_permissions::tenant_id.eq(t.as_str()),
                    role_permissions::name.eq(n.as_str()),
                )
            })
            .collect();
        insert_ignoring_duplicates!(self.c(), role_permissions::table, &rows).map(drop)
    }

    fn permissions_of_roles(&mut self, t: &TenantId, roles: &[Id]) -> R<Vec<String>> {
        role_permissions::table
            .filter(role_permissions::tenant_id.eq(t.as_str()))
            .filter(role_permissions::role_id.eq_any(ids(roles)))
            .select(role_permissions::name)
            .distinct()
            .load(self.c())
            .or_store()
    }

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
            .optional()
            .or_store()?
            .map(GroupRow::into_group)
            .transpose()
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
        let pattern = format!("{}/%", crate::filters::escape_like(path));
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

    fn add_role_users(&mut self, t: &TenantId, role: Id, wanted: &[Id], now: Millis) -> R<()> {
        let rows: Vec<RoleUserRow> = wanted
            .iter()
            .map(|u| RoleUserRow {
                role_id: role.get(),
                user_id: u.get(),
                tenant_id: t.as_str(),
                created_at: now,
            })
            .collect();
        insert_ignoring_duplicates!(self.c(), role_users::table, &rows).map(drop)
    }

    fn remove_role_users(&mut self, t: &TenantId, role: Id, wanted: &[Id]) -> R<()> {
        diesel::delete(
            role_users::table
                .filter(role_users::tenant_id.eq(t.as_str()))
                .filter(role_users::role_id.eq(role.get()))
                .filter(role_users::user_id.eq_any(ids(wanted))),
        )
        .execute(self.c())
        .or_store()
        .map(drop)
    }

    fn role_members(&mut self, t: &TenantId, role: Id, keyword: Option<&str>) -> R<Vec<User>> {
        let members = role_users::table
            .filter(role_users::tenant_id.eq(t.as_str()))
            .filter(role_users::role_id.eq(role.get()))
            .select(role_users::user_id);
        load_users(
            users_matching(t, keyword)
                .filter(users::id.eq_any(members))
                .order((users::created_at.desc(), users::id.desc()))
                .select(UserRow::as_select())
                .load(self.c())
                .or_store()?,
        )
    }

    fn members_of_roles(&mut self, t: &TenantId, roles: &[Id]) -> R<Vec<(Id, Id)>> {
        let rows: Vec<(i64, i64)> = role_users::table
            .filter(role_users::tenant_id.eq(t.as_str()))
            .filter(role_users::role_id.eq_any(ids(roles)))
            .order((
                role_users::role_id,
                role_users::created_at,
                role_users::user_id,
            ))
            .select((role_users::role_id, role_users::user_id))
            .load(self.c())
            .or_store()?;
        Ok(rows.into_iter().map(|(r, u)| (Id(r), Id(u))).collect())
    }

    fn count_role_users(&mut self, t: &TenantId, role: Id) -> R<i64> {
        role_users::table
            .filter(role_users::tenant_id.eq(t.as_str()))
            .filter(role_users::role_id.eq(role.get()))
            .count()
            .get_result(self.c())
            .or_store()
    }

    fn users_outside_role(
        &mut self,
        t: &TenantId,
        role: Id,
        keyword: Option<&str>,
    ) -> R<Vec<User>> {
        let member = role_users::table
            .filter(role_users::role_id.eq(role.get()))
            .filter(role_users::user_id.eq(users::id));
        load_users(
            users_matching(t, keyword)
                .filter(not(exists(member)))
                .order((users::created_at.desc(), users::id.desc()))
                .select(UserRow::as_select())
                .load(self.c())
                .or_store()?,
        )
    }

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
            .optional()
            .or_store()?
            .map(MenuRow::into_menu)
            .transpose()
    }

    fn menu_by_code(&mut self, t: &TenantId, code: &str) -> R<Option<Menu>> {
        menus::table
            .filter(menus::tenant_id.eq(t.as_str()))
            .filter(menus::code.eq(code))
            .select(MenuRow::as_select())
            .first(self.c())
            .optional()
            .or_store()?
            .map(MenuRow::into_menu)
            .transpose()
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
        let granted = role_menus::table
            .filter(role_menus::tenant_id.eq(t.as_str()))
            .filter(role_menus::role_id.eq(role.get()))
            .select(role_menus::menu_id);
        load_menus(
            menus::table
                .filter(menus::tenant_id.eq(t.as_str()))
                .filter(menus::id.eq_any(granted))
                .order((menus::created_at.asc(), menus::id.asc()))
                .select(MenuRow::as_select())
                .load(self.c())
                .or_store()?,
        )
    }

    fn menus_of_user(&mut self, t: &TenantId, user: Id) -> R<Vec<Menu>> {
        let granted = role_menus::table
            .filter(role_menus::tenant_id.eq(t.as_str()))
            .filter(role_menus::role_id.eq_any(roles_of_user!(t, user)))
            .select(role_menus::menu_id);
        load_menus(
            menus::table
                .filter(menus::tenant_id.eq(t.as_str()))
                .filter(menus::id.eq_any(granted))
                .order((menus::created_at.asc(), menus::id.asc()))
                .select(MenuRow::as_select())
                .load(self.c())
                .or_store()?,
        )
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

    fn insert_refresh_token(&mut self, token: &RefreshTokenRecord) -> R<()> {
        diesel::insert_into(refresh_tokens::table)
            .values(RefreshTokenRow::from(token))
            .execute(self.c())
            .or_store()
            .map(drop)
    }

    fn take_refresh_token(&mut self, token_hash: &str) -> R<Option<RefreshTokenRecord>> {
        let row: Option<RefreshTokenRow> = refresh_tokens::table
            .find(token_hash)
            .select(RefreshTokenRow::as_select())
            .first(self.c())
            .optional()
            .or_store()?;
        let Some(row) = row else { return Ok(None) };
        // Only the transaction whose delete removed the row may use it.
        let taken = diesel::delete(refresh_tokens::table.find(token_hash))
            .execute(self.c())
            .or_store()?;
        if taken == 1 {
            row.into_record().map(Some)
        } else {
            Ok(None)
        }
    }

    fn delete_refresh_tokens_of_user(&mut self, t: &TenantId, user: Id) -> R<()> {
        diesel::delete(
            refresh_tokens::table
                .filter(refresh_tokens::tenant_id.eq(t.as_str()))
                .filter(refresh_tokens::user_id.eq(user.get())),
        )
        .execute(self.c())
        .or_store()
        .map(drop)
    }
}
