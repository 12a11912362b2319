//! The catalog actions of the Smartbi dialect (document 2.1–2.3, 2.5–2.10), with Weir's
//! own `datasource/test`, `schema/sync`, `table/get`, `augmented/get`, `augmented/query`
//! and `perm/get`: one file per module (`datasource`, `schema`, `table`, `folder`,
//! `resource`, `augmented`, `dataperm`, `perm`), one handler per action, listed in
//! [`ACTIONS`] (which the dispatcher and the OpenAPI document read). Each handler reads
//! its `paramsInfo` into a typed request (a refusal names the field: `paramsInfo.url:
//! ...`), runs the use-case of [`weir_bi_catalog::CatalogService`] on the blocking pool and
//! answers its `result`. See docs/bi-catalog.md and docs/bi-query.md.

mod augmented;
mod dataperm;
mod datasource;
mod folder;
mod perm;
mod resource;
mod schema;
mod table;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::{Value as Json, json};
use utoipa::ToSchema;
use weir_bi_catalog::CatalogError;
use weir_bi_catalog::catalog::{Caller, Describe, Resource, ResourceRef, SyncReport};
use weir_identity::Principal;
use weir_kernel::Millis;

use super::actions::{Action, CatalogFn, ResourceId, catalog_handler, one_or_many, params};
use super::envelope::{SmartbiError, SmartbiResult};
use crate::core::State;

/// The catalog's actions.
pub const ACTIONS: &[Action] = &[
    Action::new(
        "datasource",
        "create",
        "Adds a datasource",
        params::<datasource::DatasourceParams>,
        catalog_handler!(datasource::create),
    ),
    Action::new(
        "datasource",
        "update",
        "Changes a datasource",
        params::<datasource::DatasourceParams>,
        catalog_handler!(datasource::update),
    ),
    Action::new(
        "datasource",
        "get",
        "A datasource, its password masked",
        params::<IdParams>,
        catalog_handler!(datasource::get),
    ),
    Action::new(
        "datasource",
        "test",
        "Connects to a stored datasource (by id) or to the one described",
        params::<datasource::DatasourceParams>,
        catalog_handler!(datasource::test),
    ),
    Action::new(
        "schema",
        "create",
        "Adds a schema of a datasource, synced unless needSync is false",
        params::<schema::SchemaParams>,
        catalog_handler!(schema::create),
    ),
    Action::new(
        "schema",
        "update",
        "Renames a schema",
        params::<schema::RenameParams>,
        catalog_handler!(schema::update),
    ),
    Action::new(
        "schema",
        "sync",
        "Syncs a schema's tables with the datasource",
        params::<IdParams>,
        catalog_handler!(schema::sync),
    ),
    Action::new(
        "table",
        "create",
        "Adds tables of a schema (one request or an array)",
        one_or_many::<table::TableParams>,
        catalog_handler!(table::create),
    ),
    Action::new(
        "table",
        "update",
        "Changes a table's alias and description",
        params::<DescribeParams>,
        catalog_handler!(table::update),
    ),
    Action::new(
        "table",
        "get",
        "A table with its columns",
        params::<IdParams>,
        catalog_handler!(table::get),
    ),
    Action::new(
        "folder",
        "create",
        "Adds a folder",
        params::<folder::FolderParams>,
        catalog_handler!(folder::create),
    ),
    Action::new(
        "folder",
        "update",
        "Changes a folder's alias and description",
        params::<DescribeParams>,
        catalog_handler!(folder::update),
    ),
    Action::new(
        "resource",
        "getChildList",
        "The children (or descendants) of a resource",
        params::<resource::ChildListParams>,
        catalog_handler!(resource::child_list),
    ),
    Action::new(
        "resource",
        "get",
        "A resource with its path",
        params::<IdParams>,
        catalog_handler!(resource::get),
    ),
    Action::new(
        "resource",
        "delete",
        "Deletes resources and what is under them",
        params::<resource::DeleteParams>,
        catalog_handler!(resource::delete),
    ),
    Action::new(
        "augmented",
        "create",
        "Adds a data model",
        params::<augmented::ModelParams>,
        catalog_handler!(augmented::create),
    ),
    Action::new(
        "augmented",
        "get",
        "A data model",
        params::<IdParams>,
        catalog_handler!(augmented::get),
    ),
    Action::new(
        "augmented",
        "query",
        "Queries a data model (or shows its SQL: dryRun)",
        params::<augmented::QueryParams>,
        catalog_handler!(augmented::query),
    ),
    Action::new(
        "dataperm",
        "create",
        "Sets the row permissions of a table",
        params::<dataperm::DatapermParams>,
        catalog_handler!(dataperm::create),
    ),
    Action::new(
        "dataperm",
        "get",
        "The row permissions of a table",
        params::<IdParams>,
        catalog_handler!(dataperm::get),
    ),
    Action::new(
        "perm",
        "assignee/resource",
        "Grants users, groups or roles a level on a resource",
        params::<perm::AssignParams>,
        catalog_handler!(perm::assign),
    ),
    Action::new(
        "perm",
        "get",
        "Who holds which level on a resource",
        params::<IdParams>,
        catalog_handler!(perm::get),
    ),
];

