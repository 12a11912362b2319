//! The OpenAPI document's frame. Paths and their schemas are collected from the routes
//! themselves as they are registered (utoipa-actix-web), so the document cannot miss one.
//! [`complete`] then types what the routes cannot say themselves: path ids, the workflow
//! components' names and the Smartbi actions (one operation each, from the dialect's action
//! table), and gives the main operations of each dialect their examples (`examples`).

mod examples;

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};
use weir_workflow::components::catalogue;

use crate::smartbi::actions::Document as SmartbiActions;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Weir",
        description = "Identity, IoT and BI over the REST APIs of four products. Native (Beaver IoT) \
                       routes are listed under /api/v1; each is also served at the same path without \
                       /api/v1, as the Beaver IoT document writes them.",
    ),
    modifiers(&BearerAuth),
    // Referred to by the Wyn refusals, which utoipa inlines without their parts.
    components(schemas(crate::wyn::envelope::ApiError, IdText)),
    tags(
        (name = "auth", description = "OAuth2 token endpoint"),
        (name = "user", description = "The caller's account"),
        (name = "members", description = "User management (super admin)"),
        (name = "roles", description = "Roles and their grants (super admin)"),
        (name = "menus", description = "Menus and function codes (super admin)"),
        (name = "integrations", description = "Integrations: the plug-ins that own devices"),
        (name = "devices", description = "Devices, added through their integration"),
        (name = "entities", description = "Entities and their values"),
        (name = "dashboards", description = "Dashboards and their widgets"),
        (name = "workflows", description = "Workflows: flows, their designs, export and import"),
        (name = "workflow components", description = "The node kinds a workflow is built from"),
        (name = "smartbi", description = "The Smartbi dialect: /smartbi/vision/api/{module}/{action} (also /vision/api/...)"),
        (name = "wyn", description = "The Wyn Enterprise dialect: Identity-Role API v2 under /api/v2/identity/roles (super admin)"),
        (name = "thingskit", description = "The ThingsKit dialect: tenant roles under /api/yt/role (super admin; X-Authorization or Authorization: Bearer)"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        // ThingsKit's header, ThingsBoard's: `X-Authorization: Bearer <access token>`.
        components.add_security_scheme(
            "x_authorization",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Authorization",
                "`Bearer <access token>`",
            ))),
        );
        // A device's token for HTTP ingest (docs/native-api.md).
        components.add_security_scheme(
            "device_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Device-Token",
                "the device's token, `wdt_` and 64 hex characters",
            ))),
        );
        // An httpIn flow's credential (`{flow id}.{secret}`), not a user's token.
        components.add_security_scheme(
            "flow_credential",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as `/openapi.json` serves it: completed and serialized once, by the first
/// worker whose app is built, and shared by the others. Every worker's app collects the
/// document while its routes are registered (utoipa-actix-web); kept by each, it took
/// about 12 MB of memory a worker (docs/scaling.md, "Memory").
#[derive(Debug, Default)]
pub struct Document(std::sync::OnceLock<actix_web::web::Bytes>);

impl Document {
    /// The served JSON: `collected` completed and serialized the first time, the same
    /// bytes afterwards (and `collected` dropped).
    pub fn json(&self, collected: utoipa::openapi::OpenApi) -> actix_web::web::Bytes {
        self.0
            .get_or_init(|| {
                let mut api = collected;
                complete(&mut api);
                // A document of plain maps and strings always serializes.
                serde_json::to_vec(&api).unwrap_or_default().into()
            })
            .clone()
    }
}

/// Completes the document once the routes have added their paths: types the path
/// parameters, lists the Smartbi actions and adds the examples.
pub fn complete(openapi: &mut utoipa::openapi::OpenApi) {
    PathParameters.modify(openapi);
    SmartbiActions.modify(openapi);
    examples::add(openapi);
}

/// A Weir id in a path: the decimal text of a positive 64-bit integer.
pub const ID_PATTERN: &str = "^[1-9][0-9]{0,18}$";

/// Types the path parameters the routes leave as plain strings: an `id`, `*_id` or `*Id` is
/// one of Weir's ids (but an integration's id is its name, and a widget's any short text), and `component_id` names one of
/// the workflow components.
struct PathParameters;

impl Modify for PathParameters {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for op in operations_mut(item) {
                let params = op.parameters.iter_mut().flatten();
                for p in params.filter(|p| p.parameter_in == ParameterIn::Path) {
                    if p.name == "component_id" {
                        p.schema = Some(component_names());
                    } else if names_an_id(&p.name) && is_plain_string(p.schema.as_ref()) {
                        p.schema = Some(id_schema());
                    }
                }
            }
        }
    }
}

fn names_an_id(name: &str) -> bool {
    // A widget's id is whatever text (1 to 64 characters) the dashboard's update gave it.
    (name == "id" || name.ends_with("_id") || name.ends_with("Id"))
        && name != "integration_id"
        && name != "widget_id"
}

fn is_plain_string(schema: Option<&RefOr<Schema>>) -> bool {
    matches!(schema, Some(RefOr::T(Schema::Object(o)))
        if o.schema_type == Type::String.into() && o.pattern.is_none() && o.enum_values.is_none())
}

/// A Weir id as the APIs write it, for the document: a field holding an `Id` says
/// `#[schema(value_type = IdText)]`.
pub struct IdText;

impl PartialSchema for IdText {
    fn schema() -> RefOr<Schema> {
        id_schema()
    }
}

impl ToSchema for IdText {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Id")
    }
}

/// A string that is one of `names`; for a field holding a domain enum, say
/// `#[schema(schema_with = ...)]` with a function passing the enum's `ALL` through
/// [`serde_name`] (or its `as_str`), so the document follows the enum.
pub fn one_of<S: Into<String>>(names: impl IntoIterator<Item = S>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names.into_iter().map(Into::into)))
        .into()
}

/// The name serde writes for a unit variant.
pub fn serde_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

/// The schema of an id: in a path, or as [`IdText`].
pub fn id_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(ID_PATTERN))
        .description(Some("a Weir id: a positive 64-bit integer in decimal"))
        .into()
}

fn component_names() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(catalogue().all().iter().map(|c| c.name)))
        .description(Some("a workflow component's name"))
        .into()
}

/// The operations of a path, whatever their method.
pub(crate) fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}
