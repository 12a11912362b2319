//! Roles as the BI and IoT dialects see them: with their flags, named permissions, menus
//! and members in one piece; listed with filters; enabled and disabled; deleted in
//! batches; imported.

use std::collections::{BTreeMap, BTreeSet};

use weir_kernel::store::read;
use weir_kernel::{Id, Page, PageRequest, TenantId};

use super::IdentityService;
use super::roles::check_batch;
use crate::errors::{FieldError, RoleError};
use crate::models::*;
use crate::permissions::permission;
use crate::ports::IdentityTx;
pub use crate::ports::RoleFilter;
use crate::principal::Principal;

/// Fields of a role to set; `None` leaves a field as it is (or, creating, at its default).
#[derive(Debug, Clone, Default)]
pub struct RoleChanges {
    /// A new name, unique in the tenant, 1 to [`NAME_MAX`] characters.
    pub name: Option<String>,
    /// A new description, at most [`DESCRIPTION_MAX`] characters.
    pub description: Option<String>,
    /// A new second display name.
    pub alias: Option<String>,
    /// A new role type (informational).
    pub role_type: Option<RoleType>,
    /// Enables or disables the role; a disabled role grants nothing.
    pub enabled: Option<bool>,
    /// Whether its named permissions and menus may be edited from now on.
    pub allow_edit_permissions: Option<bool>,
    /// `Some(None)` makes the role global; `Some(Some(t))` ties it to organisation `t`,
    /// which must be the caller's own tenant.
    pub organisation_id: Option<Option<String>>,
    /// Replaces the named permissions.
    pub permissions: Option<Vec<String>>,
    /// Replaces the menus (native function codes) it grants.
    pub menus: Option<Vec<Id>>,
    /// Replaces its direct members.
    pub members: Option<Vec<Id>>,
    /// The group the role belongs to (the root when creating without one). Belonging is
    /// not a grant.
    pub group_id: Option<String>,
    /// Refuse with [`RoleError::GroupNotFound`] when `group_id` names no group, rather than
    /// fall back to the root.
    pub check_group: bool,
}

/// Properties a page of role profiles can be sorted by: a name sorts case-insensitively
/// (then by case); ties fall back to the id, in the direction of the last term, so pages
/// never overlap.
pub const ROLE_PROFILE_SORTS: &[&str] =
    &["created_at", "updated_at", "name", "enabled", "role_type"];

/// A role with what the dialects show beside it.
#[derive(Debug, Clone)]
pub struct RoleProfile {
    /// The role.
    pub role: Role,
    /// Its named permissions.
    pub permissions: Vec<String>,
    /// The ids of the menus it grants.
    pub menus: Vec<Id>,
    /// Direct members' ids.
    pub members: Vec<Id>,
}

impl IdentityService {
    fn organisation(
        &self,
        p: &Principal,
        raw: Option<&str>,
    ) -> Result<Option<TenantId>, RoleError> {
        let Some(raw) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        if raw != p.tenant_id.as_str() {
            // Another organisation's id is refused like an unknown one: no probing.
            return Err(FieldError::new(
                "tenantId",
                format!("organisation `{raw}` not found (a role may belong only to your own)"),
            )
            .into());
        }
        Ok(Some(p.tenant_id.clone()))
    }

    fn checked_permissions(names: &[String]) -> Result<Vec<String>, RoleError> {
        let mut out = BTreeSet::new();
        for n in names {
            let n = n.trim();
            if permission(n).is_none() {
                return Err(RoleError::UnknownPermission(n.into()));
            }
            out.insert(n.to_owned());
        }
        Ok(out.into_iter().collect())
    }

