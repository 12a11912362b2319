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
            Some(value) => check_value(&field.kind, value, &path, out),
        }
    }
}

pub(super) fn check_value(kind: &Kind, value: &Json, path: &str, out: &mut Vec<FieldProblem>) {
    let mut bad = |message: String| out.push(FieldProblem::invalid(path.to_string(), message));
    match kind {
        Kind::String { max_length, format } => {
            let Some(s) = value.as_str() else {
                return bad(format!("must be a string, not {}", type_name(value)));
            };
            let chars = s.chars().count();
            if let Some(max) = max_length
                && chars > *max
            {
                return bad(format!("must be at most {max} characters, not {chars}"));
            }
            if let Some(format) = format
                && !s.is_empty()
                && let Err(why) = check_format(*format, s)
            {
                bad(why);
            }
        }
        Kind::Integer { minimum, maximum } => match as_integer(value) {
            None => bad(format!("must be an integer, not {}", shown(value))),
            Some(n) => {
                if let Some(min) = minimum
                    && n < *min
                {
                    bad(format!("must be at least {min}, not {n}"));
                } else if let Some(max) = maximum
                    && n > *max
                {
                    bad(format!("must be at most {max}, not {n}"));
                }
            }
        },
        Kind::Number { minimum, maximum } => match as_number(value) {
            None => bad(format!("must be a number, not {}", shown(value))),
            Some(n) => {
                if let Some(min) = minimum
                    && n < *min
                {
                    bad(format!("must be at least {min}, not {n}"));
                } else if let Some(max) = maximum
                    && n > *max
                {
                    bad(format!("must be at most {max}, not {n}"));
                }
            }
        },
        Kind::Boolean => {
            if !value.is_boolean() {
                bad(format!("must be true or false, not {}", shown(value)));
            }
        }
        Kind::Enum { values } => match value.as_str() {
            Some(s) if values.contains(&s) => {}
            _ => bad(format!(
                "must be one of {}, not {}",
                values.join(", "),
                shown(value)
            )),
        },
        Kind::EntityKey => match value.as_str() {
            Some(s) if is_entity_key(s) => {}
            Some(s) => bad(format!("`{}` is not an entity key", clip(s))),
            None => bad(format!("must be an entity key, not {}", type_name(value))),
        },
        Kind::Scalar => {
            if !(value.is_string() || value.is_number() || value.is_boolean()) {
                bad(format!(
                    "must be a string, number or boolean, not {}",
                    type_name(value)
                ));
            }
        }
        Kind::Any => {}
        Kind::List {
            items,
            min_items,
            max_items,
            unique_items,
            unique_by,
        } => {
            let Some(list) = value.as_array() else {
                return bad(format!("must be a list, not {}", type_name(value)));
            };
            if list.len() < *min_items {
                return bad(if *min_items == 1 {
                    "must not be empty".to_string()
                } else {
                    format!("must have at least {min_items} items")
                });
            }
            if let Some(max) = max_items
                && list.len() > *max
            {
                return bad(format!("must have at most {max} items, not {}", list.len()));
            }
            for (i, item) in list.iter().enumerate() {
                check_value(items, item, &format!("{path}[{i}]"), out);
            }
            if *unique_items && let Some(i) = first_repeat(list.iter().map(|v| v.to_string())) {
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
        Kind::Object { fields } => match value.as_object() {
            Some(object) => check_fields(fields, object, path, out),
            None => bad(format!("must be an object, not {}", type_name(value))),
        },
        Kind::Map {
            keys,
            values,
            min_entries,
            max_entries,
        } => {
            let Some(object) = value.as_object() else {
                return bad(format!("must be an object, not {}", type_name(value)));
            };
            if object.len() < *min_entries {
                return bad("must not be empty".to_string());
            }
            if let Some(max) = max_entries
                && object.len() > *max
            {
                return bad(format!(
                    "must have at most {max} members, not {}",
                    object.len()
                ));
            }
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
                        KeyFormat::Identifier => {
                            "an identifier (1 to 64 letters, digits, '_' or '-')"
                        }
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
pub(super) fn clip(s: &str) -> String {
    if s.chars().count() <= 100 {
        s.to_string()
    } else {
        let mut c: String = s.chars().take(100).collect();
        c.push('…');
        c
    }
}
