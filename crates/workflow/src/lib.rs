#![warn(missing_docs)]
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
//! Flows are stored through the [`ports::WorkflowTx`] port, each saved design as a new
//! numbered [`ports::FlowVersion`]; [`WorkflowService`] holds the use-cases, on behalf of a
//! [`Caller`] whose `workflow.*` function codes decide what it may do.
//!
//! Like the other domain crates, this one has no web framework, no database and no SQL in it.
//! The routes and the engine come next.

pub mod caller;
pub mod components;
mod credential;
pub mod design;
pub mod engine;
pub mod entity_uses;
pub mod errors;
pub mod ports;
pub mod run_log;
mod run_logs;
pub mod runtime;
pub mod service;
pub mod validate;

pub use caller::{Caller, EntityGrants};
pub use ports::{Flow, FlowVersion, SoleNode, TimerLeases, Visible, WorkflowStore, WorkflowTx};
pub use service::{SaveDesign, WorkflowPorts, WorkflowService, WorkflowSettings};

pub use components::{Catalogue, Component, Group, catalogue};
pub use design::{Design, DesignError, Edge, Node, NodeData};
pub use errors::WorkflowError;
pub use run_log::{NodeTrace, RunLog, RunStatus};
pub use validate::{
    DesignProblem, DesignRefusal, Limits, Link, Rule, ValidatedFlow, parse_and_validate, validate,
};
