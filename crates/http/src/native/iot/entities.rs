//! Entities and their values: search, children, meta, latest status (one or a batch),
//! history, aggregates, property updates and service calls.

use std::collections::BTreeMap;

use actix_web::{get, post, web};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use utoipa::ToSchema;
use weir_iot::errors::IotError;
use weir_iot::ports::{Aggregate, AggregateResult, EntityFilter, ValuePoint};
use weir_iot::service::{EntityView, WriteKind};
use weir_iot::{AccessMod, EntityType, ValueType};
use weir_kernel::{Id, Millis, Page};

use super::IotViewer;
use crate::native::dto::{PageDto, Time, page_query};
use crate::native::envelope::{Empty, Envelope, NativeError, Refusals, Success};
use crate::native::extract::{Body, State, blocking, path_id};
use crate::openapi::IdText;

/// An entity as entity lists show it, with the names of its device and integration.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntityRowDto {
    #[schema(value_type = IdText)]
    pub entity_id: Id,
    pub entity_key: String,
    pub entity_name: String,
    #[schema(value_type = String)]
    pub entity_type: EntityType,
    #[schema(value_type = String)]
    pub entity_access_mod: AccessMod,
    #[schema(value_type = String)]
    pub entity_value_type: ValueType,
    #[schema(value_type = Object)]
    pub entity_value_attribute: weir_iot::ValueAttribute,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_parent_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    pub integration_name: String,
    /// When the entity was created (epoch ms), as the web console's entity lists read it.
    pub entity_created_at: Time,
}

