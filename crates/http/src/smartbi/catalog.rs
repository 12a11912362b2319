//! The catalog actions of the Smartbi dialect (document 2.1–2.3, 2.6, 2.7, 2.10), with
//! Weir's own `datasource/test`, `schema/sync` and `table/get`; data models and row
//! permissions (2.5, 2.8, Weir's `augmented/query`) are in [`models`], resource
//! permissions (2.9, Weir's `perm/get`) in [`perms`]. Each action reads
//! its `paramsInfo` into a typed request (a refusal names the field: `paramsInfo.url:
//! ...`), runs the use-case of [`weir_bi_catalog::CatalogService`] on the blocking pool and
//! answers its `result`. See docs/bi-catalog.md and docs/bi-query.md.

mod models;
mod perms;

use std::collections::BTreeSet;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::{Value as Json, json};
use utoipa::ToSchema;
use weir_bi_catalog::CatalogError;
use weir_bi_catalog::catalog::{
    AddTables, Caller, ChildQuery, ConnectionFields, DatasourceChanges, Describe, NewDatasource,
    NewFolder, NewSchema, Resource, ResourceRef, ResourceType, SyncReport, TestTarget,
};
use weir_identity::Principal;
use weir_kernel::Millis;

use super::actions::{Action, ResourceId, one_or_many, params};
use super::envelope::{SmartbiError, SmartbiResult};
use crate::core::State;

/// The catalog's actions.
pub const ACTIONS: &[Action] = &[
    Action::new(
        "datasource",
        "create",
        "Adds a datasource",
        params::<DatasourceParams>,
    ),
    Action::new(
        "datasource",
        "update",
        "Changes a datasource",
        params::<DatasourceParams>,
    ),
    Action::new(
        "datasource",
        "get",
        "A datasource, its password masked",
        params::<IdParams>,
    ),
    Action::new(
        "datasource",
        "test",
        "Connects to a stored datasource (by id) or to the one described",
        params::<DatasourceParams>,
    ),
    Action::new(
        "schema",
        "create",
        "Adds a schema of a datasource, synced unless needSync is false",
        params::<SchemaParams>,
    ),
    Action::new(
        "schema",
        "update",
        "Renames a schema",
        params::<RenameParams>,
    ),
    Action::new(
        "schema",
        "sync",
        "Syncs a schema's tables with the datasource",
        params::<IdParams>,
    ),
    Action::new(
        "table",
        "create",
        "Adds tables of a schema (one request or an array)",
        one_or_many::<TableParams>,
    ),
    Action::new(
        "table",
        "update",
        "Changes a table's alias and description",
        params::<DescribeParams>,
    ),
    Action::new(
        "table",
        "get",
        "A table with its columns",
        params::<IdParams>,
    ),
    Action::new("folder", "create", "Adds a folder", params::<FolderParams>),
    Action::new(
        "folder",
        "update",
        "Changes a folder's alias and description",
        params::<DescribeParams>,
    ),
    Action::new(
        "resource",
        "getChildList",
        "The children (or descendants) of a resource",
        params::<ChildListParams>,
    ),
    Action::new(
        "resource",
        "get",
        "A resource with its path",
        params::<IdParams>,
    ),
    Action::new(
        "resource",
        "delete",
        "Deletes resources and what is under them",
        params::<DeleteParams>,
    ),
    Action::new(
        "augmented",
        "create",
        "Adds a data model",
        params::<models::ModelParams>,
    ),
    Action::new("augmented", "get", "A data model", params::<IdParams>),
    Action::new(
        "augmented",
        "query",
        "Queries a data model (or shows its SQL: dryRun)",
        params::<models::QueryParams>,
    ),
    Action::new(
        "dataperm",
        "create",
        "Sets the row permissions of a table",
        params::<models::DatapermParams>,
    ),
    Action::new(
        "dataperm",
        "get",
        "The row permissions of a table",
        params::<IdParams>,
    ),
    Action::new(
        "perm",
        "assignee/resource",
        "Grants users, groups or roles a level on a resource",
        params::<perms::AssignParams>,
    ),
    Action::new(
        "perm",
        "get",
        "Who holds which level on a resource",
        params::<IdParams>,
    ),
];

