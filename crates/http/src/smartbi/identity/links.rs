//! The links (document 3.4–3.6): `usergroup/*` (a user's groups), `rolegroup/*` (the
//! groups a role is granted to) and `userrole/*` (a user's own roles), each with
//! `update` (append, or replace with `override`), `delete` and `get`.

use serde::Deserialize;
use serde_json::{Value as Json, json};
use utoipa::ToSchema;
use weir_identity::service::{LinkFailure, LinkMode};
use weir_identity::{GroupLink, Role};

use super::{Key, Request, call, key_list, opt_key, unknown_action};
use crate::smartbi::catalog::{missing, opt_bool, parse};
use crate::smartbi::envelope::SmartbiResult;

pub(super) async fn run(r: Request<'_>) -> SmartbiResult {
    let p: LinkParams = parse(r.params)?;
    let mode = if p.replace.unwrap_or(false) {
        LinkMode::Override
    } else {
        LinkMode::Append
    };
    match (r.module, r.action) {
        ("usergroup", "update") => {
            let user = p.userid.ok_or_else(|| missing("userid"))?;
            let groups = key_list("groupList", p.group_list, "group")?;
            let default = p.default_group_id;
            let failed = call(r.state, r.who, move |s, p| {
                s.add_user_groups(p, &user, &groups, default.as_deref(), mode)
            })
            .await?;
            Ok(failures_json(&failed))
        }
        ("usergroup", "delete") => {
            let user = p.userid.ok_or_else(|| missing("userid"))?;
            let groups = key_list("groupList", p.group_list, "group")?;
            call(r.state, r.who, move |s, p| {
                s.remove_user_groups(p, &user, &groups)
            })
            .await?;
            // The document answers nothing (无).
            Ok(Json::Null)
        }
        ("usergroup", "get") => {
            let user = p.userid.ok_or_else(|| missing("userid"))?;
            let links = call(r.state, r.who, move |s, p| s.user_groups(p, &user)).await?;
            Ok(Json::Array(
                links.iter().map(|l| group_json(l, true)).collect(),
            ))
        }
        ("rolegroup", "update") => {
            let role = p.rolename.ok_or_else(|| missing("rolename"))?;
            let groups = key_list("groupList", p.group_list, "group")?;
            let failed = call(r.state, r.who, move |s, p| {
                s.add_role_groups(p, &role, &groups, mode)
            })
            .await?;
            Ok(failures_json(&failed))
        }
        ("rolegroup", "delete") => {
            let role = p.rolename.ok_or_else(|| missing("rolename"))?;
            let groups = key_list("groupList", p.group_list, "group")?;
            call(r.state, r.who, move |s, p| {
                s.remove_role_groups(p, &role, &groups)
            })
            .await?;
            Ok(Json::Null)
        }
        ("rolegroup", "get") => {
            let role = p.rolename.ok_or_else(|| missing("rolename"))?;
            let links = call(r.state, r.who, move |s, p| s.role_groups(p, &role)).await?;
            Ok(Json::Array(
                links.iter().map(|l| group_json(l, false)).collect(),
            ))
        }
        ("userrole", "update") => {
            let user = p.userid.ok_or_else(|| missing("userid"))?;
            let roles = key_list("roleList", p.role_list, "role")?;
            let failed = call(r.state, r.who, move |s, p| {
                s.add_account_roles(p, &user, &roles, mode)
            })
            .await?;
            Ok(failures_json(&failed))
        }
        ("userrole", "delete") => {
            let user = p.userid.ok_or_else(|| missing("userid"))?;
            let roles = key_list("roleList", p.role_list, "role")?;
            call(r.state, r.who, move |s, p| {
                s.remove_account_roles(p, &user, &roles)
            })
            .await?;
            Ok(Json::Null)
        }
        ("userrole", "get") => {
            let user = p.userid.ok_or_else(|| missing("userid"))?;
            let roles = call(r.state, r.who, move |s, p| s.account_roles(p, &user)).await?;
            Ok(Json::Array(roles.iter().map(role_json).collect()))
        }
        _ => unknown_action(r.module, r.action),
    }
}

/// The items of a link update that were not applied: `[{id, msg}]`.
fn failures_json(failed: &[LinkFailure]) -> Json {
    Json::Array(
        failed
            .iter()
            .map(|f| json!({"id": f.id, "msg": f.msg}))
            .collect(),
    )
}

/// A group as `usergroup/get` (with `code`) and `rolegroup/get` list it.
fn group_json(l: &GroupLink, with_code: bool) -> Json {
    let g = &l.group;
    let mut item = json!({
        "id": g.id,
        "name": g.name,
        "alias": g.alias,
        "desc": g.description,
    });
    if with_code {
        item["code"] = json!(g.code);
    }
    item
}

/// A role as `userrole/get` lists it.
fn role_json(r: &Role) -> Json {
    json!({
        "id": r.id.to_string(),
        "name": r.name,
        "alias": r.alias,
        "desc": r.description,
    })
}

/// The parameters of every link action (each reads the ones it needs). `userId` and
/// `roleName` are read as `userid` and `rolename`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = smartbi::LinkParams)]
pub(super) struct LinkParams {
    #[serde(default, alias = "userId", deserialize_with = "opt_key")]
    userid: Option<String>,
    #[serde(default, alias = "roleName", deserialize_with = "opt_key")]
    rolename: Option<String>,
    #[serde(default, rename = "groupList")]
    #[schema(value_type = Option<Vec<String>>)]
    group_list: Option<Vec<Key>>,
    #[serde(default, rename = "roleList")]
    #[schema(value_type = Option<Vec<String>>)]
    role_list: Option<Vec<Key>>,
    #[serde(default, rename = "defaultGroupId", deserialize_with = "opt_key")]
    default_group_id: Option<String>,
    #[serde(default, rename = "override", deserialize_with = "opt_bool")]
    replace: Option<bool>,
}
