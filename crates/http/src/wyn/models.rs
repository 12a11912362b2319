//! The document's models, camelCase, as Weir fills them. Ids are Weir's numeric ids written
//! as strings; times are UTC `yyyy-MM-dd HH:mm:ss.fff`.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use weir_identity::permissions::{PERMISSIONS, permission};
use weir_identity::service::RoleProfile;
use weir_identity::{User, UserStatus};
use weir_kernel::{Id, Millis};

use crate::openapi::IdText;

/// A time as Wyn writes it: `2000-01-01 00:00:00.000`, UTC.
pub fn wyn_time(ms: Millis) -> String {
    crate::times::utc(ms, "%Y-%m-%d %H:%M:%S%.3f")
}

/// Permission names in the catalogue's display order (names it does not know last).
fn in_catalogue_order(mut names: Vec<String>) -> Vec<String> {
    let rank = |n: &str| {
        PERMISSIONS
            .iter()
            .position(|p| p.name == n)
            .unwrap_or(usize::MAX)
    };
    names.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    names
}

/// `RoleBizModel`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleBizModel {
    #[schema(value_type = IdText, example = "7204718712345677824")]
    pub id: Id,
    pub name: String,
    /// The user who created the role; `null` for seeded roles.
    #[schema(value_type = Option<IdText>)]
    pub creator_id: Option<Id>,
    /// UTC, `yyyy-MM-dd HH:mm:ss.fff`.
    #[schema(example = "2000-01-01 00:00:00.000")]
    pub create_time: String,
    pub is_builtin: bool,
    pub allow_edit_permissions: bool,
    /// Permission names; `null` unless asked for (`IncludePermissions`).
    pub permissions: Option<Vec<String>>,
    /// Member user ids; `null` unless asked for (`IncludeMembers`).
    #[schema(value_type = Option<Vec<IdText>>)]
    pub members: Option<Vec<Id>>,
    /// The organisation the role belongs to (always the caller's own); `null` for a global
    /// role.
    pub tenant_id: Option<String>,
}

impl RoleBizModel {
    pub fn of(p: RoleProfile, with_permissions: bool, with_members: bool) -> Self {
        Self {
            id: p.role.id,
            name: p.role.name,
            creator_id: p.role.creator_id,
            create_time: wyn_time(p.role.created_at),
            is_builtin: p.role.built_in,
            allow_edit_permissions: p.role.allow_edit_permissions,
            permissions: with_permissions.then(|| in_catalogue_order(p.permissions)),
            members: with_members.then_some(p.members),
            tenant_id: p.role.organisation_id.map(|t| t.to_string()),
        }
    }
}

/// What `SearchType=Count` answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountResult {
    pub count: usize,
}

/// A role listing: the roles, or with `SearchType=Count` only their number.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum RoleList {
    Roles(Vec<RoleBizModel>),
    Count(CountResult),
}

/// Deserializes a field that is present (even as `null`) into `Some`, so an absent field
/// (`None`) can be told from `null` (`Some(None)`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A `RoleBizModel` as a client sends it (`POST /roles`, each role of an import). `id`,
/// `creatorId` and `createTime` are the server's and ignored, as are unknown fields.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleBizModelInput {
    /// Required; 1 to 64 characters, unique in the organisation.
    pub name: Option<String>,
    /// Only `false` (or absent): built-in roles are the server's.
    pub is_builtin: Option<bool>,
    /// Default `true` for a new role.
    pub allow_edit_permissions: Option<bool>,
    /// Permission names of the catalogue; replaces the role's.
    pub permissions: Option<Vec<String>>,
    /// Member user ids; replaces the role's direct members.
    #[schema(value_type = Option<Vec<IdText>>)]
    pub members: Option<Vec<Id>>,
    /// `null` for a global role, or the caller's own organisation id; absent leaves it
    /// (a new role is global).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub tenant_id: Option<Option<String>>,
}

/// `RolesImportModel`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RolesImportModel {
    pub roles: Vec<RoleBizModelInput>,
}

/// `RoleUsersUpdateModel`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleUsersUpdateModel {
    #[schema(value_type = Vec<IdText>)]
    pub user_ids: Vec<Id>,
}

