//! JavaScript scripts, run by [QuickJS](https://github.com/quickjs-ng/quickjs) through
//! `rquickjs`: the console's default language for `code` nodes.
//!
//! # The sandbox
//!
//! Every run gets a runtime and a context of its own, made for it and dropped after it, so
//! nothing one run does (globals it sets, prototypes it changes) is seen by another. The
//! context has the language and a few built-in objects (`Date`, `RegExp`, `JSON`, `Map`
//! and `Set`, `Promise`), nothing else:
//! - no files, network, processes or timers: QuickJS's `std` and `os` modules are not built
//!   in, and there is no `console`, `print`, `require`, `fetch` or `setTimeout`;
//! - no modules: `import` is a syntax error in a script, and there is no module loader, so
//!   `import()` fails;
//! - no `eval` and no `Function` constructor: both are removed before the script runs
//!   (`eval` from the global object, `constructor` from the prototypes of plain, generator
//!   and async functions), so what runs is the script's own text;
//! - bounds ([`ScriptLimits`]): QuickJS calls an interrupt handler about every
//!   [`OPERATIONS_PER_CHECK`] jumps and calls; it stops the run past the caller's deadline or
//!   once it has been called `max_operations / OPERATIONS_PER_CHECK` times (at least once).
//!   The run's memory is capped at [`ScriptLimits::js_memory_limit`] (strings, arrays,
//!   objects, the compiled script), its cycle collector runs at every eighth of that, and
//!   its stack at [`ScriptLimits::js_stack_size`] (deep recursion is a `RangeError`, never
//!   a crash). The run happens on the same large stack as Rhai's.
//!
//! # What a script sees and gives back
//!
//! As for Rhai: every variable is a global of its own name when that name is an identifier
//! (see [`crate::is_identifier`]) and not one of the built-in globals (`Math`, `JSON`, ...),
//! and all of them are members of `msg`; the two are independent copies.
//!
//! A script is a function body or an expression: `return {result: arg1 + arg2};` (the
//! console's template) answers what it returns, and `a > 1` or `let x = 2; x * a` answers
//! the value of its last statement, as QuickJS's `eval` does. The value becomes JSON:
//! `undefined` and `null` are `null`, a number is an integer when it is one, an array an
//! array, and any other object its own enumerable members (those whose value is `undefined`
//! left out, as `JSON.stringify` does). A NaN or infinite number, a function, a symbol or a
//! BigInt is an error saying where it is, as is a value nested more than
//! [`crate::convert::MAX_RESULT_DEPTH`] levels deep.
//!
//! Compiled scripts are not cached: a context lives for one run only.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use rquickjs::context::intrinsic;
use rquickjs::{Context, Ctx, Object, Runtime, Type, Value};
use serde_json::{Map, Number, Value as Json};
use weir_workflow::engine::NodeError;

use crate::ScriptLimits;
use crate::convert::MAX_RESULT_DEPTH;

/// The language name of JavaScript, as the console writes it.
pub const JS: &str = "js";

/// About how many jumps and calls QuickJS runs between two calls of the interrupt handler
/// (its `JS_INTERRUPT_COUNTER_INIT`): what one call counts for against
/// [`ScriptLimits::max_operations`].
pub const OPERATIONS_PER_CHECK: u64 = 10_000;

/// The built-in objects a context has besides the base ones (`Object`, `Array`, `Math`,
/// errors, ...). `Eval` lets the adapter compile the script; the global `eval` and the
/// `Function` constructor are removed by [`LOCK_DOWN`] before it runs.
type Intrinsics = (
    intrinsic::Date,
    intrinsic::Eval,
    intrinsic::RegExpCompiler,
    intrinsic::RegExp,
    intrinsic::Json,
    intrinsic::MapSet,
    intrinsic::Promise,
);

/// Run in every context before the script: takes away what compiles code at run time.
const LOCK_DOWN: &str = r#"(function () {
  "use strict";
  const protos = [
    Function.prototype,
    Object.getPrototypeOf(function* () {}),
    Object.getPrototypeOf(async function () {}),
    Object.getPrototypeOf(async function* () {}),
  ];
  for (const proto of protos) {
    Object.defineProperty(proto, "constructor", {
      value: undefined, writable: false, enumerable: false, configurable: false,
    });
  }
  delete globalThis.eval;
  delete globalThis.Function;
})();"#;

