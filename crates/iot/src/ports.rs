//! What the IoT use-cases need from storage: one repository port per aggregate (devices,
//! entities, values, dashboards), composed into [`IotTx`], which the storage adapter
//! implements; a unit of work runs in one transaction through [`IotStore`].

use serde_json::{Map, Value as Json};
use weir_kernel::{Id, Millis, PageRequest, StoreError, TenantId, Transactions};

use crate::model::{AccessMod, EntityDefinition, EntityType, ValueType};
use crate::rollup::Rollup;
use crate::value::EntityValue;

type R<T> = Result<T, StoreError>;

/// A device of one tenant, owned by an integration.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    /// The device's id, unique across tenants.
    pub id: Id,
    /// The tenant the device belongs to.
    pub tenant_id: TenantId,
    /// The id of the integration that owns it (`mqtt-device`).
    pub integration: String,
    /// Unique within the integration and tenant; the device segment of its entity keys.
    pub identifier: String,
    /// The display name.
    pub name: String,
    /// Integration-specific settings.
    pub additional: Map<String, Json>,
    /// When it was created (epoch milliseconds).
    pub created_at: Millis,
    /// When it was last changed (epoch milliseconds).
    pub updated_at: Millis,
}

/// An entity as stored: one row per entity, children included (with `parent_key`).
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    /// The entity's id, unique across tenants.
    pub id: Id,
    /// The tenant the entity belongs to.
    pub tenant_id: TenantId,
    /// The full key (`mqtt-device.device.s1.temperature`).
    pub key: String,
    /// The id of the integration it belongs to (`system` for custom entities).
    pub integration: String,
    /// The owning device; `None` for integration entities.
    pub device_id: Option<Id>,
    /// The parent's key, for children of an OBJECT entity.
    pub parent_key: Option<String>,
    /// The definition, without children (they are entities of their own).
    pub definition: EntityDefinition,
    /// When it was created (epoch milliseconds).
    pub created_at: Millis,
    /// When it was last changed (epoch milliseconds).
    pub updated_at: Millis,
}

/// A dashboard: a named list of widgets, each an opaque JSON object the console draws.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    /// The dashboard's id, unique across tenants.
    pub id: Id,
    /// The tenant the dashboard belongs to.
    pub tenant_id: TenantId,
    /// Who created it; they always see it.
    pub user_id: Option<Id>,
    /// The name, unique in the tenant.
    pub name: String,
    /// The widgets, in the order the console shows them.
    pub widgets: Vec<Widget>,
    /// When it was created (epoch milliseconds).
    pub created_at: Millis,
    /// When it was last changed (epoch milliseconds).
    pub updated_at: Millis,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
/// One widget of a [`Dashboard`]; Weir keeps it without reading it.
pub struct Widget {
    /// The widget's id, chosen by the console.
    pub widget_id: String,
    /// The widget's settings, as the console saved them.
    pub data: Map<String, Json>,
}

/// One value of one entity at one time.
#[derive(Debug, Clone, PartialEq)]
pub struct ValuePoint {
    /// The entity the value belongs to.
    pub entity_id: Id,
    /// When the value was measured or written (epoch milliseconds).
    pub timestamp: Millis,
    /// The value.
    pub value: EntityValue,
}

/// Which devices a device search returns; every filter is optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceFilter {
    /// Case-insensitive substring of the name.
    pub keyword: Option<String>,
    /// Only devices that are one of these, or belong to one of `integrations` (the caller's
    /// grants); `None` for all of the tenant's.
    pub visible: Option<VisibleSet>,
}

/// What a caller without the super admin role may see, from their grants.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VisibleSet {
    /// Integrations granted: everything they own is visible.
    pub integrations: Vec<String>,
    /// Devices granted: they and their entities are visible.
    pub devices: Vec<Id>,
    /// Entities granted.
    pub entities: Vec<Id>,
    /// Dashboards granted.
    pub dashboards: Vec<Id>,
}

/// Which entities an entity search returns; every filter is optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntityFilter {
    /// Case-insensitive substring of the key or the name.
    pub keyword: Option<String>,
    /// Only entities of one of these types; empty: any.
    pub entity_types: Vec<EntityType>,
    /// Only entities of one of these value types; empty: any.
    pub value_types: Vec<ValueType>,
    /// Only entities with one of these access modes; empty: any.
    pub access_mods: Vec<AccessMod>,
    /// Leave out children of OBJECT entities.
    pub exclude_children: bool,
    /// `Some(true)`: only custom entities (of the `system` integration, on no device);
    /// `Some(false)`: none of them; `None`: either.
    pub customized: Option<bool>,
    /// Only entities the caller's grants reach (directly, through their device or through
    /// their integration); `None` for all of the tenant's.
    pub visible: Option<VisibleSet>,
}