/// `RolePermissionsUpdateModel`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RolePermissionsUpdateModel {
    pub permissions: Vec<String>,
}

/// `PermissionModel`: one named permission of the catalogue.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PermissionModel {
    pub name: String,
    pub description: Option<String>,
    pub enabled: bool,
    /// Its place in the catalogue's display order.
    pub order: i32,
    pub module: Option<String>,
    /// `view`, `create` or `manage`.
    pub category: Option<String>,
    /// Always false: the catalogue is Weir's.
    pub is_custom_permission: bool,
}

impl PermissionModel {
    /// The catalogue's entries for these names, in its display order.
    pub fn list(names: Vec<String>) -> Vec<Self> {
        in_catalogue_order(names)
            .into_iter()
            .map(|name| {
                let order = PERMISSIONS
                    .iter()
                    .position(|p| p.name == name)
                    .map_or(i32::MAX, |i| i32::try_from(i).unwrap_or(i32::MAX));
                let known = permission(&name);
                Self {
                    description: known.map(|p| p.description.to_owned()),
                    module: known.map(|p| p.module.to_owned()),
                    category: known.map(|p| p.category.to_owned()),
                    enabled: true,
                    order,
                    is_custom_permission: false,
                    name,
                }
            })
            .collect()
    }
}

/// `UserStatus`.
#[derive(Debug, Serialize, ToSchema)]
pub enum WynUserStatus {
    Normal,
    Disabled,
}

/// `UserBizModel`, as far as Weir keeps these fields; the others are `null`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserBizModel {
    #[schema(value_type = IdText)]
    pub id: Id,
    /// The login name.
    pub username: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
    /// Always `local`: Weir keeps its own accounts.
    pub provider: String,
    pub avatar: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// UTC, `yyyy-MM-dd HH:mm:ss.fff`.
    pub creation_time: String,
    pub status: WynUserStatus,
    /// The display name (Weir's nickname).
    pub full_name: String,
    pub organization_id_path: Option<String>,
    /// Names of the roles given to the user directly, by name.
    pub roles: Vec<String>,
    pub customize_properties: Option<Vec<String>>,
    pub extra_claims: Option<String>,
    pub tenant_roles: Option<Vec<String>>,
}

impl UserBizModel {
    /// The users with the names of their direct roles (`roles_of`: user id to names).
    pub fn list(users: Vec<User>, roles_of: &BTreeMap<Id, Vec<String>>) -> Vec<Self> {
        users
            .into_iter()
            .map(|u| {
                let mut roles = roles_of.get(&u.id).cloned().unwrap_or_default();
                roles.sort();
                Self {
                    id: u.id,
                    email: u.email.as_ref().map(|e| e.as_str().to_owned()),
                    username: u.username,
                    mobile: None,
                    provider: "local".into(),
                    avatar: None,
                    first_name: None,
                    last_name: None,
                    creation_time: wyn_time(u.created_at),
                    status: match u.status {
                        UserStatus::Normal => WynUserStatus::Normal,
                        UserStatus::Disabled => WynUserStatus::Disabled,
                    },
                    full_name: u.nickname,
                    organization_id_path: None,
                    roles,
                    customize_properties: None,
                    extra_claims: None,
                    tenant_roles: None,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_with_milliseconds() {
        assert_eq!(wyn_time(0), "1970-01-01 00:00:00.000");
        assert_eq!(wyn_time(951_782_400_000), "2000-02-29 00:00:00.000");
        assert_eq!(wyn_time(1_704_067_200_000 - 1), "2023-12-31 23:59:59.999");
        assert_eq!(
            wyn_time(1_704_067_200_000 + 3_723_045),
            "2024-01-01 01:02:03.045"
        );
        assert_eq!(wyn_time(-1), "1969-12-31 23:59:59.999");
    }

    #[test]
    fn permissions_follow_the_catalogue() {
        let first = PERMISSIONS[0].name.to_owned();
        let second = PERMISSIONS[1].name.to_owned();
        let got = in_catalogue_order(vec!["zz-unknown".into(), second.clone(), first.clone()]);
        assert_eq!(got, [first, second, "zz-unknown".into()]);
    }
}
