//! `GET /entity/export`: the history of chosen entities over a time range, as CSV.

use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;
use weir_kernel::{Id, Millis};

use super::IotViewer;
use crate::native::envelope::{NativeError, Refusals};
use crate::native::extract::{State, blocking};

/// Most values one export holds; a larger range is refused, never cut short.
pub const EXPORT_LIMIT: usize = 100_000;

#[derive(Debug, Deserialize, IntoParams)]
pub struct ExportQuery {
    /// Entity ids, comma-separated.
    pub ids: String,
    /// Epoch ms; absent: from the first value (the web console may send none).
    #[param(value_type = Option<i64>)]
    pub start_timestamp: Option<Millis>,
    /// Epoch ms; absent: up to the last value, as the history search.
    #[param(value_type = Option<i64>)]
    pub end_timestamp: Option<Millis>,
}

/// One row per value: entity key, entity name, timestamp (epoch ms) and value (BINARY as
/// base64), oldest first per entity.
#[utoipa::path(
    tag = "entities",
    security(("bearer" = [])),
    params(ExportQuery),
    responses((status = 200, content_type = "text/csv", body = String), Refusals)
)]
#[get("/entity/export")]
pub async fn export(
    state: State,
    viewer: IotViewer,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, NativeError> {
    let q = query.into_inner();
    let ids = q
        .ids
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<Id>()
                .map_err(|_| NativeError::invalid(format!("ids: `{s}` is not an entity id")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let rows = blocking(move || {
        state.iot.export(
            &viewer.0,
            &ids,
            q.start_timestamp.unwrap_or(Millis::MIN),
            q.end_timestamp.unwrap_or(Millis::MAX),
            EXPORT_LIMIT,
        )
    })
    .await?;
    let mut csv = csv::Writer::from_writer(Vec::new());
    let failed = |_| NativeError::internal();
    csv.write_record(["entity_key", "entity_name", "timestamp", "value"])
        .map_err(failed)?;
    for (entity, points) in rows {
        for p in points {
            csv.write_record([
                entity.key.as_str(),
                entity.definition.name.as_str(),
                &p.timestamp.to_string(),
                &p.value.as_text(),
            ])
            .map_err(failed)?;
        }
    }
    let body = csv.into_inner().map_err(|_| NativeError::internal())?;
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            CONTENT_DISPOSITION,
            "attachment; filename=\"entity-history.csv\"",
        ))
        .body(body))
}
