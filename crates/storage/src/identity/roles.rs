//! Roles, their named permissions and their members: [`RoleRepo`] over diesel.

use diesel::dsl::{count_star, exists, not};
use diesel::prelude::*;
use weir_identity::ports::RoleFilter;
use weir_identity::{ResourceType, Role, RoleRepo, RoleSummary, User};
use weir_kernel::{Direction, Id, Millis, PageRequest, Sort, TenantId};

use super::IdentityRepo;
use super::rows::*;
use super::shared::*;
use crate::backend::{MultiBackend, insert_ignoring_duplicates};
use crate::errors::{Found, OrStore};
use crate::filters::{contains_pattern, ids};
use crate::schema::*;

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

/// The roles `f` lets through; the name filter as [`roles_matching`] has it.
fn roles_filtered<'a>(t: &'a TenantId, f: &RoleFilter) -> roles::BoxedQuery<'a, MultiBackend> {
    let mut q = roles_matching(t, crate::filters::keyword(f.name_contains.as_deref()));
    if f.global_only {
        q = q.filter(roles::organisation_id.is_null());
    }
    if let Some(enabled) = f.enabled {
        q = q.filter(roles::enabled.eq(enabled));
    }
    q
}

/// `q` then ordered by `column` in `direction`.
macro_rules! then_by {
    ($q:expr, $column:expr, $direction:expr) => {
        match $direction {
            Direction::Asc => $q.then_order_by($column.asc()),
            Direction::Desc => $q.then_order_by($column.desc()),
        }
    };
}

/// `q` ordered by the page's terms (newest first without any), ties by id in the
/// direction of the last term, so that pages never overlap.
fn sorted_roles<'a>(
    mut q: roles::BoxedQuery<'a, MultiBackend>,
    page: &PageRequest,
) -> roles::BoxedQuery<'a, MultiBackend> {
    let newest_first = [Sort {
        property: "created_at".into(),
        direction: Direction::Desc,
    }];
    let sorts = if page.sorts.is_empty() {
        &newest_first[..]
    } else {
        &page.sorts[..]
    };
    let mut last = Direction::Asc;
    for s in sorts {
        let d = s.direction;
        q = match s.property.as_str() {
            // Case-insensitive, then by case: the folded name is the lower-cased one.
            "name" => then_by!(then_by!(q, roles::name_folded, d), roles::name, d),
            "updated_at" => then_by!(q, roles::updated_at, d),
            "enabled" => then_by!(q, roles::enabled, d),
            "role_type" => then_by!(q, roles::role_type, d),
            // `created_at`; the use-case refuses every other property.
            _ => then_by!(q, roles::created_at, d),
        };
        last = d;
    }
    then_by!(q, roles::id, last)
}

fn load_roles(rows: Vec<RoleRow>) -> R<Vec<Role>> {
    rows.into_iter().map(RoleRow::into_role).collect()
}

impl RoleRepo for IdentityRepo {
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
            .found(RoleRow::into_role)
    }

    fn role_by_name(&mut self, t: &TenantId, name: &str) -> R<Option<Role>> {
        roles::table
            .filter(roles::tenant_id.eq(t.as_str()))
            .filter(roles::name.eq(name))
            .select(RoleRow::as_select())
            .first(self.c())
            .found(RoleRow::into_role)
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

    fn filtered_roles(
        &mut self,
        t: &TenantId,
        filter: &RoleFilter,
        page: &PageRequest,
    ) -> R<(Vec<Role>, i64)> {
        let total: i64 = roles_filtered(t, filter)
            .count()
            .get_result(self.c())
            .or_store()?;
        let rows = sorted_roles(roles_filtered(t, filter), page)
            .offset(page.offset())
            .limit(page.limit())
            .select(RoleRow::as_select())
            .load(self.c())
            .or_store()?;
        Ok((load_roles(rows)?, total))
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
}
