//! Diesel and pool errors, turned into the domain's [`StoreError`]: no driver type leaves
//! this crate.

use diesel::OptionalExtension;
use diesel::result::{DatabaseErrorKind, Error};
use weir_kernel::{StoreError, TenantId};

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

/// The row a lookup may not find, read into its domain type: `.first(c).found(Row::into_x)`,
/// the one spelling of "none, or the converted row, or why not" for every repository.
pub(crate) trait Found<Row> {
    fn found<T>(
        self,
        into: impl FnOnce(Row) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError>;
}

impl<Row> Found<Row> for Result<Row, Error> {
    fn found<T>(
        self,
        into: impl FnOnce(Row) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        self.optional().or_store()?.map(into).transpose()
    }
}

/// A tenant id read back from a row (it was valid when written).
pub(crate) fn tenant_id(raw: String) -> Result<TenantId, StoreError> {
    TenantId::parse(&raw)
        .map_err(|_| StoreError::Internal(format!("stored tenant id `{raw}` is invalid")))
}
