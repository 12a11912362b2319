//! Users, user groups, roles and their links in the Smartbi dialect (document section 3):
//! `group/*`, `user/*` and `role/*` (`create`, `update`, `delete`, `get`), and
//! `usergroup/*`, `rolegroup/*` and `userrole/*` (`update`, `delete`, `get`). Each action
//! reads its `paramsInfo` into a typed request (a refusal names the field:
//! `paramsInfo.groupList[1]: ...`), runs the use-case of [`IdentityService`] on the
//! blocking pool as the caller and answers the document's `result`. Only a super admin
//! manages users, groups and roles. See docs/smartbi.md, "Users, groups and roles".

mod groups;
mod links;
mod roles;
mod users;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value as Json;
use weir_identity::errors::{FieldError, GroupError, RoleError, UserError};
use weir_identity::{IdentityService, Principal};

use super::actions::{Action, Handler, params};
use super::envelope::{SmartbiError, SmartbiResult};
use crate::core::State;

/// Section 3's actions.
pub const ACTIONS: &[Action] = &[
    Action::new(
        "group",
        "create",
        "Adds a user group",
        params::<groups::GroupParams>,
        Handler::Identity,
    ),
    Action::new(
        "group",
        "update",
        "Changes a user group",
        params::<groups::GroupParams>,
        Handler::Identity,
    ),
    Action::new(
        "group",
        "delete",
        "Deletes a user group",
        params::<groups::GroupParams>,
        Handler::Identity,
    ),
    Action::new(
        "group",
        "get",
        "A user group",
        params::<groups::GroupParams>,
        Handler::Identity,
    ),
    Action::new(
        "user",
        "create",
        "Adds a user",
        params::<users::UserParams>,
        Handler::Identity,
    ),
    Action::new(
        "user",
        "update",
        "Changes a user",
        params::<users::UserParams>,
        Handler::Identity,
    ),
    Action::new(
        "user",
        "delete",
        "Deletes a user",
        params::<users::UserParams>,
        Handler::Identity,
    ),
    Action::new(
        "user",
        "get",
        "A user",
        params::<users::UserParams>,
        Handler::Identity,
    ),
    Action::new(
        "role",
        "create",
        "Adds a role",
        params::<roles::RoleParams>,
        Handler::Identity,
    ),
    Action::new(
        "role",
        "update",
        "Changes a role",
        params::<roles::RoleParams>,
        Handler::Identity,
    ),
    Action::new(
        "role",
        "delete",
        "Deletes a role",
        params::<roles::RoleParams>,
        Handler::Identity,
    ),
    Action::new(
        "role",
        "get",
        "A role",
        params::<roles::RoleParams>,
        Handler::Identity,
    ),
    Action::new(
        "usergroup",
        "update",
        "Puts a user in groups",
        params::<links::LinkParams>,
        Handler::Identity,
    ),
    Action::new(
        "usergroup",
        "delete",
        "Takes a user out of groups",
        params::<links::LinkParams>,
        Handler::Identity,
    ),
    Action::new(
        "usergroup",
        "get",
        "A user's groups",
        params::<links::LinkParams>,
        Handler::Identity,
    ),
    Action::new(
        "rolegroup",
        "update",
        "Gives a role to groups",
        params::<links::LinkParams>,
        Handler::Identity,
    ),
    Action::new(
        "rolegroup",
        "delete",
        "Takes a role from groups",
        params::<links::LinkParams>,
        Handler::Identity,
    ),
    Action::new(
        "rolegroup",
        "get",
        "The groups holding a role",
        params::<links::LinkParams>,
        Handler::Identity,
    ),
    Action::new(
        "userrole",
        "update",
        "Gives a user roles",
        params::<links::LinkParams>,
        Handler::Identity,
    ),
    Action::new(
        "userrole",
        "delete",
        "Takes roles from a user",
        params::<links::LinkParams>,
        Handler::Identity,
    ),
    Action::new(
        "userrole",
        "get",
        "A user's roles",
        params::<links::LinkParams>,
        Handler::Identity,
    ),
];

