//! The catalogue in the console's form format: what the Beaver IoT console's flow editor
//! reads from each component's `data` (a JSON string) to draw a node's settings panel.
//!
//! The console parses `data` into `{component, properties, outputProperties}`. Each
//! property is one member of the node's `data.parameters`, keyed by its name, with
//! `type`, `displayName`, `description`, `required`, `defaultValue`, `enum`, `index`,
//! `secret`, `autowired`, `editable` and `uiComponent`. The console draws one form field a
//! property (the `uiComponent`'s widget, a select for an `enum`, a switch for a boolean, a
//! text field otherwise) and, when the panel is open, writes back *exactly* those fields as
//! the node's `parameters`: a parameter without a property is lost. So every parameter of
//! [`Component::parameters`] becomes a property here, derived from the one catalogue; the
//! console's helpers (`entityData`) are `autowired`, which the console leaves out of its form.
//!
//! **Decisions** (the console declares these fields; the values are Weir's):
//! - `enum` is an object, value to label (`{"POST": "POST"}`): the console lists
//!   `Object.entries(enum)` and keeps each entry's key, so an array would store the index;
//! - `type` is one of the console's value types (`string`, `int`, `boolean`, `enum`,
//!   `array`, `map`, `object`); a decimal number is `string` (it has no decimal type and
//!   shows a text field either way);
//! - `component.testable` is true for the action and external components, which
//!   `POST /workflow/flows/node/test` runs on their own with the inputs the console offers.

use std::collections::BTreeMap;
use std::ops::Deref;

use serde::Serialize;
use serde_json::{Map, Value as Json};

use super::{Component, Group, Kind, Param};

/// The console's widgets (`uiComponent`) the catalogue uses.
pub mod ui {
    /// A list of `{name, type}` declarations (trigger inputs, code and service outputs).
    pub const PARAM_DEFINE: &str = "paramDefineInput";
    /// Name to value, a value possibly an earlier node's output.
    pub const PARAM_ASSIGN: &str = "paramAssignInput";
    /// A list of entity keys.
    pub const ENTITIES: &str = "entityMultipleSelect";
    /// Entity key to value.
    pub const ENTITY_ASSIGN: &str = "entityAssignSelect";
    /// The timer's settings: type, times, interval and weekly schedule.
    pub const TIMER: &str = "timerSettings";
    /// A choice node's branches and their conditions.
    pub const CONDITIONS: &str = "conditionsInput";
    /// `{language, expression}`.
    pub const CODE: &str = "codeEditor";
    /// `{serviceEntity, serviceParams}`.
    pub const SERVICE: &str = "serviceEntitySetting";
    /// Where an email is sent from: the system's settings or the node's own SMTP server.
    pub const EMAIL_SOURCE: &str = "emailSendSource";
    /// The list of recipient addresses.
    pub const EMAIL_RECIPIENTS: &str = "emailRecipients";
    /// The body of the email.
    pub const EMAIL_CONTENT: &str = "emailContent";
}

/// How a parameter appears in the console's form; set in the catalogue.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FormHints {
    pub(crate) ui_component: Option<&'static str>,
    pub(crate) secret: bool,
    /// Among `outputProperties` (a declaration of the node's outputs).
    pub(crate) output: bool,
    /// The console's own helper: `autowired`, so not in the form.
    pub(crate) helper: bool,
}

/// A component with its console form: what `GET /workflow/components` lists.
#[derive(Debug, Serialize)]
pub struct Described<'a> {
    /// The component, its members serialised at the top level.
    #[serde(flatten)]
    pub component: &'a Component,
    /// [`ConsoleForm`] as a JSON string, which is how the console reads it.
    pub data: String,
}

impl<'a> Described<'a> {
    /// Describes a component, rendering its form into `data`.
    pub fn new(component: &'a Component) -> Self {
        let data = serde_json::to_string(&component.form()).unwrap_or_default();
        Self { component, data }
    }
}

impl Deref for Described<'_> {
    type Target = Component;

    fn deref(&self) -> &Component {
        self.component
    }
}