/// The aggregates a history window can be reduced to, computed by the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// The newest value.
    Last,
    /// The smallest number.
    Min,
    /// The largest number.
    Max,
    /// The mean of the numbers.
    Avg,
    /// The sum of the numbers.
    Sum,
    /// How often each distinct value occurs.
    Count,
}

#[derive(Debug, Clone, PartialEq)]
/// What [`ValueRepo::aggregate`] answers, by [`Aggregate`].
pub enum AggregateResult {
    /// LAST: the newest value in the window, if any.
    Last(Option<ValuePoint>),
    /// MIN, MAX, AVG, SUM over numbers; `None` for an empty window.
    Number(Option<f64>),
    /// COUNT: each distinct value (as text) with how often it occurs, most frequent first.
    Counts(Vec<(String, i64)>),
}

/// Devices of a tenant, with the token each may report with.
pub trait DeviceRepo {
    /// Adds a device; its id must be new.
    fn insert_device(&mut self, device: &Device) -> R<()>;
    /// The device with this id in tenant `t`, if any.
    fn device(&mut self, t: &TenantId, id: Id) -> R<Option<Device>>;
    /// The device of tenant `t` with this identifier in this integration, if any.
    fn device_by_identifier(
        &mut self,
        t: &TenantId,
        integration: &str,
        identifier: &str,
    ) -> R<Option<Device>>;
    /// The devices of tenant `t` among `ids`; unknown ids are left out.
    fn devices(&mut self, t: &TenantId, ids: &[Id]) -> R<Vec<Device>>;
    /// Sets the device's name and `updated_at`.
    fn rename_device(&mut self, t: &TenantId, id: Id, name: &str, now: Millis) -> R<()>;
    /// Devices matching the filter, newest first.
    fn search_devices(
        &mut self,
        t: &TenantId,
        filter: &DeviceFilter,
        page: &PageRequest,
    ) -> R<(Vec<Device>, i64)>;
    /// Deletes devices with their entities, latest values and history.
    fn delete_devices(&mut self, t: &TenantId, ids: &[Id]) -> R<usize>;
    /// Per integration id: (devices, entities).
    fn counts_by_integration(&mut self, t: &TenantId) -> R<Vec<(String, i64, i64)>>;

    // Credentials
    /// Sets the device's token (given as its SHA-256), replacing any earlier one.
    fn set_device_token(
        &mut self,
        t: &TenantId,
        device: Id,
        token_hash: &str,
        now: Millis,
    ) -> R<()>;
    /// The device a token belongs to, in whichever tenant.
    fn device_by_token(&mut self, token_hash: &str) -> R<Option<Device>>;
}

/// Entities: of a device, of an integration itself, or children of an OBJECT entity.
pub trait EntityRepo {
    /// Adds entities; their ids and keys must be new.
    fn insert_entities(&mut self, entities: &[Entity]) -> R<()>;
    /// Overwrites the stored entity with this id and tenant with `entity`.
    fn update_entity(&mut self, entity: &Entity) -> R<()>;
    /// The entity with this id in tenant `t`, if any.
    fn entity(&mut self, t: &TenantId, id: Id) -> R<Option<Entity>>;
    /// The entities of tenant `t` among `ids`; unknown ids are left out.
    fn entities(&mut self, t: &TenantId, ids: &[Id]) -> R<Vec<Entity>>;
    /// The entities of tenant `t` with these keys; unknown keys are left out.
    fn entities_by_keys(&mut self, t: &TenantId, keys: &[String]) -> R<Vec<Entity>>;
    /// The integration's own entities (no device), children included.
    fn integration_entities(&mut self, t: &TenantId, integration: &str) -> R<Vec<Entity>>;
    /// The device's entities, children included.
    fn entities_of_device(&mut self, t: &TenantId, device: Id) -> R<Vec<Entity>>;
    /// The children of the OBJECT entity with key `parent_key`.
    fn children(&mut self, t: &TenantId, parent_key: &str) -> R<Vec<Entity>>;
    /// One page of the entities matching the filter, with how many match in all.
    fn search_entities(
        &mut self,
        t: &TenantId,
        filter: &EntityFilter,
        page: &PageRequest,
    ) -> R<(Vec<Entity>, i64)>;
    /// Deletes entities (and their children) with their values.
    fn delete_entities(&mut self, t: &TenantId, ids: &[Id]) -> R<usize>;
}

