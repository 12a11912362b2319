//! Schemas and tables (Smartbi 2.2, 2.3), read from the datasources.
//!
//! Every use-case here reads the datasource first, outside any transaction (it is a
//! network call), and then applies what it read in one write transaction, comparing it
//! with what is stored at that moment. What changed is answered as a [`SyncReport`].

use std::collections::{BTreeMap, BTreeSet};

use weir_kernel::store::{read, write};
use weir_kernel::{Id, TenantId};

use super::caller::Caller;
use super::errors::CatalogError;
use super::grants::{Auth, open_as};
use super::ports::CatalogTx;
use super::resources::{Resource, ResourceRef, ResourceType, Schema, SyncReport, Table, TableView};
use super::service::{
    CatalogService, NAME_MAX, check_free, db_name, optional_text, resolve_as, subtree, user_name,
};
use crate::drivers::{ColumnInfo, ConnectionSpec, DriverError};

/// `schema/create`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSchema {
    pub datasource: ResourceRef,
    /// The schema's name in the datasource.
    pub name: String,
    pub catalog: Option<String>,
    /// Read the schema's tables now, and mirror every table on each later sync (the
    /// document's default: true).
    pub need_sync: bool,
}

/// One item of `table/create`: tables of one schema to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddTables {
    pub datasource: ResourceRef,
    /// The schema's name in the datasource; its resource is made when missing.
    pub schema_name: String,
    /// Re-read the columns of tables already there (else they are skipped).
    pub replace: bool,
    pub catalog: Option<String>,
    pub tables: Vec<String>,
}

/// What a datasource has of one schema, as far as a use-case needs.
struct Fetched {
    /// Every table the schema has now.
    present: BTreeSet<String>,
    /// The tables read in full: kind and columns.
    read: BTreeMap<String, (String, Vec<ColumnInfo>)>,
}

/// Which tables' columns to read.
enum Want<'a> {
    All,
    Only(&'a BTreeSet<String>),
}

/// What a use-case reads before it fetches: the datasource and how to reach it.
struct Source {
    resource: Resource,
    spec: ConnectionSpec,
}

fn missing_row(what: &str, id: Id) -> CatalogError {
    CatalogError::Store(weir_kernel::StoreError::Internal(format!(
        "{what} {id} has no row of its own"
    )))
}

fn load_schema(
    tx: &mut dyn CatalogTx,
    t: &TenantId,
    id: ResourceRef,
) -> Result<(Resource, Schema), CatalogError> {
    let r = resolve_as(tx, t, id, ResourceType::Schema, "id")?;
    let s = tx
        .schema(t, r.id)?
        .ok_or_else(|| missing_row("schema", r.id))?;
    Ok((r, s))
}

/// [`load_schema`], if the caller holds `need` on it.
fn open_schema(
    tx: &mut dyn CatalogTx,
    c: &Caller,
    id: ResourceRef,
    need: Auth,
) -> Result<(Resource, Schema), CatalogError> {
    let r = open_as(tx, c, id, ResourceType::Schema, "id", need)?;
    load_schema(tx, &c.tenant_id, r.id.into())
}

impl CatalogService {
    /// Lists a schema's tables and reads the columns of those `want` names.
    /// `schema_field` is what a missing schema is reported against (`None`: the
    /// datasource's failure).
    fn fetch(
        &self,
        src: &Source,
        schema: &str,
        want: Want<'_>,
        schema_field: Option<&str>,
    ) -> Result<Fetched, CatalogError> {
        let listed =
            self.drivers
                .tables(&src.spec, schema)
                .map_err(|e| match (e, schema_field) {
                    (DriverError::Missing(_), Some(field)) => CatalogError::invalid(
                        field,
                        format!(
                            "schema `{schema}` not found in datasource {} ({})",
                            src.resource.api_id(),
                            src.resource.name
                        ),
                    ),
                    (e, _) => Self::driver_error(&src.resource, e),
                })?;
        let wanted: Vec<_> = listed
            .iter()
            .filter(|t| match want {
                Want::All => true,
                Want::Only(names) => names.contains(&t.name),
            })
            .collect();
        if wanted.len() > self.settings.max_sync_tables {
            return Err(CatalogError::invalid(
                "name",
                format!(
                    "schema `{schema}` has {} tables, more than the {} one sync reads: add the tables you need with table/create",
                    wanted.len(),
                    self.settings.max_sync_tables
                ),
            ));
        }
        let mut read_tables = BTreeMap::new();
        let mut present: BTreeSet<String> = listed.iter().map(|t| t.name.clone()).collect();
        for t in wanted {
            match self.drivers.columns(&src.spec, schema, &t.name) {
                Ok(columns) => {
                    read_tables.insert(t.name.clone(), (t.kind.clone(), columns));
                }
                // Dropped between the listing and now: gone.
                Err(DriverError::Missing(_)) => {
                    present.remove(&t.name);
                }
                Err(e) => return Err(Self::driver_error(&src.resource, e)),
            }
        }
        Ok(Fetched {
            present,
            read: read_tables,
        })
    }

