//! `folder/create` and `folder/update` (document 2.6).

use serde::Deserialize;
use serde_json::{Value as Json, json};
use utoipa::ToSchema;
use weir_bi_catalog::catalog::{Caller, NewFolder, ResourceRef};

use super::{DescribeParams, blocking, describe, parse};
use crate::core::State;
use crate::smartbi::actions::ResourceId;
use crate::smartbi::envelope::SmartbiResult;

/// Adds a folder; answers its id.
pub(super) async fn create(state: State, c: Caller, params: Json) -> SmartbiResult {
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

/// Changes a folder's alias and description; answers its id.
pub(super) async fn update(state: State, c: Caller, params: Json) -> SmartbiResult {
    let p: DescribeParams = parse(params)?;
    describe(&state, p, move |s, id, changes| {
        s.update_folder(&c, id, changes)
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = smartbi::FolderParams)]
pub(super) struct FolderParams {
    #[schema(value_type = ResourceId)]
    parent_id: ResourceRef,
    #[serde(default)]
    name: String,
    alias: Option<String>,
    desc: Option<String>,
}
