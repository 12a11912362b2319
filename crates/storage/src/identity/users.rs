//! Users: [`UserRepo`] over diesel.

use diesel::prelude::*;
use weir_identity::{Email, User, UserRepo};
use weir_kernel::{Direction, Id, PageRequest, TenantId};

use super::IdentityRepo;
use super::rows::*;
use super::shared::*;
use crate::errors::{Found, OrStore};
use crate::filters::ids;
use crate::schema::*;

impl UserRepo for IdentityRepo {
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
            .found(UserRow::into_user)
    }

    fn user_by_email(&mut self, t: &TenantId, email: &Email) -> R<Option<User>> {
        users::table
            .filter(users::tenant_id.eq(t.as_str()))
            .filter(users::email.eq(email.as_str()))
            .select(UserRow::as_select())
            .first(self.c())
            .found(UserRow::into_user)
    }

    fn user_and_tenant_state(&mut self, t: &TenantId, id: Id) -> R<Option<(User, bool)>> {
        users::table
            .inner_join(tenants::table.on(tenants::id.eq(users::tenant_id)))
            .filter(users::id.eq(id.get()))
            .filter(users::tenant_id.eq(t.as_str()))
            .select((UserRow::as_select(), tenants::enabled))
            .first::<(UserRow, bool)>(self.c())
            .found(|(u, enabled)| Ok((u.into_user()?, enabled)))
    }

    fn user_by_username(&mut self, t: &TenantId, username: &str) -> R<Option<User>> {
        users::table
            .filter(users::tenant_id.eq(t.as_str()))
            .filter(users::username.eq(username))
            .select(UserRow::as_select())
            .first(self.c())
            .found(UserRow::into_user)
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
}
