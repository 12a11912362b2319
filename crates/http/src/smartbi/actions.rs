//! Every action of the Smartbi dialect, with the shape of its `paramsInfo` and what runs
//! it ([`Handler`]). The dispatcher finds an action in these tables ([`find`]) and runs its
//! handler; the OpenAPI document lists one operation per entry ([`Document`]): one source
//! of truth, so the two cannot drift apart.

use std::borrow::Cow;

use futures_util::future::LocalBoxFuture;
use serde_json::Value as Json;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{ContentBuilder, PathItem, Ref, RefOr};
use utoipa::{Modify, PartialSchema, ToSchema};
use weir_identity::Principal;

use super::envelope::SmartbiResult;
use crate::core::State;

use super::routes::PREFIX;
use super::{catalog, identity, routes};

/// Schemas a `paramsInfo` schema refers to, by name.
pub type Schemas = Vec<(String, RefOr<Schema>)>;

/// Adds the schema of an action's `paramsInfo` (and those it refers to) to the list and
/// answers it.
pub type ParamsSchema = fn(&mut Schemas) -> RefOr<Schema>;

/// A catalog action: runs as the catalog's caller with the parsed `paramsInfo`.
pub type CatalogFn =
    fn(State, weir_bi_catalog::catalog::Caller, Json) -> LocalBoxFuture<'static, SmartbiResult>;

/// What runs an action.
#[derive(Clone, Copy)]
pub enum Handler {
    /// Weir's own, answered from the caller alone.
    Caller(fn(&Principal) -> SmartbiResult),
    /// One handler per catalog action (`catalog::dispatch` makes the caller).
    Catalog(CatalogFn),
    /// Users, groups, roles and links: `identity::dispatch` runs them by module.
    Identity,
}

/// A catalog action's `async fn (State, Caller, Json) -> SmartbiResult` as a [`Handler`].
macro_rules! catalog_handler {
    ($f:path) => {
        $crate::smartbi::actions::Handler::Catalog(|state, caller, params| {
            Box::pin($f(state, caller, params))
        })
    };
}
pub(crate) use catalog_handler;

/// One action: `POST /smartbi/vision/api/{module}/{action}`.
pub struct Action {
    pub module: &'static str,
    pub action: &'static str,
    /// What it does, for the document.
    pub summary: &'static str,
    /// The shape of its `paramsInfo`; `None` when it takes none.
    pub params: Option<ParamsSchema>,
    pub run: Handler,
}

impl Action {
    pub const fn new(
        module: &'static str,
        action: &'static str,
        summary: &'static str,
        params: ParamsSchema,
        run: Handler,
    ) -> Self {
        Self {
            module,
            action,
            summary,
            params: Some(params),
            run,
        }
    }

    pub fn path(&self) -> String {
        format!("{PREFIX}/{}/{}", self.module, self.action)
    }
}

/// Every action: Weir's own, users, groups and roles, then the catalog's.
pub fn all() -> impl Iterator<Item = &'static Action> {
    routes::BUILTIN
        .iter()
        .chain(identity::ACTIONS)
        .chain(catalog::ACTIONS)
}

/// The action `module/action` names, if there is one.
pub fn find(module: &str, action: &str) -> Option<&'static Action> {
    all().find(|a| a.module == module && a.action == action)
}

/// `paramsInfo` as `T`: a reference to its schema, which is added with the ones it uses.
pub fn params<T: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    T::schemas(schemas);
    schemas.push((T::name().into_owned(), T::schema()));
    RefOr::Ref(Ref::from_schema_name(T::name()))
}

/// `paramsInfo` as one `T` or an array of them.
pub fn one_or_many<T: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    one_or_array(params::<T>(schemas))
}

fn one_or_array(one: RefOr<Schema>) -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(one.clone())
        .item(ArrayBuilder::new().items(one))
        .into()
}

/// A catalog resource: its id (a positive integer, also written as a string) or a root
/// folder, `DATA_SOURCES` or `PUBLIC`.
pub struct ResourceId;

impl PartialSchema for ResourceId {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(i64::MAX)),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^([1-9][0-9]{0,18}|DATA_SOURCES|PUBLIC)$")),
            )
            .description(Some(
                "a resource id (a positive integer, as a number or a string) or a root \
                 folder: DATA_SOURCES or PUBLIC",
            ))
            .into()
    }
}

impl ToSchema for ResourceId {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("smartbi.ResourceId")
    }
}

/// One resource id or an array of them (`resource/delete`).
pub fn resource_ids() -> RefOr<Schema> {
    one_or_array(RefOr::Ref(Ref::from_schema_name(ResourceId::name())))
}

/// The Smartbi part of the OpenAPI document: the route's one operation becomes one
/// operation per action, at the action's own path, whose body shows its `paramsInfo`.
pub struct Document;

impl Modify for Document {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let route = format!("{PREFIX}/{{module}}/{{action}}");
        let Some(template) = openapi
            .paths
            .paths
            .remove(&route)
            .and_then(|item| item.post)
        else {
            return;
        };
        let mut schemas = Schemas::new();
        for action in all() {
            let params = action.params.map(|f| f(&mut schemas));
            let op = operation(&template, action, params);
            openapi.paths.paths.insert(
                action.path(),
                PathItem::new(utoipa::openapi::HttpMethod::Post, op),
            );
        }
        schemas.push((ResourceId::name().into_owned(), ResourceId::schema()));
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, schema) in schemas {
            components.schemas.entry(name).or_insert(schema);
        }
    }
}

fn operation(template: &Operation, action: &Action, params: Option<RefOr<Schema>>) -> Operation {
    let mut op = template.clone();
    op.operation_id = Some(format!(
        "smartbi_{}_{}",
        action.module,
        action.action.replace('/', "_")
    ));
    op.summary = Some(action.summary.to_owned());
    if let Some(parameters) = &mut op.parameters {
        parameters.retain(|p| p.parameter_in != ParameterIn::Path);
    }
    let token = || {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "The encrypted token (docs/smartbi.md); leave it out when sending \
             `Authorization: Bearer <access token>`.",
            ))
    };
    let mut json = ObjectBuilder::new().property("smartbiToken", token());
    let mut form = ObjectBuilder::new().property("smartbiToken", token());
    if let Some(params) = params {
        json = json.property("paramsInfo", params).required("paramsInfo");
        form = form
            .property(
                "paramsInfo",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some(
                        "The parameters as JSON text, shaped as the JSON body's `paramsInfo`.",
                    )),
            )
            .required("paramsInfo");
    }
    op.request_body = Some(
        RequestBodyBuilder::new()
            .description(Some("smartbiToken and paramsInfo"))
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(json)).build(),
            )
            .content(
                "application/x-www-form-urlencoded",
                ContentBuilder::new().schema(Some(form)).build(),
            )
            .build(),
    );
    op
}
