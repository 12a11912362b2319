//! Weir's script adapter: runs the workflow engine's scripts (`code` nodes, `choice`
//! expressions) behind the [`ScriptEngine`] port, in two languages: [Rhai](https://rhai.rs)
//! (`rhai`, [`RhaiScripts`]) and JavaScript (`js`, the console's default, run by QuickJS:
//! [`JsScripts`]; its sandbox is described in the `js` module's source). [`Scripts`] runs
//! both, by the `language` a node names; it is what the app wires to the engine.
//!
//! # The Rhai sandbox
//!
//! A script can compute and nothing else:
//! - no files, no network, no processes: Rhai has none of these built in, no package giving
//!   them is registered, and `import` finds no module (the resolver is Rhai's dummy one, not
//!   the file resolver `Engine::new` installs);
//! - `eval` is disabled, so what runs is what was compiled (and cached);
//! - `print` and `debug` do nothing (Rhai prints to stdout by default);
//! - every run is bounded by [`ScriptLimits`]: operations, string, array and map sizes, call
//!   and expression depth, and the caller's deadline, checked every [`CLOCK_EVERY`]
//!   operations;
//! - every run has a fresh scope. The engine, shared by all runs, holds nothing a script can
//!   change, so one run cannot affect another.
//!
//! Where Rhai alone would let a script hurt the server while staying within every limit,
//! this adapter closes the gap:
//! - closures do not capture variables (Rhai's `no_closure` feature). A captured variable
//!   becomes shared, so `let f = 0; f = || f;` ties a reference cycle that is never freed:
//!   every run leaks (20,000 runs of such a script leaked 300 MB in a test). Anonymous
//!   functions remain (`items.filter(|x| x > 2)`), but only see their parameters;
//! - `curry` is disabled: each call copies the curried values, so `f = f.curry(f)` in a
//!   loop doubles the memory at every turn in a handful of operations;
//! - Rhai does not check an array's or map's size when one of its items is assigned
//!   (`a[i] = big`), so a loop can copy gigabytes into one; the values of all variables are
//!   measured every millisecond of run time instead (the `audit` module,
//!   [`ScriptLimits::audit_interval`]);
//! - Rhai handles nested values by recursion, and a stack overflow aborts the whole
//!   process: every run happens on a large stack of its own (the `stack` module,
//!   [`ScriptLimits::stack_size`]).
//!
//! # What a script sees and gives back
//!
//! Every member of the run's variables is bound twice: as a variable of its own name (when
//! that name is a Rhai identifier: `temperature`, `_x1`, but not `foo-bar` or `1x`), and as a
//! member of the object map `msg`, which holds them all (`msg.temperature`,
//! `msg["foo-bar"]`). A variable named `msg` is only reachable as `msg.msg`. The copies are
//! independent: changing `msg.x` does not change `x`. JSON becomes Rhai values as the
//! `convert` module describes: objects are object maps, arrays arrays, `null` is `()`.
//!
//! The script's value (its last expression, or what it `return`s) is the run's result, as
//! JSON: `()` is `null`, an object map an object; a NaN or infinite float, or a value of a
//! type JSON has no room for (a function pointer, a range), is an error saying where it is.
//!
//! Besides Rhai's standard library, scripts have `timestamp_ms()`: the current time in
//! milliseconds since the Unix epoch, to stamp a message (`msg.ts = timestamp_ms(); msg`).
//!
//! # Speed
//!
//! Compiled scripts are cached by their text (see [`ScriptLimits::cache_entries`]), so a
//! flow's script is parsed once, not at every run. `cargo bench -p weir-scripting` measures
//! a first run (about 5 µs for a 3-line script, release build) and a cached one (about
//! 1.2 µs).

mod audit;
mod cache;
mod convert;
mod errors;
mod js;
mod stack;
mod watch;

