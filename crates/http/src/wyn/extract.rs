//! What Wyn handlers read from a request: the caller behind the bearer token (checked by the
//! HTTP core, as in every dialect), JSON bodies, query flags named case-insensitively, and
//! ids in paths.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use serde::de::DeserializeOwned;
use weir_kernel::Id;

use super::envelope::{INVALID_JSON, WynError};
use crate::core::auth::from_bearer_token;
use crate::core::body::read_body;

/// The authenticated caller (`Authorization: Bearer <access token>`, the tokens
/// `/oauth2/token` issues). Refusals are 401 `Unauthorized`.
pub type Caller = crate::core::auth::Caller<WynError>;

from_bearer_token!(Caller, WynError);

/// Reads and parses the JSON body, up to the configured limit (413 beyond it). Handlers
/// call it after the caller is known, so a request without a token is refused with 401
/// whatever its body. An empty body is refused: every Wyn body here has a required field.
pub async fn read_json<T: DeserializeOwned>(
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<T, WynError> {
    let bytes = read_body(req, &mut payload).await?;
    parse_body(&bytes)
}

/// Parses a JSON body; a type error names the field in `context` (`userIds[1]`).
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WynError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(WynError::new(
            StatusCode::BAD_REQUEST,
            INVALID_JSON,
            "a JSON request body is required",
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        WynError::new(
            StatusCode::BAD_REQUEST,
            INVALID_JSON,
            format!("the request body is not valid JSON: {e}"),
        )
    })?;
    // serde would also read a struct from an array of its fields in order.
    if !value.is_object() {
        return Err(WynError::invalid(
            "body",
            "the request body must be a JSON object",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // A missing field is reported at its parent; name the field itself.
        let missing = inner
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        match (path.as_str(), missing) {
            (".", Some(field)) => WynError::invalid(field, format!("{field} is required")),
            (_, Some(field)) => WynError::invalid(
                format!("{path}.{field}"),
                format!("{path}.{field} is required"),
            ),
            (".", None) => WynError::invalid("body", format!("request body: {inner}")),
            _ => WynError::invalid(path.clone(), format!("{path}: {inner}")),
        }
    })
}

/// The query string's parameters. Names are matched case-insensitively (the document writes
/// `IncludePermissions` on lists and `includePermission` on one role); values of booleans
/// and enums too, as ASP.NET binds them.
#[derive(Debug)]
pub struct Query(Vec<(String, String)>);

/// `SearchType`: the records, or only how many there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchType {
    None,
    Count,
}

impl Query {
    pub fn of(req: &HttpRequest) -> Result<Self, WynError> {
        serde_urlencoded::from_str(req.query_string())
            .map(Query)
            .map_err(|e| WynError::invalid("query", format!("query string: {e}")))
    }

    /// The value of the parameter called any of `names` (ignoring case). Given more than
    /// once with different values, it is refused.
    fn value(&self, names: &[&str]) -> Result<Option<(&str, &str)>, WynError> {
        let mut found: Option<(&str, &str)> = None;
        for (k, v) in &self.0 {
            if !names.iter().any(|n| n.eq_ignore_ascii_case(k)) {
                continue;
            }
            match found {
                Some((first, before)) if before.trim() != v.trim() => {
                    return Err(WynError::invalid(
                        names[0],
                        format!("{first} is given more than once, with different values"),
                    ));
                }
                Some(_) => {}
                None => found = Some((k.as_str(), v.as_str())),
            }
        }
        Ok(found.filter(|(_, v)| !v.trim().is_empty()))
    }

    /// A boolean parameter (`true` or `false`, any case); `false` when absent or empty.
    pub fn flag(&self, names: &[&str]) -> Result<bool, WynError> {
        let Some((name, raw)) = self.value(names)? else {
            return Ok(false);
        };
        match raw.trim() {
            v if v.eq_ignore_ascii_case("true") => Ok(true),
            v if v.eq_ignore_ascii_case("false") => Ok(false),
            v => Err(WynError::invalid(
                names[0],
                format!(
                    "{name} must be true or false, got `{}`",
                    v.chars().take(40).collect::<String>()
                ),
            )),
        }
    }

    /// `SearchType`: `None` (or 0) and `Count` (or 1), any case; `None` when absent.
    pub fn search_type(&self) -> Result<SearchType, WynError> {
        let names = ["SearchType"];
        let Some((name, raw)) = self.value(&names)? else {
            return Ok(SearchType::None);
        };
        match raw.trim() {
            v if v.eq_ignore_ascii_case("none") || v == "0" => Ok(SearchType::None),
            v if v.eq_ignore_ascii_case("count") || v == "1" => Ok(SearchType::Count),
            v => Err(WynError::invalid(
                names[0],
                format!(
                    "{name} must be None or Count, got `{}`",
                    v.chars().take(40).collect::<String>()
                ),
            )),
        }
    }
}

/// The id a path names: Weir's numeric ids written as strings. A malformed one cannot name
/// anything, so it answers like an unknown one.
pub fn path_id(
    req: &HttpRequest,
    name: &str,
    not_found: fn(&str) -> WynError,
) -> Result<Id, WynError> {
    let raw = req.match_info().get(name).unwrap_or_default();
    raw.parse().map_err(|_| not_found(raw))
}
