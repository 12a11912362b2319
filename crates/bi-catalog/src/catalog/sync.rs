//! Schemas (Smartbi 2.2) and their tables, read from the datasources; tables added one by
//! one (2.3) are in [`super::tables`], which shares the reading here.
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
use super::resources::{Resource, ResourceRef, ResourceType, Schema, SyncReport, Table};
use super::service::{
    CatalogService, NAME_MAX, check_free, db_name, optional_text, resolve_as, subtree, user_name,
};
use crate::drivers::{ColumnInfo, ConnectionSpec, DriverError};

/// `schema/create`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSchema {
    /// The datasource to read the schema from (`dsId`; needs `edit` on it).
    pub datasource: ResourceRef,
    /// The schema's name in the datasource.
    pub name: String,
    /// The JDBC catalog the schema is in; stored only.
    pub catalog: Option<String>,
    /// Read the schema's tables now, and mirror every table on each later sync (the
    /// document's default: true).
    pub need_sync: bool,
}

/// What a datasource has of one schema, as far as a use-case needs.
pub(super) struct Fetched {
    /// Every table the schema has now.
    pub(super) present: BTreeSet<String>,
    /// The tables read in full: kind and columns.
    pub(super) read: BTreeMap<String, (String, Vec<ColumnInfo>)>,
}

/// Which tables' columns to read.
pub(super) enum Want<'a> {
    All,
    Only(&'a BTreeSet<String>),
}

/// What a use-case reads before it fetches: the datasource and how to reach it.
pub(super) struct Source {
    pub(super) resource: Resource,
    spec: ConnectionSpec,
}

pub(super) fn missing_row(what: &str, id: Id) -> CatalogError {
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
    pub(super) fn fetch(
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

    pub(super) fn source(
        &self,
        r: Resource,
        d: &super::resources::Datasource,
    ) -> Result<Source, CatalogError> {
        let spec = self.spec(d)?;
        Ok(Source { resource: r, spec })
    }

    /// Adds a table resource with its columns under a schema.
    pub(super) fn insert_table(
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
    pub(super) fn refresh_table(
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

    /// A schema with its settings.
    pub fn schema(&self, c: &Caller, id: ResourceRef) -> Result<(Resource, Schema), CatalogError> {
        read(self.store(), |tx| open_schema(tx, c, id, Auth::Ref))
    }
}