pub use js::{JS, OPERATIONS_PER_CHECK};
pub use watch::CLOCK_EVERY;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rhai::module_resolvers::DummyModuleResolver;
use rhai::{AST, Dynamic, Engine, Scope};
use serde_json::{Map, Value as Json};
use weir_workflow::engine::{NodeError, ScriptEngine};

use cache::AstCache;

/// The language name of Rhai, one of the workflow catalogue's `SCRIPT_LANGUAGES` (with
/// [`JS`]; `tests/scripts.rs` checks that the two lists agree).
pub const RHAI: &str = "rhai";

/// The bounds of every run. For the size limits and `max_operations`, 0 means no limit, as
/// in Rhai.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptLimits {
    /// Operations one run may perform (an operation is roughly one expression or statement
    /// evaluated). Default 1,000,000. A JavaScript run counts jumps and calls instead, in
    /// steps of [`OPERATIONS_PER_CHECK`].
    pub max_operations: u64,
    /// The longest string, in bytes; for a value holding strings (an array, a map), the sum of
    /// them. Default 1 MiB.
    pub max_string_size: usize,
    /// The most items of an array or BLOB, nested arrays' items included. Default 100,000.
    pub max_array_size: usize,
    /// The most members of an object map, nested maps' members included. Default 100,000.
    pub max_map_size: usize,
    /// The deepest nesting of script function calls. Default 64.
    pub max_call_levels: usize,
    /// The deepest nesting of expressions at the top level of a script, checked when it is
    /// compiled. Default 64.
    pub max_expr_depth: usize,
    /// The same inside functions. Default 32.
    pub max_function_expr_depth: usize,
    /// How many compiled scripts are kept. 0 turns the cache off. Default 1,024.
    pub cache_entries: usize,
    /// How many bytes of script text the cached scripts may add up to (their compiled forms
    /// take several times that). Default 16 MiB.
    pub cache_bytes: usize,
    /// The stack every run gets, in bytes: reserved address space, of which only the pages
    /// a run touches become memory. Each thread that runs scripts keeps one and reuses it
    /// (see the `stack` module). 0 runs scripts on the caller's stack, which a deeply
    /// nested value can overflow, aborting the process. Default 256 MiB.
    ///
    /// Rhai handles nested arrays and maps (copying, comparing, printing, dropping them,
    /// checking their size) by recursion, each level taking 0.2 to 2 KB of stack in a release
    /// build, up to 7 KB in a debug build. The size limits allow 200,000 levels. What keeps
    /// the depth far below that is time: every new level is followed by a size check of the
    /// whole value, so building a nest costs the square of its depth, and the fastest way
    /// measured reaches about 60,000 levels in 30 seconds (release build; 10,000 levels took
    /// one second). At 2 KB a level, 256 MiB holds over 130,000.
    pub stack_size: usize,
    /// How often, in run time, the values of all variables are measured against the size
    /// limits, which Rhai does not check when an item of an array or map is assigned (see
    /// the `audit` module). `None` never measures them, which lets a script take as much
    /// memory as it can allocate in its operations. Default 1 ms.
    pub audit_interval: Option<Duration>,
    /// The most memory a JavaScript run may take, in bytes: its values, its compiled script
    /// and the engine's own objects (about 200 KiB). 0 means no limit. Default 32 MiB.
    pub js_memory_limit: usize,
    /// The most stack a JavaScript run may use, in bytes (deeper recursion is a
    /// `RangeError`), and at most half of `stack_size`. Default 8 MiB: a JavaScript call
    /// takes up to about 3 KB of it in a debug build, less in a release build.
    pub js_stack_size: usize,
}

impl Default for ScriptLimits {
    fn default() -> Self {
        Self {
            max_operations: 1_000_000,
            max_string_size: 1024 * 1024,
            max_array_size: 100_000,
            max_map_size: 100_000,
            max_call_levels: 64,
            max_expr_depth: 64,
            max_function_expr_depth: 32,
            cache_entries: 1024,
            cache_bytes: 16 * 1024 * 1024,
            stack_size: 256 * 1024 * 1024,
            audit_interval: Some(Duration::from_millis(1)),
            js_memory_limit: 32 * 1024 * 1024,
            js_stack_size: 8 * 1024 * 1024,
        }
    }
}

