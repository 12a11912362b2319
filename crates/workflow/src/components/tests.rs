use serde_json::json;

use super::*;

fn check(component: &str, parameters: Json) -> Vec<FieldProblem> {
    let component = catalogue().get(component).expect("known component");
    component.check(parameters.as_object())
}

fn fields(problems: &[FieldProblem]) -> Vec<&str> {
    problems.iter().map(|p| p.field.as_str()).collect()
}

#[test]
fn the_catalogue_has_the_twelve_kinds_in_four_groups() {
    let c = catalogue();
    let names: Vec<&str> = c.all().iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "trigger",
            "eventListener",
            "simpleTimer",
            "httpIn",
            "choice",
            "entitySelector",
            "entityAssigner",
            "serviceInvocation",
            "code",
            "webhook",
            "email",
            "output"
        ]
    );
    let g = c.grouped();
    assert_eq!(g.entry.len(), 4);
    assert_eq!(g.control.len(), 1);
    assert_eq!(g.action.len(), 4);
    assert_eq!(g.external.len(), 3);
    assert!(c.get("eventListener").unwrap().is_entry());
    assert!(c.get("nope").is_none());
}

#[test]
fn the_catalogue_serialises_by_group_with_typed_schemas() {
    let json = serde_json::to_value(catalogue().grouped()).unwrap();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4);
    let timer = &json["entry"][2];
    assert_eq!(timer["name"], "simpleTimer");
    assert_eq!(timer["group"], "entry");
    let settings = &timer["parameters"][0];
    assert_eq!(settings["name"], "timerSettings");
    assert_eq!(settings["type"], "object");
    assert_eq!(settings["required"], true);
    let ty = &settings["fields"][0];
    assert_eq!(ty["type"], "enum");
    assert_eq!(ty["values"], json!(["ONCE", "SCHEDULE", "INTERVAL"]));
    let interval = &settings["fields"][3];
    assert_eq!(interval["name"], "intervalTime");
    assert_eq!(interval["type"], "integer");
    assert_eq!(interval["minimum"], 1);
    assert!(interval.get("maximum").is_none());

    let listener = &json["entry"][1]["parameters"][0];
    assert_eq!(
        listener,
        &json!({
            "name": "entities", "title": "Entities",
            "description": "The entities whose new values start the flow.",
            "required": true, "type": "list", "items": {"type": "entityKey"},
            "minItems": 1, "maxItems": 200, "uniqueItems": true
        })
    );
    let assigner = &json["action"][1]["parameters"][0];
    assert_eq!(assigner["type"], "map");
    assert_eq!(assigner["keys"], "entityKey");
    assert_eq!(assigner["values"], json!({"type": "scalar"}));
    let webhook = &json["external"][0]["parameters"];
    assert_eq!(webhook[0]["format"], "url");
    assert_eq!(webhook[3]["default"], 10);
}

#[test]
fn required_parameters_must_be_present_not_null_and_not_blank() {
    let p = check("webhook", json!({}));
    assert_eq!(fields(&p), ["parameters.webhookUrl"]);
    assert!(p[0].missing);
    assert_eq!(p[0].message, "is required");
    let p = check("webhook", json!({"webhookUrl": null}));
    assert!(p[0].missing);
    let p = check("webhook", json!({"webhookUrl": "  "}));
    assert!(p[0].missing);
    // Absent parameters as a whole count as empty.
    let p = catalogue().get("httpIn").unwrap().check(None);
    assert_eq!(fields(&p), ["parameters.method", "parameters.url"]);
    // Nested required members name their full path.
    let p = check("code", json!({"expression": {"language": "rhai"}}));
    assert_eq!(fields(&p), ["parameters.expression.expression"]);
}