    /// Applies `c` to `role` and its grants inside `tx`.
    fn apply_changes(
        &self,
        tx: &mut dyn IdentityTx,
        p: &Principal,
        role: &mut Role,
        c: &RoleChanges,
        creating: bool,
    ) -> Result<(), RoleError> {
        let t = &p.tenant_id;
        if let Some(raw) = &c.name {
            let name = parse_name("name", raw, NAME_MAX)?;
            if name != role.name && tx.role_by_name(t, &name)?.is_some() {
                return Err(RoleError::NameTaken(name));
            }
            role.name = name;
        }
        if let Some(d) = &c.description {
            role.description = parse_text("description", Some(d), DESCRIPTION_MAX)?;
        }
        if let Some(a) = &c.alias {
            role.alias = parse_text("alias", Some(a), NAME_MAX)?;
        }
        if let Some(rt) = c.role_type {
            role.role_type = rt;
        }
        if let Some(e) = c.enabled {
            role.enabled = e;
        }
        if let Some(org) = &c.organisation_id {
            role.organisation_id = self.organisation(p, org.as_deref())?;
        }
        let grants_change = c.permissions.is_some() || c.menus.is_some();
        if grants_change && !role.allow_edit_permissions && !creating {
            return Err(RoleError::PermissionsLocked(role.name.clone()));
        }
        if let Some(a) = c.allow_edit_permissions {
            role.allow_edit_permissions = a;
        }
        if c.group_id.is_some() || creating {
            let group = self
                .home_group(tx, t, c.group_id.as_deref(), c.check_group)?
                .ok_or_else(|| RoleError::GroupNotFound(c.group_id.clone().unwrap_or_default()))?;
            role.group_id = Some(group.id);
        }
        role.updated_at = self.clock.now_ms();
        if creating {
            tx.insert_role(role)?;
        } else {
            tx.update_role(role)?;
        }
        if let Some(names) = &c.permissions {
            tx.set_role_permissions(t, role.id, &Self::checked_permissions(names)?)?;
        }
        if let Some(menus) = &c.menus {
            let found = tx.menus_by_ids(t, menus)?;
            if let Some(missing) = menus.iter().find(|m| !found.iter().any(|f| f.id == **m)) {
                return Err(RoleError::MenuNotFound(*missing));
            }
            tx.set_role_menus(t, role.id, menus)?;
        }
        if let Some(members) = &c.members {
            self.replace_members(tx, p, role, members)?;
        }
        Ok(())
    }

    fn replace_members(
        &self,
        tx: &mut dyn IdentityTx,
        p: &Principal,
        role: &Role,
        members: &[Id],
    ) -> Result<(), RoleError> {
        let t = &p.tenant_id;
        if members.len() > super::MAX_BATCH {
            return Err(FieldError::new(
                "userIds",
                format!("must have at most {} items", super::MAX_BATCH),
            )
            .into());
        }
        self.require_users(tx, p, members)?;
        let current: Vec<Id> = tx
            .role_members(t, role.id, None)?
            .iter()
            .map(|u| u.id)
            .collect();
        let gone: Vec<Id> = current
            .into_iter()
            .filter(|u| !members.contains(u))
            .collect();
        if !gone.is_empty() {
            tx.remove_role_users(t, role.id, &gone)?;
        }
        if !members.is_empty() {
            tx.add_role_users(t, role.id, members, self.clock.now_ms())?;
        }
        if role.built_in && tx.count_role_users(t, role.id)? == 0 {
            return Err(FieldError::new(
                "userIds",
                "would leave the super admin role without any user",
            )
            .into());
        }
        Ok(())
    }

    /// Creates a role from `c` (`name` required) and answers it with its grants: the one
    /// role-creation use-case of every dialect, each sending the fields it has. The role
    /// belongs to `c.group_id` (the root group when none), created by the caller.
    pub fn create_role(&self, p: &Principal, c: &RoleChanges) -> Result<RoleProfile, RoleError> {
        p.require_super_admin()?;
        let Some(name) = &c.name else {
            return Err(FieldError::new("name", "is required").into());
        };
        parse_name("name", name, NAME_MAX)?;
        self.write_changing(&p.tenant_id, |tx| {
            let role = self.insert_role_with(tx, p, c)?;
            self.profile_of(tx, &p.tenant_id, role)
        })
    }

    /// A new role made of `c`, created by the caller, inside `tx`.
    fn insert_role_with(
        &self,
        tx: &mut dyn IdentityTx,
        p: &Principal,
        c: &RoleChanges,
    ) -> Result<Role, RoleError> {
        let mut role = Role {
            creator_id: Some(p.user_id),
            ..Role::new(
                self.ids.next_id(),
                p.tenant_id.clone(),
                String::new(),
                self.clock.now_ms(),
            )
        };
        self.apply_changes(tx, p, &mut role, c, true)?;
        Ok(role)
    }

