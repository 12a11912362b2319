//! docs/architecture.md's dependency table is the rule: every crate of the workspace is
//! listed, and depends (normal dependencies) on exactly the crates of ours listed beside
//! it. The domain crates use no adapter library. Checked against `cargo metadata`, so the
//! page cannot go stale.

// Test code: a panic is how a test fails (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

const DOMAIN_CRATES: [&str; 5] = [
    "weir-kernel",
    "weir-identity",
    "weir-iot",
    "weir-workflow",
    "weir-bi-catalog",
];

/// Libraries of adapters: a domain crate that names one is no longer a domain crate.
const ADAPTER_LIBRARIES: [&str; 12] = [
    "actix-web",
    "actix-files",
    "actix-ws",
    "diesel",
    "diesel_migrations",
    "tokio-postgres",
    "mysql",
    "rusqlite",
    "reqwest",
    "lettre",
    "rumqttc",
    "rumqttd",
];

type Graph = BTreeMap<String, BTreeSet<String>>;

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
}

/// Each workspace package with its normal dependencies: (ours, all names).
fn metadata() -> (Graph, Graph) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let packages = meta["packages"].as_array().expect("packages");
    let ours: BTreeSet<String> = packages
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect();
    let (mut internal, mut all) = (Graph::new(), Graph::new());
    for p in packages {
        let name = p["name"].as_str().expect("name").to_owned();
        let normal: BTreeSet<String> = p["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .filter(|d| d["kind"].is_null())
            .map(|d| d["name"].as_str().expect("name").to_owned())
            .filter(|d| *d != name)
            .collect();
        internal.insert(
            name.clone(),
            normal
                .iter()
                .filter(|d| ours.contains(*d))
                .cloned()
                .collect(),
        );
        all.insert(name, normal);
    }
    (internal, all)
}

/// The table between the `dependency-table` markers: package → the crates it names.
/// "every crate above" names every package listed before it ("except `x`" leaves x out).
fn documented() -> Graph {
    let doc = std::fs::read_to_string(workspace_root().join("docs/architecture.md"))
        .expect("docs/architecture.md");
    let start = doc
        .find("<!-- dependency-table")
        .expect("the dependency-table marker");
    let end = doc
        .find("<!-- /dependency-table -->")
        .expect("the end marker");
    let mut table = Graph::new();
    for line in doc[start..end].lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let package = cells[1].trim_matches('`').to_owned();
        let named: BTreeSet<String> = cells[2]
            .split([',', ' '])
            .map(str::trim)
            .filter(|d| d.starts_with('`'))
            .map(|d| d.trim_matches('`').to_owned())
            .collect();
        // "every crate above except `x`": the packages listed before, less those named.
        let deps: BTreeSet<String> = if cells[2].starts_with("every crate above") {
            table
                .keys()
                .filter(|k| !named.contains(*k))
                .cloned()
                .collect()
        } else {
            named
        };
        table.insert(package, deps);
    }
    table
}

#[test]
fn the_documented_dependency_table_is_the_real_one() {
    let (real, _) = metadata();
    let doc = documented();
    let listed: BTreeSet<&String> = doc.keys().collect();
    let packages: BTreeSet<&String> = real.keys().collect();
    assert_eq!(listed, packages, "docs/architecture.md lists other crates");
    for (package, deps) in &real {
        assert_eq!(
            &doc[package], deps,
            "{package}: docs/architecture.md says one thing, Cargo.toml another"
        );
    }
}

#[test]
fn domain_crates_use_no_adapter_library() {
    let (_, all) = metadata();
    for domain in DOMAIN_CRATES {
        let used: Vec<&str> = ADAPTER_LIBRARIES
            .into_iter()
            .filter(|lib| all[domain].contains(*lib))
            .collect();
        assert!(used.is_empty(), "{domain} depends on {used:?}");
    }
}

/// The HTTP dialects of `crates/http/src`: each is built on `core` alone, never on another
/// dialect (the app wires them together), and the core knows none of them but for the
/// settings the application state carries.
const HTTP_DIALECTS: [&str; 4] = ["native", "wyn", "thingskit", "smartbi"];

/// What the core may name of a dialect: the Smartbi settings, held by `ApiState` as the
/// settings of the whole server are.
const CORE_MAY_NAME: [&str; 1] = ["crate::smartbi::SmartbiSettings"];

/// The `.rs` files below `dir`, with their text.
fn rust_files(dir: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("the folder can be read") {
            let path = entry.expect("the entry can be read").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("the file can be read");
                found.push((path.display().to_string(), text));
            }
        }
    }
    found
}

#[test]
fn no_http_dialect_imports_another_and_the_core_imports_none() {
    let src = workspace_root().join("crates/http/src");
    let mut offences = Vec::new();
    for module in HTTP_DIALECTS.iter().chain(&["core"]) {
        let others = HTTP_DIALECTS.iter().filter(|d| *d != module);
        let mentions: Vec<String> = others.map(|d| format!("crate::{d}")).collect();
        for (path, mut text) in rust_files(&src.join(module)) {
            if *module == "core" {
                for allowed in CORE_MAY_NAME {
                    text = text.replace(allowed, "");
                }
            }
            for m in mentions.iter().filter(|m| text.contains(m.as_str())) {
                offences.push(format!("{path} mentions {m}"));
            }
        }
    }
    assert!(
        rust_files(&src.join("native")).len() > 1,
        "the dialects are where they were"
    );
    assert!(offences.is_empty(), "{offences:#?}");
}
