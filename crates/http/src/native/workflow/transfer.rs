//! Moving flows between servers: `GET /workflow/flows/{flow_id}/export` (a JSON file) and
//! `POST /workflow/flows/import` (that file's object as the body, or the console's
//! `{dsl}`: its editor's schema).

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use utoipa::ToSchema;
use weir_kernel::text::nul_path;
use weir_workflow::SaveDesign;
use weir_workflow::caller::functions;

use super::WorkflowCaller;
use super::designs::SavedDesign;
use crate::core::text_guard;
use crate::native::envelope::{Envelope, NativeError, Refusals, Success};
use crate::native::extract::{State, blocking, parse_json_of, path_id, read_body};

/// A flow as a file: what an export writes and an import reads.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FlowFile {
    /// 1 to 64 characters.
    pub name: String,
    /// At most 512 characters.
    #[serde(default)]
    pub remark: Option<String>,
    /// The design (a JSON string of nodes and edges), as it was saved.
    pub design_data: String,
}

/// The flow's newest design as a JSON file download (`{name, remark, design_data}`), named
/// after the flow. Needs `workflow.export`.
#[utoipa::path(
    tag = "workflows",
    security(("bearer" = [])),
    responses((status = 200, content_type = "application/json", body = FlowFile), Refusals)
)]
#[get("/workflow/flows/{flow_id}/export")]
pub async fn export(
    state: State,
    who: WorkflowCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, NativeError> {
    let id = path_id("flow_id", &path)?;
    who.caller.require(functions::EXPORT)?;
    // The read is the use-case's, gated by `workflow.view`: exporting implies reading.
    let reader = who.granted(functions::VIEW);
    let (flow, design) = blocking(move || state.workflow.design(&reader, id, None)).await?;
    let disposition = attachment(&flow.name);
    let file = FlowFile {
        name: flow.name,
        remark: Some(flow.remark),
        design_data: design.design_data,
    };
    let body = serde_json::to_vec_pretty(&file).map_err(|_| NativeError::internal())?;
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/json"))
        .insert_header((CONTENT_DISPOSITION, disposition))
        .body(body))
}

/// Creates a new, disabled flow from an exported file, its design validated as a save
/// validates it: the file's object as the JSON body, or the file uploaded as
/// `multipart/form-data` (its first file part, whatever the part's name). Needs
/// `workflow.import`.
///
/// The console's form is accepted too: `{"dsl": ...}`, where `dsl` is its editor's schema
/// (`{name, remark?, version?, nodes, edges, viewport?}`, as an object or as its JSON text)
/// or an exported file. The schema is stored whole as the design; its `name` and `remark`
/// name the flow. A body (or uploaded file) that is such a schema itself imports the same.
#[utoipa::path(
    tag = "workflows",
    security(("bearer" = [])),
    request_body(
        content = FlowFile,
        description = "The exported file's object as JSON, the console's `{dsl}` (its editor's \
                       schema, an object or its JSON text), or the file itself as \
                       multipart/form-data"
    ),
    responses((status = 200, body = Envelope<SavedDesign>), Refusals)
)]
#[post("/workflow/flows/import")]
pub async fn import(
    state: State,
    who: WorkflowCaller,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<Success<SavedDesign>, NativeError> {
    who.caller.require(functions::IMPORT)?;
    // The use-case gates creating a flow by `workflow.add`; an import is such a create.
    let creator = who.granted(functions::ADD);
    let f: FlowFile = read_flow_file(&req, payload).await?;
    let req = SaveDesign {
        id: None,
        version: None,
        name: f.name,
        remark: f.remark,
        enabled: false,
        design_data: f.design_data,
    };
    let (id, version) = blocking(move || state.workflow.save_design(&creator, req)).await?;
    Ok(Success(SavedDesign { id, version }))
}

/// The flow file of an import: the JSON body, or the first file part of a multipart
/// upload, each held to the body size limit.
async fn read_flow_file(req: &HttpRequest, payload: web::Payload) -> Result<FlowFile, NativeError> {
    let multipart = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    if !multipart {
        let mut payload = payload.into_inner();
        let bytes = read_body(req, &mut payload).await?;
        return flow_file_of("request body", &bytes);
    }
    let syntax = |e: String| {
        NativeError::new(
            StatusCode::BAD_REQUEST,
            "parameter_syntax_error",
            format!("the upload could not be read: {e}"),
        )
    };
    let mut parts = Multipart::new(req.headers(), payload.into_inner());
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(|e| syntax(e.to_string()))?;
        let is_file = part
            .content_disposition()
            .is_some_and(|d| d.get_filename().is_some());
        if !is_file {
            continue;
        }
        let bytes = read_body(req, &mut part).await?;
        return flow_file_of("file", &bytes);
    }
    Err(NativeError::invalid(
        "file: is required (a multipart upload with one file part)",
    ))
}

