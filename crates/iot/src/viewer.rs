//! Who is asking, and what they may see and do.

use std::collections::BTreeSet;

use weir_kernel::access::{Access, GrantKind};
use weir_kernel::{Id, TenantId};

use crate::errors::IotError;
use crate::events::CommittedValue;
use crate::ports::{Dashboard, Device, Entity, VisibleSet};

/// The caller of an IoT use-case: a signed-in user's is built from what they hold
/// ([`Viewer::of`]); an integration writing its devices' values uses [`Viewer::system`].
#[derive(Debug, Clone, PartialEq)]
pub struct Viewer {
    /// The tenant the caller acts in; nothing of another tenant is reached.
    pub tenant_id: TenantId,
    /// The user behind the call, when there is one.
    pub user_id: Option<Id>,
    /// `None` for the super admin and the system: every function, everything of the tenant.
    pub limits: Option<Limits>,
}

/// What a caller without the super admin role holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limits {
    /// Function codes (`device.view`...).
    pub functions: BTreeSet<String>,
    /// Resource grants: integrations, devices and entities.
    pub grants: VisibleSet,
}

impl Viewer {
    /// Everything in the tenant (the super admin, or an integration's own ingest).
    pub fn system(tenant_id: TenantId) -> Self {
        Self {
            tenant_id,
            user_id: None,
            limits: None,
        }
    }

    /// A caller holding only `limits`, with no user behind it.
    pub fn limited(tenant_id: TenantId, limits: Limits) -> Self {
        Self {
            tenant_id,
            user_id: None,
            limits: Some(limits),
        }
    }

    /// A signed-in user: the super admin sees everything of the tenant; anyone else their
    /// function codes and the integrations, devices, entities and dashboards granted to
    /// them (workflow grants are not the IoT domain's; a grant whose id is not numeric
    /// where one must be names nothing).
    pub fn of(access: &Access) -> Self {
        let Some(held) = &access.held else {
            return Self::system(access.tenant_id.clone()).as_user(access.user_id);
        };
        let mut visible = VisibleSet::default();
        for g in &held.grants {
            match g.kind {
                GrantKind::Integration => visible.integrations.push(g.id.clone()),
                GrantKind::Device => visible.devices.extend(g.numeric_id()),
                GrantKind::Entity => visible.entities.extend(g.numeric_id()),
                GrantKind::Dashboard => visible.dashboards.extend(g.numeric_id()),
                GrantKind::Workflow => {}
            }
        }
        let limits = Limits {
            functions: held.functions.clone(),
            grants: visible,
        };
        Self::limited(access.tenant_id.clone(), limits).as_user(access.user_id)
    }

    /// The same caller, acting as this user.
    pub fn as_user(self, user_id: Id) -> Self {
        Self {
            user_id: Some(user_id),
            ..self
        }
    }

    /// Refuses with [`IotError::Denied`], naming the code, a caller without function code `code`.
    pub fn require(&self, code: &str) -> Result<(), IotError> {
        match &self.limits {
            Some(l) if !l.functions.contains(code) => Err(IotError::Denied(format!(
                "this needs the `{code}` permission, which none of your roles grants"
            ))),
            _ => Ok(()),
        }
    }

    /// Passes when the caller holds any of the codes.
    pub fn require_any(&self, codes: &[&str]) -> Result<(), IotError> {
        match &self.limits {
            Some(l) if !codes.iter().any(|c| l.functions.contains(*c)) => {
                Err(IotError::Denied(format!(
                    "this needs one of the permissions {}, which none of your roles grants",
                    codes.join(", ")
                )))
            }
            _ => Ok(()),
        }
    }

    /// The grants to filter by; `None` when the caller sees everything.
    pub fn visible(&self) -> Option<&VisibleSet> {
        self.limits.as_ref().map(|l| &l.grants)
    }

    /// Whether the caller sees integration `id` (everything, or granted it).
    pub fn sees_integration(&self, id: &str) -> bool {
        self.visible()
            .is_none_or(|v| v.integrations.iter().any(|i| i == id))
    }

    /// Whether the caller sees device `d`: granted it, or its integration.
    pub fn sees_device(&self, d: &Device) -> bool {
        self.visible()
            .is_none_or(|v| v.devices.contains(&d.id) || v.integrations.contains(&d.integration))
    }

    /// Granted, or created by the caller.
    pub fn sees_dashboard(&self, d: &Dashboard) -> bool {
        self.visible().is_none_or(|v| {
            v.dashboards.contains(&d.id) || (d.user_id.is_some() && d.user_id == self.user_id)
        })
    }

    /// Whether the caller sees entity `e`: granted it, its device or its integration.
    pub fn sees_entity(&self, e: &Entity) -> bool {
        self.sees_entity_parts(e.id, e.device_id, &e.integration)
    }

    /// A committed value, as the event bus carries it: visible when its entity is.
    pub fn sees_value(&self, t: &TenantId, c: &CommittedValue) -> bool {
        *t == self.tenant_id && self.sees_entity_parts(c.entity_id, c.device_id, &c.integration)
    }

    fn sees_entity_parts(&self, id: Id, device: Option<Id>, integration: &str) -> bool {
        self.visible().is_none_or(|v| {
            v.entities.contains(&id)
                || device.is_some_and(|d| v.devices.contains(&d))
                || v.integrations.iter().any(|i| i == integration)
        })
    }
}

#[cfg(test)]
mod tests {
    use weir_kernel::access::{Grant, Held};

    use super::*;

    fn grant(kind: GrantKind, id: &str) -> Grant {
        Grant {
            kind,
            id: id.into(),
        }
    }

    #[test]
    fn a_viewer_holds_the_codes_and_iot_grants_of_the_access() {
        let t = TenantId::parse("t1").unwrap();
        let access = Access {
            tenant_id: t.clone(),
            user_id: Id(7),
            held: Some(Held {
                functions: BTreeSet::from(["device.view".to_owned()]),
                grants: vec![
                    grant(GrantKind::Integration, "mqtt-device"),
                    grant(GrantKind::Device, "11"),
                    grant(GrantKind::Entity, "12"),
                    grant(GrantKind::Dashboard, "13"),
                    grant(GrantKind::Workflow, "14"),
                    grant(GrantKind::Device, "not-a-number"),
                ],
            }),
        };
        let v = Viewer::of(&access);
        assert_eq!(v.user_id, Some(Id(7)));
        assert!(v.require("device.view").is_ok());
        assert!(v.require("device.edit").is_err());
        let expected = VisibleSet {
            integrations: vec!["mqtt-device".into()],
            devices: vec![Id(11)],
            entities: vec![Id(12)],
            dashboards: vec![Id(13)],
        };
        assert_eq!(v.visible(), Some(&expected));
    }

    #[test]
    fn the_super_admin_sees_everything_of_their_tenant() {
        let t = TenantId::parse("t1").unwrap();
        let v = Viewer::of(&Access {
            tenant_id: t.clone(),
            user_id: Id(1),
            held: None,
        });
        assert_eq!(v, Viewer::system(t).as_user(Id(1)));
        assert!(v.visible().is_none());
    }
}
