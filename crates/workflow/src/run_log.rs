//! Run logs: what every run of a flow leaves behind, with a trace of each node it ran.
//! `POST /workflow/flows/{id}/logs/search` lists them, `GET /workflow/flows/logs/{id}`
//! shows one with its `trace_info`.

use weir_kernel::{Id, Millis, TenantId};

/// How a run, or one node of it, ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunStatus {
    /// It completed.
    Success,
    /// It failed.
    Error,
}

impl RunStatus {
    /// `SUCCESS` or `ERROR`, as the API and the store write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Error => "ERROR",
        }
    }

    /// `SUCCESS` or `ERROR`, in any case.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "SUCCESS" => Some(Self::Success),
            "ERROR" => Some(Self::Error),
            _ => None,
        }
    }
}

/// One node's part in a run: a `trace_info` item.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeTrace {
    /// The run's message id (the same for every node of one run).
    pub message_id: String,
    /// The id of the design node.
    pub node_id: String,
    /// The node's `nodeName`, else its component's title.
    pub node_label: String,
    /// How the node ended.
    pub status: RunStatus,
    /// When the node started (epoch milliseconds).
    pub start_time: Millis,
    /// Milliseconds.
    pub time_cost: i64,
    /// Why the node failed; `None` when it did not.
    pub error_message: Option<String>,
    /// The node's input, as JSON text cut to the configured size.
    pub input: String,
    /// The node's output, as JSON text cut to the configured size.
    pub output: String,
}

/// One run of a flow.
#[derive(Debug, Clone, PartialEq)]
pub struct RunLog {
    /// Time-ordered, unique across tenants.
    pub id: Id,
    /// The tenant of the flow.
    pub tenant_id: TenantId,
    /// The flow that ran.
    pub flow_id: Id,
    /// The version of the design that ran.
    pub version: i64,
    /// How the run ended: [`RunStatus::Error`] when a node failed or the run was refused.
    pub status: RunStatus,
    /// When the run started (epoch milliseconds).
    pub start_time: Millis,
    /// Milliseconds from the run's start to its end.
    pub time_cost: i64,
    /// Why the run failed (the failing node's error, named), or empty.
    pub message: String,
    /// In the order the nodes ran; empty in search results, which do not load traces.
    pub traces: Vec<NodeTrace>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_parses_in_any_case_and_round_trips() {
        for s in [RunStatus::Success, RunStatus::Error] {
            assert_eq!(RunStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(RunStatus::parse("success"), Some(RunStatus::Success));
        assert_eq!(RunStatus::parse(" Error "), Some(RunStatus::Error));
        assert_eq!(RunStatus::Success.as_str(), "SUCCESS");
        assert_eq!(RunStatus::Error.as_str(), "ERROR");
    }

    #[test]
    fn anything_else_is_no_status() {
        for s in ["", " ", "FAILED", "SUCCEEDED", "ok", "SUCCESS,ERROR", "ERR"] {
            assert_eq!(RunStatus::parse(s), None, "{s:?}");
        }
    }
}
