//! The entities a design names, and how it uses them: what the [`EntityCatalog`] port checks
//! against the caller's rights when a design is saved, tested or enabled.
//!
//! A flow runs with every right in its tenant, so what it may read and write is decided
//! when a person saves, tests or enables it: only entities that person could read (or
//! write, or call) through the API themselves.

use serde_json::{Map, Value as Json};
use weir_kernel::{StoreError, TenantId};

use crate::caller::Caller;
use crate::components::names;
use crate::design::Node;
use crate::validate::{DesignProblem, NodeRef, Rule};

/// How a node uses an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Its values are read (`eventListener`, `entitySelector`).
    Read,
    /// Its value is set: a writable PROPERTY (`entityAssigner`).
    Write,
    /// It is called: a SERVICE (`serviceInvocation`).
    Call,
}

/// One entity a node names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityUse {
    /// The entity key, as the node names it.
    pub key: String,
    /// What the node does with the entity.
    pub access: Access,
    /// Where in the node: `parameters.entities[0]`.
    pub field: String,
}

/// Answers whether a caller may use entities as a design would.
pub trait EntityCatalog: Send + Sync {
    /// For each use the caller may not make, its index in `uses` and why ("entity ... not
    /// found", "not a writable PROPERTY"...). An entity the caller cannot see is "not
    /// found", like everywhere else.
    fn refusals(
        &self,
        tenant: &TenantId,
        caller: &Caller,
        uses: &[EntityUse],
    ) -> Result<Vec<(usize, String)>, StoreError>;
}

fn params(node: &Node) -> Option<&Map<String, Json>> {
    node.data.parameters.as_ref().and_then(Option::as_ref)
}

/// The entities one node names.
pub fn of_node(node: &Node) -> Vec<EntityUse> {
    let Some(p) = params(node) else {
        return Vec::new();
    };
    let listed = |member: &str, access| -> Vec<EntityUse> {
        p.get(member)
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, k)| {
                Some(EntityUse {
                    key: k.as_str()?.to_owned(),
                    access,
                    field: format!("parameters.{member}[{i}]"),
                })
            })
            .collect()
    };
    match node.component_name.as_str() {
        names::EVENT_LISTENER | names::ENTITY_SELECTOR => listed("entities", Access::Read),
        names::ENTITY_ASSIGNER => p
            .get("exchangePayload")
            .and_then(Json::as_object)
            .into_iter()
            .flatten()
            .map(|(key, _)| EntityUse {
                key: key.clone(),
                access: Access::Write,
                field: format!("parameters.exchangePayload[\"{key}\"]"),
            })
            .collect(),
        names::SERVICE_INVOCATION => p
            .get("serviceInvocationSetting")
            .and_then(|s| s.get("serviceEntity"))
            .and_then(Json::as_str)
            .map(|key| EntityUse {
                key: key.to_owned(),
                access: Access::Call,
                field: "parameters.serviceInvocationSetting.serviceEntity".into(),
            })
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

/// Checks every entity the nodes name against what the caller may do; the refusals name
/// node and field.
pub fn check<'a>(
    catalog: &dyn EntityCatalog,
    caller: &Caller,
    nodes: impl IntoIterator<Item = &'a Node>,
) -> Result<Vec<DesignProblem>, StoreError> {
    let mut uses = Vec::new();
    let mut owners = Vec::new();
    for node in nodes {
        for u in of_node(node) {
            owners.push(node);
            uses.push(u);
        }
    }
    if uses.is_empty() {
        return Ok(Vec::new());
    }
    let refusals = catalog.refusals(&caller.tenant_id, caller, &uses)?;
    Ok(refusals
        .into_iter()
        .filter(|(i, _)| *i < uses.len())
        .map(|(i, message)| {
            let node = NodeRef::of(owners[i]);
            DesignProblem {
                rule: Rule::EntityNotUsable,
                subject: node.to_string(),
                node: Some(node),
                edge: None,
                field: uses[i].field.clone(),
                message,
            }
        })
        .collect())
}
