//! The catalogue itself: every component with its parameters, and the builders that keep
//! it readable.

use serde_json::{Value as Json, json};

use super::form::ui;
use super::*;

// ---------------------------------------------------------------------------------------
// The catalogue itself.

/// The script languages of `code` nodes and of `choice` expressions: exactly the ones Weir
/// runs (`GET /workflow/components/languages` answers them).
///
/// **Decision:** the reference product evaluates `js`, `python`, `groovy` and `mvel`
/// through its JVM; Weir embeds two sandboxed engines: QuickJS for `js` (the console's
/// default language, and its template runs as written) and [Rhai](https://rhai.rs), whose
/// syntax is close to JavaScript's. Both bound operations, memory and time without a process
/// of their own. A design naming another language is refused when it is saved, rather than
/// accepted and failing on every run (see `docs/workflow.md`).
pub const SCRIPT_LANGUAGES: &[&str] = &["rhai", "js"];

/// A `choice` branch's `expressionType`: structured conditions, or a script in one of the
/// [`SCRIPT_LANGUAGES`] (a test keeps the two lists in step).
pub const EXPRESSION_TYPES: &[&str] = &["condition", "rhai", "js"];

/// The comparison operators of a `choice` condition (the product's `ExpressionOperator`).
pub const OPERATORS: &[&str] = &[
    "CONTAINS",
    "NOT_CONTAINS",
    "START_WITH",
    "END_WITH",
    "EQ",
    "NE",
    "IS_EMPTY",
    "IS_NOT_EMPTY",
    "GT",
    "GE",
    "LT",
    "LE",
];

/// Operators that take no `value`.
pub(super) const UNARY_OPERATORS: &[&str] = &["IS_EMPTY", "IS_NOT_EMPTY"];

/// Types of the values a trigger takes (Weir's value types that a caller can send).
pub(super) const INPUT_TYPES: &[&str] = &["STRING", "LONG", "DOUBLE", "BOOLEAN"];

/// Types of a code or service node's declared outputs (the product's `DataTypeEnums`).
pub(super) const OUTPUT_TYPES: &[&str] = &["STRING", "LONG", "DOUBLE", "BOOLEAN", "OTHER"];

pub(super) const TIMER_TYPES: &[&str] = &["ONCE", "SCHEDULE", "INTERVAL"];
pub(super) const TIME_UNITS: &[&str] = &["SECONDS", "MINUTES", "HOURS", "DAYS"];
pub(super) const DAYS: &[&str] = &[
    "MONDAY",
    "TUESDAY",
    "WEDNESDAY",
    "THURSDAY",
    "FRIDAY",
    "SATURDAY",
    "SUNDAY",
    "WEEKDAY",
    "WEEKEND",
    "EVERYDAY",
];

/// The most entity keys one node names.
pub(super) const MAX_ENTITIES: usize = 200;
/// The longest script or email body, in characters.
pub(super) const MAX_TEXT: usize = 65_536;

pub(super) fn build() -> Vec<Component> {
    [entry(), control(), action(), external()]
        .into_iter()
        .flatten()
        .collect()
}

