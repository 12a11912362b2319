//! Entity keys, as the reference product writes them:
//! `{integration}.device.{device_identifier}.{entity}[.{child}]` for device entities and
//! `{integration}.integration.{entity}[.{child}]` for the integration's own entities.

use std::fmt;
use std::str::FromStr;

/// Whose entity a key names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyOwner {
    /// A device's entity: the device's identifier.
    Device(String),
    /// The integration's own entity.
    Integration,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
/// An entity key, parsed into its segments; `Display` writes it back.
pub struct EntityKey {
    /// The integration id: the first segment.
    pub integration: String,
    /// Whose entity it is.
    pub owner: KeyOwner,
    /// The entity's identifier.
    pub entity: String,
    /// Set for a child of an OBJECT entity.
    pub child: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{key}` is not an entity key: {reason}")]
/// Why a text is not an entity key.
pub struct KeyError {
    /// The text given.
    pub key: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// The longest segment (integration id, device identifier, entity identifier).
pub const SEGMENT_MAX: usize = 64;

/// Checks one segment: 1 to 64 of letters, digits, '_', '-' and ':'. No dots: they split keys.
pub fn valid_segment(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= SEGMENT_MAX
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':'))
}

impl EntityKey {
    /// The key of entity `entity` of device `device` of integration `integration`.
    pub fn device(integration: &str, device: &str, entity: &str) -> Self {
        Self {
            integration: integration.into(),
            owner: KeyOwner::Device(device.into()),
            entity: entity.into(),
            child: None,
        }
    }

    /// The key of the integration's own entity `entity`.
    pub fn integration(integration: &str, entity: &str) -> Self {
        Self {
            integration: integration.into(),
            owner: KeyOwner::Integration,
            entity: entity.into(),
            child: None,
        }
    }

    /// The key of a child of this (OBJECT) entity.
    pub fn child(&self, child: &str) -> Self {
        Self {
            child: Some(child.into()),
            ..self.clone()
        }
    }

    /// The key of the parent entity, for a child key.
    pub fn parent(&self) -> Option<Self> {
        self.child.as_ref().map(|_| Self {
            child: None,
            ..self.clone()
        })
    }
}

impl FromStr for EntityKey {
    type Err = KeyError;

    fn from_str(key: &str) -> Result<Self, KeyError> {
        let bad = |reason| KeyError {
            key: key.chars().take(200).collect(),
            reason,
        };
        let parts: Vec<&str> = key.split('.').collect();
        if !parts.iter().all(|p| valid_segment(p)) {
            return Err(bad(
                "segments are 1 to 64 letters, digits, '_', '-' or ':', split by '.'",
            ));
        }
        match parts.as_slice() {
            [integration, "device", device, entity, rest @ ..] if rest.len() <= 1 => Ok(Self {
                integration: (*integration).into(),
                owner: KeyOwner::Device((*device).into()),
                entity: (*entity).into(),
                child: rest.first().map(|c| (*c).into()),
            }),
            [integration, "integration", entity, rest @ ..] if rest.len() <= 1 => Ok(Self {
                integration: (*integration).into(),
                owner: KeyOwner::Integration,
                entity: (*entity).into(),
                child: rest.first().map(|c| (*c).into()),
            }),
            _ => Err(bad(
                "expected {integration}.device.{device}.{entity}[.{child}] or {integration}.integration.{entity}[.{child}]",
            )),
        }
    }
}

impl fmt::Display for EntityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.owner {
            KeyOwner::Device(d) => write!(f, "{}.device.{}.{}", self.integration, d, self.entity)?,
            KeyOwner::Integration => write!(f, "{}.integration.{}", self.integration, self.entity)?,
        }
        if let Some(c) = &self.child {
            write!(f, ".{c}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        for k in [
            "mqtt-device.device.sensor-1.temperature",
            "mqtt-device.device.sensor-1.location.lat",
            "system.integration.alarm",
            "system.integration.alarm.level",
        ] {
            let parsed: EntityKey = k.parse().unwrap();
            assert_eq!(parsed.to_string(), k);
        }
        let child: EntityKey = "a.device.d.e.c".parse().unwrap();
        assert_eq!(child.parent().unwrap().to_string(), "a.device.d.e");
        assert_eq!(EntityKey::device("a", "d", "e").child("c"), child);
    }

    #[test]
    fn malformed_keys_are_refused() {
        for k in [
            "",
            "a",
            "a.device.d",
            "a.device.d.e.c.x",
            "a.other.e",
            "a..b.c",
            "a.device.d e.x",
            "a.integration",
        ] {
            assert!(k.parse::<EntityKey>().is_err(), "{k}");
        }
    }
}
