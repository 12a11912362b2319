//! The catalogue of node kinds (components) a flow is built from, each with the schema of
//! its parameters. `GET /workflow/components` serialises [`Catalogue::grouped`], each
//! component with its form in the console's format ([`form`]);
//! [`crate::validate()`] checks every node's `data.parameters` against [`Component::check`].
//!
//! Component names, groups and parameter names are the reference product's (Beaver IoT), as
//! far as they could be inferred from its web console's node types (`componentName`,
//! `parameters`) and its rule-engine components (`@RuleNode`, `@UriParam`). Where the product
//! is silent, Weir decided; each such place says so in its doc comment. In particular:
//! - the product puts `email` among the actions; Weir follows the issue and the console's
//!   palette and lists it under `external`;
//! - `webhook.timeoutSeconds` is Weir's own (the product has no per-node timeout);
//! - `email.emailConfig.provider` accepts `SMTP` only (the product also knows `google`);
//! - value limits (lengths, item counts, the port range...) are Weir's.
//!
//! The schema is deliberately small: a parameter has a name, a title, a [`Kind`], whether it
//! is required and a default. Rules one parameter's schema cannot say (a timer of type
//! `INTERVAL` needs `intervalTime`) are a component's extra rules, run after the schema
//! passed. Parameters the schema does not name are tolerated and kept, so the console's
//! helper members (`entityData`, `$...`) survive a save.
//!
//! What needs other data is not checked here: that entity keys exist and that the caller
//! may read, write or call them. [`crate::entity_uses`] checks those when a design is saved,
//! tested or enabled. An `httpIn` path need not be free: requests find their flow by its
//! credential.

use std::sync::LazyLock;

use serde::Serialize;
use serde_json::{Map, Value as Json};

/// The component names, as `componentName` carries them.
pub mod names {
    /// Entry: starts a run when called through the API, with the inputs it declares.
    pub const TRIGGER: &str = "trigger";
    /// Entry: starts a run when one of the chosen entities gets a new value.
    pub const EVENT_LISTENER: &str = "eventListener";
    /// Entry: starts a run once, at an interval, or on a weekly schedule.
    pub const SIMPLE_TIMER: &str = "simpleTimer";
    /// Entry: starts a run on an HTTP request under `/workflow-http-in/`.
    pub const HTTP_IN: &str = "httpIn";
    /// Control: sends the run down the first branch whose conditions hold, else `otherwise`.
    pub const CHOICE: &str = "choice";
    /// Action: reads the latest values of the chosen entities.
    pub const ENTITY_SELECTOR: &str = "entitySelector";
    /// Action: writes values to properties, entity key to value.
    pub const ENTITY_ASSIGNER: &str = "entityAssigner";
    /// Action: calls a device service with parameter values.
    pub const SERVICE_INVOCATION: &str = "serviceInvocation";
    /// Action: runs a sandboxed script over input arguments.
    pub const CODE: &str = "code";
    /// External: POSTs JSON to a URL.
    pub const WEBHOOK: &str = "webhook";
    /// External: sends an email through SMTP.
    pub const EMAIL: &str = "email";
    /// External: ends the run with its result, name to value.
    pub const OUTPUT: &str = "output";
}

/// Where a component sits in the console's palette, and what it may do in a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// Starts a run. A flow has exactly one, and no edge enters it.
    Entry,
    /// Decides where a run goes.
    Control,
    /// Reads or changes Weir's own data.
    Action,
    /// Reaches outside Weir, or ends the run (`output`).
    External,
}

/// A node kind.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    /// The `componentName` of its nodes.
    pub name: &'static str,
    /// Its palette group, which also decides where it may stand in a flow.
    pub group: Group,
    /// Its label in the console's palette.
    pub title: &'static str,
    /// One sentence on what it does, shown in the console.
    pub description: &'static str,
    /// The members of the node's `data.parameters`.
    pub parameters: Vec<Param>,
    /// Rules across parameters, run once the schema passed.
    #[serde(skip)]
    rules: Option<Rules>,
}

type Rules = fn(&Map<String, Json>, &mut Vec<FieldProblem>);

