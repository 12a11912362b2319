//! Why a catalog use-case refuses; each presents itself as a [`Problem`].

use weir_kernel::{AsProblem, Problem, ProblemKind, StoreError};

use super::grants::Auth;
use crate::augmented::ModelProblem;
use crate::drivers::DriverError;

/// Why a catalog use-case refused or failed; the message is for the client, except where
/// a variant says otherwise.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A field is missing, malformed or breaks a rule. `field` is the parameter's name as
    /// the Smartbi API spells it (`url`, `tableList[2]`, `[1].schemaName`).
    #[error("{field}: {message}")]
    Invalid {
        /// The parameter at fault, as the API spells it.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// Several fields at fault at once (a data model, a query of one): every one named,
    /// `measures[1].name: column x not found in view o (shop.orders)`, joined with `; `.
    #[error("{}", join(.0))]
    Fields(Vec<ModelProblem>),
    /// Something stored no longer fits the tables as last synced: a data model naming a
    /// column that is gone, a row permission on a dropped column. The message names it and
    /// what is wrong.
    #[error("{0}")]
    Outdated(String),
    /// Unknown, or of another tenant: both look the same.
    #[error("resource {id} not found")]
    NotFound {
        /// The resource's id as the API shows it (a root's key or a number).
        id: String,
    },
    /// The caller sees the resource but does not hold the level the use-case needs.
    #[error("{kind} {id}: this needs the {need} permission on it, you hold {held}")]
    Denied {
        /// The resource's id as the API shows it.
        id: String,
        /// What the resource is, as a message calls it (`folder`, `data model`...).
        kind: &'static str,
        /// The level the use-case needs.
        need: Auth,
        /// The level the caller holds, lower than `need`.
        held: Auth,
    },
    /// A sibling already has the name.
    #[error("{field}: {message}")]
    Duplicate {
        /// The parameter holding the name (`name`, `[0].schemaName`).
        field: String,
        /// Which parent already holds what of that name.
        message: String,
    },
    /// The datasource's `driverType` is one Weir stores but cannot reach.
    #[error("{0}")]
    DriverNotAvailable(DriverError),
    /// The datasource was reached (or tried) and failed; the message names it.
    #[error("datasource {id} ({name}): {error}")]
    Datasource {
        /// The datasource's id as the API shows it; `(unsaved)` for a test of settings not
        /// saved.
        id: String,
        /// The datasource's name; its URL for a test of settings not saved.
        name: String,
        /// What the driver said.
        error: DriverError,
    },
    /// A password could not be sealed or opened (a wrong or changed `[bi] secret_key`).
    /// The cause is for the log only.
    #[error("stored secret could not be used: {0}")]
    Secret(String),
    /// The catalog's own storage failed, or holds something inconsistent (a resource
    /// without its row).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CatalogError {
    /// A [`CatalogError::Invalid`] refusal of `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A [`CatalogError::NotFound`] refusal of the resource `id` names.
    pub fn not_found(id: impl ToString) -> Self {
        Self::NotFound { id: id.to_string() }
    }

    /// The problems of a [`CatalogError::Fields`] refusal.
    pub fn problems(&self) -> Option<&[ModelProblem]> {
        match self {
            Self::Fields(p) => Some(p),
            _ => None,
        }
    }

    /// The field the refusal names, for the refusals that name one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } | Self::Duplicate { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl AsProblem for CatalogError {
    fn problem(&self) -> Problem {
        let msg = self.to_string();
        match self {
            Self::Invalid { .. } | Self::Fields(_) | Self::DriverNotAvailable(_) => {
                Problem::invalid(msg)
            }
            // What the client stored earlier no longer fits: theirs to fix (re-create the
            // model, fix the row permission), not a server failure.
            Self::Outdated(_) => Problem::new(ProblemKind::Conflict, "bi_model_outdated", msg),
            Self::NotFound { .. } => Problem::not_found(msg),
            Self::Denied { .. } => Problem::forbidden(msg),
            Self::Duplicate { .. } => Problem::new(ProblemKind::Conflict, "name_repeated", msg),
            // Weir does not go there (the outbound policy, the SQLite folder, its own
            // storage): the operator's rule, which the message names.
            Self::Datasource {
                error: DriverError::Refused(_),
                ..
            } => Problem::new(ProblemKind::Forbidden, "bi_datasource_refused", msg),
            // The datasource is the client's, not Weir's: what it said is theirs to read,
            // and Weir itself is fine, so this is no 5xx.
            Self::Datasource { .. } => {
                Problem::new(ProblemKind::Invalid, "bi_datasource_failed", msg)
            }
            Self::Secret(_) => Problem::new(
                ProblemKind::Internal,
                "server_error",
                "internal server error",
            ),
            Self::Store(e) => e.problem(),
        }
    }
}

fn join(problems: &[ModelProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_to_kinds_and_keep_their_messages() {
        let p = CatalogError::invalid("url", "is required").problem();
        assert_eq!(
            (p.kind, p.code, p.message.as_str()),
            (
                ProblemKind::Invalid,
                "parameter_validation_failed",
                "url: is required"
            )
        );
        let p = CatalogError::not_found(123).problem();
        assert_eq!(
            (p.kind, p.message.as_str()),
            (ProblemKind::NotFound, "resource 123 not found")
        );
        let p =
            CatalogError::DriverNotAvailable(DriverError::NotAvailable("ORACLE".into())).problem();
        assert!(
            p.message.starts_with("driver not available:"),
            "{}",
            p.message
        );
        let p = CatalogError::Secret("tag mismatch".into()).problem();
        assert_eq!(p.kind, ProblemKind::Internal);
        assert!(!p.message.contains("tag"));
        let p = CatalogError::Datasource {
            id: "7".into(),
            name: "shop".into(),
            error: DriverError::Connect("refused".into()),
        }
        .problem();
        assert_eq!(p.message, "datasource 7 (shop): cannot connect: refused");
        assert_eq!(p.code, "bi_datasource_failed");
        let p = CatalogError::Datasource {
            id: "7".into(),
            name: "shop".into(),
            error: DriverError::Refused("x is Weir's own database".into()),
        }
        .problem();
        assert_eq!(
            (p.kind, p.code, p.message.as_str()),
            (
                ProblemKind::Forbidden,
                "bi_datasource_refused",
                "datasource 7 (shop): x is Weir's own database"
            )
        );
    }
}
