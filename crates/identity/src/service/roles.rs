//! Roles, their members, and the menus and resources they grant.

use weir_kernel::store::read;
use weir_kernel::{Id, Page};

use super::{IdentityService, MAX_BATCH, SearchQuery};
use crate::errors::{FieldError, RoleError};
use crate::models::*;
use crate::ports::{IdentityTx, RoleRepo, UserRepo};
use crate::principal::Principal;

#[derive(Debug, Clone)]
/// A role's name and description, to create or rename it.
pub struct RoleInput {
    /// The name, unique in the tenant, 1 to [`NAME_MAX`] characters.
    pub name: String,
    /// Free text, at most [`DESCRIPTION_MAX`] characters; `None`: empty.
    pub description: Option<String>,
}

/// Properties the role search can sort by.
pub const ROLE_SORTS: &[&str] = &["created_at", "name"];

pub(crate) fn check_batch<T>(field: &'static str, items: &[T]) -> Result<(), FieldError> {
    if items.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if items.len() > MAX_BATCH {
        return Err(FieldError::new(
            field,
            format!("must have at most {MAX_BATCH} items"),
        ));
    }
    Ok(())
}

impl IdentityService {
    pub(crate) fn existing_role(
        &self,
        tx: &mut dyn RoleRepo,
        p: &Principal,
        id: Id,
    ) -> Result<Role, RoleError> {
        tx.role(&p.tenant_id, id)?.ok_or(RoleError::NotFound(id))
    }

    /// The role `key` names: an id, else a name.
    pub(crate) fn role_by_key(
        &self,
        tx: &mut dyn RoleRepo,
        t: &weir_kernel::TenantId,
        key: &str,
    ) -> Result<Role, RoleError> {
        let key = key.trim();
        if let Ok(id) = key.parse::<Id>()
            && let Some(r) = tx.role(t, id)?
        {
            return Ok(r);
        }
        tx.role_by_name(t, key)?
            .ok_or_else(|| RoleError::NotFoundNamed(key.into()))
    }

    /// A role whose grants may change: not the built-in one.
    pub(crate) fn editable_role(
        &self,
        tx: &mut dyn RoleRepo,
        p: &Principal,
        id: Id,
    ) -> Result<Role, RoleError> {
        let role = self.existing_role(tx, p, id)?;
        if role.built_in {
            return Err(RoleError::BuiltIn);
        }
        Ok(role)
    }

    /// Refuses the batch if any user is unknown in the caller's tenant.
    pub(crate) fn require_users(
        &self,
        tx: &mut dyn UserRepo,
        p: &Principal,
        users: &[Id],
    ) -> Result<(), RoleError> {
        let found = tx.users(&p.tenant_id, users)?;
        match users.iter().find(|u| !found.iter().any(|f| f.id == **u)) {
            Some(missing) => Err(RoleError::UserNotFound(*missing)),
            None => Ok(()),
        }
    }

    /// Renames a role and sets its description; for the super admin only. Refused for the
    /// built-in role and when another role has the name.
    pub fn update_role(&self, p: &Principal, id: Id, input: RoleInput) -> Result<(), RoleError> {
        p.require_super_admin()?;
        let name = parse_name("name", &input.name, NAME_MAX)?;
        let description = parse_text("description", input.description.as_deref(), DESCRIPTION_MAX)?;
        self.write_changing(&p.tenant_id, |tx| {
            let mut role = self.editable_role(tx, p, id)?;
            if name != role.name && tx.role_by_name(&p.tenant_id, &name)?.is_some() {
                return Err(RoleError::NameTaken(name.clone()));
            }
            role.name = name.clone();
            role.description = description.clone();
            role.updated_at = self.clock.now_ms();
            tx.update_role(&role)?;
            Ok(())
        })
    }

    /// Deletes a role that nobody holds any more (see [`Self::delete_roles`]).
    pub fn delete_role(&self, p: &Principal, id: Id) -> Result<(), RoleError> {
        self.delete_roles(p, &[id])
    }

    /// Refuses to delete the built-in role or one somebody still holds, directly or
    /// through a group: a delete never silently takes access away from people.
    pub(crate) fn check_deletable(
        &self,
        tx: &mut dyn IdentityTx,
        p: &Principal,
        id: Id,
    ) -> Result<(), RoleError> {
        self.editable_role(tx, p, id)?;
        let users = tx.count_role_users(&p.tenant_id, id)?;
        if users > 0 {
            return Err(RoleError::HasUsers(users));
        }
        let groups = tx.groups_of_role(&p.tenant_id, id)?.len();
        if groups > 0 {
            return Err(RoleError::HasGroups(groups));
        }
        Ok(())
    }