/// Why the interrupt handler stopped a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Running,
    PastDeadline,
    TooManyOperations,
}

/// Runs one JavaScript script: a fresh runtime and context, bound variables, the value as
/// JSON. Call it on the stack the run may use (the runtime records where it starts).
///
/// Also answers about how many operations the run performed (see [`OPERATIONS_PER_CHECK`]),
/// `u64::MAX` when it ran out of stack: whether the stack it ran on may have been touched
/// deep, for [`crate::stack`].
pub(crate) fn run(
    script: &str,
    variables: &Map<String, Json>,
    deadline: Instant,
    limits: &ScriptLimits,
) -> (Result<Json, NodeError>, u64) {
    let checks = Rc::new(Cell::new(0_u64));
    let answer = run_counted(script, variables, deadline, limits, &checks);
    let operations = match &answer {
        Err(error) if error.0.starts_with(TOO_DEEP) => u64::MAX,
        _ => checks.get().saturating_mul(OPERATIONS_PER_CHECK),
    };
    (answer, operations)
}

/// What the message of a run out of stack starts with.
const TOO_DEEP: &str = "script called functions too deep";

fn run_counted(
    script: &str,
    variables: &Map<String, Json>,
    deadline: Instant,
    limits: &ScriptLimits,
    counted: &Rc<Cell<u64>>,
) -> Result<Json, NodeError> {
    if Instant::now() >= deadline {
        return Err(crate::errors::time_limit());
    }
    let runtime = Runtime::new().map_err(|error| setup_error(&error))?;
    runtime.set_memory_limit(limits.js_memory_limit);
    runtime.set_gc_threshold((limits.js_memory_limit / 8).max(256 * 1024));
    runtime.set_max_stack_size(js_stack(limits));
    let stop = Rc::new(Cell::new(Stop::Running));
    let checks_allowed = if limits.max_operations == 0 {
        u64::MAX
    } else {
        (limits.max_operations / OPERATIONS_PER_CHECK).max(1)
    };
    runtime.set_interrupt_handler(Some(Box::new({
        let stop = Rc::clone(&stop);
        let counted = Rc::clone(counted);
        let mut checks = 0_u64;
        move || {
            checks += 1;
            counted.set(checks);
            if Instant::now() >= deadline {
                stop.set(Stop::PastDeadline);
            } else if checks > checks_allowed {
                stop.set(Stop::TooManyOperations);
            }
            stop.get() != Stop::Running
        }
    })));
    let context = Context::custom::<Intrinsics>(&runtime).map_err(|error| setup_error(&error))?;
    let answer = context.with(|ctx| {
        ctx.eval::<(), _>(LOCK_DOWN)
            .map_err(|_| NodeError::new("could not prepare the script's context"))?;
        bind(&ctx, variables)?;
        let value = evaluate(&ctx, script).map_err(|()| exception(&ctx, stop.get(), limits))?;
        to_json(&value, 0).map_err(|error| NodeError::new(error.message()))
    });
    // Out of memory, QuickJS may not manage to make an error object and throws `null`:
    // the memory in use tells.
    let answer = match answer {
        Err(error) if error.0 == THREW_NOTHING => {
            let used = usize::try_from(runtime.memory_usage().malloc_size).unwrap_or(0);
            if limits.js_memory_limit > 0 && used >= limits.js_memory_limit / 10 * 9 {
                Err(out_of_memory(limits))
            } else {
                Err(error)
            }
        }
        other => other,
    };
    // The handler holds `stop`; drop it before the runtime goes.
    runtime.set_interrupt_handler(None);
    answer
}

/// The message of a script that threw `null` or `undefined`.
const THREW_NOTHING: &str = "script error: threw nothing";

fn out_of_memory(limits: &ScriptLimits) -> NodeError {
    NodeError::new(format!(
        "script used more than {} bytes of memory",
        limits.js_memory_limit
    ))
}

/// The JS stack limit: [`ScriptLimits::js_stack_size`], and at most half the stack a run
/// has, so that QuickJS's own check comes first.
fn js_stack(limits: &ScriptLimits) -> usize {
    if limits.stack_size == 0 {
        limits.js_stack_size
    } else {
        limits.js_stack_size.min(limits.stack_size / 2)
    }
}

