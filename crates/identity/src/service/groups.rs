//! User groups: a tree per tenant under the fixed root DEPARTMENT, their members, and the
//! roles granted to them.

use std::collections::BTreeSet;

use weir_kernel::store::read;
use weir_kernel::{StoreError, TenantId};

use super::IdentityService;
use crate::errors::{GroupError, RoleError, UserError};
use crate::models::*;
use crate::ports::GroupRepo;
use crate::principal::Principal;

#[derive(Debug, Clone, Default)]
/// A new user group (see [`IdentityService::create_group`]).
pub struct GroupInput {
    /// A client-chosen id; a UUID when `None`.
    pub id: Option<String>,
    /// The parent; the root when `None`.
    pub parent_id: Option<String>,
    /// Refuse an unknown parent instead of falling back to the root.
    pub check_parent: bool,
    /// The display name, 1 to 128 characters.
    pub name: String,
    /// A second display name, at most 128 characters; `None`: empty.
    pub alias: Option<String>,
    /// Free text, at most [`DESCRIPTION_MAX`] characters; `None`: empty.
    pub description: Option<String>,
    /// A free code for the client's use, at most [`NAME_MAX`] characters; `None`: empty.
    pub code: Option<String>,
}

/// Changes to a group; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct GroupUpdate {
    /// A new parent, which moves the group with its subtree.
    pub parent_id: Option<String>,
    /// A new display name, 1 to 128 characters.
    pub name: Option<String>,
    /// A new second display name, at most 128 characters.
    pub alias: Option<String>,
    /// A new description, at most [`DESCRIPTION_MAX`] characters.
    pub description: Option<String>,
    /// A new code, at most [`NAME_MAX`] characters.
    pub code: Option<String>,
}

/// An item of a membership batch that was not applied, and why (Smartbi answers these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkFailure {
    /// The id of the item (a group, user or role) as the request named it.
    pub id: String,
    /// Why it was not applied (`group `x` not found`).
    pub msg: String,
}

/// How a membership batch treats the links already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkMode {
    /// Keep them and add the new ones.
    Append,
    /// Replace them with the new ones.
    Override,
}

impl LinkMode {
    /// What a batch naming `named` items of which `known` exist does: overriding, unless
    /// it named something and none of it exists — a batch of typos must not wipe
    /// memberships (an empty list still clears them).
    pub(crate) fn applied(self, named: usize, known: usize) -> Self {
        if self == Self::Override && (named == 0 || known > 0) {
            Self::Override
        } else {
            Self::Append
        }
    }
}

const GROUP_NAME_MAX: usize = 128;

fn root_group(t: &TenantId, now: weir_kernel::Millis) -> Group {
    Group {
        id: ROOT_GROUP.into(),
        tenant_id: t.clone(),
        name: "Department".into(),
        alias: String::new(),
        description: "The root of the user groups".into(),
        code: String::new(),
        parent_id: None,
        path: format!("/{ROOT_GROUP}"),
        creator_id: None,
        created_at: now,
    }
}

/// Splits requested group ids into known ones and failures naming the unknown ones.
fn known_groups(
    tx: &mut dyn GroupRepo,
    t: &TenantId,
    wanted: &[String],
) -> Result<(Vec<String>, Vec<LinkFailure>), StoreError> {
    let found: BTreeSet<String> = tx
        .groups_by_ids(t, wanted)?
        .into_iter()
        .map(|g| g.id)
        .collect();
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for id in wanted {
        if found.contains(id) {
            if !ok.contains(id) {
                ok.push(id.clone());
            }
        } else {
            failed.push(LinkFailure {
                id: id.clone(),
                msg: format!("group `{id}` not found"),
            });
        }
    }
    Ok((ok, failed))
}

