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
use crate::events::Cause;
use crate::key::{EntityKey, valid_segment};
use crate::model::{AccessMod, EntityDefinition, EntityType, ValueAttribute, ValueType};
use crate::ports::{Device, Entity};
use crate::samples::Sample;
use crate::viewer::Viewer;

/// Checks what a report can hold before anything is looked up: identifiers that can be
/// key segments, scalar values, and objects of one or more scalar members. Errors name
/// the field (`values.gps.lat`).
fn check_shape(samples: &[Sample]) -> Result<(), IotError> {
    let identifier = |field: &str, id: &str| {
        if valid_segment(id) && id.len() <= crate::model::IDENTIFIER_MAX {
            Ok(())
        } else {
            Err(IotError::invalid(
                field,
                "is not an entity identifier (letters, digits, '_', '-', ':'; at most 50)",
            ))
        }
    };
    for (id, value) in samples.iter().flat_map(|s| &s.values) {
        let field = format!("values.{id}");
        identifier(&field, id)?;
        match value {
            Json::Object(members) if members.is_empty() => {
                return Err(IotError::invalid(field, "must have at least one member"));
            }
            Json::Object(members) => {
                for (member, v) in members {
                    let field = format!("{field}.{member}");
                    identifier(&field, member)?;
                    // null is checked against the entity later (a required value).
                    if !v.is_null() && matches!(ValueType::infer(v), Some(ValueType::Object) | None)
                    {
                        return Err(IotError::invalid(
                            field,
                            "must be a string, number or boolean",
                        ));
                    }
                }
            }
            v if !v.is_null() && ValueType::infer(v).is_none() => {
                return Err(IotError::invalid(
                    field,
                    "must be a string, number, boolean or object",
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The definition a first-seen value gets (its shape was checked): a read-only PROPERTY
/// of the inferred type; a JSON object becomes an OBJECT whose members are its children.
/// A null says nothing of its type, so it cannot introduce an entity.
fn inferred(field: &str, identifier: &str, value: &Json) -> Result<EntityDefinition, IotError> {
    let value_type = ValueType::infer(value).ok_or_else(|| {
        IotError::invalid(
            field,
            "must be a string, number, boolean or object to create its entity",
        )
    })?;
    let children = match value {
        Json::Object(members) => members
            .iter()
            .map(|(k, v)| inferred(&format!("{field}.{k}"), k, v))
            .collect::<Result<_, _>>()?,
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

/// What a report writes: each sample's time and its values by entity key, an object's
/// members as its child entities.
type Exchanges = Vec<(Millis, Map<String, Json>)>;

/// The key of the device's entity `identifier`.
fn key_of(owner: &Device, identifier: &str) -> EntityKey {
    EntityKey::device(&owner.integration, &owner.identifier, identifier)
}

/// Each sample's values by entity key, at the sample's time or `now`.
fn exchanges(owner: &Device, samples: &[Sample], now: Millis) -> Exchanges {
    samples
        .iter()
        .map(|s| {
            let mut exchange = Map::new();
            for (identifier, value) in &s.values {
                let key = key_of(owner, identifier);
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
            (s.timestamp.unwrap_or(now), exchange)
        })
        .collect()
}

/// `key` parsed, with its member and its object's key, when it is a member not in `known`
/// of an object in `known`.
fn new_member(key: &str, known: &BTreeSet<String>) -> Option<(EntityKey, String, String)> {
    if known.contains(key) {
        return None;
    }
    let parsed = key.parse::<EntityKey>().ok()?;
    let (Some(child), Some(parent)) = (parsed.child.clone(), parsed.parent()) else {
        return None;
    };
    let parent = parent.to_string();
    known.contains(&parent).then_some((parsed, child, parent))
}

impl IotService {
    /// Stores a report of `device` (of `integration`, in the viewer's tenant): creates the
    /// entities it has not reported before, then writes every value of every sample as a
    /// checked, all-or-nothing device report in one transaction. Object values write
    /// their members' child entities.
    pub fn report(
        &self,
        v: &Viewer,
        integration: &str,
        device: &str,
        samples: &[Sample],
    ) -> Result<WriteOutcome, IotError> {
        let (owner, entities) = read(self.store(), |tx| {
            let owner = tx
                .device_by_identifier(&v.tenant_id, integration, device)?
                .filter(|d| v.sees_device(d))
                .ok_or_else(|| IotError::not_found("device", device))?;
            let entities = tx.entities_of_device(&v.tenant_id, owner.id)?;
            Ok::<_, IotError>((owner, entities))
        })?;
        self.report_of(v, &owner, entities, samples)
    }

    /// [`Self::report`] for a device already looked up (and visible to the viewer), with
    /// the entities it has.
    pub(super) fn report_of(
        &self,
        v: &Viewer,
        owner: &Device,
        mut entities: Vec<Entity>,
        samples: &[Sample],
    ) -> Result<WriteOutcome, IotError> {
        check_shape(samples)?;
        let now = self.receipt_time(owner.id);
        let exchanges = exchanges(owner, samples, now);
        let total = self.check_count(samples, &exchanges)?;
        let new_rows = self.new_entities(v, owner, &entities, samples, &exchanges, now)?;
        entities.extend(new_rows.iter().cloned());
        // Every value is checked before anything is created or stored.
        let mut points = Vec::with_capacity(total);
        for (ts, exchange) in &exchanges {
            points.extend(Self::checked_points(
                v,
                &entities,
                exchange,
                WriteKind::Report,
                *ts,
            )?);
        }
        match self.store_points(v, &new_rows, &points, &Cause::external()) {
            // Another report created the same entities at the same moment: store again
            // against theirs (they exist now, so this happens once).
            Err(IotError::Store(StoreError::Conflict(_))) if !new_rows.is_empty() => {
                let entities = read(self.store(), |tx| {
                    tx.entities_of_device(&v.tenant_id, owner.id)
                })?;
                self.report_of(v, owner, entities, samples)
            }
            Err(e) => Err(e),
            Ok(()) => Ok(WriteOutcome {
                points: points.into_iter().map(|(_, p)| p).collect(),
                undelivered: Vec::new(),
            }),
        }
    }

    /// Refuses a report with an empty sample, or too few or too many values; answers how
    /// many it writes.
    fn check_count(&self, samples: &[Sample], exchanges: &Exchanges) -> Result<usize, IotError> {
        // Counted as written: each member of an object is a value.
        let total: usize = exchanges.iter().map(|(_, e)| e.len()).sum();
        if samples.iter().any(|s| s.values.is_empty())
            || !(1..=self.settings.max_batch).contains(&total)
        {
            return Err(IotError::invalid(
                "values",
                format!(
                    "a report holds 1 to {} values (each member of an object counts), and no \
                     sample is empty",
                    self.settings.max_batch
                ),
            ));
        }
        Ok(total)
    }

    /// Rows for the entities the report is the first to name: identifiers the device has
    /// not reported before, then members an OBJECT did not have before.
    fn new_entities(
        &self,
        v: &Viewer,
        owner: &Device,
        entities: &[Entity],
        samples: &[Sample],
        exchanges: &Exchanges,
        now: Millis,
    ) -> Result<Vec<Entity>, IotError> {
        let mut known: BTreeSet<String> = entities.iter().map(|e| e.key.clone()).collect();
        let mut rows = self.new_reported(v, owner, &mut known, samples, now)?;
        rows.extend(self.new_members(v, owner, &mut known, exchanges, now)?);
        Ok(rows)
    }

    /// Rows for the identifiers not in `known` (with their children), added to it.
    fn new_reported(
        &self,
        v: &Viewer,
        owner: &Device,
        known: &mut BTreeSet<String>,
        samples: &[Sample],
        now: Millis,
    ) -> Result<Vec<Entity>, IotError> {
        let mut new_rows = Vec::new();
        for (identifier, value) in samples.iter().flat_map(|s| &s.values) {
            let key = key_of(owner, identifier);
            if known.insert(key.to_string()) {
                let def = inferred(&format!("values.{identifier}"), identifier, value)?;
                let rows = self.entity_rows(
                    &v.tenant_id,
                    &owner.integration,
                    Some(owner.id),
                    &key,
                    &def,
                    now,
                );
                known.extend(rows.iter().map(|r| r.key.clone()));
                new_rows.extend(rows);
            }
        }
        Ok(new_rows)
    }

    /// Rows for the members of known OBJECTs that are not in `known`: each a new child of
    /// its object, added to it.
    fn new_members(
        &self,
        v: &Viewer,
        owner: &Device,
        known: &mut BTreeSet<String>,
        exchanges: &Exchanges,
        now: Millis,
    ) -> Result<Vec<Entity>, IotError> {
        let mut new_rows = Vec::new();
        for (key, value) in exchanges.iter().flat_map(|(_, e)| e) {
            let Some((parsed, child, parent)) = new_member(key, known) else {
                continue;
            };
            let field = format!("values.{}.{child}", parsed.entity);
            let def = inferred(&field, &child, value)?;
            let mut row = self
                .entity_rows(
                    &v.tenant_id,
                    &owner.integration,
                    Some(owner.id),
                    &parsed,
                    &def,
                    now,
                )
                .remove(0);
            row.parent_key = Some(parent);
            known.insert(row.key.clone());
            new_rows.push(row);
        }
        Ok(new_rows)
    }
}