fn setup_error(error: &rquickjs::Error) -> NodeError {
    NodeError::new(format!("could not start the JavaScript engine: {error}"))
}

/// Every variable as a global of its name (an identifier that names no built-in), all of
/// them in `msg`.
fn bind(ctx: &Ctx<'_>, variables: &Map<String, Json>) -> Result<(), NodeError> {
    let globals = ctx.globals();
    let parse = |what: &str, json: String| {
        ctx.json_parse(json).map_err(|_| {
            NodeError::new(format!("{what} cannot be given to the script (too large?)"))
        })
    };
    for (name, value) in variables {
        if name == "msg" || !crate::is_identifier(name) {
            continue;
        }
        if globals.contains_key(name.as_str()).unwrap_or(true) {
            continue;
        }
        let value = parse(&format!("variable `{name}`"), value.to_string())?;
        globals
            .set(name.as_str(), value)
            .map_err(|_| NodeError::new(format!("variable `{name}` cannot be bound")))?;
    }
    let msg = parse("the message", Json::Object(variables.clone()).to_string())?;
    globals
        .set("msg", msg)
        .map_err(|_| NodeError::new("the message cannot be bound"))
}

/// The script's value: evaluated as a script (its last statement's value), or, when it
/// `return`s at the top level, as the body of a function. `Err` leaves the exception
/// pending.
fn evaluate<'js>(ctx: &Ctx<'js>, script: &str) -> Result<Value<'js>, ()> {
    match ctx.eval::<Value, _>(script) {
        Ok(value) => Ok(value),
        Err(_) => {
            let exception = ctx.catch();
            let top_level_return = exception.as_exception().is_some_and(|e| {
                e.message()
                    .is_some_and(|m| m.contains("return not in a function"))
            });
            if !top_level_return {
                // Throw it back so that the caller reads it.
                let _ = ctx.throw(exception);
                return Err(());
            }
            // On the first line, so that line numbers stay the script's.
            let body = format!("(function () {{{script}\n}})()");
            ctx.eval::<Value, _>(body).map_err(|_| ())
        }
    }
}

/// The pending exception as the message users read: a broken limit says which, an error
/// says where (`script error at line 3, position 9: TypeError: ...`).
fn exception(ctx: &Ctx<'_>, stop: Stop, limits: &ScriptLimits) -> NodeError {
    let thrown = ctx.catch();
    match stop {
        Stop::PastDeadline => return NodeError::new("script ran past its time limit"),
        Stop::TooManyOperations => {
            return NodeError::new(format!(
                "script used more than {} operations",
                limits.max_operations
            ));
        }
        Stop::Running => {}
    }
    if thrown.is_null() || thrown.is_undefined() {
        return NodeError::new(THREW_NOTHING);
    }
    let Some(error) = thrown.as_exception() else {
        // `throw "..."` or another value: the script's own message.
        let text = thrown
            .as_string()
            .and_then(|s| s.to_string().ok())
            .unwrap_or_else(|| {
                ctx.json_stringify(thrown.clone())
                    .ok()
                    .flatten()
                    .and_then(|s| s.to_string().ok())
                    .unwrap_or_else(|| thrown.type_name().to_owned())
            });
        return NodeError::new(format!("script error: {text}"));
    };
    let message = error.message().unwrap_or_default();
    let name: String = error
        .get::<_, Option<String>>("name")
        .ok()
        .flatten()
        .unwrap_or_else(|| "Error".to_owned());
    if message == "out of memory" {
        return out_of_memory(limits);
    }
    if name == "RangeError" && message.contains("call stack size exceeded") {
        return NodeError::new(format!(
            "{TOO_DEEP}: more than {} bytes of stack",
            js_stack(limits)
        ));
    }
    let place = error
        .stack()
        .as_deref()
        .and_then(position)
        .unwrap_or_default();
    if name == "SyntaxError" {
        return NodeError::new(format!("script syntax error{place}: {message}"));
    }
    NodeError::new(format!("script error{place}: {name}: {message}"))
}

