//! Weir's workflow domain: flows a user draws in the console and the engine runs.
//!
//! A flow's `design_data` is a JSON string of nodes and edges (see [`design`]). Each node is
//! an instance of a component from the [`components`] catalogue — entry (`trigger`,
//! `eventListener`, `simpleTimer`, `httpIn`), control (`choice`), action (`entitySelector`,
//! `entityAssigner`, `serviceInvocation`, `code`) or external (`webhook`, `email`, `output`)
//! — whose parameters follow the component's schema. [`validate()`] decides whether a design
//! is a flow the engine can run and, if it is, gives the engine its entry node, a
//! topological order and each node's links ([`ValidatedFlow`]). Refusals are
//! [`errors::WorkflowError`]s that name the node and the field.
//!
//! Like the other domain crates, this one has no web framework, no database and no SQL in it.
//! What is here so far is the design model and its validation; the ports, the use-cases,
//! storage and routes come next.

pub mod components;
pub mod design;
pub mod errors;
pub mod validate;

pub use components::{Catalogue, Component, Group, catalogue};
pub use design::{Design, DesignError, Edge, Node, NodeData};
pub use errors::WorkflowError;
pub use validate::{
    DesignProblem, DesignRefusal, Limits, Link, Rule, ValidatedFlow, parse_and_validate, validate,
};
