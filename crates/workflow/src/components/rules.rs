//! Rules across parameters, which one parameter's schema cannot say.

use std::collections::HashSet;

use serde_json::{Map, Value as Json};

use super::*;

// ---------------------------------------------------------------------------------------
// Rules across parameters.

pub(super) fn timer_rules(parameters: &Map<String, Json>, out: &mut Vec<FieldProblem>) {
    let settings = &parameters["timerSettings"];
    let has = |name: &str| settings.get(name).is_some_and(|v| !v.is_null());
    let at = |name: &str| format!("parameters.timerSettings.{name}");
    let mut need = |name: &str, why: &str| {
        if !has(name) {
            out.push(FieldProblem {
                field: at(name),
                missing: true,
                message: format!("is required {why}"),
            });
        }
    };
    match settings["type"].as_str() {
        Some("ONCE") => need("executionEpochSecond", "for a ONCE timer"),
        Some("INTERVAL") => {
            need("intervalTime", "for an INTERVAL timer");
            need("intervalTimeUnit", "for an INTERVAL timer");
        }
        Some("SCHEDULE") if settings["rules"].as_array().is_none_or(Vec::is_empty) => {
            out.push(FieldProblem {
                field: at("rules"),
                missing: true,
                message: "needs at least one rule for a SCHEDULE timer".into(),
            });
        }
        _ => {}
    }
}

pub(super) fn choice_rules(parameters: &Map<String, Json>, out: &mut Vec<FieldProblem>) {
    let choice = &parameters["choice"];
    let when = choice["when"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    for (i, branch) in when.iter().enumerate() {
        let expression_type = branch["expressionType"].as_str().unwrap_or("condition");
        let conditions = branch["conditions"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for (j, condition) in conditions.iter().enumerate() {
            let at = format!("parameters.choice.when[{i}].conditions[{j}].expressionValue");
            let value = &condition["expressionValue"];
            if expression_type != "condition" {
                if value.as_str().is_none_or(|s| s.trim().is_empty()) {
                    out.push(FieldProblem::invalid(
                        at,
                        format!("must be a {expression_type} script returning a boolean"),
                    ));
                }
                continue;
            }
            let Some(expression) = value.as_object() else {
                out.push(FieldProblem::invalid(
                    at,
                    format!(
                        "must be an object {{key, operator, value}}, not {}",
                        type_name(value)
                    ),
                ));
                continue;
            };
            let fields = [
                param("key", "Value", string(512)).required(),
                param("operator", "Operator", one_of(OPERATORS)).required(),
                param("value", "Compared with", Kind::Scalar),
            ];
            let before = out.len();
            check_fields(&fields, expression, &at, out);
            let unary = expression["operator"]
                .as_str()
                .is_some_and(|op| UNARY_OPERATORS.contains(&op));
            let has_value = expression.get("value").is_some_and(|v| !v.is_null());
            if out.len() == before && !unary && !has_value {
                out.push(FieldProblem::missing(format!("{at}.value")));
            }
        }
    }
    // Branch ids are what edges name: they must be unique within the node.
    let mut seen = HashSet::new();
    let ids = when
        .iter()
        .enumerate()
        .map(|(i, b)| (format!("parameters.choice.when[{i}].id"), &b["id"]))
        .chain(std::iter::once((
            "parameters.choice.otherwise.id".to_string(),
            &choice["otherwise"]["id"],
        )));
    for (at, id) in ids {
        if let Some(id) = id.as_str()
            && !seen.insert(id)
        {
            out.push(FieldProblem::invalid(
                at,
                format!("the branch id \"{}\" is used twice", clip(id)),
            ));
        }
    }
}

pub(super) fn email_rules(parameters: &Map<String, Json>, out: &mut Vec<FieldProblem>) {
    let config = &parameters["emailConfig"];
    if config["useSystemSettings"].as_bool() == Some(true) {
        return;
    }
    if config.get("smtpConfig").is_none_or(Json::is_null) {
        out.push(FieldProblem {
            field: "parameters.emailConfig.smtpConfig".into(),
            missing: true,
            message: "is required unless useSystemSettings is true".into(),
        });
    }
}
