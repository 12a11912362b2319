//! What the engine walks: a valid design with its entry, order and links.

use std::collections::HashMap;

use super::graph::Graph;
use crate::components::{Component, catalogue, names};
use crate::design::{Design, Node};

/// A link from one node to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Index of the edge in the design.
    pub edge: usize,
    /// Index of the node the edge enters.
    pub target: usize,
    /// The `choice` branch the edge belongs to; `None` for other nodes' edges.
    pub branch: Option<String>,
}

/// A design that passed [`validate`](super::validate()), with what the engine needs to run it.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedFlow {
    design: Design,
    entry: usize,
    order: Vec<usize>,
    outgoing: Vec<Vec<Link>>,
    incoming: Vec<Vec<usize>>,
    index: HashMap<String, usize>,
}

impl ValidatedFlow {
    /// The design that was validated.
    pub fn design(&self) -> &Design {
        &self.design
    }

    /// The design that was validated, taking it back.
    pub fn into_design(self) -> Design {
        self.design
    }

    /// The node a run starts at.
    pub fn entry(&self) -> &Node {
        &self.design.nodes[self.entry]
    }

    /// The entry node's index in the design's `nodes`.
    pub fn entry_index(&self) -> usize {
        self.entry
    }

    /// The entry node's component.
    pub fn entry_component(&self) -> &'static Component {
        self.component(self.entry)
    }

    /// The node at `index` in the design's `nodes`.
    pub fn node(&self, index: usize) -> &Node {
        &self.design.nodes[index]
    }

    /// The component of the node at `index`.
    // Validation refused any node whose component is not in the catalogue.
    #[allow(clippy::expect_used)]
    pub fn component(&self, index: usize) -> &'static Component {
        catalogue()
            .get(&self.design.nodes[index].component_name)
            .expect("a validated flow has known components only")
    }

    /// The index of the node with this id, if there is one.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// Every node, each after all the nodes with an edge into it; the entry node first.
    /// Ties keep the design's edge order, so the order is the same on every run.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// The links leaving node `index`, in the design's edge order.
    pub fn outgoing(&self, index: usize) -> &[Link] {
        &self.outgoing[index]
    }

    /// The nodes with an edge into node `index`.
    pub fn incoming(&self, index: usize) -> &[usize] {
        &self.incoming[index]
    }

    /// A flow of the design's first node alone, to run that node on its own (node tests).
    /// The caller has checked the node's parameters against its component.
    pub(crate) fn single(design: Design) -> Self {
        let index = HashMap::from([(design.nodes[0].id.clone(), 0)]);
        Self {
            design,
            entry: 0,
            order: vec![0],
            outgoing: vec![Vec::new()],
            incoming: vec![Vec::new()],
            index,
        }
    }

    /// The nodes a run goes to after node `index`: for a `choice` node, those on the
    /// branch `branch`; for other nodes every successor (`branch` is ignored).
    pub fn next<'a>(
        &'a self,
        index: usize,
        branch: Option<&'a str>,
    ) -> impl Iterator<Item = usize> + 'a {
        let is_choice = self.design.nodes[index].component_name == names::CHOICE;
        self.outgoing[index]
            .iter()
            .filter(move |l| !is_choice || l.branch.as_deref() == branch)
            .map(|l| l.target)
    }

    /// The flow of a design that passed every check, starting at `entry`; `index` holds
    /// every node by its id.
    pub(super) fn new(
        design: Design,
        entry: usize,
        graph: Graph,
        index: HashMap<&str, usize>,
    ) -> Self {
        let order = graph.topological_order(entry);
        debug_assert_eq!(order.len(), design.nodes.len());
        Self {
            design,
            entry,
            order,
            outgoing: graph.outgoing,
            incoming: graph.incoming,
            index: index
                .into_iter()
                .map(|(id, i)| (id.to_string(), i))
                .collect(),
        }
    }
}
