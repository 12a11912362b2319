//! The edge phase: each edge's id, its ends, its `choice` branch, and repeats.

use std::collections::HashMap;

use super::nodes::Nodes;
use super::problems::{About, DesignProblem, Rule};
use crate::components::{self, clip, names};
use crate::design::{Design, Edge};

/// The source and target of each edge, `None` when one of them does not exist.
pub(super) type Ends = Vec<Option<(usize, usize)>>;

/// What the edge phase has seen so far.
struct Seen<'d> {
    /// Each edge by its id; an edge whose id is blank or taken is not in it.
    ids: HashMap<&'d str, usize>,
    /// Each connection (source, branch, target) with the first edge that makes it.
    connections: HashMap<(usize, Option<&'d str>, usize), usize>,
}

/// Checks every edge in turn against the nodes, each one's problems in the order id,
/// ends, branch, repeat.
pub(super) fn check(design: &Design, nodes: &Nodes, problems: &mut Vec<DesignProblem>) -> Ends {
    let mut seen = Seen {
        ids: HashMap::new(),
        connections: HashMap::new(),
    };
    let mut ends = Vec::with_capacity(design.edges.len());
    for (e, edge) in design.edges.iter().enumerate() {
        let source = nodes.index.get(edge.source.as_str()).copied();
        let target = nodes.index.get(edge.target.as_str()).copied();
        let mut about = About::edge(
            problems,
            e,
            edge,
            source.map(|s| &nodes.all[s]),
            target.map(|t| &nodes.all[t]),
        );
        seen.check_id(e, edge, &mut about);
        check_ends(edge, source, target, &mut about);
        let (Some(s), Some(t)) = (source, target) else {
            ends.push(None);
            continue;
        };
        let from_choice = nodes.all[s].component_name == names::CHOICE;
        if from_choice && nodes.parameters_ok[s] {
            check_branch(nodes, s, edge, &mut about);
        }
        let handle = if from_choice { edge.handle() } else { None };
        seen.check_repeat(design, e, (s, handle, t), &mut about);
        ends.push(Some((s, t)));
    }
    ends
}

impl<'d> Seen<'d> {
    fn check_id(&mut self, e: usize, edge: &'d Edge, about: &mut About) {
        if edge.id.trim().is_empty() {
            about.push(Rule::InvalidEdgeId, "id", "is required".into());
        } else if let Some(&first) = self.ids.get(edge.id.as_str()) {
            about.push(
                Rule::DuplicateEdgeId,
                "id",
                format!("edges[{first}] has the same id"),
            );
        } else {
            self.ids.insert(&edge.id, e);
        }
    }

    fn check_repeat(
        &mut self,
        design: &Design,
        e: usize,
        connection: (usize, Option<&'d str>, usize),
        about: &mut About,
    ) {
        if let Some(&first) = self.connections.get(&connection) {
            about.push(
                Rule::DuplicateEdge,
                "target",
                format!(
                    "edges[{first}] (\"{}\") already joins the same nodes",
                    clip(&design.edges[first].id)
                ),
            );
        } else {
            self.connections.insert(connection, e);
        }
    }
}

fn check_ends(edge: &Edge, source: Option<usize>, target: Option<usize>, about: &mut About) {
    if source.is_none() {
        about.push(
            Rule::UnknownSource,
            "source",
            format!("no node has the id \"{}\"", clip(&edge.source)),
        );
    }
    if target.is_none() {
        about.push(
            Rule::UnknownTarget,
            "target",
            format!("no node has the id \"{}\"", clip(&edge.target)),
        );
    }
}

/// An edge leaving choice node `s` must name one of its branches.
fn check_branch(nodes: &Nodes, s: usize, edge: &Edge, about: &mut About) {
    let branches = components::choice_branches(nodes.all[s].parameters());
    let listed = branches.join(", ");
    match edge.handle() {
        None => about.push(
            Rule::MissingBranch,
            "sourceHandle",
            format!("is required on an edge leaving a choice node (its branches: {listed})"),
        ),
        Some(h) if !branches.contains(&h) => about.push(
            Rule::UnknownBranch,
            "sourceHandle",
            format!(
                "\"{}\" is not a branch of the choice node (its branches: {listed})",
                clip(h)
            ),
        ),
        Some(_) => {}
    }
}
