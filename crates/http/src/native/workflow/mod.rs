//! The workflow half of the native API: flows (search, rename, enable, delete), their
//! designs (save, read, validate), the component catalogue, and export and import.
//!
//! Every route acts for a [`WorkflowCaller`]: the signed-in user with their `workflow.*`
//! function codes and the flows their roles were granted (WORKFLOW resources). The
//! use-cases ([`weir_workflow::WorkflowService`]) check the codes and the grants; the few
//! checks made here are said where they are made.

pub mod components;
pub mod designs;
pub mod flows;
pub mod http_in;
pub mod logs;
pub mod runs;
pub mod transfer;

use std::collections::BTreeSet;

use weir_identity::{Principal, ResourceType};
use weir_kernel::Id;
use weir_workflow::{Caller, EntityGrants, WorkflowError};

use super::envelope::NativeError;
use super::extract::{State, authenticate, from_bearer_token};

/// The caller as the workflow use-cases see them (`caller`): their tenant, user, function
/// codes (`None` for the super admin) and granted flows (`None` for the super admin: all
/// of the tenant's); and the identity principal it was built from.
#[derive(Debug)]
pub struct WorkflowCaller {
    pub caller: Caller,
    pub principal: Principal,
}

from_bearer_token!(WorkflowCaller, NativeError);

impl WorkflowCaller {
    /// Checks an access token (as [`authenticate`] does) and loads the caller's WORKFLOW
    /// grants. The super admin (whose grants the identity service answers `None`) holds
    /// every function code and sees every flow of the tenant.
    pub async fn authenticate(state: &State, token: String) -> Result<Self, NativeError> {
        let p = authenticate(state, token).await?;
        let caller = match p.resources.clone() {
            None => Caller::system(p.tenant_id.clone()).as_user(p.user_id),
            Some(grants) => {
                let mut flows = BTreeSet::new();
                let mut iot = EntityGrants::default();
                for r in grants {
                    let id = r.resource_id.parse::<Id>().ok();
                    match r.resource_type {
                        ResourceType::Workflow => flows.extend(id),
                        ResourceType::Integration => iot.integrations.push(r.resource_id),
                        ResourceType::Device => iot.devices.extend(id),
                        ResourceType::Entity => iot.entities.extend(id),
                        ResourceType::Dashboard => {}
                    }
                }
                Caller {
                    tenant_id: p.tenant_id.clone(),
                    user_id: Some(p.user_id),
                    functions: Some(p.codes.clone()),
                    flows: Some(flows),
                    entity_grants: Some(iot),
                }
            }
        };
        Ok(Self {
            caller,
            principal: p,
        })
    }

    /// Refuses (403) unless the caller holds at least one of `codes`.
    pub fn require_any(&self, codes: &[&str]) -> Result<(), NativeError> {
        match &self.caller.functions {
            Some(held) if !codes.iter().any(|c| held.contains(*c)) => {
                let codes: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
                Err(WorkflowError::Denied(format!(
                    "this needs one of the {} permissions, which none of your roles grants",
                    codes.join(", ")
                ))
                .into())
            }
            _ => Ok(()),
        }
    }

    /// The same caller, also holding `code`: for a use-case whose own check asks for a
    /// code other than the one this route is gated by (an export reads the flow, which
    /// the use-case gates by `workflow.view`). Only call it after checking the route's
    /// own code; the caller's tenant and flow grants stay as they are.
    pub fn granted(&self, code: &str) -> Caller {
        let mut c = self.caller.clone();
        if let Some(held) = c.functions.as_mut() {
            held.insert(code.to_owned());
        }
        c
    }
}
