//! How big a design may be: the first phase, before anything else is looked at.

use super::problems::{DesignProblem, DesignRefusal, Rule, design_problem};
use crate::design::Design;

/// How big a design may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most nodes a design may have.
    pub max_nodes: usize,
    /// The most edges a design may have.
    pub max_edges: usize,
    /// The longest `design_data` string, in bytes.
    pub max_design_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_nodes: 200,
            max_edges: 400,
            max_design_bytes: 256 * 1024,
        }
    }
}

impl Limits {
    /// Refuses a `design_data` string longer than `max_design_bytes`; call it before
    /// parsing.
    pub fn check_size(&self, design_data: &str) -> Result<(), DesignRefusal> {
        let bytes = design_data.len();
        if bytes <= self.max_design_bytes {
            return Ok(());
        }
        Err(DesignRefusal(vec![design_problem(
            Rule::TooLarge,
            "",
            format!(
                "{bytes} bytes, more than the limit of {}",
                self.max_design_bytes
            ),
        )]))
    }

    /// The design's node and edge counts past the limits.
    pub(super) fn check_counts(&self, design: &Design) -> Vec<DesignProblem> {
        let mut problems = Vec::new();
        if design.nodes.len() > self.max_nodes {
            problems.push(design_problem(
                Rule::TooManyNodes,
                "nodes",
                format!(
                    "{} nodes, more than the limit of {}",
                    design.nodes.len(),
                    self.max_nodes
                ),
            ));
        }
        if design.edges.len() > self.max_edges {
            problems.push(design_problem(
                Rule::TooManyEdges,
                "edges",
                format!(
                    "{} edges, more than the limit of {}",
                    design.edges.len(),
                    self.max_edges
                ),
            ));
        }
        problems
    }
}
