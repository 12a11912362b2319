//! Whether a design makes a flow the engine can run.
//!
//! [`validate`] collects every problem it finds rather than stopping at the first, so the
//! console can show them all at once. Each [`DesignProblem`] names the node (its id, and its
//! `nodeName` when it has one) or the edge (with the nodes it joins), and the field.
//!
//! A design is refused when:
//! - it has more nodes or edges than [`Limits`] allow ([`Limits::check_size`] refuses an
//!   oversized `design_data` string before it is even parsed);
//! - a node has no id, the id of another node, no `nodeName`, an unknown `componentName`, or
//!   parameters its component's schema refuses (missing, mistyped, out of range);
//! - an edge has no id or the id of another edge, leaves or enters a node that does not
//!   exist, repeats another edge's connection, or leaves a `choice` node without naming one
//!   of its branches in `sourceHandle` (a branch with no edge is allowed: the run ends there);
//! - the design has no entry node, or more than one; an edge enters the entry node;
//! - an edge leaves an `output` node (outputs end the run);
//! - the edges form a cycle;
//! - a node cannot be reached from the entry node. Weir refuses these rather than ignoring
//!   them: a node that can never run is almost always a forgotten connection, and the engine
//!   can then assume every node lies on some path from the entry.
//!
//! What a valid design becomes is a [`ValidatedFlow`]: the design with its entry node, its
//! nodes in topological order and each node's outgoing links, which is what the engine walks.
//!
//! The checks run in phases, one module each, and report in that order: the counts
//! (`limits`), node by node (`nodes`), edge by edge (`edges`), then the graph
//! (`graph`: entry, run ends, cycles, reachability).

mod edges;
mod flow;
mod graph;
mod limits;
mod nodes;
mod problems;
#[cfg(test)]
mod tests;

pub use flow::{Link, ValidatedFlow};
pub use limits::Limits;
pub use problems::{DesignProblem, DesignRefusal, NodeRef, Rule};

use crate::design::Design;
use crate::errors::WorkflowError;
use graph::Graph;
use nodes::Nodes;

/// Checks a design against the catalogue and the limits; see the module documentation for
/// what is refused.
pub fn validate(design: &Design, limits: &Limits) -> Result<ValidatedFlow, DesignRefusal> {
    // Past the limits, say so and look no further: checking a huge design is work for nothing.
    refuse_any(limits.check_counts(design))?;
    let mut problems = Vec::new();
    let nodes = Nodes::check(&design.nodes, &mut problems);
    let ends = edges::check(design, &nodes, &mut problems);
    let entries = graph::check_entries(&nodes, &mut problems);
    graph::check_run_ends(design, &nodes, &ends, &mut problems);
    let graph = Graph::of(design, &ends);
    graph.check_cycles(&nodes, &mut problems);
    if let [entry] = entries.as_slice() {
        graph.check_reachable(*entry, &nodes, &mut problems);
    }
    refuse_any(problems)?;
    Ok(ValidatedFlow::new(
        design.clone(),
        entries[0],
        graph,
        nodes.index,
    ))
}

/// The whole check of a `design_data` string: its size, its shape, then [`validate`].
pub fn parse_and_validate(
    design_data: &str,
    limits: &Limits,
) -> Result<ValidatedFlow, WorkflowError> {
    limits.check_size(design_data)?;
    let design = Design::parse(design_data)?;
    Ok(validate(&design, limits)?)
}

/// A refusal when there are problems.
fn refuse_any(problems: Vec<DesignProblem>) -> Result<(), DesignRefusal> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(DesignRefusal(problems))
    }
}
