//! Why a workflow use-case refuses; each presents itself as a [`Problem`].

use weir_kernel::{AsProblem, PageRequestError, Problem, ProblemKind, StoreError};

use crate::design::DesignError;
use crate::validate::DesignRefusal;

/// A refusal of a workflow use-case, the engine or an `httpIn` request.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    /// `design_data` is not JSON, or not of a design's shape.
    #[error(transparent)]
    Parse(#[from] DesignError),
    /// `design_data` is a design, but not one Weir can run.
    #[error("design_data: {0}")]
    Design(#[from] DesignRefusal),
    /// Unknown, of another tenant, or outside the caller's grants: all look the same.
    #[error("{what} {id} not found")]
    NotFound {
        /// What was looked for: `flow`, `flow version`, `log`...
        what: &'static str,
        /// The id asked for, as given.
        id: String,
    },
    /// The design was saved from an older version than the stored one: someone else saved
    /// in between.
    #[error(
        "flow {id} is at version {current}, not {given}: reload it and apply your changes again"
    )]
    VersionConflict {
        /// The flow's id.
        id: String,
        /// The version the design was based on.
        given: i64,
        /// The version stored now.
        current: i64,
    },
    /// A bad value (`name`, `keyword`, `status`...), or a part that could not do its work
    /// (`runtime`, `node`); `field` says which.
    #[error("{field}: {message}")]
    Invalid {
        /// The value or part at fault.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The caller may not do this; the message says which permission it lacks.
    #[error("{0}")]
    Denied(String),
    /// A request to `/workflow-http-in/` without a credential that opens the flow.
    #[error("{0}")]
    Unauthenticated(String),
    /// A request to an `httpIn` path with another method than the node's.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The tenant already has as many runs going as it may.
    #[error("{0}")]
    Busy(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl WorkflowError {
    /// [`WorkflowError::Invalid`] for this field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// [`WorkflowError::NotFound`] for this kind of object and id.
    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        Self::NotFound {
            what,
            id: id.to_string(),
        }
    }
}

impl From<PageRequestError> for WorkflowError {
    fn from(e: PageRequestError) -> Self {
        match e {
            PageRequestError::Keyword(k) => Self::invalid("keyword", k.to_string()),
            e => Self::invalid("page", e.to_string()),
        }
    }
}

impl AsProblem for WorkflowError {
    fn problem(&self) -> Problem {
        let msg = self.to_string();
        match self {
            // `design_data` is a field of a request whose body was valid JSON: whatever is
            // wrong inside it is a field that failed validation, as the error policy says.
            Self::Parse(_) | Self::Design(_) | Self::Invalid { .. } => Problem::invalid(msg),
            Self::NotFound { .. } => Problem::not_found(msg),
            Self::VersionConflict { .. } => {
                Problem::new(ProblemKind::Conflict, "workflow_version_conflict", msg)
            }
            Self::Denied(_) => Problem::forbidden(msg),
            Self::Unauthenticated(_) => {
                Problem::new(ProblemKind::Unauthenticated, "authentication_failed", msg)
            }
            // The native envelope has no 405; a wrong method is a bad request there.
            Self::MethodNotAllowed(_) => Problem::invalid(msg),
            Self::Busy(_) => Problem::new(ProblemKind::TooManyRequests, "workflow_busy", msg),
            Self::Store(e) => e.problem(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::Design;
    use crate::validate::{Limits, parse_and_validate};
    use weir_kernel::ProblemKind;

    #[test]
    fn a_refused_design_is_400_parameter_validation_failed_naming_node_and_field() {
        let json = r#"{"nodes": [
            {"id": "n1", "componentName": "eventListener", "data": {"nodeName": "Listen",
             "parameters": {"entities": ["demo.device.d1.t"]}}},
            {"id": "w1", "componentName": "webhook", "data": {"nodeName": "Notify",
             "parameters": {}}}],
          "edges": [{"id": "e1", "source": "n1", "target": "w1"}]}"#;
        let e = parse_and_validate(json, &Limits::default()).unwrap_err();
        let p = e.problem();
        assert_eq!(p.kind, ProblemKind::Invalid);
        assert_eq!(p.code, "parameter_validation_failed");
        assert_eq!(
            p.message,
            "design_data: node \"w1\" (Notify): parameters.webhookUrl: is required"
        );
    }

    #[test]
    fn a_design_data_that_is_not_a_design_is_400_too() {
        let e = WorkflowError::from(Design::parse(r#"{"nodes" []}"#).unwrap_err());
        let p = e.problem();
        assert_eq!(p.code, "parameter_validation_failed");
        assert!(
            p.message.starts_with("design_data is not valid JSON"),
            "{}",
            p.message
        );
        let e = WorkflowError::from(Design::parse(r#"{"nodes": [], "edges": {}}"#).unwrap_err());
        let p = e.problem();
        assert_eq!(p.kind, ProblemKind::Invalid);
        assert!(
            p.message.starts_with("design_data.edges: invalid type"),
            "{}",
            p.message
        );
    }

    #[test]
    fn the_other_refusals_map_like_the_other_domains() {
        let p = WorkflowError::not_found("flow", 42).problem();
        assert_eq!((p.kind, p.code), (ProblemKind::NotFound, "data_no_found"));
        assert_eq!(p.message, "flow 42 not found");
        let p = WorkflowError::invalid("name", "is required").problem();
        assert_eq!(p.code, "parameter_validation_failed");
        assert_eq!(p.message, "name: is required");
        let p = WorkflowError::VersionConflict {
            id: "7".into(),
            given: 1,
            current: 2,
        }
        .problem();
        assert_eq!(
            (p.kind, p.code),
            (ProblemKind::Conflict, "workflow_version_conflict")
        );
        let p = WorkflowError::Denied("no".into()).problem();
        assert_eq!(p.code, "forbidden_permission");
        let p = WorkflowError::Store(StoreError::Unavailable("down".into())).problem();
        assert_eq!(p.kind, ProblemKind::Unavailable);
    }
}