    /// One page of the tenant's roles matching the query's keyword, with their counts,
    /// sorted by [`ROLE_SORTS`]; for the super admin only.
    pub fn search_roles(
        &self,
        p: &Principal,
        q: &SearchQuery,
    ) -> Result<Page<RoleSummary>, RoleError> {
        p.require_super_admin()?;
        let page = &self.page_of(q, ROLE_SORTS)?;
        read(self.store(), |tx| {
            let (roles, total) = tx.search_roles(&p.tenant_id, q.keyword(), page)?;
            Ok(Page::new(page, total, roles))
        })
    }

    /// The role's direct members, those matching `keyword` (`None`: all); for the super
    /// admin only.
    pub fn role_members(
        &self,
        p: &Principal,
        id: Id,
        keyword: Option<&str>,
    ) -> Result<Vec<User>, RoleError> {
        p.require_super_admin()?;
        let keyword = weir_kernel::text::keyword(keyword)
            .map_err(|e| FieldError::new("keyword", e.to_string()))?;
        read(self.store(), |tx| {
            self.existing_role(tx, p, id)?;
            Ok(tx.role_members(&p.tenant_id, id, keyword)?)
        })
    }

    /// One page of the role's members (optionally filtered by the query's keyword), in the
    /// order [`Self::role_members`] lists them. Roles hold few enough members to be paged in
    /// memory; the query may not sort.
    pub fn role_members_page(
        &self,
        p: &Principal,
        id: Id,
        q: &SearchQuery,
    ) -> Result<Page<User>, RoleError> {
        p.require_super_admin()?;
        let page = self.page_of(q, &[])?;
        Ok(Page::cut(&page, self.role_members(p, id, q.keyword())?))
    }

    /// Users who are not yet members of the role.
    pub fn users_outside_role(
        &self,
        p: &Principal,
        id: Id,
        keyword: Option<&str>,
    ) -> Result<Vec<User>, RoleError> {
        p.require_super_admin()?;
        let keyword = weir_kernel::text::keyword(keyword)
            .map_err(|e| FieldError::new("keyword", e.to_string()))?;
        read(self.store(), |tx| {
            self.existing_role(tx, p, id)?;
            Ok(tx.users_outside_role(&p.tenant_id, id, keyword)?)
        })
    }

    /// One page of the users outside the role (optionally filtered by the query's keyword),
    /// in the order [`Self::users_outside_role`] lists them; the query may not sort.
    pub fn users_outside_role_page(
        &self,
        p: &Principal,
        id: Id,
        q: &SearchQuery,
    ) -> Result<Page<User>, RoleError> {
        p.require_super_admin()?;
        let page = self.page_of(q, &[])?;
        Ok(Page::cut(
            &page,
            self.users_outside_role(p, id, q.keyword())?,
        ))
    }

    /// The menus a role grants; the built-in role grants them all.
    pub fn role_menus(&self, p: &Principal, id: Id) -> Result<Vec<Menu>, RoleError> {
        p.require_super_admin()?;
        read(self.store(), |tx| {
            let role = self.existing_role(tx, p, id)?;
            Ok(if role.built_in {
                tx.menus(&p.tenant_id)?
            } else {
                tx.role_menus(&p.tenant_id, id)?
            })
        })
    }

    /// The resources granted to the role, of type `kind` only when given; for the super
    /// admin only.
    pub fn role_resources(
        &self,
        p: &Principal,
        id: Id,
        kind: Option<ResourceType>,
    ) -> Result<Vec<ResourceRef>, RoleError> {
        p.require_super_admin()?;
        read(self.store(), |tx| {
            self.existing_role(tx, p, id)?;
            Ok(tx.role_resources(&p.tenant_id, id, kind)?)
        })
    }

    /// Adds users to a role; users already in it stay. An unknown user refuses the batch.
    pub fn associate_users(&self, p: &Principal, id: Id, users: &[Id]) -> Result<(), RoleError> {
        p.require_super_admin()?;
        check_batch("user_ids", users)?;
        let now = self.clock.now_ms();
        self.write_changing(&p.tenant_id, |tx| {
            self.existing_role(tx, p, id)?;
            self.require_users(tx, p, users)?;
            tx.add_role_users(&p.tenant_id, id, users, now)?;
            Ok(())
        })
    }

