//! Writing values (property updates, service calls, device reports) and reading them back:
//! latest values, history and aggregates.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value as Json};
use weir_kernel::store::{read, write};
use weir_kernel::{Id, Millis, Page, SearchQuery, StoreError, TenantId};

use super::IotService;
use super::group_commit::Committer;
use crate::errors::IotError;
use crate::events::{Cause, CommittedValue, Origin, ValuesCommitted};
use crate::key::{EntityKey, KeyOwner};
use crate::model::{EntityType, ValueType};
use crate::ports::{Aggregate, AggregateResult, Entity, IotTx, ValuePoint};
use crate::rollup::{HOUR, MINUTE, RetentionPolicy, Rollup, WindowPlan};
use crate::value::EntityValue;
use crate::viewer::Viewer;

/// Why values are written; it decides which entities may take them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    /// A user sets writable properties (`POST /entity/property/update`).
    PropertyUpdate,
    /// A user calls services (`POST /entity/service/call`).
    ServiceCall,
    /// A device or integration reports properties and events.
    Report,
}

/// A value write waiting for its transaction: what `store_points` writes, owned, so that
/// whichever writer leads the group can write it.
pub(super) struct PendingWrite {
    tenant: TenantId,
    new_entities: Vec<Entity>,
    history: Vec<ValuePoint>,
    latest: Vec<ValuePoint>,
    /// Published once committed (`None` when nobody listens).
    event: Option<Arc<ValuesCommitted>>,
}

/// What a write stored, and which devices could not be told about it.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteOutcome {
    /// The values stored, with their entities and times.
    pub points: Vec<ValuePoint>,
    /// Devices whose integration refused or failed the delivery (the values are stored).
    pub undelivered: Vec<String>,
}

impl IotService {
    /// Checks every value against its entity, then stores them all in one transaction
    /// (history, and the latest value of properties); nothing is stored if any is refused.
    /// Property updates and service calls are then handed to the devices' integrations.
    /// The values are published as written by no flow ([`Cause::external`]).
    pub fn write_values(
        &self,
        v: &Viewer,
        values: &Map<String, Json>,
        kind: WriteKind,
        timestamp: Option<Millis>,
    ) -> Result<WriteOutcome, IotError> {
        self.write_values_caused(v, values, kind, timestamp, &Cause::external())
    }

    /// [`Self::write_values`] for a write that flow runs led to (a flow's assignment or
    /// service call): the values are published with `cause`.
    pub fn write_values_caused(
        &self,
        v: &Viewer,
        values: &Map<String, Json>,
        kind: WriteKind,
        timestamp: Option<Millis>,
        cause: &Cause,
    ) -> Result<WriteOutcome, IotError> {
        if kind != WriteKind::Report {
            v.require("entity_data.edit")?;
        }
        self.check_exchange_size(values)?;
        let keys: Vec<String> = values.keys().cloned().collect();
        for key in &keys {
            key.parse::<EntityKey>()
                .map_err(|e| IotError::invalid(format!("exchange.{key}"), e.reason))?;
        }
        let entities = read(self.store(), |tx| tx.entities_by_keys(&v.tenant_id, &keys))?;
        let ts = timestamp.unwrap_or_else(|| self.clock.now_ms());
        let points = Self::checked_points(v, &entities, values, kind, ts)?;
        self.store_points(v, &[], &points, cause)?;
        let undelivered = if kind == WriteKind::Report {
            Vec::new()
        } else {
            self.deliver(v, &points)
        };
        Ok(WriteOutcome {
            points: points.into_iter().map(|(_, p)| p).collect(),
            undelivered,
        })
    }

    pub(super) fn check_exchange_size(&self, values: &Map<String, Json>) -> Result<(), IotError> {
        if values.is_empty() || values.len() > self.settings.max_batch {
            return Err(IotError::invalid(
                "exchange",
                format!("must name 1 to {} entity keys", self.settings.max_batch),
            ));
        }
        Ok(())
    }

