//! How a domain error presents itself to the API dialects.
//!
//! Each domain error says what kind of failure it is, a precise machine code and a message
//! fit for a client. Every dialect maps the kind to its own status and envelope, so the
//! four APIs agree on what went wrong while each keeps its own way of saying it.

use crate::store::StoreError;

/// What kind of failure a [`Problem`] is; each dialect maps it to its own status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// The request is malformed or breaks a rule (400).
    Invalid,
    /// No credentials, or bad ones (401).
    Unauthenticated,
    /// The caller may not do this (403).
    Forbidden,
    /// The object does not exist for this caller (404).
    NotFound,
    /// The request conflicts with existing data (the native API answers 400).
    Conflict,
    /// Too many attempts; try later (429).
    TooManyRequests,
    /// The server failed; the message is generic and the cause is logged (500).
    Internal,
    /// A dependency (the database) is unavailable (503).
    Unavailable,
}

/// A domain error as the API dialects present it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What kind of failure.
    pub kind: ProblemKind,
    /// Lower-case machine code, e.g. `data_no_found`, `name_repeated`.
    pub code: &'static str,
    /// What went wrong, fit for a client (never a secret, never an internal cause).
    pub message: String,
}

impl Problem {
    /// A problem of this kind, code and message.
    pub fn new(kind: ProblemKind, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            message: message.into(),
        }
    }

    /// A request that breaks a rule: `parameter_validation_failed`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ProblemKind::Invalid, "parameter_validation_failed", message)
    }

    /// An object the caller cannot see: `data_no_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ProblemKind::NotFound, "data_no_found", message)
    }

    /// A caller without the right: `forbidden_permission`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ProblemKind::Forbidden, "forbidden_permission", message)
    }
}

/// Implemented by every domain error.
pub trait AsProblem {
    /// How this error presents itself to clients.
    fn problem(&self) -> Problem;
}

impl AsProblem for StoreError {
    fn problem(&self) -> Problem {
        match self {
            StoreError::Unavailable(_) => Problem::new(
                ProblemKind::Unavailable,
                "server_error",
                "the database is unavailable, try again shortly",
            ),
            StoreError::Conflict(what) => Problem::new(
                ProblemKind::Conflict,
                "data_conflict",
                format!("the change conflicts with existing data ({what})"),
            ),
            StoreError::Internal(_) | StoreError::Rollback => Problem::new(
                ProblemKind::Internal,
                "server_error",
                "internal server error",
            ),
        }
    }
}
