//! Tenants: the default one, added ones, and each one's seeded menus and super-admin role.

use std::collections::HashMap;

use weir_kernel::store::write;
use weir_kernel::{StoreError, TenantId};

use super::IdentityService;
use crate::errors::{FieldError, TenantError};
use crate::models::{Menu, Role, RoleType, SUPER_ADMIN_ROLE, Tenant, parse_name};
use crate::ports::{IdentityTx, TenantRepo};
use crate::seed::SEED_MENUS;

impl IdentityService {
    /// Creates the `default` tenant if it is missing, and gives every tenant any seed
    /// menus it lacks (so upgrades that add function codes reach existing tenants).
    pub fn ensure_default_tenant(&self) -> Result<(), StoreError> {
        let now = self.clock.now_ms();
        write(self.store(), |tx| {
            let id = TenantId::default_tenant();
            if tx.tenant(&id)?.is_none() {
                tx.insert_tenant(&Tenant::top_level(id, "Default".into(), now))?;
            }
            for tenant in tx.tenants()? {
                self.seed_tenant(tx, &tenant.id)?;
            }
            Ok(())
        })
    }

    /// `weir tenant add NAME [--parent P]`: a new tenant (an organisation, under `parent`
    /// if given) with its menus, super-admin role and root user group.
    pub fn add_tenant(
        &self,
        id: &str,
        name: Option<&str>,
        parent: Option<&str>,
    ) -> Result<Tenant, TenantError> {
        let tenant_id =
            TenantId::parse(id).map_err(|e| FieldError::new("tenant", e.to_string()))?;
        let name = parse_name("name", name.unwrap_or(id), 128)?;
        let parent_id = parent
            .map(|p| TenantId::parse(p).map_err(|e| FieldError::new("parent", e.to_string())))
            .transpose()?;
        self.write_changing(&tenant_id, |tx| {
            if tx.tenant(&tenant_id)?.is_some() {
                return Err(TenantError::Exists(tenant_id.to_string()));
            }
            let (path, order) = match &parent_id {
                Some(pid) => {
                    let parent = tx.tenant(pid)?.ok_or_else(|| {
                        FieldError::new("parent", format!("tenant `{pid}` does not exist"))
                    })?;
                    let siblings = tx
                        .tenants()?
                        .iter()
                        .filter(|t| t.parent_id.as_ref() == Some(pid))
                        .count();
                    (
                        format!("{}/{tenant_id}", parent.path),
                        i32::try_from(siblings).unwrap_or(i32::MAX),
                    )
                }
                None => (format!("/{tenant_id}"), 0),
            };
            let tenant = Tenant {
                id: tenant_id.clone(),
                name: name.clone(),
                parent_id: parent_id.clone(),
                path,
                order,
                enabled: true,
                created_at: self.clock.now_ms(),
            };
            tx.insert_tenant(&tenant)?;
            self.seed_tenant(tx, &tenant.id)?;
            Ok(tenant.clone())
        })
    }

    /// Enables or disables a tenant (`weir tenant disable ID`): a disabled tenant's users
    /// cannot sign in and their tokens stop working; its organisations below keep their
    /// own state.
    pub fn set_tenant_enabled(&self, id: &str, enabled: bool) -> Result<Tenant, TenantError> {
        let tenant_id =
            TenantId::parse(id).map_err(|e| FieldError::new("tenant", e.to_string()))?;
        self.write_changing(&tenant_id, |tx| {
            let mut tenant = tx.tenant(&tenant_id)?.ok_or_else(|| {
                FieldError::new("tenant", format!("tenant `{id}` does not exist"))
            })?;
            tenant.enabled = enabled;
            tx.update_tenant(&tenant)?;
            Ok(tenant)
        })
    }

    /// Every tenant, enabled or not (an operator's view: no caller, no permission check).
    pub fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        weir_kernel::store::read(self.store(), |tx| tx.tenants())
    }

    fn seed_tenant(&self, tx: &mut dyn IdentityTx, t: &TenantId) -> Result<(), StoreError> {
        let now = self.clock.now_ms();
        let mut by_code: HashMap<String, Menu> = tx
            .menus(t)?
            .into_iter()
            .map(|m| (m.code.clone(), m))
            .collect();
        for (code, name, menu_type, parent) in SEED_MENUS {
            if by_code.contains_key(*code) {
                continue;
            }
            let menu = Menu {
                id: self.ids.next_id(),
                tenant_id: t.clone(),
                code: (*code).into(),
                name: (*name).into(),
                menu_type: *menu_type,
                parent_id: parent.and_then(|p| by_code.get(p)).map(|m| m.id),
                built_in: true,
                created_at: now,
            };
            tx.insert_menu(&menu)?;
            by_code.insert(menu.code.clone(), menu);
        }
        if tx.role_by_name(t, SUPER_ADMIN_ROLE)?.is_none() {
            tx.insert_role(&Role {
                description: "Built-in: every menu, function and resource".into(),
                built_in: true,
                allow_edit_permissions: false,
                role_type: RoleType::TenantAdmin,
                ..Role::new(self.ids.next_id(), t.clone(), SUPER_ADMIN_ROLE.into(), now)
            })?;
        }
        self.seed_root_group(tx, t)?;
        Ok(())
    }

    /// The tenant a login or registration names; unknown ones are refused.
    pub(crate) fn known_tenant(
        &self,
        tx: &mut dyn TenantRepo,
        raw: &str,
    ) -> Result<Option<TenantId>, StoreError> {
        let Ok(id) = TenantId::parse(raw) else {
            return Ok(None);
        };
        Ok(tx.tenant(&id)?.map(|t| t.id))
    }
}
