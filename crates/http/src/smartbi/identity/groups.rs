//! `group/create`, `group/update`, `group/delete`, `group/get` (document 3.1).

use serde::Deserialize;
use serde_json::{Value as Json, json};
use utoipa::ToSchema;
use weir_identity::service::{GroupInput, GroupUpdate};
use weir_identity::{Group, ROOT_GROUP};

use super::{Request, call, opt_key, unknown_action};
use crate::smartbi::catalog::{missing, opt_bool, parse};
use crate::smartbi::envelope::SmartbiResult;

pub(super) async fn run(r: Request<'_>) -> SmartbiResult {
    match r.action {
        "create" => {
            let p: GroupParams = parse(r.params)?;
            let input = GroupInput {
                id: p.id,
                parent_id: p.parent_id,
                check_parent: p.check_par_exist.unwrap_or(false),
                name: p.name.ok_or_else(|| missing("name"))?,
                alias: p.alias,
                description: p.desc,
                code: p.code,
            };
            let g = call(r.state, r.who, move |s, p| s.create_group(p, input)).await?;
            Ok(json!(g.id))
        }
        "update" => {
            let p: GroupParams = parse(r.params)?;
            let id = p.id.ok_or_else(|| missing("id"))?;
            let upd = GroupUpdate {
                parent_id: p.parent_id,
                name: p.name,
                alias: p.alias,
                description: p.desc,
                code: p.code,
            };
            let g = call(r.state, r.who, move |s, p| s.update_group(p, &id, upd)).await?;
            Ok(json!(g.id))
        }
        "delete" => {
            let p: GroupParams = parse(r.params)?;
            let id = p.id.ok_or_else(|| missing("id"))?;
            let gone = id.clone();
            call(r.state, r.who, move |s, p| s.delete_group(p, &gone)).await?;
            Ok(json!(id))
        }
        "get" => {
            let p: GroupParams = parse(r.params)?;
            // **Decision:** the document lets the id be empty; no id reads the root.
            let id = p.id.unwrap_or_else(|| ROOT_GROUP.to_owned());
            let g = call(r.state, r.who, move |s, p| s.group(p, &id)).await?;
            Ok(group_json(&g))
        }
        _ => unknown_action(r.module, r.action),
    }
}

/// What `group/get` answers.
fn group_json(g: &Group) -> Json {
    json!({
        "id": g.id,
        "name": g.name,
        "alias": g.alias,
        "desc": g.description,
        "code": g.code,
        "parentId": g.parent_id,
    })
}

/// The parameters of every `group/*` action (each reads the ones it needs).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = smartbi::GroupParams)]
pub(super) struct GroupParams {
    #[serde(default, deserialize_with = "opt_key")]
    id: Option<String>,
    #[serde(default, deserialize_with = "opt_key")]
    parent_id: Option<String>,
    name: Option<String>,
    alias: Option<String>,
    desc: Option<String>,
    code: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    check_par_exist: Option<bool>,
}