/// The console's import body: its editor's schema under `dsl`.
#[derive(Debug, Deserialize)]
struct DslImport {
    dsl: Json,
}

/// The flow file of an import body or uploaded file (`what`): an exported file, the
/// console's `{dsl}`, or an editor's schema itself (`nodes` and no `design_data`).
fn flow_file_of(what: &str, bytes: &[u8]) -> Result<FlowFile, NativeError> {
    let probe = serde_json::from_slice::<Json>(bytes).ok();
    let has = |member: &str| probe.as_ref().is_some_and(|p| p.get(member).is_some());
    if has("dsl") && !has("design_data") {
        let body: DslImport = parse_json_of(what, bytes)?;
        return from_dsl(body.dsl, "dsl");
    }
    match probe {
        Some(schema) if has("nodes") && !has("design_data") => from_dsl(schema, what),
        _ => Ok(parse_json_of(what, bytes)?),
    }
}

/// A flow file from the console's editor schema (or an exported file) named `what`.
fn from_dsl(dsl: Json, what: &str) -> Result<FlowFile, NativeError> {
    let dsl = match dsl {
        Json::String(text) => {
            let parsed: Json = serde_json::from_str(&text).map_err(|e| {
                NativeError::new(
                    StatusCode::BAD_REQUEST,
                    "parameter_syntax_error",
                    format!("{what} is not valid JSON: {e}"),
                )
            })?;
            // JSON inside a string escapes the body's NUL check (its `\\u0000` is text
            // there): check what it holds the same way.
            if let Some(path) = nul_path(&parsed) {
                let field = if path == "." {
                    what.to_owned()
                } else {
                    format!("{what}.{path}")
                };
                return Err(text_guard::refusal(&field).into());
            }
            parsed
        }
        other => other,
    };
    let Json::Object(schema) = &dsl else {
        return Err(NativeError::invalid(format!(
            "{what}: must be the editor's schema (an object with name, nodes and edges)"
        )));
    };
    if schema.contains_key("design_data") {
        return serde_json::from_value(dsl)
            .map_err(|e| NativeError::invalid(format!("{what}: {e}")));
    }
    let text = |member: &str| -> Result<Option<String>, NativeError> {
        match schema.get(member) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(NativeError::invalid(format!(
                "{what}.{member}: must be a string"
            ))),
        }
    };
    let name =
        text("name")?.ok_or_else(|| NativeError::invalid(format!("{what}.name: is required")))?;
    let remark = text("remark")?;
    Ok(FlowFile {
        name,
        remark,
        design_data: dsl.to_string(),
    })
}

/// `attachment; filename="..."; filename*=UTF-8''...` for a flow name: letters, digits,
/// `-`, `_` and `.` are kept, anything else becomes `_`; the plain `filename` is the ASCII
/// part, for clients that do not read `filename*`.
pub fn attachment(flow_name: &str) -> String {
    let keep = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | '.');
    let tidy = |s: String| -> String {
        let s = s.trim_matches(|c| c == '_' || c == '.').to_owned();
        if s.is_empty() {
            "workflow".to_owned()
        } else {
            s
        }
    };
    let unicode = tidy(
        flow_name
            .chars()
            .map(|c| if keep(c) { c } else { '_' })
            .collect(),
    );
    let ascii = tidy(
        unicode
            .chars()
            .map(|c| if c.is_ascii() { c } else { '_' })
            .collect(),
    );
    let mut encoded = String::new();
    for b in unicode.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}.json\"; filename*=UTF-8''{encoded}.json")
}

#[cfg(test)]
mod tests {
    use super::attachment;

    #[test]
    fn file_names_keep_letters_digits_dashes_and_dots_only() {
        assert_eq!(
            attachment("Fan on/off: \"hall\""),
            "attachment; filename=\"Fan_on_off___hall.json\"; \
             filename*=UTF-8''Fan_on_off___hall.json"
        );
        assert_eq!(
            attachment("Température"),
            "attachment; filename=\"Temp_rature.json\"; \
             filename*=UTF-8''Temp%C3%A9rature.json"
        );
        assert_eq!(
            attachment("../"),
            "attachment; filename=\"workflow.json\"; filename*=UTF-8''workflow.json"
        );
        assert_eq!(
            attachment("温度"),
            "attachment; filename=\"workflow.json\"; filename*=UTF-8''%E6%B8%A9%E5%BA%A6.json"
        );
    }
}
