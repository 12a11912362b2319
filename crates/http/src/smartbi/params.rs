//! The two parameters of every Smartbi call, `smartbiToken` and `paramsInfo`, from a form
//! body, a JSON body or the query string. Pure functions over bytes, so they are tested
//! without HTTP.
//!
//! **Precedence:** a parameter in the body wins over the same one in the query string. A
//! parameter given twice in one place is refused.

use serde::Serialize;
use serde_json::Value as Json;
use utoipa::ToSchema;

use super::envelope::SmartbiError;

/// `paramsInfo` as it arrived.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ParamsInfo {
    /// Not sent: the action gets `null`.
    #[default]
    Absent,
    /// A string that must hold JSON (the document's form).
    Text(String),
    /// An object or array sent as such in a JSON body.
    Json(Json),
}

/// What a request carried.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SmartbiParams {
    /// `smartbiToken`; a blank value counts as absent.
    pub token: Option<String>,
    pub params_info: ParamsInfo,
}

/// The parameters as a form or JSON body sends them (for the OpenAPI document).
#[derive(Debug, Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct SmartbiRequestBody {
    /// The encrypted token (docs/smartbi.md). May be left out when the request sends
    /// `Authorization: Bearer <access token>`.
    pub smartbiToken: Option<String>,
    /// The action's parameters: a JSON string; in a JSON body also the object or array
    /// itself.
    pub paramsInfo: Option<String>,
}

const TOKEN: &str = "smartbiToken";
const PARAMS: &str = "paramsInfo";

/// Reads the parameters of a request from its content type, body and query string.
pub fn parse(
    content_type: Option<&str>,
    body: &[u8],
    query: &str,
) -> Result<SmartbiParams, SmartbiError> {
    let from_body = parse_body(content_type, body)?;
    let from_query = parse_form("query string", query.as_bytes())?;
    Ok(SmartbiParams {
        token: from_body.token.or(from_query.token),
        params_info: match from_body.params_info {
            ParamsInfo::Absent => from_query.params_info,
            given => given,
        },
    })
}

/// The action's parameters: `paramsInfo` parsed, `null` when absent or blank.
pub fn params_value(params: ParamsInfo) -> Result<Json, SmartbiError> {
    match params {
        ParamsInfo::Absent => Ok(Json::Null),
        ParamsInfo::Json(v) => Ok(v),
        ParamsInfo::Text(s) if s.trim().is_empty() => Ok(Json::Null),
        ParamsInfo::Text(s) => {
            let value: Json = serde_json::from_str(&s)
                .map_err(|e| SmartbiError::new(format!("paramsInfo is not valid JSON: {e}")))?;
            // A JSON document inside a form field: the body's own check could not see into it.
            match weir_kernel::text::nul_path(&value) {
                Some(path) => Err(SmartbiError::new(format!(
                    "paramsInfo{}: {}",
                    match path.as_str() {
                        "." => String::new(),
                        p if p.starts_with('[') => p.to_owned(),
                        p => format!(".{p}"),
                    },
                    weir_kernel::text::NUL_REFUSED
                ))),
                None => Ok(value),
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Json,
    Form,
}

fn parse_body(content_type: Option<&str>, body: &[u8]) -> Result<SmartbiParams, SmartbiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(SmartbiParams::default());
    }
    let content_type = content_type.unwrap_or("").to_ascii_lowercase();
    let kind = if content_type.contains("json") {
        BodyKind::Json
    } else if content_type.contains("x-www-form-urlencoded") {
        BodyKind::Form
    } else if content_type.starts_with("multipart/") {
        return Err(SmartbiError::new(
            "multipart bodies are not accepted: send smartbiToken and paramsInfo as \
             application/x-www-form-urlencoded or application/json",
        ));
    } else if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        // No (or another) content type: a body that starts as an object is JSON.
        BodyKind::Json
    } else {
        BodyKind::Form
    };
    match kind {
        BodyKind::Json => parse_json_body(body),
        BodyKind::Form => parse_form("request body", body),
    }
}

fn parse_json_body(body: &[u8]) -> Result<SmartbiParams, SmartbiError> {
    let value: Json = serde_json::from_slice(body)
        .map_err(|e| SmartbiError::new(format!("request body is not valid JSON: {e}")))?;
    let Json::Object(mut fields) = value else {
        return Err(SmartbiError::new(
            "request body must be a JSON object {\"smartbiToken\": ..., \"paramsInfo\": ...}",
        ));
    };
    let token = match fields.remove(TOKEN) {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => non_blank(s),
        Some(other) => {
            return Err(SmartbiError::new(format!(
                "smartbiToken must be a string, not {}",
                type_name(&other)
            )));
        }
    };
    let params_info = match fields.remove(PARAMS) {
        None | Some(Json::Null) => ParamsInfo::Absent,
        Some(Json::String(s)) => ParamsInfo::Text(s),
        Some(v @ (Json::Object(_) | Json::Array(_))) => ParamsInfo::Json(v),
        Some(other) => {
            return Err(SmartbiError::new(format!(
                "paramsInfo must be a JSON string, object or array, not {}",
                type_name(&other)
            )));
        }
    };
    Ok(SmartbiParams { token, params_info })
}

