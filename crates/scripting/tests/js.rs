//! The JavaScript adapter through the `ScriptEngine` port: the console's template, what
//! scripts see and answer, the errors users read, every limit and the sandbox.

// Test code: a panic is how a test fails (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::{Map, Value as Json, json};
use weir_scripting::{JS, JsScripts, RHAI, ScriptLimits, Scripts};
use weir_workflow::components::SCRIPT_LANGUAGES;
use weir_workflow::engine::ScriptEngine;

fn object(value: Json) -> Map<String, Json> {
    match value {
        Json::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(30)
}

fn run_with(scripts: &JsScripts, script: &str, variables: Json) -> Result<Json, String> {
    scripts
        .run(JS, script, &object(variables), soon())
        .map_err(|error| error.0)
}

fn run(script: &str, variables: Json) -> Result<Json, String> {
    run_with(&JsScripts::default(), script, variables)
}

fn error(script: &str) -> String {
    run(script, json!({})).expect_err("the script should fail")
}

#[test]
fn the_consoles_template_runs_as_written() {
    // The console's default `code` node: CODE_EXPRESSION_DEFAULT_VALUE.js.
    let template = "return {\n  result: arg1 + arg2,\n};";
    assert_eq!(
        run(template, json!({"arg1": 2, "arg2": 40})).unwrap(),
        json!({"result": 42})
    );
    assert_eq!(
        run(template, json!({"arg1": "a", "arg2": "b"})).unwrap(),
        json!({"result": "ab"})
    );
}

#[test]
fn an_expression_answers_its_value() {
    assert_eq!(run("a > 1", json!({"a": 2})).unwrap(), json!(true));
    assert_eq!(run("let x = 2; x * a", json!({"a": 3})).unwrap(), json!(6));
    assert_eq!(
        run("({v: a})", json!({"a": 1.5})).unwrap(),
        json!({"v": 1.5})
    );
    assert_eq!(run("", json!({})).unwrap(), Json::Null);
}

#[test]
fn every_json_type_is_bound_and_returned_as_itself() {
    for value in [
        json!(null),
        json!(true),
        json!(42),
        json!(-7),
        json!(-1.5),
        json!("text with \"quotes\" and ünïcödé"),
        json!([1, "two", [3.5, null], {"four": false}]),
        json!({"nested": {"list": [1, 2, 3]}, "needs quoting": true}),
    ] {
        let variables = json!({ "x": value });
        assert_eq!(run("return x", variables.clone()).unwrap(), value);
        assert_eq!(run("return msg.x", variables).unwrap(), value);
    }
}

#[test]
fn members_are_reached_through_msg_by_any_name_and_copies_are_independent() {
    let variables = json!({"foo-bar": 1, "ok": 2, "msg": 3, "Math": 4});
    assert_eq!(
        run(
            "msg.ok = 10; return [msg['foo-bar'], ok, msg.msg, Math.max(1, 2), msg.Math]",
            variables
        )
        .unwrap(),
        json!([1, 2, 3, 2, 4]),
        "a built-in keeps its name; the copies do not share changes"
    );
}

#[test]
fn results_become_json_or_an_error_saying_where() {
    assert_eq!(
        run(
            "return {a: undefined, b: [undefined], c: 1e3, d: 0.5}",
            json!({})
        )
        .unwrap(),
        json!({"b": [null], "c": 1000, "d": 0.5})
    );
    assert_eq!(
        error("return {list: [1, {x: 0 / 0}]}"),
        "script result.list[1].x is NaN, which is not a JSON number"
    );
    assert_eq!(
        error("return {f: function () {}}"),
        "script result.f is a value of type `function`, which is not JSON"
    );
    assert_eq!(
        error("return {'a b': Symbol('s')}"),
        "script result[\"a b\"] is a value of type `symbol`, which is not JSON"
    );
    assert!(
        error("let v = []; for (let i = 0; i < 200; i++) v = [v]; return v")
            .contains("is nested more than 128 levels deep")
    );
}

#[test]
fn errors_name_their_line_and_position() {
    let syntax = error("let x = 1;\nlet = = 2;");
    assert!(
        syntax.starts_with("script syntax error at line 2"),
        "{syntax}"
    );
    let runtime = error("let a = 1;\nreturn a.b.c;");
    assert!(
        runtime.starts_with("script error at line 2, position") && runtime.contains("TypeError"),
        "{runtime}"
    );
    assert_eq!(error("throw 'too hot'"), "script error: too hot");
    assert_eq!(error("throw null"), "script error: threw nothing");
    assert_eq!(error("throw {code: 7}"), "script error: {\"code\":7}");
    let thrown = error("throw new Error('too cold')");
    assert!(thrown.ends_with("Error: too cold"), "{thrown}");
}

#[test]
fn an_endless_loop_is_stopped_by_the_operation_limit() {
    let started = Instant::now();
    assert_eq!(
        error("while (true) {}"),
        "script used more than 1000000 operations"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // Catching does not help: the interruption cannot be caught.
    assert_eq!(
        error("for (;;) { try { while (true) {} } catch (e) {} }"),
        "script used more than 1000000 operations"
    );
}

#[test]
fn a_loop_is_stopped_by_the_deadline_before_it_ends() {
    let scripts = JsScripts::new(ScriptLimits {
        max_operations: 0,
        ..ScriptLimits::default()
    });
    let started = Instant::now();
    let error = scripts
        .run(
            JS,
            "let n = 0; while (true) { n++ }",
            &Map::new(),
            Instant::now() + Duration::from_millis(200),
        )
        .unwrap_err();
    assert_eq!(error.0, "script ran past its time limit");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    let past = scripts
        .run(
            JS,
            "1",
            &Map::new(),
            Instant::now() - Duration::from_secs(1),
        )
        .unwrap_err();
    assert_eq!(past.0, "script ran past its time limit");
}

#[test]
fn a_huge_allocation_is_refused() {
    let limit = ScriptLimits::default().js_memory_limit;
    let refused = format!("script used more than {limit} bytes of memory");
    assert_eq!(
        error("return 'x'.repeat(100 * 1024 * 1024).length"),
        refused
    );
    let doubled = error("let s = 'x'; while (true) { s = s + s; } ");
    assert!(
        doubled == refused || doubled.ends_with("InternalError: string too long"),
        "doubling a string: {doubled}"
    );
    assert_eq!(
        error("let a = []; while (true) { a.push('x'.repeat(1000) + a.length); }"),
        refused,
        "many strings"
    );
    assert_eq!(
        error("let a = []; while (true) { a.push({n: a.length}); }"),
        refused,
        "growing an array item by item"
    );
    assert_eq!(error("return new Array(1e9).fill(0).length"), refused);
    // The next run has its memory again.
    assert_eq!(
        run("return 'x'.repeat(1000).length", json!({})).unwrap(),
        json!(1000)
    );
}

#[test]
fn deep_recursion_is_refused_without_crashing() {
    let message = error("function down(n) { return down(n + 1) + 1; }\nreturn down(0);");
    assert_eq!(
        message,
        "script called functions too deep: more than 8388608 bytes of stack"
    );
    // On the caller's own stack too (no large stack of the adapter's).
    let on_caller = JsScripts::new(ScriptLimits {
        stack_size: 0,
        js_stack_size: 256 * 1024,
        ..ScriptLimits::default()
    });
    let message = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            run_with(
                &on_caller,
                "function down(n) { return [down(n + 1)]; }\nreturn down(0);",
                json!({}),
            )
            .unwrap_err()
        })
        .unwrap()
        .join()
        .unwrap();
    assert!(
        message.starts_with("script called functions too deep"),
        "{message}"
    );
    // A recursion within bounds runs.
    assert_eq!(
        run(
            "function depth(n) { return n == 0 ? 0 : depth(n - 1) + 1; }\nreturn depth(500);",
            json!({})
        )
        .unwrap(),
        json!(500)
    );
}

