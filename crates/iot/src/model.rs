//! What an entity is: its type, who may read or write it, what it holds, and the rules a
//! written value must meet (`value_attribute`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::key::valid_segment;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
/// What kind of entity: a property, a service or an event.
pub enum EntityType {
    /// A state with a latest value and a history.
    Property,
    /// Something a user or a flow can call on the device.
    Service,
    /// Something the device reports once.
    Event,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
/// Who may read and write an entity's value.
pub enum AccessMod {
    /// Read only: devices report it, users cannot write it.
    R,
    /// Write only.
    W,
    /// Read and write.
    RW,
}

impl EntityType {
    /// Every entity type (the OpenAPI document lists their names).
    pub const ALL: [Self; 3] = [Self::Property, Self::Service, Self::Event];
}

impl AccessMod {
    /// Every access mode.
    pub const ALL: [Self; 3] = [Self::R, Self::W, Self::RW];

    /// Whether users and flows may write a value of this mode.
    pub fn writable(self) -> bool {
        matches!(self, Self::W | Self::RW)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
/// What an entity's values hold.
pub enum ValueType {
    /// Text.
    String,
    /// A 64-bit integer.
    Long,
    /// A 64-bit float.
    Double,
    /// True or false.
    Boolean,
    /// Bytes; base64 in JSON.
    Binary,
    /// No value of its own: a parent whose children hold the values.
    Object,
}

impl ValueType {
    /// Every value type.
    pub const ALL: [Self; 6] = [
        Self::String,
        Self::Long,
        Self::Double,
        Self::Boolean,
        Self::Binary,
        Self::Object,
    ];

    /// Whether it is LONG or DOUBLE.
    pub fn is_number(self) -> bool {
        matches!(self, Self::Long | Self::Double)
    }

    /// The API spelling (`STRING`, `LONG`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "STRING",
            Self::Long => "LONG",
            Self::Double => "DOUBLE",
            Self::Boolean => "BOOLEAN",
            Self::Binary => "BINARY",
            Self::Object => "OBJECT",
        }
    }

    /// The type a value seen for the first time gets (devices that publish JSON).
    pub fn infer(value: &serde_json::Value) -> Option<Self> {
        use serde_json::Value as J;
        match value {
            J::Bool(_) => Some(Self::Boolean),
            J::Number(n) if n.is_i64() => Some(Self::Long),
            J::Number(_) => Some(Self::Double),
            J::String(_) => Some(Self::String),
            J::Object(_) => Some(Self::Object),
            J::Null | J::Array(_) => None,
        }
    }
}

/// Formats a STRING value can be required to have.
pub const FORMATS: &[&str] = &["HEX", "IMAGE_URL"];

/// The rules and presentation of an entity's values. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ValueAttribute {
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The unit values are in (`°C`), for display.
    pub unit: Option<String>,
    /// Smallest allowed number (LONG, DOUBLE).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest allowed number (LONG, DOUBLE).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Shortest allowed text (characters) or binary (bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Longest allowed text (characters) or binary (bytes).
    pub max_length: Option<u32>,
    /// Most digits after the decimal point (DOUBLE).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fraction_digits: Option<u32>,
    /// One of [`FORMATS`] (STRING).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Allowed values (as text) and their labels.
    #[serde(rename = "enum", skip_serializing_if = "Option::is_none")]
    pub enum_values: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The value a form offers first; it must meet the rules above itself.
    pub default_value: Option<serde_json::Value>,
    /// Whether a service parameter may be left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

/// An entity as an integration declares it or a user creates it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityDefinition {
    /// The last segment of the key.
    pub identifier: String,
    /// The display name, 1 to [`NAME_MAX`] characters.
    pub name: String,
    #[serde(rename = "type")]
    /// A property, a service or an event.
    pub entity_type: EntityType,
    /// Who may read and write it.
    pub access_mod: AccessMod,
    /// What its values hold.
    pub value_type: ValueType,
    #[serde(default)]
    /// Rules its values must meet, and how they show.
    pub value_attribute: ValueAttribute,
    /// Children of an OBJECT entity.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<EntityDefinition>,
}

/// The product's limits on custom entities.
pub const IDENTIFIER_MAX: usize = 50;
/// The most characters of an entity's name.
pub const NAME_MAX: usize = 64;

/// Why a definition is refused; `field` names what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {message}")]
pub struct DefinitionError {
    /// The field at fault (`value_attribute.min`, `children[0].identifier`).
    pub field: String,
    /// What is wrong with it, phrased to follow the field's name.
    pub message: String,
}