    fn source(
        &self,
        r: Resource,
        d: &super::resources::Datasource,
    ) -> Result<Source, CatalogError> {
        let spec = self.spec(d)?;
        Ok(Source { resource: r, spec })
    }

    /// Adds a table resource with its columns under a schema.
    fn insert_table(
        &self,
        tx: &mut dyn CatalogTx,
        c: &Caller,
        schema: &Resource,
        name: &str,
        (kind, columns): &(String, Vec<ColumnInfo>),
    ) -> Result<(), CatalogError> {
        let r = self.new_resource(c, schema, ResourceType::Table, name.to_owned(), None, None);
        tx.insert_resource(&r)?;
        tx.insert_table(&Table {
            id: r.id,
            tenant_id: c.tenant_id.clone(),
            schema_id: schema.id,
            table_kind: kind.clone(),
            columns: columns.clone(),
            synced_at: r.created_at,
        })?;
        Ok(())
    }

    /// Replaces a stored table's columns; answers whether they differed.
    fn refresh_table(
        &self,
        tx: &mut dyn CatalogTx,
        mut table: Table,
        (kind, columns): &(String, Vec<ColumnInfo>),
    ) -> Result<bool, CatalogError> {
        let changed = table.columns != *columns || table.table_kind != *kind;
        table.columns = columns.clone();
        table.table_kind = kind.clone();
        table.synced_at = self.now();
        tx.update_table(&table)?;
        Ok(changed)
    }

    /// `schema/create`: a schema of a datasource; with `need_sync`, its tables too, read
    /// from the datasource. Answers the schema's resource and, when it synced, what it
    /// added.
    pub fn create_schema(
        &self,
        c: &Caller,
        req: NewSchema,
    ) -> Result<(Resource, Option<SyncReport>), CatalogError> {
        let name = db_name("name", &req.name)?;
        let catalog =
            optional_text("catalog", req.catalog.as_deref(), NAME_MAX)?.filter(|c| !c.is_empty());
        let t = &c.tenant_id;
        let (ds, d) = read(self.store(), |tx| {
            let (ds, d) = Self::open_datasource(tx, c, req.datasource, "dsId", Auth::Edit)?;
            check_free(tx, &ds, &name, "name")?;
            Ok::<_, CatalogError>((ds, d))
        })?;
        let fetched = if req.need_sync {
            let src = self.source(ds, &d)?;
            Some(self.fetch(&src, &name, Want::All, Some("name"))?)
        } else {
            None
        };
        let now = self.now();
        write(self.store(), |tx| {
            let (ds, _) = Self::open_datasource(tx, c, req.datasource, "dsId", Auth::Edit)?;
            check_free(tx, &ds, &name, "name")?;
            if let Some(other) = tx.schema_named(t, ds.id, &name)? {
                return Err(CatalogError::Duplicate {
                    field: "name".into(),
                    message: format!(
                        "datasource {} already has schema `{name}` (resource {})",
                        ds.api_id(),
                        other.id
                    ),
                });
            }
            let r = self.new_resource(c, &ds, ResourceType::Schema, name.clone(), None, None);
            tx.insert_resource(&r)?;
            tx.insert_schema(&Schema {
                id: r.id,
                tenant_id: t.clone(),
                datasource_id: ds.id,
                schema_name: name.clone(),
                catalog: catalog.clone(),
                sync_all: req.need_sync,
                synced_at: fetched.as_ref().map(|_| now),
            })?;
            let Some(f) = &fetched else {
                return Ok((r, None));
            };
            for (table, read) in &f.read {
                self.insert_table(tx, c, &r, table, read)?;
            }
            let report = SyncReport {
                added: f.read.keys().cloned().collect(),
                ..SyncReport::default()
            };
            Ok((r, Some(report.sort())))
        })
    }

