//! The node phase: each node's id, name, component and parameters.

use std::collections::HashMap;

use super::problems::{About, DesignProblem, NodeRef, Rule};
use crate::components::{Component, catalogue, clip};
use crate::design::Node;

/// What the node phase learns, for the phases after it.
pub(super) struct Nodes<'d> {
    pub(super) all: &'d [Node],
    /// Each node by its id; a node whose id is invalid or taken is not in it.
    pub(super) index: HashMap<&'d str, usize>,
    /// Each node's component; `None` when its `componentName` is unknown.
    pub(super) components: Vec<Option<&'static Component>>,
    /// Whether each node's parameters passed its component's checks.
    pub(super) parameters_ok: Vec<bool>,
}

impl<'d> Nodes<'d> {
    /// Checks every node in turn, each one's problems in the order id, name, component.
    pub(super) fn check(all: &'d [Node], problems: &mut Vec<DesignProblem>) -> Self {
        let mut nodes = Self {
            all,
            index: HashMap::new(),
            components: Vec::with_capacity(all.len()),
            parameters_ok: vec![false; all.len()],
        };
        for (i, node) in all.iter().enumerate() {
            let mut about = About::node(problems, i, node);
            nodes.check_id(i, node, &mut about);
            check_name(node, &mut about);
            let component = check_component(node, &mut about);
            nodes.parameters_ok[i] =
                component.is_some_and(|c| check_parameters(c, node, &mut about));
            nodes.components.push(component);
        }
        nodes
    }

    /// Whether node `i` is an entry node.
    pub(super) fn is_entry(&self, i: usize) -> bool {
        self.components[i].is_some_and(Component::is_entry)
    }

    /// Whether node `i` is the one its id names, so that edges can reach it.
    pub(super) fn is_addressable(&self, i: usize) -> bool {
        self.index.get(self.all[i].id.as_str()) == Some(&i)
    }

    fn check_id(&mut self, i: usize, node: &'d Node, about: &mut About) {
        if node.id.trim().is_empty() {
            about.push(Rule::InvalidNodeId, "id", "is required".into());
        } else if node.id.chars().count() > 128 {
            about.push(
                Rule::InvalidNodeId,
                "id",
                "must be at most 128 characters".into(),
            );
        } else if let Some(&first) = self.index.get(node.id.as_str()) {
            about.push(
                Rule::DuplicateNodeId,
                "id",
                format!("{} has the same id", NodeRef::of(&self.all[first])),
            );
        } else {
            self.index.insert(&node.id, i);
        }
    }
}

fn check_name(node: &Node, about: &mut About) {
    if node.name().is_none_or(|n| n.trim().is_empty()) {
        about.push(Rule::MissingNodeName, "data.nodeName", "is required".into());
    }
}

fn check_component(node: &Node, about: &mut About) -> Option<&'static Component> {
    let catalogue = catalogue();
    let component = catalogue.get(&node.component_name);
    if component.is_none() {
        about.push(
            Rule::UnknownComponent,
            "componentName",
            format!(
                "unknown component \"{}\" (known: {})",
                clip(&node.component_name),
                catalogue
                    .all()
                    .iter()
                    .map(|c| c.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    component
}

/// Checks the node's parameters against its component's schema; true when they pass.
fn check_parameters(component: &Component, node: &Node, about: &mut About) -> bool {
    let found = component.check(node.parameters());
    let ok = found.is_empty();
    for f in found {
        let rule = if f.missing {
            Rule::MissingParameter
        } else {
            Rule::InvalidParameter
        };
        about.push(rule, &f.field, f.message);
    }
    ok
}