/// Runs one of [`ACTIONS`] for the caller with its parsed `paramsInfo`.
pub async fn dispatch(
    state: &State,
    who: &Principal,
    module: &str,
    action: &str,
    params: Json,
) -> SmartbiResult {
    // The use-cases check the caller's level on each resource (resource permissions,
    // docs/bi-catalog.md): the super admin holds everything. Row permissions narrow every
    // caller's queries by their user id, group ids and role ids, the super admin's included.
    let name = if who.user.nickname.trim().is_empty() {
        who.user.username.as_str().to_owned()
    } else {
        who.user.nickname.clone()
    };
    let caller = Caller::user(who.tenant_id.clone(), who.user_id, name)
        .with_roles(who.roles.iter().map(|r| r.id))
        .with_groups(who.groups.iter().cloned())
        .with_super_admin(who.super_admin);
    match module {
        "perm" => perms::run(state.clone(), caller, action, params).await,
        "augmented" | "dataperm" => {
            models::run(state.clone(), caller, module, action, params).await
        }
        _ => run(state.clone(), caller, module, action, params).await,
    }
}

async fn run(state: State, c: Caller, module: &str, action: &str, params: Json) -> SmartbiResult {
    match (module, action) {
        ("datasource", "create") => {
            let p: DatasourceParams = parse(params)?;
            let req = NewDatasource {
                parent: p.parent_id,
                name: p.name.clone().unwrap_or_default(),
                alias: p.alias.clone(),
                desc: p.desc.clone(),
                connection: p.connection(),
            };
            let r = blocking(&state, move |s| s.create_datasource(&c, req)).await?;
            Ok(json!(r.api_id()))
        }
        ("datasource", "update") => {
            let p: DatasourceParams = parse(params)?;
            let id = p.id.ok_or_else(|| missing("id"))?;
            let req = DatasourceChanges {
                name: p.name.clone(),
                alias: p.alias.clone(),
                desc: p.desc.clone(),
                connection: p.connection(),
            };
            let r = blocking(&state, move |s| s.update_datasource(&c, id, req)).await?;
            Ok(json!(r.api_id()))
        }
        ("datasource", "get") => {
            let p: IdParams = parse(params)?;
            let v = blocking(&state, move |s| s.datasource(&c, p.id)).await?;
            let s = &v.settings;
            Ok(json!({
                "id": v.resource.api_id(),
                "name": v.resource.name,
                "alias": v.resource.alias,
                "desc": v.resource.desc,
                "connectUserName": s.user,
                "connectPassword": v.masked_password(),
                "maxConnection": s.max_connection,
                "driverType": s.driver_type.as_str(),
                "driverClassName": s.driver_class_name,
                "driverCatalog": s.driver_catalog,
                "url": s.url,
                "transactionIsolation": s.transaction_isolation,
            }))
        }
        ("datasource", "test") => {
            let p: DatasourceParams = parse(params)?;
            let target = match p.id {
                Some(id) => TestTarget::Stored(id),
                None => TestTarget::Unsaved(p.connection()),
            };
            blocking(&state, move |s| s.test_datasource(&c, target)).await?;
            Ok(json!(true))
        }
        ("schema", "create") => {
            let p: SchemaParams = parse(params)?;
            let req = NewSchema {
                datasource: p.ds_id,
                name: p.name,
                catalog: p.catalog,
                need_sync: p.need_sync.unwrap_or(true),
            };
            // The document answers the id; the sync's report is schema/sync's answer.
            let (r, _) = blocking(&state, move |s| s.create_schema(&c, req)).await?;
            Ok(json!(r.api_id()))
        }
        ("schema", "update") => {
            let p: RenameParams = parse(params)?;
            let r = blocking(&state, move |s| {
                s.rename_schema(&c, p.id, p.name.as_deref())
            })
            .await?;
            Ok(json!(r.api_id()))
        }
        ("schema", "sync") => {
            let p: IdParams = parse(params)?;
            let report = blocking(&state, move |s| s.sync_schema(&c, p.id)).await?;
            Ok(report_json(&report))
        }
        ("table", "create") => {
            let single = params.is_object();
            let items: Vec<TableParams> = if single {
                vec![parse(params)?]
            } else {
                parse(params)?
            };
            let items: Vec<AddTables> = items
                .into_iter()
                .map(|p| AddTables {
                    datasource: p.ds_id,
                    schema_name: p.schema_name,
                    replace: p.replace.unwrap_or(false),
                    catalog: p.catalog,
                    tables: p.table_list,
                })
                .collect();
            let reports = crate::core::blocking({
                let state = state.clone();
                move || state.catalog.add_tables(&c, &items)
            })
            .await?
            .map_err(|e| refusal(e, single))?;
            Ok(if single {
                report_json(&reports[0])
            } else {
                Json::Array(reports.iter().map(report_json).collect())
            })
        }
        ("table", "update") | ("folder", "update") => {
            let p: DescribeParams = parse(params)?;
            let changes = Describe {
                alias: p.alias,
                desc: p.desc,
            };
            let table = module == "table";
            let r = blocking(&state, move |s| {
                if table {
                    s.update_table(&c, p.id, changes)
                } else {
                    s.update_folder(&c, p.id, changes)
                }
            })
            .await?;
            Ok(json!(r.api_id()))
        }
        ("table", "get") => {
            let p: IdParams = parse(params)?;
            let v = blocking(&state, move |s| s.table(&c, p.id)).await?;
            let columns: Vec<Json> = v
                .table
                .columns
                .iter()
                .map(|col| {
                    json!({
                        "name": col.name,
                        "nativeType": col.native_type,
                        "fieldType": col.field_type,
                        "nullable": col.nullable,
                    })
                })
                .collect();
            Ok(json!({
                "id": v.resource.api_id(),
                "name": v.resource.name,
                "alias": v.resource.alias,
                "desc": v.resource.desc,
                "type": v.resource.kind.as_str(),
                "tableType": v.table.table_kind,
                "columns": columns,
                "syncedAt": v.table.synced_at,
            }))
        }
        ("folder", "create") => {
            let p: FolderParams = parse(params)?;
            let req = NewFolder {
                parent: p.parent_id,
                name: p.name,
                alias: p.alias,
                desc: p.desc,
            };
            let r = blocking(&state, move |s| s.create_folder(&c, req)).await?;
            Ok(json!(r.api_id()))
        }
        ("resource", "getChildList") => {
            let p: ChildListParams = parse(params)?;
            let types = match p.types.filter(|t| !t.is_empty()) {
                None => None,
                Some(names) => Some(resource_types(&names)?),
            };
            let q = ChildQuery {
                types,
                include_descendants: p.include_descendants.unwrap_or(false),
                need_path: p.need_path.unwrap_or(false),
            };
            let entries = blocking(&state, move |s| s.child_list(&c, p.id, &q)).await?;
            Ok(Json::Array(
                entries
                    .into_iter()
                    .map(|e| {
                        let mut item = json!({
                            "id": e.resource.api_id(),
                            "name": e.resource.name,
                            "alias": e.resource.alias,
                            "type": e.resource.kind.as_str(),
                        });
                        if let Some(path) = e.path {
                            item["path"] = json!(path);
                        }
                        item
                    })
                    .collect(),
            ))
        }
        ("resource", "get") => {
            let p: IdParams = parse(params)?;
            let info = blocking(&state, move |s| s.resource(&c, p.id)).await?;
            Ok(resource_json(&info.resource, &info.path))
        }
        ("resource", "delete") => {
            let p: DeleteParams = parse(params)?;
            let (ids, single) = refs(&p.id)?;
            let gone = blocking(&state, move |s| s.delete(&c, &ids)).await?;
            let ids: Vec<String> = gone.iter().map(Resource::api_id).collect();
            Ok(if single { json!(ids[0]) } else { json!(ids) })
        }
        _ => Err(SmartbiError::new(format!(
            "unknown action {module}/{action}"
        ))),
    }
}