#[test]
fn mistyped_parameters_say_what_was_expected() {
    let p = check("webhook", json!({"webhookUrl": 5}));
    assert_eq!(p[0].message, "must be a string, not a number");
    assert!(!p[0].missing);
    let p = check("webhook", json!({"webhookUrl": "ftp://x"}));
    assert!(
        p[0].message.contains("not an http:// or https:// URL"),
        "{p:?}"
    );
    let p = check(
        "webhook",
        json!({"webhookUrl": "https://h/x", "timeoutSeconds": 0}),
    );
    assert_eq!(fields(&p), ["parameters.timeoutSeconds"]);
    assert_eq!(p[0].message, "must be at least 1, not 0");
    let p = check("httpIn", json!({"method": "PATCH", "url": "a"}));
    assert_eq!(
        p[0].message,
        "must be one of POST, GET, PUT, DELETE, not \"PATCH\""
    );
    let p = check("eventListener", json!({"entities": "demo.device.d1.t"}));
    assert_eq!(p[0].message, "must be a list, not a string");
    let p = check("eventListener", json!({"entities": []}));
    assert_eq!(p[0].message, "must not be empty");
    let p = check(
        "eventListener",
        json!({"entities": ["demo.device.d1.t", "bad key"]}),
    );
    assert_eq!(fields(&p), ["parameters.entities[1]"]);
    assert_eq!(p[0].message, "`bad key` is not an entity key");
    let p = check(
        "eventListener",
        json!({"entities": ["demo.device.d1.t", "demo.device.d1.t"]}),
    );
    assert_eq!(fields(&p), ["parameters.entities[1]"]);
    assert!(p[0].message.starts_with("repeats"));
}

#[test]
fn map_keys_and_values_are_checked_with_their_path() {
    let p = check("entityAssigner", json!({"exchangePayload": {}}));
    assert_eq!(p[0].message, "must not be empty");
    let p = check(
        "entityAssigner",
        json!({"exchangePayload": {"demo.device.d1.power": {"on": true}, "nope": 1}}),
    );
    assert_eq!(
        fields(&p),
        [
            "parameters.exchangePayload[\"demo.device.d1.power\"]",
            "parameters.exchangePayload[\"nope\"]"
        ]
    );
    assert_eq!(
        p[0].message,
        "must be a string, number or boolean, not an object"
    );
    assert_eq!(p[1].message, "`nope` is not an entity key");
    assert!(check(
        "entityAssigner",
        json!({"exchangePayload": {"demo.device.d1.power": true, "x.integration.mode": "{{n1.mode}}"}})
    )
    .is_empty());
    let p = check(
        "code",
        json!({"expression": {"language": "rhai", "expression": "return {}"},
               "inputArguments": {"has space": 1}}),
    );
    assert!(p[0].message.contains("is not an identifier"), "{p:?}");
}

#[test]
fn entity_keys_follow_weirs_shape() {
    for ok in [
        "demo.device.d1.temperature",
        "demo.device.d1.settings.mode",
        "mqtt-device.integration.add_device",
        "a:b.integration.x.y",
    ] {
        assert!(is_entity_key(ok), "{ok}");
    }
    for bad in [
        "",
        "demo",
        "demo.device.d1",
        "demo.device.d1.a.b.c",
        "demo.thing.d1.t",
        "demo..d1.t",
        "demo.device.d 1.t",
        "demo.integration.a.b.c",
    ] {
        assert!(!is_entity_key(bad), "{bad}");
    }
}

#[test]
fn integers_accept_the_consoles_numeric_strings() {
    let settings = |interval: Json| {
        json!({"timerSettings": {"type": "INTERVAL", "intervalTime": interval,
                                 "intervalTimeUnit": "MINUTES"}})
    };
    assert!(check("simpleTimer", settings(json!(5))).is_empty());
    assert!(check("simpleTimer", settings(json!("5"))).is_empty());
    assert!(check("simpleTimer", settings(json!(5.0))).is_empty());
    let p = check("simpleTimer", settings(json!(5.5)));
    assert_eq!(p[0].message, "must be an integer, not 5.5");
    let p = check("simpleTimer", settings(json!("five")));
    assert_eq!(p[0].message, "must be an integer, not \"five\"");
}