fn refuse(field: impl Into<String>, message: impl Into<String>) -> DefinitionError {
    DefinitionError {
        field: field.into(),
        message: message.into(),
    }
}

impl EntityDefinition {
    /// Checks the definition: identifier, name, and a `value_attribute` that fits the value
    /// type (no `min` on a BOOLEAN, `min <= max`, enum values of the right type...).
    pub fn check(&self) -> Result<(), DefinitionError> {
        self.check_at("")
    }

    /// Checks the entity's own fields (identifier, name, `value_attribute`), not its
    /// children: for a stored entity, whose children are rows of their own.
    pub fn check_own(&self) -> Result<(), DefinitionError> {
        self.check_own_at("")
    }

    fn check_at(&self, prefix: &str) -> Result<(), DefinitionError> {
        self.check_own_at(prefix)?;
        let f = |name: &str| format!("{prefix}{name}");
        if self.value_type == ValueType::Object {
            if self.children.is_empty() {
                return Err(refuse(
                    f("children"),
                    "an OBJECT entity needs at least one child",
                ));
            }
        } else if !self.children.is_empty() {
            return Err(refuse(f("children"), "only an OBJECT entity has children"));
        }
        for (i, child) in self.children.iter().enumerate() {
            if child.value_type == ValueType::Object {
                return Err(refuse(
                    f(&format!("children[{i}].value_type")),
                    "children cannot be OBJECT",
                ));
            }
            child.check_at(&format!("{prefix}children[{i}]."))?;
        }
        Ok(())
    }

    fn check_own_at(&self, prefix: &str) -> Result<(), DefinitionError> {
        let f = |name: &str| format!("{prefix}{name}");
        if !valid_segment(&self.identifier) || self.identifier.len() > IDENTIFIER_MAX {
            return Err(refuse(
                f("identifier"),
                format!("must be 1 to {IDENTIFIER_MAX} letters, digits, '_', '-' or ':'"),
            ));
        }
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > NAME_MAX || name.chars().any(char::is_control)
        {
            return Err(refuse(
                f("name"),
                format!("must be 1 to {NAME_MAX} characters"),
            ));
        }
        let a = &self.value_attribute;
        let t = self.value_type;
        if (a.min.is_some() || a.max.is_some()) && !t.is_number() {
            return Err(refuse(
                f("value_attribute.min"),
                "min and max apply to LONG and DOUBLE only",
            ));
        }
        if let (Some(min), Some(max)) = (a.min, a.max)
            && !(min.is_finite() && max.is_finite() && min <= max)
        {
            return Err(refuse(
                f("value_attribute.min"),
                "must be finite and not above max",
            ));
        }
        if (a.min_length.is_some() || a.max_length.is_some())
            && !matches!(t, ValueType::String | ValueType::Binary)
        {
            return Err(refuse(
                f("value_attribute.min_length"),
                "min_length and max_length apply to STRING and BINARY only",
            ));
        }
        if let (Some(min), Some(max)) = (a.min_length, a.max_length)
            && min > max
        {
            return Err(refuse(
                f("value_attribute.min_length"),
                "must not be above max_length",
            ));
        }
        if a.fraction_digits.is_some() && t != ValueType::Double {
            return Err(refuse(
                f("value_attribute.fraction_digits"),
                "applies to DOUBLE only",
            ));
        }
        if let Some(format) = &a.format
            && (t != ValueType::String || !FORMATS.contains(&format.as_str()))
        {
            return Err(refuse(
                f("value_attribute.format"),
                format!("must be one of {} on a STRING", FORMATS.join(", ")),
            ));
        }
        if let Some(values) = &a.enum_values {
            for v in values.keys() {
                let ok = match t {
                    ValueType::String => true,
                    ValueType::Long => v.parse::<i64>().is_ok(),
                    ValueType::Double => v.parse::<f64>().is_ok_and(f64::is_finite),
                    ValueType::Boolean => v == "true" || v == "false",
                    ValueType::Binary | ValueType::Object => false,
                };
                if !ok {
                    return Err(refuse(
                        f("value_attribute.enum"),
                        format!("`{v}` is not a {} value", t.as_str()),
                    ));
                }
            }
        }
        if let Some(default) = &a.default_value {
            crate::value::EntityValue::check(self, default)
                .map_err(|e| refuse(f("value_attribute.default_value"), e.to_string()))?;
        }
        Ok(())
    }
}
