#![warn(missing_docs)]
//! The shared kernel of Weir's domains: what every domain crate speaks in.
//!
//! Ids are 64-bit and time-ordered, shown to clients as strings; times are epoch
//! milliseconds; every tenant-owned object carries a [`TenantId`]; storage is reached
//! through [`store::Transactions`]; errors present themselves as a [`Problem`].

pub mod access;
pub mod clock;
pub mod id;
pub mod paging;
pub mod problem;
pub mod store;
pub mod tenant;
pub mod text;

pub use clock::{Clock, Millis, SystemClock};
pub use id::{Id, IdGenerator};
pub use paging::{Direction, Page, PageRequest, PageRequestError, SearchQuery, Sort};
pub use problem::{AsProblem, Problem, ProblemKind};
pub use store::{StoreError, Transactions, TxMode};
pub use tenant::TenantId;