/// A component's form in the console's format.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsoleForm {
    /// What the console shows of the component itself.
    pub component: FormComponent,
    /// The form fields for the node's inputs, by parameter name.
    pub properties: BTreeMap<&'static str, FormProperty>,
    /// The node's output declarations, by parameter name (parameters marked as outputs).
    pub output_properties: BTreeMap<&'static str, FormProperty>,
}

/// The component part of a [`ConsoleForm`].
#[derive(Debug, Serialize)]
pub struct FormComponent {
    /// Its `componentName`.
    pub name: &'static str,
    /// Its label in the palette.
    pub title: &'static str,
    /// The palette group.
    #[serde(rename = "type")]
    pub group: Group,
    /// One sentence on what it does.
    pub description: &'static str,
    /// True for action and external components, which `POST /workflow/flows/node/test` can run alone.
    pub testable: bool,
}

/// One form field: one member of a node's `parameters`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FormProperty {
    /// The parameter's name in `data.parameters`.
    pub name: &'static str,
    /// The console's value type: `string`, `int`, `boolean`, `enum`, `array`, `map` or `object`.
    #[serde(rename = "type")]
    pub value_type: &'static str,
    /// Always `parameter`.
    pub kind: &'static str,
    /// True for list parameters.
    pub multi_value: bool,
    /// The field's label ([`Param::title`](super::Param::title)).
    pub display_name: &'static str,
    /// Help text; empty when there is none.
    pub description: &'static str,
    /// Whether the console requires a value.
    pub required: bool,
    /// The value the engine uses when the parameter is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_value: Option<Json>,
    /// Value to label.
    #[serde(rename = "enum", skip_serializing_if = "Option::is_none")]
    pub options: Option<Map<String, Json>>,
    /// The position in the form, from 1.
    pub index: usize,
    /// Whether the console hides the value (passwords).
    pub secret: bool,
    /// True for the console's helper members, which it leaves out of the form.
    pub autowired: bool,
    /// Always true: every property may be edited in the console.
    pub editable: bool,
    /// The console widget that edits it, one of [`ui`]; `None` for the default by type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ui_component: Option<&'static str>,
}

impl Component {
    /// The component's form in the console's format.
    pub fn form(&self) -> ConsoleForm {
        let mut properties = BTreeMap::new();
        let mut output_properties = BTreeMap::new();
        for (i, p) in self.parameters.iter().enumerate() {
            let property = FormProperty::of(p, i + 1);
            if p.form.output {
                output_properties.insert(p.name, property);
            } else {
                properties.insert(p.name, property);
            }
        }
        ConsoleForm {
            component: FormComponent {
                name: self.name,
                title: self.title,
                group: self.group,
                description: self.description,
                testable: matches!(self.group, Group::Action | Group::External),
            },
            properties,
            output_properties,
        }
    }
}

impl FormProperty {
    fn of(p: &Param, index: usize) -> Self {
        let options = match &p.kind {
            Kind::Enum { values } => Some(
                values
                    .iter()
                    .map(|v| ((*v).to_string(), Json::from(*v)))
                    .collect(),
            ),
            _ => None,
        };
        Self {
            name: p.name,
            value_type: value_type(&p.kind),
            kind: "parameter",
            multi_value: matches!(p.kind, Kind::List { .. }),
            display_name: p.title,
            description: p.description,
            required: p.required,
            default_value: p.default.clone(),
            options,
            index,
            secret: p.form.secret,
            autowired: p.form.helper,
            editable: true,
            ui_component: p.form.ui_component,
        }
    }
}

/// The console's value type of a parameter kind.
fn value_type(kind: &Kind) -> &'static str {
    match kind {
        Kind::String { .. } | Kind::Number { .. } | Kind::EntityKey | Kind::Scalar => "string",
        Kind::Integer { .. } => "int",
        Kind::Boolean => "boolean",
        Kind::Enum { .. } => "enum",
        Kind::List { .. } => "array",
        Kind::Map { .. } => "map",
        Kind::Object { .. } | Kind::Any => "object",
    }
}
