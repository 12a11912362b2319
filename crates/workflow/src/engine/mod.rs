//! The engine: runs a validated flow once, node by node, and traces every node it ran.
//!
//! A run starts at the entry node with an input message (a trigger's values, the new
//! values of an event, a timer's tick, an HTTP request). Each node receives the output of
//! the node before it as its message and produces an output; later nodes may refer to any
//! earlier node's output (see [`refs`]). Nodes run in the flow's topological order; a node
//! runs when an edge from a node that ran leads to it (for a `choice`, only the edges of
//! the branch it picked). A node that fails ends the run as `ERROR` with its message; the
//! nodes after it do not run. The run's result is the output of the last `output` node
//! that ran.
//!
//! The engine is synchronous: ports block, and the caller runs it on a blocking thread.
//! Each run has a deadline; the engine checks it before every node and hands it to the
//! ports, so a slow script or webhook cannot hold a run past it.

pub mod choice;
mod nodes;
pub mod ports;
pub mod refs;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value as Json};
use weir_kernel::{Clock, Id, Millis, TenantId};

pub use ports::{
    Email, Encryption, Entities, Mailer, NodeError, ScriptEngine, SmtpServer, WebhookRequest,
    WebhookResponse, Webhooks,
};

use crate::components::{Group, catalogue, names};
use crate::design::Node;
use crate::run_log::{NodeTrace, RunStatus};
use crate::validate::ValidatedFlow;
use nodes::{NodeRun, Step};
use refs::Scope;

/// The adapters a run reaches the world through.
#[derive(Clone)]
pub struct EnginePorts {
    /// Reads and writes Weir's entities (`entitySelector`, `entityAssigner`, `serviceInvocation`).
    pub entities: Arc<dyn Entities>,
    /// Runs `code` nodes' scripts.
    pub scripts: Arc<dyn ScriptEngine>,
    /// Sends `webhook` nodes' requests.
    pub webhooks: Arc<dyn Webhooks>,
    /// Sends `email` nodes' mail.
    pub mailer: Arc<dyn Mailer>,
    /// Gives runs and node traces their start times.
    pub clock: Arc<dyn Clock>,
}

/// Limits every run keeps to.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// How long one run may take, all its nodes together.
    pub run_timeout: Duration,
    /// The longest `input` and `output` a trace keeps, in bytes; longer ones are cut.
    pub max_trace_bytes: usize,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            run_timeout: Duration::from_secs(30),
            max_trace_bytes: 4096,
        }
    }
}

/// One run to make.
#[derive(Debug)]
pub struct RunRequest<'a> {
    /// The tenant the flow belongs to; the run reads and writes its entities.
    pub tenant: &'a TenantId,
    /// The flow to run.
    pub flow: &'a ValidatedFlow,
    /// The flows whose runs led to this one, oldest first, this run's flow last: what its
    /// writes say caused them (see [`Entities`]).
    pub chain: &'a [Id],
    /// The entry node's output: what the run starts with.
    pub input: Map<String, Json>,
    /// Identifies the run in its traces.
    pub message_id: String,
}

/// How a run went.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// [`RunStatus::Error`] when a node failed (the nodes after it did not run) or the run
    /// was refused before its entry node.
    pub status: RunStatus,
    /// The failing node's error, naming the node; empty on success.
    pub message: String,
    /// The output of the last `output` node that ran, if one did.
    pub output: Option<Json>,
    /// When the run started (epoch milliseconds).
    pub start_time: Millis,
    /// How long the run took, in milliseconds.
    pub time_cost: i64,
    /// One per node that ran, in the order they ran.
    pub traces: Vec<NodeTrace>,
}

/// How the engine treats a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeKind {
    /// Entry nodes pass their input on.
    Entry,
    Choice,
    Other(&'static str),
}

/// Runs validated flows through its ports (see the module doc).
pub struct Engine {
    ports: EnginePorts,
    settings: EngineSettings,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine reaching the world through `ports`, within `settings`.
    pub fn new(ports: EnginePorts, settings: EngineSettings) -> Self {
        Self { ports, settings }
    }