/// The entry components: what starts a run.
fn entry() -> Vec<Component> {
    use names::*;
    vec![
        Component {
            name: TRIGGER,
            group: Group::Entry,
            title: "Trigger",
            description: "Starts the flow through the API, with the input values it declares.",
            parameters: vec![
                param(
                    "entityConfigs",
                    "Inputs",
                    list(object(vec![
                        param("identify", "Identifier", identifier()).required(),
                        param("name", "Name", string(64)).required(),
                        param("type", "Type", one_of(INPUT_TYPES)).required(),
                        param("required", "Required", Kind::Boolean).default(json!(false)),
                    ]))
                    .max(100)
                    .unique_by("identify"),
                )
                .describe("The values a caller passes when it starts the flow.")
                .default(json!([]))
                .widget(ui::PARAM_DEFINE),
            ],
            rules: None,
        },
        Component {
            name: EVENT_LISTENER,
            group: Group::Entry,
            title: "Event listener",
            description: "Starts the flow when one of the chosen entities gets a new value.",
            parameters: vec![
                param("entities", "Entities", entity_keys())
                    .required()
                    .describe("The entities whose new values start the flow.")
                    .widget(ui::ENTITIES),
                // The console's helper; kept, not used by the server.
                param("entityData", "Entity data", Kind::Any).helper(),
            ],
            rules: None,
        },
        Component {
            name: SIMPLE_TIMER,
            group: Group::Entry,
            title: "Timer",
            description: "Starts the flow once, at an interval, or on a weekly schedule.",
            parameters: vec![
                param(
                    "timerSettings",
                    "Timer settings",
                    object(vec![
                        param("type", "Type", one_of(TIMER_TYPES))
                            .required()
                            .describe(
                                "ONCE at executionEpochSecond; INTERVAL every intervalTime \
                             intervalTimeUnit; SCHEDULE at each rule's hour and minute \
                             on its days.",
                            ),
                        param("timezone", "Time zone", string(64))
                            .describe("The IANA time zone SCHEDULE rules are read in.")
                            .default(json!("UTC")),
                        param(
                            "executionEpochSecond",
                            "Execution time",
                            integer(Some(0), None),
                        )
                        .describe("ONCE: when, in seconds since 1970."),
                        param("intervalTime", "Interval", integer(Some(1), None))
                            .describe("INTERVAL: how many units between runs."),
                        param("intervalTimeUnit", "Interval unit", one_of(TIME_UNITS)),
                        param(
                            "rules",
                            "Schedule",
                            list(object(vec![
                                param("hour", "Hour", integer(Some(0), Some(23))).default(json!(0)),
                                param("minute", "Minute", integer(Some(0), Some(59)))
                                    .default(json!(0)),
                                param("daysOfWeek", "Days", list(one_of(DAYS)).unique())
                                    .describe("None means every day."),
                            ]))
                            .max(50),
                        )
                        .describe("SCHEDULE: the times of day and days of the week."),
                        param("expirationEpochSecond", "Expires", integer(Some(0), None)).describe(
                            "INTERVAL, SCHEDULE: no run after this, in seconds since 1970.",
                        ),
                    ]),
                )
                .required()
                .widget(ui::TIMER),
            ],
            rules: Some(timer_rules),
        },
        Component {
            name: HTTP_IN,
            group: Group::Entry,
            title: "HTTP in",
            description: "Starts the flow on an HTTP request to /workflow-http-in/{url}, \
                      authenticated by the flow's credential.",
            parameters: vec![
                param(
                    "method",
                    "Method",
                    one_of(&["POST", "GET", "PUT", "DELETE"]),
                )
                .required(),
                param(
                    "url",
                    "Path",
                    Kind::String {
                        max_length: Some(256),
                        format: Some(StringFormat::HttpPath),
                    },
                )
                .required()
                .describe(
                    "The path under /workflow-http-in/; {name} segments become path \
                 variables.",
                ),
            ],
            rules: None,
        },
    ]
}

/// The control components: where a run branches.
fn control() -> Vec<Component> {
    use names::*;
    vec![Component {
        name: CHOICE,
        group: Group::Control,
        title: "If / else",
        description: "Sends the run down the first branch whose conditions hold, or down \
                      the otherwise branch. Each edge leaving the node names its branch \
                      id in sourceHandle.",
        parameters: vec![
            param(
                "choice",
                "Branches",
                object(vec![
                    param(
                        "when",
                        "If / else if",
                        list(object(vec![
                            param("id", "Branch id", string(64)).required(),
                            param("logicOperator", "Join", one_of(&["AND", "OR"]))
                                .default(json!("AND")),
                            param(
                                "expressionType",
                                "Expression type",
                                one_of(EXPRESSION_TYPES),
                            )
                            .describe(
                                "condition: each expressionValue is {key, operator, \
                                 value}; a script language: each is a script returning \
                                 a boolean.",
                            )
                            .default(json!("condition")),
                            param(
                                "conditions",
                                "Conditions",
                                list(object(vec![
                                    param("id", "Condition id", string(64)),
                                    param("expressionValue", "Condition", Kind::Any).required(),
                                    param("expressionDescription", "Remark", string(256)),
                                ]))
                                .min(1)
                                .max(50),
                            )
                            .required(),
                        ]))
                        .min(1)
                        .max(20),
                    )
                    .required(),
                    param(
                        "otherwise",
                        "Else",
                        object(vec![param("id", "Branch id", string(64)).required()]),
                    )
                    .required(),
                ]),
            )
            .required()
            .widget(ui::CONDITIONS),
        ],
        rules: Some(choice_rules),
    }]
}

