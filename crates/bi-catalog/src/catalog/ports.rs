//! What the catalog use-cases need from storage. The storage adapter implements
//! [`CatalogTx`]; a unit of work runs in one transaction through [`CatalogStore`].

use weir_kernel::{Id, StoreError, TenantId, Transactions};

use super::dataperms::RowPerm;
use super::grants::{Assignee, Grant};
use super::models::DataModel;
use super::resources::{Datasource, Resource, Root, Schema, Table};

type R<T> = Result<T, StoreError>;

/// The catalog repository inside one transaction. Every method filters by the tenant.
pub trait CatalogTx {
    /// Adds a resource; a sibling of the same name is a [`StoreError::Conflict`].
    fn insert_resource(&mut self, r: &Resource) -> R<()>;
    /// Adds a root folder unless the tenant has that root already (a race between two
    /// first uses stores one).
    fn insert_root_if_missing(&mut self, r: &Resource) -> R<()>;
    /// The resource with this id, of any type, in the tenant.
    fn resource(&mut self, t: &TenantId, id: Id) -> R<Option<Resource>>;
    /// The tenant's root folder `root`, if it was made.
    fn root(&mut self, t: &TenantId, root: Root) -> R<Option<Resource>>;
    /// The children of all of `parents`, in no particular order.
    fn children(&mut self, t: &TenantId, parents: &[Id]) -> R<Vec<Resource>>;
    /// The child of `parent` named exactly `name`.
    fn child_named(&mut self, t: &TenantId, parent: Id, name: &str) -> R<Option<Resource>>;
    /// Writes name, alias, desc and updated_at.
    fn update_resource(&mut self, r: &Resource) -> R<()>;
    /// Deletes these resources and what they keep beside them (a datasource's settings, a
    /// schema's, a table's columns and row permissions, a data model's definition, the
    /// grants on them). Their descendants must be among `ids`.
    fn delete_resources(&mut self, t: &TenantId, ids: &[Id]) -> R<usize>;

    /// Adds a datasource's settings beside its resource.
    fn insert_datasource(&mut self, d: &Datasource) -> R<()>;
    /// The settings of the datasource whose resource has this id.
    fn datasource(&mut self, t: &TenantId, id: Id) -> R<Option<Datasource>>;
    /// Writes the settings and the sealed password.
    fn update_datasource(&mut self, d: &Datasource) -> R<()>;

    /// Adds a schema's row beside its resource.
    fn insert_schema(&mut self, s: &Schema) -> R<()>;
    /// The row of the schema whose resource has this id.
    fn schema(&mut self, t: &TenantId, id: Id) -> R<Option<Schema>>;
    /// The schema of a datasource by its name in the datasource.
    fn schema_named(
        &mut self,
        t: &TenantId,
        datasource: Id,
        schema_name: &str,
    ) -> R<Option<Schema>>;
    /// Writes catalog, sync_all and synced_at.
    fn update_schema(&mut self, s: &Schema) -> R<()>;

    /// Adds a table's row (kind and columns) beside its resource.
    fn insert_table(&mut self, table: &Table) -> R<()>;
    /// The row of the table whose resource has this id.
    fn table(&mut self, t: &TenantId, id: Id) -> R<Option<Table>>;
    /// The tables of a schema with their resources (names), in no particular order.
    fn tables_of(&mut self, t: &TenantId, schema: Id) -> R<Vec<(Resource, Table)>>;
    /// Writes the kind, the columns and synced_at.
    fn update_table(&mut self, table: &Table) -> R<()>;

    /// Adds a data model's row beside its resource.
    fn insert_model(&mut self, m: &DataModel) -> R<()>;
    /// The row of the data model whose resource has this id.
    fn model(&mut self, t: &TenantId, id: Id) -> R<Option<DataModel>>;

    /// Holds other writers that lock the same resource off until this transaction ends
    /// (on PostgreSQL; SQLite's write transactions already run one at a time), so a
    /// read-then-write of what hangs on it (row permissions) sees the last one committed.
    fn lock_resource(&mut self, t: &TenantId, id: Id) -> R<()>;
    /// A table's row permission items, in their order.
    fn row_perms(&mut self, t: &TenantId, table: Id) -> R<Vec<RowPerm>>;
    /// Replaces a table's row permission items with these, in this order.
    fn replace_row_perms(&mut self, t: &TenantId, table: Id, items: &[RowPerm]) -> R<()>;

    /// A resource's grants, in no particular order.
    fn grants(&mut self, t: &TenantId, resource: Id) -> R<Vec<Grant>>;
    /// Every grant of the tenant to any of these assignees, in no particular order.
    fn grants_to(&mut self, t: &TenantId, assignees: &[Assignee]) -> R<Vec<Grant>>;
    /// Replaces a resource's grants with these (one per assignee).
    fn replace_grants(&mut self, t: &TenantId, resource: Id, grants: &[Grant]) -> R<()>;
}

/// Where the catalog lives.
pub type CatalogStore = dyn Transactions<dyn CatalogTx>;
