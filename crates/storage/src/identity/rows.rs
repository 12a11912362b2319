//! Table rows and their conversion to and from the identity entities.

use diesel::prelude::*;
use weir_identity::{Email, Menu, MenuType, RefreshTokenRecord, Role, Tenant, User};
use weir_kernel::{Id, StoreError};

use crate::errors::tenant_id;

use crate::schema::*;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = tenants)]
pub(super) struct TenantRow {
    pub id: String,
    pub name: String,
    pub initialized: bool,
    pub created_at: i64,
}

impl TenantRow {
    pub fn into_tenant(self) -> Result<Tenant, StoreError> {
        Ok(Tenant {
            id: tenant_id(self.id)?,
            name: self.name,
            created_at: self.created_at,
        })
    }
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = users)]
pub(super) struct UserRow {
    pub id: i64,
    pub tenant_id: String,
    pub email: String,
    pub nickname: String,
    pub nickname_folded: String,
    pub password_hash: String,
    pub session_epoch: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&User> for UserRow {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.get(),
            tenant_id: u.tenant_id.to_string(),
            email: u.email.as_str().to_owned(),
            nickname: u.nickname.clone(),
            nickname_folded: u.nickname.to_lowercase(),
            password_hash: u.password_hash.clone(),
            session_epoch: u.session_epoch,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

impl UserRow {
    pub fn into_user(self) -> Result<User, StoreError> {
        Ok(User {
            id: Id(self.id),
            tenant_id: tenant_id(self.tenant_id)?,
            email: Email::from_trusted(self.email),
            nickname: self.nickname,
            password_hash: self.password_hash,
            session_epoch: self.session_epoch,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = roles)]
pub(super) struct RoleRow {
    pub id: i64,
    pub tenant_id: String,
    pub name: String,
    pub name_folded: String,
    pub description: String,
    pub built_in: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&Role> for RoleRow {
    fn from(r: &Role) -> Self {
        Self {
            id: r.id.get(),
            tenant_id: r.tenant_id.to_string(),
            name: r.name.clone(),
            name_folded: r.name.to_lowercase(),
            description: r.description.clone(),
            built_in: r.built_in,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl RoleRow {
    pub fn into_role(self) -> Result<Role, StoreError> {
        Ok(Role {
            id: Id(self.id),
            tenant_id: tenant_id(self.tenant_id)?,
            name: self.name,
            description: self.description,
            built_in: self.built_in,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = menus, treat_none_as_null = true)]
pub(super) struct MenuRow {
    pub id: i64,
    pub tenant_id: String,
    pub code: String,
    pub name: String,
    pub menu_type: String,
    pub parent_id: Option<i64>,
    pub built_in: bool,
    pub created_at: i64,
}

impl From<&Menu> for MenuRow {
    fn from(m: &Menu) -> Self {
        Self {
            id: m.id.get(),
            tenant_id: m.tenant_id.to_string(),
            code: m.code.clone(),
            name: m.name.clone(),
            menu_type: m.menu_type.as_str().to_owned(),
            parent_id: m.parent_id.map(Id::get),
            built_in: m.built_in,
            created_at: m.created_at,
        }
    }
}

impl MenuRow {
    pub fn into_menu(self) -> Result<Menu, StoreError> {
        Ok(Menu {
            id: Id(self.id),
            tenant_id: tenant_id(self.tenant_id)?,
            code: self.code,
            name: self.name,
            menu_type: MenuType::parse("menu_type", &self.menu_type)
                .map_err(|e| StoreError::Internal(e.to_string()))?,
            parent_id: self.parent_id.map(Id),
            built_in: self.built_in,
            created_at: self.created_at,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub(super) struct RefreshTokenRow {
    pub token_hash: String,
    pub tenant_id: String,
    pub user_id: i64,
    pub expires_at: i64,
    pub created_at: i64,
}

impl From<&RefreshTokenRecord> for RefreshTokenRow {
    fn from(r: &RefreshTokenRecord) -> Self {
        Self {
            token_hash: r.token_hash.clone(),
            tenant_id: r.tenant_id.to_string(),
            user_id: r.user_id.get(),
            expires_at: r.expires_at,
            created_at: r.created_at,
        }
    }
}

impl RefreshTokenRow {
    pub fn into_record(self) -> Result<RefreshTokenRecord, StoreError> {
        Ok(RefreshTokenRecord {
            token_hash: self.token_hash,
            tenant_id: tenant_id(self.tenant_id)?,
            user_id: Id(self.user_id),
            expires_at: self.expires_at,
            created_at: self.created_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = role_users)]
pub(super) struct RoleUserRow<'a> {
    pub role_id: i64,
    pub user_id: i64,
    pub tenant_id: &'a str,
    pub created_at: i64,
}

#[derive(Insertable)]
#[diesel(table_name = role_menus)]
pub(super) struct RoleMenuRow<'a> {
    pub role_id: i64,
    pub menu_id: i64,
    pub tenant_id: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = role_resources)]
pub(super) struct RoleResourceRow<'a> {
    pub role_id: i64,
    pub resource_type: &'a str,
    pub resource_id: &'a str,
    pub tenant_id: &'a str,
}