    /// Changes a role (not the built-in one); grants of a locked role refuse to change.
    pub fn change_role(
        &self,
        p: &Principal,
        id: Id,
        c: &RoleChanges,
    ) -> Result<RoleProfile, RoleError> {
        p.require_super_admin()?;
        self.write_changing(&p.tenant_id, |tx| {
            let mut role = self.editable_role(tx, p, id)?;
            self.apply_changes(tx, p, &mut role, c, false)?;
            self.profile_of(tx, &p.tenant_id, role)
        })
    }

    /// Creates or updates (by name) each role, all or none. Built-in roles refuse.
    pub fn import_roles(
        &self,
        p: &Principal,
        roles: &[RoleChanges],
    ) -> Result<Vec<RoleProfile>, RoleError> {
        p.require_super_admin()?;
        check_batch("roles", roles)?;
        self.write_changing(&p.tenant_id, |tx| {
            let mut out = Vec::new();
            for c in roles {
                let name = parse_name("name", c.name.as_deref().unwrap_or(""), NAME_MAX)?;
                let role = match tx.role_by_name(&p.tenant_id, &name)? {
                    Some(mut role) => {
                        if role.built_in {
                            return Err(RoleError::BuiltIn);
                        }
                        self.apply_changes(tx, p, &mut role, c, false)?;
                        role
                    }
                    None => self.insert_role_with(tx, p, c)?,
                };
                out.push(self.profile_of(tx, &p.tenant_id, role)?);
            }
            Ok(out)
        })
    }

    fn profile_of(
        &self,
        tx: &mut dyn IdentityTx,
        t: &TenantId,
        role: Role,
    ) -> Result<RoleProfile, RoleError> {
        Ok(self.profiles_of(tx, t, vec![role])?.remove(0))
    }

    fn profiles_of(
        &self,
        tx: &mut dyn IdentityTx,
        t: &TenantId,
        roles: Vec<Role>,
    ) -> Result<Vec<RoleProfile>, RoleError> {
        let ids: Vec<Id> = roles.iter().map(|r| r.id).collect();
        let mut members: BTreeMap<Id, Vec<Id>> = BTreeMap::new();
        for (r, u) in tx.members_of_roles(t, &ids)? {
            members.entry(r).or_default().push(u);
        }
        let mut out = Vec::with_capacity(roles.len());
        for role in roles {
            let (permissions, menus) = if role.built_in {
                let all = crate::permissions::PERMISSIONS
                    .iter()
                    .map(|p| p.name.to_owned());
                (
                    all.collect(),
                    tx.menus(t)?.into_iter().map(|m| m.id).collect(),
                )
            } else {
                (
                    tx.role_permissions(t, role.id)?,
                    tx.role_menus(t, role.id)?
                        .into_iter()
                        .map(|m| m.id)
                        .collect(),
                )
            };
            out.push(RoleProfile {
                members: members.remove(&role.id).unwrap_or_default(),
                permissions,
                menus,
                role,
            });
        }
        Ok(out)
    }

    /// The tenant's roles that pass `filter`, by name, with their grants and members.
    pub fn role_profiles(
        &self,
        p: &Principal,
        filter: &RoleFilter,
    ) -> Result<Vec<RoleProfile>, RoleError> {
        p.require_super_admin()?;
        let needle = filter
            .name_contains
            .as_deref()
            .map(|n| n.trim().to_lowercase());
        read(self.store(), |tx| {
            let roles = tx
                .all_roles(&p.tenant_id)?
                .into_iter()
                .filter(|r| !filter.global_only || r.organisation_id.is_none())
                .filter(|r| filter.enabled.is_none_or(|e| r.enabled == e))
                .filter(|r| {
                    needle
                        .as_deref()
                        .is_none_or(|n| n.is_empty() || r.name.to_lowercase().contains(n))
                })
                .collect();
            self.profiles_of(tx, &p.tenant_id, roles)
        })
    }

