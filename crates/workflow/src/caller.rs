//! Who is asking, and which workflow functions they hold.

use std::collections::BTreeSet;

use weir_kernel::access::{Access, GrantKind};
use weir_kernel::{Id, TenantId};

use crate::errors::WorkflowError;
use crate::ports::{Flow, Visible};

/// The function codes of the workflow menu (as `weir_identity::seed` declares them).
pub mod functions {
    /// View workflows: search flows and read their designs.
    pub const VIEW: &str = "workflow.view";
    /// Add workflows: save a design as a new flow.
    pub const ADD: &str = "workflow.add";
    /// Edit workflows: save new versions, rename, enable or disable, issue `httpIn` credentials.
    pub const EDIT: &str = "workflow.edit";
    /// Delete workflows.
    pub const DELETE: &str = "workflow.delete";
    /// Import workflows (checked by the HTTP layer's import route).
    pub const IMPORT: &str = "workflow.import";
    /// Export workflows (checked by the HTTP layer's export route).
    pub const EXPORT: &str = "workflow.export";
}

/// The caller of a workflow use-case, built from what a signed-in user holds
/// ([`Caller::of`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// The tenant the call acts in; the caller sees nothing outside it.
    pub tenant_id: TenantId,
    /// The user behind the call, when there is one.
    pub user_id: Option<Id>,
    /// The caller's function codes; `None` for the super admin (and the system), who may
    /// do everything in the tenant.
    pub functions: Option<BTreeSet<String>>,
    /// The flows the caller's roles were granted (WORKFLOW resources); `None` for all the
    /// tenant's flows. A caller also sees the flows they created.
    pub flows: Option<BTreeSet<Id>>,
    /// The integrations, devices and entities the caller's roles were granted; `None` when
    /// they see every one of the tenant (the super admin). Decides which entities a design
    /// they save may name.
    pub entity_grants: Option<EntityGrants>,
}

/// The IoT resources a caller was granted (as `weir_iot`'s visible set has them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntityGrants {
    /// The integration ids granted.
    pub integrations: Vec<String>,
    /// The ids of the devices granted.
    pub devices: Vec<Id>,
    /// The ids of the entities granted.
    pub entities: Vec<Id>,
}

impl Caller {
    /// Everything in the tenant.
    pub fn system(tenant_id: TenantId) -> Self {
        Self {
            tenant_id,
            user_id: None,
            functions: None,
            flows: None,
            entity_grants: None,
        }
    }

    /// A signed-in user: the super admin may do everything in the tenant and sees every
    /// flow; anyone else holds their function codes, sees the flows granted to them (and
    /// the ones they created) and may name the IoT objects granted to them.
    pub fn of(access: &Access) -> Self {
        let Some(held) = &access.held else {
            return Self::system(access.tenant_id.clone()).as_user(access.user_id);
        };
        let mut flows = BTreeSet::new();
        let mut iot = EntityGrants::default();
        for g in &held.grants {
            match g.kind {
                GrantKind::Workflow => flows.extend(g.numeric_id()),
                GrantKind::Integration => iot.integrations.push(g.id.clone()),
                GrantKind::Device => iot.devices.extend(g.numeric_id()),
                GrantKind::Entity => iot.entities.extend(g.numeric_id()),
                GrantKind::Dashboard => {}
            }
        }
        Self {
            tenant_id: access.tenant_id.clone(),
            user_id: Some(access.user_id),
            functions: Some(held.functions.clone()),
            flows: Some(flows),
            entity_grants: Some(iot),
        }
    }

    /// A caller holding only these function codes.
    pub fn limited<S: Into<String>>(
        tenant_id: TenantId,
        functions: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            tenant_id,
            user_id: None,
            functions: Some(functions.into_iter().map(Into::into).collect()),
            flows: None,
            entity_grants: None,
        }
    }

    /// The same caller, seeing only these flows (and the ones they created).
    pub fn with_flows(self, flows: impl IntoIterator<Item = Id>) -> Self {
        Self {
            flows: Some(flows.into_iter().collect()),
            ..self
        }
    }

    /// Whether the caller may see this flow of their tenant.
    pub fn sees(&self, flow: &Flow) -> bool {
        flow.tenant_id == self.tenant_id
            && match &self.flows {
                None => true,
                Some(granted) => {
                    granted.contains(&flow.id)
                        || (flow.user_id.is_some() && flow.user_id == self.user_id)
                }
            }
    }

    /// The filter a search applies for this caller; `None` when they see every flow.
    pub fn visible(&self) -> Option<Visible> {
        self.flows.as_ref().map(|granted| Visible {
            ids: granted.iter().copied().collect(),
            creator: self.user_id,
        })
    }

    /// The same caller, acting as this user.
    pub fn as_user(self, user_id: Id) -> Self {
        Self {
            user_id: Some(user_id),
            ..self
        }
    }

    /// Refuses with [`WorkflowError::Denied`] unless the caller holds function `code` (a caller
    /// holding every function, `functions` being `None`, always passes).
    pub fn require(&self, code: &str) -> Result<(), WorkflowError> {
        match &self.functions {
            Some(f) if !f.contains(code) => Err(WorkflowError::Denied(format!(
                "this needs the `{code}` permission, which none of your roles grants"
            ))),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_holds_the_codes_flows_and_iot_grants_of_the_access() {
        use weir_kernel::access::{Grant, Held};
        let t = TenantId::parse("t1").unwrap();
        let grant = |kind, id: &str| Grant {
            kind,
            id: id.into(),
        };
        let c = Caller::of(&Access {
            tenant_id: t.clone(),
            user_id: Id(7),
            held: Some(Held {
                functions: BTreeSet::from([functions::VIEW.to_owned()]),
                grants: vec![
                    grant(GrantKind::Workflow, "21"),
                    grant(GrantKind::Integration, "demo"),
                    grant(GrantKind::Device, "22"),
                    grant(GrantKind::Entity, "23"),
                    grant(GrantKind::Dashboard, "24"),
                    grant(GrantKind::Workflow, "x"),
                ],
            }),
        });
        assert_eq!(c.user_id, Some(Id(7)));
        assert!(c.require(functions::VIEW).is_ok());
        assert!(c.require(functions::EDIT).is_err());
        assert_eq!(c.flows, Some(BTreeSet::from([Id(21)])));
        assert_eq!(
            c.entity_grants,
            Some(EntityGrants {
                integrations: vec!["demo".into()],
                devices: vec![Id(22)],
                entities: vec![Id(23)],
            })
        );
        let admin = Caller::of(&Access {
            tenant_id: t.clone(),
            user_id: Id(1),
            held: None,
        });
        assert_eq!(admin, Caller::system(t).as_user(Id(1)));
    }

    #[test]
    fn the_super_admin_may_do_everything_and_a_limited_caller_what_it_holds() {
        let t = TenantId::parse("t1").unwrap();
        assert!(Caller::system(t.clone()).require(functions::DELETE).is_ok());
        let c = Caller::limited(t, [functions::VIEW]);
        assert!(c.require(functions::VIEW).is_ok());
        let e = c.require(functions::EDIT).unwrap_err();
        assert_eq!(
            e.to_string(),
            "this needs the `workflow.edit` permission, which none of your roles grants"
        );
    }
}