// ---- running use-cases ----

/// Runs a use-case on the blocking pool; a refusal that names a field names it under
/// `paramsInfo`.
async fn blocking<T: Send + 'static>(
    state: &State,
    f: impl FnOnce(&weir_bi_catalog::CatalogService) -> Result<T, CatalogError> + Send + 'static,
) -> Result<T, SmartbiError> {
    let state = state.clone();
    crate::core::blocking(move || f(&state.catalog))
        .await?
        .map_err(|e| refusal(e, false))
}

/// A domain refusal as the dialect says it: fields under `paramsInfo` (`[0].` dropped
/// when the request sent one object rather than an array).
fn refusal(e: CatalogError, single: bool) -> SmartbiError {
    if let Some(problems) = e.problems() {
        return SmartbiError::new(
            problems
                .iter()
                .map(|p| format!("{}: {}", under_params(&p.field, single), p.message))
                .collect::<Vec<_>>()
                .join("; "),
        );
    }
    match e.field().map(str::to_owned) {
        Some(field) => {
            let msg = e.to_string();
            let mut rest = msg.strip_prefix(&field).unwrap_or(&msg).to_owned();
            rest.insert_str(0, &under_params(&field, single));
            SmartbiError::new(rest)
        }
        None => SmartbiError::from_domain(e),
    }
}

