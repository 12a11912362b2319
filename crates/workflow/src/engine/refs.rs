//! References from one node's parameters to what earlier nodes produced.
//!
//! Two syntaxes name a value, and this one resolver reads both, in every node parameter and
//! `choice` condition:
//! - the console's, `#{properties.nodeId['key']}` (what the Beaver IoT console writes when
//!   a value is picked from an earlier node): the member `key` of the output of the node
//!   `nodeId`, by its whole name first (entity keys have dots in them), then as a dotted
//!   path. A node that did not run is looked for in the message instead, as a member of
//!   that name (so that a node test's input can stand for earlier nodes). The node id has no `'`, `[`, `]`, `#`, braces or spaces, the key no `'`. In a
//!   script (a `code` node's or a `choice` branch's), each such reference is read as a
//!   variable holding the value (see [`Scope::script_references`]);
//! - Weir's, `{{name}}`, where `name` is read as:
//!   - `nodeId.member` — a member of the output of the node `nodeId`, which must have run
//!     before. The member is looked up by its whole name first, so entity keys with dots in
//!     them work (`{{listen.demo.device.d1.temperature}}`), then as a dotted path into
//!     nested objects (`{{http.body.value}}`);
//!   - `nodeId` — the whole output of that node;
//!   - anything else — a member of the message the node received (the output of the node
//!     before it), by whole name, then as a path.
//!
//! The console's email editor inserts a reference as `${#{properties.nodeId['key']}}`: a
//! console reference wrapped in `${` and `}` is read with its wrapper, as the reference
//! alone.
//!
//! A parameter value that is exactly one reference (spaces around allowed) is replaced by
//! the value it names, keeping its JSON type; a string with references inside other text
//! gets the values written into it (strings as they are, `null` as nothing, other values as
//! JSON). A reference that finds nothing is `null`, so that a condition can test it with
//! `IS_EMPTY`; text that only looks like the start of one (`{{unclosed`) stays as it is.

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
        if !has_reference(s) {
            return Json::String(s.to_owned());
        }
        let trimmed = s.trim();
        if let Some((0, end, reference)) = next_reference(trimmed)
            && end == trimmed.len()
        {
            return self.value_of(&reference);
        }
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some((start, end, reference)) = next_reference(rest) {
            out.push_str(&rest[..start]);
            match self.value_of(&reference) {
                Json::String(v) => out.push_str(&v),
                Json::Null => {}
                v => out.push_str(&v.to_string()),
            }
            rest = &rest[end..];
        }
        out.push_str(rest);
        Json::String(out)
    }

    /// The value a reference names; `null` when it names nothing.
    fn value_of(&self, reference: &Reference<'_>) -> Json {
        match reference {
            Reference::Weir(name) => self.lookup(name),
            Reference::Console { node, key } => self
                .outputs
                .get(*node)
                .or_else(|| self.message.get(*node))
                .and_then(|output| member_of(output, key))
                .cloned()
                .unwrap_or(Json::Null),
        }
    }

    /// The value a Weir reference's name (`{{name}}` without the braces) names; `null` when
    /// it names nothing.
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

impl Scope<'_> {
    /// A script with each console reference (`#{properties.node['key']}`, which is not valid
    /// code in either language) replaced by a variable, `__ref1`, `__ref2`, ..., and those
    /// variables with their values. Weir's `{{...}}` is left alone in scripts: it can be
    /// code (`{{}}` in JavaScript).
    pub fn script_references(&self, script: &str) -> (String, Map<String, Json>) {
        let mut variables = Map::new();
        if !script.contains(CONSOLE_OPEN) {
            return (script.to_owned(), variables);
        }
        let mut out = String::with_capacity(script.len());
        let mut rest = script;
        while let Some(start) = rest.find(CONSOLE_OPEN) {
            let Some((len, reference)) = console_reference(&rest[start..]) else {
                out.push_str(&rest[..start + 1]);
                rest = &rest[start + 1..];
                continue;
            };
            let name = format!("__ref{}", variables.len() + 1);
            out.push_str(&rest[..start]);
            out.push_str(&name);
            variables.insert(name, self.value_of(&reference));
            rest = &rest[start + len..];
        }
        out.push_str(rest);
        (out, variables)
    }
}

/// Whether `s` may hold a reference of either syntax (a cheap test before the scan).
pub fn has_reference(s: &str) -> bool {
    s.contains("{{") || s.contains(CONSOLE_OPEN)
}

/// What a console reference starts with.
const CONSOLE_OPEN: &str = "#{properties.";

/// A reference, as written.
#[derive(Debug, PartialEq, Eq)]
enum Reference<'a> {
    /// `{{name}}`: the name, trimmed.
    Weir(&'a str),
    /// `#{properties.node['key']}`.
    Console { node: &'a str, key: &'a str },
}

/// The first complete reference in `s`: where it starts, where it ends (exclusive) and what
/// it names. Text that only starts like a reference is skipped.
fn next_reference(s: &str) -> Option<(usize, usize, Reference<'_>)> {
    let mut from = 0;
    while from < s.len() {
        let rest = &s[from..];
        let weir = rest.find("{{");
        let console = rest.find(CONSOLE_OPEN);
        let start = match (weir, console) {
            (Some(w), Some(c)) => w.min(c),
            (Some(w), None) => w,
            (None, Some(c)) => c,
            (None, None) => return None,
        };
        let at = from + start;
        let found = if Some(start) == console {
            console_reference(&s[at..])
        } else {
            weir_reference(&s[at..])
        };
        match found {
            // The console's email editor wraps what it inserts in `${...}`: the wrapper
            // belongs to the reference.
            Some((len, reference @ Reference::Console { .. }))
                if s[..at].ends_with("${") && s[at + len..].starts_with('}') =>
            {
                return Some((at - 2, at + len + 1, reference));
            }
            Some((len, reference)) => return Some((at, at + len, reference)),
            // Not a reference after all: look on after its first character.
            None => from = at + 1,
        }
    }
    None
}

