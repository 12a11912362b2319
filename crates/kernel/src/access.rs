//! What a signed-in caller holds, in words every domain reads: their function codes and
//! the objects their roles were granted. Identity answers it for a principal; the IoT and
//! workflow domains build their own callers from it, so no adapter translates grants.

use std::collections::BTreeSet;

use crate::{Id, TenantId};

/// The kinds of object a role can be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GrantKind {
    /// One entity (its values and, for a service, calling it).
    Entity,
    /// A device, with all its entities.
    Device,
    /// An integration, with its devices and their entities.
    Integration,
    /// A dashboard.
    Dashboard,
    /// A workflow (flow).
    Workflow,
}

/// One granted object: its kind and its id (integration ids are names, the others numeric
/// ids; both kept as text).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Grant {
    /// What kind of object is granted.
    pub kind: GrantKind,
    /// Its id, as text.
    pub id: String,
}

impl Grant {
    /// The id as a numeric [`Id`], when it is one (an integration's name is not).
    pub fn numeric_id(&self) -> Option<Id> {
        self.id.parse().ok()
    }
}

/// What a caller who is not the super admin holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held {
    /// Function and menu codes (`device.view`, `workflow.edit`...).
    pub functions: BTreeSet<String>,
    /// The objects their roles grant, each once.
    pub grants: Vec<Grant>,
}

/// A signed-in caller as the domains see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// The tenant the caller signed in to; every object they reach is in it.
    pub tenant_id: TenantId,
    /// The signed-in user.
    pub user_id: Id,
    /// `None` for the super admin, who holds every function and reaches every object of
    /// the tenant.
    pub held: Option<Held>,
}
