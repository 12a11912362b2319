//! `resource/getChildList`, `resource/get` and `resource/delete` (document 2.7, 2.10).

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{Value as Json, json};
use utoipa::ToSchema;
use weir_bi_catalog::catalog::{Caller, ChildQuery, Resource, ResourceRef, ResourceType};

use super::{IdParams, blocking, datetime, opt_bool, parse};
use crate::core::State;
use crate::smartbi::actions::ResourceId;
use crate::smartbi::envelope::{SmartbiError, SmartbiResult};

/// The children (or descendants) of a resource.
pub(super) async fn child_list(state: State, c: Caller, params: Json) -> SmartbiResult {
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

/// A resource with its path.
pub(super) async fn get(state: State, c: Caller, params: Json) -> SmartbiResult {
    let p: IdParams = parse(params)?;
    let info = blocking(&state, move |s| s.resource(&c, p.id)).await?;
    Ok(resource_json(&info.resource, &info.path))
}

/// Deletes resources and what is under them; answers their ids.
pub(super) async fn delete(state: State, c: Caller, params: Json) -> SmartbiResult {
    let p: DeleteParams = parse(params)?;
    let (ids, single) = refs(&p.id)?;
    let gone = blocking(&state, move |s| s.delete(&c, &ids)).await?;
    let ids: Vec<String> = gone.iter().map(Resource::api_id).collect();
    Ok(if single { json!(ids[0]) } else { json!(ids) })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = smartbi::ChildListParams)]
pub(super) struct ChildListParams {
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
pub(super) struct DeleteParams {
    /// One resource or an array of them.
    #[schema(schema_with = crate::smartbi::actions::resource_ids)]
    id: Json,
}

/// `id` as one id or an array of them; answers whether it was one.
pub(super) fn refs(raw: &Json) -> Result<(Vec<ResourceRef>, bool), SmartbiError> {
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

pub(super) fn resource_types(names: &[String]) -> Result<BTreeSet<ResourceType>, SmartbiError> {
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
