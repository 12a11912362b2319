//! Rhai's errors as messages for the user who wrote the script.
//!
//! The forms are:
//! - `script syntax error at line 2, position 5: Expecting ')' ...`
//! - `script error at line 3, position 9: Variable not found: x`, followed by
//!   `, in function `f` called at line 7, position 1` for each script function the error
//!   went through, innermost first;
//! - for a broken limit, what the script did too much of, then where it was stopped:
//!   `script used more than 1000000 operations (stopped at line 1, position 12)`.

use std::fmt::Write;

use rhai::{EvalAltResult, ParseError, Position};
use weir_workflow::engine::NodeError;

use crate::{ScriptLimits, audit};

/// What `on_progress` answers when the deadline passed; Rhai hands it back inside
/// `ErrorTerminated`.
pub(crate) const PAST_DEADLINE: &str = "weir: past the deadline";

pub(crate) fn syntax_error(error: &ParseError) -> NodeError {
    let ParseError(kind, position) = error;
    NodeError::new(format!(
        "script syntax error{}: {kind}",
        at(" at ", *position)
    ))
}

pub(crate) fn time_limit() -> NodeError {
    NodeError::new("script ran past its time limit")
}

pub(crate) fn runtime_error(error: &EvalAltResult, limits: &ScriptLimits) -> NodeError {
    // Peel the calls of script functions off, innermost last.
    let mut calls = Vec::new();
    let mut error = error;
    while let EvalAltResult::ErrorInFunctionCall(name, _, inner, position) = error {
        calls.push((name.as_str(), *position));
        error = inner;
    }
    let mut message = describe(error, limits);
    for (name, position) in calls.iter().rev() {
        // Rhai names anonymous functions `anon$<hash>`.
        if name.starts_with("anon$") {
            let _ = write!(
                message,
                ", in an anonymous function called{}",
                at(" at ", *position)
            );
        } else {
            let _ = write!(
                message,
                ", in function `{name}` called{}",
                at(" at ", *position)
            );
        }
    }
    NodeError::new(message)
}

fn describe(error: &EvalAltResult, limits: &ScriptLimits) -> String {
    let stopped = match at("stopped at ", error.position()) {
        place if place.is_empty() => place,
        place => format!(" ({place})"),
    };
    match error {
        EvalAltResult::ErrorParsing(kind, position) => {
            format!("script syntax error{}: {kind}", at(" at ", *position))
        }
        EvalAltResult::ErrorTooManyOperations(_) => format!(
            "script used more than {} operations{stopped}",
            limits.max_operations
        ),
        EvalAltResult::ErrorTerminated(token, _)
            if token
                .clone()
                .into_string()
                .is_ok_and(|token| token == PAST_DEADLINE) =>
        {
            format!("script ran past its time limit{stopped}")
        }
        EvalAltResult::ErrorStackOverflow(_) => format!(
            "script called functions more than {} levels deep{stopped}",
            limits.max_call_levels
        ),
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            let total = |limit: usize| limit.saturating_mul(audit::TOTAL_FACTOR);
            let what = match what.as_str() {
                audit::STRING => {
                    format!("made a string longer than {} bytes", limits.max_string_size)
                }
                audit::ARRAY => format!(
                    "made an array or BLOB of more than {} items, counting nested ones",
                    limits.max_array_size
                ),
                audit::MAP => format!(
                    "made an object map of more than {} members, counting nested ones",
                    limits.max_map_size
                ),
                audit::TOTAL_STRINGS => format!(
                    "holds strings of more than {} bytes in all its variables",
                    total(limits.max_string_size)
                ),
                audit::TOTAL_ARRAYS => format!(
                    "holds more than {} array or BLOB items in all its variables",
                    total(limits.max_array_size)
                ),
                audit::TOTAL_MAPS => format!(
                    "holds more than {} object map members in all its variables",
                    total(limits.max_map_size)
                ),
                other => format!("made a value too large: {other}"),
            };
            format!("script {what}{stopped}")
        }
        EvalAltResult::ErrorRuntime(value, position) if !value.is_unit() => {
            // `throw "..."`: the script's own message.
            format!("script error{}: {value}", at(" at ", *position))
        }
        other => {
            // Rhai's message without the ` (line 2, position 5)` it ends with.
            let position = other.position();
            let text = other.to_string();
            let suffix = format!(" ({position})");
            let text = match text.strip_suffix(&suffix) {
                Some(text) if !position.is_none() => text,
                _ => &text,
            };
            format!("script error{}: {text}", at(" at ", position))
        }
    }
}

/// `{prefix}line 2, position 5`, or nothing for an unknown position.
fn at(prefix: &str, position: Position) -> String {
    match (position.line(), position.position()) {
        (Some(line), Some(column)) => format!("{prefix}line {line}, position {column}"),
        (Some(line), None) => format!("{prefix}line {line}"),
        _ => String::new(),
    }
}
