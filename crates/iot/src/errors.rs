//! Why an IoT use-case refuses; each presents itself as a [`Problem`].

use weir_kernel::{AsProblem, PageRequestError, Problem, ProblemKind, StoreError};

use crate::integration::{IntegrationError, ParamError};
use crate::value::ValueError;

#[derive(Debug, thiserror::Error)]
pub enum IotError {
    /// Unknown, of another tenant, or outside the caller's grants: all look the same.
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("integration `{0}` cannot add devices")]
    CannotAddDevices(String),
    #[error("integration `{0}` cannot delete devices")]
    CannotDeleteDevices(String),
    #[error("integration `{integration}` already has a device `{identifier}`")]
    DeviceExists {
        integration: String,
        identifier: String,
    },
    #[error("a dashboard named `{0}` already exists")]
    DashboardExists(String),
    #[error("an entity with key `{0}` already exists")]
    EntityExists(String),
    #[error("{key}: {error}")]
    Value { key: String, error: ValueError },
    #[error("{key}: the entity is not writable ({reason})")]
    NotWritable { key: String, reason: &'static str },
    #[error(transparent)]
    Param(#[from] ParamError),
    #[error("{field} {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Denied(String),
    #[error("the device token is missing, unknown or replaced")]
    BadDeviceToken,
    #[error(transparent)]
    Integration(IntegrationError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IotError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

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