/// One parameter, or one member of an object parameter.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Param {
    /// The member name in `data.parameters`.
    pub name: &'static str,
    /// The label of its form field in the console.
    pub title: &'static str,
    /// Help text shown in the console; empty when there is none.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub description: &'static str,
    /// Must be present and not `null`; a required string must not be blank.
    pub required: bool,
    /// What the engine uses when the parameter is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Json>,
    /// Its type and limits.
    #[serde(flatten)]
    pub kind: Kind,
    /// How the console's editor shows it (see [`form`]).
    #[serde(skip)]
    pub(crate) form: FormHints,
}

/// A parameter's type, with its limits. Serialised with a `type` tag:
/// `{"type": "integer", "minimum": 1}`, `{"type": "list", "items": {"type": "entityKey"}}`.
#[derive(Debug, Clone, Serialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Kind {
    /// A string, perhaps limited in length and format.
    String {
        /// In characters.
        #[serde(skip_serializing_if = "Option::is_none")]
        max_length: Option<usize>,
        /// A format the string must have, beyond being a string.
        #[serde(skip_serializing_if = "Option::is_none")]
        format: Option<StringFormat>,
    },
    /// A whole number. A string holding one is accepted too: the console's form fields
    /// send some numbers as strings (the timer's `intervalTime`).
    Integer {
        /// The least value allowed, inclusive.
        #[serde(skip_serializing_if = "Option::is_none")]
        minimum: Option<i64>,
        /// The greatest value allowed, inclusive.
        #[serde(skip_serializing_if = "Option::is_none")]
        maximum: Option<i64>,
    },
    /// Any number; a string holding one is accepted too.
    Number {
        /// The least value allowed, inclusive.
        #[serde(skip_serializing_if = "Option::is_none")]
        minimum: Option<f64>,
        /// The greatest value allowed, inclusive.
        #[serde(skip_serializing_if = "Option::is_none")]
        maximum: Option<f64>,
    },
    /// `true` or `false`; a string is not accepted.
    Boolean,
    /// One of a fixed set of strings.
    Enum {
        /// The strings allowed.
        values: &'static [&'static str],
    },
    /// An entity key: `{integration}.device.{device}.{entity}[.{child}]` or
    /// `{integration}.integration.{entity}[.{child}]`.
    EntityKey,
    /// A string, number or boolean: a literal, or a string referring to an earlier node's
    /// output.
    Scalar,
    /// Any JSON value; the component's rules look inside.
    Any,
    /// A JSON array.
    List {
        /// The kind of every item.
        items: Box<Kind>,
        /// The fewest items allowed (0 for no minimum).
        #[serde(skip_serializing_if = "is_zero")]
        min_items: usize,
        /// The most items allowed.
        #[serde(skip_serializing_if = "Option::is_none")]
        max_items: Option<usize>,
        /// No two items are equal.
        #[serde(skip_serializing_if = "is_false")]
        unique_items: bool,
        /// No two (object) items have the same value of this member.
        #[serde(skip_serializing_if = "Option::is_none")]
        unique_by: Option<&'static str>,
    },
    /// An object with known members.
    Object {
        /// Its members' schemas.
        fields: Vec<Param>,
    },
    /// An object whose member names the user chooses (entity keys, variable names).
    Map {
        /// What the member names must look like.
        keys: KeyFormat,
        /// The kind of every member value.
        values: Box<Kind>,
        /// The fewest members allowed (0 for no minimum).
        #[serde(skip_serializing_if = "is_zero")]
        min_entries: usize,
        /// The most members allowed.
        #[serde(skip_serializing_if = "Option::is_none")]
        max_entries: Option<usize>,
    },
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A format a [`Kind::String`] must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum StringFormat {
    /// An absolute `http://` or `https://` URL.
    Url,
    /// An address of the form `local@domain.tld` (a light check, not RFC 5322).
    Email,
    /// A path under `/workflow-http-in/`: segments of letters, digits, `-`, `_`, `.` and
    /// `~`, or `{variable}` templates; a leading `/` is allowed.
    HttpPath,
    /// 1 to 64 letters, digits, `_` or `-`.
    Identifier,
}

