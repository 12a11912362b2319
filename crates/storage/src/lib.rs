//! Weir's storage adapter: one diesel code base over PostgreSQL and SQLite.
//!
//! - [`Database`] opens either backend from a URL, runs the embedded migrations and
//!   hands out pooled connections; every unit of work runs in one transaction, on the
//!   caller's (blocking) thread.
//! - [`schema`] is the one schema, in types both backends share.
//! - Each domain's repository lives in a module named after it ([`identity`], [`iot`], [`workflow`], [`bi`]).

mod backend;
pub mod bi;
mod database;
mod errors;
mod filters;
pub mod identity;
pub mod iot;
pub mod schema;
#[cfg(feature = "testing")]
pub mod testing;
pub mod workflow;

pub use backend::{Backend, DbConn};
pub use database::{Database, DatabaseOptions};
