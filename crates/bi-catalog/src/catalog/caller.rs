//! Who is asking.

use weir_kernel::{Id, TenantId};

/// The caller of a catalog use-case: a signed-in user of a tenant. The HTTP adapter
/// builds it from the identity principal.
///
/// **Permissions (this slice):** every signed-in user of the tenant may read and change
/// the whole catalog of their tenant, and nothing of another tenant. Resource permissions
/// (Smartbi 2.9, `perm/assignee/resource`) come next and will narrow this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub tenant_id: TenantId,
    /// The user behind the call; `None` for the system.
    pub user_id: Option<Id>,
    /// The user's name, kept as the creator of what they make.
    pub user_name: String,
}

impl Caller {
    pub fn user(tenant_id: TenantId, user_id: Id, user_name: impl Into<String>) -> Self {
        Self {
            tenant_id,
            user_id: Some(user_id),
            user_name: user_name.into(),
        }
    }

    /// The system, acting in a tenant.
    pub fn system(tenant_id: TenantId) -> Self {
        Self {
            tenant_id,
            user_id: None,
            user_name: String::new(),
        }
    }
}
