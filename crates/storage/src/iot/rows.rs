//! Table rows of the IoT tables and their conversion to and from the domain.

use diesel::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use weir_iot::model::{EntityDefinition, ValueAttribute};
use weir_iot::ports::{Dashboard, Device, Entity, ValuePoint};
use weir_iot::value::EntityValue;
use weir_kernel::{Id, StoreError};

use crate::errors::tenant_id;
use crate::schema::*;

/// An enum as its JSON name (`PROPERTY`, `RW`...), the form kept in text columns.
pub(super) fn enum_text<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|j| j.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub(super) fn enum_parse<T: DeserializeOwned>(column: &str, raw: &str) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(raw.to_owned()))
        .map_err(|_| StoreError::Internal(format!("stored {column} `{raw}` is unknown")))
}

fn json_parse<T: DeserializeOwned>(column: &str, raw: &str) -> Result<T, StoreError> {
    serde_json::from_str(raw)
        .map_err(|e| StoreError::Internal(format!("stored {column} is not valid: {e}")))
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = devices)]
pub(super) struct DeviceRow {
    pub id: i64,
    pub tenant_id: String,
    pub integration: String,
    pub identifier: String,
    pub name: String,
    pub name_folded: String,
    pub additional: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&Device> for DeviceRow {
    fn from(d: &Device) -> Self {
        Self {
            id: d.id.get(),
            tenant_id: d.tenant_id.to_string(),
            integration: d.integration.clone(),
            identifier: d.identifier.clone(),
            name: d.name.clone(),
            name_folded: d.name.to_lowercase(),
            additional: serde_json::Value::Object(d.additional.clone()).to_string(),
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

impl DeviceRow {
    pub fn into_device(self) -> Result<Device, StoreError> {
        Ok(Device {
            id: Id(self.id),
            tenant_id: tenant_id(self.tenant_id)?,
            integration: self.integration,
            identifier: self.identifier,
            name: self.name,
            additional: json_parse("devices.additional", &self.additional)?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = entities, treat_none_as_null = true)]
pub(super) struct EntityRow {
    pub id: i64,
    pub tenant_id: String,
    pub entity_key: String,
    pub key_folded: String,
    pub integration: String,
    pub device_id: Option<i64>,
    pub parent_key: Option<String>,
    pub identifier: String,
    pub name: String,
    pub name_folded: String,
    pub entity_type: String,
    pub access_mod: String,
    pub value_type: String,
    pub value_attribute: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&Entity> for EntityRow {
    fn from(e: &Entity) -> Self {
        let d = &e.definition;
        Self {
            id: e.id.get(),
            tenant_id: e.tenant_id.to_string(),
            entity_key: e.key.clone(),
            key_folded: e.key.to_lowercase(),
            integration: e.integration.clone(),
            device_id: e.device_id.map(Id::get),
            parent_key: e.parent_key.clone(),
            identifier: d.identifier.clone(),
            name: d.name.clone(),
            name_folded: d.name.to_lowercase(),
            entity_type: enum_text(&d.entity_type),
            access_mod: enum_text(&d.access_mod),
            value_type: enum_text(&d.value_type),
            value_attribute: serde_json::to_string(&d.value_attribute)
                .unwrap_or_else(|_| "{}".into()),
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

impl EntityRow {
    pub fn into_entity(self) -> Result<Entity, StoreError> {
        Ok(Entity {
            id: Id(self.id),
            tenant_id: tenant_id(self.tenant_id)?,
            key: self.entity_key,
            integration: self.integration,
            device_id: self.device_id.map(Id),
            parent_key: self.parent_key,
            definition: EntityDefinition {
                identifier: self.identifier,
                name: self.name,
                entity_type: enum_parse("entity_type", &self.entity_type)?,
                access_mod: enum_parse("access_mod", &self.access_mod)?,
                value_type: enum_parse("value_type", &self.value_type)?,
                value_attribute: json_parse::<ValueAttribute>(
                    "value_attribute",
                    &self.value_attribute,
                )?,
                children: Vec::new(),
            },
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The typed value columns both value tables share; exactly one is set.
#[derive(Default)]
pub(super) struct ValueColumns {
    pub long_value: Option<i64>,
    pub double_value: Option<f64>,
    pub bool_value: Option<bool>,
    pub text_value: Option<String>,
    pub binary_value: Option<Vec<u8>>,
}

impl From<&EntityValue> for ValueColumns {
    fn from(v: &EntityValue) -> Self {
        let mut c = Self::default();
        match v {
            EntityValue::Long(x) => c.long_value = Some(*x),
            EntityValue::Double(x) => c.double_value = Some(*x),
            EntityValue::Boolean(x) => c.bool_value = Some(*x),
            EntityValue::String(x) => c.text_value = Some(x.clone()),
            EntityValue::Binary(x) => c.binary_value = Some(x.clone()),
        }
        c
    }
}

/// A batch of history points as column arrays, the shape PostgreSQL's `unnest` takes.
pub(super) struct HistoryColumns {
    pub entity_ids: Vec<i64>,
    pub timestamps: Vec<i64>,
    pub values: ValueArrays,
}

#[derive(Default)]
pub(super) struct ValueArrays {
    pub long_value: Vec<Option<i64>>,
    pub double_value: Vec<Option<f64>>,
    pub bool_value: Vec<Option<bool>>,
    pub text_value: Vec<Option<String>>,
    pub binary_value: Vec<Option<Vec<u8>>>,
}

impl HistoryColumns {
    pub fn of(points: &[ValuePoint]) -> Self {
        let mut values = ValueArrays::default();
        for p in points {
            let c = ValueColumns::from(&p.value);
            values.long_value.push(c.long_value);
            values.double_value.push(c.double_value);
            values.bool_value.push(c.bool_value);
            values.text_value.push(c.text_value);
            values.binary_value.push(c.binary_value);
        }
        Self {
            entity_ids: points.iter().map(|p| p.entity_id.get()).collect(),
            timestamps: points.iter().map(|p| p.timestamp).collect(),
            values,
        }
    }
}

/// A value row as selected: (entity_id, ts, long, double, bool, text, binary).
pub(super) type ValueTuple = (
    i64,
    i64,
    Option<i64>,
    Option<f64>,
    Option<bool>,
    Option<String>,
    Option<Vec<u8>>,
);

pub(super) fn point_of(row: ValueTuple) -> Result<ValuePoint, StoreError> {
    let (entity_id, ts, long, double, boolean, text, binary) = row;
    let value = match (long, double, boolean, text, binary) {
        (Some(v), ..) => EntityValue::Long(v),
        (_, Some(v), ..) => EntityValue::Double(v),
        (_, _, Some(v), ..) => EntityValue::Boolean(v),
        (_, _, _, Some(v), _) => EntityValue::String(v),
        (.., Some(v)) => EntityValue::Binary(v),
        _ => {
            return Err(StoreError::Internal(format!(
                "value of entity {entity_id} at {ts} has no column set"
            )));
        }
    };
    Ok(ValuePoint {
        entity_id: Id(entity_id),
        timestamp: ts,
        value,
    })
}

macro_rules! value_row {
    ($name:ident, $table:ident) => {
        // Every column written as given (an absent value as NULL, the columns' default):
        // what PostgreSQL's binary COPY needs.
        #[derive(Insertable)]
        #[diesel(table_name = $table, treat_none_as_default_value = false)]
        pub(super) struct $name<'a> {
            pub entity_id: i64,
            pub ts: i64,
            pub tenant_id: &'a str,
            pub long_value: Option<i64>,
            pub double_value: Option<f64>,
            pub bool_value: Option<bool>,
            pub text_value: Option<String>,
            pub binary_value: Option<Vec<u8>>,
        }

        impl<'a> $name<'a> {
            pub fn new(tenant_id: &'a str, p: &ValuePoint) -> Self {
                let c = ValueColumns::from(&p.value);
                Self {
                    entity_id: p.entity_id.get(),
                    ts: p.timestamp,
                    tenant_id,
                    long_value: c.long_value,
                    double_value: c.double_value,
                    bool_value: c.bool_value,
                    text_value: c.text_value,
                    binary_value: c.binary_value,
                }
            }
        }
    };
}

value_row!(HistoryRow, entity_history);
value_row!(LatestRow, entity_latest);

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = dashboards, treat_none_as_null = true)]
pub(super) struct DashboardRow {
    pub id: i64,
    pub tenant_id: String,
    pub user_id: Option<i64>,
    pub name: String,
    pub widgets: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&Dashboard> for DashboardRow {
    fn from(d: &Dashboard) -> Self {
        Self {
            id: d.id.get(),
            tenant_id: d.tenant_id.to_string(),
            user_id: d.user_id.map(Id::get),
            name: d.name.clone(),
            widgets: serde_json::to_string(&d.widgets).unwrap_or_else(|_| "[]".into()),
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

impl DashboardRow {
    pub fn into_dashboard(self) -> Result<Dashboard, StoreError> {
        Ok(Dashboard {
            id: Id(self.id),
            tenant_id: tenant_id(self.tenant_id)?,
            user_id: self.user_id.map(Id),
            name: self.name,
            widgets: json_parse("dashboards.widgets", &self.widgets)?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}