/// Runs one of [`ACTIONS`] for the caller, with its parsed
/// `paramsInfo`.
pub async fn dispatch(
    state: &State,
    who: &Principal,
    module: &str,
    action: &str,
    params: Json,
) -> SmartbiResult {
    // Every use-case below checks this too; checking it first answers a plain user the
    // same refusal whatever their paramsInfo holds.
    who.require_super_admin()
        .map_err(|e| SmartbiError::new(e.to_string()))?;
    // Every action here takes one object (serde would read an array as the fields in
    // order).
    if !(params.is_object() || params.is_null()) {
        return Err(SmartbiError::new(format!(
            "paramsInfo must be a JSON object, not {}",
            kind_of(&params)
        )));
    }
    let request = Request {
        state,
        who,
        module,
        action,
        params,
    };
    match module {
        "group" => groups::run(request).await,
        "user" => users::run(request).await,
        "role" => roles::run(request).await,
        _ => links::run(request).await,
    }
}

/// The answer to an action of a known module that has no such action.
fn unknown_action(module: &str, action: &str) -> SmartbiResult {
    Err(SmartbiError::new(format!(
        "unknown action {module}/{action}"
    )))
}

/// One action as [`dispatch`] hands it to the module that runs it, once the caller and
/// the shape of `paramsInfo` have passed.
struct Request<'a> {
    state: &'a State,
    who: &'a Principal,
    module: &'a str,
    action: &'a str,
    params: Json,
}

// ---- running use-cases ----

/// Runs a use-case of the identity service on the blocking pool as `who`.
async fn call<T, E>(
    state: &State,
    who: &Principal,
    f: impl FnOnce(&IdentityService, &Principal) -> Result<T, E> + Send + 'static,
) -> Result<T, SmartbiError>
where
    T: Send + 'static,
    E: Refusal + Send + 'static,
{
    let (state, who) = (state.clone(), who.clone());
    crate::core::blocking(move || f(&state.identity, &who))
        .await?
        .map_err(Refusal::refusal)
}

/// A domain refusal as the dialect says it: a field under `paramsInfo`, by the name the
/// document gives it (`paramsInfo.desc: must be at most 255 characters`).
trait Refusal {
    fn refusal(self) -> SmartbiError;
}

impl Refusal for GroupError {
    fn refusal(self) -> SmartbiError {
        match self {
            Self::Invalid(f) => field_refusal(&f),
            Self::ParentNotFound(_) | Self::Cycle => under("parentId", &self),
            Self::IdTaken(_) => under("id", &self),
            e => SmartbiError::from_domain(e),
        }
    }
}

impl Refusal for UserError {
    fn refusal(self) -> SmartbiError {
        match self {
            Self::Invalid(f) => field_refusal(&f),
            // Only user/create names a group, and only with checkGroupExist.
            Self::GroupNotFound(_) => under("groupId", &self),
            Self::UsernameTaken(_) => under("name", &self),
            e => SmartbiError::from_domain(e),
        }
    }
}

impl Refusal for RoleError {
    fn refusal(self) -> SmartbiError {
        match self {
            Self::Invalid(f) => field_refusal(&f),
            // Only role/create names a group, and only with checkGroupExist.
            Self::GroupNotFound(_) => under("groupId", &self),
            Self::NameTaken(_) => under("name", &self),
            e => SmartbiError::from_domain(e),
        }
    }
}

fn under(field: &str, e: &dyn std::fmt::Display) -> SmartbiError {
    SmartbiError::new(format!("paramsInfo.{field}: {e}"))
}

fn field_refusal(f: &FieldError) -> SmartbiError {
    // The domain's names for the fields the document names otherwise.
    let field = match f.field.as_str() {
        "description" => "desc",
        "username" => "name",
        "nickname" => "alias",
        other => other,
    };
    SmartbiError::new(format!("paramsInfo.{field}: {}", f.message))
}

// ---- reading paramsInfo ----

/// An id or a name as a client sends it: a string (trimmed) or an integer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match key_of(Json::deserialize(d)?) {
            Ok(Some(k)) => Ok(Self(k)),
            Ok(None) => Err(D::Error::custom("must not be empty")),
            Err(msg) => Err(D::Error::custom(msg)),
        }
    }
}

