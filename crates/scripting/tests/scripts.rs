//! The Rhai adapter through the `ScriptEngine` port: what scripts see and answer, the
//! errors users read, the limits, the cache and use from many threads.

// Test code: a panic is how a test fails (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value as Json, json};
use weir_scripting::{RHAI, RhaiScripts, ScriptLimits};
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

fn run_with(scripts: &RhaiScripts, script: &str, variables: Json) -> Result<Json, String> {
    scripts
        .run(RHAI, script, &object(variables), soon())
        .map_err(|error| error.0)
}

fn run(script: &str, variables: Json) -> Result<Json, String> {
    run_with(&RhaiScripts::default(), script, variables)
}

fn error(script: &str) -> String {
    run(script, json!({})).expect_err("the script should fail")
}

// ---------------------------------------------------------------------------------------
// Values in and out.

#[test]
fn every_json_type_is_bound_and_returned_as_itself() {
    for value in [
        json!(null),
        json!(true),
        json!(false),
        json!(42),
        json!(-7),
        json!(i64::MAX),
        json!(-1.5),
        json!(""),
        json!("text with \"quotes\" and ünïcödé"),
        json!([]),
        json!([1, "two", [3.5, null], {"four": false}]),
        json!({}),
        json!({"nested": {"list": [1, 2, 3]}, "needs quoting": true}),
    ] {
        let variables = json!({ "x": value });
        assert_eq!(
            run("x", variables.clone()),
            Ok(value.clone()),
            "as a variable"
        );
        assert_eq!(run("msg.x", variables.clone()), Ok(value.clone()), "in msg");
        assert_eq!(run("return msg[\"x\"];", variables), Ok(value), "returned");
    }
}

#[test]
fn rhai_values_become_json() {
    assert_eq!(run("()", json!({})), Ok(json!(null)));
    assert_eq!(
        run("let x = 1;", json!({})),
        Ok(json!(null)),
        "a statement is ()"
    );
    assert_eq!(run("1 + 2", json!({})), Ok(json!(3)));
    assert_eq!(run("7 / 2.0", json!({})), Ok(json!(3.5)));
    assert_eq!(run("'c'", json!({})), Ok(json!("c")));
    assert_eq!(run("`${1 + 1} apples`", json!({})), Ok(json!("2 apples")));
    assert_eq!(run("[1, (), \"a\"]", json!({})), Ok(json!([1, null, "a"])));
    assert_eq!(run("let b = blob(2, 7); b", json!({})), Ok(json!([7, 7])));
}

#[test]
fn an_object_map_is_returned_as_an_object() {
    let answer = run(
        r#"#{ a: 1, b: [true, ()], "c d": #{ e: "f" }, g: 2.25 }"#,
        json!({}),
    );
    assert_eq!(
        answer,
        Ok(json!({"a": 1, "b": [true, null], "c d": {"e": "f"}, "g": 2.25}))
    );
}