/// ` at line 3, position 9` from the first frame of a stack (`    at <eval> (eval_script:3:9)`).
fn position(stack: &str) -> Option<String> {
    let start = stack.find("eval_script:")? + "eval_script:".len();
    let rest = &stack[start..];
    let end = rest.find(')').unwrap_or(rest.len());
    let mut parts = rest[..end].split(':');
    let line: u32 = parts.next()?.trim().parse().ok()?;
    match parts
        .next()
        .and_then(|column| column.trim().parse::<u32>().ok())
    {
        Some(column) => Some(format!(" at line {line}, position {column}")),
        None => Some(format!(" at line {line}")),
    }
}

/// Why a result is not JSON, with where (innermost segment first).
struct NotJson {
    path: Vec<String>,
    reason: String,
}

impl NotJson {
    fn new(reason: impl Into<String>) -> Self {
        Self {
            path: Vec::new(),
            reason: reason.into(),
        }
    }

    fn within(mut self, segment: String) -> Self {
        self.path.push(segment);
        self
    }

    fn message(&self) -> String {
        let path: String = self.path.iter().rev().map(String::as_str).collect();
        format!("script result{path} {}", self.reason)
    }
}

fn to_json(value: &Value<'_>, depth: usize) -> Result<Json, NotJson> {
    match value.type_of() {
        Type::Uninitialized | Type::Undefined | Type::Null => Ok(Json::Null),
        Type::Bool => Ok(Json::Bool(value.as_bool().unwrap_or_default())),
        Type::Int => Ok(Json::from(value.as_int().unwrap_or_default())),
        Type::Float => {
            let float = value.as_float().unwrap_or(f64::NAN);
            if float.fract() == 0.0 && float.abs() < 9_007_199_254_740_992.0 {
                // A whole number within the exact range: an integer, as JSON.stringify
                // writes it. The range check makes the cast exact.
                #[allow(clippy::cast_possible_truncation)]
                return Ok(Json::from(float as i64));
            }
            Number::from_f64(float)
                .map(Json::Number)
                .ok_or_else(|| NotJson::new(format!("is {float}, which is not a JSON number")))
        }
        Type::String => value
            .as_string()
            .and_then(|s| s.to_string().ok())
            .map(Json::String)
            .ok_or_else(|| NotJson::new("is a string that cannot be read")),
        Type::Array | Type::Object | Type::Exception | Type::Promise | Type::Proxy => {
            if depth >= MAX_RESULT_DEPTH {
                return Err(NotJson::new(format!(
                    "is nested more than {MAX_RESULT_DEPTH} levels deep"
                )));
            }
            if let Some(array) = value.as_array() {
                let mut items = Vec::with_capacity(array.len());
                for index in 0..array.len() {
                    let item: Value = array
                        .get(index)
                        .map_err(|_| NotJson::new("has an item that cannot be read"))?;
                    items.push(
                        to_json(&item, depth + 1)
                            .map_err(|error| error.within(format!("[{index}]")))?,
                    );
                }
                return Ok(Json::Array(items));
            }
            let Some(object) = value.as_object() else {
                return Err(not_json(value.type_name()));
            };
            object_to_json(object, depth)
        }
        Type::Function | Type::Constructor => Err(not_json("function")),
        other => Err(not_json(other.as_str())),
    }
}

fn object_to_json(object: &Object<'_>, depth: usize) -> Result<Json, NotJson> {
    let mut members = Map::new();
    for member in object.props::<String, Value>() {
        let (name, member) =
            member.map_err(|_| NotJson::new("has a member that cannot be read"))?;
        if member.is_undefined() {
            continue;
        }
        let converted = to_json(&member, depth + 1).map_err(|error| {
            error.within(if crate::is_identifier(&name) {
                format!(".{name}")
            } else {
                format!("[{}]", Json::from(name.as_str()))
            })
        })?;
        members.insert(name, converted);
    }
    Ok(Json::Object(members))
}

fn not_json(type_name: &str) -> NotJson {
    NotJson::new(format!(
        "is a value of type `{type_name}`, which is not JSON"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_read_from_the_first_frame() {
        assert_eq!(
            position("    at <eval> (eval_script:3:9)\n    at x (eval_script:1:1)\n").as_deref(),
            Some(" at line 3, position 9")
        );
        assert_eq!(
            position("at f (eval_script:2)").as_deref(),
            Some(" at line 2")
        );
        assert_eq!(position("nothing here"), None);
    }
}
