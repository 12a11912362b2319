//! `table/create`, `table/update` (document 2.3) and Weir's own `table/get`.

use serde::Deserialize;
use serde_json::{Value as Json, json};
use utoipa::ToSchema;
use weir_bi_catalog::catalog::{AddTables, Caller, ResourceRef};

use super::{DescribeParams, IdParams, blocking, describe, opt_bool, parse, refusal, report_json};
use crate::core::State;
use crate::smartbi::actions::ResourceId;
use crate::smartbi::envelope::SmartbiResult;

/// Adds tables of a schema (one request or an array); answers the report (or one per request).
pub(super) async fn create(state: State, c: Caller, params: Json) -> SmartbiResult {
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

/// Changes a table's alias and description; answers its id.
pub(super) async fn update(state: State, c: Caller, params: Json) -> SmartbiResult {
    let p: DescribeParams = parse(params)?;
    describe(&state, p, move |s, id, changes| {
        s.update_table(&c, id, changes)
    })
    .await
}

/// A table with its columns.
pub(super) async fn get(state: State, c: Caller, params: Json) -> SmartbiResult {
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = smartbi::TableParams)]
pub(super) struct TableParams {
    #[schema(value_type = ResourceId)]
    ds_id: ResourceRef,
    #[serde(default)]
    schema_name: String,
    #[serde(default, rename = "override", deserialize_with = "opt_bool")]
    replace: Option<bool>,
    catalog: Option<String>,
    table_list: Vec<String>,
}