/// The action components: reading and writing entities, calling services, scripts.
fn action() -> Vec<Component> {
    use names::*;
    vec![
        Component {
            name: ENTITY_SELECTOR,
            group: Group::Action,
            title: "Entity selector",
            description: "Reads the latest values of the chosen entities.",
            parameters: vec![
                param("entities", "Entities", entity_keys())
                    .required()
                    .widget(ui::ENTITIES),
                param("entityData", "Entity data", Kind::Any).helper(),
            ],
            rules: None,
        },
        Component {
            name: ENTITY_ASSIGNER,
            group: Group::Action,
            title: "Entity assigner",
            description: "Writes values to properties: entity key to value.",
            parameters: vec![
                param(
                    "exchangePayload",
                    "Assignments",
                    Kind::Map {
                        keys: KeyFormat::EntityKey,
                        values: Box::new(Kind::Scalar),
                        min_entries: 1,
                        max_entries: Some(MAX_ENTITIES),
                    },
                )
                .required()
                .widget(ui::ENTITY_ASSIGN),
            ],
            rules: None,
        },
        Component {
            name: SERVICE_INVOCATION,
            group: Group::Action,
            title: "Service invocation",
            description: "Calls a device service with parameter values.",
            parameters: vec![
                param(
                    "serviceInvocationSetting",
                    "Service",
                    object(vec![
                        param("serviceEntity", "Service entity", Kind::EntityKey).required(),
                        param(
                            "serviceParams",
                            "Parameters",
                            map(KeyFormat::Any, Kind::Scalar, 100),
                        ),
                    ]),
                )
                .required()
                .widget(ui::SERVICE),
                param("payload", "Outputs", outputs())
                    .describe("The service's results other nodes may refer to.")
                    .widget(ui::PARAM_DEFINE)
                    .output(),
            ],
            rules: None,
        },
        Component {
            name: CODE,
            group: Group::Action,
            title: "Code",
            description: "Runs a sandboxed script over input arguments; the object it returns \
                      holds the declared outputs.",
            parameters: vec![
                param(
                    "expression",
                    "Script",
                    object(vec![
                        param("language", "Language", one_of(SCRIPT_LANGUAGES)).required(),
                        param("expression", "Code", string(MAX_TEXT)).required(),
                    ]),
                )
                .required()
                .widget(ui::CODE),
                param(
                    "inputArguments",
                    "Input arguments",
                    map(KeyFormat::Identifier, Kind::Scalar, 50),
                )
                .describe("Script variable to value, or to an earlier node's output.")
                .widget(ui::PARAM_ASSIGN),
                param("payload", "Outputs", outputs())
                    .widget(ui::PARAM_DEFINE)
                    .output(),
            ],
            rules: None,
        },
    ]
}

/// The external components: what leaves Weir, and the run's result.
fn external() -> Vec<Component> {
    use names::*;
    vec![
        Component {
            name: WEBHOOK,
            group: Group::External,
            title: "Webhook",
            description: "POSTs JSON to a URL. With a secret key, the request carries \
                      TIMESTAMP, NONCE and SIGNATURE = hex HMAC-SHA256(key, timestamp + \
                      nonce + body) headers.",
            parameters: vec![
                param(
                    "webhookUrl",
                    "URL",
                    Kind::String {
                        max_length: Some(2048),
                        format: Some(StringFormat::Url),
                    },
                )
                .required(),
                param("secretKey", "Secret key", string(256)).secret(),
                param(
                    "inputArguments",
                    "Body",
                    map(KeyFormat::Any, Kind::Scalar, 100),
                )
                .describe("The JSON body's members; absent or empty sends the run's data.")
                .widget(ui::PARAM_ASSIGN),
                // Weir's own: the product has no per-node timeout.
                param("timeoutSeconds", "Timeout", integer(Some(1), Some(60)))
                    .describe("Seconds to wait for an answer.")
                    .default(json!(10)),
            ],
            rules: None,
        },
        Component {
            name: EMAIL,
            group: Group::External,
            title: "Email",
            description: "Sends an email through SMTP.",
            parameters: vec![
                param(
                    "emailConfig",
                    "Email settings",
                    object(vec![
                        param(
                            "useSystemSettings",
                            "Use the system's SMTP server",
                            Kind::Boolean,
                        )
                        .default(json!(false)),
                        param("provider", "Provider", one_of(&["SMTP"])),
                        param(
                            "smtpConfig",
                            "SMTP server",
                            object(vec![
                                param("host", "Host", string(255)).required(),
                                param("port", "Port", integer(Some(1), Some(65535))).required(),
                                param(
                                    "encryption",
                                    "Encryption",
                                    one_of(&["TLS", "STARTTLS", "NONE"]),
                                )
                                .required(),
                                param("username", "User", string(255)),
                                param("password", "Password", string(255)).secret(),
                            ]),
                        ),
                    ]),
                )
                .required()
                .describe("useSystemSettings, or an SMTP provider with its smtpConfig.")
                .widget(ui::EMAIL_SOURCE),
                param(
                    "recipients",
                    "Recipients",
                    list(Kind::String {
                        max_length: Some(254),
                        format: Some(StringFormat::Email),
                    })
                    .min(1)
                    .max(50)
                    .unique(),
                )
                .required()
                .widget(ui::EMAIL_RECIPIENTS),
                param("subject", "Subject", string(255)).required(),
                param("content", "Content", string(MAX_TEXT)).widget(ui::EMAIL_CONTENT),
            ],
            rules: Some(email_rules),
        },
        Component {
            name: OUTPUT,
            group: Group::External,
            title: "Output",
            description: "Ends the run with its result: name to value. No edge leaves it.",
            parameters: vec![
                param(
                    "outputVariables",
                    "Outputs",
                    map(KeyFormat::Any, Kind::Scalar, 100),
                )
                .default(json!({}))
                .widget(ui::PARAM_ASSIGN),
            ],
            rules: None,
        },
    ]
}

