//! Tables added one by one (`table/create`, Smartbi 2.3), in two phases: each item is
//! checked and its tables read from the datasource, outside any transaction (a network
//! call); then every item is applied in one write transaction.

use std::collections::{BTreeMap, BTreeSet};

use weir_kernel::store::{read, write};
use weir_kernel::{Id, Millis, TenantId};

use super::caller::Caller;
use super::errors::CatalogError;
use super::grants::{Auth, open_as};
use super::ports::CatalogTx;
use super::resources::{Resource, ResourceRef, ResourceType, Schema, SyncReport, Table, TableView};
use super::service::{CatalogService, NAME_MAX, check_free, db_name, optional_text, resolve_as};
use super::sync::{Fetched, Source, Want, missing_row};

/// One item of `table/create`: tables of one schema to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddTables {
    /// The datasource to read from (`dsId`; needs `edit` on it).
    pub datasource: ResourceRef,
    /// The schema's name in the datasource; its resource is made when missing.
    pub schema_name: String,
    /// Re-read the columns of tables already there (else they are skipped).
    pub replace: bool,
    /// The JDBC catalog of a schema made by this item; stored only.
    pub catalog: Option<String>,
    /// The tables' names in the schema (`tableList`), exactly as the datasource spells them.
    pub tables: Vec<String>,
}

/// An item, checked, with what its datasource has of its tables.
struct ReadItem {
    schema_name: String,
    catalog: Option<String>,
    tables: BTreeSet<String>,
    fetched: Fetched,
}

/// Where item `i`'s field `field` is reported.
fn at(i: usize, field: &str) -> String {
    format!("[{i}].{field}")
}

impl CatalogService {
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
        let read_items = items
            .iter()
            .enumerate()
            .map(|(i, item)| self.read_item(c, i, item))
            .collect::<Result<Vec<_>, _>>()?;
        let now = self.now();
        write(self.store(), |tx| {
            let mut reports = Vec::with_capacity(read_items.len());
            for (i, (item, read)) in items.iter().zip(&read_items).enumerate() {
                let (ds, _) =
                    Self::open_datasource(tx, c, item.datasource, &at(i, "dsId"), Auth::Edit)?;
                let schema = self.schema_for(tx, c, &ds, read, i, now)?;
                reports.push(self.apply_item(tx, c, &schema, read, item.replace)?);
            }
            Ok(reports)
        })
    }

    /// Checks item `i`'s names, then reads from its datasource the tables it will write:
    /// new ones, and the others with `replace`.
    fn read_item(&self, c: &Caller, i: usize, item: &AddTables) -> Result<ReadItem, CatalogError> {
        let schema_name = db_name(&at(i, "schemaName"), &item.schema_name)?;
        let catalog = optional_text(&at(i, "catalog"), item.catalog.as_deref(), NAME_MAX)?
            .filter(|c| !c.is_empty());
        let tables = self.table_names(i, item)?;
        let (ds, d, stored) = read(self.store(), |tx| {
            let (ds, d) =
                Self::open_datasource(tx, c, item.datasource, &at(i, "dsId"), Auth::Edit)?;
            let stored = stored_tables(tx, &c.tenant_id, ds.id, &schema_name)?;
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
            Some(&at(i, "schemaName")),
        )?;
        check_present(&tables, &fetched, &src, &schema_name, &at(i, "tableList"))?;
        Ok(ReadItem {
            schema_name,
            catalog,
            tables,
            fetched,
        })
    }

    /// Item `i`'s table names: 1 to `max_batch` of them, each a database name.
    fn table_names(&self, i: usize, item: &AddTables) -> Result<BTreeSet<String>, CatalogError> {
        if item.tables.is_empty() || item.tables.len() > self.settings.max_batch {
            return Err(CatalogError::invalid(
                at(i, "tableList"),
                format!("must name 1 to {} tables", self.settings.max_batch),
            ));
        }
        item.tables
            .iter()
            .enumerate()
            .map(|(j, name)| db_name(&at(i, &format!("tableList[{j}]")), name))
            .collect()
    }

    /// The resource of item `i`'s schema, made (with the schema's row) when the datasource
    /// has none for it yet.
    fn schema_for(
        &self,
        tx: &mut dyn CatalogTx,
        c: &Caller,
        ds: &Resource,
        item: &ReadItem,
        i: usize,
        now: Millis,
    ) -> Result<Resource, CatalogError> {
        let t = &c.tenant_id;
        if let Some(s) = tx.schema_named(t, ds.id, &item.schema_name)? {
            return resolve_as(tx, t, s.id.into(), ResourceType::Schema, "id");
        }
        check_free(tx, ds, &item.schema_name, &at(i, "schemaName"))?;
        let r = self.new_resource(
            c,
            ds,
            ResourceType::Schema,
            item.schema_name.clone(),
            None,
            None,
        );
        tx.insert_resource(&r)?;
        tx.insert_schema(&Schema {
            id: r.id,
            tenant_id: t.clone(),
            datasource_id: ds.id,
            schema_name: item.schema_name.clone(),
            catalog: item.catalog.clone(),
            sync_all: false,
            synced_at: Some(now),
        })?;
        Ok(r)
    }

    /// Adds the item's new tables under `schema`, and re-reads the others with `replace`.
    fn apply_item(
        &self,
        tx: &mut dyn CatalogTx,
        c: &Caller,
        schema: &Resource,
        item: &ReadItem,
        replace: bool,
    ) -> Result<SyncReport, CatalogError> {
        let mut stored: BTreeMap<String, Table> = tx
            .tables_of(&c.tenant_id, schema.id)?
            .into_iter()
            .map(|(r, table)| (r.name, table))
            .collect();
        let mut report = SyncReport::default();
        for name in &item.tables {
            match (stored.remove(name), item.fetched.read.get(name)) {
                (None, Some(read)) => {
                    self.insert_table(tx, c, schema, name, read)?;
                    report.added.push(name.clone());
                }
                (Some(table), Some(read)) if replace => {
                    if self.refresh_table(tx, table, read)? {
                        report.changed.push(name.clone());
                    }
                }
                (Some(_), _) => report.skipped.push(name.clone()),
                // Added by someone else since it was read without its columns.
                (None, None) => report.skipped.push(name.clone()),
            }
        }
        Ok(report.sort())
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
}

/// The names of the tables stored under the datasource's schema `schema_name`, if any.
fn stored_tables(
    tx: &mut dyn CatalogTx,
    t: &TenantId,
    datasource: Id,
    schema_name: &str,
) -> Result<BTreeSet<String>, CatalogError> {
    Ok(match tx.schema_named(t, datasource, schema_name)? {
        Some(s) => tx
            .tables_of(t, s.id)?
            .into_iter()
            .map(|(r, _)| r.name)
            .collect(),
        None => BTreeSet::new(),
    })
}

/// Refuses the call when the schema lacks some of the tables (`field` names the list).
fn check_present(
    tables: &BTreeSet<String>,
    fetched: &Fetched,
    src: &Source,
    schema_name: &str,
    field: &str,
) -> Result<(), CatalogError> {
    let unknown: Vec<String> = tables
        .iter()
        .filter(|n| !fetched.present.contains(*n))
        .map(|n| format!("`{n}`"))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(CatalogError::invalid(
        field,
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
    ))
}