/// A field of the request as the dialect names it: `paramsInfo.url`, `paramsInfo[1].x`.
fn under_params(field: &str, single: bool) -> String {
    let field = match field.strip_prefix("[0].") {
        Some(f) if single => f,
        _ => field,
    };
    if field == "paramsInfo" {
        field.to_owned()
    } else if field.starts_with('[') {
        format!("paramsInfo{field}")
    } else {
        format!("paramsInfo.{field}")
    }
}

// ---- reading paramsInfo ----

/// Reads `paramsInfo` (`null` reads as `{}`), naming the field that failed.
pub(super) fn parse<T: DeserializeOwned>(params: Json) -> Result<T, SmartbiError> {
    let params = if params.is_null() { json!({}) } else { params };
    serde_path_to_error::deserialize(params).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            SmartbiError::new(format!("paramsInfo: {inner}"))
        } else if path.starts_with('[') {
            SmartbiError::new(format!("paramsInfo{path}: {inner}"))
        } else {
            SmartbiError::new(format!("paramsInfo.{path}: {inner}"))
        }
    })
}

pub(super) fn missing(field: &str) -> SmartbiError {
    SmartbiError::new(format!("paramsInfo.{field}: is required"))
}

/// A resource id that may be left out: missing, `null` and `""` are none.
fn opt_ref<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ResourceRef>, D::Error> {
    match Option::<Json>::deserialize(d)? {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) if s.trim().is_empty() => Ok(None),
        Some(v) => ResourceRef::deserialize(v)
            .map(Some)
            .map_err(D::Error::custom),
    }
}

/// An integer, also written as a string (`"10"`).
fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<Json>::deserialize(d)? {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Json::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| D::Error::custom(format!("`{s}` is not an integer"))),
        Some(Json::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("{n} is not an integer"))),
        Some(other) => Err(D::Error::custom(format!(
            "invalid type: {other}, expected an integer"
        ))),
    }
}

/// A boolean, also written as `"true"` or `"false"`.
pub(super) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Option::<Json>::deserialize(d)? {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Bool(b)) => Ok(Some(b)),
        Some(Json::String(s)) => match s.trim() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            "" => Ok(None),
            _ => Err(D::Error::custom(format!("`{s}` is not true or false"))),
        },
        Some(other) => Err(D::Error::custom(format!(
            "invalid type: {other}, expected a boolean"
        ))),
    }
}

/// `datasource/create`, `update` and `test`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = smartbi::DatasourceParams)]
struct DatasourceParams {
    /// The datasource (`update`; `test` of a stored one).
    #[serde(default, deserialize_with = "opt_ref")]
    #[schema(value_type = Option<ResourceId>)]
    id: Option<ResourceRef>,
    /// The folder it goes in (`create`); default DATA_SOURCES.
    #[serde(default, deserialize_with = "opt_ref")]
    #[schema(value_type = Option<ResourceId>)]
    parent_id: Option<ResourceRef>,
    name: Option<String>,
    alias: Option<String>,
    desc: Option<String>,
    connect_user_name: Option<String>,
    connect_password: Option<String>,
    #[serde(default, deserialize_with = "opt_int")]
    max_connection: Option<i64>,
    driver_type: Option<String>,
    driver_class_name: Option<String>,
    driver_catalog: Option<String>,
    url: Option<String>,
    #[serde(default, deserialize_with = "opt_int")]
    transaction_isolation: Option<i64>,
}

