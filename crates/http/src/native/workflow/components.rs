//! The component catalogue: `GET /workflow/components`,
//! `GET /workflow/components/languages` and `GET /workflow/components/{component_id}`.
//!
//! The catalogue is the same for every tenant and is built into Weir; reading it needs one
//! of the codes of someone who works on flows: `workflow.view`, `workflow.add` or
//! `workflow.edit`.

use actix_web::{get, web};
use serde_json::Value as Json;
use utoipa::ToSchema;
use weir_workflow::caller::functions;
use weir_workflow::components::{ComponentGroups, Described, EXPRESSION_TYPES, SCRIPT_LANGUAGES};
use weir_workflow::{WorkflowError, catalogue};

use super::WorkflowCaller;
use crate::native::envelope::{Envelope, NativeError, Refusals, Success};

/// Who may read the catalogue.
const READERS: &[&str] = &[functions::VIEW, functions::ADD, functions::EDIT];

/// A component, as the OpenAPI document shows it.
#[derive(Debug, ToSchema)]
pub struct ComponentDto {
    /// The `componentName` of its nodes.
    pub name: String,
    /// `entry`, `control`, `action` or `external`.
    pub group: String,
    pub title: String,
    pub description: String,
    /// The members of a node's `data.parameters`: `{name, title, description?, required,
    /// default?, type, ...}`, where `type` is `string`, `integer`, `number`, `boolean`,
    /// `enum`, `entityKey`, `scalar`, `any`, `list`, `object` or `map`, with its limits.
    #[schema(value_type = Vec<Object>)]
    pub parameters: Vec<Json>,
    /// The same parameters as the console's editor reads them: a JSON string of
    /// `{component: {name, title, type, description, testable}, properties,
    /// outputProperties}`, each property keyed by its parameter's name with `type`,
    /// `displayName`, `description`, `required`, `defaultValue`, `enum` (value to label),
    /// `index`, `secret`, `autowired`, `editable` and `uiComponent`.
    pub data: String,
}

/// The catalogue by palette group, as the OpenAPI document shows it.
#[derive(Debug, ToSchema)]
pub struct ComponentGroupsDto {
    pub entry: Vec<ComponentDto>,
    pub control: Vec<ComponentDto>,
    pub action: Vec<ComponentDto>,
    pub external: Vec<ComponentDto>,
}

/// Every component, by palette group, in palette order.
#[utoipa::path(
    tag = "workflow components",
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<ComponentGroupsDto>), Refusals)
)]
#[get("/workflow/components")]
pub async fn list(who: WorkflowCaller) -> Result<Success<ComponentGroups<'static>>, NativeError> {
    who.require_any(READERS)?;
    Ok(Success(catalogue().grouped()))
}

/// What `GET /workflow/components/languages` answers: the console's form.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct LanguagesDto {
    /// The languages of `code` nodes (`expression.language`).
    pub code: Vec<&'static str>,
    /// The script languages of a `choice` branch (its `expressionType`, besides
    /// `condition`).
    pub expression: Vec<&'static str>,
}

/// The script languages Weir runs, as the console asks for them: `{code, expression}`.
/// Both come from the workflow catalogue (`SCRIPT_LANGUAGES`, `EXPRESSION_TYPES`).
#[utoipa::path(
    tag = "workflow components",
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<LanguagesDto>), Refusals)
)]
#[get("/workflow/components/languages")]
pub async fn languages(who: WorkflowCaller) -> Result<Success<LanguagesDto>, NativeError> {
    who.require_any(READERS)?;
    Ok(Success(LanguagesDto {
        code: SCRIPT_LANGUAGES.to_vec(),
        expression: EXPRESSION_TYPES
            .iter()
            .copied()
            .filter(|kind| *kind != "condition")
            .collect(),
    }))
}

/// One component; an unknown name answers 404 `data_no_found`.
#[utoipa::path(
    tag = "workflow components",
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<ComponentDto>), Refusals)
)]
#[get("/workflow/components/{component_id}")]
pub async fn one(
    who: WorkflowCaller,
    path: web::Path<String>,
) -> Result<Success<Described<'static>>, NativeError> {
    who.require_any(READERS)?;
    let name = path.into_inner();
    let component = catalogue().get(&name).ok_or_else(|| {
        WorkflowError::not_found("component", name.chars().take(64).collect::<String>())
    })?;
    Ok(Success(Described::new(component)))
}
