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

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;

use crate::components::{self, Component, catalogue, names};
use crate::design::{Design, Edge, Node};
use crate::errors::WorkflowError;

/// How big a design may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_nodes: usize,
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
        Err(DesignRefusal(vec![DesignProblem {
            rule: Rule::TooLarge,
            node: None,
            edge: None,
            subject: "design".into(),
            field: String::new(),
            message: format!(
                "{bytes} bytes, more than the limit of {}",
                self.max_design_bytes
            ),
        }]))
    }
}

/// Which rule a problem breaks; for tests and for clients that want more than the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    TooLarge,
    TooManyNodes,
    TooManyEdges,
    /// A node id that is absent, blank or longer than 128 characters.
    InvalidNodeId,
    DuplicateNodeId,
    MissingNodeName,
    UnknownComponent,
    /// A required parameter that is absent, `null` or blank.
    MissingParameter,
    /// A parameter of the wrong type, out of its limits, or breaking its component's rules.
    InvalidParameter,
    /// An edge id that is absent or blank.
    InvalidEdgeId,
    DuplicateEdgeId,
    UnknownSource,
    UnknownTarget,
    /// Two edges join the same nodes (through the same branch).
    DuplicateEdge,
    /// An edge leaving a `choice` node without a `sourceHandle`.
    MissingBranch,
    /// An edge leaving a `choice` node with a `sourceHandle` that is not one of its branches.
    UnknownBranch,
    NoEntry,
    SeveralEntries,
    EdgeIntoEntry,
    OutputNotSink,
    Cycle,
    Unreachable,
    /// A node names an entity the caller may not use so: unknown, not theirs to see, not a
    /// writable property, not a service.
    EntityNotUsable,
}

/// A node, as problems name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRef {
    pub id: String,
    pub name: Option<String>,
}

impl NodeRef {
    pub(crate) fn of(node: &Node) -> Self {
        Self {
            id: node.id.clone(),
            name: node.name().map(str::to_string),
        }
    }
}

impl fmt::Display for NodeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node \"{}\"", clip(&self.id))?;
        match &self.name {
            Some(name) if !name.trim().is_empty() => write!(f, " ({})", clip(name)),
            _ => Ok(()),
        }
    }
}

/// One reason a design is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesignProblem {
    pub rule: Rule,
    /// The node the problem is about; for an edge, the node it leaves (or enters, when the
    /// source is unknown).
    pub node: Option<NodeRef>,
    /// The id of the edge the problem is about.
    pub edge: Option<String>,
    /// Who the message is about: `node "n3" (Notify)`, `edge "e2" from node "n1" (Listen)
    /// to "n9"`, `design`.
    pub subject: String,
    /// The field at fault, inside the node or edge (`parameters.webhookUrl`, `target`);
    /// empty when the subject as a whole is.
    pub field: String,
    pub message: String,
}

impl fmt::Display for DesignProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.subject, self.message)
        } else {
            write!(f, "{}: {}: {}", self.subject, self.field, self.message)
        }
    }
}

/// Every reason a design is refused (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DesignRefusal(pub Vec<DesignProblem>);

/// How many problems a refusal's message spells out.
const SHOWN: usize = 10;

impl fmt::Display for DesignRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().take(SHOWN).enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        if self.0.len() > SHOWN {
            write!(f, "; and {} more", self.0.len() - SHOWN)?;
        }
        Ok(())
    }
}

impl DesignRefusal {
    pub fn problems(&self) -> &[DesignProblem] {
        &self.0
    }

    /// True when some problem breaks `rule`.
    pub fn breaks(&self, rule: Rule) -> bool {
        self.0.iter().any(|p| p.rule == rule)
    }
}

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

/// A design that passed [`validate`], with what the engine needs to run it.
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
    pub fn design(&self) -> &Design {
        &self.design
    }

    pub fn into_design(self) -> Design {
        self.design
    }

    /// The node a run starts at.
    pub fn entry(&self) -> &Node {
        &self.design.nodes[self.entry]
    }

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

    pub fn component(&self, index: usize) -> &'static Component {
        catalogue()
            .get(&self.design.nodes[index].component_name)
            .expect("a validated flow has known components only")
    }

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
}