#[test]
fn timers_need_the_settings_of_their_type() {
    let p = check("simpleTimer", json!({"timerSettings": {"type": "ONCE"}}));
    assert_eq!(
        fields(&p),
        ["parameters.timerSettings.executionEpochSecond"]
    );
    assert_eq!(p[0].message, "is required for a ONCE timer");
    assert!(p[0].missing);
    let p = check(
        "simpleTimer",
        json!({"timerSettings": {"type": "INTERVAL"}}),
    );
    assert_eq!(
        fields(&p),
        [
            "parameters.timerSettings.intervalTime",
            "parameters.timerSettings.intervalTimeUnit"
        ]
    );
    let p = check(
        "simpleTimer",
        json!({"timerSettings": {"type": "SCHEDULE", "rules": []}}),
    );
    assert_eq!(fields(&p), ["parameters.timerSettings.rules"]);
    let p = check(
        "simpleTimer",
        json!({"timerSettings": {"type": "SCHEDULE", "timezone": "Europe/Paris",
               "rules": [{"hour": 24, "minute": 0}]}}),
    );
    assert_eq!(fields(&p), ["parameters.timerSettings.rules[0].hour"]);
    assert!(
        check(
            "simpleTimer",
            json!({"timerSettings": {"type": "SCHEDULE", "timezone": "Europe/Paris",
               "rules": [{"hour": 7, "minute": 30, "daysOfWeek": ["WEEKDAY"]}]}}),
        )
        .is_empty()
    );
    let p = check("simpleTimer", json!({"timerSettings": {"type": "CRON"}}));
    assert_eq!(fields(&p), ["parameters.timerSettings.type"]);
}

#[test]
fn http_in_paths_are_plain_segments_or_variables() {
    for ok in [
        "orders",
        "/orders/{id}",
        "a-b/c_d/e.f~g",
        "{tenant}/{device}",
    ] {
        assert!(
            check("httpIn", json!({"method": "POST", "url": ok})).is_empty(),
            "{ok}"
        );
    }
    for bad in [
        "/",
        "a//b",
        "a/../b",
        "a?b=1",
        "a b",
        "{bad name}",
        "{id}/{id}",
    ] {
        let p = check("httpIn", json!({"method": "POST", "url": bad}));
        assert_eq!(fields(&p), ["parameters.url"], "{bad}");
    }
}

fn choice(when: Json) -> Json {
    json!({"choice": {"when": when, "otherwise": {"id": "else"}}})
}

#[test]
fn choice_conditions_are_comparisons_or_scripts() {
    let good = choice(json!([
        {"id": "hot", "logicOperator": "AND", "expressionType": "condition", "conditions": [
            {"id": "c1", "expressionValue": {"key": "{{n1.temperature}}", "operator": "GT", "value": 30}},
            {"id": "c2", "expressionValue": {"key": "{{n1.mode}}", "operator": "IS_NOT_EMPTY"}}
        ]},
        {"id": "script", "logicOperator": "OR", "expressionType": "rhai",
         "conditions": [{"id": "c3", "expressionValue": "temperature > 10"}]}
    ]));
    assert_eq!(check("choice", good), []);

    let p = check(
        "choice",
        choice(json!([{"id": "b", "conditions": [
            {"expressionValue": {"key": "k", "operator": "GT"}},
            {"expressionValue": {"key": "k", "operator": "ABOUT", "value": 1}},
            {"expressionValue": "x > 1"}
        ]}])),
    );
    assert_eq!(
        fields(&p),
        [
            "parameters.choice.when[0].conditions[0].expressionValue.value",
            "parameters.choice.when[0].conditions[1].expressionValue.operator",
            "parameters.choice.when[0].conditions[2].expressionValue"
        ]
    );
    assert!(p[0].missing);

    let p = check(
        "choice",
        choice(json!([{"id": "b", "expressionType": "rhai",
                       "conditions": [{"expressionValue": {"key": "k"}}]}])),
    );
    assert_eq!(p[0].message, "must be a rhai script returning a boolean");

    let p = check("choice", choice(json!([])));
    assert_eq!(fields(&p), ["parameters.choice.when"]);
    let p = check("choice", choice(json!([{"id": "b", "conditions": []}])));
    assert_eq!(fields(&p), ["parameters.choice.when[0].conditions"]);
}

