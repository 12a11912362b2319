//! Who is calling, and what they may do.

use std::collections::BTreeSet;

use weir_kernel::{Id, TenantId};

use crate::errors::AccessDenied;
use crate::models::{Role, User};

/// An authenticated caller: their tenant, their roles and the function codes those grant.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant_id: TenantId,
    pub user_id: Id,
    /// The caller's user row as read when the token was checked.
    pub user: User,
    pub roles: Vec<Role>,
    pub super_admin: bool,
    /// Function and menu codes granted through the caller's roles.
    pub codes: BTreeSet<String>,
}

impl Principal {
    /// Whether the caller holds a function code; the super admin holds them all.
    pub fn can(&self, code: &str) -> bool {
        self.super_admin || self.codes.contains(code)
    }

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
