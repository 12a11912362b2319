//! What a refusal says: the rule broken, the node or edge it is about, the field, the message.

use std::fmt;

use crate::components::clip;
use crate::design::{Edge, Node};

/// Which rule a problem breaks; for tests and for clients that want more than the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The `design_data` string is longer than [`Limits::max_design_bytes`](super::Limits::max_design_bytes).
    TooLarge,
    /// More nodes than [`Limits::max_nodes`](super::Limits::max_nodes).
    TooManyNodes,
    /// More edges than [`Limits::max_edges`](super::Limits::max_edges).
    TooManyEdges,
    /// A node id that is absent, blank or longer than 128 characters.
    InvalidNodeId,
    /// Two nodes share an id.
    DuplicateNodeId,
    /// A node without a `nodeName`, or with a blank one.
    MissingNodeName,
    /// A node whose `componentName` is not in the catalogue.
    UnknownComponent,
    /// A required parameter that is absent, `null` or blank.
    MissingParameter,
    /// A parameter of the wrong type, out of its limits, or breaking its component's rules.
    InvalidParameter,
    /// An edge id that is absent or blank.
    InvalidEdgeId,
    /// Two edges share an id.
    DuplicateEdgeId,
    /// An edge whose `source` is no node of the design.
    UnknownSource,
    /// An edge whose `target` is no node of the design.
    UnknownTarget,
    /// Two edges join the same nodes (through the same branch).
    DuplicateEdge,
    /// An edge leaving a `choice` node without a `sourceHandle`.
    MissingBranch,
    /// An edge leaving a `choice` node with a `sourceHandle` that is not one of its branches.
    UnknownBranch,
    /// No node is an entry.
    NoEntry,
    /// More than one node is an entry; each after the first is named.
    SeveralEntries,
    /// An edge enters the entry node: a run can only start there.
    EdgeIntoEntry,
    /// An edge leaves an `output` node, which ends the run.
    OutputNotSink,
    /// The edges form a cycle; a node on it is named.
    Cycle,
    /// A node no path from the entry reaches.
    Unreachable,
    /// A node names an entity the caller may not use so: unknown, not theirs to see, not a
    /// writable property, not a service.
    EntityNotUsable,
}

/// A node, as problems name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRef {
    /// The node's id.
    pub id: String,
    /// The node's `nodeName`, when it has one.
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
    /// The rule broken.
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
    /// What is wrong, for a person.
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
    /// The problems, in the order the checks found them.
    pub fn problems(&self) -> &[DesignProblem] {
        &self.0
    }

    /// True when some problem breaks `rule`.
    pub fn breaks(&self, rule: Rule) -> bool {
        self.0.iter().any(|p| p.rule == rule)
    }
}

/// Collects the problems about one node or edge, each naming the same subject.
pub(super) struct About<'p> {
    problems: &'p mut Vec<DesignProblem>,
    node: Option<NodeRef>,
    edge: Option<String>,
    subject: String,
}

impl<'p> About<'p> {
    /// Problems about `node`, the `i`th of the design.
    pub(super) fn node(problems: &'p mut Vec<DesignProblem>, i: usize, node: &Node) -> Self {
        Self {
            problems,
            node: Some(NodeRef::of(node)),
            edge: None,
            subject: node_subject(i, node),
        }
    }

    /// Problems about `edge`, the `e`th of the design, whose ends are `source` and `target`
    /// when they exist; they name the node it leaves (or enters, when the source is unknown).
    pub(super) fn edge(
        problems: &'p mut Vec<DesignProblem>,
        e: usize,
        edge: &Edge,
        source: Option<&Node>,
        target: Option<&Node>,
    ) -> Self {
        Self {
            problems,
            node: source.or(target).map(NodeRef::of),
            edge: Some(edge.id.clone()),
            subject: edge_subject(e, edge, source, target),
        }
    }

    /// The same subject, a problem that also names `edge`.
    pub(super) fn through(mut self, edge: &Edge) -> Self {
        self.edge = Some(edge.id.clone());
        self
    }

    pub(super) fn push(&mut self, rule: Rule, field: &str, message: String) {
        self.problems.push(DesignProblem {
            rule,
            node: self.node.clone(),
            edge: self.edge.clone(),
            subject: self.subject.clone(),
            field: field.into(),
            message,
        });
    }
}

/// A problem of the design as a whole.
pub(super) fn design_problem(rule: Rule, field: &str, message: String) -> DesignProblem {
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