/// `{{name}}` at the start of `s`: its length and name.
fn weir_reference(s: &str) -> Option<(usize, Reference<'_>)> {
    let inner = s.strip_prefix("{{")?;
    let len = inner.find("}}")?;
    let name = &inner[..len];
    (!name.contains("{{")).then(|| (len + 4, Reference::Weir(name.trim())))
}

/// `#{properties.node['key']}` at the start of `s`: its length, node and key.
fn console_reference(s: &str) -> Option<(usize, Reference<'_>)> {
    let inner = s.strip_prefix(CONSOLE_OPEN)?;
    let node_len = inner.find("['")?;
    let node = &inner[..node_len];
    if node.is_empty()
        || node.contains(|c: char| {
            matches!(c, '\'' | '[' | ']' | '#' | '{' | '}') || c.is_whitespace()
        })
    {
        return None;
    }
    let after = &inner[node_len + 2..];
    let key_len = after.find('\'')?;
    let key = &after[..key_len];
    if key.is_empty() || !after[key_len..].starts_with("']}") {
        return None;
    }
    let len = CONSOLE_OPEN.len() + node_len + 2 + key_len + 3;
    Some((len, Reference::Console { node, key }))
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

    #[test]
    fn the_consoles_references_read_node_outputs() {
        let outputs = outputs();
        let message = json!({"kind": "temp", "n9": {"x": 5}})
            .as_object()
            .unwrap()
            .clone();
        let s = Scope {
            outputs: &outputs,
            message: &message,
        };
        assert_eq!(
            s.resolve(&json!("#{properties.n9['x']}")),
            json!(5),
            "a node that did not run, from the message"
        );
        assert_eq!(
            s.resolve(&json!("#{properties.listen['demo.device.d1.temperature']}")),
            json!(31.5),
            "a key with dots, by its whole name"
        );
        assert_eq!(
            s.resolve(&json!(" #{properties.http['body.value']} ")),
            json!(7),
            "else as a path; spaces around a whole reference"
        );
        assert_eq!(
            s.resolve(&json!("#{properties.http['body']}"))["tags"],
            json!(["a", "b"])
        );
        assert_eq!(s.resolve(&json!("#{properties.nowhere['x']}")), Json::Null);
        assert_eq!(
            s.resolve(&json!("#{properties.listen['kind']}")),
            Json::Null,
            "never the message"
        );
        assert_eq!(
            s.resolve(&json!(
                "{{kind}}: #{properties.listen['demo.device.d1.temperature']} °C, #{properties.http['body.tags']}"
            )),
            json!("temp: 31.5 °C, [\"a\",\"b\"]"),
            "both syntaxes in one text"
        );
        for not_one in [
            "#{properties.http}",
            "#{properties.['x']}",
            "#{properties.http['']}",
            "#{properties.http['body'}",
            "#{properties.a[b]['x']}",
        ] {
            assert_eq!(s.resolve(&json!(not_one)), json!(not_one), "{not_one}");
        }
        assert_eq!(
            s.resolve(&json!("#{properties.x #{properties.http['body.value']}")),
            json!("#{properties.x 7"),
            "a broken start does not hide the reference after it"
        );
    }

    #[test]
    fn references_in_scripts_become_variables() {
        let outputs = outputs();
        let message = Map::new();
        let s = Scope {
            outputs: &outputs,
            message: &message,
        };
        let (script, variables) = s.script_references(
            "#{properties.listen['demo.device.d1.temperature']} > #{properties.http['body.value']} && #{properties.x",
        );
        assert_eq!(script, "__ref1 > __ref2 && #{properties.x");
        assert_eq!(
            Json::Object(variables),
            json!({"__ref1": 31.5, "__ref2": 7})
        );
        let (script, variables) = s.script_references("return {{a: 1}};");
        assert_eq!(script, "return {{a: 1}};");
        assert!(variables.is_empty());
    }

    #[test]
    fn references_are_found_in_order() {
        assert_eq!(
            next_reference("a #{properties.n1['k']} {{b}}"),
            Some((
                2,
                23,
                Reference::Console {
                    node: "n1",
                    key: "k"
                }
            ))
        );
        assert_eq!(
            next_reference("{{ b }} #{properties.n1['k']}"),
            Some((0, 7, Reference::Weir("b")))
        );
        assert_eq!(next_reference("{{open #{"), None);
        assert_eq!(
            next_reference("It is ${#{properties.n1['k']}} now"),
            Some((
                6,
                30,
                Reference::Console {
                    node: "n1",
                    key: "k"
                }
            )),
            "the email editor's wrapper goes with the reference"
        );
        assert_eq!(
            next_reference("${#{properties.n1['k']}"),
            Some((
                2,
                23,
                Reference::Console {
                    node: "n1",
                    key: "k"
                }
            )),
            "no closing brace: no wrapper"
        );
        assert!(has_reference("x #{properties.y"));
        assert!(!has_reference("#{other} {x}"));
    }
}