impl IdentityService {
    /// Gives the tenant its root group if it lacks one.
    pub(crate) fn seed_root_group(
        &self,
        tx: &mut dyn GroupRepo,
        t: &TenantId,
    ) -> Result<(), StoreError> {
        if tx.group(t, ROOT_GROUP)?.is_none() {
            tx.insert_group(&root_group(t, self.clock.now_ms()))?;
        }
        Ok(())
    }

    /// Puts a new user in the root group, as their default group.
    pub(crate) fn join_root_group(
        &self,
        tx: &mut dyn GroupRepo,
        user: &User,
    ) -> Result<(), StoreError> {
        self.seed_root_group(tx, &user.tenant_id)?;
        tx.add_user_groups(
            &user.tenant_id,
            user.id,
            &[ROOT_GROUP.to_owned()],
            Some(ROOT_GROUP),
        )
    }

    /// The group a new member goes to: `wanted` if it exists, else the root (or, with
    /// `check`, `None` so the caller can refuse).
    pub(crate) fn home_group(
        &self,
        tx: &mut dyn GroupRepo,
        t: &TenantId,
        wanted: Option<&str>,
        check: bool,
    ) -> Result<Option<Group>, StoreError> {
        self.seed_root_group(tx, t)?;
        let wanted = wanted.map(str::trim).filter(|w| !w.is_empty());
        if let Some(id) = wanted {
            if let Some(g) = tx.group(t, id)? {
                return Ok(Some(g));
            }
            if check {
                return Ok(None);
            }
        }
        tx.group(t, ROOT_GROUP)
    }