impl From<EntityView> for EntityRowDto {
    fn from(v: EntityView) -> Self {
        let e = v.entity;
        let d = e.definition;
        Self {
            entity_id: e.id,
            entity_key: e.key,
            entity_name: d.name,
            entity_type: d.entity_type,
            entity_access_mod: d.access_mod,
            entity_value_type: d.value_type,
            entity_value_attribute: d.value_attribute,
            entity_parent_key: e.parent_key,
            device_name: v.device_name,
            integration_name: v.integration_name,
            entity_created_at: e.created_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct EntitySearch {
    /// Matched, case-insensitively, in the key or the name.
    pub keyword: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub entity_type: Vec<EntityType>,
    #[serde(default)]
    pub exclude_children: bool,
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub entity_value_type: Vec<ValueType>,
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub entity_access_mod: Vec<AccessMod>,
    /// `true`: only custom entities; `false`: none of them; absent: either.
    pub customized: Option<bool>,
    pub page_number: Option<i64>,
    pub page_size: Option<i64>,
}

/// Entities the caller may see, ordered by key.
#[utoipa::path(tag = "entities", request_body = EntitySearch, security(("bearer" = [])), responses((status = 200, body = Envelope<PageDto<EntityRowDto>>), Refusals))]
#[post("/entity/search")]
pub async fn search(
    state: State,
    viewer: IotViewer,
    body: Body<EntitySearch>,
) -> Result<Success<PageDto<EntityRowDto>>, NativeError> {
    let b = body.0;
    let filter = EntityFilter {
        entity_types: b.entity_type,
        value_types: b.entity_value_type,
        access_mods: b.entity_access_mod,
        exclude_children: b.exclude_children,
        customized: b.customized,
        ..Default::default()
    };
    let query = page_query(b.keyword, b.page_number, b.page_size);
    let page = blocking(move || {
        let page = state.iot.search_entities(&viewer.0, filter, &query)?;
        let views = state.iot.entity_views(&viewer.0, page.content)?;
        Ok::<_, IotError>(Page {
            content: views,
            page_number: page.page_number,
            page_size: page.page_size,
            total: page.total,
        })
    })
    .await?;
    Ok(Success(PageDto::from_page(page, EntityRowDto::from)))
}

/// The children of an OBJECT entity.
#[utoipa::path(tag = "entities", security(("bearer" = [])), responses((status = 200, body = Envelope<Vec<EntityRowDto>>), Refusals))]
#[get("/entity/{entity_id}/children")]
pub async fn children(
    state: State,
    viewer: IotViewer,
    path: web::Path<String>,
) -> Result<Success<Vec<EntityRowDto>>, NativeError> {
    let id = path_id("entity_id", &path)?;
    let views = blocking(move || {
        let children = state.iot.children(&viewer.0, id)?;
        state.iot.entity_views(&viewer.0, children)
    })
    .await?;
    Ok(Success(views.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntityMeta {
    pub key: String,
    pub name: String,
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub entity_type: EntityType,
    #[schema(value_type = String)]
    pub access_mod: AccessMod,
    #[schema(value_type = Object)]
    pub value_attribute: weir_iot::ValueAttribute,
    #[schema(value_type = String)]
    pub value_type: ValueType,
}

#[utoipa::path(tag = "entities", security(("bearer" = [])), responses((status = 200, body = Envelope<EntityMeta>), Refusals))]
#[get("/entity/{entity_id}/meta")]
pub async fn meta(
    state: State,
    viewer: IotViewer,
    path: web::Path<String>,
) -> Result<Success<EntityMeta>, NativeError> {
    let id = path_id("entity_id", &path)?;
    let e = blocking(move || state.iot.entity(&viewer.0, id)).await?;
    let d = e.definition;
    Ok(Success(EntityMeta {
        key: e.key,
        name: d.name,
        entity_type: d.entity_type,
        access_mod: d.access_mod,
        value_attribute: d.value_attribute,
        value_type: d.value_type,
    }))
}

/// A value as clients read it: typed JSON (BINARY as base64) with its time and type.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValueDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Value)]
    pub value: Option<Json>,
    /// When the value was measured (epoch ms); absent when the entity has no value yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Time>,
    #[schema(value_type = String)]
    pub value_type: ValueType,
}

fn value_dto(value_type: ValueType, p: Option<ValuePoint>) -> ValueDto {
    ValueDto {
        value: p.as_ref().map(|p| p.value.to_json()),
        updated_at: p.map(|p| p.timestamp),
        value_type,
    }
}

/// The latest value of one entity.
#[utoipa::path(tag = "entities", security(("bearer" = [])), responses((status = 200, body = Envelope<ValueDto>), Refusals))]
#[get("/entity/{entity_id}/status")]
pub async fn status(
    state: State,
    viewer: IotViewer,
    path: web::Path<String>,
) -> Result<Success<ValueDto>, NativeError> {
    let id = path_id("entity_id", &path)?;
    let mut found = blocking(move || {
        let entity = state.iot.entity(&viewer.0, id)?;
        state.iot.latest(&viewer.0, &[entity.id])
    })
    .await?;
    let (entity, point) = found
        .pop()
        .ok_or_else(|| NativeError::from(IotError::not_found("entity", id)))?;
    Ok(Success(value_dto(entity.definition.value_type, point)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchStatusRequest {
    /// Up to 5000 entity ids; those the caller may not see are left out of the answer.
    #[schema(value_type = Vec<IdText>)]
    pub entity_ids: Vec<Id>,
}

/// Latest values of many entities, by entity id.
#[utoipa::path(tag = "entities", request_body = BatchStatusRequest, security(("bearer" = [])), responses((status = 200, body = Envelope<BTreeMap<String, ValueDto>>), Refusals))]
#[post("/entity/batch-get-status")]
pub async fn batch_status(
    state: State,
    viewer: IotViewer,
    body: Body<BatchStatusRequest>,
) -> Result<Success<BTreeMap<String, ValueDto>>, NativeError> {
    let found = blocking(move || state.iot.latest(&viewer.0, &body.0.entity_ids)).await?;
    Ok(Success(
        found
            .into_iter()
            .map(|(e, p)| (e.id.to_string(), value_dto(e.definition.value_type, p)))
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct HistoryRequest {
    #[schema(value_type = IdText)]
    pub entity_id: Id,
    /// Epoch ms; absent: from the first value (the web console's history popup sends none).
    pub start_timestamp: Option<Millis>,
    /// Epoch ms; absent: up to the last value, even one stamped in the future.
    pub end_timestamp: Option<Millis>,
    pub page_number: Option<i64>,
    pub page_size: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryPoint {
    pub timestamp: Time,
    #[schema(value_type = Value)]
    pub value: Json,
    #[schema(value_type = String)]
    pub value_type: ValueType,
}

/// Values of one entity in [start, end] (either end open when absent), newest first.
#[utoipa::path(tag = "entities", request_body = HistoryRequest, security(("bearer" = [])), responses((status = 200, body = Envelope<PageDto<HistoryPoint>>), Refusals))]
#[post("/entity/history/search")]
pub async fn history(
    state: State,
    viewer: IotViewer,
    body: Body<HistoryRequest>,
) -> Result<Success<PageDto<HistoryPoint>>, NativeError> {
    let b = body.0;
    let query = page_query(None, b.page_number, b.page_size);
    let page = blocking(move || {
        state.iot.history(
            &viewer.0,
            b.entity_id,
            b.start_timestamp.unwrap_or(Millis::MIN),
            b.end_timestamp.unwrap_or(Millis::MAX),
            &query,
        )
    })
    .await?;
    Ok(Success(PageDto::from_page(page, |p| HistoryPoint {
        timestamp: p.timestamp,
        value_type: p.value.value_type(),
        value: p.value.to_json(),
    })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AggregateRequest {
    #[schema(value_type = IdText)]
    pub entity_id: Id,
    /// LAST, MIN, MAX, AVG, SUM or COUNT.
    pub aggregate_type: String,
    pub start_timestamp: Millis,
    pub end_timestamp: Millis,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountDto {
    #[schema(value_type = Value)]
    pub value: Json,
    #[schema(value_type = String)]
    pub value_type: ValueType,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AggregateDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Value)]
    pub value: Option<Json>,
    #[schema(value_type = String)]
    pub value_type: ValueType,
    /// COUNT only: each distinct value with how often it occurs, most frequent first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count_result: Option<Vec<CountDto>>,
}

/// A value counted by COUNT, back in its type.
fn typed(value_type: ValueType, text: String) -> Json {
    let parsed = match value_type {
        ValueType::Long => text.parse::<i64>().ok().map(Json::from),
        ValueType::Double => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Json::Number),
        ValueType::Boolean => text.parse::<bool>().ok().map(Json::Bool),
        _ => None,
    };
    parsed.unwrap_or(Json::String(text))
}

/// An aggregate of one entity's values in [start, end], computed by the database. MIN,
/// MAX, AVG and SUM take LONG and DOUBLE entities; AVG and SUM answer DOUBLE.
#[utoipa::path(tag = "entities", request_body = AggregateRequest, security(("bearer" = [])), responses((status = 200, body = Envelope<AggregateDto>), Refusals))]
#[post("/entity/history/aggregate")]
pub async fn aggregate(
    state: State,
    viewer: IotViewer,
    body: Body<AggregateRequest>,
) -> Result<Success<AggregateDto>, NativeError> {
    let b = body.0;
    let kind = match b.aggregate_type.as_str() {
        "LAST" => Aggregate::Last,
        "MIN" => Aggregate::Min,
        "MAX" => Aggregate::Max,
        "AVG" => Aggregate::Avg,
        "SUM" => Aggregate::Sum,
        "COUNT" => Aggregate::Count,
        _ => {
            return Err(NativeError::invalid(
                "aggregate_type must be LAST, MIN, MAX, AVG, SUM or COUNT",
            ));
        }
    };
    let (value_type, result) = blocking(move || {
        state.iot.aggregate(
            &viewer.0,
            b.entity_id,
            b.start_timestamp,
            b.end_timestamp,
            kind,
        )
    })
    .await?;
    Ok(Success(match result {
        AggregateResult::Last(p) => AggregateDto {
            value: p.map(|p| p.value.to_json()),
            value_type,
            count_result: None,
        },
        AggregateResult::Number(n) => {
            let (value, value_type) = match (kind, value_type) {
                // MIN and MAX of a LONG entity are whole numbers; AVG and SUM are doubles.
                (Aggregate::Min | Aggregate::Max, ValueType::Long) => {
                    (n.map(|v| Json::from(v as i64)), ValueType::Long)
                }
                _ => (
                    n.and_then(serde_json::Number::from_f64).map(Json::Number),
                    ValueType::Double,
                ),
            };
            AggregateDto {
                value,
                value_type,
                count_result: None,
            }
        }
        AggregateResult::Counts(counts) => AggregateDto {
            value: None,
            value_type,
            count_result: Some(
                counts
                    .into_iter()
                    .map(|(text, count)| CountDto {
                        value: typed(value_type, text),
                        value_type,
                        count,
                    })
                    .collect(),
            ),
        },
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ExchangeRequest {
    /// Entity key → value. Every value is checked; if one is refused, none is stored.
    #[schema(value_type = Object)]
    pub exchange: Map<String, Json>,
}

async fn exchange(
    state: State,
    viewer: IotViewer,
    body: ExchangeRequest,
    kind: WriteKind,
) -> Result<Success<Empty>, NativeError> {
    blocking(move || {
        state
            .iot
            .write_values(&viewer.0, &body.exchange, kind, None)
    })
    .await?;
    Ok(Success(Empty {}))
}

/// Sets writable properties; the devices' integrations are told after the values are stored.
#[utoipa::path(tag = "entities", request_body = ExchangeRequest, security(("bearer" = [])), responses((status = 200, body = Envelope<Empty>), Refusals))]
#[post("/entity/property/update")]
pub async fn update_properties(
    state: State,
    viewer: IotViewer,
    body: Body<ExchangeRequest>,
) -> Result<Success<Empty>, NativeError> {
    exchange(state, viewer, body.0, WriteKind::PropertyUpdate).await
}

/// Calls services; the devices' integrations are told after the calls are stored.
#[utoipa::path(tag = "entities", request_body = ExchangeRequest, security(("bearer" = [])), responses((status = 200, body = Envelope<Empty>), Refusals))]
#[post("/entity/service/call")]
pub async fn call_services(
    state: State,
    viewer: IotViewer,
    body: Body<ExchangeRequest>,
) -> Result<Success<Empty>, NativeError> {
    exchange(state, viewer, body.0, WriteKind::ServiceCall).await
}
