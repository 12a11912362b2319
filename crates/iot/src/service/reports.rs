//! Device reports: values a device sends in, keyed by entity identifier. Entities seen for
//! the first time are created with the type their value suggests (what MQTT and HTTP
//! devices need: they announce nothing in advance).

use std::collections::BTreeSet;

use serde_json::{Map, Value as Json};
use weir_kernel::store::read;
use weir_kernel::{Millis, StoreError};

use super::IotService;
use super::values::{WriteKind, WriteOutcome};
use crate::errors::IotError;
use crate::key::{EntityKey, valid_segment};
use crate::model::{AccessMod, EntityDefinition, EntityType, ValueAttribute, ValueType};
use crate::viewer::Viewer;

/// The definition a first-seen value gets: a read-only PROPERTY of the inferred type; a
/// JSON object becomes an OBJECT whose scalar members are its children.
fn inferred(identifier: &str, value: &Json) -> Result<EntityDefinition, IotError> {
    let field = || format!("values.{identifier}");
    if !valid_segment(identifier) || identifier.len() > crate::model::IDENTIFIER_MAX {
        return Err(IotError::invalid(
            field(),
            "is not an entity identifier (letters, digits, '_', '-', ':'; at most 50)",
        ));
    }
    let value_type = ValueType::infer(value)
        .ok_or_else(|| IotError::invalid(field(), "must be a string, number, boolean or object"))?;
    let children = match value {
        Json::Object(members) => members
            .iter()
            .map(|(k, v)| match ValueType::infer(v) {
                Some(ValueType::Object) | None => Err(IotError::invalid(
                    format!("{}.{k}", field()),
                    "must be a string, number or boolean",
                )),
                Some(_) => inferred(k, v),
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => Vec::new(),
    };
    Ok(EntityDefinition {
        identifier: identifier.into(),
        name: identifier.into(),
        entity_type: EntityType::Property,
        access_mod: AccessMod::R,
        value_type,
        value_attribute: ValueAttribute::default(),
        children,
    })
}

impl IotService {
    /// Stores a report of `device` (of `integration`, in the viewer's tenant): creates the
    /// entities it has not reported before, then writes every value as a checked,
    /// all-or-nothing device report. Object values write their members' child entities.
    pub fn report(
        &self,
        v: &Viewer,
        integration: &str,
        device: &str,
        values: &Map<String, Json>,
        timestamp: Option<Millis>,
    ) -> Result<WriteOutcome, IotError> {
        let owner = read(self.store(), |tx| {
            tx.device_by_identifier(&v.tenant_id, integration, device)
        })?
        .filter(|d| v.sees_device(d))
        .ok_or_else(|| IotError::not_found("device", device))?;
        self.check_exchange_size(values)?;
        let key_of = |identifier: &str| EntityKey::device(integration, device, identifier);
        let ts = timestamp.unwrap_or_else(|| self.clock.now_ms());
        let now = self.clock.now_ms();
        // Entities it reported before, and rows for those it has not.
        let keys: Vec<String> = values.keys().map(|k| key_of(k).to_string()).collect();
        let mut entities = read(self.store(), |tx| tx.entities_by_keys(&v.tenant_id, &keys))?;
        let known: BTreeSet<String> = entities.iter().map(|e| e.key.clone()).collect();
        let mut new_rows = Vec::new();
        for (identifier, value) in values {
            let key = key_of(identifier);
            if !known.contains(&key.to_string()) {
                let def = inferred(identifier, value)?;
                new_rows.extend(self.entity_rows(
                    &v.tenant_id,
                    integration,
                    Some(owner.id),
                    &key,
                    &def,
                    now,
                ));
            }
        }
        entities.extend(new_rows.iter().cloned());
        // Object values write their members' child entities.
        let mut exchange = Map::new();
        for (identifier, value) in values {
            let key = key_of(identifier);
            match value {
                Json::Object(members) => {
                    for (child, v) in members {
                        exchange.insert(key.child(child).to_string(), v.clone());
                    }
                }
                other => {
                    exchange.insert(key.to_string(), other.clone());
                }
            }
        }
        let child_keys: Vec<String> = exchange
            .keys()
            .filter(|k| !entities.iter().any(|e| &e.key == *k))
            .cloned()
            .collect();
        if !child_keys.is_empty() {
            entities.extend(read(self.store(), |tx| {
                tx.entities_by_keys(&v.tenant_id, &child_keys)
            })?);
        }
        // A member an OBJECT did not have before becomes a new child of it.
        for (key, value) in &exchange {
            if entities.iter().any(|e| &e.key == key) {
                continue;
            }
            let Ok(parsed) = key.parse::<EntityKey>() else {
                continue;
            };
            let (Some(child), Some(parent)) = (parsed.child.clone(), parsed.parent()) else {
                continue;
            };
            let parent = parent.to_string();
            if !entities.iter().any(|e| e.key == parent) {
                continue;
            }
            let def = inferred(&child, value)?;
            let mut row = self
                .entity_rows(
                    &v.tenant_id,
                    integration,
                    Some(owner.id),
                    &parsed,
                    &def,
                    now,
                )
                .remove(0);
            row.parent_key = Some(parent);
            new_rows.push(row.clone());
            entities.push(row);
        }
        // Every value is checked before anything is created or stored.
        let points = Self::checked_points(v, &entities, &exchange, WriteKind::Report, ts)?;
        match self.store_points(v, &new_rows, &points) {
            // Another report created the same entities at the same moment: store again
            // against theirs.
            Err(IotError::Store(StoreError::Conflict(_))) if !new_rows.is_empty() => {
                self.write_values(v, &exchange, WriteKind::Report, timestamp)
            }
            Err(e) => Err(e),
            Ok(()) => Ok(WriteOutcome {
                points: points.into_iter().map(|(_, p)| p).collect(),
                undelivered: Vec::new(),
            }),
        }
    }
}
