//! Resource permissions in the Smartbi dialect: `perm/assignee/resource` (document 2.9)
//! and Weir's own `perm/get`. See docs/bi-catalog.md, "Resource permissions".

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::{Value as Json, json};
use utoipa::ToSchema;
use weir_bi_catalog::catalog::{Caller, GrantRule, GrantSet, ResourceRef};

use super::{IdParams, blocking, opt_bool, parse};
use crate::core::State;
use crate::smartbi::actions::ResourceId;
use crate::smartbi::envelope::SmartbiResult;

/// Grants users, groups or roles a level on a resource.
pub(super) async fn assign(state: State, c: Caller, params: Json) -> SmartbiResult {
    let p: AssignParams = parse(params)?;
    let rules: Vec<GrantRule> = p.perm_auth.into_iter().map(Into::into).collect();
    let replace = p.replace.unwrap_or(false);
    blocking(&state, move |s| s.set_grants(&c, p.id, &rules, replace)).await?;
    // The document answers nothing (无).
    Ok(Json::Null)
}

/// Who holds which level on a resource.
pub(super) async fn get(state: State, c: Caller, params: Json) -> SmartbiResult {
    let p: IdParams = parse(params)?;
    let sets = blocking(&state, move |s| s.grants(&c, p.id)).await?;
    Ok(Json::Array(sets.iter().map(set_json).collect()))
}

fn set_json(s: &GrantSet) -> Json {
    json!({
        "user": s.users,
        "group": s.groups,
        "role": s.roles,
        "auth": s.auth.as_str(),
        "scope": s.scope.as_str(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = smartbi::AssignParams)]
pub(super) struct AssignParams {
    #[schema(value_type = ResourceId)]
    id: ResourceRef,
    #[serde(default, rename = "override", deserialize_with = "opt_bool")]
    replace: Option<bool>,
    perm_auth: Vec<RuleParams>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = smartbi::RuleParams)]
struct RuleParams {
    #[serde(default, deserialize_with = "id_list")]
    user: Vec<String>,
    #[serde(default, deserialize_with = "id_list")]
    group: Vec<String>,
    #[serde(default, deserialize_with = "id_list")]
    role: Vec<String>,
    auth: Option<String>,
    scope: Option<String>,
}

impl From<RuleParams> for GrantRule {
    fn from(p: RuleParams) -> Self {
        Self {
            users: p.user,
            groups: p.group,
            roles: p.role,
            auth: p.auth,
            scope: p.scope,
        }
    }
}

/// An array of ids, each a string or an integer; `null` is none.
fn id_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Option::<Json>::deserialize(d)? {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| match v {
                Json::String(s) => Ok(s),
                Json::Number(n) => Ok(n.to_string()),
                other => Err(D::Error::custom(format!(
                    "[{i}]: invalid type: {other}, expected an id (a string or an integer)"
                ))),
            })
            .collect(),
        Some(other) => Err(D::Error::custom(format!(
            "invalid type: {other}, expected an array of ids"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_read_ids_as_strings_or_numbers_and_name_what_failed() {
        let p: AssignParams = parse(json!({"id": "PUBLIC", "override": "true",
            "permAuth": [{"user": ["12", 13], "auth": "read"}]}))
        .unwrap();
        assert_eq!(p.replace, Some(true));
        assert_eq!(p.perm_auth[0].user, ["12", "13"]);
        let e =
            parse::<AssignParams>(json!({"id": "7", "permAuth": [{}, {"role": "x"}]})).unwrap_err();
        assert!(
            e.msg.starts_with("paramsInfo.permAuth[1].role: "),
            "{}",
            e.msg
        );
        let e = parse::<AssignParams>(json!({"id": "7"})).unwrap_err();
        assert_eq!(e.msg, "paramsInfo: missing field `permAuth`");
        let e =
            parse::<AssignParams>(json!({"id": "7", "permAuth": [{"users": ["1"]}]})).unwrap_err();
        assert!(
            e.msg
                .starts_with("paramsInfo.permAuth[0].users: unknown field `users`"),
            "{}",
            e.msg
        );
    }
}
