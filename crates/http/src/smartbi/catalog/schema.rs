//! `schema/create`, `schema/update` (document 2.2) and Weir's own `schema/sync`.

use serde::Deserialize;
use serde_json::{Value as Json, json};
use utoipa::ToSchema;
use weir_bi_catalog::catalog::{Caller, NewSchema, ResourceRef};

use super::{IdParams, blocking, opt_bool, parse, report_json};
use crate::core::State;
use crate::smartbi::actions::ResourceId;
use crate::smartbi::envelope::SmartbiResult;

/// Adds a schema of a datasource, synced unless `needSync` is false; answers its id.
pub(super) async fn create(state: State, c: Caller, params: Json) -> SmartbiResult {
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

/// Renames a schema; answers its id.
pub(super) async fn update(state: State, c: Caller, params: Json) -> SmartbiResult {
    let p: RenameParams = parse(params)?;
    let r = blocking(&state, move |s| {
        s.rename_schema(&c, p.id, p.name.as_deref())
    })
    .await?;
    Ok(json!(r.api_id()))
}

/// Syncs a schema's tables with the datasource; answers the report.
pub(super) async fn sync(state: State, c: Caller, params: Json) -> SmartbiResult {
    let p: IdParams = parse(params)?;
    let report = blocking(&state, move |s| s.sync_schema(&c, p.id)).await?;
    Ok(report_json(&report))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = smartbi::SchemaParams)]
pub(super) struct SchemaParams {
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
pub(super) struct RenameParams {
    #[schema(value_type = ResourceId)]
    id: ResourceRef,
    name: Option<String>,
}
