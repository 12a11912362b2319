//! `role/create`, `role/update`, `role/delete`, `role/get` (document 3.3). A role is named
//! by its name (an id works too).

use serde::Deserialize;
use serde_json::{Value as Json, json};
use utoipa::ToSchema;
use weir_identity::errors::{GroupError, RoleError};
use weir_identity::service::{RoleChanges, RoleProfile};
use weir_identity::{Group, ROOT_GROUP};

use super::{Request, call, not_all_digits, opt_key, unknown_action};
use crate::smartbi::catalog::{missing, opt_bool, parse};
use crate::smartbi::envelope::SmartbiResult;

pub(super) async fn run(r: Request<'_>) -> SmartbiResult {
    let p: RoleParams = parse(r.params)?;
    let name = p.name.ok_or_else(|| missing("name"))?;
    match r.action {
        "create" => {
            not_all_digits("name", &name)?;
            let changes = RoleChanges {
                name: Some(name),
                alias: p.alias,
                description: p.desc,
                group_id: p.group_id,
                check_group: p.check_group_exist.unwrap_or(false),
                ..RoleChanges::default()
            };
            let made = call(r.state, r.who, move |s, p| s.create_role(p, &changes)).await?;
            Ok(json!(made.role.id.to_string()))
        }
        "update" => {
            let changes = RoleChanges {
                alias: p.alias,
                description: p.desc,
                ..RoleChanges::default()
            };
            let r = call(r.state, r.who, move |s, p| {
                let role = s.find_role(p, &name)?;
                s.change_role(p, role.role.id, &changes)
            })
            .await?;
            Ok(json!(r.role.id.to_string()))
        }
        "delete" => {
            let id = call(r.state, r.who, move |s, p| {
                let role = s.find_role(p, &name)?;
                s.delete_role(p, role.role.id)?;
                Ok::<_, RoleError>(role.role.id)
            })
            .await?;
            Ok(json!(id.to_string()))
        }
        "get" => {
            let role = call(r.state, r.who, move |s, p| s.find_role(p, &name)).await?;
            // The group the role belongs to (not a grant: rolegroup/get lists those).
            let id = role.role.group_id.clone();
            let home = call(r.state, r.who, move |s, p| {
                match s.group(p, id.as_deref().unwrap_or(ROOT_GROUP)) {
                    Ok(g) => Ok(Some(g)),
                    Err(GroupError::NotFound(_)) => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .await?;
            Ok(role_json(&role, home.as_ref()))
        }
        _ => unknown_action(r.module, r.action),
    }
}

/// What `role/get` answers: the role and the group it belongs to (the root when none is
/// recorded).
fn role_json(r: &RoleProfile, home: Option<&Group>) -> Json {
    let group_id = r.role.group_id.as_deref().unwrap_or(ROOT_GROUP);
    json!({
        "id": r.role.id.to_string(),
        "name": r.role.name,
        "alias": r.role.alias,
        "desc": r.role.description,
        "groupId": home.map_or(group_id, |g| g.id.as_str()),
        "groupName": home.map(|g| &g.name),
    })
}

/// The parameters of every `role/*` action.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = smartbi::RoleParams)]
pub(super) struct RoleParams {
    #[serde(default, deserialize_with = "opt_key")]
    name: Option<String>,
    alias: Option<String>,
    desc: Option<String>,
    #[serde(default, deserialize_with = "opt_key")]
    group_id: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    check_group_exist: Option<bool>,
}