    /// Checks each value against its entity (among `entities`, those the caller sees) and
    /// what `kind` may write; nothing is stored here.
    pub(super) fn checked_points<'e>(
        v: &Viewer,
        entities: &'e [Entity],
        values: &Map<String, Json>,
        kind: WriteKind,
        ts: Millis,
    ) -> Result<Vec<(&'e Entity, ValuePoint)>, IotError> {
        let by_key: BTreeMap<&str, &Entity> = entities
            .iter()
            .filter(|e| v.sees_entity(e))
            .map(|e| (e.key.as_str(), e))
            .collect();
        let mut points = Vec::with_capacity(values.len());
        for (key, raw) in values {
            let entity = by_key
                .get(key.as_str())
                .ok_or_else(|| IotError::not_found("entity", key))?;
            let def = &entity.definition;
            let refuse = |reason| {
                Err(IotError::NotWritable {
                    key: key.clone(),
                    reason,
                })
            };
            match kind {
                WriteKind::PropertyUpdate if def.entity_type != EntityType::Property => {
                    refuse("not a PROPERTY")?
                }
                WriteKind::PropertyUpdate if !def.access_mod.writable() => refuse("read-only")?,
                WriteKind::ServiceCall if def.entity_type != EntityType::Service => {
                    refuse("not a SERVICE")?
                }
                WriteKind::Report if def.entity_type == EntityType::Service => {
                    refuse("a SERVICE is called, not reported")?
                }
                _ => {}
            }
            let value = EntityValue::check(def, raw).map_err(|error| IotError::Value {
                key: key.clone(),
                error,
            })?;
            points.push((
                *entity,
                ValuePoint {
                    entity_id: entity.id,
                    timestamp: ts,
                    value,
                },
            ));
        }
        Ok(points)
    }

    /// Creates `new_entities`, appends the points to the history and keeps the latest value
    /// of properties, all or nothing, and answers once committed. Writes made at the same
    /// moment share one transaction (`group_commit`); a write that fails fails alone. Once
    /// committed, the points are published, in commit order, with what caused them.
    pub(super) fn store_points(
        &self,
        v: &Viewer,
        new_entities: &[Entity],
        points: &[(&Entity, ValuePoint)],
        cause: &Cause,
    ) -> Result<(), IotError> {
        let event = self.events.has_subscribers().then(|| {
            Arc::new(ValuesCommitted {
                tenant_id: v.tenant_id.clone(),
                values: points
                    .iter()
                    .map(|(e, p)| CommittedValue {
                        key: e.key.clone(),
                        entity_id: e.id,
                        integration: e.integration.clone(),
                        device_id: e.device_id,
                        timestamp: p.timestamp,
                        value: p.value.clone(),
                    })
                    .collect(),
                cause: cause.clone(),
                origin: Origin::Here,
            })
        });
        let pending = PendingWrite {
            tenant: v.tenant_id.clone(),
            new_entities: new_entities.to_vec(),
            history: points.iter().map(|(_, p)| p.clone()).collect(),
            latest: points
                .iter()
                .filter(|(e, _)| e.definition.entity_type == EntityType::Property)
                .map(|(_, p)| p.clone())
                .collect(),
            event: event.clone(),
        };
        let store = |group: &[PendingWrite]| {
            write(self.store(), |tx| {
                for w in group {
                    if !w.new_entities.is_empty() {
                        tx.insert_entities(&w.new_entities)?;
                    }
                    tx.append_history(&w.tenant, &w.history)?;
                    tx.upsert_latest(&w.tenant, &w.latest)?;
                }
                Ok(())
            })
        };
        let publish = |w: &PendingWrite| {
            if let Some(event) = &w.event {
                self.events.publish(event.clone());
            }
        };
        let committer = Committer {
            store: &store,
            shared: &|e| match e {
                IotError::Store(StoreError::Unavailable(why)) => {
                    Some(IotError::Store(StoreError::Unavailable(why.clone())))
                }
                _ => None,
            },
            committed: &publish,
            lost: &|| IotError::Store(StoreError::Internal("the write's group failed".into())),
        };
        self.writes.submit(pending, points.len(), &committer)?;
        // Off the commit order: a handler may slow this writer down here (see `EventBus::pace`).
        if let Some(event) = &event {
            self.events.pace(event);
        }
        Ok(())
    }

    /// Hands committed writes to each device's integration.
    fn deliver(&self, v: &Viewer, points: &[(&Entity, ValuePoint)]) -> Vec<String> {
        let mut per_device: BTreeMap<(String, String), Vec<(EntityKey, EntityValue)>> =
            BTreeMap::new();
        for (entity, point) in points {
            let Ok(key) = entity.key.parse::<EntityKey>() else {
                continue;
            };
            if let KeyOwner::Device(device) = &key.owner {
                per_device
                    .entry((key.integration.clone(), device.clone()))
                    .or_default()
                    .push((key.clone(), point.value.clone()));
            }
        }
        per_device
            .into_iter()
            .filter(|((integration, device), values)| {
                self.integrations
                    .get(integration)
                    .is_none_or(|i| i.deliver(&v.tenant_id, device, values).is_err())
            })
            .map(|((_, device), _)| device)
            .collect()
    }

    /// The latest values of the entities the caller may see among `ids` (others are left
    /// out), each with its entity.
    pub fn latest(
        &self,
        v: &Viewer,
        ids: &[Id],
    ) -> Result<Vec<(Entity, Option<ValuePoint>)>, IotError> {
        v.require("entity_data.view")?;
        if ids.len() > self.settings.max_batch {
            return Err(IotError::invalid(
                "entity_ids",
                format!("must name at most {} entities", self.settings.max_batch),
            ));
        }
        read(self.store(), |tx| {
            let entities: Vec<Entity> = tx
                .entities(&v.tenant_id, ids)?
                .into_iter()
                .filter(|e| v.sees_entity(e))
                .collect();
            let visible: Vec<Id> = entities.iter().map(|e| e.id).collect();
            let mut latest: BTreeMap<Id, ValuePoint> = tx
                .latest(&v.tenant_id, &visible)?
                .into_iter()
                .map(|p| (p.entity_id, p))
                .collect();
            Ok(entities
                .into_iter()
                .map(|e| {
                    let p = latest.remove(&e.id);
                    (e, p)
                })
                .collect())
        })
    }

    /// The latest values of entities named by key (the workflow's entity selector), in the
    /// order of `keys`: each key with its value, `None` when it has none yet. A key the caller
    /// does not see, or that names no entity, is refused by name.
    pub fn latest_by_keys(
        &self,
        v: &Viewer,
        keys: &[String],
    ) -> Result<Vec<(String, Option<EntityValue>)>, IotError> {
        v.require("entity_data.view")?;
        if keys.len() > self.settings.max_batch {
            return Err(IotError::invalid(
                "entities",
                format!("must name at most {} entities", self.settings.max_batch),
            ));
        }
        read(self.store(), |tx| {
            let entities: BTreeMap<String, Id> = tx
                .entities_by_keys(&v.tenant_id, keys)?
                .into_iter()
                .filter(|e| v.sees_entity(e))
                .map(|e| (e.key, e.id))
                .collect();
            if let Some(missing) = keys.iter().find(|k| !entities.contains_key(*k)) {
                return Err(IotError::not_found("entity", missing));
            }
            let ids: Vec<Id> = entities.values().copied().collect();
            let mut latest: BTreeMap<Id, EntityValue> = tx
                .latest(&v.tenant_id, &ids)?
                .into_iter()
                .map(|p| (p.entity_id, p.value))
                .collect();
            Ok(keys
                .iter()
                .map(|k| (k.clone(), latest.remove(&entities[k])))
                .collect())
        })
    }

    /// The history of several entities in [from, to] for an export, oldest first per
    /// entity. Needs `entity_data.export`; entities the caller may not see are left out. A
    /// range holding more than `limit` values in all is refused rather than cut short.
    pub fn export(
        &self,
        v: &Viewer,
        ids: &[Id],
        from: Millis,
        to: Millis,
        limit: usize,
    ) -> Result<Vec<(Entity, Vec<ValuePoint>)>, IotError> {
        v.require("entity_data.export")?;
        Self::window(from, to)?;
        if ids.is_empty() || ids.len() > self.settings.max_batch {
            return Err(IotError::invalid(
                "ids",
                format!("must name 1 to {} entities", self.settings.max_batch),
            ));
        }
        let page =
            weir_kernel::PageRequest::new(Some(1), Some(limit as i64), vec![], limit as u32, &[])?;
        read(self.store(), |tx| {
            let entities: Vec<Entity> = tx
                .entities(&v.tenant_id, ids)?
                .into_iter()
                .filter(|e| v.sees_entity(e))
                .collect();
            let mut out = Vec::with_capacity(entities.len());
            let mut count = 0i64;
            for e in entities {
                let (mut points, total) = tx.history(&v.tenant_id, e.id, from, to, &page)?;
                count += total;
                if count > limit as i64 {
                    return Err(IotError::invalid(
                        "end_timestamp",
                        format!("the range holds more than {limit} values; export a shorter range"),
                    ));
                }
                points.reverse();
                out.push((e, points));
            }
            Ok(out)
        })
    }

    fn window(from: Millis, to: Millis) -> Result<(), IotError> {
        if from > to {
            return Err(IotError::invalid(
                "start_timestamp",
                "must not be after end_timestamp",
            ));
        }
        Ok(())
    }

    /// History of one entity in [from, to], newest first.
    pub fn history(
        &self,
        v: &Viewer,
        entity: Id,
        from: Millis,
        to: Millis,
        q: &SearchQuery,
    ) -> Result<Page<ValuePoint>, IotError> {
        v.require("entity_data.view")?;
        let page = q.page(self.settings.max_page_size, &[])?;
        Self::window(from, to)?;
        read(self.store(), |tx| {
            self.visible_entity(tx, v, entity)?;
            let (points, total) = tx.history(&v.tenant_id, entity, from, to, &page)?;
            Ok(Page::new(&page, total, points))
        })
    }

    /// One aggregate of an entity's history in [from, to], computed by the database. MIN,
    /// MAX, AVG and SUM take LONG and DOUBLE entities only. A window holding whole minutes
    /// is answered from the rollups for those, and from the raw history for its edges
    /// ([`WindowPlan`]): the same answer as over the raw history, also where retention
    /// deleted the raw points of whole minutes. LAST comes from the raw history, and from
    /// the rollups only when the window has no raw point left; COUNT (of each distinct
    /// value) always from the raw history.
    pub fn aggregate(
        &self,
        v: &Viewer,
        entity: Id,
        from: Millis,
        to: Millis,
        aggregate: Aggregate,
    ) -> Result<(ValueType, AggregateResult), IotError> {
        v.require("entity_data.view")?;
        Self::window(from, to)?;
        read(self.store(), |tx| {
            let e = self.visible_entity(tx, v, entity)?;
            let numeric = matches!(
                aggregate,
                Aggregate::Min | Aggregate::Max | Aggregate::Avg | Aggregate::Sum
            );
            if numeric && !e.definition.value_type.is_number() {
                return Err(IotError::invalid(
                    "aggregate_type",
                    format!(
                        "{aggregate:?} needs a LONG or DOUBLE entity; this one is {}",
                        e.definition.value_type.as_str()
                    ),
                ));
            }
            let result = Self::aggregate_in(tx, v, &e, from, to, aggregate)?;
            if let AggregateResult::Number(Some(n)) = result
                && !n.is_finite()
            {
                return Err(IotError::invalid(
                    "aggregate_type",
                    format!(
                        "{} is beyond the range of a double (about ±1.8e308) in this \
                         window; ask for a shorter one",
                        format!("{aggregate:?}").to_uppercase()
                    ),
                ));
            }
            Ok((e.definition.value_type, result))
        })
    }

    /// [`Self::aggregate`] inside its read transaction, for the visible entity `e`.
    fn aggregate_in(
        tx: &mut dyn IotTx,
        v: &Viewer,
        e: &Entity,
        from: Millis,
        to: Millis,
        aggregate: Aggregate,
    ) -> Result<AggregateResult, IotError> {
        let t = &v.tenant_id;
        let value_type = e.definition.value_type;
        let plan = match WindowPlan::of(from, to) {
            Some(plan) if value_type.is_number() => plan,
            _ => return Ok(tx.aggregate(t, e.id, from, to, aggregate)?),
        };
        let rolled = |tx: &mut dyn IotTx, raw: bool| -> Result<Option<Rollup>, IotError> {
            let mut parts = Vec::with_capacity(4);
            if raw {
                for &(a, b) in &plan.raw {
                    parts.push(tx.history_rollup(t, e.id, value_type, a, b)?);
                }
            }
            for &(a, b) in &plan.minutes {
                parts.push(tx.rollup(t, e.id, MINUTE, a, b)?);
            }
            if let Some((a, b)) = plan.hours {
                parts.push(tx.rollup(t, e.id, HOUR, a, b)?);
            }
            Ok(Rollup::combine(parts))
        };
        Ok(match aggregate {
            Aggregate::Count => tx.aggregate(t, e.id, from, to, aggregate)?,
            // The newest raw point is found through the key at once; the rollups answer
            // only for whole minutes whose raw points retention deleted.
            Aggregate::Last => match tx.aggregate(t, e.id, from, to, aggregate)? {
                AggregateResult::Last(None) => {
                    AggregateResult::Last(rolled(tx, false)?.map(|r| ValuePoint {
                        entity_id: e.id,
                        timestamp: r.last_ts,
                        value: match value_type {
                            ValueType::Long => EntityValue::Long(r.last as i64),
                            _ => EntityValue::Double(r.last),
                        },
                    }))
                }
                raw => raw,
            },
            Aggregate::Min | Aggregate::Max | Aggregate::Avg | Aggregate::Sum => {
                AggregateResult::Number(rolled(tx, true)?.map(|r| match aggregate {
                    Aggregate::Min => r.min,
                    Aggregate::Max => r.max,
                    Aggregate::Avg => r.avg(),
                    _ => r.sum(),
                }))
            }
        })
    }

    /// One retention pass over every tenant that keeps its values for a limited time
    /// (`policy`): deletes raw history points older than the tenant's `raw_days` and rollup
    /// rows older than its `rollup_days`, at most `batch` rows per transaction, sleeping
    /// `pause` between transactions so that ingest is never held up for long. Blocking:
    /// run it on a thread of its own.
    pub fn purge_old_values(
        &self,
        policy: &RetentionPolicy,
        batch: usize,
        pause: std::time::Duration,
    ) -> Result<PurgeOutcome, IotError> {
        let mut outcome = PurgeOutcome::default();
        if policy.default.is_forever() && policy.tenants.values().all(|r| r.is_forever()) {
            return Ok(outcome);
        }
        let batch = batch.max(1);
        let tenants = read(self.store(), |tx| tx.value_tenants())?;
        for t in tenants {
            let keep = policy.of(t.as_str());
            if keep.is_forever() {
                continue;
            }
            let entities = read(self.store(), |tx| tx.value_entities(&t))?;
            let now = self.clock.now_ms();
            if let Some(days) = keep.raw_days {
                let before = crate::rollup::cutoff(now, days);
                outcome.history += self.purge(&entities, batch, pause, |tx, e, n| {
                    tx.delete_history_before(&t, e, before, n)
                })?;
            }
            if let Some(days) = keep.rollup_days {
                let before = crate::rollup::cutoff(now, days);
                outcome.rollups += self.purge(&entities, batch, pause, |tx, e, n| {
                    tx.delete_rollups_before(&t, e, before, n)
                })?;
            }
        }
        Ok(outcome)
    }

    /// Runs `delete` over `entities` in transactions of at most `batch` rows deleted (and
    /// at most [`PURGE_PROBES`] entities looked at), with `pause` between them.
    fn purge(
        &self,
        entities: &[Id],
        batch: usize,
        pause: std::time::Duration,
        delete: impl Fn(&mut dyn IotTx, Id, usize) -> Result<usize, weir_kernel::StoreError>,
    ) -> Result<usize, IotError> {
        let mut next = 0;
        let mut total = 0;
        while next < entities.len() {
            let (deleted, reached) = write(self.store(), |tx| {
                let mut deleted = 0;
                let mut at = next;
                while at < entities.len() && at < next + PURGE_PROBES {
                    deleted += delete(tx, entities[at], batch - deleted)?;
                    if deleted >= batch {
                        // This entity may hold more: start the next batch with it.
                        break;
                    }
                    at += 1;
                }
                Ok::<_, IotError>((deleted, at))
            })?;
            total += deleted;
            next = reached;
            if deleted >= batch && !pause.is_zero() {
                std::thread::sleep(pause);
            }
        }
        Ok(total)
    }
}

/// Most entities one retention transaction looks at.
const PURGE_PROBES: usize = 1000;

/// What a retention pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeOutcome {
    /// Raw history points.
    pub history: usize,
    /// Rollup rows.
    pub rollups: usize,
}
