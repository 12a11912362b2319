#![warn(missing_docs)]
//! Weir's BI catalog: the datasources a tenant registers (real databases reached through
//! drivers), the schemas and tables synced from them, folders, data models, and who may
//! see and query what (resource and row permissions).
//!
//! Like the other domain crates, this one has no web framework, no database and no SQL:
//! [`drivers::Drivers`] is the port to the datasources themselves (an adapter crate talks
//! to PostgreSQL, MySQL/MariaDB and SQLite), and the storage adapter implements the
//! repository port.

pub mod augmented;
pub mod catalog;
pub mod drivers;
pub mod jdbc;
pub mod query;
pub mod row_perms;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use catalog::{CatalogError, CatalogService};