/// Entity values: each entity's latest value, its history, and aggregates over a window
/// of the history.
pub trait ValueRepo {
    /// Appends points to the history; a point at a time the entity already has replaces
    /// nothing and is skipped. The numeric points stored are added to the minute and hour
    /// rollups ([`crate::rollup`]) in the same transaction.
    fn append_history(&mut self, t: &TenantId, points: &[ValuePoint]) -> R<()>;
    /// Sets each entity's latest value unless it already has a newer one.
    fn upsert_latest(&mut self, t: &TenantId, points: &[ValuePoint]) -> R<()>;
    /// The latest value of each of `entities` that has one.
    fn latest(&mut self, t: &TenantId, entities: &[Id]) -> R<Vec<ValuePoint>>;
    /// History of one entity within [from, to], newest first.
    fn history(
        &mut self,
        t: &TenantId,
        entity: Id,
        from: Millis,
        to: Millis,
        page: &PageRequest,
    ) -> R<(Vec<ValuePoint>, i64)>;
    /// Reduces the entity's history within [from, to] to one aggregate.
    fn aggregate(
        &mut self,
        t: &TenantId,
        entity: Id,
        from: Millis,
        to: Millis,
        aggregate: Aggregate,
    ) -> R<AggregateResult>;

    // Rollups (crate::rollup): `append_history` keeps them for the points it stores.
    /// The rollup of the entity's raw history within [from, to] (inclusive), read as
    /// numbers of `value_type` (LONG or DOUBLE); `None` when it holds no point.
    fn history_rollup(
        &mut self,
        t: &TenantId,
        entity: Id,
        value_type: ValueType,
        from: Millis,
        to: Millis,
    ) -> R<Option<Rollup>>;
    /// The stored rollups of `span` whose bucket starts in [from, to), merged; `None` when
    /// there is none.
    fn rollup(
        &mut self,
        t: &TenantId,
        entity: Id,
        span: Millis,
        from: Millis,
        to: Millis,
    ) -> R<Option<Rollup>>;

    // Retention
    /// Every tenant that has entities.
    fn value_tenants(&mut self) -> R<Vec<TenantId>>;
    /// The ids of the tenant's entities, in id order.
    fn value_entities(&mut self, t: &TenantId) -> R<Vec<Id>>;
    /// Deletes up to `limit` of the entity's oldest history points older than `before`;
    /// answers how many.
    fn delete_history_before(
        &mut self,
        t: &TenantId,
        entity: Id,
        before: Millis,
        limit: usize,
    ) -> R<usize>;
    /// Deletes up to `limit` of the entity's rollup rows whose bucket ended by `before`;
    /// answers how many.
    fn delete_rollups_before(
        &mut self,
        t: &TenantId,
        entity: Id,
        before: Millis,
        limit: usize,
    ) -> R<usize>;
}

/// Dashboards of a tenant.
pub trait DashboardRepo {
    /// Adds a dashboard; its id must be new.
    fn insert_dashboard(&mut self, dashboard: &Dashboard) -> R<()>;
    /// Writes name, widgets and updated_at.
    fn update_dashboard(&mut self, dashboard: &Dashboard) -> R<()>;
    /// The dashboard with this id in tenant `t`, if any.
    fn dashboard(&mut self, t: &TenantId, id: Id) -> R<Option<Dashboard>>;
    /// The dashboard of tenant `t` with this name, if any.
    fn dashboard_by_name(&mut self, t: &TenantId, name: &str) -> R<Option<Dashboard>>;
    /// The tenant's dashboards, oldest first.
    fn dashboards(&mut self, t: &TenantId) -> R<Vec<Dashboard>>;
    /// Deletes the dashboard.
    fn delete_dashboard(&mut self, t: &TenantId, id: Id) -> R<()>;
}

/// The whole IoT repository inside one transaction: every aggregate's port, so one unit
/// of work (a device report creating entities and writing values) commits or rolls back
/// as one. Every method filters by the tenant. A helper that needs one aggregate takes its
/// narrower port (`&mut dyn DeviceRepo`); `&mut dyn IotTx` coerces to it.
pub trait IotTx: DeviceRepo + EntityRepo + ValueRepo + DashboardRepo {}

impl<T> IotTx for T where T: DeviceRepo + EntityRepo + ValueRepo + DashboardRepo {}

/// Where IoT data lives.
pub type IotStore = dyn Transactions<dyn IotTx>;
