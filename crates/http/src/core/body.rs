//! Reading request bodies the same way in every dialect: the size limit (413), text that no
//! backend can store ([`super::text_guard`]), and JSON with the offending field named.

use actix_web::http::header::CONTENT_LENGTH;
use actix_web::{HttpRequest, web};
use futures_util::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use super::refusal::{Refusal, RefusalKind, codes};
use super::state::State;
use super::text_guard;

/// The limit when the app registered no state (unit tests).
const DEFAULT_LIMIT: usize = 1024 * 1024;

/// Reads the whole body (or one part of a multipart body), refusing more than the
/// configured limit, and text holding NUL naming the field.
pub async fn read_body<E: std::fmt::Display>(
    req: &HttpRequest,
    payload: &mut (impl futures_util::Stream<Item = Result<web::Bytes, E>> + Unpin),
) -> Result<web::BytesMut, Refusal> {
    let limit = req
        .app_data::<State>()
        .map_or(DEFAULT_LIMIT, |s| s.settings.max_body_bytes);
    let too_large = || {
        Refusal::new(
            RefusalKind::TooLarge,
            codes::TOO_LARGE,
            format!("request body exceeds {limit} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| Refusal::syntax(format!("request body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    if let Some(field) = text_guard::body_field(&body) {
        return Err(text_guard::refusal(&field));
    }
    Ok(body)
}

/// Parses JSON, naming the offending field on a type error. An empty body reads as `{}`,
/// since the documents mark most bodies optional.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Refusal> {
    parse_json_of("request body", bytes)
}

/// [`parse_json`] of something other than a request body (`what` names it in messages).
pub fn parse_json_of<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, Refusal> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            Refusal::syntax(format!("{what} is not valid JSON: {inner}"))
        } else if path == "." {
            Refusal::malformed(format!("{what}: {inner}"))
        } else {
            Refusal::malformed(format!("{path}: {inner}"))
        }
    })
}

/// An empty JSON object (`{}`): what most writes answer, and a body that is not read.
#[derive(Debug, Serialize, ToSchema)]
pub struct Empty {}
