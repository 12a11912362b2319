//! How long a script run takes: the first run of a script (compiled, then cached), a run of
//! a cached one (on the run's own large stack, the default, and on the caller's), a longer
//! script over a 1,000-item array (with and without the audit of the variables' sizes), and
//! cached runs on several threads at once; and a JavaScript run (a fresh QuickJS runtime and
//! context every time: nothing is cached).
//!
//! Run it with `cargo bench -p weir-scripting`. Plain `std::time` timing: each line prints
//! the mean time of one run, in nanoseconds.

// Benchmark code: a panic stops the run with its reason (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde_json::{Map, Value as Json, json};
use weir_scripting::{JS, JsScripts, RHAI, RhaiScripts, ScriptLimits};
use weir_workflow::engine::ScriptEngine;

/// The 3-line script: a message's field converted and stamped.
const SCRIPT: &str = "let fahrenheit = msg.temperature * 1.8 + 32.0;
msg.fahrenheit = fahrenheit;
msg";

/// About 4,000 operations over a 1,000-item array.
const LOOP: &str = "let total = 0;
for i in 0..readings.len() { total += readings[i]; }
total / readings.len()";

fn object(value: Json) -> Map<String, Json> {
    let Json::Object(map) = value else {
        unreachable!("an object")
    };
    map
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

/// Runs `run` `runs` times (after a tenth as many to warm up) and prints the mean.
fn measure(name: &str, runs: u32, mut run: impl FnMut(u32)) {
    for i in 0..runs / 10 {
        run(i);
    }
    let start = Instant::now();
    for i in 0..runs {
        run(i);
    }
    let mean = start.elapsed().as_nanos() / u128::from(runs);
    println!("{name:<52} {mean:>9} ns/run");
}

fn main() {
    let variables = object(json!({"temperature": 21.5, "device": "boiler-1"}));
    let scripts = RhaiScripts::new(ScriptLimits::default());
    let expected = scripts.run(RHAI, SCRIPT, &variables, deadline()).unwrap();
    assert_eq!(expected["fahrenheit"], json!(70.7));

    measure("first run (compile, cache, run)", 5_000, |i| {
        // A different text every time: never found in the cache.
        let script = format!("{SCRIPT} // {i}");
        black_box(scripts.run(RHAI, &script, &variables, deadline()).unwrap());
    });
    measure("cached run", 50_000, |_| {
        black_box(scripts.run(RHAI, SCRIPT, &variables, deadline()).unwrap());
    });
    let js = JsScripts::new(ScriptLimits::default());
    let js_script = "msg.fahrenheit = temperature * 1.8 + 32;\nreturn msg;";
    assert_eq!(
        js.run(JS, js_script, &variables, deadline()).unwrap()["fahrenheit"],
        json!(70.7)
    );
    measure(
        "JavaScript run (runtime, context, compile, run)",
        2_000,
        |_| {
            black_box(js.run(JS, js_script, &variables, deadline()).unwrap());
        },
    );
    let on_caller_stack = RhaiScripts::new(ScriptLimits {
        stack_size: 0,
        ..ScriptLimits::default()
    });
    measure("cached run, on the caller's stack", 50_000, |_| {
        black_box(
            on_caller_stack
                .run(RHAI, SCRIPT, &variables, deadline())
                .unwrap(),
        );
    });

    let readings = object(json!({ "readings": (0..1000).collect::<Vec<_>>() }));
    measure("1,000-item loop, cached", 200, |_| {
        black_box(scripts.run(RHAI, LOOP, &readings, deadline()).unwrap());
    });
    let unaudited = RhaiScripts::new(ScriptLimits {
        audit_interval: None,
        ..ScriptLimits::default()
    });
    measure("1,000-item loop, cached, no audit", 200, |_| {
        black_box(unaudited.run(RHAI, LOOP, &readings, deadline()).unwrap());
    });

    let big = object(json!({ "readings": (0..50_000).collect::<Vec<_>>() }));
    measure("50,000-item loop, cached", 5, |_| {
        black_box(scripts.run(RHAI, LOOP, &big, deadline()).unwrap());
    });
    measure("50,000-item loop, cached, no audit", 5, |_| {
        black_box(unaudited.run(RHAI, LOOP, &big, deadline()).unwrap());
    });

    let threads = 4;
    let runs = 20_000;
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                for _ in 0..runs {
                    black_box(scripts.run(RHAI, SCRIPT, &variables, deadline()).unwrap());
                }
            });
        }
    });
    let mean = start.elapsed().as_nanos() / (threads * runs);
    let name = format!("cached run, {threads} threads (wall time / runs)");
    println!("{name:<52} {mean:>9} ns/run");
}