    /// `schema/update`: renames a schema's resource (what the tree shows). The schema's
    /// name in the datasource, which syncs read, stays.
    pub fn rename_schema(
        &self,
        c: &Caller,
        id: ResourceRef,
        name: Option<&str>,
    ) -> Result<Resource, CatalogError> {
        let name = name.map(|n| user_name("name", n)).transpose()?;
        let now = self.now();
        write(self.store(), |tx| {
            let t = &c.tenant_id;
            let (mut r, _) = open_schema(tx, c, id, Auth::Edit)?;
            let Some(name) = name.filter(|n| *n != r.name) else {
                return Ok(r);
            };
            let parent = r
                .parent_id
                .ok_or_else(|| missing_row("schema parent", r.id))?;
            let ds = resolve_as(tx, t, parent.into(), ResourceType::Datasource, "id")?;
            check_free(tx, &ds, &name, "name")?;
            r.name = name;
            r.updated_at = now;
            tx.update_resource(&r)?;
            Ok(r)
        })
    }

    /// `schema/sync`: reads a schema's tables again. A schema made with `needSync`
    /// mirrors the datasource: new tables are added, vanished ones removed (with
    /// everything under them), changed ones re-read. A schema whose tables were added one
    /// by one keeps to those: vanished ones are removed and changed ones re-read, and no
    /// other table is added.
    pub fn sync_schema(&self, c: &Caller, id: ResourceRef) -> Result<SyncReport, CatalogError> {
        let t = &c.tenant_id;
        let (schema, stored, ds, d) = read(self.store(), |tx| {
            let (_, schema) = open_schema(tx, c, id, Auth::Edit)?;
            let stored: BTreeSet<String> = tx
                .tables_of(t, schema.id)?
                .into_iter()
                .map(|(r, _)| r.name)
                .collect();
            let (ds, d) = Self::load_datasource(tx, t, schema.datasource_id.into(), "id")?;
            Ok::<_, CatalogError>((schema, stored, ds, d))
        })?;
        let src = self.source(ds, &d)?;
        let want = if schema.sync_all {
            Want::All
        } else {
            Want::Only(&stored)
        };
        let f = self.fetch(&src, &schema.schema_name, want, None)?;
        let now = self.now();
        write(self.store(), |tx| {
            let (r, mut schema) = open_schema(tx, c, id, Auth::Edit)?;
            let mut report = SyncReport::default();
            let mut seen = BTreeSet::new();
            for (res, table) in tx.tables_of(t, schema.id)? {
                seen.insert(res.name.clone());
                if !f.present.contains(&res.name) {
                    let ids = subtree(tx, t, res.id)?;
                    tx.delete_resources(t, &ids)?;
                    report.removed.push(res.name);
                } else if let Some(read) = f.read.get(&res.name)
                    && self.refresh_table(tx, table, read)?
                {
                    report.changed.push(res.name);
                }
            }
            if schema.sync_all {
                for (name, read) in &f.read {
                    if !seen.contains(name) {
                        self.insert_table(tx, c, &r, name, read)?;
                        report.added.push(name.clone());
                    }
                }
            }
            schema.synced_at = Some(now);
            tx.update_schema(&schema)?;
            Ok(report.sort())
        })
    }

