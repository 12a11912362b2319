//! Who is asking.

use std::collections::BTreeSet;

use weir_kernel::{Id, TenantId};

use crate::row_perms::Subject;

/// The caller of a catalog use-case: a signed-in user of a tenant. The HTTP adapter
/// builds it from the identity principal.
///
/// **Permissions (this slice):** every signed-in user of the tenant may read and change
/// the whole catalog of their tenant, and nothing of another tenant. Resource permissions
/// (Smartbi 2.9, `perm/assignee/resource`) come next and will narrow this. Row
/// permissions (2.5) already narrow the rows every caller's queries read, by the user's
/// id and role ids ([`Caller::subject`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub tenant_id: TenantId,
    /// The user behind the call; `None` for the system.
    pub user_id: Option<Id>,
    /// The user's name, kept as the creator of what they make.
    pub user_name: String,
    /// The user's roles, which row permissions may name.
    pub roles: BTreeSet<Id>,
}

impl Caller {
    pub fn user(tenant_id: TenantId, user_id: Id, user_name: impl Into<String>) -> Self {
        Self {
            tenant_id,
            user_id: Some(user_id),
            user_name: user_name.into(),
            roles: BTreeSet::new(),
        }
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
        }
    }

    /// Who the caller is for row permissions: the user's id and role ids as the strings
    /// items list them. **Groups are empty** until user groups exist (issue 6), so an item
    /// naming only groups narrows nobody yet (and one with `applicable: 0` everybody).
    pub fn subject(&self) -> Subject {
        Subject {
            user: self.user_id.map(|id| id.to_string()).unwrap_or_default(),
            groups: BTreeSet::new(),
            roles: self.roles.iter().map(Id::to_string).collect(),
        }
    }
}
