//! A refused request, before any dialect has said it: what kind of refusal it is and the
//! domain's own code (`role_built_in`, `data_no_found`...). Each dialect turns a
//! [`Refusal`] into its own envelope from the kind and the code, never from an HTTP status,
//! so a precise domain code survives into every dialect that has a word for it.

use std::fmt::Display;

use weir_kernel::{AsProblem, Problem, ProblemKind};

use crate::request_id;

/// The native codes of the refusals the HTTP layer makes itself (the domain's codes come
/// with its problems).
pub mod codes {
    /// The body is not JSON at all, or could not be read.
    pub const SYNTAX: &str = "parameter_syntax_error";
    /// A value of the request breaks a rule (a field of the wrong type, text holding NUL).
    pub const VALIDATION: &str = "parameter_validation_failed";
    /// The body is over `http.max_body_bytes`.
    pub const TOO_LARGE: &str = "data_too_large";
    /// The access token is missing, malformed, expired or revoked.
    pub const AUTHENTICATION: &str = "authentication_failed";
    pub const SERVER_ERROR: &str = "server_error";
}

/// What kind of refusal: the domain's [`ProblemKind`]s, and two of the HTTP layer's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// The request cannot be read: the body is not JSON, a field has the wrong type, text
    /// holds NUL. (Dialects that tell this from a broken rule, ThingsKit's 31, need it.)
    Malformed,
    /// The body is over the configured limit.
    TooLarge,
    Invalid,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    TooManyRequests,
    Internal,
    Unavailable,
}

impl From<ProblemKind> for RefusalKind {
    fn from(kind: ProblemKind) -> Self {
        match kind {
            ProblemKind::Invalid => Self::Invalid,
            ProblemKind::Unauthenticated => Self::Unauthenticated,
            ProblemKind::Forbidden => Self::Forbidden,
            ProblemKind::NotFound => Self::NotFound,
            ProblemKind::Conflict => Self::Conflict,
            ProblemKind::TooManyRequests => Self::TooManyRequests,
            ProblemKind::Internal => Self::Internal,
            ProblemKind::Unavailable => Self::Unavailable,
        }
    }
}

/// A refused request, in no dialect yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub kind: RefusalKind,
    /// The domain's code (lower case, as the native dialect answers it).
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn new(kind: RefusalKind, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            message: message.into(),
        }
    }

    /// A request that cannot be read, naming what is wrong.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(RefusalKind::Malformed, codes::VALIDATION, message)
    }

    /// A body that is not JSON, or could not be read at all.
    pub fn syntax(message: impl Into<String>) -> Self {
        Self::new(RefusalKind::Malformed, codes::SYNTAX, message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(RefusalKind::Unauthenticated, codes::AUTHENTICATION, message)
    }

    pub fn internal() -> Self {
        Self::new(
            RefusalKind::Internal,
            codes::SERVER_ERROR,
            "internal server error",
        )
    }

    /// The refusal of a domain error, logging the cause of a server-side failure (the client
    /// only ever sees the generic message).
    pub fn from_domain<E: AsProblem + Display>(e: &E) -> Self {
        Self::from(e.problem()).logged(e)
    }

    /// A failure of the server itself (a panicked or cancelled task), logged.
    pub fn failed(cause: impl Display) -> Self {
        Self::internal().logged(cause)
    }

    /// Whether the server, not the request, is at fault (a 5xx in the dialects with
    /// statuses).
    pub fn is_server_side(&self) -> bool {
        matches!(self.kind, RefusalKind::Internal | RefusalKind::Unavailable)
    }

    /// The one place a server-side refusal is logged, with the request id and its cause.
    fn logged(self, cause: impl Display) -> Self {
        if self.is_server_side() {
            tracing::error!(request_id = %request_id::current(), error = %cause, "request failed");
        }
        self
    }
}

impl From<Problem> for Refusal {
    fn from(p: Problem) -> Self {
        Self::new(p.kind.into(), p.code, p.message)
    }
}

impl Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}