#[test]
fn nothing_outside_the_script_is_reachable() {
    assert_eq!(
        run(
            "return [typeof require, typeof process, typeof std, typeof os, typeof fetch, \
             typeof console, typeof print, typeof setTimeout, typeof eval, typeof Function, \
             typeof WebAssembly]",
            json!({})
        )
        .unwrap(),
        json!(vec!["undefined"; 11])
    );
    let import = error("import * as os from 'os';\nreturn 1;");
    assert!(import.starts_with("script syntax error"), "{import}");
    for constructor in [
        "(function () {}).constructor",
        "(() => 1).constructor",
        "(function* () {}).constructor",
        "(async function () {}).constructor",
        "(async function* () {}).constructor",
        "Object.getPrototypeOf(function () {}).constructor",
    ] {
        assert_eq!(
            run(&format!("return typeof {constructor}"), json!({})).unwrap(),
            json!("undefined"),
            "{constructor}"
        );
    }
    let compile = error("return (function () {}).constructor('return 1')()");
    assert!(compile.contains("TypeError"), "{compile}");
    // A dynamic import finds no loader: its promise is rejected, nothing is read.
    assert_eq!(
        run("let p = import('os'); return typeof p", json!({})).unwrap(),
        json!("object")
    );
}

#[test]
fn one_run_cannot_affect_another() {
    let scripts = JsScripts::default();
    run_with(
        &scripts,
        "globalThis.leak = 1; Object.prototype.polluted = 2; Math.max = () => 0; return 1",
        json!({}),
    )
    .unwrap();
    assert_eq!(
        run_with(
            &scripts,
            "return [typeof leak, ({}).polluted === undefined, Math.max(1, 2)]",
            json!({})
        )
        .unwrap(),
        json!(["undefined", true, 2])
    );
}

#[test]
fn the_dispatcher_runs_each_language_and_names_the_ones_it_has() {
    let scripts = Scripts::default();
    let variables = object(json!({"a": 2}));
    assert_eq!(
        scripts.run(RHAI, "a * 2", &variables, soon()).unwrap(),
        json!(4)
    );
    assert_eq!(
        scripts.run(JS, "return a * 3", &variables, soon()).unwrap(),
        json!(6)
    );
    let refused = scripts.run("python", "a", &variables, soon()).unwrap_err();
    assert_eq!(
        refused.0,
        "language `python` is not available: Weir runs rhai and js scripts"
    );
    assert_eq!(scripts.languages(), SCRIPT_LANGUAGES.to_vec());
}

#[test]
fn runs_on_many_threads_keep_to_themselves() {
    let scripts = std::sync::Arc::new(Scripts::default());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let scripts = std::sync::Arc::clone(&scripts);
            std::thread::spawn(move || {
                for _ in 0..20 {
                    let answer = scripts
                        .run(
                            JS,
                            "globalThis.n = (globalThis.n || 0) + i; return n",
                            &object(json!({"i": i})),
                            soon(),
                        )
                        .unwrap();
                    assert_eq!(answer, json!(i));
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
}
