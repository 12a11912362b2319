//! Entity values, and the check every written value passes before it is stored.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value as Json;
use weir_kernel::{AsProblem, Problem, ProblemKind};

use crate::model::{EntityDefinition, ValueType};

/// A value as stored: one of the value types that hold values (OBJECT holds none).
#[derive(Debug, Clone, PartialEq)]
pub enum EntityValue {
    /// A STRING value.
    String(String),
    /// A LONG value.
    Long(i64),
    /// A DOUBLE value.
    Double(f64),
    /// A BOOLEAN value.
    Boolean(bool),
    /// A BINARY value (base64 in JSON).
    Binary(Vec<u8>),
}

/// Why a written value is refused. Each has its own code, as the reference product has.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    #[error("a value is required")]
    /// No value was given (null or absent) where one is needed.
    Required,
    #[error("expected a {expected} value{hint}", expected = .expected.as_str())]
    /// The value is not of the entity's value type.
    NotMatchType {
        /// The type the entity holds.
        expected: ValueType,
        /// More on the expected form, or empty.
        hint: &'static str,
    },
    #[error("{value} is outside {min} ..= {max}", min = fmt_bound(*.min), max = fmt_bound(*.max))]
    /// A number below `min` or above `max` of the entity's value attribute.
    OutOfRange {
        /// The number written.
        value: f64,
        /// The smallest allowed; `None`: no bound.
        min: Option<f64>,
        /// The largest allowed; `None`: no bound.
        max: Option<f64>,
    },
    #[error("length {length} is outside {min} ..= {max}", min = fmt_len(*.min), max = fmt_len(*.max))]
    /// Text (characters) or binary (bytes) shorter than `min_length` or longer than `max_length`.
    LengthOutOfRange {
        /// The length written.
        length: usize,
        /// The shortest allowed; `None`: no bound.
        min: Option<u32>,
        /// The longest allowed; `None`: no bound.
        max: Option<u32>,
    },
    #[error("`{value}` is not one of: {allowed}")]
    /// A value that is not one of the entity's `enum` values.
    InvalidEnum {
        /// The value written, as text.
        value: String,
        /// The allowed values, comma-separated.
        allowed: String,
    },
    #[error("the value is not in the {format} format")]
    /// A STRING value not in the entity's `format` (one of [`crate::model::FORMATS`]).
    InvalidFormat {
        /// The format required.
        format: String,
    },
    #[error("at most {max} digits after the decimal point")]
    /// A DOUBLE with more digits after the point than the entity's `fraction_digits`.
    TooManyFractionDigits {
        /// The most digits allowed.
        max: u32,
    },
    /// Text no backend can store (`weir_kernel::text`).
    #[error("text {}", weir_kernel::text::NUL_REFUSED)]
    Nul,
}

fn fmt_bound(b: Option<f64>) -> String {
    b.map_or_else(|| "any".into(), |v| v.to_string())
}

fn fmt_len(b: Option<u32>) -> String {
    b.map_or_else(|| "any".into(), |v| v.to_string())
}

impl ValueError {
    /// The problem code of this refusal (`entity_value_out_of_range`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Required => "entity_value_required",
            Self::NotMatchType { .. } => "entity_value_not_match_type",
            Self::OutOfRange { .. } => "entity_value_out_of_range",
            Self::LengthOutOfRange { .. } => "entity_value_length_out_of_range",
            Self::InvalidEnum { .. } => "entity_value_invalid_enum",
            Self::InvalidFormat { .. } | Self::Nul => "entity_value_invalid_format",
            Self::TooManyFractionDigits { .. } => "entity_value_fraction_digits_exceeded",
        }
    }
}

impl AsProblem for ValueError {
    fn problem(&self) -> Problem {
        Problem::new(ProblemKind::Invalid, self.code(), self.to_string())
    }
}

fn mismatch(expected: ValueType) -> ValueError {
    ValueError::NotMatchType { expected, hint: "" }
}

