//! Why an IoT use-case refuses; each presents itself as a [`Problem`].

use weir_kernel::{AsProblem, PageRequestError, Problem, ProblemKind, StoreError};

use crate::integration::{IntegrationError, ParamError};
use crate::value::ValueError;

/// Why an IoT use-case refused, or failed.
#[derive(Debug, thiserror::Error)]
pub enum IotError {
    /// Unknown, of another tenant, or outside the caller's grants: all look the same.
    #[error("{what} {id} not found")]
    NotFound {
        /// What was looked for (`device`, `entity`, `integration`, `dashboard`).
        what: &'static str,
        /// The id or key the request named.
        id: String,
    },
    /// The integration (named) offers no way to add devices by hand.
    #[error("integration `{0}` cannot add devices")]
    CannotAddDevices(String),
    /// The integration (named) offers no way to delete devices by hand.
    #[error("integration `{0}` cannot delete devices")]
    CannotDeleteDevices(String),
    /// Adding a device whose identifier its integration already has in the tenant.
    #[error("integration `{integration}` already has a device `{identifier}`")]
    DeviceExists {
        /// The integration's id.
        integration: String,
        /// The identifier asked for.
        identifier: String,
    },
    /// Creating or renaming a dashboard to a name another dashboard of the tenant has.
    #[error("a dashboard named `{0}` already exists")]
    DashboardExists(String),
    /// Creating an entity whose key the tenant already has.
    #[error("an entity with key `{0}` already exists")]
    EntityExists(String),
    /// A value written to an entity does not fit its definition.
    #[error("{key}: {error}")]
    Value {
        /// The entity's key.
        key: String,
        /// What is wrong with the value.
        error: ValueError,
    },
    /// A write to an entity that this kind of write may not change (a read-only property,
    /// a service called as a property, ...).
    #[error("{key}: the entity is not writable ({reason})")]
    NotWritable {
        /// The entity's key.
        key: String,
        /// Why, in a few words.
        reason: &'static str,
    },
    /// A parameter given to an integration (its settings, a device's) is wrong.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// A request field breaks a rule.
    #[error("{field} {message}")]
    Invalid {
        /// The field, as the API names it.
        field: String,
        /// What is wrong, phrased to follow the field's name.
        message: String,
    },
    /// The caller lacks the function code the use-case needs; the message names it.
    #[error("{0}")]
    Denied(String),
    /// A device reported without a token, or with one no device has (any more).
    #[error("the device token is missing, unknown or replaced")]
    BadDeviceToken,
    /// The integration refused the call, or is unavailable.
    #[error(transparent)]
    Integration(IntegrationError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IotError {
    /// [`IotError::Invalid`] of `field` for `message` (`must not be empty`).
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// [`IotError::NotFound`] of a `what` (`device`) named `id`.
    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        Self::NotFound {
            what,
            id: id.to_string(),
        }
    }
}

impl From<PageRequestError> for IotError {
    fn from(e: PageRequestError) -> Self {
        match e {
            PageRequestError::Keyword(k) => Self::invalid("keyword", k.to_string()),
            e => Self::invalid("page", e.to_string()),
        }
    }
}

impl From<IntegrationError> for IotError {
    fn from(e: IntegrationError) -> Self {
        match e {
            IntegrationError::Param(p) => Self::Param(p),
            other => Self::Integration(other),
        }
    }
}

impl AsProblem for IotError {
    fn problem(&self) -> Problem {
        let msg = self.to_string();
        match self {
            Self::NotFound { .. } => Problem::not_found(msg),
            Self::CannotAddDevices(_) | Self::CannotDeleteDevices(_) => {
                Problem::new(ProblemKind::Invalid, "integration_not_support", msg)
            }
            Self::DeviceExists { .. } => {
                Problem::new(ProblemKind::Conflict, "device_identifier_exist", msg)
            }
            Self::DashboardExists(_) => {
                Problem::new(ProblemKind::Conflict, "dashboard_name_exist", msg)
            }
            Self::EntityExists(_) => Problem::new(ProblemKind::Conflict, "entity_key_exist", msg),
            Self::Value { error, .. } => Problem::new(ProblemKind::Invalid, error.code(), msg),
            Self::Param(p) => match &p.error {
                crate::integration::ParamProblem::Value(v) => {
                    Problem::new(ProblemKind::Invalid, v.code(), msg)
                }
                crate::integration::ParamProblem::Unknown
                | crate::integration::ParamProblem::Repeated => Problem::invalid(msg),
            },
            Self::NotWritable { .. } => {
                Problem::new(ProblemKind::Invalid, "entity_not_writable", msg)
            }
            Self::Invalid { .. } => Problem::invalid(msg),
            Self::Denied(_) => Problem::forbidden(msg),
            Self::BadDeviceToken => {
                Problem::new(ProblemKind::Unauthenticated, "authentication_failed", msg)
            }
            Self::Integration(IntegrationError::Refused(_)) => {
                Problem::new(ProblemKind::Invalid, "integration_refused", msg)
            }
            Self::Integration(_) => Problem::new(ProblemKind::Unavailable, "server_error", msg),
            Self::Store(e) => e.problem(),
        }
    }
}