    /// The limits it runs flows within.
    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// The script languages `code` nodes may use.
    pub fn languages(&self) -> Vec<&'static str> {
        self.ports.scripts.languages()
    }

    /// Runs a flow once. Never panics on bad data: whatever goes wrong ends the run as
    /// `ERROR` with a message.
    #[tracing::instrument(
        level = "debug",
        name = "flow_run",
        skip_all,
        fields(message_id = %req.message_id, chain_depth = req.chain.len())
    )]
    pub fn run(&self, req: RunRequest<'_>) -> RunOutcome {
        let started = Instant::now();
        let start_time = self.ports.clock.now_ms();
        let deadline = started + self.settings.run_timeout;
        let flow = req.flow;
        let context = RunContext {
            tenant: req.tenant,
            chain: req.chain,
            message_id: &req.message_id,
            deadline,
        };
        let mut outputs: HashMap<String, Json> = HashMap::new();
        // The message each node that is due receives, by node index.
        let mut due: HashMap<usize, Map<String, Json>> = HashMap::new();
        let mut traces = Vec::new();
        let mut result = None;
        let mut failure = None;

        let entry = flow.entry_index();
        if flow.node(entry).component_name == names::TRIGGER
            && let Err(e) = nodes::check_trigger_input(parameters(flow.node(entry)), &req.input)
        {
            failure = Some(format!("{}: {e}", label_of(flow.node(entry))));
        } else {
            due.insert(entry, req.input);
        }

        for &index in flow.order() {
            if failure.is_some() {
                break;
            }
            let Some(message) = due.remove(&index) else {
                continue;
            };
            let node = flow.node(index);
            let (mut trace, outcome) = self.run_node(&context, node, message, &outputs);
            match outcome {
                Ok(Step {
                    output,
                    branch,
                    traced,
                }) => {
                    trace.output = self.capped(traced.as_ref().unwrap_or(&output));
                    let passed = match &output {
                        Json::Object(m) => m.clone(),
                        _ => Map::new(),
                    };
                    for next in flow.next(index, branch.as_deref()) {
                        due.insert(next, passed.clone());
                    }
                    if node.component_name == names::OUTPUT {
                        result = Some(output.clone());
                    }
                    outputs.insert(node.id.clone(), output);
                }
                Err(e) => {
                    trace.status = RunStatus::Error;
                    failure = Some(format!("{}: {}", trace.node_label, e.0));
                    trace.error_message = Some(e.0);
                }
            }
            traces.push(trace);
        }

        RunOutcome {
            status: if failure.is_some() {
                RunStatus::Error
            } else {
                RunStatus::Success
            },
            message: failure.unwrap_or_default(),
            output: result,
            start_time,
            time_cost: millis(started.elapsed()),
            traces,
        }
    }

    /// Runs one node of a run on `message`, unless the run is past its deadline; answers
    /// the node's trace (its output left to fill in) and what the node gave.
    #[tracing::instrument(
        level = "debug",
        name = "node",
        skip_all,
        fields(node = %node.id, component = %node.component_name)
    )]
    fn run_node(
        &self,
        context: &RunContext<'_>,
        node: &Node,
        message: Map<String, Json>,
        outputs: &HashMap<String, Json>,
    ) -> (NodeTrace, Result<Step, NodeError>) {
        let trace_start = self.ports.clock.now_ms();
        let node_started = Instant::now();
        let outcome = if Instant::now() >= context.deadline {
            Err(NodeError(format!(
                "the run took longer than its limit of {} s",
                self.settings.run_timeout.as_secs_f64()
            )))
        } else {
            NodeRun {
                tenant: context.tenant,
                chain: context.chain,
                kind: kind_of(node),
                parameters: parameters(node),
                scope: Scope {
                    outputs,
                    message: &message,
                },
                deadline: context.deadline,
                ports: &self.ports,
            }
            .run()
        };
        let trace = NodeTrace {
            message_id: context.message_id.to_owned(),
            node_id: node.id.clone(),
            node_label: label_of(node),
            status: RunStatus::Success,
            start_time: trace_start,
            time_cost: millis(node_started.elapsed()),
            error_message: None,
            input: self.capped(&Json::Object(message)),
            output: String::new(),
        };
        (trace, outcome)
    }

    /// The outcome of a run that is not made: the runtime stopped it before its entry node
    /// (a chain of flows too long). `ERROR` with `reason`, and one trace, of the entry
    /// node, that shows the message the run would have started with.
    pub fn refused(&self, req: RunRequest<'_>, reason: String) -> RunOutcome {
        let entry = req.flow.node(req.flow.entry_index());
        let start_time = self.ports.clock.now_ms();
        RunOutcome {
            status: RunStatus::Error,
            output: None,
            start_time,
            time_cost: 0,
            traces: vec![NodeTrace {
                message_id: req.message_id,
                node_id: entry.id.clone(),
                node_label: label_of(entry),
                status: RunStatus::Error,
                start_time,
                time_cost: 0,
                error_message: Some(reason.clone()),
                input: self.capped(&Json::Object(req.input)),
                output: String::new(),
            }],
            message: reason,
        }
    }

    /// Runs one node on its own with `input` as its message, for
    /// `POST /workflow/flows/node/test`. No other node ran, so a reference to one
    /// (`{{n1.x}}`) reads the input (give it `{"n1": {"x": ...}}`). The node's parameters
    /// are checked against its component first.
    pub fn test_node(
        &self,
        tenant: &TenantId,
        node: &Node,
        input: Map<String, Json>,
        message_id: String,
    ) -> Result<RunOutcome, crate::WorkflowError> {
        let component = catalogue().get(&node.component_name).ok_or_else(|| {
            crate::WorkflowError::invalid(
                "node.componentName",
                format!("unknown component `{}`", node.component_name),
            )
        })?;
        if let Some(p) = component.check(parameters_opt(node)).first() {
            return Err(crate::WorkflowError::invalid(
                format!("node.{}", p.field),
                p.message.clone(),
            ));
        }
        let design = crate::design::Design {
            nodes: vec![node.clone()],
            edges: Vec::new(),
            extra: Map::new(),
        };
        let flow = ValidatedFlow::single(design);
        Ok(self.run(RunRequest {
            tenant,
            flow: &flow,
            chain: &[],
            input,
            message_id,
        }))
    }

    /// A value as trace text, cut to the configured size on a character boundary.
    fn capped(&self, value: &Json) -> String {
        let mut s = value.to_string();
        let max = self.settings.max_trace_bytes;
        if s.len() > max {
            let mut end = max;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s.truncate(end);
            s.push_str("...");
        }
        s
    }
}

/// What every node of one run shares.
struct RunContext<'a> {
    tenant: &'a TenantId,
    chain: &'a [Id],
    message_id: &'a str,
    deadline: Instant,
}

fn kind_of(node: &Node) -> NodeKind {
    match catalogue().get(&node.component_name) {
        Some(c) if c.group == Group::Entry => NodeKind::Entry,
        Some(c) if c.name == names::CHOICE => NodeKind::Choice,
        Some(c) => NodeKind::Other(c.name),
        None => NodeKind::Other("unknown"),
    }
}

fn parameters_opt(node: &Node) -> Option<&Map<String, Json>> {
    node.data.parameters.as_ref().and_then(Option::as_ref)
}

fn parameters(node: &Node) -> &Map<String, Json> {
    static EMPTY: std::sync::LazyLock<Map<String, Json>> = std::sync::LazyLock::new(Map::new);
    parameters_opt(node).unwrap_or(&EMPTY)
}

/// The node's name, else its component's title.
fn label_of(node: &Node) -> String {
    match node.name() {
        Some(name) if !name.trim().is_empty() => name.to_owned(),
        _ => catalogue()
            .get(&node.component_name)
            .map_or(node.component_name.clone(), |c| c.title.to_owned()),
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
