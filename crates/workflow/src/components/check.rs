//! Checking parameter values against the schema.

use std::collections::HashSet;

use serde_json::{Map, Value as Json};

use super::*;

// ---------------------------------------------------------------------------------------
// Checking values against the schema.

pub(super) fn check_fields(
    fields: &[Param],
    object: &Map<String, Json>,
    at: &str,
    out: &mut Vec<FieldProblem>,
) {
    for field in fields {
        let path = format!("{at}.{}", field.name);
        match object.get(field.name) {
            None | Some(Json::Null) => {
                if field.required {
                    out.push(FieldProblem::missing(path));
                }
            }
            Some(Json::String(s)) if field.required && s.trim().is_empty() => {
                out.push(FieldProblem::missing(path));
            }
            // A number the console's text field left empty: absent, as if never typed.
            Some(Json::String(s))
                if s.trim().is_empty()
                    && matches!(field.kind, Kind::Integer { .. } | Kind::Number { .. }) => {}
            Some(value) => check_value(&field.kind, value, &path, out),
        }
    }
}

pub(super) fn check_value(kind: &Kind, value: &Json, path: &str, out: &mut Vec<FieldProblem>) {
    let problem = match kind {
        Kind::String { max_length, format } => string_problem(value, *max_length, *format),
        Kind::Integer { minimum, maximum } => match as_integer(value) {
            None => Some(format!("must be an integer, not {}", shown(value))),
            Some(n) => range_problem(n, *minimum, *maximum),
        },
        Kind::Number { minimum, maximum } => match as_number(value) {
            None => Some(format!("must be a number, not {}", shown(value))),
            Some(n) => range_problem(n, *minimum, *maximum),
        },
        Kind::Boolean => {
            (!value.is_boolean()).then(|| format!("must be true or false, not {}", shown(value)))
        }
        Kind::Enum { values } => match value.as_str() {
            Some(s) if values.contains(&s) => None,
            _ => Some(format!(
                "must be one of {}, not {}",
                values.join(", "),
                shown(value)
            )),
        },
        Kind::EntityKey => match value.as_str() {
            Some(s) if is_entity_key(s) => None,
            Some(s) => Some(format!("`{}` is not an entity key", clip(s))),
            None => Some(format!("must be an entity key, not {}", type_name(value))),
        },
        Kind::Scalar => {
            (!(value.is_string() || value.is_number() || value.is_boolean())).then(|| {
                format!(
                    "must be a string, number or boolean, not {}",
                    type_name(value)
                )
            })
        }
        Kind::Any => None,
        Kind::List {
            items,
            min_items,
            max_items,
            unique_items,
            unique_by,
        } => match value.as_array() {
            None => Some(format!("must be a list, not {}", type_name(value))),
            Some(list) => list_length_problem(list.len(), *min_items, *max_items).or_else(|| {
                check_items(items, list, *unique_items, *unique_by, path, out);
                None
            }),
        },
        Kind::Object { fields } => match value.as_object() {
            Some(object) => {
                check_fields(fields, object, path, out);
                None
            }
            None => Some(format!("must be an object, not {}", type_name(value))),
        },
        Kind::Map {
            keys,
            values,
            min_entries,
            max_entries,
        } => match value.as_object() {
            None => Some(format!("must be an object, not {}", type_name(value))),
            Some(object) => {
                map_size_problem(object.len(), *min_entries, *max_entries).or_else(|| {
                    check_entries(*keys, values, object, path, out);
                    None
                })
            }
        },
    };
    if let Some(message) = problem {
        out.push(FieldProblem::invalid(path.to_string(), message));
    }
}

/// What is wrong with a string value, if anything.
fn string_problem(
    value: &Json,
    max_length: Option<usize>,
    format: Option<StringFormat>,
) -> Option<String> {
    let Some(s) = value.as_str() else {
        return Some(format!("must be a string, not {}", type_name(value)));
    };
    let chars = s.chars().count();
    if let Some(max) = max_length
        && chars > max
    {
        return Some(format!("must be at most {max} characters, not {chars}"));
    }
    match format {
        Some(format) if !s.is_empty() => check_format(format, s).err(),
        _ => None,
    }
}

/// `n` below `minimum` or above `maximum`.
fn range_problem<N: PartialOrd + std::fmt::Display>(
    n: N,
    minimum: Option<N>,
    maximum: Option<N>,
) -> Option<String> {
    if let Some(min) = minimum
        && n < min
    {
        Some(format!("must be at least {min}, not {n}"))
    } else if let Some(max) = maximum
        && n > max
    {
        Some(format!("must be at most {max}, not {n}"))
    } else {
        None
    }
}

fn list_length_problem(len: usize, min_items: usize, max_items: Option<usize>) -> Option<String> {
    if len < min_items {
        return Some(if min_items == 1 {
            "must not be empty".to_string()
        } else {
            format!("must have at least {min_items} items")
        });
    }
    match max_items {
        Some(max) if len > max => Some(format!("must have at most {max} items, not {len}")),
        _ => None,
    }
}