/// A string (trimmed; blank is none) or an integer, as text.
fn key_of(v: Json) -> Result<Option<String>, String> {
    match v {
        Json::Null => Ok(None),
        Json::String(s) => {
            let s = s.trim();
            Ok((!s.is_empty()).then(|| s.to_owned()))
        }
        Json::Number(n) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
        other => Err(format!(
            "invalid type: {}, expected a string",
            kind_of(&other)
        )),
    }
}

fn kind_of(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number that is not an integer",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// An id or name that may be left out: missing, `null` and blank are none.
fn opt_key<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<Json>::deserialize(d)? {
        None => Ok(None),
        Some(v) => key_of(v).map_err(D::Error::custom),
    }
}

/// A password that may be left out: missing, `null` and `""` are none. Not trimmed.
fn opt_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()))
}

/// A required list of ids or names (`groupList`, `roleList`): present, not empty, at most
/// [`weir_identity::service::MAX_BATCH`] items.
fn key_list(field: &str, items: Option<Vec<Key>>, what: &str) -> Result<Vec<String>, SmartbiError> {
    let items = items.ok_or_else(|| super::catalog::missing(field))?;
    if items.is_empty() {
        return Err(SmartbiError::new(format!(
            "paramsInfo.{field}: must name at least one {what}"
        )));
    }
    let max = weir_identity::service::MAX_BATCH;
    if items.len() > max {
        return Err(SmartbiError::new(format!(
            "paramsInfo.{field}: must name at most {max} {what}s"
        )));
    }
    Ok(items.into_iter().map(|k| k.0).collect())
}

/// **Decision:** users and roles are named by id or by name, and an id is tried first, so
/// a name of digits only could one day name someone else. Names made here may not be all
/// digits.
fn not_all_digits(field: &str, name: &str) -> Result<(), SmartbiError> {
    let name = name.trim();
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SmartbiError::new(format!(
            "paramsInfo.{field}: must not be digits only (a name of digits would read as an \
             id where an id or a name is accepted)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::catalog::parse;
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Sample {
        #[serde(default, deserialize_with = "opt_key")]
        id: Option<String>,
        group_list: Option<Vec<Key>>,
    }

    #[test]
    fn keys_are_strings_or_integers_and_a_bad_item_is_named() {
        let p: Sample = parse(json!({"id": 12, "groupList": [" a ", 7]})).unwrap();
        assert_eq!(p.id.as_deref(), Some("12"));
        assert_eq!(
            key_list("groupList", p.group_list, "group").unwrap(),
            ["a", "7"]
        );
        let p: Sample = parse(json!({"id": "  "})).unwrap();
        assert_eq!((p.id, p.group_list), (None, None));
        let e = parse::<Sample>(json!({"id": true})).unwrap_err();
        assert_eq!(
            e.msg,
            "paramsInfo.id: invalid type: a boolean, expected a string"
        );
        let e = parse::<Sample>(json!({"groupList": ["a", ""]})).unwrap_err();
        assert_eq!(e.msg, "paramsInfo.groupList[1]: must not be empty");
        let e = parse::<Sample>(json!({"groupList": "a"})).unwrap_err();
        assert!(
            e.msg.starts_with("paramsInfo.groupList: invalid type"),
            "{}",
            e.msg
        );
        assert_eq!(
            key_list("groupList", None, "group").unwrap_err().msg,
            "paramsInfo.groupList: is required"
        );
        assert_eq!(
            key_list("roleList", Some(vec![]), "role").unwrap_err().msg,
            "paramsInfo.roleList: must name at least one role"
        );
    }

    #[test]
    fn domain_refusals_name_the_documents_field() {
        let e = RoleError::Invalid(FieldError::new("description", "must be short")).refusal();
        assert_eq!(e.msg, "paramsInfo.desc: must be short");
        let e = GroupError::ParentNotFound("x".into()).refusal();
        assert_eq!(e.msg, "paramsInfo.parentId: parent group `x` not found");
        let e = UserError::NotFoundNamed("bob".into()).refusal();
        assert_eq!(e.msg, "user `bob` not found");
        assert!(not_all_digits("name", "007").is_err());
        assert!(not_all_digits("name", "agent007").is_ok());
    }
}