/// What the member names of a [`Kind::Map`] must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum KeyFormat {
    /// An entity key (see [`Kind::EntityKey`]).
    EntityKey,
    /// 1 to 64 letters, digits, `_` or `-`.
    Identifier,
    /// Any name that is not blank.
    Any,
}

/// One thing wrong with a node's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// Where, inside the node: `parameters.timerSettings.intervalTime`,
    /// `parameters.exchangePayload["demo.device.d1.power"]`.
    pub field: String,
    /// True when a required value is absent, `null` or blank.
    pub missing: bool,
    /// What is wrong, for a person: `is required`, `must be an integer, not "x"`.
    pub message: String,
}

impl FieldProblem {
    fn missing(field: String) -> Self {
        Self {
            field,
            missing: true,
            message: "is required".into(),
        }
    }

    fn invalid(field: String, message: impl Into<String>) -> Self {
        Self {
            field,
            missing: false,
            message: message.into(),
        }
    }
}

impl Component {
    /// Whether it starts runs (group [`Group::Entry`]).
    pub fn is_entry(&self) -> bool {
        self.group == Group::Entry
    }

    /// Checks a node's parameters: the schema, then the component's own rules. `None` is
    /// an absent or `null` `parameters`.
    pub fn check(&self, parameters: Option<&Map<String, Json>>) -> Vec<FieldProblem> {
        let empty = Map::new();
        let parameters = parameters.unwrap_or(&empty);
        let mut out = Vec::new();
        check_fields(&self.parameters, parameters, "parameters", &mut out);
        if out.is_empty()
            && let Some(rules) = self.rules
        {
            rules(parameters, &mut out);
        }
        out
    }

    /// The parameter named `name`, if the component has one.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.parameters.iter().find(|p| p.name == name)
    }
}

/// All components, in palette order.
#[derive(Debug)]
pub struct Catalogue {
    components: Vec<Component>,
}

/// The catalogue as `GET /workflow/components` shows it: by group, in palette order, each
/// component with its console form ([`Described`]).
#[derive(Debug, Serialize)]
pub struct ComponentGroups<'a> {
    /// The entry components.
    pub entry: Vec<Described<'a>>,
    /// The control components.
    pub control: Vec<Described<'a>>,
    /// The action components.
    pub action: Vec<Described<'a>>,
    /// The external components.
    pub external: Vec<Described<'a>>,
}

impl Catalogue {
    /// The component named `name` (a `componentName`), if there is one.
    pub fn get(&self, name: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.name == name)
    }

    /// Every component, in palette order.
    pub fn all(&self) -> &[Component] {
        &self.components
    }

    /// The catalogue by group, as `GET /workflow/components` shows it.
    pub fn grouped(&self) -> ComponentGroups<'_> {
        let of = |g: Group| {
            self.components
                .iter()
                .filter(|c| c.group == g)
                .map(Described::new)
                .collect()
        };
        ComponentGroups {
            entry: of(Group::Entry),
            control: of(Group::Control),
            action: of(Group::Action),
            external: of(Group::External),
        }
    }
}

/// The catalogue, built once.
pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| Catalogue {
        components: build(),
    });
    &CATALOGUE
}

/// The ids of a `choice` node's branches, `when` branches first, then `otherwise`. An edge
/// leaving the node names one of them in its `sourceHandle`.
pub fn choice_branches(parameters: Option<&Map<String, Json>>) -> Vec<&str> {
    let Some(choice) = parameters.and_then(|p| p.get("choice")) else {
        return Vec::new();
    };
    let when = choice
        .get("when")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|w| w.get("id").and_then(Json::as_str));
    let otherwise = choice
        .get("otherwise")
        .and_then(|o| o.get("id"))
        .and_then(Json::as_str);
    when.chain(otherwise).collect()
}

mod catalogue;
mod check;
pub mod form;
mod rules;
#[cfg(test)]
mod tests;

use catalogue::*;
pub use catalogue::{EXPRESSION_TYPES, OPERATORS, SCRIPT_LANGUAGES};
pub(crate) use check::clip;
use check::*;
use form::FormHints;
pub use form::{ConsoleForm, Described, FormProperty};
use rules::*;