impl DatasourceParams {
    fn connection(&self) -> ConnectionFields {
        ConnectionFields {
            driver_type: self.driver_type.clone(),
            driver_class_name: self.driver_class_name.clone(),
            driver_catalog: self.driver_catalog.clone(),
            url: self.url.clone(),
            user: self.connect_user_name.clone(),
            password: self.connect_password.clone(),
            max_connection: self.max_connection,
            transaction_isolation: self.transaction_isolation,
        }
    }
}

/// The parameters of the actions that name one resource.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = smartbi::IdParams)]
pub(super) struct IdParams {
    #[schema(value_type = ResourceId)]
    pub(super) id: ResourceRef,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = smartbi::SchemaParams)]
struct SchemaParams {
    #[schema(value_type = ResourceId)]
    ds_id: ResourceRef,
    #[serde(default)]
    name: String,
    catalog: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    need_sync: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = smartbi::RenameParams)]
struct RenameParams {
    #[schema(value_type = ResourceId)]
    id: ResourceRef,
    name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = smartbi::TableParams)]
struct TableParams {
    #[schema(value_type = ResourceId)]
    ds_id: ResourceRef,
    #[serde(default)]
    schema_name: String,
    #[serde(default, rename = "override", deserialize_with = "opt_bool")]
    replace: Option<bool>,
    catalog: Option<String>,
    table_list: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = smartbi::DescribeParams)]
struct DescribeParams {
    #[schema(value_type = ResourceId)]
    id: ResourceRef,
    alias: Option<String>,
    desc: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = smartbi::FolderParams)]
struct FolderParams {
    #[schema(value_type = ResourceId)]
    parent_id: ResourceRef,
    #[serde(default)]
    name: String,
    alias: Option<String>,
    desc: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = smartbi::ChildListParams)]
struct ChildListParams {
    #[schema(value_type = ResourceId)]
    id: ResourceRef,
    types: Option<Vec<String>>,
    #[serde(default, deserialize_with = "opt_bool")]
    include_descendants: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    need_path: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = smartbi::DeleteParams)]
struct DeleteParams {
    /// One resource or an array of them.
    #[schema(schema_with = super::actions::resource_ids)]
    id: Json,
}

/// `id` as one id or an array of them; answers whether it was one.
fn refs(raw: &Json) -> Result<(Vec<ResourceRef>, bool), SmartbiError> {
    let one = |field: String, v: &Json| {
        ResourceRef::deserialize(v).map_err(|e| SmartbiError::new(format!("{field}: {e}")))
    };
    match raw {
        Json::Array(items) => {
            let ids = items
                .iter()
                .enumerate()
                .map(|(i, v)| one(format!("paramsInfo.id[{i}]"), v))
                .collect::<Result<_, _>>()?;
            Ok((ids, false))
        }
        v => Ok((vec![one("paramsInfo.id".into(), v)?], true)),
    }
}

fn resource_types(names: &[String]) -> Result<BTreeSet<ResourceType>, SmartbiError> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            ResourceType::parse(n.trim()).ok_or_else(|| {
                let known: Vec<&str> = ResourceType::ALL.iter().map(|t| t.as_str()).collect();
                SmartbiError::new(format!(
                    "paramsInfo.types[{i}]: unknown type `{}` (known: {})",
                    n.chars().take(64).collect::<String>(),
                    known.join(", ")
                ))
            })
        })
        .collect()
}

// ---- answers ----

fn report_json(r: &SyncReport) -> Json {
    json!({
        "added": r.added,
        "removed": r.removed,
        "changed": r.changed,
        "skipped": r.skipped,
    })
}

