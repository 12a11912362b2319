//! The catalog tree (Smartbi 2.1–2.8, 2.10): one tree of typed resources per tenant —
//! folders, datasources, schemas, tables, data models — under two fixed root folders,
//! `DATA_SOURCES` and `PUBLIC`; datasources with their passwords sealed at rest; schemas
//! and tables read from the datasources through the [`crate::drivers::Drivers`] port, with
//! a report of what changed; row permissions of tables; data models and their queries.
//!
//! [`CatalogService`] holds the use-cases, on behalf of a [`Caller`]; storage implements
//! [`CatalogTx`]. See docs/bi-catalog.md.

pub mod caller;
pub mod dataperms;
pub mod datasources;
pub mod errors;
pub mod grants;
pub mod models;
pub mod ports;
pub mod resources;
pub mod seal;
pub mod service;
pub mod sync;
pub mod tables;

pub use caller::Caller;
pub use dataperms::{RejectedItem, RowPerm};
pub use datasources::{ConnectionFields, DatasourceChanges, NewDatasource, TestTarget};
pub use errors::CatalogError;
pub use grants::{Assignee, AssigneeKind, Auth, Grant, GrantRule, GrantSet, Scope};
pub use models::{DataModel, ExtractType, ModelView, NewModel, QueryAnswer, StoreType};
pub use ports::{CatalogStore, CatalogTx};
pub use resources::{
    ChildEntry, Datasource, DatasourceSettings, DatasourceView, PASSWORD_MASK, Resource,
    ResourceInfo, ResourceRef, ResourceType, Root, Schema, SyncReport, Table, TableView,
};
pub use seal::{AesGcmSealer, SealError, Sealer};
pub use service::{CatalogPorts, CatalogService, CatalogSettings, ChildQuery, Describe, NewFolder};
pub use sync::NewSchema;
pub use tables::AddTables;