/// The Rhai implementation of the [`ScriptEngine`] port. Cheap to share: put it in an `Arc`
/// and use it from any number of threads.
pub struct RhaiScripts {
    engine: Engine,
    limits: ScriptLimits,
    cache: AstCache,
}

impl RhaiScripts {
    pub fn new(limits: ScriptLimits) -> Self {
        let mut engine = Engine::new();
        engine
            .set_module_resolver(DummyModuleResolver::new())
            .disable_symbol("eval")
            .disable_symbol("curry")
            .on_print(|_| {})
            .on_debug(|_, _, _| {})
            .set_max_operations(limits.max_operations)
            .set_max_string_size(limits.max_string_size)
            .set_max_array_size(limits.max_array_size)
            .set_max_map_size(limits.max_map_size)
            .set_max_call_levels(limits.max_call_levels)
            .set_max_expr_depths(limits.max_expr_depth, limits.max_function_expr_depth)
            .on_progress({
                let audit_interval = limits.audit_interval;
                move |operations| watch::on_progress(operations, audit_interval)
            })
            .register_fn("timestamp_ms", timestamp_ms);
        let audited = limits.clone();
        // Rhai marks `on_var` deprecated only to say the API may change ("volatile").
        #[allow(deprecated)]
        engine.on_var(move |_, _, context| {
            watch::on_var(context.scope(), &audited)?;
            // Not resolved here: look the variable up as usual.
            Ok(None)
        });
        Self {
            cache: AstCache::new(limits.cache_entries, limits.cache_bytes),
            engine,
            limits,
        }
    }

    pub fn limits(&self) -> &ScriptLimits {
        &self.limits
    }

    /// How many compiled scripts the cache holds now.
    pub fn cached_scripts(&self) -> usize {
        self.cache.len()
    }

    /// The compiled `script`, from the cache or compiled now (and cached).
    fn compile(&self, script: &str) -> Result<Arc<AST>, NodeError> {
        if let Some(ast) = self.cache.get(script) {
            return Ok(ast);
        }
        let ast = Arc::new(
            self.engine
                .compile(script)
                .map_err(|error| errors::syntax_error(&error))?,
        );
        self.cache.insert(script, Arc::clone(&ast));
        Ok(ast)
    }
}

impl Default for RhaiScripts {
    fn default() -> Self {
        Self::new(ScriptLimits::default())
    }
}

impl ScriptEngine for RhaiScripts {
    fn languages(&self) -> Vec<&'static str> {
        vec![RHAI]
    }

    fn run(
        &self,
        language: &str,
        script: &str,
        variables: &Map<String, Json>,
        deadline: Instant,
    ) -> Result<Json, NodeError> {
        if language != RHAI {
            return Err(NodeError::new(format!(
                "language `{language}` is not available: Weir runs {RHAI} scripts"
            )));
        }
        stack::on_large_stack(self.limits.stack_size, || {
            let watch = watch::Watch::start(deadline);
            let answer = self.run_rhai(script, variables, deadline);
            (answer, watch.operations())
        })?
    }
}

/// The JavaScript implementation of the [`ScriptEngine`] port: every run in a QuickJS
/// runtime of its own. Cheap to share between threads (it holds only the limits).
#[derive(Debug, Clone, Default)]
pub struct JsScripts {
    limits: ScriptLimits,
}

impl JsScripts {
    pub fn new(limits: ScriptLimits) -> Self {
        Self { limits }
    }
}

impl ScriptEngine for JsScripts {
    fn languages(&self) -> Vec<&'static str> {
        vec![JS]
    }

    fn run(
        &self,
        language: &str,
        script: &str,
        variables: &Map<String, Json>,
        deadline: Instant,
    ) -> Result<Json, NodeError> {
        if language != JS {
            return Err(NodeError::new(format!(
                "language `{language}` is not available: Weir runs {JS} scripts"
            )));
        }
        // A run that ran out of stack, or ran long, gives its stack back (see `stack`).
        stack::on_large_stack(self.limits.stack_size, || {
            js::run(script, variables, deadline, &self.limits)
        })?
    }
}