impl EntityValue {
    /// Converts and checks a JSON value written to an entity of `def`. Nothing that fails
    /// here may be stored.
    pub fn check(def: &EntityDefinition, raw: &Json) -> Result<Self, ValueError> {
        let t = def.value_type;
        let a = &def.value_attribute;
        let value = match (t, raw) {
            (_, Json::Null) => return Err(ValueError::Required),
            (ValueType::String, Json::String(s)) if !weir_kernel::text::storable(s) => {
                return Err(ValueError::Nul);
            }
            (ValueType::String, Json::String(s)) => Self::String(s.clone()),
            (ValueType::Long, Json::Number(n)) => {
                Self::Long(n.as_i64().ok_or(ValueError::NotMatchType {
                    expected: t,
                    hint: " (a whole number within 64 bits)",
                })?)
            }
            (ValueType::Double, Json::Number(n)) => Self::Double(
                n.as_f64()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| mismatch(t))?,
            ),
            (ValueType::Boolean, Json::Bool(b)) => Self::Boolean(*b),
            (ValueType::Binary, Json::String(s)) => {
                Self::Binary(BASE64.decode(s).map_err(|_| ValueError::NotMatchType {
                    expected: t,
                    hint: " (base64 text)",
                })?)
            }
            (ValueType::Object, _) => {
                return Err(ValueError::NotMatchType {
                    expected: t,
                    hint: " (an OBJECT holds no value: write its children)",
                });
            }
            _ => return Err(mismatch(t)),
        };
        value.check_attribute(a)?;
        Ok(value)
    }

    fn check_attribute(&self, a: &crate::model::ValueAttribute) -> Result<(), ValueError> {
        if let Some(number) = self.as_f64()
            && (a.min.is_some_and(|m| number < m) || a.max.is_some_and(|m| number > m))
        {
            return Err(ValueError::OutOfRange {
                value: number,
                min: a.min,
                max: a.max,
            });
        }
        if let (Self::Double(v), Some(max)) = (self, a.fraction_digits) {
            // Rust prints the shortest text that reads back as the same double.
            let text = v.to_string();
            let digits = text.split_once('.').map_or(0, |(_, f)| f.len());
            if digits > max as usize {
                return Err(ValueError::TooManyFractionDigits { max });
            }
        }
        let length = match self {
            Self::String(s) => Some(s.chars().count()),
            Self::Binary(b) => Some(b.len()),
            _ => None,
        };
        if let Some(length) = length {
            let short = a.min_length.is_some_and(|m| length < m as usize);
            let long = a.max_length.is_some_and(|m| length > m as usize);
            if short || long {
                return Err(ValueError::LengthOutOfRange {
                    length,
                    min: a.min_length,
                    max: a.max_length,
                });
            }
        }
        if let Some(allowed) = &a.enum_values {
            let text = self.as_text();
            let found = match self {
                // 1.0 and 1 are the same number: compare numbers as numbers.
                Self::Double(v) => allowed
                    .keys()
                    .any(|k| k.parse::<f64>().is_ok_and(|k| k == *v)),
                _ => allowed.contains_key(&text),
            };
            if !found {
                let list: Vec<&str> = allowed.keys().map(String::as_str).collect();
                return Err(ValueError::InvalidEnum {
                    value: text,
                    allowed: list.join(", "),
                });
            }
        }
        if let (Self::String(s), Some(format)) = (self, &a.format) {
            let ok = match format.as_str() {
                "HEX" => !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()),
                "IMAGE_URL" => ["http://", "https://", "data:image/"]
                    .iter()
                    .any(|p| s.starts_with(p)),
                _ => true,
            };
            if !ok {
                return Err(ValueError::InvalidFormat {
                    format: format.clone(),
                });
            }
        }
        Ok(())
    }

    /// The value type this value is of.
    pub fn value_type(&self) -> ValueType {
        match self {
            Self::String(_) => ValueType::String,
            Self::Long(_) => ValueType::Long,
            Self::Double(_) => ValueType::Double,
            Self::Boolean(_) => ValueType::Boolean,
            Self::Binary(_) => ValueType::Binary,
        }
    }

    /// The value as a number, for LONG and DOUBLE.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Long(v) => Some(*v as f64),
            Self::Double(v) => Some(*v),
            _ => None,
        }
    }

    /// The value as text (binary as base64), as enums and CSV exports show it.
    pub fn as_text(&self) -> String {
        match self {
            Self::String(s) => s.clone(),
            Self::Long(v) => v.to_string(),
            Self::Double(v) => v.to_string(),
            Self::Boolean(v) => v.to_string(),
            Self::Binary(b) => BASE64.encode(b),
        }
    }

    /// The value as clients read it in JSON.
    pub fn to_json(&self) -> Json {
        match self {
            Self::String(s) => Json::String(s.clone()),
            Self::Long(v) => Json::from(*v),
            Self::Double(v) => serde_json::Number::from_f64(*v).map_or(Json::Null, Json::Number),
            Self::Boolean(v) => Json::Bool(*v),
            Self::Binary(_) => Json::String(self.as_text()),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::{AccessMod, EntityType, ValueAttribute};

    fn def(value_type: ValueType, attr: serde_json::Value) -> EntityDefinition {
        EntityDefinition {
            identifier: "e".into(),
            name: "E".into(),
            entity_type: EntityType::Property,
            access_mod: AccessMod::RW,
            value_type,
            value_attribute: serde_json::from_value::<ValueAttribute>(attr).unwrap(),
            children: vec![],
        }
    }

    fn code(d: &EntityDefinition, v: serde_json::Value) -> &'static str {
        EntityValue::check(d, &v).unwrap_err().code()
    }

    #[test]
    fn values_convert_by_type() {
        let cases = [
            (
                ValueType::String,
                json!("x"),
                EntityValue::String("x".into()),
            ),
            (ValueType::Long, json!(-3), EntityValue::Long(-3)),
            (ValueType::Double, json!(2.5), EntityValue::Double(2.5)),
            (ValueType::Double, json!(2), EntityValue::Double(2.0)),
            (ValueType::Boolean, json!(true), EntityValue::Boolean(true)),
            (
                ValueType::Binary,
                json!("AQI="),
                EntityValue::Binary(vec![1, 2]),
            ),
        ];
        for (t, raw, want) in cases {
            let got = EntityValue::check(&def(t, json!({})), &raw).unwrap();
            assert_eq!(got, want);
            assert_eq!(
                got.to_json(),
                if t == ValueType::Double && raw == json!(2) {
                    json!(2.0)
                } else {
                    raw
                }
            );
        }
    }

    #[test]
    fn wrong_types_are_refused() {
        let not_match = "entity_value_not_match_type";
        assert_eq!(
            code(&def(ValueType::Long, json!({})), json!(1.5)),
            not_match
        );
        assert_eq!(
            code(&def(ValueType::Long, json!({})), json!("1")),
            not_match
        );
        assert_eq!(
            code(&def(ValueType::Boolean, json!({})), json!(1)),
            not_match
        );
        assert_eq!(
            code(&def(ValueType::Binary, json!({})), json!("not base64!")),
            not_match
        );
        assert_eq!(
            code(&def(ValueType::String, json!({})), json!({"a": 1})),
            not_match
        );
        assert_eq!(
            code(&def(ValueType::Object, json!({})), json!({"a": 1})),
            not_match
        );
        assert_eq!(
            code(&def(ValueType::String, json!({})), json!(null)),
            "entity_value_required"
        );
    }

    #[test]
    fn attributes_are_enforced_with_precise_codes() {
        let range = def(
            ValueType::Double,
            json!({"min": -10, "max": 50, "fraction_digits": 1}),
        );
        assert!(EntityValue::check(&range, &json!(49.5)).is_ok());
        assert_eq!(code(&range, json!(50.1)), "entity_value_out_of_range");
        assert_eq!(code(&range, json!(-11)), "entity_value_out_of_range");
        assert_eq!(
            code(&range, json!(1.25)),
            "entity_value_fraction_digits_exceeded"
        );
        let text = def(ValueType::String, json!({"min_length": 2, "max_length": 3}));
        assert_eq!(code(&text, json!("é")), "entity_value_length_out_of_range");
        assert!(EntityValue::check(&text, &json!("héé")).is_ok());
        // PostgreSQL cannot store NUL: refused on every backend alike.
        assert_eq!(code(&text, json!("a\u{0}")), "entity_value_invalid_format");
        let choice = def(ValueType::Long, json!({"enum": {"1": "on", "0": "off"}}));
        assert!(EntityValue::check(&choice, &json!(1)).is_ok());
        assert_eq!(code(&choice, json!(2)), "entity_value_invalid_enum");
        let hex = def(ValueType::String, json!({"format": "HEX"}));
        assert_eq!(code(&hex, json!("0xZZ")), "entity_value_invalid_format");
        assert!(EntityValue::check(&hex, &json!("00ff")).is_ok());
    }

    #[test]
    fn definitions_are_checked() {
        assert!(
            def(
                ValueType::Long,
                json!({"min": 0, "max": 10, "default_value": 5})
            )
            .check()
            .is_ok()
        );
        let bad = [
            (
                def(ValueType::Boolean, json!({"min": 0})),
                "value_attribute.min",
            ),
            (
                def(ValueType::Long, json!({"min": 5, "max": 1})),
                "value_attribute.min",
            ),
            (
                def(ValueType::Long, json!({"max_length": 3})),
                "value_attribute.min_length",
            ),
            (
                def(ValueType::Long, json!({"enum": {"x": "X"}})),
                "value_attribute.enum",
            ),
            (
                def(ValueType::String, json!({"format": "NOPE"})),
                "value_attribute.format",
            ),
            (
                def(ValueType::Long, json!({"max": 3, "default_value": 9})),
                "value_attribute.default_value",
            ),
            (def(ValueType::Object, json!({})), "children"),
        ];
        for (d, field) in bad {
            assert_eq!(d.check().unwrap_err().field, field, "{d:?}");
        }
        let mut long_id = def(ValueType::Long, json!({}));
        long_id.identifier = "x".repeat(51);
        assert_eq!(long_id.check().unwrap_err().field, "identifier");
    }
}