/// `application/x-www-form-urlencoded` pairs (a body or a query string); other names are
/// ignored.
fn parse_form(what: &str, bytes: &[u8]) -> Result<SmartbiParams, SmartbiError> {
    if bytes.is_empty() {
        return Ok(SmartbiParams::default());
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).map_err(|e| {
        SmartbiError::new(format!(
            "{what} is not a valid form (application/x-www-form-urlencoded): {e}"
        ))
    })?;
    let mut out = SmartbiParams::default();
    let mut seen = (false, false);
    for (name, value) in pairs {
        let twice = || SmartbiError::new(format!("{name} is given twice in the {what}"));
        match name.as_str() {
            TOKEN => {
                if std::mem::replace(&mut seen.0, true) {
                    return Err(twice());
                }
                out.token = non_blank(value);
            }
            PARAMS => {
                if std::mem::replace(&mut seen.1, true) {
                    return Err(twice());
                }
                out.params_info = ParamsInfo::Text(value);
            }
            _ => {}
        }
    }
    Ok(out)
}

fn non_blank(s: String) -> Option<String> {
    if s.trim().is_empty() { None } else { Some(s) }
}

fn type_name(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");
    const JSON: Option<&str> = Some("application/json; charset=utf-8");

    fn token(t: &str) -> Option<String> {
        Some(t.to_owned())
    }

    #[test]
    fn reads_a_form_body() {
        let p = parse(
            FORM,
            b"smartbiToken=abc%2B&paramsInfo=%7B%22a%22%3A1%7D&x=1",
            "",
        )
        .unwrap();
        assert_eq!(p.token, token("abc+"));
        assert_eq!(params_value(p.params_info).unwrap(), json!({"a": 1}));
    }

    #[test]
    fn reads_a_json_body_with_a_string_or_an_object() {
        let p = parse(JSON, br#"{"smartbiToken":"t","paramsInfo":"[1,2]"}"#, "").unwrap();
        assert_eq!(p.token, token("t"));
        assert_eq!(params_value(p.params_info).unwrap(), json!([1, 2]));
        let p = parse(JSON, br#"{"smartbiToken":"t","paramsInfo":{"id":"7"}}"#, "").unwrap();
        assert_eq!(params_value(p.params_info).unwrap(), json!({"id": "7"}));
        // Without a content type, an object is JSON.
        let p = parse(None, br#" {"smartbiToken":"t"}"#, "").unwrap();
        assert_eq!(p.token, token("t"));
        assert_eq!(params_value(p.params_info).unwrap(), Json::Null);
    }

    #[test]
    fn reads_the_query_string_and_prefers_the_body() {
        let p = parse(None, b"", "smartbiToken=q&paramsInfo=%7B%7D").unwrap();
        assert_eq!(p.token, token("q"));
        assert_eq!(params_value(p.params_info).unwrap(), json!({}));
        let p = parse(FORM, b"smartbiToken=b", "smartbiToken=q&paramsInfo=1").unwrap();
        assert_eq!(p.token, token("b"));
        assert_eq!(p.params_info, ParamsInfo::Text("1".into()));
    }

    #[test]
    fn blank_values_count_as_absent() {
        let p = parse(FORM, b"smartbiToken=&paramsInfo=", "").unwrap();
        assert_eq!(p.token, None);
        assert_eq!(params_value(p.params_info).unwrap(), Json::Null);
    }

    #[test]
    fn refuses_malformed_input_naming_it() {
        let msg = |r: Result<SmartbiParams, SmartbiError>| r.unwrap_err().msg;
        let bad = params_value(ParamsInfo::Text("{oops".into())).unwrap_err();
        assert!(bad.msg.starts_with("paramsInfo is not valid JSON"), "{bad}");
        assert!(msg(parse(JSON, b"{", "")).starts_with("request body is not valid JSON"));
        assert!(msg(parse(JSON, b"[1]", "")).contains("must be a JSON object"));
        assert!(
            msg(parse(JSON, br#"{"smartbiToken":5}"#, ""))
                .contains("smartbiToken must be a string, not a number")
        );
        assert!(
            msg(parse(JSON, br#"{"paramsInfo":true}"#, ""))
                .contains("paramsInfo must be a JSON string, object or array")
        );
        assert!(
            msg(parse(FORM, b"smartbiToken=a&smartbiToken=b", ""))
                .contains("smartbiToken is given twice in the request body")
        );
        assert!(
            msg(parse(None, b"", "paramsInfo=1&paramsInfo=2"))
                .contains("paramsInfo is given twice in the query string")
        );
        assert!(
            msg(parse(Some("multipart/form-data; boundary=x"), b"--x", "")).contains("multipart")
        );
    }
}
