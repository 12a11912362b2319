//! The graph phase: one entry, where runs start and end, cycles, reachability; and the
//! order the engine runs the nodes in.

use std::collections::{HashMap, HashSet, VecDeque};

use super::edges::Ends;
use super::flow::Link;
use super::nodes::Nodes;
use super::problems::{About, DesignProblem, NodeRef, Rule, design_problem};
use crate::components::{catalogue, clip, names};
use crate::design::Design;

/// Checks that exactly one node is an entry; gives the entry nodes.
pub(super) fn check_entries(nodes: &Nodes, problems: &mut Vec<DesignProblem>) -> Vec<usize> {
    let entries: Vec<usize> = (0..nodes.all.len())
        .filter(|&i| nodes.is_entry(i))
        .collect();
    match entries.as_slice() {
        [] => problems.push(design_problem(
            Rule::NoEntry,
            "nodes",
            format!(
                "no entry node: a flow starts at one {} node",
                catalogue()
                    .grouped()
                    .entry
                    .iter()
                    .map(|c| c.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        [_] => {}
        [first, rest @ ..] => {
            for &i in rest {
                About::node(problems, i, &nodes.all[i]).push(
                    Rule::SeveralEntries,
                    "componentName",
                    format!(
                        "a flow has one entry node, and {} is one already",
                        NodeRef::of(&nodes.all[*first])
                    ),
                );
            }
        }
    }
    entries
}

/// Checks that no edge enters an entry node and none leaves an output node.
pub(super) fn check_run_ends(
    design: &Design,
    nodes: &Nodes,
    ends: &Ends,
    problems: &mut Vec<DesignProblem>,
) {
    for (e, end) in ends.iter().enumerate() {
        let Some((s, t)) = *end else { continue };
        let edge = &design.edges[e];
        if nodes.is_entry(t) {
            About::node(problems, t, &nodes.all[t]).through(edge).push(
                Rule::EdgeIntoEntry,
                "edges",
                format!(
                    "edge \"{}\" enters it, but a run can only start at an entry node",
                    clip(&edge.id)
                ),
            );
        }
        if nodes.all[s].component_name == names::OUTPUT {
            About::node(problems, s, &nodes.all[s]).through(edge).push(
                Rule::OutputNotSink,
                "edges",
                format!(
                    "edge \"{}\" leaves it, but an output node ends the run",
                    clip(&edge.id)
                ),
            );
        }
    }
}

/// The nodes joined by the edges whose ends exist.
pub(super) struct Graph {
    /// The links leaving each node, in the design's edge order.
    pub(super) outgoing: Vec<Vec<Link>>,
    /// The nodes with an edge into each node.
    pub(super) incoming: Vec<Vec<usize>>,
}

impl Graph {
    pub(super) fn of(design: &Design, ends: &Ends) -> Self {
        let n = design.nodes.len();
        let mut graph = Self {
            outgoing: vec![Vec::new(); n],
            incoming: vec![Vec::new(); n],
        };
        for (e, end) in ends.iter().enumerate() {
            let Some((s, t)) = *end else { continue };
            let branch = (design.nodes[s].component_name == names::CHOICE)
                .then(|| design.edges[e].handle().map(str::to_string))
                .flatten();
            graph.outgoing[s].push(Link {
                edge: e,
                target: t,
                branch,
            });
            graph.incoming[t].push(s);
        }
        graph
    }

    /// Refuses a cycle, naming a node on it and the way round.
    pub(super) fn check_cycles(&self, nodes: &Nodes, problems: &mut Vec<DesignProblem>) {
        let Some(cycle) = self.find_cycle() else {
            return;
        };
        let at = cycle[0];
        let path = cycle
            .iter()
            .map(|&n| format!("\"{}\"", clip(&nodes.all[n].id)))
            .collect::<Vec<_>>()
            .join(" → ");
        About::node(problems, at, &nodes.all[at]).push(
            Rule::Cycle,
            "edges",
            format!("the node is on a cycle: {path}"),
        );
    }

    /// Refuses every node the entry cannot reach.
    pub(super) fn check_reachable(
        &self,
        entry: usize,
        nodes: &Nodes,
        problems: &mut Vec<DesignProblem>,
    ) {
        let reached = self.reachable(entry);
        for (i, node) in nodes.all.iter().enumerate() {
            // A node without an id of its own cannot be the end of an edge; its id problem
            // says enough.
            if nodes.is_addressable(i) && !reached[i] && !nodes.is_entry(i) {
                About::node(problems, i, node).push(
                    Rule::Unreachable,
                    "edges",
                    format!(
                        "no path from the entry {} reaches it",
                        NodeRef::of(&nodes.all[entry])
                    ),
                );
            }
        }
    }

    /// Some cycle of the graph, as the nodes along it with the first repeated at the end.
    fn find_cycle(&self) -> Option<Vec<usize>> {
        // Kahn's algorithm: what cannot be ordered lies on a cycle or after one.
        let n = self.outgoing.len();
        let mut in_degree: Vec<usize> = self.incoming.iter().map(Vec::len).collect();
        let mut queue: VecDeque<usize> = (0..n).filter(|&i| in_degree[i] == 0).collect();
        let mut removed = vec![false; n];
        while let Some(i) = queue.pop_front() {
            removed[i] = true;
            for link in &self.outgoing[i] {
                in_degree[link.target] -= 1;
                if in_degree[link.target] == 0 {
                    queue.push_back(link.target);
                }
            }
        }
        // Every node left has a predecessor that is left too: walking back from one must meet
        // a node twice, and that node is on a cycle.
        let start = (0..n).find(|&i| !removed[i])?;
        let mut seen = HashMap::new();
        let mut walk = Vec::new();
        let mut at = start;
        loop {
            if let Some(&pos) = seen.get(&at) {
                // `walk[pos..]` goes backwards along the cycle; turn it around.
                let mut cycle: Vec<usize> = walk[pos..].to_vec();
                cycle.reverse();
                cycle.push(cycle[0]);
                return Some(cycle);
            }
            seen.insert(at, walk.len());
            walk.push(at);
            // Kahn's algorithm removed every node whose predecessors were all removed.
            #[allow(clippy::expect_used)]
            let previous = *self.incoming[at]
                .iter()
                .find(|&&p| !removed[p])
                .expect("a node left by Kahn's algorithm has a predecessor left");
            at = previous;
        }
    }

    /// Which nodes a run from `entry` can reach.
    fn reachable(&self, entry: usize) -> Vec<bool> {
        let mut seen = vec![false; self.outgoing.len()];
        let mut stack = vec![entry];
        seen[entry] = true;
        while let Some(i) = stack.pop() {
            for link in &self.outgoing[i] {
                if !seen[link.target] {
                    seen[link.target] = true;
                    stack.push(link.target);
                }
            }
        }
        seen
    }

    /// Every node, each after all the nodes with an edge into it: Kahn's algorithm from the
    /// entry, breadth first, successors in edge order.
    pub(super) fn topological_order(&self, entry: usize) -> Vec<usize> {
        let mut in_degree: Vec<usize> = self.incoming.iter().map(Vec::len).collect();
        let mut order = Vec::with_capacity(self.outgoing.len());
        let mut queue = VecDeque::from([entry]);
        let mut queued: HashSet<usize> = HashSet::from([entry]);
        while let Some(i) = queue.pop_front() {
            order.push(i);
            for link in &self.outgoing[i] {
                in_degree[link.target] -= 1;
                if in_degree[link.target] == 0 && queued.insert(link.target) {
                    queue.push_back(link.target);
                }
            }
        }
        order
    }
}