/// Each item of a list, then whether items repeat (all of them, or one member of each).
fn check_items(
    items: &Kind,
    list: &[Json],
    unique_items: bool,
    unique_by: Option<&str>,
    path: &str,
    out: &mut Vec<FieldProblem>,
) {
    for (i, item) in list.iter().enumerate() {
        check_value(items, item, &format!("{path}[{i}]"), out);
    }
    if unique_items && let Some(i) = first_repeat(list.iter().map(|v| v.to_string())) {
        out.push(FieldProblem::invalid(
            format!("{path}[{i}]"),
            format!("repeats {}", shown(&list[i])),
        ));
    }
    if let Some(member) = unique_by {
        let keys = list
            .iter()
            .map(|v| v.get(member).map(Json::to_string).unwrap_or_default());
        if let Some(i) = first_repeat(keys) {
            out.push(FieldProblem::invalid(
                format!("{path}[{i}].{member}"),
                format!("repeats {}", shown(&list[i][member])),
            ));
        }
    }
}

fn map_size_problem(len: usize, min_entries: usize, max_entries: Option<usize>) -> Option<String> {
    if len < min_entries {
        return Some("must not be empty".to_string());
    }
    match max_entries {
        Some(max) if len > max => Some(format!("must have at most {max} members, not {len}")),
        _ => None,
    }
}

/// Each member of a map: its name as `keys` says, then its value.
fn check_entries(
    keys: KeyFormat,
    values: &Kind,
    object: &Map<String, Json>,
    path: &str,
    out: &mut Vec<FieldProblem>,
) {
    for (key, v) in object {
        let at = format!("{path}[{}]", Json::from(key.as_str()));
        let key_ok = match keys {
            KeyFormat::EntityKey => is_entity_key(key),
            KeyFormat::Identifier => is_identifier(key),
            KeyFormat::Any => !key.trim().is_empty(),
        };
        if !key_ok {
            let what = match keys {
                KeyFormat::EntityKey => "an entity key",
                KeyFormat::Identifier => "an identifier (1 to 64 letters, digits, '_' or '-')",
                KeyFormat::Any => "a name",
            };
            out.push(FieldProblem::invalid(
                at,
                format!("`{}` is not {what}", clip(key)),
            ));
            continue;
        }
        check_value(values, v, &at, out);
    }
}

/// The index of the first item equal to an earlier one.
pub(super) fn first_repeat(items: impl Iterator<Item = String>) -> Option<usize> {
    let mut seen = HashSet::new();
    items
        .enumerate()
        .find(|(_, item)| !item.is_empty() && !seen.insert(item.clone()))
        .map(|(i, _)| i)
}

pub(super) fn check_format(format: StringFormat, s: &str) -> Result<(), String> {
    let ok = match format {
        StringFormat::Url => is_url(s),
        StringFormat::Email => is_email(s),
        StringFormat::HttpPath => return check_http_path(s),
        StringFormat::Identifier => is_identifier(s),
    };
    if ok {
        return Ok(());
    }
    Err(match format {
        StringFormat::Url => format!("`{}` is not an http:// or https:// URL", clip(s)),
        StringFormat::Email => format!("`{}` is not an email address", clip(s)),
        StringFormat::Identifier => format!(
            "`{}` is not an identifier (1 to 64 letters, digits, '_' or '-')",
            clip(s)
        ),
        StringFormat::HttpPath => unreachable!(),
    })
}

/// A Weir entity key, checked for shape only (the IoT crate owns the full rules; whether
/// the entity exists is for the use-case).
pub fn is_entity_key(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    let segment = |p: &&str| {
        !p.is_empty()
            && p.len() <= 64
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':'))
    };
    parts.iter().all(segment)
        && match parts.get(1) {
            Some(&"device") => matches!(parts.len(), 4 | 5),
            Some(&"integration") => matches!(parts.len(), 3 | 4),
            _ => false,
        }
}

pub(super) fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
}

pub(super) fn is_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    let Some(rest) = rest else { return false };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty()
        && !host.starts_with(':')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

pub(super) fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
}

pub(super) fn check_http_path(s: &str) -> Result<(), String> {
    let path = s.strip_prefix('/').unwrap_or(s);
    if path.is_empty() {
        return Err("must name a path under /workflow-http-in/".into());
    }
    let mut variables = HashSet::new();
    for segment in path.split('/') {
        if segment.is_empty() {
            return Err(format!("`{}` has an empty segment", clip(s)));
        }
        if let Some(name) = segment.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
            if !is_identifier(name) {
                return Err(format!("`{{{}}}` is not a path variable", clip(name)));
            }
            if !variables.insert(name) {
                return Err(format!("the path variable `{name}` appears twice"));
            }
            continue;
        }
        if segment == "." || segment == ".." {
            return Err(format!(
                "`{}` may not contain `.` or `..` segments",
                clip(s)
            ));
        }
        if let Some(c) = segment
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~')))
        {
            return Err(format!(
                "`{}` may not contain `{c}` (segments are letters, digits, '-', '_', '.', '~' \
                 or {{variable}})",
                clip(s)
            ));
        }
    }
    Ok(())
}

pub(super) fn as_integer(value: &Json) -> Option<i64> {
    match value {
        Json::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(super) fn as_number(value: &Json) -> Option<f64> {
    match value {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

pub(super) fn type_name(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

/// A value for a message: short scalars as JSON, anything else by its type.
pub(super) fn shown(value: &Json) -> String {
    match value {
        Json::String(s) => format!("\"{}\"", clip(s)),
        Json::Array(_) | Json::Object(_) => type_name(value).to_string(),
        other => other.to_string(),
    }
}

/// At most 100 characters of user text in a message.
pub(crate) fn clip(s: &str) -> String {
    if s.chars().count() <= 100 {
        s.to_string()
    } else {
        let mut c: String = s.chars().take(100).collect();
        c.push('…');
        c
    }
}