    /// Creates a group under its parent; for the super admin only. Refused when the id is
    /// taken, or the parent is unknown and `check_parent` is set.
    pub fn create_group(&self, p: &Principal, input: GroupInput) -> Result<Group, GroupError> {
        p.require_super_admin()?;
        let id = match input.id.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            Some(raw) => parse_group_id("id", raw)?,
            None => uuid::Uuid::new_v4().to_string(),
        };
        let name = parse_name("name", &input.name, GROUP_NAME_MAX)?;
        let alias = parse_text("alias", input.alias.as_deref(), GROUP_NAME_MAX)?;
        let description = parse_text("desc", input.description.as_deref(), DESCRIPTION_MAX)?;
        let code = parse_text("code", input.code.as_deref(), NAME_MAX)?;
        let t = &p.tenant_id;
        self.write_changing(&p.tenant_id, |tx| {
            if tx.group(t, &id)?.is_some() {
                return Err(GroupError::IdTaken(id.clone()));
            }
            let parent = self
                .home_group(tx, t, input.parent_id.as_deref(), input.check_parent)?
                .ok_or_else(|| {
                    GroupError::ParentNotFound(input.parent_id.clone().unwrap_or_default())
                })?;
            let group = Group {
                id: id.clone(),
                tenant_id: t.clone(),
                name: name.clone(),
                alias: alias.clone(),
                description: description.clone(),
                code: code.clone(),
                path: format!("{}/{id}", parent.path),
                parent_id: Some(parent.id),
                creator_id: Some(p.user_id),
                created_at: self.clock.now_ms(),
            };
            tx.insert_group(&group)?;
            Ok(group)
        })
    }

    /// Changes a group; a new parent moves it with its whole subtree.
    pub fn update_group(
        &self,
        p: &Principal,
        id: &str,
        upd: GroupUpdate,
    ) -> Result<Group, GroupError> {
        p.require_super_admin()?;
        let name = parse_changed_name("name", upd.name.as_deref(), GROUP_NAME_MAX)?;
        let alias = parse_changed_text("alias", upd.alias.as_deref(), GROUP_NAME_MAX)?;
        let description = parse_changed_text("desc", upd.description.as_deref(), DESCRIPTION_MAX)?;
        let code = parse_changed_text("code", upd.code.as_deref(), NAME_MAX)?;
        let t = &p.tenant_id;
        self.write_changing(&p.tenant_id, |tx| {
            let mut group = self.existing_group(tx, t, id)?;
            if group.id == ROOT_GROUP {
                return Err(GroupError::Root);
            }
            group.name = name.clone().unwrap_or(group.name);
            group.alias = alias.clone().unwrap_or(group.alias);
            group.description = description.clone().unwrap_or(group.description);
            group.code = code.clone().unwrap_or(group.code);
            let new_parent = upd
                .parent_id
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty());
            if let Some(parent_id) = new_parent.filter(|p| Some(*p) != group.parent_id.as_deref()) {
                let parent = tx
                    .group(t, parent_id)?
                    .ok_or_else(|| GroupError::ParentNotFound(parent_id.into()))?;
                let old_path = group.path.clone();
                if parent.path == old_path || parent.path.starts_with(&format!("{old_path}/")) {
                    return Err(GroupError::Cycle);
                }
                group.path = format!("{}/{}", parent.path, group.id);
                group.parent_id = Some(parent.id);
                for mut child in tx.groups_under(t, &old_path)? {
                    child.path = format!("{}{}", group.path, &child.path[old_path.len()..]);
                    tx.update_group(&child)?;
                }
            }
            tx.update_group(&group)?;
            Ok(group)
        })
    }

    /// Deletes a group without subgroups; its members and roles lose only that link.
    pub fn delete_group(&self, p: &Principal, id: &str) -> Result<(), GroupError> {
        p.require_super_admin()?;
        let t = &p.tenant_id;
        self.write_changing(&p.tenant_id, |tx| {
            let group = self.existing_group(tx, t, id)?;
            if group.id == ROOT_GROUP {
                return Err(GroupError::Root);
            }
            let children = tx.groups_under(t, &group.path)?.len();
            if children > 0 {
                return Err(GroupError::HasChildren(children));
            }
            tx.delete_groups(t, &[group.id])?;
            Ok(())
        })
    }

    /// The group with this id; for the super admin only.
    pub fn group(&self, p: &Principal, id: &str) -> Result<Group, GroupError> {
        p.require_super_admin()?;
        read(self.store(), |tx| self.existing_group(tx, &p.tenant_id, id))
    }

    fn existing_group(
        &self,
        tx: &mut dyn GroupRepo,
        t: &TenantId,
        id: &str,
    ) -> Result<Group, GroupError> {
        tx.group(t, id.trim())?
            .ok_or_else(|| GroupError::NotFound(id.trim().into()))
    }

    /// The groups a user belongs to, the default one marked.
    pub fn user_groups(&self, p: &Principal, user: &str) -> Result<Vec<GroupLink>, UserError> {
        p.require_super_admin()?;
        read(self.store(), |tx| {
            let u = self.user_by_key(tx, &p.tenant_id, user)?;
            Ok(tx.groups_of_user(&p.tenant_id, u.id)?)
        })
    }

    /// Puts a user in groups. Unknown groups are skipped and listed; with `Override` the
    /// user leaves every group not named. `default` (else, when overriding, the first
    /// group named) becomes the default group.
    pub fn add_user_groups(
        &self,
        p: &Principal,
        user: &str,
        groups: &[String],
        default: Option<&str>,
        mode: LinkMode,
    ) -> Result<Vec<LinkFailure>, UserError> {
        p.require_super_admin()?;
        let t = &p.tenant_id;
        self.write_changing(&p.tenant_id, |tx| {
            let u = self.user_by_key(tx, t, user)?;
            let (ok, mut failed) = known_groups(tx, t, groups)?;
            let current = tx.groups_of_user(t, u.id)?;
            let mode = mode.applied(groups.len(), ok.len());
            if mode == LinkMode::Override {
                let gone: Vec<String> = current
                    .iter()
                    .map(|l| l.group.id.clone())
                    .filter(|g| !ok.contains(g))
                    .collect();
                tx.remove_user_groups(t, u.id, &gone)?;
            }
            let default = pick_default(default, &ok, &current, mode, &mut failed);
            tx.add_user_groups(t, u.id, &ok, default.as_deref())?;
            Ok(failed)
        })
    }

    /// Takes the user `user` names (an id, else a login name) out of `groups`; groups the
    /// user is not in are ignored. For the super admin only.
    pub fn remove_user_groups(
        &self,
        p: &Principal,
        user: &str,
        groups: &[String],
    ) -> Result<(), UserError> {
        p.require_super_admin()?;
        let t = &p.tenant_id;
        self.write_changing(&p.tenant_id, |tx| {
            let u = self.user_by_key(tx, t, user)?;
            tx.remove_user_groups(t, u.id, groups)?;
            Ok(())
        })
    }

    /// The groups a role is granted to; the group it belongs to (if granted) is marked
    /// as the default.
    pub fn role_groups(&self, p: &Principal, role: &str) -> Result<Vec<GroupLink>, RoleError> {
        p.require_super_admin()?;
        read(self.store(), |tx| {
            let r = self.role_by_key(tx, &p.tenant_id, role)?;
            Ok(tx
                .groups_of_role(&p.tenant_id, r.id)?
                .into_iter()
                .map(|g| GroupLink {
                    is_default: r.group_id.as_deref() == Some(g.id.as_str()),
                    group: g,
                })
                .collect())
        })
    }

    /// Grants a role to groups: their members hold it. Unknown groups are skipped and
    /// listed; with `Override` the role leaves every group not named.
    pub fn add_role_groups(
        &self,
        p: &Principal,
        role: &str,
        groups: &[String],
        mode: LinkMode,
    ) -> Result<Vec<LinkFailure>, RoleError> {
        p.require_super_admin()?;
        let t = &p.tenant_id;
        self.write_changing(&p.tenant_id, |tx| {
            let r = self.role_by_key(tx, t, role)?;
            let (ok, failed) = known_groups(tx, t, groups)?;
            if mode.applied(groups.len(), ok.len()) == LinkMode::Override {
                let gone: Vec<String> = tx
                    .groups_of_role(t, r.id)?
                    .into_iter()
                    .map(|g| g.id)
                    .filter(|g| !ok.contains(g))
                    .collect();
                tx.remove_role_groups(t, r.id, &gone)?;
            }
            tx.add_role_groups(t, r.id, &ok)?;
            Ok(failed)
        })
    }

    /// Takes the role `role` names (an id, else a name) from `groups`; groups it is not
    /// granted to are ignored. For the super admin only.
    pub fn remove_role_groups(
        &self,
        p: &Principal,
        role: &str,
        groups: &[String],
    ) -> Result<(), RoleError> {
        p.require_super_admin()?;
        let t = &p.tenant_id;
        self.write_changing(&p.tenant_id, |tx| {
            let r = self.role_by_key(tx, t, role)?;
            tx.remove_role_groups(t, r.id, groups)?;
            Ok(())
        })
    }
}

/// A user's default group after a membership batch: the one asked for if the user will be
/// in it, else (overriding) the first group named, else (appending) unchanged unless the
/// user had none.
fn pick_default(
    asked: Option<&str>,
    added: &[String],
    current: &[GroupLink],
    mode: LinkMode,
    failed: &mut Vec<LinkFailure>,
) -> Option<String> {
    let asked = asked.map(str::trim).filter(|a| !a.is_empty());
    let kept = |g: &str| {
        added.iter().any(|a| a == g)
            || (mode == LinkMode::Append && current.iter().any(|l| l.group.id == g))
    };
    match asked {
        Some(a) if kept(a) => Some(a.to_owned()),
        Some(a) => {
            failed.push(LinkFailure {
                id: a.to_owned(),
                msg: "the default group must be one of the groups".into(),
            });
            None
        }
        None if mode == LinkMode::Override => added.first().cloned(),
        None => {
            let has_default = current.iter().any(|l| l.is_default);
            (!has_default).then(|| added.first().cloned()).flatten()
        }
    }
}
