//! Who is asking.

use std::collections::BTreeSet;

use weir_kernel::{Id, TenantId};

use crate::row_perms::Subject;

/// The caller of a catalog use-case: a signed-in user of a tenant. The HTTP adapter
/// builds it from the identity principal.
///
/// **Permissions:** a caller sees and changes only what their level on each resource
/// allows (resource permissions, Smartbi 2.9: see [`super::grants`]), and nothing of
/// another tenant. The super admin (and the system) hold everything. Row permissions (2.5)
/// narrow the rows every caller's queries read, by the user's id, groups and role ids
/// ([`Caller::subject`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The tenant the call acts in; nothing of another tenant is visible to it.
    pub tenant_id: TenantId,
    /// The user behind the call; `None` for the system.
    pub user_id: Option<Id>,
    /// The user's name, kept as the creator of what they make.
    pub user_name: String,
    /// The user's roles (direct and through groups), which grants and row permissions
    /// may name.
    pub roles: BTreeSet<Id>,
    /// The ids of the user's groups, which grants and row permissions may name.
    pub groups: BTreeSet<String>,
    /// The tenant's super admin (the identity principal's flag): holds `edit` on every
    /// resource of the tenant, whatever the grants.
    pub super_admin: bool,
}

impl Caller {
    /// A signed-in user of `tenant_id`, not super admin, with no roles nor groups yet (see the
    /// `with_*` methods).
    pub fn user(tenant_id: TenantId, user_id: Id, user_name: impl Into<String>) -> Self {
        Self {
            tenant_id,
            user_id: Some(user_id),
            user_name: user_name.into(),
            roles: BTreeSet::new(),
            groups: BTreeSet::new(),
            super_admin: false,
        }
    }

    /// The same caller as the tenant's super admin (or not).
    pub fn with_super_admin(mut self, super_admin: bool) -> Self {
        self.super_admin = super_admin;
        self
    }

    /// Whether grants do not matter: the super admin and the system.
    pub fn holds_everything(&self) -> bool {
        self.super_admin || self.user_id.is_none()
    }

    /// The same caller in these user groups.
    pub fn with_groups(mut self, groups: impl IntoIterator<Item = String>) -> Self {
        self.groups = groups.into_iter().collect();
        self
    }

    /// The same caller holding these roles.
    pub fn with_roles(mut self, roles: impl IntoIterator<Item = Id>) -> Self {
        self.roles = roles.into_iter().collect();
        self
    }

    /// The system, acting in a tenant.
    pub fn system(tenant_id: TenantId) -> Self {
        Self {
            tenant_id,
            user_id: None,
            user_name: String::new(),
            roles: BTreeSet::new(),
            groups: BTreeSet::new(),
            super_admin: true,
        }
    }

    /// Who the caller is for row permissions: the user's id, group ids and role ids as the
    /// strings items list them.
    pub fn subject(&self) -> Subject {
        Subject {
            user: self.user_id.map(|id| id.to_string()).unwrap_or_default(),
            groups: self.groups.clone(),
            roles: self.roles.iter().map(Id::to_string).collect(),
        }
    }
}