fn resource_json(r: &Resource, path: &str) -> Json {
    json!({
        "id": r.api_id(),
        "name": r.name,
        "alias": r.alias,
        "path": path,
        "type": r.kind.as_str(),
        "desc": r.desc,
        "creator": r.creator_name,
        "creatorId": r.creator_id.map(|id| id.to_string()),
        "createtime": datetime(r.created_at),
        "createdAt": r.created_at,
        "updatedAt": r.updated_at,
    })
}

/// `yyyy-MM-dd HH:mm:ss` in UTC, as Smartbi writes times.
fn datetime(ms: Millis) -> String {
    crate::times::utc(ms, "%Y-%m-%d %H:%M:%S")
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_bi_catalog::catalog::Root;
    use weir_kernel::Id;

    #[test]
    fn times_read_as_smartbi_writes_them() {
        assert_eq!(datetime(0), "1970-01-01 00:00:00");
        assert_eq!(datetime(951_782_400_000), "2000-02-29 00:00:00");
        assert_eq!(datetime(1_795_000_000_123), "2026-11-18 11:06:40");
    }

    #[test]
    fn params_name_the_field_that_failed() {
        let e = parse::<SchemaParams>(json!({"dsId": "x1"})).unwrap_err();
        assert!(e.msg.starts_with("paramsInfo.dsId: "), "{}", e.msg);
        let e = parse::<IdParams>(Json::Null).unwrap_err();
        assert_eq!(e.msg, "paramsInfo: missing field `id`");
        // No Debug for DatasourceParams: it holds a password.
        let Err(e) = parse::<DatasourceParams>(json!({"maxConnection": "ten"})) else {
            panic!("a bad maxConnection was read");
        };
        assert!(e.msg.starts_with("paramsInfo.maxConnection: "), "{}", e.msg);
        let Ok(p) = parse::<DatasourceParams>(json!({"parentId": "", "maxConnection": "10"}))
        else {
            panic!("parentId \"\" and maxConnection \"10\" were refused");
        };
        assert_eq!((p.parent_id, p.max_connection), (None, Some(10)));
        let e = parse::<Vec<TableParams>>(json!([{"dsId": "1", "tableList": ["a"]},
            {"dsId": "1", "tableList": "a"}]))
        .unwrap_err();
        assert!(e.msg.starts_with("paramsInfo[1].tableList: "), "{}", e.msg);
        assert_eq!(
            refs(&json!(["PUBLIC", 12])).unwrap(),
            (
                vec![ResourceRef::Root(Root::Public), ResourceRef::Id(Id(12))],
                false
            )
        );
        assert!(refs(&json!("7")).unwrap().1);
        let e = refs(&json!(["1", "x"])).unwrap_err();
        assert!(e.msg.starts_with("paramsInfo.id[1]: "), "{}", e.msg);
        let e = resource_types(&["TABLE".into(), "FOO".into()]).unwrap_err();
        assert!(
            e.msg.starts_with("paramsInfo.types[1]: unknown type `FOO`"),
            "{}",
            e.msg
        );
    }

    #[test]
    fn domain_refusals_name_their_field_under_params_info() {
        let e = refusal(CatalogError::invalid("url", "bad"), false);
        assert_eq!(e.msg, "paramsInfo.url: bad");
        let e = refusal(CatalogError::invalid("[1].tableList", "nope"), false);
        assert_eq!(e.msg, "paramsInfo[1].tableList: nope");
        let e = refusal(CatalogError::invalid("[0].schemaName", "nope"), true);
        assert_eq!(e.msg, "paramsInfo.schemaName: nope");
        let e = refusal(CatalogError::not_found(5), false);
        assert_eq!(e.msg, "resource 5 not found");
        let e = refusal(
            CatalogError::Fields(vec![
                weir_bi_catalog::augmented::ModelProblem {
                    field: "measures[1].name".into(),
                    message: "column x not found in view o (shop.orders)".into(),
                },
                weir_bi_catalog::augmented::ModelProblem {
                    field: "relations".into(),
                    message: "2 views need 1 relations".into(),
                },
            ]),
            false,
        );
        assert_eq!(
            e.msg,
            "paramsInfo.measures[1].name: column x not found in view o (shop.orders); \
             paramsInfo.relations: 2 views need 1 relations"
        );
    }
}