    /// One page of the tenant's roles that pass `filter`, with their grants and members,
    /// sorted as the page says (newest first when it names no sort). The page is cut by
    /// the store; its size is capped at the maximum page size.
    pub fn role_profile_page(
        &self,
        p: &Principal,
        filter: &RoleFilter,
        page: &PageRequest,
    ) -> Result<Page<RoleProfile>, RoleError> {
        p.require_super_admin()?;
        let page = PageRequest::new(
            Some(page.number.into()),
            Some(page.size.into()),
            page.sorts.clone(),
            self.settings.max_page_size,
            ROLE_PROFILE_SORTS,
        )
        .map_err(FieldError::from)?;
        read(self.store(), |tx| {
            let (roles, total) = tx.filtered_roles(&p.tenant_id, filter, &page)?;
            Ok(Page::new(
                &page,
                total,
                self.profiles_of(tx, &p.tenant_id, roles)?,
            ))
        })
    }

    /// The role with this id, with its permissions, menus and members; for the super admin only.
    pub fn role_profile(&self, p: &Principal, id: Id) -> Result<RoleProfile, RoleError> {
        p.require_super_admin()?;
        read(self.store(), |tx| {
            let role = self.existing_role(tx, p, id)?;
            self.profile_of(tx, &p.tenant_id, role)
        })
    }

    /// The role `key` names (an id, else a name), with its grants.
    pub fn find_role(&self, p: &Principal, key: &str) -> Result<RoleProfile, RoleError> {
        p.require_super_admin()?;
        read(self.store(), |tx| {
            let role = self.role_by_key(tx, &p.tenant_id, key)?;
            self.profile_of(tx, &p.tenant_id, role)
        })
    }

    /// The caller's own global roles (direct or through groups); with `all`, a super admin
    /// gets every global role of the tenant.
    pub fn my_global_roles(&self, p: &Principal, all: bool) -> Result<Vec<RoleProfile>, RoleError> {
        if all && p.super_admin {
            return self.role_profiles(
                p,
                &RoleFilter {
                    global_only: true,
                    ..RoleFilter::default()
                },
            );
        }
        read(self.store(), |tx| {
            let roles = tx
                .roles_of_user(&p.tenant_id, p.user_id)?
                .into_iter()
                .filter(|r| r.organisation_id.is_none())
                .collect();
            self.profiles_of(tx, &p.tenant_id, roles)
        })
    }

    /// Enables or disables a role; a disabled one grants nothing until enabled again.
    pub fn set_role_enabled(
        &self,
        p: &Principal,
        id: Id,
        enabled: bool,
    ) -> Result<RoleProfile, RoleError> {
        self.change_role(
            p,
            id,
            &RoleChanges {
                enabled: Some(enabled),
                ..RoleChanges::default()
            },
        )
    }

    /// Deletes roles, all or none: an unknown id, the built-in role or a role somebody
    /// still holds (members, groups) refuses the batch.
    pub fn delete_roles(&self, p: &Principal, ids: &[Id]) -> Result<(), RoleError> {
        p.require_super_admin()?;
        check_batch("ids", ids)?;
        self.write_changing(&p.tenant_id, |tx| {
            for id in ids {
                self.check_deletable(tx, p, *id)?;
            }
            for id in ids {
                tx.delete_role(&p.tenant_id, *id)?;
            }
            Ok(())
        })
    }

    /// Removes one user from a role.
    pub fn remove_role_member(&self, p: &Principal, id: Id, user: Id) -> Result<(), RoleError> {
        p.require_super_admin()?;
        self.write_changing(&p.tenant_id, |tx| {
            let role = self.existing_role(tx, p, id)?;
            let members = tx.role_members(&p.tenant_id, id, None)?;
            if !members.iter().any(|u| u.id == user) {
                return Err(RoleError::UserNotFound(user));
            }
            let keep: Vec<Id> = members
                .iter()
                .map(|u| u.id)
                .filter(|u| *u != user)
                .collect();
            self.replace_members(tx, p, &role, &keep)
        })
    }

    /// Replaces a role's direct members.
    pub fn set_role_members(&self, p: &Principal, id: Id, users: &[Id]) -> Result<(), RoleError> {
        p.require_super_admin()?;
        self.write_changing(&p.tenant_id, |tx| {
            let role = self.existing_role(tx, p, id)?;
            self.replace_members(tx, p, &role, users)
        })
    }
}
