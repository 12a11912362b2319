//! [`CatalogTx`] over one connection inside a transaction. Every query filters by the
//! tenant.

use diesel::prelude::*;
use weir_bi_catalog::catalog::{
    Assignee, AssigneeKind, CatalogTx, DataModel, Datasource, Grant, Resource, Root, RowPerm,
    Schema, Table,
};
use weir_kernel::{Id, StoreError, TenantId};

use super::rows::*;
use crate::backend::{DbConn, on_each_backend};
use crate::database::Pooled;
use crate::errors::{Found, OrStore};
use crate::filters::ids;
use crate::schema::*;

type R<T> = Result<T, StoreError>;

/// Ids per `IN (...)`: well under both backends' limits on bound parameters.
const CHUNK: usize = 1000;

/// Owns its pooled connection for the length of one transaction.
pub(super) struct CatalogRepo {
    pub conn: Pooled,
}

impl CatalogRepo {
    fn c(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

fn resources(rows: Vec<ResourceRow>) -> R<Vec<Resource>> {
    rows.into_iter().map(ResourceRow::into_resource).collect()
}

impl CatalogTx for CatalogRepo {
    fn insert_resource(&mut self, r: &Resource) -> R<()> {
        diesel::insert_into(bi_resources::table)
            .values(ResourceRow::from(r))
            .execute(self.c())
            .or_store()
            .map(drop)
    }

    fn insert_root_if_missing(&mut self, r: &Resource) -> R<()> {
        let row = ResourceRow::from(r);
        on_each_backend!(self.c(), |c| diesel::insert_into(bi_resources::table)
            .values(&row)
            .on_conflict_do_nothing()
            .execute(c))
        .or_store()
        .map(drop)
    }

    fn resource(&mut self, t: &TenantId, id: Id) -> R<Option<Resource>> {
        bi_resources::table
            .find(id.get())
            .filter(bi_resources::tenant_id.eq(t.as_str()))
            .select(ResourceRow::as_select())
            .first(self.c())
            .found(ResourceRow::into_resource)
    }

    fn root(&mut self, t: &TenantId, root: Root) -> R<Option<Resource>> {
        bi_resources::table
            .filter(bi_resources::tenant_id.eq(t.as_str()))
            .filter(bi_resources::root_key.eq(root.key()))
            .select(ResourceRow::as_select())
            .first(self.c())
            .found(ResourceRow::into_resource)
    }

    fn children(&mut self, t: &TenantId, parents: &[Id]) -> R<Vec<Resource>> {
        let mut out = Vec::new();
        for chunk in parents.chunks(CHUNK) {
            let rows = bi_resources::table
                .filter(bi_resources::tenant_id.eq(t.as_str()))
                .filter(bi_resources::parent_id.eq_any(ids(chunk)))
                .select(ResourceRow::as_select())
                .load(self.c())
                .or_store()?;
            out.extend(resources(rows)?);
        }
        Ok(out)
    }

    fn child_named(&mut self, t: &TenantId, parent: Id, name: &str) -> R<Option<Resource>> {
        bi_resources::table
            .filter(bi_resources::tenant_id.eq(t.as_str()))
            .filter(bi_resources::parent_id.eq(parent.get()))
            .filter(bi_resources::name.eq(name))
            .select(ResourceRow::as_select())
            .first(self.c())
            .found(ResourceRow::into_resource)
    }

    fn update_resource(&mut self, r: &Resource) -> R<()> {
        diesel::update(
            bi_resources::table
                .find(r.id.get())
                .filter(bi_resources::tenant_id.eq(r.tenant_id.as_str())),
        )
        .set((
            bi_resources::name.eq(&r.name),
            bi_resources::alias.eq(&r.alias),
            bi_resources::description.eq(&r.desc),
            bi_resources::updated_at.eq(r.updated_at),
        ))
        .execute(self.c())
        .or_store()
        .map(drop)
    }

    fn delete_resources(&mut self, t: &TenantId, wanted: &[Id]) -> R<usize> {
        // The rows beside the resources go explicitly (they would go with their resource
        // too: ON DELETE CASCADE), and so do descendants (listed in `wanted`).
        let mut deleted = 0;
        for chunk in wanted.chunks(CHUNK) {
            let chunk = ids(chunk);
            let c = self.c();
            // One statement per table beside the resources, each scoped to the tenant.
            macro_rules! delete_beside {
                ($table:ident, $key:ident) => {
                    diesel::delete(
                        $table::table
                            .filter($table::tenant_id.eq(t.as_str()))
                            .filter($table::$key.eq_any(&chunk)),
                    )
                    .execute(c)
                    .or_store()?
                };
            }
            delete_beside!(bi_grants, resource_id);
            delete_beside!(bi_row_perms, table_id);
            delete_beside!(bi_models, resource_id);
            delete_beside!(bi_tables, resource_id);
            delete_beside!(bi_schemas, resource_id);
            delete_beside!(bi_datasources, resource_id);
            deleted += diesel::delete(
                bi_resources::table
                    .filter(bi_resources::tenant_id.eq(t.as_str()))
                    .filter(bi_resources::id.eq_any(&chunk)),
            )
            .execute(c)
            .or_store()?;
        }
        Ok(deleted)
    }

    fn insert_datasource(&mut self, d: &Datasource) -> R<()> {
        diesel::insert_into(bi_datasources::table)
            .values(DatasourceRow::from(d))
            .execute(self.c())
            .or_store()
            .map(drop)
    }

    fn datasource(&mut self, t: &TenantId, id: Id) -> R<Option<Datasource>> {
        bi_datasources::table
            .find(id.get())
            .filter(bi_datasources::tenant_id.eq(t.as_str()))
            .select(DatasourceRow::as_select())
            .first(self.c())
            .found(DatasourceRow::into_datasource)
    }

    fn update_datasource(&mut self, d: &Datasource) -> R<()> {
        diesel::update(
            bi_datasources::table
                .find(d.id.get())
                .filter(bi_datasources::tenant_id.eq(d.tenant_id.as_str())),
        )
        .set(DatasourceRow::from(d))
        .execute(self.c())
        .or_store()
        .map(drop)
    }

    fn insert_schema(&mut self, s: &Schema) -> R<()> {
        diesel::insert_into(bi_schemas::table)
            .values(SchemaRow::from(s))
            .execute(self.c())
            .or_store()
            .map(drop)
    }

    fn schema(&mut self, t: &TenantId, id: Id) -> R<Option<Schema>> {
        bi_schemas::table
            .find(id.get())
            .filter(bi_schemas::tenant_id.eq(t.as_str()))
            .select(SchemaRow::as_select())
            .first(self.c())
            .found(SchemaRow::into_schema)
    }

    fn schema_named(
        &mut self,
        t: &TenantId,
        datasource: Id,
        schema_name: &str,
    ) -> R<Option<Schema>> {
        bi_schemas::table
            .filter(bi_schemas::tenant_id.eq(t.as_str()))
            .filter(bi_schemas::datasource_id.eq(datasource.get()))
            .filter(bi_schemas::schema_name.eq(schema_name))
            .select(SchemaRow::as_select())
            .first(self.c())
            .found(SchemaRow::into_schema)
    }

    fn update_schema(&mut self, s: &Schema) -> R<()> {
        diesel::update(
            bi_schemas::table
                .find(s.id.get())
                .filter(bi_schemas::tenant_id.eq(s.tenant_id.as_str())),
        )
        .set((
            bi_schemas::catalog.eq(&s.catalog),
            bi_schemas::sync_all.eq(s.sync_all),
            bi_schemas::synced_at.eq(s.synced_at),
        ))
        .execute(self.c())
        .or_store()
        .map(drop)
    }

    fn insert_table(&mut self, table: &Table) -> R<()> {
        diesel::insert_into(bi_tables::table)
            .values(TableRow::new(table)?)
            .execute(self.c())
            .or_store()
            .map(drop)
    }

    fn table(&mut self, t: &TenantId, id: Id) -> R<Option<Table>> {
        bi_tables::table
            .find(id.get())
            .filter(bi_tables::tenant_id.eq(t.as_str()))
            .select(TableRow::as_select())
            .first(self.c())
            .found(TableRow::into_table)
    }

    fn tables_of(&mut self, t: &TenantId, schema: Id) -> R<Vec<(Resource, Table)>> {
        let rows: Vec<(ResourceRow, TableRow)> = bi_tables::table
            .inner_join(bi_resources::table)
            .filter(bi_tables::tenant_id.eq(t.as_str()))
            .filter(bi_tables::schema_id.eq(schema.get()))
            .select((ResourceRow::as_select(), TableRow::as_select()))
            .load(self.c())
            .or_store()?;
        rows.into_iter()
            .map(|(r, table)| Ok((r.into_resource()?, table.into_table()?)))
            .collect()
    }

    fn update_table(&mut self, table: &Table) -> R<()> {
        diesel::update(
            bi_tables::table
                .find(table.id.get())
                .filter(bi_tables::tenant_id.eq(table.tenant_id.as_str())),
        )
        .set((
            bi_tables::table_kind.eq(&table.table_kind),
            bi_tables::columns_json.eq(columns_json(&table.columns)?),
            bi_tables::synced_at.eq(table.synced_at),
        ))
        .execute(self.c())
        .or_store()
        .map(drop)
    }

    fn insert_model(&mut self, m: &DataModel) -> R<()> {
        diesel::insert_into(bi_models::table)
            .values(ModelRow::new(m)?)
            .execute(self.c())
            .or_store()
            .map(drop)
    }

    fn model(&mut self, t: &TenantId, id: Id) -> R<Option<DataModel>> {
        bi_models::table
            .find(id.get())
            .filter(bi_models::tenant_id.eq(t.as_str()))
            .select(ModelRow::as_select())
            .first(self.c())
            .found(ModelRow::into_model)
    }

    fn lock_resource(&mut self, t: &TenantId, id: Id) -> R<()> {
        match self.c() {
            DbConn::Pg(c) => bi_resources::table
                .find(id.get())
                .filter(bi_resources::tenant_id.eq(t.as_str()))
                .select(bi_resources::id)
                .for_update()
                .first::<i64>(c)
                .optional()
                .or_store()
                .map(drop),
            // BEGIN IMMEDIATE: one writer at a time already.
            DbConn::Sqlite(_) => Ok(()),
        }
    }

    fn row_perms(&mut self, t: &TenantId, table: Id) -> R<Vec<RowPerm>> {
        bi_row_perms::table
            .filter(bi_row_perms::tenant_id.eq(t.as_str()))
            .filter(bi_row_perms::table_id.eq(table.get()))
            .order((bi_row_perms::position.asc(), bi_row_perms::item_name.asc()))
            .select(RowPermRow::as_select())
            .load(self.c())
            .or_store()?
            .into_iter()
            .map(RowPermRow::into_row_perm)
            .collect()
    }

    fn replace_row_perms(&mut self, t: &TenantId, table: Id, items: &[RowPerm]) -> R<()> {
        let rows = items
            .iter()
            .enumerate()
            .map(|(i, p)| RowPermRow::new(p, i))
            .collect::<R<Vec<_>>>()?;
        let c = self.c();
        diesel::delete(
            bi_row_perms::table
                .filter(bi_row_perms::tenant_id.eq(t.as_str()))
                .filter(bi_row_perms::table_id.eq(table.get())),
        )
        .execute(c)
        .or_store()?;
        // One statement per row: SQLite's common backend has no multi-row insert here.
        for row in &rows {
            diesel::insert_into(bi_row_perms::table)
                .values(row)
                .execute(c)
                .or_store()?;
        }
        Ok(())
    }

    fn grants(&mut self, t: &TenantId, resource: Id) -> R<Vec<Grant>> {
        bi_grants::table
            .filter(bi_grants::tenant_id.eq(t.as_str()))
            .filter(bi_grants::resource_id.eq(resource.get()))
            .select(GrantRow::as_select())
            .load(self.c())
            .or_store()?
            .into_iter()
            .map(GrantRow::into_grant)
            .collect()
    }

    fn grants_to(&mut self, t: &TenantId, assignees: &[Assignee]) -> R<Vec<Grant>> {
        let mut out = Vec::new();
        for kind in [AssigneeKind::User, AssigneeKind::Group, AssigneeKind::Role] {
            let wanted: Vec<&str> = assignees
                .iter()
                .filter(|a| a.kind == kind)
                .map(|a| a.id.as_str())
                .collect();
            for chunk in wanted.chunks(CHUNK) {
                let rows = bi_grants::table
                    .filter(bi_grants::tenant_id.eq(t.as_str()))
                    .filter(bi_grants::assignee_kind.eq(kind.as_str()))
                    .filter(bi_grants::assignee_id.eq_any(chunk))
                    .select(GrantRow::as_select())
                    .load(self.c())
                    .or_store()?;
                for row in rows {
                    out.push(row.into_grant()?);
                }
            }
        }
        Ok(out)
    }

    fn replace_grants(&mut self, t: &TenantId, resource: Id, grants: &[Grant]) -> R<()> {
        let rows: Vec<GrantRow> = grants.iter().map(GrantRow::from).collect();
        let c = self.c();
        diesel::delete(
            bi_grants::table
                .filter(bi_grants::tenant_id.eq(t.as_str()))
                .filter(bi_grants::resource_id.eq(resource.get())),
        )
        .execute(c)
        .or_store()?;
        // One statement per row, as for row permissions.
        for row in &rows {
            diesel::insert_into(bi_grants::table)
                .values(row)
                .execute(c)
                .or_store()?;
        }
        Ok(())
    }
}
