//! References from one node's parameters to what earlier nodes produced.
//!
//! A parameter value that is exactly `{{name}}` is replaced by the value it names, keeping
//! its JSON type; a string with `{{name}}` inside other text gets the value written into it
//! (strings as they are, other values as JSON). `name` is read as:
//! - `nodeId.member` — a member of the output of the node `nodeId`, which must have run
//!   before. The member is looked up by its whole name first, so entity keys with dots in
//!   them work (`{{listen.demo.device.d1.temperature}}`), then as a dotted path into nested
//!   objects (`{{http.body.value}}`);
//! - `nodeId` — the whole output of that node;
//! - anything else — a member of the message the node received (the output of the node
//!   before it), by whole name, then as a path.
//!
//! A name that finds nothing is `null`, so that a condition can test it with `IS_EMPTY`.

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

/// What references can see while a node runs.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// Outputs of the nodes that ran, by node id.
    pub outputs: &'a HashMap<String, Json>,
    /// The message the running node received.
    pub message: &'a Map<String, Json>,
}

impl Scope<'_> {
    /// Resolves every reference inside `value`, however deeply nested.
    pub fn resolve(&self, value: &Json) -> Json {
        match value {
            Json::String(s) => self.resolve_str(s),
            Json::Array(items) => Json::Array(items.iter().map(|v| self.resolve(v)).collect()),
            Json::Object(members) => Json::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), self.resolve(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Resolves every member of an object parameter.
    pub fn resolve_map(&self, members: Option<&Map<String, Json>>) -> Map<String, Json> {
        members
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), self.resolve(v)))
            .collect()
    }

    /// A string with references: the value itself when the string is one reference, else
    /// the string with each reference written into it.
    pub fn resolve_str(&self, s: &str) -> Json {
        if !s.contains("{{") {
            return Json::String(s.to_owned());
        }
        if let Some(name) = whole_reference(s) {
            return self.lookup(name);
        }
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(start) = rest.find("{{") {
            let Some(len) = rest[start + 2..].find("}}") else {
                break;
            };
            out.push_str(&rest[..start]);
            let name = rest[start + 2..start + 2 + len].trim();
            match self.lookup(name) {
                Json::String(v) => out.push_str(&v),
                Json::Null => {}
                v => out.push_str(&v.to_string()),
            }
            rest = &rest[start + 2 + len + 2..];
        }
        out.push_str(rest);
        Json::String(out)
    }

    /// The value a reference names; `null` when it names nothing.
    pub fn lookup(&self, name: &str) -> Json {
        if let Some(output) = self.outputs.get(name) {
            return output.clone();
        }
        if let Some((node, member)) = name.split_once('.')
            && let Some(output) = self.outputs.get(node)
        {
            return member_of(output, member).cloned().unwrap_or(Json::Null);
        }
        let message = Json::Object(self.message.clone());
        member_of(&message, name).cloned().unwrap_or(Json::Null)
    }
}

/// `name` when `s` is `{{name}}` and nothing else (spaces around allowed).
fn whole_reference(s: &str) -> Option<&str> {
    let inner = s.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}")).then(|| inner.trim())
}

/// A member by its whole name, else by a dotted path (`a.b.0.c`, numbers index arrays).
fn member_of<'a>(value: &'a Json, name: &str) -> Option<&'a Json> {
    if let Some(v) = value.get(name) {
        return Some(v);
    }
    let mut current = value;
    for part in name.split('.') {
        current = match current {
            Json::Object(m) => m.get(part)?,
            Json::Array(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn outputs() -> HashMap<String, Json> {
        HashMap::from([
            (
                "listen".to_string(),
                json!({"demo.device.d1.temperature": 31.5}),
            ),
            (
                "http".to_string(),
                json!({"body": {"value": 7, "tags": ["a", "b"]}}),
            ),
        ])
    }

    #[test]
    fn a_whole_reference_keeps_its_type_and_text_gets_values_written_in() {
        let outputs = outputs();
        let message = json!({"kind": "temp", "n": 2}).as_object().unwrap().clone();
        let s = Scope {
            outputs: &outputs,
            message: &message,
        };
        assert_eq!(
            s.resolve(&json!("{{listen.demo.device.d1.temperature}}")),
            json!(31.5)
        );
        assert_eq!(s.resolve(&json!("{{ http.body.value }}")), json!(7));
        assert_eq!(s.resolve(&json!("{{http.body.tags.1}}")), json!("b"));
        assert_eq!(s.resolve(&json!("{{http}}"))["body"]["value"], json!(7));
        assert_eq!(s.resolve(&json!("{{kind}}")), json!("temp"));
        assert_eq!(s.resolve(&json!("{{nowhere.x}}")), Json::Null);
        assert_eq!(
            s.resolve(&json!(
                "It is {{listen.demo.device.d1.temperature}} °C ({{kind}}){{x}}"
            )),
            json!("It is 31.5 °C (temp)")
        );
        assert_eq!(
            s.resolve(&json!({"a": ["{{n}}", 1], "b": "plain"})),
            json!({"a": [2, 1], "b": "plain"})
        );
        assert_eq!(s.resolve(&json!("{{unclosed")), json!("{{unclosed"));
    }
}