    /// Removes users from a role. The built-in role keeps at least one member, so a tenant
    /// can never lose its last administrator.
    pub fn disassociate_users(&self, p: &Principal, id: Id, users: &[Id]) -> Result<(), RoleError> {
        p.require_super_admin()?;
        check_batch("user_ids", users)?;
        self.write_changing(&p.tenant_id, |tx| {
            let role = self.existing_role(tx, p, id)?;
            self.require_users(tx, p, users)?;
            tx.remove_role_users(&p.tenant_id, id, users)?;
            if role.built_in && tx.count_role_users(&p.tenant_id, id)? == 0 {
                return Err(FieldError::new(
                    "user_ids",
                    "would leave the super admin role without any user",
                )
                .into());
            }
            Ok(())
        })
    }

    /// Changes what a (non-built-in) role grants: one checked batch in one transaction.
    fn edit_grants<T>(
        &self,
        p: &Principal,
        id: Id,
        field: &'static str,
        items: &[T],
        change: impl FnOnce(&mut dyn IdentityTx, &[T]) -> Result<(), RoleError>,
    ) -> Result<(), RoleError> {
        p.require_super_admin()?;
        check_batch(field, items)?;
        self.write_changing(&p.tenant_id, |tx| {
            self.grantable_role(tx, p, id)?;
            change(tx, items)
        })
    }

    /// The role, if its grants may be edited: not built in, permissions not locked.
    fn grantable_role(
        &self,
        tx: &mut dyn RoleRepo,
        p: &Principal,
        id: Id,
    ) -> Result<Role, RoleError> {
        let role = self.editable_role(tx, p, id)?;
        if !role.allow_edit_permissions {
            return Err(RoleError::PermissionsLocked(role.name));
        }
        Ok(role)
    }

    /// Grants menus; an unknown menu refuses the batch.
    pub fn associate_menus(&self, p: &Principal, id: Id, menus: &[Id]) -> Result<(), RoleError> {
        self.edit_grants(p, id, "menu_ids", menus, |tx, menus| {
            let found = tx.menus_by_ids(&p.tenant_id, menus)?;
            if let Some(missing) = menus.iter().find(|m| !found.iter().any(|f| f.id == **m)) {
                return Err(RoleError::MenuNotFound(*missing));
            }
            Ok(tx.add_role_menus(&p.tenant_id, id, menus)?)
        })
    }

    /// Takes menus from a role (1 to [`MAX_BATCH`] ids; ones it lacks are ignored); for the
    /// super admin only, and not from the built-in role or one whose permissions are locked.
    pub fn disassociate_menus(&self, p: &Principal, id: Id, menus: &[Id]) -> Result<(), RoleError> {
        self.edit_grants(p, id, "menu_ids", menus, |tx, menus| {
            Ok(tx.remove_role_menus(&p.tenant_id, id, menus)?)
        })
    }

    /// Grants resources to a role (1 to [`MAX_BATCH`]); for the super admin only, and not to
    /// the built-in role or one whose permissions are locked. With a resource directory (see
    /// [`Self::check_resources_with`]), each must exist in the tenant.
    pub fn associate_resources(
        &self,
        p: &Principal,
        id: Id,
        items: &[ResourceRef],
    ) -> Result<(), RoleError> {
        if let Some(directory) = self.resources.get() {
            // The role's own refusals first (unknown, built in, locked), then the targets:
            // they live in other domains, asked outside this domain's transaction.
            p.require_super_admin()?;
            check_batch("resources", items)?;
            read(self.store(), |tx| self.grantable_role(tx, p, id))?;
            if let Some(missing) = directory.first_missing(&p.tenant_id, items)? {
                return Err(RoleError::ResourceNotFound(
                    missing.resource_type.as_str(),
                    missing.resource_id,
                ));
            }
        }
        self.edit_grants(p, id, "resources", items, |tx, items| {
            Ok(tx.add_role_resources(&p.tenant_id, id, items)?)
        })
    }

    /// Takes resource grants from a role (1 to [`MAX_BATCH`]; ones it lacks are ignored);
    /// for the super admin only, and not from the built-in role or one whose permissions are
    /// locked.
    pub fn disassociate_resources(
        &self,
        p: &Principal,
        id: Id,
        items: &[ResourceRef],
    ) -> Result<(), RoleError> {
        self.edit_grants(p, id, "resources", items, |tx, items| {
            Ok(tx.remove_role_resources(&p.tenant_id, id, items)?)
        })
    }
}