/// Every language Weir runs, by name: what the app gives the workflow engine.
pub struct Scripts {
    rhai: RhaiScripts,
    js: JsScripts,
}

impl Scripts {
    pub fn new(limits: ScriptLimits) -> Self {
        Self {
            rhai: RhaiScripts::new(limits.clone()),
            js: JsScripts::new(limits),
        }
    }
}

impl Default for Scripts {
    fn default() -> Self {
        Self::new(ScriptLimits::default())
    }
}

impl ScriptEngine for Scripts {
    fn languages(&self) -> Vec<&'static str> {
        vec![RHAI, JS]
    }

    fn run(
        &self,
        language: &str,
        script: &str,
        variables: &Map<String, Json>,
        deadline: Instant,
    ) -> Result<Json, NodeError> {
        match language {
            RHAI => self.rhai.run(language, script, variables, deadline),
            JS => self.js.run(language, script, variables, deadline),
            other => Err(NodeError::new(format!(
                "language `{other}` is not available: Weir runs {RHAI} and {JS} scripts"
            ))),
        }
    }
}

impl RhaiScripts {
    /// A run, from compiling to dropping the last value: on the large stack, watched.
    fn run_rhai(
        &self,
        script: &str,
        variables: &Map<String, Json>,
        deadline: Instant,
    ) -> Result<Json, NodeError> {
        let ast = self.compile(script)?;
        let mut scope = bind(variables)?;
        if Instant::now() >= deadline {
            return Err(errors::time_limit());
        }
        let value = self
            .engine
            .eval_ast_with_scope::<Dynamic>(&mut scope, &ast)
            .map_err(|error| errors::runtime_error(&error, &self.limits))?;
        convert::to_json(value).map_err(|error| NodeError::new(error.message()))
    }
}

/// A fresh scope with every variable bound by its name and in `msg`.
fn bind(variables: &Map<String, Json>) -> Result<Scope<'static>, NodeError> {
    let mut scope = Scope::with_capacity(variables.len() + 1);
    let mut msg = rhai::Map::new();
    for (name, value) in variables {
        let value = convert::to_dynamic(value).map_err(|error| {
            NodeError::new(format!(
                "variable `{name}` cannot be given to the script: {error}"
            ))
        })?;
        if name != "msg" && is_identifier(name) {
            scope.push_dynamic(name.as_str(), value.clone());
        }
        msg.insert(name.as_str().into(), value);
    }
    // Pushed last, so it would win over a variable of the same name anyway.
    scope.push_dynamic("msg", Dynamic::from_map(msg));
    Ok(scope)
}

/// Whether `name` is a Rhai identifier: ASCII letters, digits and underscores, with a letter
/// before any digit (`_x1` is one, `_`, `_1` and `1x` are not).
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut letter_seen = false;
    for character in name.chars() {
        match character {
            '_' => {}
            'a'..='z' | 'A'..='Z' => letter_seen = true,
            '0'..='9' if letter_seen => {}
            _ => return false,
        }
    }
    letter_seen
}

/// Milliseconds since the Unix epoch (0 for a clock set before it).
fn timestamp_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_rhai_names() {
        for name in [
            "x",
            "temperature",
            "_x1",
            "__a",
            "camelCase",
            "snake_case_2",
        ] {
            assert!(is_identifier(name), "{name}");
        }
        for name in ["", "_", "_1", "1x", "foo-bar", "a b", "é", "x.y"] {
            assert!(!is_identifier(name), "{name}");
        }
    }

    #[test]
    fn the_engine_is_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<RhaiScripts>();
        shared::<JsScripts>();
        shared::<Scripts>();
    }
}
