//! HTTP ingest, for devices that can only speak HTTP: `POST /device/{id}/token` issues a
//! device its token (shown once); `POST /device/report` takes a report from the device
//! holding one, in the `X-Device-Token` header, without a user login.

use actix_web::{HttpRequest, post, web};
use serde::Serialize;
use serde_json::Value as Json;
use utoipa::ToSchema;
use weir_iot::samples::Sample;
use weir_kernel::Id;

use super::IotViewer;
use crate::native::envelope::{Empty, Envelope, NativeError, Refusals, Success};
use crate::native::extract::{Body, State, blocking, path_id};
use crate::openapi::IdText;

/// The header a device sends its token in.
pub const DEVICE_TOKEN_HEADER: &str = "X-Device-Token";

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedToken {
    #[schema(value_type = IdText)]
    pub device_id: Id,
    /// `{integration}.device.{identifier}`.
    pub device_key: String,
    /// Shown once; Weir keeps only its SHA-256. Issuing a new one revokes this one.
    pub token: String,
}

/// Issues the device a new token (revoking the previous one). Needs `device.edit`.
#[utoipa::path(
    tag = "devices",
    security(("bearer" = [])),
    request_body(content = Option<Empty>, description = "None: the body is not read"),
    responses((status = 200, body = Envelope<IssuedToken>), Refusals)
)]
#[post("/device/{device_id}/token")]
pub async fn issue_token(
    state: State,
    viewer: IotViewer,
    path: web::Path<String>,
) -> Result<Success<IssuedToken>, NativeError> {
    let id = path_id("device_id", &path)?;
    let (device, token) = blocking(move || state.iot.issue_device_token(&viewer.0, id)).await?;
    Ok(Success(IssuedToken {
        device_id: device.id,
        device_key: format!("{}.device.{}", device.integration, device.identifier),
        token,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Stored {
    /// How many values were committed.
    pub stored: usize,
}

/// A device reports values: a JSON object of values, `{"ts", "values"}`, or an array of
/// those (see docs/native-api.md, "HTTP ingest"). Answers after the values are committed;
/// one refused value refuses the whole report.
#[utoipa::path(
    tag = "devices",
    security(("device_token" = [])),
    request_body(
        content = Object,
        description = "An object of values by entity identifier, `{ts, values}`, or an array of `{ts?, values}`"
    ),
    responses((status = 200, body = Envelope<Stored>), Refusals)
)]
#[post("/device/report")]
pub async fn report(
    state: State,
    req: HttpRequest,
    body: Body<Json>,
) -> Result<Success<Stored>, NativeError> {
    let token = req
        .headers()
        .get(DEVICE_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    let out = blocking(move || {
        // A caller without a valid token is refused as such, whatever its body holds.
        let samples = Sample::parse_all(body.0).or_else(|e| {
            state.iot.device_for_token(&token)?;
            Err(e)
        })?;
        state.iot.ingest(&token, &samples)
    })
    .await?;
    crate::measure::values_ingested_over_http(out.points.len());
    Ok(Success(Stored {
        stored: out.points.len(),
    }))
}
