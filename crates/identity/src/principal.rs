//! Who is calling, and what they may do.

use std::collections::BTreeSet;

use weir_kernel::access::{Access, Held};
use weir_kernel::{Id, TenantId};

use crate::errors::AccessDenied;
use crate::models::{ResourceRef, Role, User};

/// An authenticated caller: their tenant, their roles (direct and through their groups,
/// enabled ones only) and what those grant.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The caller's tenant; everything they reach belongs to it.
    pub tenant_id: TenantId,
    /// The caller's user id.
    pub user_id: Id,
    /// The caller's user row as read when the token was checked.
    pub user: User,
    /// The caller's enabled roles, direct and through groups, each once.
    pub roles: Vec<Role>,
    /// The ids of the groups the caller belongs to.
    pub groups: BTreeSet<String>,
    /// Whether one of those roles is the built-in super admin, who may do everything.
    pub super_admin: bool,
    /// Function and menu codes granted through the caller's roles: their menus and the
    /// codes their named permissions carry.
    pub codes: BTreeSet<String>,
    /// Named permissions held through the caller's roles.
    pub permissions: BTreeSet<String>,
    /// The resources the caller's roles grant (each once); `None` for the super admin, who
    /// reaches every resource of the tenant. Read with the rest, so a request needs one
    /// trip to the store for who is calling and what they may reach.
    pub resources: Option<Vec<ResourceRef>>,
}

impl Principal {
    /// Whether the caller holds a function code; the super admin holds them all.
    pub fn can(&self, code: &str) -> bool {
        self.super_admin || self.codes.contains(code)
    }

    /// What the caller holds, as the other domains build their callers from it: the
    /// super admin holds everything; anyone else their codes and granted resources.
    pub fn access(&self) -> Access {
        let held = self.resources.as_ref().map(|resources| Held {
            functions: self.codes.clone(),
            grants: resources.iter().cloned().map(Into::into).collect(),
        });
        Access {
            tenant_id: self.tenant_id.clone(),
            user_id: self.user_id,
            held,
        }
    }

    /// Whether the caller holds a named permission; the super admin holds them all.
    pub fn has_permission(&self, name: &str) -> bool {
        self.super_admin || self.permissions.contains(name)
    }

    /// Refuses, naming the code, a caller who does not hold the function code `code`.
    pub fn require(&self, code: &str) -> Result<(), AccessDenied> {
        if self.can(code) {
            Ok(())
        } else {
            Err(AccessDenied(format!(
                "this needs the `{code}` permission, which none of your roles grants"
            )))
        }
    }

    /// User, role and menu management is for the super admin only.
    pub fn require_super_admin(&self) -> Result<(), AccessDenied> {
        if self.super_admin {
            Ok(())
        } else {
            Err(AccessDenied(
                "only a super admin may manage users, roles and menus".into(),
            ))
        }
    }
}
