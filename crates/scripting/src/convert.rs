//! JSON in and out of Rhai.
//!
//! In, through Rhai's serde support: objects become object maps, arrays arrays, `null` is
//! `()`, integers that fit an `i64` are integers and other numbers floats (so an integer
//! above `i64::MAX` loses precision).
//!
//! Out, by walking the value, so that a result JSON cannot hold is an error that says where
//! it is and what it is, instead of a silent `null` (what serde would make of NaN): `()` is
//! `null`; booleans, integers, strings are themselves; a finite float is a number, NaN and
//! the infinities are errors; a character is a one-character string; a BLOB is an array of
//! byte values; arrays and object maps are arrays and objects. Any other type (a function
//! pointer, a range, a timestamp) is an error naming it.

use rhai::Dynamic;
use serde_json::{Map, Number, Value as Json};

/// The deepest result converted; deeper is an error (and the conversion's recursion stays
/// shallow).
pub(crate) const MAX_RESULT_DEPTH: usize = 128;

/// A JSON value as a Rhai value.
pub(crate) fn to_dynamic(value: &Json) -> Result<Dynamic, String> {
    rhai::serde::to_dynamic(value).map_err(|error| error.to_string())
}

/// Why a result is not JSON: where in the result, and what is wrong there.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct NotJson {
    /// Innermost first: `.name` for a member, `[3]` for an item.
    path: Vec<String>,
    reason: String,
    /// Too deep: the path would be a long run of segments and is left out.
    too_deep: bool,
}

impl NotJson {
    fn new(reason: String) -> Self {
        Self {
            path: Vec::new(),
            reason,
            too_deep: false,
        }
    }

    fn within(mut self, segment: String) -> Self {
        if !self.too_deep {
            self.path.push(segment);
        }
        self
    }

    /// The message of a run whose result this is: `script result.a[2] is NaN, ...`.
    pub(crate) fn message(&self) -> String {
        let path: String = self.path.iter().rev().map(String::as_str).collect();
        format!("script result{path} {}", self.reason)
    }
}

/// The script's value as JSON.
pub(crate) fn to_json(value: Dynamic) -> Result<Json, NotJson> {
    to_json_at(value, 0)
}

fn to_json_at(value: Dynamic, depth: usize) -> Result<Json, NotJson> {
    // Without closures (`no_closure`) no value is shared and this costs nothing; it keeps
    // the conversion right if captures ever come back.
    let value = value.flatten();
    if value.is_unit() {
        return Ok(Json::Null);
    }
    if let Ok(boolean) = value.as_bool() {
        return Ok(Json::Bool(boolean));
    }
    if let Ok(integer) = value.as_int() {
        return Ok(Json::from(integer));
    }
    if let Ok(float) = value.as_float() {
        return Number::from_f64(float)
            .map(Json::Number)
            .ok_or_else(|| NotJson::new(format!("is {float}, which is not a JSON number")));
    }
    if let Ok(character) = value.as_char() {
        return Ok(Json::String(character.to_string()));
    }
    if value.is_string() {
        return match value.into_immutable_string() {
            Ok(string) => Ok(Json::String(string.as_str().to_owned())),
            Err(type_name) => Err(not_json(type_name)),
        };
    }
    if value.is_blob() {
        return match value.into_blob() {
            Ok(bytes) => Ok(Json::Array(bytes.into_iter().map(Json::from).collect())),
            Err(type_name) => Err(not_json(type_name)),
        };
    }
    if (value.is_array() || value.is_map()) && depth >= MAX_RESULT_DEPTH {
        return Err(NotJson {
            too_deep: true,
            ..NotJson::new(format!(
                "is nested more than {MAX_RESULT_DEPTH} levels deep"
            ))
        });
    }
    if value.is_array() {
        let items = value.into_array().map_err(not_json)?;
        return items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                to_json_at(item, depth + 1).map_err(|error| error.within(format!("[{index}]")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Json::Array);
    }
    if value.is_map() {
        let type_name = value.type_name();
        let Some(members) = value.try_cast::<rhai::Map>() else {
            return Err(not_json(type_name));
        };
        let mut object = Map::new();
        for (name, member) in members {
            let member = to_json_at(member, depth + 1)
                .map_err(|error| error.within(member_segment(&name)))?;
            object.insert(name.into(), member);
        }
        return Ok(Json::Object(object));
    }
    Err(not_json(value.type_name()))
}

fn not_json(type_name: &str) -> NotJson {
    NotJson::new(format!(
        "is a value of type `{type_name}`, which is not JSON"
    ))
}

/// `.name` when `name` reads as an identifier, `["name"]` otherwise.
fn member_segment(name: &str) -> String {
    if crate::is_identifier(name) {
        format!(".{name}")
    } else {
        format!("[{}]", Json::from(name))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn round_trip(value: Json) -> Json {
        to_json(to_dynamic(&value).unwrap()).unwrap()
    }

    #[test]
    fn every_json_type_survives_a_round_trip() {
        for value in [
            json!(null),
            json!(true),
            json!(-7),
            json!(2.5),
            json!("text"),
            json!([1, "two", [3.5, null], {"four": false}]),
            json!({"a": {"b": [1, 2]}, "needs quoting": "", "": 0}),
        ] {
            assert_eq!(round_trip(value.clone()), value);
        }
    }

    #[test]
    fn a_non_finite_float_is_named_with_its_place() {
        let mut inner = rhai::Map::new();
        inner.insert("x".into(), Dynamic::from_float(f64::NAN));
        let mut outer = rhai::Map::new();
        outer.insert(
            "list".into(),
            Dynamic::from_array(vec![Dynamic::UNIT, Dynamic::from_map(inner)]),
        );
        let error = to_json(Dynamic::from_map(outer)).unwrap_err();
        assert_eq!(
            error.message(),
            "script result.list[1].x is NaN, which is not a JSON number"
        );
    }

    #[test]
    fn a_depth_beyond_the_limit_is_refused() {
        let mut value = Dynamic::UNIT;
        for _ in 0..=MAX_RESULT_DEPTH {
            value = Dynamic::from_array(vec![value]);
        }
        let error = to_json(value).unwrap_err();
        assert_eq!(
            error.message(),
            format!("script result is nested more than {MAX_RESULT_DEPTH} levels deep")
        );
    }
}