// Builders that keep the catalogue readable.

pub(super) fn param(name: &'static str, title: &'static str, kind: Kind) -> Param {
    Param {
        name,
        title,
        description: "",
        required: false,
        default: None,
        kind,
        form: FormHints::default(),
    }
}

impl Param {
    pub(super) fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub(super) fn default(mut self, value: Json) -> Self {
        self.default = Some(value);
        self
    }

    pub(super) fn describe(mut self, description: &'static str) -> Self {
        self.description = description;
        self
    }

    /// The console's widget for it (its form's `uiComponent`).
    pub(super) fn widget(mut self, ui_component: &'static str) -> Self {
        self.form.ui_component = Some(ui_component);
        self
    }

    /// Shown masked (a password, a key).
    pub(super) fn secret(mut self) -> Self {
        self.form.secret = true;
        self
    }

    /// A declaration of the node's outputs: among the form's `outputProperties`.
    pub(super) fn output(mut self) -> Self {
        self.form.output = true;
        self
    }

    /// The console's helper, kept when sent but never shown in a form.
    pub(super) fn helper(mut self) -> Self {
        self.form.helper = true;
        self
    }
}

impl Kind {
    pub(super) fn min(mut self, n: usize) -> Self {
        if let Kind::List { min_items, .. } = &mut self {
            *min_items = n;
        }
        self
    }

    pub(super) fn max(mut self, n: usize) -> Self {
        if let Kind::List { max_items, .. } = &mut self {
            *max_items = Some(n);
        }
        self
    }

    pub(super) fn unique(mut self) -> Self {
        if let Kind::List { unique_items, .. } = &mut self {
            *unique_items = true;
        }
        self
    }

    pub(super) fn unique_by(mut self, field: &'static str) -> Self {
        if let Kind::List { unique_by, .. } = &mut self {
            *unique_by = Some(field);
        }
        self
    }
}

pub(super) fn string(max_length: usize) -> Kind {
    Kind::String {
        max_length: Some(max_length),
        format: None,
    }
}

pub(super) fn identifier() -> Kind {
    Kind::String {
        max_length: None,
        format: Some(StringFormat::Identifier),
    }
}

pub(super) fn integer(minimum: Option<i64>, maximum: Option<i64>) -> Kind {
    Kind::Integer { minimum, maximum }
}

pub(super) fn one_of(values: &'static [&'static str]) -> Kind {
    Kind::Enum { values }
}

pub(super) fn list(items: Kind) -> Kind {
    Kind::List {
        items: Box::new(items),
        min_items: 0,
        max_items: None,
        unique_items: false,
        unique_by: None,
    }
}

pub(super) fn object(fields: Vec<Param>) -> Kind {
    Kind::Object { fields }
}

pub(super) fn map(keys: KeyFormat, values: Kind, max_entries: usize) -> Kind {
    Kind::Map {
        keys,
        values: Box::new(values),
        min_entries: 0,
        max_entries: Some(max_entries),
    }
}

pub(super) fn entity_keys() -> Kind {
    list(Kind::EntityKey).min(1).max(MAX_ENTITIES).unique()
}

/// Declared outputs of a code or service node: `[{name, type}]`.
pub(super) fn outputs() -> Kind {
    list(object(vec![
        param("name", "Name", identifier()).required(),
        param("type", "Type", one_of(OUTPUT_TYPES)).required(),
    ]))
    .max(50)
    .unique_by("name")
}
