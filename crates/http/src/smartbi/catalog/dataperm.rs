//! Row permissions in the Smartbi dialect: `dataperm/create` and `dataperm/get` (document
//! 2.5). See docs/bi-query.md, "Row permissions".

use serde::Deserialize;
use serde_json::{Value as Json, json};
use utoipa::ToSchema;
use weir_bi_catalog::catalog::{Caller, RejectedItem, ResourceRef};
use weir_bi_catalog::row_perms::RowPermItem;

use super::{IdParams, blocking, opt_bool, parse};
use crate::core::State;
use crate::smartbi::actions::ResourceId;
use crate::smartbi::envelope::{SmartbiError, SmartbiResult};

/// Sets the row permissions of a table; answers the items refused.
pub(super) async fn create(state: State, c: Caller, params: Json) -> SmartbiResult {
    let p: DatapermParams = parse(params)?;
    // Items of the wrong shape are refused one by one, like items that do not
    // check: the others are still stored.
    let mut rejected = Vec::new();
    let mut items = Vec::new();
    let mut places = Vec::new();
    for (index, raw) in p.rowperm_items.into_iter().enumerate() {
        let name = raw
            .get("itemName")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned();
        match serde_path_to_error::deserialize::<_, RowPermItem>(raw) {
            Ok(item) => {
                items.push(item);
                places.push(index);
            }
            Err(e) => {
                let path = e.path().to_string();
                let inner = e.into_inner();
                rejected.push(RejectedItem {
                    index,
                    item_name: name,
                    message: if path == "." {
                        inner.to_string()
                    } else {
                        format!("{path}: {inner}")
                    },
                });
            }
        }
    }
    let replace = p.replace.unwrap_or(false);
    let refused = blocking(&state, move |s| s.set_row_perms(&c, p.id, items, replace)).await?;
    rejected.extend(refused.into_iter().map(|mut r| {
        r.index = places[r.index];
        r
    }));
    rejected.sort_by_key(|r| r.index);
    Ok(Json::Array(
        rejected
            .into_iter()
            .map(|r| json!({"itemName": r.item_name, "msg": r.message, "index": r.index}))
            .collect(),
    ))
}

/// The row permissions of a table.
pub(super) async fn get(state: State, c: Caller, params: Json) -> SmartbiResult {
    let p: IdParams = parse(params)?;
    let items = blocking(&state, move |s| s.row_perms(&c, p.id)).await?;
    serde_json::to_value(items).map_err(|_| SmartbiError::new("internal server error"))
}

/// `dataperm/create`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = smartbi::DatapermParams)]
pub(super) struct DatapermParams {
    #[schema(value_type = ResourceId)]
    id: ResourceRef,
    #[serde(default, rename = "override", deserialize_with = "opt_bool")]
    replace: Option<bool>,
    /// The items (docs/bi-query.md, "Row permissions").
    #[schema(value_type = Vec<Object>)]
    rowperm_items: Vec<Json>,
}