#[test]
fn members_are_reached_through_msg_by_any_name() {
    let variables = json!({"type": "alarm", "foo-bar": 3, "ok": 4});
    assert_eq!(run(r#"msg["type"]"#, variables.clone()), Ok(json!("alarm")));
    assert_eq!(run("msg.type", variables.clone()), Ok(json!("alarm")));
    assert_eq!(
        run(r#"ok + msg["foo-bar"]"#, variables.clone()),
        Ok(json!(7))
    );
    assert_eq!(run("msg.missing", variables), Ok(json!(null)));
}

#[test]
fn a_member_named_msg_stays_inside_msg() {
    let variables = json!({"msg": 5, "a": 1});
    assert_eq!(run("msg.msg + msg.a + a", variables), Ok(json!(7)));
}

#[test]
fn a_script_can_change_and_return_the_message() {
    let before = epoch_ms();
    let answer = run(
        "msg.fahrenheit = msg.celsius * 1.8 + 32.0;\nmsg.at = timestamp_ms();\nmsg",
        json!({"celsius": 20.0, "device": "boiler"}),
    )
    .unwrap();
    let after = epoch_ms();
    assert_eq!(answer["fahrenheit"], json!(68.0));
    assert_eq!(answer["device"], json!("boiler"));
    let at = answer["at"].as_i64().unwrap();
    assert!(before <= at && at <= after, "{before} <= {at} <= {after}");
}

#[test]
fn return_ends_the_script_with_its_value() {
    let script = "if x > 10 { return \"big\"; }\n\"small\"";
    assert_eq!(run(script, json!({"x": 11})), Ok(json!("big")));
    assert_eq!(run(script, json!({"x": 1})), Ok(json!("small")));
}

#[test]
fn a_condition_answers_a_boolean() {
    let script = r#"msg.temperature > 30 && msg.unit == "C""#;
    assert_eq!(
        run(script, json!({"temperature": 31, "unit": "C"})),
        Ok(json!(true))
    );
    assert_eq!(
        run(script, json!({"temperature": 29, "unit": "C"})),
        Ok(json!(false))
    );
}

#[test]
fn anonymous_functions_see_their_parameters_only() {
    assert_eq!(
        run("[1, 2, 3, 4].filter(|x| x > 2).map(|x| x * 10)", json!({})),
        Ok(json!([30, 40]))
    );
    let captured = run("let limit = 2;\n[1, 2, 3].filter(|x| x > limit)", json!({}));
    assert!(
        captured
            .as_ref()
            .unwrap_err()
            .contains("Variable not found: limit"),
        "{captured:?}"
    );
}

#[test]
fn a_result_json_cannot_hold_is_an_error_saying_where() {
    assert_eq!(
        error("#{ list: [1, 0.0 / 0.0] }"),
        "script result.list[1] is NaN, which is not a JSON number"
    );
    assert_eq!(
        error("1.0 / 0.0"),
        "script result is inf, which is not a JSON number"
    );
    assert_eq!(
        error("Fn(\"f\")"),
        "script result is a value of type `Fn`, which is not JSON"
    );
}

// ---------------------------------------------------------------------------------------
// Errors.

#[test]
fn a_syntax_error_names_its_line_and_position() {
    let message = error("let x = 1;\nlet y = (x + ;");
    assert!(
        message.starts_with("script syntax error at line 2, position 14: "),
        "{message}"
    );
}

#[test]
fn a_runtime_error_names_its_line_and_position() {
    assert_eq!(
        error("let a = [1];\na[5]"),
        "script error at line 2, position 3: Array index 5 out of bounds: only 1 element in array"
    );
    assert_eq!(
        error("let x = 1;\nx.nope()"),
        "script error at line 2, position 3: Function not found: nope (i64)"
    );
    assert_eq!(
        error("undefined_thing + 1"),
        "script error at line 1, position 1: Variable not found: undefined_thing"
    );
}

#[test]
fn an_error_inside_a_function_names_the_call_too() {
    assert_eq!(
        error("fn half(x) {\n  x / 0\n}\nhalf(4)"),
        "script error at line 2, position 5: Division by zero: 4 / 0, \
         in function `half` called at line 4, position 1"
    );
}

#[test]
fn a_thrown_value_is_the_message() {
    assert_eq!(
        error("if true {\n  throw \"temperature missing\";\n}"),
        "script error at line 2, position 3: temperature missing"
    );
}

#[test]
fn an_unknown_language_is_refused() {
    let scripts = RhaiScripts::default();
    assert_eq!(scripts.languages(), vec!["rhai"]);
    let refused = scripts.run("js", "1", &Map::new(), soon()).unwrap_err();
    assert_eq!(
        refused.0,
        "language `js` is not available: Weir runs rhai scripts"
    );
}

// ---------------------------------------------------------------------------------------
// The sandbox and its limits.

#[test]
fn an_endless_loop_is_stopped_by_the_operation_limit() {
    let message = error("let i = 0;\nloop { i += 1; }");
    assert!(
        message.starts_with("script used more than 1000000 operations (stopped at line 2"),
        "{message}"
    );
}

#[test]
fn a_loop_is_stopped_by_the_deadline() {
    let scripts = RhaiScripts::new(ScriptLimits {
        max_operations: u64::MAX,
        ..ScriptLimits::default()
    });
    let start = Instant::now();
    let deadline = start + Duration::from_millis(50);
    let refused = scripts
        .run(RHAI, "let i = 0;\nloop { i += 1; }", &Map::new(), deadline)
        .unwrap_err();
    let took = start.elapsed();
    assert!(
        refused
            .0
            .starts_with("script ran past its time limit (stopped at line 2"),
        "{refused}"
    );
    assert!(took >= Duration::from_millis(50), "{took:?}");
    assert!(
        took < Duration::from_secs(2),
        "stopped soon after: {took:?}"
    );
}

#[test]
fn a_deadline_already_past_runs_nothing() {
    let scripts = RhaiScripts::default();
    let refused = scripts
        .run(RHAI, "1", &Map::new(), Instant::now())
        .unwrap_err();
    assert_eq!(refused.0, "script ran past its time limit");
}

#[test]
fn a_huge_string_is_stopped() {
    let message = error("let s = \"x\";\nloop { s += s; }");
    assert!(
        message.starts_with("script made a string longer than 1048576 bytes (stopped at line 2"),
        "{message}"
    );
    let message = error("\"a\".pad(2000000000, \"b\")");
    assert!(
        message.starts_with("script made a string longer than"),
        "{message}"
    );
}

#[test]
fn huge_arrays_and_maps_are_stopped() {
    let scripts = RhaiScripts::new(ScriptLimits {
        max_array_size: 1000,
        max_map_size: 1000,
        ..ScriptLimits::default()
    });
    let arrays = run_with(&scripts, "let a = [];\nloop { a.push(1); }", json!({}));
    assert!(
        arrays.as_ref().unwrap_err().starts_with(
            "script made an array or BLOB of more than 1000 items, counting nested ones"
        ),
        "{arrays:?}"
    );
    let maps = run_with(
        &scripts,
        "let m = #{};\nfor i in 0..100000 { m[`k${i}`] = i; }",
        json!({}),
    );
    assert!(
        maps.as_ref().unwrap_err().starts_with(
            "script made an object map of more than 1000 members, counting nested ones"
        ),
        "{maps:?}"
    );
    let message = error("[].pad(2000000000, 0)");
    assert!(message.starts_with("script made an array"), "{message}");
}

#[test]
fn values_grown_item_by_item_are_stopped_too() {
    // Rhai checks only the assigned item here, not the array or map it goes into.
    let every_time = RhaiScripts::new(ScriptLimits {
        max_array_size: 1000,
        max_map_size: 1000,
        audit_interval: Some(Duration::ZERO),
        ..ScriptLimits::default()
    });
    let copies = "let big = [];\nbig.pad(900, 0);\nlet a = [];\na.pad(900, 0);\n\
                  for i in 0..900 { a[i] = big; }\n0";
    let message = run_with(&every_time, copies, json!({})).unwrap_err();
    assert!(
        message.starts_with("script made an array or BLOB of more than 1000 items"),
        "{message}"
    );
    let keys = "let m = #{};\nfor i in 0..100000 { m[`k${i}`] = i; }\n0";
    let message = run_with(&every_time, keys, json!({})).unwrap_err();
    assert!(
        message.starts_with("script made an object map of more than 1000 members"),
        "{message}"
    );
    // Each variable within the limits, all of them together not.
    let spread = "let a = [];\na.pad(900, 0);\nlet b = a;\nlet c = a;\nlet d = a;\n\
                  let e = a;\nfor i in 0..100 { e[0] = i; }\n0";
    let message = run_with(&every_time, spread, json!({})).unwrap_err();
    assert!(
        message.starts_with("script holds more than 4000 array or BLOB items in all its variables"),
        "{message}"
    );
    // With the default interval (1 ms), as soon as the run has lasted that long.
    let scripts = RhaiScripts::new(ScriptLimits {
        max_map_size: 1000,
        ..ScriptLimits::default()
    });
    let message = run_with(&scripts, keys, json!({})).unwrap_err();
    assert!(
        message.starts_with("script made an object map of more than 1000 members"),
        "{message}"
    );
}

#[test]
fn endless_recursion_is_stopped_by_the_call_depth() {
    let message = error("fn down(n) { down(n + 1) }\ndown(0)");
    assert!(
        message.starts_with("script called functions more than 64 levels deep"),
        "{message}"
    );
    assert_eq!(
        run(
            "fn depth(n) { if n == 0 { 0 } else { depth(n - 1) + 1 } }\ndepth(60)",
            json!({})
        ),
        Ok(json!(60))
    );
}

#[test]
fn an_expression_nested_too_deep_is_a_syntax_error() {
    let script = format!("{}1{}", "(".repeat(200), ")".repeat(200));
    let message = error(&script);
    assert!(
        message.starts_with("script syntax error at line 1, position")
            && message.ends_with("Expression exceeds maximum complexity"),
        "{message}"
    );
}

#[test]
fn deeply_nested_values_do_not_overflow_a_small_stack() {
    // 3,000 levels overflow a 2 MiB stack when Rhai compares them (measured); the run's own
    // stack holds them. A tokio blocking thread has 2 MiB.
    let answer = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            run(
                "let a = [];\nfor i in 0..3000 { a = [take(a)]; }\na == a",
                json!({}),
            )
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(answer, Ok(json!(true)));
    let message = error("let a = [];\nfor i in 0..200 { a = [take(a)]; }\na");
    assert_eq!(message, "script result is nested more than 128 levels deep");
}

#[test]
fn nothing_outside_the_script_is_reachable() {
    let import = error("import \"std\" as s;\n1");
    assert!(import.contains("Module not found: std"), "{import}");
    let eval = error("eval(\"1\")");
    assert!(
        eval.contains("reserved keyword 'eval' is disabled"),
        "{eval}"
    );
    let curry = error("let f = Fn(\"g\");\ncurry(f, 1)");
    assert!(
        curry.contains("reserved keyword 'curry' is disabled"),
        "{curry}"
    );
    // print and debug go nowhere (not to the server's standard output).
    assert_eq!(
        run("print(\"hello\");\ndebug(1);\n2", json!({})),
        Ok(json!(2))
    );
}

#[test]
fn one_run_cannot_affect_another() {
    let scripts = RhaiScripts::default();
    assert_eq!(
        run_with(
            &scripts,
            "let leftover = 5;\nmsg.a = 99;\nmsg",
            json!({"a": 1})
        ),
        Ok(json!({"a": 99}))
    );
    let message = run_with(&scripts, "leftover", json!({})).unwrap_err();
    assert!(
        message.contains("Variable not found: leftover"),
        "{message}"
    );
    assert_eq!(run_with(&scripts, "msg.a", json!({"a": 1})), Ok(json!(1)));
    // Functions are the script's own.
    run_with(&scripts, "fn helper() { 1 }\nhelper()", json!({})).unwrap();
    let message = run_with(&scripts, "helper()", json!({})).unwrap_err();
    assert!(message.contains("Function not found: helper"), "{message}");
}

// ---------------------------------------------------------------------------------------
// The compile cache.

#[test]
fn a_cached_script_answers_as_the_first_time() {
    let scripts = RhaiScripts::default();
    let script = "let t = msg.value * 2;\nt + 1";
    let first = run_with(&scripts, script, json!({"value": 20}));
    assert_eq!(scripts.cached_scripts(), 1);
    for value in [20, 20, 7] {
        let again = run_with(&scripts, script, json!({ "value": value }));
        assert_eq!(again, Ok(json!(value * 2 + 1)));
    }
    assert_eq!(first, Ok(json!(41)));
    assert_eq!(scripts.cached_scripts(), 1, "compiled once");
    run_with(&scripts, "1 +", json!({})).unwrap_err();
    assert_eq!(scripts.cached_scripts(), 1, "a syntax error is not cached");
}

#[test]
fn the_cache_is_bounded() {
    let scripts = RhaiScripts::new(ScriptLimits {
        cache_entries: 16,
        ..ScriptLimits::default()
    });
    for i in 0..500 {
        assert_eq!(
            run_with(&scripts, &format!("{i} + 1"), json!({})),
            Ok(json!(i + 1))
        );
        assert!(scripts.cached_scripts() <= 16);
    }
    assert!(scripts.cached_scripts() > 0);
    let uncached = RhaiScripts::new(ScriptLimits {
        cache_entries: 0,
        ..ScriptLimits::default()
    });
    assert_eq!(run_with(&uncached, "1", json!({})), Ok(json!(1)));
    assert_eq!(uncached.cached_scripts(), 0);
}

// ---------------------------------------------------------------------------------------
// Threads.

#[test]
fn runs_on_many_threads_at_once_keep_to_themselves() {
    let scripts = Arc::new(RhaiScripts::new(ScriptLimits {
        max_operations: u64::MAX,
        ..ScriptLimits::default()
    }));
    let script = "let total = 0;\nfor v in msg.values { total += v * msg.factor; }\ntotal";
    std::thread::scope(|scope| {
        // One thread spins until its deadline meanwhile.
        let spinner = scope.spawn(|| {
            let deadline = Instant::now() + Duration::from_millis(300);
            scripts.run(RHAI, "loop {}", &Map::new(), deadline)
        });
        let workers: Vec<_> = (0..8_i64)
            .map(|factor| {
                let scripts = Arc::clone(&scripts);
                scope.spawn(move || {
                    for round in 0..100_i64 {
                        let values = [round, round + 1, factor];
                        let variables = object(json!({"values": values, "factor": factor}));
                        let answer = scripts.run(RHAI, script, &variables, soon()).unwrap();
                        assert_eq!(answer, json!((2 * round + 1 + factor) * factor));
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
        let spun = spinner.join().unwrap().unwrap_err();
        assert!(
            spun.0.starts_with("script ran past its time limit"),
            "{spun}"
        );
    });
    assert_eq!(scripts.cached_scripts(), 2);
}

fn epoch_ms() -> i64 {
    let elapsed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(elapsed.as_millis()).unwrap()
}