/// Runs a catalog action's handler for the caller with its parsed `paramsInfo`.
pub async fn dispatch(
    state: &State,
    who: &Principal,
    run: CatalogFn,
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
    run(state.clone(), caller, params).await
}

// ---- running use-cases ----

/// Runs a use-case on the blocking pool; a refusal that names a field names it under
/// `paramsInfo`.
#[track_caller]
pub(super) fn blocking<T: Send + 'static>(
    state: &State,
    f: impl FnOnce(&weir_bi_catalog::CatalogService) -> Result<T, CatalogError> + Send + 'static,
) -> impl Future<Output = Result<T, SmartbiError>> {
    let state = state.clone();
    let call = crate::core::blocking(move || f(&state.catalog));
    async move { call.await?.map_err(|e| refusal(e, false)) }
}

/// `table/update` and `folder/update`: the same change of alias and description, by
/// the use-case `change` runs; answers the id.
async fn describe(
    state: &State,
    p: DescribeParams,
    change: impl FnOnce(
        &weir_bi_catalog::CatalogService,
        ResourceRef,
        Describe,
    ) -> Result<Resource, CatalogError>
    + Send
    + 'static,
) -> SmartbiResult {
    let changes = Describe {
        alias: p.alias,
        desc: p.desc,
    };
    let r = blocking(state, move |s| change(s, p.id, changes)).await?;
    Ok(json!(r.api_id()))
}

/// A domain refusal as the dialect says it: fields under `paramsInfo` (`[0].` dropped
/// when the request sent one object rather than an array).
pub(super) fn refusal(e: CatalogError, single: bool) -> SmartbiError {
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
pub(super) fn opt_ref<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ResourceRef>, D::Error> {
    match Option::<Json>::deserialize(d)? {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) if s.trim().is_empty() => Ok(None),
        Some(v) => ResourceRef::deserialize(v)
            .map(Some)
            .map_err(D::Error::custom),
    }
}

/// An integer, also written as a string (`"10"`).
pub(super) fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
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

/// The parameters of the actions that name one resource.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = smartbi::IdParams)]
pub(super) struct IdParams {
    #[schema(value_type = ResourceId)]
    pub(super) id: ResourceRef,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = smartbi::DescribeParams)]
struct DescribeParams {
    #[schema(value_type = ResourceId)]
    id: ResourceRef,
    alias: Option<String>,
    desc: Option<String>,
}

// ---- answers ----

pub(super) fn report_json(r: &SyncReport) -> Json {
    json!({
        "added": r.added,
        "removed": r.removed,
        "changed": r.changed,
        "skipped": r.skipped,
    })
}

/// `yyyy-MM-dd HH:mm:ss` in UTC, as Smartbi writes times.
pub(super) fn datetime(ms: Millis) -> String {
    crate::times::utc(ms, "%Y-%m-%d %H:%M:%S")
}

#[cfg(test)]
mod tests {
    use super::datasource::DatasourceParams;
    use super::resource::{refs, resource_types};
    use super::schema::SchemaParams;
    use super::table::TableParams;
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
