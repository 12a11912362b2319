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

use weir_identity::Principal;
use weir_workflow::{Caller, WorkflowError};

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
    /// Checks an access token (as [`authenticate`] does); the workflow domain builds the
    /// caller from what the principal holds (the super admin: every code, every flow).
    pub async fn authenticate(state: &State, token: String) -> Result<Self, NativeError> {
        let p = authenticate(state, token).await?;
        Ok(Self {
            caller: Caller::of(&p.access()),
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
