//! Diesel and pool errors, turned into the domain's [`StoreError`]: no driver type leaves
//! this crate.

use diesel::result::{DatabaseErrorKind, Error};
use weir_kernel::StoreError;

pub(crate) fn store_error(e: Error) -> StoreError {
    match e {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => StoreError::Conflict(
            info.constraint_name()
                .map(str::to_owned)
                .unwrap_or_else(|| info.message().to_owned()),
        ),
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
            StoreError::Unavailable(info.message().to_owned())
        }
        Error::DatabaseError(_, info)
            if info.message().contains("database is locked") || info.message().contains("busy") =>
        {
            StoreError::Unavailable(info.message().to_owned())
        }
        other => StoreError::Internal(other.to_string()),
    }
}

pub(crate) fn pool_error(e: diesel::r2d2::PoolError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// `?` on diesel results inside repository code.
pub(crate) trait OrStore<T> {
    fn or_store(self) -> Result<T, StoreError>;
}

impl<T> OrStore<T> for Result<T, Error> {
    fn or_store(self) -> Result<T, StoreError> {
        self.map_err(store_error)
    }
}