    /// `table/create`: adds the listed tables of each item's schema, with their columns
    /// read from the datasource; the schema's resource is made when the datasource has
    /// none for it yet. A table already there is skipped, or re-read with `replace`. A
    /// table the schema does not have refuses the whole call. All items are applied in
    /// one transaction. Answers one report per item.
    pub fn add_tables(
        &self,
        c: &Caller,
        items: &[AddTables],
    ) -> Result<Vec<SyncReport>, CatalogError> {
        if items.is_empty() || items.len() > self.settings.max_batch {
            return Err(CatalogError::invalid(
                "paramsInfo",
                format!("must hold 1 to {} items", self.settings.max_batch),
            ));
        }
        let t = &c.tenant_id;
        struct Plan {
            schema_name: String,
            catalog: Option<String>,
            tables: BTreeSet<String>,
            fetched: Fetched,
        }
        let mut plans = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let at = |f: &str| format!("[{i}].{f}");
            let schema_name = db_name(&at("schemaName"), &item.schema_name)?;
            let catalog = optional_text(&at("catalog"), item.catalog.as_deref(), NAME_MAX)?
                .filter(|c| !c.is_empty());
            if item.tables.is_empty() || item.tables.len() > self.settings.max_batch {
                return Err(CatalogError::invalid(
                    at("tableList"),
                    format!("must name 1 to {} tables", self.settings.max_batch),
                ));
            }
            let mut tables = BTreeSet::new();
            for (j, name) in item.tables.iter().enumerate() {
                tables.insert(db_name(&at(&format!("tableList[{j}]")), name)?);
            }
            let (ds, d, stored) = read(self.store(), |tx| {
                let (ds, d) =
                    Self::open_datasource(tx, c, item.datasource, &at("dsId"), Auth::Edit)?;
                let stored: BTreeSet<String> = match tx.schema_named(t, ds.id, &schema_name)? {
                    Some(s) => tx
                        .tables_of(t, s.id)?
                        .into_iter()
                        .map(|(r, _)| r.name)
                        .collect(),
                    None => BTreeSet::new(),
                };
                Ok::<_, CatalogError>((ds, d, stored))
            })?;
            let src = self.source(ds, &d)?;
            // Only what will be written is read: new tables, and the others with replace.
            let to_read: BTreeSet<String> = tables
                .iter()
                .filter(|n| item.replace || !stored.contains(*n))
                .cloned()
                .collect();
            let fetched = self.fetch(
                &src,
                &schema_name,
                Want::Only(&to_read),
                Some(&at("schemaName")),
            )?;
            let unknown: Vec<String> = tables
                .iter()
                .filter(|n| !fetched.present.contains(*n))
                .map(|n| format!("`{n}`"))
                .collect();
            if !unknown.is_empty() {
                return Err(CatalogError::invalid(
                    at("tableList"),
                    format!(
                        "{} {} not found in schema `{schema_name}` of datasource {} ({})",
                        if unknown.len() == 1 {
                            "table"
                        } else {
                            "tables"
                        },
                        unknown.join(", "),
                        src.resource.api_id(),
                        src.resource.name
                    ),
                ));
            }
            plans.push(Plan {
                schema_name,
                catalog,
                tables,
                fetched,
            });
        }
        let now = self.now();
        write(self.store(), |tx| {
            let mut reports = Vec::with_capacity(plans.len());
            for (i, (item, plan)) in items.iter().zip(&plans).enumerate() {
                let (ds, _) = Self::open_datasource(
                    tx,
                    c,
                    item.datasource,
                    &format!("[{i}].dsId"),
                    Auth::Edit,
                )?;
                let schema_res = match tx.schema_named(t, ds.id, &plan.schema_name)? {
                    Some(s) => resolve_as(tx, t, s.id.into(), ResourceType::Schema, "id")?,
                    None => {
                        check_free(tx, &ds, &plan.schema_name, &format!("[{i}].schemaName"))?;
                        let r = self.new_resource(
                            c,
                            &ds,
                            ResourceType::Schema,
                            plan.schema_name.clone(),
                            None,
                            None,
                        );
                        tx.insert_resource(&r)?;
                        tx.insert_schema(&Schema {
                            id: r.id,
                            tenant_id: t.clone(),
                            datasource_id: ds.id,
                            schema_name: plan.schema_name.clone(),
                            catalog: plan.catalog.clone(),
                            sync_all: false,
                            synced_at: Some(now),
                        })?;
                        r
                    }
                };
                let mut stored: BTreeMap<String, Table> = tx
                    .tables_of(t, schema_res.id)?
                    .into_iter()
                    .map(|(r, table)| (r.name, table))
                    .collect();
                let mut report = SyncReport::default();
                for name in &plan.tables {
                    match (stored.remove(name), plan.fetched.read.get(name)) {
                        (None, Some(read)) => {
                            self.insert_table(tx, c, &schema_res, name, read)?;
                            report.added.push(name.clone());
                        }
                        (Some(table), Some(read)) if item.replace => {
                            if self.refresh_table(tx, table, read)? {
                                report.changed.push(name.clone());
                            }
                        }
                        (Some(_), _) => report.skipped.push(name.clone()),
                        // Added by someone else since it was read without its columns.
                        (None, None) => report.skipped.push(name.clone()),
                    }
                }
                reports.push(report.sort());
            }
            Ok(reports)
        })
    }

    /// A table with its columns as last read.
    pub fn table(&self, c: &Caller, id: ResourceRef) -> Result<TableView, CatalogError> {
        read(self.store(), |tx| {
            let resource = open_as(tx, c, id, ResourceType::Table, "id", Auth::Ref)?;
            let table = tx
                .table(&c.tenant_id, resource.id)?
                .ok_or_else(|| missing_row("table", resource.id))?;
            Ok(TableView { resource, table })
        })
    }

    /// A schema with its settings.
    pub fn schema(&self, c: &Caller, id: ResourceRef) -> Result<(Resource, Schema), CatalogError> {
        read(self.store(), |tx| open_schema(tx, c, id, Auth::Ref))
    }
}
