//! `user/create`, `user/update`, `user/delete`, `user/get` (document 3.2). A user is
//! named by id or by login name (`id`: "可传递用户id或用户名称").

use serde::Deserialize;
use serde_json::{Value as Json, json};
use utoipa::ToSchema;
use weir_identity::service::{Account, AccountInput, AccountUpdate};

use super::{Request, call, not_all_digits, opt_key, opt_secret, unknown_action};
use crate::smartbi::catalog::{missing, opt_bool, parse};
use crate::smartbi::envelope::{SmartbiError, SmartbiResult};

pub(super) async fn run(r: Request<'_>) -> SmartbiResult {
    let p: UserParams = parse(r.params)?;
    match r.action {
        "create" => {
            // **Decision:** Weir mints user ids (numbers, docs/architecture.md); a client
            // cannot choose one. The new id is the answer.
            if let Some(id) = &p.id {
                return Err(SmartbiError::new(format!(
                    "paramsInfo.id: Weir chooses user ids, leave id out (got `{}`); \
                     the new user's id is the result",
                    id.chars().take(64).collect::<String>()
                )));
            }
            let name = p.name.ok_or_else(|| missing("name"))?;
            not_all_digits("name", &name)?;
            let input = AccountInput {
                username: name,
                email: None,
                // A blank alias is no alias: the name is shown.
                nickname: p.alias.filter(|a| !a.trim().is_empty()),
                description: p.desc,
                password: p.password,
                enabled: p.enabled,
                group_id: p.group_id,
                check_group: p.check_group_exist.unwrap_or(false),
            };
            let a = call(r.state, r.who, move |s, p| s.create_account(p, input)).await?;
            Ok(json!(a.user.id.to_string()))
        }
        "update" => {
            let key = p.id.ok_or_else(|| missing("id"))?;
            let upd = AccountUpdate {
                nickname: p.alias,
                description: p.desc,
                password: p.password,
                enabled: p.enabled,
            };
            let a = call(r.state, r.who, move |s, p| s.update_account(p, &key, upd)).await?;
            Ok(json!(a.user.id.to_string()))
        }
        "delete" => {
            let key = p.id.ok_or_else(|| missing("id"))?;
            let id = call(r.state, r.who, move |s, p| s.delete_account(p, &key)).await?;
            Ok(json!(id.to_string()))
        }
        "get" => {
            let key = p.id.ok_or_else(|| missing("id"))?;
            let a = call(r.state, r.who, move |s, p| s.account(p, &key)).await?;
            Ok(account_json(&a))
        }
        _ => unknown_action(r.module, r.action),
    }
}

/// What `user/get` answers.
fn account_json(a: &Account) -> Json {
    let u = &a.user;
    json!({
        "id": u.id.to_string(),
        "name": u.username,
        "alias": u.nickname,
        "desc": u.description,
        "enabled": u.status.is_enabled(),
        "groupId": a.default_group.as_ref().map(|g| &g.id),
        "groupName": a.default_group.as_ref().map(|g| &g.name),
    })
}

/// The parameters of every `user/*` action. No `Debug`: it holds a password.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = smartbi::UserParams)]
pub(super) struct UserParams {
    #[serde(default, deserialize_with = "opt_key")]
    id: Option<String>,
    #[serde(default, deserialize_with = "opt_key")]
    group_id: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    check_group_exist: Option<bool>,
    name: Option<String>,
    alias: Option<String>,
    desc: Option<String>,
    #[serde(default, deserialize_with = "opt_secret")]
    password: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    enabled: Option<bool>,
}
