//! Table rows of the BI catalog and their conversion to and from the domain.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use weir_bi_catalog::augmented::{
    Aggregator, Dimension, LinkType, Measure, ModelDefinition, Relation, View,
};
use weir_bi_catalog::catalog::{
    Assignee, AssigneeKind, Auth, DataModel, Datasource, DatasourceSettings, ExtractType, Grant,
    Resource, ResourceType, Root, RowPerm, Schema, Scope, StoreType, Table,
};
use weir_bi_catalog::drivers::{ColumnInfo, FieldType};
use weir_bi_catalog::jdbc::DriverType;
use weir_bi_catalog::row_perms::RowPermItem;
use weir_kernel::{Id, StoreError};

use crate::errors::tenant_id;
use crate::schema::*;

type R<T> = Result<T, StoreError>;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = bi_resources)]
pub(super) struct ResourceRow {
    pub id: i64,
    pub tenant_id: String,
    pub parent_id: Option<i64>,
    pub root_key: Option<String>,
    pub resource_type: String,
    pub name: String,
    pub alias: String,
    pub description: String,
    pub creator_id: Option<i64>,
    pub creator_name: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&Resource> for ResourceRow {
    fn from(r: &Resource) -> Self {
        Self {
            id: r.id.get(),
            tenant_id: r.tenant_id.to_string(),
            parent_id: r.parent_id.map(Id::get),
            root_key: r.root.map(|k| k.key().to_owned()),
            resource_type: r.kind.as_str().to_owned(),
            name: r.name.clone(),
            alias: r.alias.clone(),
            description: r.desc.clone(),
            creator_id: r.creator_id.map(Id::get),
            creator_name: r.creator_name.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl ResourceRow {
    pub fn into_resource(self) -> R<Resource> {
        let kind = ResourceType::parse(&self.resource_type).ok_or_else(|| {
            StoreError::Internal(format!(
                "stored resource type `{}` is invalid",
                self.resource_type
            ))
        })?;
        let root = self
            .root_key
            .map(|k| {
                Root::parse(&k).ok_or_else(|| {
                    StoreError::Internal(format!("stored root key `{k}` is invalid"))
                })
            })
            .transpose()?;
        Ok(Resource {
            id: Id(self.id),
            tenant_id: tenant_id(self.tenant_id)?,
            parent_id: self.parent_id.map(Id),
            root,
            kind,
            name: self.name,
            alias: self.alias,
            desc: self.description,
            creator_id: self.creator_id.map(Id),
            creator_name: self.creator_name,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = bi_datasources, treat_none_as_null = true)]
pub(super) struct DatasourceRow {
    pub resource_id: i64,
    pub tenant_id: String,
    pub driver_type: String,
    pub driver_class_name: String,
    pub driver_catalog: Option<String>,
    pub url: String,
    pub user_name: String,
    pub password_sealed: Option<String>,
    pub max_connection: i64,
    pub transaction_isolation: i64,
}

impl From<&Datasource> for DatasourceRow {
    fn from(d: &Datasource) -> Self {
        let s = &d.settings;
        Self {
            resource_id: d.id.get(),
            tenant_id: d.tenant_id.to_string(),
            driver_type: s.driver_type.as_str().to_owned(),
            driver_class_name: s.driver_class_name.clone(),
            driver_catalog: s.driver_catalog.clone(),
            url: s.url.clone(),
            user_name: s.user.clone(),
            password_sealed: d.sealed_password.clone(),
            max_connection: s.max_connection,
            transaction_isolation: s.transaction_isolation,
        }
    }
}

impl DatasourceRow {
    pub fn into_datasource(self) -> R<Datasource> {
        Ok(Datasource {
            id: Id(self.resource_id),
            tenant_id: tenant_id(self.tenant_id)?,
            settings: DatasourceSettings {
                driver_type: DriverType::parse(&self.driver_type),
                driver_class_name: self.driver_class_name,
                driver_catalog: self.driver_catalog,
                url: self.url,
                user: self.user_name,
                max_connection: self.max_connection,
                transaction_isolation: self.transaction_isolation,
            },
            sealed_password: self.password_sealed,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = bi_schemas)]
pub(super) struct SchemaRow {
    pub resource_id: i64,
    pub tenant_id: String,
    pub datasource_id: i64,
    pub schema_name: String,
    pub catalog: Option<String>,
    pub sync_all: bool,
    pub synced_at: Option<i64>,
}

impl From<&Schema> for SchemaRow {
    fn from(s: &Schema) -> Self {
        Self {
            resource_id: s.id.get(),
            tenant_id: s.tenant_id.to_string(),
            datasource_id: s.datasource_id.get(),
            schema_name: s.schema_name.clone(),
            catalog: s.catalog.clone(),
            sync_all: s.sync_all,
            synced_at: s.synced_at,
        }
    }
}

impl SchemaRow {
    pub fn into_schema(self) -> R<Schema> {
        Ok(Schema {
            id: Id(self.resource_id),
            tenant_id: tenant_id(self.tenant_id)?,
            datasource_id: Id(self.datasource_id),
            schema_name: self.schema_name,
            catalog: self.catalog,
            sync_all: self.sync_all,
            synced_at: self.synced_at,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = bi_tables)]
pub(super) struct TableRow {
    pub resource_id: i64,
    pub tenant_id: String,
    pub schema_id: i64,
    pub table_kind: String,
    pub columns_json: String,
    pub synced_at: i64,
}

/// One item of `columns_json`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ColumnJson {
    name: String,
    native_type: String,
    field_type: FieldType,
    nullable: bool,
}

pub(super) fn columns_json(columns: &[ColumnInfo]) -> R<String> {
    let items: Vec<ColumnJson> = columns
        .iter()
        .map(|c| ColumnJson {
            name: c.name.clone(),
            native_type: c.native_type.clone(),
            field_type: c.field_type,
            nullable: c.nullable,
        })
        .collect();
    serde_json::to_string(&items).map_err(|e| StoreError::Internal(format!("table columns: {e}")))
}

fn columns(raw: &str) -> R<Vec<ColumnInfo>> {
    let items: Vec<ColumnJson> = serde_json::from_str(raw)
        .map_err(|e| StoreError::Internal(format!("stored columns_json is invalid: {e}")))?;
    Ok(items
        .into_iter()
        .map(|c| ColumnInfo {
            name: c.name,
            native_type: c.native_type,
            field_type: c.field_type,
            nullable: c.nullable,
        })
        .collect())
}

impl TableRow {
    pub fn new(t: &Table) -> R<Self> {
        Ok(Self {
            resource_id: t.id.get(),
            tenant_id: t.tenant_id.to_string(),
            schema_id: t.schema_id.get(),
            table_kind: t.table_kind.clone(),
            columns_json: columns_json(&t.columns)?,
            synced_at: t.synced_at,
        })
    }

    pub fn into_table(self) -> R<Table> {
        Ok(Table {
            id: Id(self.resource_id),
            tenant_id: tenant_id(self.tenant_id)?,
            schema_id: Id(self.schema_id),
            table_kind: self.table_kind,
            columns: columns(&self.columns_json)?,
            synced_at: self.synced_at,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = bi_models)]
pub(super) struct ModelRow {
    pub resource_id: i64,
    pub tenant_id: String,
    pub store_type: String,
    pub extract_type: String,
    pub definition_json: String,
}

/// `definition_json`: the definition in the shape `augmented/create` sends it, so that
/// what is stored reads like the API (and does not follow the domain's field names).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ModelJson {
    views: Vec<ViewJson>,
    dimensions: Vec<DimensionJson>,
    measures: Vec<MeasureJson>,
    relations: Vec<RelationJson>,
}

#[derive(Serialize, Deserialize)]
struct ViewJson {
    id: Id,
    name: String,
    alias: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DimensionJson {
    name: String,
    alias: Option<String>,
    view_name: String,
    value_type: Option<FieldType>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MeasureJson {
    name: String,
    alias: Option<String>,
    view_name: String,
    aggregator: Aggregator,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RelationJson {
    src_view_name: String,
    dest_view_name: String,
    link_type: LinkType,
    src_field_name: String,
    dest_field_name: String,
}

fn definition_json(d: &ModelDefinition) -> R<String> {
    let json = ModelJson {
        views: d
            .views
            .iter()
            .map(|v| ViewJson {
                id: v.table_id,
                name: v.name.clone(),
                alias: v.alias.clone(),
            })
            .collect(),
        dimensions: d
            .dimensions
            .iter()
            .map(|x| DimensionJson {
                name: x.name.clone(),
                alias: x.alias.clone(),
                view_name: x.view.clone(),
                value_type: x.value_type,
            })
            .collect(),
        measures: d
            .measures
            .iter()
            .map(|m| MeasureJson {
                name: m.name.clone(),
                alias: m.alias.clone(),
                view_name: m.view.clone(),
                aggregator: m.aggregator,
            })
            .collect(),
        relations: d
            .relations
            .iter()
            .map(|r| RelationJson {
                src_view_name: r.src_view.clone(),
                dest_view_name: r.dest_view.clone(),
                link_type: r.link,
                src_field_name: r.src_field.clone(),
                dest_field_name: r.dest_field.clone(),
            })
            .collect(),
    };
    serde_json::to_string(&json).map_err(|e| StoreError::Internal(format!("model: {e}")))
}

fn definition(raw: &str) -> R<ModelDefinition> {
    let j: ModelJson = serde_json::from_str(raw)
        .map_err(|e| StoreError::Internal(format!("stored definition_json is invalid: {e}")))?;
    Ok(ModelDefinition {
        views: j
            .views
            .into_iter()
            .map(|v| View {
                table_id: v.id,
                name: v.name,
                alias: v.alias,
            })
            .collect(),
        dimensions: j
            .dimensions
            .into_iter()
            .map(|x| Dimension {
                name: x.name,
                alias: x.alias,
                view: x.view_name,
                value_type: x.value_type,
            })
            .collect(),
        measures: j
            .measures
            .into_iter()
            .map(|m| Measure {
                name: m.name,
                alias: m.alias,
                view: m.view_name,
                aggregator: m.aggregator,
            })
            .collect(),
        relations: j
            .relations
            .into_iter()
            .map(|r| Relation {
                src_view: r.src_view_name,
                dest_view: r.dest_view_name,
                link: r.link_type,
                src_field: r.src_field_name,
                dest_field: r.dest_field_name,
            })
            .collect(),
    })
}

impl ModelRow {
    pub fn new(m: &DataModel) -> R<Self> {
        Ok(Self {
            resource_id: m.id.get(),
            tenant_id: m.tenant_id.to_string(),
            store_type: m.store_type.as_str().to_owned(),
            extract_type: m.extract_type.as_str().to_owned(),
            definition_json: definition_json(&m.definition)?,
        })
    }

    pub fn into_model(self) -> R<DataModel> {
        let bad =
            |what: &str, v: &str| StoreError::Internal(format!("stored {what} `{v}` is invalid"));
        Ok(DataModel {
            id: Id(self.resource_id),
            tenant_id: tenant_id(self.tenant_id)?,
            store_type: StoreType::parse(&self.store_type)
                .ok_or_else(|| bad("store_type", &self.store_type))?,
            extract_type: ExtractType::parse(&self.extract_type)
                .ok_or_else(|| bad("extract_type", &self.extract_type))?,
            definition: definition(&self.definition_json)?,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = bi_row_perms)]
pub(super) struct RowPermRow {
    pub table_id: i64,
    pub item_name: String,
    pub tenant_id: String,
    pub position: i64,
    /// The item in the API's shape (`RowPermItem` is that shape).
    pub item_json: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl RowPermRow {
    pub fn new(p: &RowPerm, position: usize) -> R<Self> {
        Ok(Self {
            table_id: p.table_id.get(),
            item_name: p.item.item_name.clone(),
            tenant_id: p.tenant_id.to_string(),
            position: i64::try_from(position)
                .map_err(|_| StoreError::Internal("row permission position".into()))?,
            item_json: serde_json::to_string(&p.item)
                .map_err(|e| StoreError::Internal(format!("row permission: {e}")))?,
            created_at: p.created_at,
            updated_at: p.updated_at,
        })
    }

    pub fn into_row_perm(self) -> R<RowPerm> {
        let item: RowPermItem = serde_json::from_str(&self.item_json)
            .map_err(|e| StoreError::Internal(format!("stored item_json is invalid: {e}")))?;
        Ok(RowPerm {
            tenant_id: tenant_id(self.tenant_id)?,
            table_id: Id(self.table_id),
            item,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = bi_grants)]
pub(super) struct GrantRow {
    pub resource_id: i64,
    pub assignee_kind: String,
    pub assignee_id: String,
    pub tenant_id: String,
    pub auth: String,
    pub scope: String,
    pub created_at: i64,
}

impl From<&Grant> for GrantRow {
    fn from(g: &Grant) -> Self {
        Self {
            resource_id: g.resource_id.get(),
            assignee_kind: g.assignee.kind.as_str().to_owned(),
            assignee_id: g.assignee.id.clone(),
            tenant_id: g.tenant_id.to_string(),
            auth: g.auth.as_str().to_owned(),
            scope: g.scope.as_str().to_owned(),
            created_at: g.created_at,
        }
    }
}

impl GrantRow {
    pub fn into_grant(self) -> R<Grant> {
        let bad = |what: &str, v: &str| StoreError::Internal(format!("stored grant {what} `{v}`"));
        Ok(Grant {
            tenant_id: tenant_id(self.tenant_id)?,
            resource_id: Id(self.resource_id),
            assignee: Assignee {
                kind: AssigneeKind::parse(&self.assignee_kind)
                    .ok_or_else(|| bad("assignee_kind", &self.assignee_kind))?,
                id: self.assignee_id,
            },
            auth: Auth::parse(&self.auth).ok_or_else(|| bad("auth", &self.auth))?,
            scope: Scope::parse(&self.scope).ok_or_else(|| bad("scope", &self.scope))?,
            created_at: self.created_at,
        })
    }
}
