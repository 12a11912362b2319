//! How a `choice` node picks its branch: the first `when` branch whose conditions hold
//! (all of them with `AND`, one with `OR`), else `otherwise`.
//!
//! A `condition` is `{key, operator, value}`: `key` is a reference (the console's
//! `#{properties.node['member']}` or Weir's `{{node.member}}`, see [`super::refs`]) or the
//! name of a member of the message the node received; `value` a literal or a reference.
//! - `EQ`, `NE`: numbers compare as numbers (`"30"` equals `30`), other values as JSON.
//! - `GT`, `GE`, `LT`, `LE`: numbers, or strings holding numbers. A missing value (`null`) is
//!   not greater or smaller than anything: the condition is false. Anything else is an
//!   error naming the condition, rather than a silent `false`.
//! - `CONTAINS`, `NOT_CONTAINS`: a substring of a string, or an element of a list.
//! - `START_WITH`, `END_WITH`: strings (a number is read as its text).
//! - `IS_EMPTY`, `IS_NOT_EMPTY`: `null`, `""`, `[]` and `{}` are empty.
//!
//! A script branch (`expressionType` a script language) runs each condition as a script
//! over the message's members, which must answer a boolean. A console reference in it is
//! read as a variable holding the value (`#{properties.n1['t']} > 30`).

use std::time::Instant;

use serde_json::{Map, Value as Json};

use super::ports::{NodeError, ScriptEngine};
use super::refs::{Scope, has_reference};

/// The id of the branch the run follows.
pub fn pick_branch(
    parameters: &Map<String, Json>,
    scope: &Scope<'_>,
    scripts: &dyn ScriptEngine,
    deadline: Instant,
) -> Result<String, NodeError> {
    let choice = &parameters["choice"];
    let empty = Vec::new();
    let when = choice["when"].as_array().unwrap_or(&empty);
    for branch in when {
        let id = branch["id"].as_str().unwrap_or_default();
        let any = branch["logicOperator"].as_str() == Some("OR");
        let language = branch["expressionType"].as_str().unwrap_or("condition");
        let conditions = branch["conditions"].as_array().unwrap_or(&empty);
        let mut holds = !any;
        for (i, condition) in conditions.iter().enumerate() {
            let expression = &condition["expressionValue"];
            let at = || format!("branch \"{id}\", condition {}", i + 1);
            let result = if language == "condition" {
                compare(expression, scope)
            } else {
                script(language, expression, scope, scripts, deadline)
            }
            .map_err(|e| NodeError(format!("{}: {e}", at())))?;
            if result == any {
                holds = any;
                break;
            }
        }
        if holds {
            return Ok(id.to_owned());
        }
    }
    Ok(choice["otherwise"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

fn script(
    language: &str,
    expression: &Json,
    scope: &Scope<'_>,
    scripts: &dyn ScriptEngine,
    deadline: Instant,
) -> Result<bool, NodeError> {
    let code = expression.as_str().unwrap_or_default();
    let (code, references) = scope.script_references(code);
    let mut variables = scope.message.clone();
    variables.extend(references);
    match scripts.run(language, &code, &variables, deadline)? {
        Json::Bool(b) => Ok(b),
        other => Err(NodeError(format!(
            "the script answered {}, not a boolean",
            short(&other)
        ))),
    }
}

fn compare(expression: &Json, scope: &Scope<'_>) -> Result<bool, NodeError> {
    let key = expression["key"].as_str().unwrap_or_default();
    let left = if has_reference(key) {
        scope.resolve_str(key)
    } else {
        scope.lookup(key)
    };
    let right = scope.resolve(&expression["value"]);
    let operator = expression["operator"].as_str().unwrap_or_default();
    Ok(match operator {
        "IS_EMPTY" => is_empty(&left),
        "IS_NOT_EMPTY" => !is_empty(&left),
        "EQ" => equal(&left, &right),
        "NE" => !equal(&left, &right),
        "GT" | "GE" | "LT" | "LE" => {
            if left.is_null() || right.is_null() {
                return Ok(false);
            }
            let (Some(a), Some(b)) = (number(&left), number(&right)) else {
                return Err(NodeError(format!(
                    "{operator} compares numbers; got {} and {}",
                    short(&left),
                    short(&right)
                )));
            };
            match operator {
                "GT" => a > b,
                "GE" => a >= b,
                "LT" => a < b,
                _ => a <= b,
            }
        }
        "CONTAINS" => contains(&left, &right),
        "NOT_CONTAINS" => !contains(&left, &right),
        "START_WITH" => text(&left).starts_with(&text(&right)),
        "END_WITH" => text(&left).ends_with(&text(&right)),
        other => return Err(NodeError(format!("unknown operator {other}"))),
    })
}

fn is_empty(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::String(s) => s.is_empty(),
        Json::Array(a) => a.is_empty(),
        Json::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn number(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn equal(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(_), _) | (_, Json::Number(_)) => match (number(a), number(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
        _ => a == b,
    }
}

fn contains(haystack: &Json, needle: &Json) -> bool {
    match haystack {
        Json::Array(items) => items.iter().any(|i| equal(i, needle)),
        Json::Null => false,
        _ => text(haystack).contains(&text(needle)),
    }
}

/// A value as text: a string as it is, anything else as JSON.
fn text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

/// A value for an error message, cut short.
pub(crate) fn short(v: &Json) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}...", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

    use super::*;

    fn holds(key: &str, operator: &str, value: Json, message: Json) -> Result<bool, NodeError> {
        let outputs = HashMap::from([("n1".to_string(), json!({"t": 31, "tags": ["x"]}))]);
        let message = message.as_object().unwrap().clone();
        let scope = Scope {
            outputs: &outputs,
            message: &message,
        };
        compare(
            &json!({"key": key, "operator": operator, "value": value}),
            &scope,
        )
    }

    #[test]
    fn comparisons_follow_the_documented_rules() {
        let m = json!({"kind": "temp", "v": "12.5", "empty": ""});
        assert!(holds("kind", "EQ", json!("temp"), m.clone()).unwrap());
        assert!(holds("{{kind}}", "NE", json!("hum"), m.clone()).unwrap());
        assert!(holds("{{n1.t}}", "GT", json!(30), m.clone()).unwrap());
        assert!(holds("#{properties.n1['t']}", "GT", json!(30), m.clone()).unwrap());
        assert!(holds("v", "LT", json!("#{properties.n1['t']}"), m.clone()).unwrap());
        assert!(holds("{{n1.t}}", "EQ", json!("31"), m.clone()).unwrap());
        assert!(holds("v", "LE", json!(12.5), m.clone()).unwrap());
        assert!(!holds("missing", "GT", json!(1), m.clone()).unwrap());
        assert!(holds("missing", "IS_EMPTY", Json::Null, m.clone()).unwrap());
        assert!(holds("empty", "IS_EMPTY", Json::Null, m.clone()).unwrap());
        assert!(holds("kind", "IS_NOT_EMPTY", Json::Null, m.clone()).unwrap());
        assert!(holds("kind", "CONTAINS", json!("em"), m.clone()).unwrap());
        assert!(holds("{{n1.tags}}", "CONTAINS", json!("x"), m.clone()).unwrap());
        assert!(holds("kind", "NOT_CONTAINS", json!("z"), m.clone()).unwrap());
        assert!(holds("kind", "START_WITH", json!("te"), m.clone()).unwrap());
        assert!(holds("kind", "END_WITH", json!("mp"), m.clone()).unwrap());
        let e = holds("kind", "GT", json!(3), m).unwrap_err();
        assert_eq!(e.0, "GT compares numbers; got \"temp\" and 3");
    }
}