/// Checks a design against the catalogue and the limits; see the module documentation for
/// what is refused.
pub fn validate(design: &Design, limits: &Limits) -> Result<ValidatedFlow, DesignRefusal> {
    let mut problems = Vec::new();
    // Past the limits, say so and look no further: checking a huge design is work for nothing.
    if design.nodes.len() > limits.max_nodes {
        problems.push(design_problem(
            Rule::TooManyNodes,
            "nodes",
            format!(
                "{} nodes, more than the limit of {}",
                design.nodes.len(),
                limits.max_nodes
            ),
        ));
    }
    if design.edges.len() > limits.max_edges {
        problems.push(design_problem(
            Rule::TooManyEdges,
            "edges",
            format!(
                "{} edges, more than the limit of {}",
                design.edges.len(),
                limits.max_edges
            ),
        ));
    }
    if !problems.is_empty() {
        return Err(DesignRefusal(problems));
    }

    let catalogue = catalogue();
    let nodes = &design.nodes;

    // Nodes: ids, names, components, parameters.
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut components: Vec<Option<&Component>> = Vec::with_capacity(nodes.len());
    let mut parameters_ok = vec![false; nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        let subject = node_subject(i, node);
        let mut push = |rule: Rule, field: &str, message: String| {
            problems.push(DesignProblem {
                rule,
                node: Some(NodeRef::of(node)),
                edge: None,
                subject: subject.clone(),
                field: field.into(),
                message,
            })
        };
        if node.id.trim().is_empty() {
            push(Rule::InvalidNodeId, "id", "is required".into());
        } else if node.id.chars().count() > 128 {
            push(
                Rule::InvalidNodeId,
                "id",
                "must be at most 128 characters".into(),
            );
        } else if let Some(&first) = index.get(node.id.as_str()) {
            push(
                Rule::DuplicateNodeId,
                "id",
                format!("{} has the same id", NodeRef::of(&nodes[first])),
            );
        } else {
            index.insert(&node.id, i);
        }
        if node.name().is_none_or(|n| n.trim().is_empty()) {
            push(Rule::MissingNodeName, "data.nodeName", "is required".into());
        }
        let component = catalogue.get(&node.component_name);
        match component {
            None => push(
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
            ),
            Some(component) => {
                let found = component.check(node.parameters());
                parameters_ok[i] = found.is_empty();
                for f in found {
                    let rule = if f.missing {
                        Rule::MissingParameter
                    } else {
                        Rule::InvalidParameter
                    };
                    push(rule, &f.field, f.message);
                }
            }
        }
        components.push(component);
    }

    // Edges: ids, ends, branches, repeats.
    let mut edge_ids: HashMap<&str, usize> = HashMap::new();
    let mut connections: HashMap<(usize, Option<&str>, usize), usize> = HashMap::new();
    let mut links: Vec<Option<(usize, usize)>> = Vec::with_capacity(design.edges.len());
    for (e, edge) in design.edges.iter().enumerate() {
        let source = index.get(edge.source.as_str()).copied();
        let target = index.get(edge.target.as_str()).copied();
        let subject = edge_subject(
            e,
            edge,
            source.map(|s| &nodes[s]),
            target.map(|t| &nodes[t]),
        );
        let about = source.or(target).map(|n| NodeRef::of(&nodes[n]));
        let mut push = |rule: Rule, field: &str, message: String| {
            problems.push(DesignProblem {
                rule,
                node: about.clone(),
                edge: Some(edge.id.clone()),
                subject: subject.clone(),
                field: field.into(),
                message,
            })
        };
        if edge.id.trim().is_empty() {
            push(Rule::InvalidEdgeId, "id", "is required".into());
        } else if let Some(&first) = edge_ids.get(edge.id.as_str()) {
            push(
                Rule::DuplicateEdgeId,
                "id",
                format!("edges[{first}] has the same id"),
            );
        } else {
            edge_ids.insert(&edge.id, e);
        }
        if source.is_none() {
            push(
                Rule::UnknownSource,
                "source",
                format!("no node has the id \"{}\"", clip(&edge.source)),
            );
        }
        if target.is_none() {
            push(
                Rule::UnknownTarget,
                "target",
                format!("no node has the id \"{}\"", clip(&edge.target)),
            );
        }
        let (Some(s), Some(t)) = (source, target) else {
            links.push(None);
            continue;
        };
        let from_choice = nodes[s].component_name == names::CHOICE;
        let handle = if from_choice { edge.handle() } else { None };
        if from_choice && parameters_ok[s] {
            let branches = components::choice_branches(nodes[s].parameters());
            let listed = branches.join(", ");
            match edge.handle() {
                None => push(
                    Rule::MissingBranch,
                    "sourceHandle",
                    format!(
                        "is required on an edge leaving a choice node (its branches: {listed})"
                    ),
                ),
                Some(h) if !branches.contains(&h) => push(
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
        if let Some(&first) = connections.get(&(s, handle, t)) {
            push(
                Rule::DuplicateEdge,
                "target",
                format!(
                    "edges[{first}] (\"{}\") already joins the same nodes",
                    clip(&design.edges[first].id)
                ),
            );
        } else {
            connections.insert((s, handle, t), e);
        }
        links.push(Some((s, t)));
    }

    // Entry and sinks.
    let entries: Vec<usize> = (0..nodes.len())
        .filter(|&i| components[i].is_some_and(Component::is_entry))
        .collect();
    match entries.as_slice() {
        [] => problems.push(design_problem(
            Rule::NoEntry,
            "nodes",
            format!(
                "no entry node: a flow starts at one {} node",
                catalogue
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
                problems.push(DesignProblem {
                    rule: Rule::SeveralEntries,
                    node: Some(NodeRef::of(&nodes[i])),
                    edge: None,
                    subject: node_subject(i, &nodes[i]),
                    field: "componentName".into(),
                    message: format!(
                        "a flow has one entry node, and {} is one already",
                        NodeRef::of(&nodes[*first])
                    ),
                });
            }
        }
    }
    for (e, link) in links.iter().enumerate() {
        let Some((s, t)) = *link else { continue };
        if components[t].is_some_and(Component::is_entry) {
            problems.push(DesignProblem {
                rule: Rule::EdgeIntoEntry,
                node: Some(NodeRef::of(&nodes[t])),
                edge: Some(design.edges[e].id.clone()),
                subject: node_subject(t, &nodes[t]),
                field: "edges".into(),
                message: format!(
                    "edge \"{}\" enters it, but a run can only start at an entry node",
                    clip(&design.edges[e].id)
                ),
            });
        }
        if nodes[s].component_name == names::OUTPUT {
            problems.push(DesignProblem {
                rule: Rule::OutputNotSink,
                node: Some(NodeRef::of(&nodes[s])),
                edge: Some(design.edges[e].id.clone()),
                subject: node_subject(s, &nodes[s]),
                field: "edges".into(),
                message: format!(
                    "edge \"{}\" leaves it, but an output node ends the run",
                    clip(&design.edges[e].id)
                ),
            });
        }
    }

    // The graph of the edges whose ends exist.
    let mut outgoing: Vec<Vec<Link>> = vec![Vec::new(); nodes.len()];
    let mut incoming: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (e, link) in links.iter().enumerate() {
        if let Some((s, t)) = *link {
            let branch = (nodes[s].component_name == names::CHOICE)
                .then(|| design.edges[e].handle().map(str::to_string))
                .flatten();
            outgoing[s].push(Link {
                edge: e,
                target: t,
                branch,
            });
            incoming[t].push(s);
        }
    }
    if let Some(cycle) = find_cycle(&outgoing, &incoming) {
        let at = cycle[0];
        let path = cycle
            .iter()
            .map(|&n| format!("\"{}\"", clip(&nodes[n].id)))
            .collect::<Vec<_>>()
            .join(" → ");
        problems.push(DesignProblem {
            rule: Rule::Cycle,
            node: Some(NodeRef::of(&nodes[at])),
            edge: None,
            subject: node_subject(at, &nodes[at]),
            field: "edges".into(),
            message: format!("the node is on a cycle: {path}"),
        });
    }
    if let [entry] = entries.as_slice() {
        let reached = reachable(*entry, &outgoing);
        for (i, node) in nodes.iter().enumerate() {
            // A node without an id of its own cannot be the end of an edge; its id problem
            // says enough.
            let addressable = index.get(node.id.as_str()) == Some(&i);
            if addressable && !reached[i] && !components[i].is_some_and(Component::is_entry) {
                problems.push(DesignProblem {
                    rule: Rule::Unreachable,
                    node: Some(NodeRef::of(node)),
                    edge: None,
                    subject: node_subject(i, node),
                    field: "edges".into(),
                    message: format!(
                        "no path from the entry {} reaches it",
                        NodeRef::of(&nodes[*entry])
                    ),
                });
            }
        }
    }

    if !problems.is_empty() {
        return Err(DesignRefusal(problems));
    }
    let entry = entries[0];
    let order = topological_order(entry, &outgoing, &incoming);
    debug_assert_eq!(order.len(), nodes.len());
    Ok(ValidatedFlow {
        design: design.clone(),
        entry,
        order,
        outgoing,
        incoming,
        index: index
            .into_iter()
            .map(|(id, i)| (id.to_string(), i))
            .collect(),
    })
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

fn design_problem(rule: Rule, field: &str, message: String) -> DesignProblem {
    DesignProblem {
        rule,
        node: None,
        edge: None,
        subject: "design".into(),
        field: field.into(),
        message,
    }
}

/// `node "n1" (Listen)`; a node without an id is named by its place, `nodes[3] (Listen)`.
fn node_subject(i: usize, node: &Node) -> String {
    if node.id.trim().is_empty() {
        match node.name() {
            Some(name) if !name.trim().is_empty() => format!("nodes[{i}] ({})", clip(name)),
            _ => format!("nodes[{i}]"),
        }
    } else {
        NodeRef::of(node).to_string()
    }
}

/// `edge "e1" from node "n1" (Listen) to node "n2" (Check)`; an unknown end is shown by the
/// id the edge gives.
fn edge_subject(e: usize, edge: &Edge, source: Option<&Node>, target: Option<&Node>) -> String {
    let end = |node: Option<&Node>, id: &str| match node {
        Some(n) => NodeRef::of(n).to_string(),
        None => format!("\"{}\"", clip(id)),
    };
    let name = if edge.id.trim().is_empty() {
        format!("edges[{e}]")
    } else {
        format!("edge \"{}\"", clip(&edge.id))
    };
    format!(
        "{name} from {} to {}",
        end(source, &edge.source),
        end(target, &edge.target)
    )
}

/// Some cycle of the graph, as the nodes along it with the first repeated at the end.
fn find_cycle(outgoing: &[Vec<Link>], incoming: &[Vec<usize>]) -> Option<Vec<usize>> {
    // Kahn's algorithm: what cannot be ordered lies on a cycle or after one.
    let n = outgoing.len();
    let mut in_degree: Vec<usize> = incoming.iter().map(Vec::len).collect();
    let mut queue: VecDeque<usize> = (0..n).filter(|&i| in_degree[i] == 0).collect();
    let mut removed = vec![false; n];
    while let Some(i) = queue.pop_front() {
        removed[i] = true;
        for link in &outgoing[i] {
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
        at = *incoming[at]
            .iter()
            .find(|&&p| !removed[p])
            .expect("a node left by Kahn's algorithm has a predecessor left");
    }
}

fn reachable(entry: usize, outgoing: &[Vec<Link>]) -> Vec<bool> {
    let mut seen = vec![false; outgoing.len()];
    let mut stack = vec![entry];
    seen[entry] = true;
    while let Some(i) = stack.pop() {
        for link in &outgoing[i] {
            if !seen[link.target] {
                seen[link.target] = true;
                stack.push(link.target);
            }
        }
    }
    seen
}

/// Kahn's algorithm from the entry, breadth first, successors in edge order.
fn topological_order(entry: usize, outgoing: &[Vec<Link>], incoming: &[Vec<usize>]) -> Vec<usize> {
    let mut in_degree: Vec<usize> = incoming.iter().map(Vec::len).collect();
    let mut order = Vec::with_capacity(outgoing.len());
    let mut queue = VecDeque::from([entry]);
    let mut queued: HashSet<usize> = HashSet::from([entry]);
    while let Some(i) = queue.pop_front() {
        order.push(i);
        for link in &outgoing[i] {
            in_degree[link.target] -= 1;
            if in_degree[link.target] == 0 && queued.insert(link.target) {
                queue.push_back(link.target);
            }
        }
    }
    order
}

fn clip(s: &str) -> String {
    if s.chars().count() <= 100 {
        s.to_string()
    } else {
        let mut c: String = s.chars().take(100).collect();
        c.push('…');
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::{Edge, Node};
    use serde_json::{Map, Value as Json, json};

    fn listener(id: &str) -> Node {
        Node::new(
            id,
            "eventListener",
            "Listen",
            json!({"entities": ["demo.device.d1.temperature"]}),
        )
    }

    fn output(id: &str) -> Node {
        Node::new(
            id,
            "output",
            "Result",
            json!({"outputVariables": {"t": "{{n1.t}}"}}),
        )
    }

    fn assigner(id: &str) -> Node {
        Node::new(
            id,
            "entityAssigner",
            "Fan on",
            json!({"exchangePayload": {"demo.device.d1.fan": true}}),
        )
    }

    fn choice(id: &str) -> Node {
        Node::new(
            id,
            "choice",
            "Hot?",
            json!({"choice": {
                "when": [{"id": "hot", "logicOperator": "AND", "conditions": [
                    {"expressionValue": {"key": "{{n1.temperature}}", "operator": "GT", "value": 30}}
                ]}],
                "otherwise": {"id": "else"}
            }}),
        )
    }

    fn design(nodes: Vec<Node>, edges: Vec<Edge>) -> Design {
        Design {
            nodes,
            edges,
            extra: Map::new(),
        }
    }

    fn refusal(design: &Design) -> DesignRefusal {
        validate(design, &Limits::default()).expect_err("the design should be refused")
    }

    fn only(refusal: &DesignRefusal) -> &DesignProblem {
        assert_eq!(refusal.0.len(), 1, "{refusal}");
        &refusal.0[0]
    }

    fn linear() -> Design {
        design(
            vec![listener("n1"), output("o1")],
            vec![Edge::new("e1", "n1", "o1")],
        )
    }

    #[test]
    fn a_minimal_flow_validates() {
        let flow = validate(&linear(), &Limits::default()).unwrap();
        assert_eq!(flow.entry().id, "n1");
        assert_eq!(flow.entry_component().name, "eventListener");
        assert_eq!(flow.order(), [0, 1]);
        assert_eq!(flow.next(0, None).collect::<Vec<_>>(), [1]);
        assert_eq!(flow.incoming(1), [0]);
        assert_eq!(flow.index_of("o1"), Some(1));
        assert_eq!(flow.component(1).name, "output");
        assert_eq!(flow.into_design(), linear());
    }

    #[test]
    fn unknown_components_are_refused_by_name() {
        let mut d = linear();
        d.nodes[1].component_name = "average".into();
        let r = refusal(&d);
        let p = only(&r);
        assert_eq!(p.rule, Rule::UnknownComponent);
        assert_eq!(
            p.node,
            Some(NodeRef {
                id: "o1".into(),
                name: Some("Result".into())
            })
        );
        assert!(
            p.to_string().starts_with(
                "node \"o1\" (Result): componentName: unknown component \"average\" (known: trigger,"
            ),
            "{p}"
        );
    }

    #[test]
    fn missing_and_mistyped_parameters_name_node_and_field() {
        let mut d = linear();
        d.nodes[0] = Node::new("n1", "eventListener", "Listen", json!({}));
        let r = refusal(&d);
        let p = only(&r);
        assert_eq!(p.rule, Rule::MissingParameter);
        assert_eq!(
            p.to_string(),
            "node \"n1\" (Listen): parameters.entities: is required"
        );

        d.nodes[0] = Node::new("n1", "eventListener", "Listen", json!({"entities": "x"}));
        let r = refusal(&d);
        let p = only(&r);
        assert_eq!(p.rule, Rule::InvalidParameter);
        assert_eq!(
            p.to_string(),
            "node \"n1\" (Listen): parameters.entities: must be a list, not a string"
        );
    }

    #[test]
    fn node_ids_must_be_present_and_unique_and_names_present() {
        let d = design(vec![listener("n1"), output("n1"), assigner(" ")], vec![]);
        let r = refusal(&d);
        // Nothing about reachability: those nodes cannot be the end of an edge anyway.
        let rules: Vec<Rule> = r.0.iter().map(|p| p.rule).collect();
        assert_eq!(rules, [Rule::DuplicateNodeId, Rule::InvalidNodeId]);
        let dup =
            r.0.iter()
                .find(|p| p.rule == Rule::DuplicateNodeId)
                .unwrap();
        assert_eq!(
            dup.to_string(),
            "node \"n1\" (Result): id: node \"n1\" (Listen) has the same id"
        );
        let missing = r.0.iter().find(|p| p.rule == Rule::InvalidNodeId).unwrap();
        assert_eq!(missing.to_string(), "nodes[2] (Fan on): id: is required");

        let mut d = linear();
        d.nodes[1].data.node_name = Some(None);
        let r = refusal(&d);
        assert_eq!(
            only(&r).to_string(),
            "node \"o1\": data.nodeName: is required"
        );
    }

    #[test]
    fn edges_to_or_from_unknown_nodes_are_refused() {
        let d = design(
            vec![listener("n1"), output("o1")],
            vec![
                Edge::new("e1", "n1", "o1"),
                Edge::new("e2", "n1", "ghost"),
                Edge::new("e3", "phantom", "o1"),
            ],
        );
        let r = refusal(&d);
        assert_eq!(r.0.len(), 2, "{r}");
        assert_eq!(r.0[0].rule, Rule::UnknownTarget);
        assert_eq!(
            r.0[0].to_string(),
            "edge \"e2\" from node \"n1\" (Listen) to \"ghost\": target: no node has the id \"ghost\""
        );
        assert_eq!(r.0[0].edge.as_deref(), Some("e2"));
        assert_eq!(r.0[1].rule, Rule::UnknownSource);
        assert_eq!(r.0[1].node.as_ref().unwrap().id, "o1");
        assert_eq!(
            r.0[1].to_string(),
            "edge \"e3\" from \"phantom\" to node \"o1\" (Result): source: no node has the id \"phantom\""
        );
    }

    #[test]
    fn edge_ids_must_be_present_and_unique_and_connections_not_repeated() {
        let d = design(
            vec![listener("n1"), output("o1")],
            vec![
                Edge::new("e1", "n1", "o1"),
                Edge::new("e1", "n1", "o1"),
                Edge::new("", "n1", "o1"),
            ],
        );
        let r = refusal(&d);
        let rules: Vec<Rule> = r.0.iter().map(|p| p.rule).collect();
        assert_eq!(
            rules,
            [
                Rule::DuplicateEdgeId,
                Rule::DuplicateEdge,
                Rule::InvalidEdgeId,
                Rule::DuplicateEdge
            ]
        );
        assert_eq!(
            r.0[2].to_string(),
            "edges[2] from node \"n1\" (Listen) to node \"o1\" (Result): id: is required"
        );
    }

    #[test]
    fn choice_edges_must_name_one_of_its_branches() {
        let d = design(
            vec![listener("n1"), choice("c1"), assigner("a1"), output("o1")],
            vec![
                Edge::new("e1", "n1", "c1"),
                Edge::branch("e2", "c1", "hot", "a1"),
                Edge::branch("e3", "c1", "warm", "o1"),
                Edge::new("e4", "c1", "o1"),
            ],
        );
        let r = refusal(&d);
        assert_eq!(r.0.len(), 2, "{r}");
        assert_eq!(r.0[0].rule, Rule::UnknownBranch);
        assert_eq!(
            r.0[0].to_string(),
            "edge \"e3\" from node \"c1\" (Hot?) to node \"o1\" (Result): sourceHandle: \"warm\" \
             is not a branch of the choice node (its branches: hot, else)"
        );
        assert_eq!(r.0[1].rule, Rule::MissingBranch);
        assert_eq!(r.0[1].field, "sourceHandle");
    }

    #[test]
    fn a_choice_branch_without_an_edge_is_allowed() {
        // Only `hot` is connected: when it is cold the run simply ends.
        let d = design(
            vec![listener("n1"), choice("c1"), assigner("a1")],
            vec![
                Edge::new("e1", "n1", "c1"),
                Edge::branch("e2", "c1", "hot", "a1"),
            ],
        );
        let flow = validate(&d, &Limits::default()).unwrap();
        assert_eq!(flow.next(1, Some("hot")).collect::<Vec<_>>(), [2]);
        assert_eq!(flow.next(1, Some("else")).count(), 0);
        assert_eq!(flow.outgoing(1)[0].branch.as_deref(), Some("hot"));
    }

    #[test]
    fn non_choice_edges_may_carry_a_handle() {
        let mut d = linear();
        d.edges[0].source_handle = Some(Some("source-right".into()));
        let flow = validate(&d, &Limits::default()).unwrap();
        assert_eq!(flow.outgoing(0)[0].branch, None);
        assert_eq!(flow.next(0, None).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn cycles_are_refused_naming_a_node_on_them() {
        let d = design(
            vec![listener("n1"), assigner("a1"), assigner("a2"), output("o1")],
            vec![
                Edge::new("e1", "n1", "a1"),
                Edge::new("e2", "a1", "a2"),
                Edge::new("e3", "a2", "a1"),
                Edge::new("e4", "a2", "o1"),
            ],
        );
        let r = refusal(&d);
        let p = only(&r);
        assert_eq!(p.rule, Rule::Cycle);
        let on_cycle = &p.node.as_ref().unwrap().id;
        assert!(on_cycle == "a1" || on_cycle == "a2", "{p}");
        assert!(
            p.message == "the node is on a cycle: \"a1\" → \"a2\" → \"a1\""
                || p.message == "the node is on a cycle: \"a2\" → \"a1\" → \"a2\"",
            "{p}"
        );
        assert!(p.to_string().starts_with("node \"a"), "{p}");

        // A node joined to itself.
        let d = design(
            vec![listener("n1"), assigner("a1")],
            vec![Edge::new("e1", "n1", "a1"), Edge::new("e2", "a1", "a1")],
        );
        let r = refusal(&d);
        assert_eq!(
            only(&r).to_string(),
            "node \"a1\" (Fan on): edges: the node is on a cycle: \"a1\" → \"a1\""
        );
    }

    #[test]
    fn a_flow_has_exactly_one_entry() {
        let d = design(vec![output("o1")], vec![]);
        let r = refusal(&d);
        let p = only(&r);
        assert_eq!(p.rule, Rule::NoEntry);
        assert_eq!(
            p.to_string(),
            "design: nodes: no entry node: a flow starts at one trigger, eventListener, \
             simpleTimer, httpIn node"
        );
        assert!(refusal(&design(vec![], vec![])).breaks(Rule::NoEntry));

        let timer = Node::new(
            "t1",
            "simpleTimer",
            "Every minute",
            json!({"timerSettings": {"type": "INTERVAL", "intervalTime": 1, "intervalTimeUnit": "MINUTES"}}),
        );
        let d = design(
            vec![listener("n1"), timer, output("o1")],
            vec![Edge::new("e1", "n1", "o1"), Edge::new("e2", "t1", "o1")],
        );
        let r = refusal(&d);
        let p = only(&r);
        assert_eq!(p.rule, Rule::SeveralEntries);
        assert_eq!(
            p.to_string(),
            "node \"t1\" (Every minute): componentName: a flow has one entry node, and node \
             \"n1\" (Listen) is one already"
        );
    }

    #[test]
    fn no_edge_enters_the_entry_and_none_leaves_an_output() {
        let d = design(
            vec![listener("n1"), assigner("a1"), output("o1")],
            vec![
                Edge::new("e1", "n1", "o1"),
                Edge::new("e2", "o1", "a1"),
                Edge::new("e3", "a1", "n1"),
            ],
        );
        let r = refusal(&d);
        assert!(r.breaks(Rule::EdgeIntoEntry), "{r}");
        assert!(r.breaks(Rule::OutputNotSink), "{r}");
        // n1 → o1 → a1 → n1 is a cycle as well.
        assert!(r.breaks(Rule::Cycle), "{r}");
        let into = r.0.iter().find(|p| p.rule == Rule::EdgeIntoEntry).unwrap();
        assert_eq!(
            into.to_string(),
            "node \"n1\" (Listen): edges: edge \"e3\" enters it, but a run can only start at an \
             entry node"
        );
        let out = r.0.iter().find(|p| p.rule == Rule::OutputNotSink).unwrap();
        assert_eq!(
            out.to_string(),
            "node \"o1\" (Result): edges: edge \"e2\" leaves it, but an output node ends the run"
        );
    }

    #[test]
    fn nodes_the_entry_cannot_reach_are_refused() {
        let d = design(
            vec![listener("n1"), output("o1"), assigner("a1")],
            vec![Edge::new("e1", "n1", "o1")],
        );
        let r = refusal(&d);
        let p = only(&r);
        assert_eq!(p.rule, Rule::Unreachable);
        assert_eq!(
            p.to_string(),
            "node \"a1\" (Fan on): edges: no path from the entry node \"n1\" (Listen) reaches it"
        );
        // A lone entry node is a valid (if idle) flow.
        assert!(validate(&design(vec![listener("n1")], vec![]), &Limits::default()).is_ok());
    }

    #[test]
    fn limits_are_enforced() {
        let limits = Limits {
            max_nodes: 1,
            max_edges: 0,
            max_design_bytes: 10,
        };
        let r = validate(&linear(), &limits).unwrap_err();
        assert_eq!(
            r.to_string(),
            "design: nodes: 2 nodes, more than the limit of 1; design: edges: 1 edges, more than \
             the limit of 0"
        );
        assert!(limits.check_size("0123456789").is_ok());
        let r = limits.check_size("01234567890").unwrap_err();
        assert_eq!(only(&r).rule, Rule::TooLarge);
        assert_eq!(r.to_string(), "design: 11 bytes, more than the limit of 10");

        let json = linear().to_json();
        match parse_and_validate(&json, &limits) {
            Err(WorkflowError::Design(r)) => assert!(r.breaks(Rule::TooLarge)),
            other => panic!("{other:?}"),
        }
        assert_eq!(Limits::default().max_design_bytes, 262_144);
    }

    #[test]
    fn many_problems_are_all_reported_and_the_message_is_capped() {
        let nodes: Vec<Node> = (0..15)
            .map(|i| Node::new(&format!("x{i}"), "nope", "X", Json::Null))
            .collect();
        let r = refusal(&design(nodes, vec![]));
        // 15 unknown components and no entry.
        assert_eq!(r.0.len(), 16);
        assert!(r.to_string().ends_with("; and 6 more"), "{r}");
    }

    /// eventListener → choice → (hot) entityAssigner → output, (else) webhook → output,
    /// as the console saves it: React Flow members, nulls and the viewport included.
    const REALISTIC: &str = r#"{
      "version": "1.0.0",
      "viewport": {"x": -120.5, "y": 44, "zoom": 0.8},
      "nodes": [
        {"id": "listener-1", "type": "listener", "componentName": "eventListener",
         "position": {"x": 0, "y": 120}, "width": 240, "height": 64,
         "measured": {"width": 240, "height": 64}, "selected": false, "dragging": false,
         "data": {"nodeName": "Temperature changed", "nodeRemark": "",
                  "parameters": {"entities": ["demo.device.room-1.temperature"],
                                 "entityData": {"keys": ["demo.device.room-1.temperature"]}},
                  "$status": "SUCCESS"}},
        {"id": "ifelse-1", "type": "ifelse", "componentName": "choice",
         "position": {"x": 320, "y": 120}, "width": 280, "height": 160,
         "data": {"nodeName": "Too hot?", "nodeRemark": null,
                  "parameters": {"choice": {
                    "when": [{"id": "branch-hot", "logicOperator": "AND", "expressionType": "condition",
                              "conditions": [{"id": "cond-1",
                                "expressionValue": {"key": "{{listener-1.demo.device.room-1.temperature}}",
                                                    "operator": "GT", "value": "28.5"},
                                "expressionDescription": ""}]}],
                    "otherwise": {"id": "branch-else"}}}}},
        {"id": "assigner-1", "type": "assigner", "componentName": "entityAssigner",
         "position": {"x": 680, "y": 40},
         "data": {"nodeName": "Fan on",
                  "parameters": {"exchangePayload": {"demo.device.room-1.fan": true,
                                                     "demo.device.room-1.fan_speed": 3}}}},
        {"id": "webhook-1", "type": "webhook", "componentName": "webhook",
         "position": {"x": 680, "y": 240},
         "data": {"nodeName": "Notify ops",
                  "parameters": {"webhookUrl": "https://hooks.example.com/weir",
                                 "secretKey": "s3cret",
                                 "inputArguments": {"room": "room-1",
                                                    "temperature": "{{listener-1.demo.device.room-1.temperature}}"}}}},
        {"id": "output-1", "type": "output", "componentName": "output",
         "position": {"x": 1000, "y": 120},
         "data": {"nodeName": "Result",
                  "parameters": {"outputVariables": {"handled": true}}}}
      ],
      "edges": [
        {"id": "xy-edge__listener-1-ifelse-1", "type": "addable", "source": "listener-1",
         "target": "ifelse-1", "sourceHandle": null, "targetHandle": null},
        {"id": "xy-edge__ifelse-1branch-hot-assigner-1", "type": "addable", "source": "ifelse-1",
         "target": "assigner-1", "sourceHandle": "branch-hot", "targetHandle": null},
        {"id": "xy-edge__ifelse-1branch-else-webhook-1", "type": "addable", "source": "ifelse-1",
         "target": "webhook-1", "sourceHandle": "branch-else", "targetHandle": null},
        {"id": "xy-edge__assigner-1-output-1", "type": "addable", "source": "assigner-1",
         "target": "output-1"},
        {"id": "xy-edge__webhook-1-output-1", "type": "addable", "source": "webhook-1",
         "target": "output-1", "animated": true}
      ]
    }"#;

    #[test]
    fn a_realistic_design_parses_validates_and_round_trips() {
        let flow = parse_and_validate(REALISTIC, &Limits::default()).unwrap();
        assert_eq!(flow.entry().id, "listener-1");
        let ids: Vec<&str> = flow
            .order()
            .iter()
            .map(|&i| flow.node(i).id.as_str())
            .collect();
        assert_eq!(
            ids,
            [
                "listener-1",
                "ifelse-1",
                "assigner-1",
                "webhook-1",
                "output-1"
            ]
        );
        let choice = flow.index_of("ifelse-1").unwrap();
        let hot: Vec<&str> = flow
            .next(choice, Some("branch-hot"))
            .map(|i| flow.node(i).id.as_str())
            .collect();
        assert_eq!(hot, ["assigner-1"]);
        let otherwise: Vec<&str> = flow
            .next(choice, Some("branch-else"))
            .map(|i| flow.node(i).id.as_str())
            .collect();
        assert_eq!(otherwise, ["webhook-1"]);
        let output = flow.index_of("output-1").unwrap();
        assert_eq!(flow.incoming(output).len(), 2);
        assert!(flow.outgoing(output).is_empty());

        // Re-serialised, the design is the same JSON, unknown members and nulls included.
        let original: Json = serde_json::from_str(REALISTIC).unwrap();
        let again: Json = serde_json::from_str(&flow.design().to_json()).unwrap();
        assert_eq!(again, original);
        // And it parses back to the same design.
        assert_eq!(
            &Design::parse(&flow.design().to_json()).unwrap(),
            flow.design()
        );
    }

    #[test]
    fn every_component_validates_in_a_flow() {
        // One node of each non-entry kind behind a trigger, and each entry kind alone.
        let actions = vec![
            Node::new(
                "sel",
                "entitySelector",
                "Read",
                json!({"entities": ["demo.device.d1.temperature"]}),
            ),
            Node::new(
                "svc",
                "serviceInvocation",
                "Reboot",
                json!({"serviceInvocationSetting": {"serviceEntity": "demo.device.d1.reboot",
                       "serviceParams": {"delay": 5}},
                       "payload": [{"name": "ok", "type": "BOOLEAN"}]}),
            ),
            Node::new(
                "code",
                "code",
                "Compute",
                json!({"expression": {"language": "rhai", "expression": "return {avg: a}"},
                       "inputArguments": {"a": "{{sel.demo.device.d1.temperature}}"},
                       "payload": [{"name": "avg", "type": "DOUBLE"}]}),
            ),
            Node::new(
                "mail",
                "email",
                "Mail",
                json!({"emailConfig": {"useSystemSettings": true},
                       "recipients": ["ops@example.com"], "subject": "Hot", "content": "It is hot"}),
            ),
            output("out"),
        ];
        let trigger = Node::new(
            "trg",
            "trigger",
            "Start",
            json!({"entityConfigs": [{"identify": "room", "name": "Room", "type": "STRING", "required": true}]}),
        );
        let mut nodes = vec![trigger];
        let mut edges = Vec::new();
        let mut prev = "trg".to_string();
        for (i, n) in actions.into_iter().enumerate() {
            edges.push(Edge::new(&format!("e{i}"), &prev, &n.id));
            prev = n.id.clone();
            nodes.push(n);
        }
        let flow = validate(&design(nodes, edges), &Limits::default()).unwrap();
        assert_eq!(flow.order(), [0, 1, 2, 3, 4, 5]);

        let http = Node::new(
            "h",
            "httpIn",
            "Hook",
            json!({"method": "POST", "url": "/orders/{id}"}),
        );
        assert!(validate(&design(vec![http], vec![]), &Limits::default()).is_ok());
    }

    #[test]
    fn the_topological_order_waits_for_every_predecessor() {
        // n1 → a1 → a2 → o1 and n1 → o1: o1 comes after a2 although n1 reaches it first.
        let d = design(
            vec![listener("n1"), output("o1"), assigner("a1"), assigner("a2")],
            vec![
                Edge::new("e1", "n1", "o1"),
                Edge::new("e2", "n1", "a1"),
                Edge::new("e3", "a1", "a2"),
                Edge::new("e4", "a2", "o1"),
            ],
        );
        let flow = validate(&d, &Limits::default()).unwrap();
        assert_eq!(flow.order(), [0, 2, 3, 1]);
    }
}
