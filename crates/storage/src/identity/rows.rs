//! Table rows and their conversion to and from the identity entities.

use diesel::prelude::*;
use weir_identity::throttle::ThrottleRecord;
use weir_identity::{
    Email, Group, Menu, MenuType, RefreshTokenRecord, Role, RoleType, Tenant, User, UserStatus,
};
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
    pub parent_id: Option<String>,
    pub path: String,
    pub sort_order: i64,
    pub enabled: bool,
}

impl TenantRow {
    pub fn new(t: &Tenant) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name.clone(),
            initialized: false,
            created_at: t.created_at,
            parent_id: t.parent_id.as_ref().map(ToString::to_string),
            path: t.path.clone(),
            sort_order: t.order.into(),
            enabled: t.enabled,
        }
    }

    pub fn into_tenant(self) -> Result<Tenant, StoreError> {
        Ok(Tenant {
            id: tenant_id(self.id)?,
            name: self.name,
            parent_id: self.parent_id.map(tenant_id).transpose()?,
            path: self.path,
            order: i32::try_from(self.sort_order).unwrap_or(i32::MAX),
            enabled: self.enabled,
            created_at: self.created_at,
        })
    }
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
pub(super) struct UserRow {
    pub id: i64,
    pub tenant_id: String,
    pub username: String,
    pub nickname: String,
    pub nickname_folded: String,
    pub password_hash: String,
    pub session_epoch: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub email: Option<String>,
    pub description: String,
    pub status: String,
}

impl From<&User> for UserRow {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.get(),
            tenant_id: u.tenant_id.to_string(),
            username: u.username.clone(),
            email: u.email.as_ref().map(|e| e.as_str().to_owned()),
            description: u.description.clone(),
            status: u.status.as_str().to_owned(),
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
            status: UserStatus::parse(&self.status)
                .ok_or_else(|| StoreError::Internal(format!("bad user status {}", self.status)))?,
            username: self.username,
            email: self.email.map(Email::from_trusted),
            nickname: self.nickname,
            description: self.description,
            password_hash: self.password_hash,
            session_epoch: self.session_epoch,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = roles, treat_none_as_null = true)]
pub(super) struct RoleRow {
    pub id: i64,
    pub tenant_id: String,
    pub name: String,
    pub name_folded: String,
    pub description: String,
    pub built_in: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub alias: String,
    pub allow_edit_permissions: bool,
    pub enabled: bool,
    pub role_type: String,
    pub organisation_id: Option<String>,
    pub creator_id: Option<i64>,
    pub group_id: Option<String>,
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
            alias: r.alias.clone(),
            allow_edit_permissions: r.allow_edit_permissions,
            enabled: r.enabled,
            role_type: r.role_type.as_str().to_owned(),
            organisation_id: r.organisation_id.as_ref().map(ToString::to_string),
            creator_id: r.creator_id.map(Id::get),
            group_id: r.group_id.clone(),
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
            alias: self.alias,
            allow_edit_permissions: self.allow_edit_permissions,
            enabled: self.enabled,
            role_type: RoleType::parse("role_type", &self.role_type)
                .map_err(|e| StoreError::Internal(e.to_string()))?,
            organisation_id: self.organisation_id.map(tenant_id).transpose()?,
            creator_id: self.creator_id.map(Id),
            group_id: self.group_id,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = user_groups)]
pub(super) struct GroupRow {
    pub tenant_id: String,
    pub id: String,
    pub name: String,
    pub alias: String,
    pub description: String,
    pub code: String,
    pub parent_id: Option<String>,
    pub path: String,
    pub creator_id: Option<i64>,
    pub created_at: i64,
}

impl From<&Group> for GroupRow {
    fn from(g: &Group) -> Self {
        Self {
            tenant_id: g.tenant_id.to_string(),
            id: g.id.clone(),
            name: g.name.clone(),
            alias: g.alias.clone(),
            description: g.description.clone(),
            code: g.code.clone(),
            parent_id: g.parent_id.clone(),
            path: g.path.clone(),
            creator_id: g.creator_id.map(Id::get),
            created_at: g.created_at,
        }
    }
}

impl GroupRow {
    pub fn into_group(self) -> Result<Group, StoreError> {
        Ok(Group {
            tenant_id: tenant_id(self.tenant_id)?,
            id: self.id,
            name: self.name,
            alias: self.alias,
            description: self.description,
            code: self.code,
            parent_id: self.parent_id,
            path: self.path,
            creator_id: self.creator_id.map(Id),
            created_at: self.created_at,
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

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = login_throttle, primary_key(key))]
pub(super) struct ThrottleRow {
    pub key: String,
    pub failures: i64,
    pub window_start: i64,
    pub last_failure: i64,
    pub locked_until: i64,
    pub locks: i64,
    pub last_event: i64,
}

impl ThrottleRow {
    pub fn new(key: &str, r: &ThrottleRecord) -> Self {
        Self {
            key: key.to_owned(),
            failures: i64::from(r.failures),
            window_start: r.window_start,
            last_failure: r.last_failure,
            locked_until: r.locked_until,
            locks: i64::from(r.locks),
            last_event: r.last_event(),
        }
    }

    pub fn into_record(self) -> Result<ThrottleRecord, StoreError> {
        let count = |n: i64| {
            u32::try_from(n).map_err(|_| StoreError::Internal(format!("bad throttle count {n}")))
        };
        Ok(ThrottleRecord {
            failures: count(self.failures)?,
            window_start: self.window_start,
            last_failure: self.last_failure,
            locked_until: self.locked_until,
            locks: count(self.locks)?,
        })
    }
}