#[test]
fn choice_branch_ids_are_unique_and_listed() {
    let cond = json!([{"expressionValue": {"key": "k", "operator": "IS_EMPTY"}}]);
    let params = choice(json!([
        {"id": "a", "conditions": cond}, {"id": "b", "conditions": cond}
    ]));
    assert_eq!(choice_branches(params.as_object()), ["a", "b", "else"]);
    let p = check(
        "choice",
        choice(json!([{"id": "a", "conditions": cond}, {"id": "else", "conditions": cond}])),
    );
    assert_eq!(fields(&p), ["parameters.choice.otherwise.id"]);
    assert_eq!(p[0].message, "the branch id \"else\" is used twice");
    assert!(choice_branches(None).is_empty());
}

#[test]
fn email_needs_a_server_and_valid_recipients() {
    let base = |config: Json, recipients: Json| json!({"emailConfig": config, "recipients": recipients, "subject": "Alarm"});
    assert!(
        check(
            "email",
            base(
                json!({"useSystemSettings": true}),
                json!(["ops@example.com"])
            )
        )
        .is_empty()
    );
    let smtp = json!({"provider": "SMTP", "smtpConfig":
        {"host": "smtp.example.com", "port": "587", "encryption": "STARTTLS",
         "username": "u", "password": "p"}});
    assert!(check("email", base(smtp, json!(["ops@example.com"]))).is_empty());
    let p = check("email", base(json!({}), json!(["ops@example.com"])));
    assert_eq!(fields(&p), ["parameters.emailConfig.smtpConfig"]);
    let p = check(
        "email",
        base(
            json!({"useSystemSettings": true}),
            json!(["ops@example.com", "nobody"]),
        ),
    );
    assert_eq!(fields(&p), ["parameters.recipients[1]"]);
    assert_eq!(p[0].message, "`nobody` is not an email address");
    let p = check(
        "email",
        base(
            json!({"provider": "google", "useSystemSettings": true}),
            json!(["a@b.c"]),
        ),
    );
    assert_eq!(fields(&p), ["parameters.emailConfig.provider"]);
}

#[test]
fn unknown_parameters_are_tolerated() {
    assert!(
        check(
            "entitySelector",
            json!({"entities": ["demo.device.d1.t"], "entityData": {"keys": []}, "$x": 1})
        )
        .is_empty()
    );
    assert!(check("output", json!({})).is_empty());
    assert!(check("trigger", json!({})).is_empty());
}

#[test]
fn declared_outputs_have_unique_names() {
    let p = check(
        "code",
        json!({"expression": {"language": "rhai", "expression": "return {a: 1}"},
               "payload": [{"name": "a", "type": "LONG"}, {"name": "a", "type": "STRING"}]}),
    );
    assert_eq!(fields(&p), ["parameters.payload[1].name"]);
    let p = check(
        "trigger",
        json!({"entityConfigs": [{"identify": "t", "name": "T", "type": "FLOAT"}]}),
    );
    assert_eq!(fields(&p), ["parameters.entityConfigs[0].type"]);
}

#[test]
fn every_parameter_is_a_field_of_the_console_form() {
    for c in catalogue().all() {
        let form = serde_json::to_value(c.form()).unwrap();
        let mut fields: Vec<&str> = form["properties"]
            .as_object()
            .unwrap()
            .keys()
            .chain(form["outputProperties"].as_object().unwrap().keys())
            .map(String::as_str)
            .collect();
        fields.sort_unstable();
        let mut names: Vec<&str> = c.parameters.iter().map(|p| p.name).collect();
        names.sort_unstable();
        assert_eq!(fields, names, "{}", c.name);
    }
    let listed = serde_json::to_value(catalogue().grouped()).unwrap();
    let code = &listed["action"][3];
    assert_eq!(code["name"], "code");
    let form: Json = serde_json::from_str(code["data"].as_str().unwrap()).unwrap();
    assert_eq!(
        form["properties"]["expression"]["uiComponent"],
        "codeEditor"
    );
    assert_eq!(form["outputProperties"]["payload"]["editable"], true);
    assert_eq!(form["component"]["type"], "action");
}
