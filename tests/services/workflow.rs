//! The workflow use-cases: designs saved as numbered versions, read back, searched,
//! renamed, enabled, deleted; scoped to the caller's tenant and function codes.

use std::sync::Arc;

use weir_kernel::{AsProblem, Id, IdGenerator, ProblemKind, SearchQuery, SystemClock};
use weir_storage::testing::TestDatabase;

use crate::tenant;
use weir_workflow::errors::WorkflowError;
use weir_workflow::{Caller, SaveDesign, WorkflowPorts, WorkflowService, WorkflowSettings};

/// eventListener → choice → (hot) entityAssigner → output, (else) webhook → output, as the
/// console saves it (React Flow members and the viewport included).
const DESIGN: &str = r#"{
  "version": "1.0.0",
  "viewport": {"x": -120.5, "y": 44, "zoom": 0.8},
  "nodes": [
    {"id": "listener-1", "type": "listener", "componentName": "eventListener",
     "position": {"x": 0, "y": 120},
     "data": {"nodeName": "Temperature changed", "nodeRemark": "",
              "parameters": {"entities": ["demo.device.room-1.temperature"]}}},
    {"id": "ifelse-1", "type": "ifelse", "componentName": "choice",
     "position": {"x": 320, "y": 120},
     "data": {"nodeName": "Too hot?",
              "parameters": {"choice": {
                "when": [{"id": "branch-hot", "logicOperator": "AND",
                          "conditions": [{"id": "cond-1", "expressionValue": {
                            "key": "{{listener-1.demo.device.room-1.temperature}}",
                            "operator": "GT", "value": "28.5"}}]}],
                "otherwise": {"id": "branch-else"}}}}},
    {"id": "assigner-1", "type": "assigner", "componentName": "entityAssigner",
     "position": {"x": 680, "y": 40},
     "data": {"nodeName": "Fan on",
              "parameters": {"exchangePayload": {"demo.device.room-1.fan": true}}}},
    {"id": "webhook-1", "type": "webhook", "componentName": "webhook",
     "position": {"x": 680, "y": 240},
     "data": {"nodeName": "Notify ops",
              "parameters": {"webhookUrl": "https://hooks.example.com/weir"}}},
    {"id": "output-1", "type": "output", "componentName": "output",
     "position": {"x": 1000, "y": 120},
     "data": {"nodeName": "Result", "parameters": {"outputVariables": {"handled": true}}}}
  ],
  "edges": [
    {"id": "e1", "source": "listener-1", "target": "ifelse-1"},
    {"id": "e2", "source": "ifelse-1", "target": "assigner-1", "sourceHandle": "branch-hot"},
    {"id": "e3", "source": "ifelse-1", "target": "webhook-1", "sourceHandle": "branch-else"},
    {"id": "e4", "source": "assigner-1", "target": "output-1"},
    {"id": "e5", "source": "webhook-1", "target": "output-1"}
  ]
}"#;

/// The smallest design: one listener.
const LISTENER_ONLY: &str = r#"{"nodes": [{"id": "n1", "componentName": "eventListener",
  "data": {"nodeName": "Listen", "parameters": {"entities": ["demo.device.d1.t"]}}}],
  "edges": []}"#;

struct World {
    flows: WorkflowService,
    _db: TestDatabase,
}

fn world() -> World {
    let (place, db) = crate::database_with_tenants();
    let flows = WorkflowService::new(
        WorkflowPorts {
            store: Arc::new(db),
            ids: Arc::new(IdGenerator::new(1, Box::new(SystemClock))),
            clock: Arc::new(SystemClock),
        },
        WorkflowSettings::default(),
    );
    World { flows, _db: place }
}

fn admin() -> Caller {
    Caller::system(tenant("t1")).as_user(Id(7))
}

fn code(e: WorkflowError) -> &'static str {
    e.problem().code
}

/// A save of flow `id` from its version `version`.
fn next_version(id: Id, version: i64, name: &str, design: &str) -> SaveDesign {
    SaveDesign {
        id: Some(id),
        version: Some(version),
        ..new_flow(name, design)
    }
}

fn new_flow(name: &str, design: &str) -> SaveDesign {
    SaveDesign {
        name: name.into(),
        remark: Some("cool the room".into()),
        enabled: true,
        design_data: design.into(),
        ..SaveDesign::default()
    }
}

fn query(keyword: Option<&str>, number: i64, size: i64) -> SearchQuery {
    SearchQuery {
        keyword: keyword.map(str::to_owned),
        page_number: Some(number),
        page_size: Some(size),
        sorts: vec![],
    }
}

#[test]
fn designs_are_saved_as_versions_and_old_ones_stay_readable() {
    let w = world();
    let (id, v) = w
        .flows
        .save_design(&admin(), new_flow("  Cooling  ", DESIGN))
        .unwrap();
    assert_eq!(v, 1);
    let (flow, design) = w.flows.design(&admin(), id, None).unwrap();
    assert_eq!(
        (flow.name.as_str(), flow.remark.as_str()),
        ("Cooling", "cool the room")
    );
    assert!(flow.enabled);
    assert_eq!((flow.version, flow.user_id), (1, Some(Id(7))));
    assert_eq!((design.flow_id, design.version), (id, 1));
    assert_eq!(design.design_data, DESIGN);

    let saved = w
        .flows
        .save_design(&admin(), next_version(id, 1, "Cooling v2", LISTENER_ONLY))
        .unwrap();
    assert_eq!(saved, (id, 2));
    let (flow, latest) = w.flows.design(&admin(), id, None).unwrap();
    assert_eq!((flow.version, flow.name.as_str()), (2, "Cooling v2"));
    assert_eq!(
        (latest.version, latest.design_data.as_str()),
        (2, LISTENER_ONLY)
    );
    let (_, first) = w.flows.design(&admin(), id, Some(1)).unwrap();
    assert_eq!(first.design_data, DESIGN);
    let e = w.flows.design(&admin(), id, Some(3)).unwrap_err();
    assert_eq!(code(e), "data_no_found");

    // Saved from version 1 again: someone (this caller) saved version 2 in between.
    let e = w
        .flows
        .save_design(&admin(), next_version(id, 1, "Stale", DESIGN))
        .unwrap_err();
    let p = e.problem();
    assert_eq!(
        (p.kind, p.code),
        (ProblemKind::Conflict, "workflow_version_conflict")
    );
    assert!(
        p.message.contains("is at version 2, not 1"),
        "{}",
        p.message
    );
    let e = w
        .flows
        .save_design(
            &admin(),
            SaveDesign {
                id: Some(id),
                ..new_flow("No version", DESIGN)
            },
        )
        .unwrap_err();
    assert_eq!(e.to_string(), "version: is required to save a flow");
    let (flow, _) = w.flows.design(&admin(), id, None).unwrap();
    assert_eq!((flow.version, flow.name.as_str()), (2, "Cooling v2"));

    // A flow that does not exist.
    let e = w
        .flows
        .save_design(&admin(), next_version(Id(42), 1, "Ghost", DESIGN))
        .unwrap_err();
    assert_eq!(code(e), "data_no_found");
}

#[test]
fn invalid_designs_and_names_are_refused_naming_the_node_and_field() {
    let w = world();
    let broken = DESIGN.replace(
        r#""webhookUrl": "https://hooks.example.com/weir""#,
        r#""secretKey": "x""#,
    );
    let e = w
        .flows
        .save_design(&admin(), new_flow("Cooling", &broken))
        .unwrap_err();
    let p = e.problem();
    assert_eq!(
        (p.kind, p.code),
        (ProblemKind::Invalid, "parameter_validation_failed")
    );
    assert_eq!(
        p.message,
        "design_data: node \"webhook-1\" (Notify ops): parameters.webhookUrl: is required"
    );
    let e = w
        .flows
        .save_design(&admin(), new_flow("Cooling", "{not json"))
        .unwrap_err();
    assert_eq!(code(e), "parameter_validation_failed");
    for name in ["", "   ", &"x".repeat(65)] {
        let e = w
            .flows
            .save_design(&admin(), new_flow(name, DESIGN))
            .unwrap_err();
        assert_eq!(e.to_string(), "name: must be 1 to 64 characters");
    }
    assert!(
        w.flows
            .save_design(&admin(), new_flow(&"x".repeat(64), DESIGN))
            .is_ok()
    );
    // Nothing refused was stored.
    let page = w.flows.search(&admin(), &query(None, 1, 10)).unwrap();
    assert_eq!(page.total, 1);
}

#[test]
fn flows_are_searched_newest_first_by_keyword_and_page() {
    let w = world();
    let mut ids = Vec::new();
    for name in ["Cooling room 1", "Heating", "cooling ROOM 2", "Alarm 100%"] {
        ids.push(
            w.flows
                .save_design(&admin(), new_flow(name, LISTENER_ONLY))
                .unwrap()
                .0,
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let all = w.flows.search(&admin(), &query(None, 1, 10)).unwrap();
    assert_eq!(all.total, 4);
    let names: Vec<&str> = all.content.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        ["Alarm 100%", "cooling ROOM 2", "Heating", "Cooling room 1"]
    );

    let cooling = w
        .flows
        .search(&admin(), &query(Some(" COOLING "), 1, 1))
        .unwrap();
    assert_eq!((cooling.total, cooling.page_size), (2, 1));
    assert_eq!(cooling.content[0].id, ids[2]);
    let second = w
        .flows
        .search(&admin(), &query(Some("cooling"), 2, 1))
        .unwrap();
    assert_eq!(second.content[0].id, ids[0]);
    // LIKE's wildcards are plain characters in a keyword.
    let percent = w.flows.search(&admin(), &query(Some("0%"), 1, 10)).unwrap();
    assert_eq!(percent.total, 1);
    let none = w.flows.search(&admin(), &query(Some("_"), 1, 10)).unwrap();
    assert_eq!(none.total, 0);

    let e = w.flows.search(&admin(), &query(None, 0, 10)).unwrap_err();
    assert_eq!(e.to_string(), "page: page_number must be 1 or more");
}

#[test]
fn flows_are_renamed_enabled_and_disabled_without_a_new_version() {
    let w = world();
    let (id, _) = w
        .flows
        .save_design(&admin(), new_flow("Cooling", DESIGN))
        .unwrap();
    w.flows
        .rename(&admin(), id, " Cooling (office) ", None)
        .unwrap();
    w.flows.set_enabled(&admin(), id, false).unwrap();
    let (flow, design) = w.flows.design(&admin(), id, None).unwrap();
    assert_eq!(
        (flow.name.as_str(), flow.remark.as_str()),
        ("Cooling (office)", "")
    );
    assert!(!flow.enabled);
    assert_eq!((flow.version, design.version), (1, 1));
    w.flows.set_enabled(&admin(), id, true).unwrap();
    assert!(w.flows.design(&admin(), id, None).unwrap().0.enabled);
    w.flows
        .rename(&admin(), id, "Cooling", Some("again"))
        .unwrap();
    assert_eq!(
        w.flows.design(&admin(), id, None).unwrap().0.remark,
        "again"
    );
    let e = w.flows.rename(&admin(), id, "", None).unwrap_err();
    assert_eq!(code(e), "parameter_validation_failed");
    let e = w.flows.set_enabled(&admin(), Id(42), true).unwrap_err();
    assert_eq!(code(e), "data_no_found");
}

#[test]
fn deleting_flows_is_all_or_nothing_and_takes_their_versions() {
    let w = world();
    let (a, _) = w
        .flows
        .save_design(&admin(), new_flow("A", DESIGN))
        .unwrap();
    w.flows
        .save_design(&admin(), next_version(a, 1, "A", LISTENER_ONLY))
        .unwrap();
    let (b, _) = w
        .flows
        .save_design(&admin(), new_flow("B", DESIGN))
        .unwrap();
    let (other, _) = w
        .flows
        .save_design(&Caller::system(tenant("t2")), new_flow("Theirs", DESIGN))
        .unwrap();

    // One of the ids is another tenant's: nothing is deleted.
    let e = w.flows.delete(&admin(), &[a, other]).unwrap_err();
    assert_eq!(e.to_string(), format!("flow {other} not found"));
    let e = w.flows.delete(&admin(), &[a, Id(42)]).unwrap_err();
    assert_eq!(code(e), "data_no_found");
    assert_eq!(
        w.flows.search(&admin(), &query(None, 1, 10)).unwrap().total,
        2
    );
    let e = w.flows.delete(&admin(), &[]).unwrap_err();
    assert_eq!(code(e), "parameter_validation_failed");

    w.flows.delete(&admin(), &[a, a]).unwrap();
    for v in [None, Some(1), Some(2)] {
        let e = w.flows.design(&admin(), a, v).unwrap_err();
        assert_eq!(code(e), "data_no_found");
    }
    // Recreating nothing: a's versions are gone with it.
    let e = w
        .flows
        .save_design(&admin(), next_version(a, 2, "A", DESIGN))
        .unwrap_err();
    assert_eq!(code(e), "data_no_found");
    assert!(w.flows.design(&admin(), b, None).is_ok());
    assert!(
        w.flows
            .design(&Caller::system(tenant("t2")), other, None)
            .is_ok()
    );
}

#[test]
fn another_tenants_flow_answers_not_found() {
    let w = world();
    let (id, _) = w
        .flows
        .save_design(&admin(), new_flow("Cooling", DESIGN))
        .unwrap();
    let them = Caller::system(tenant("t2"));
    assert_eq!(
        code(w.flows.design(&them, id, None).unwrap_err()),
        "data_no_found"
    );
    assert_eq!(
        code(w.flows.design(&them, id, Some(1)).unwrap_err()),
        "data_no_found"
    );
    assert_eq!(
        code(w.flows.rename(&them, id, "Mine", None).unwrap_err()),
        "data_no_found"
    );
    assert_eq!(
        code(w.flows.set_enabled(&them, id, false).unwrap_err()),
        "data_no_found"
    );
    assert_eq!(
        code(w.flows.delete(&them, &[id]).unwrap_err()),
        "data_no_found"
    );
    let e = w
        .flows
        .save_design(&them, next_version(id, 1, "Mine", DESIGN))
        .unwrap_err();
    assert_eq!(code(e), "data_no_found");
    assert_eq!(w.flows.search(&them, &query(None, 1, 10)).unwrap().total, 0);
    let (flow, _) = w.flows.design(&admin(), id, None).unwrap();
    assert_eq!((flow.name.as_str(), flow.version), ("Cooling", 1));
}

#[test]
fn a_caller_without_the_function_codes_is_refused() {
    let w = world();
    let (id, _) = w
        .flows
        .save_design(&admin(), new_flow("Cooling", DESIGN))
        .unwrap();
    let nobody = Caller::limited(tenant("t1"), Vec::<String>::new());
    let forbidden = |e: WorkflowError| {
        let p = e.problem();
        assert_eq!(
            (p.kind, p.code),
            (ProblemKind::Forbidden, "forbidden_permission")
        );
        p.message
    };
    let msg = forbidden(
        w.flows
            .save_design(&nobody, new_flow("Mine", DESIGN))
            .unwrap_err(),
    );
    assert!(msg.contains("`workflow.add`"), "{msg}");
    forbidden(w.flows.design(&nobody, id, None).unwrap_err());
    // Paging is checked after the permission: a bad page tells a stranger nothing.
    forbidden(w.flows.search(&nobody, &query(None, 0, 10)).unwrap_err());
    forbidden(w.flows.rename(&nobody, id, "x", None).unwrap_err());
    forbidden(w.flows.set_enabled(&nobody, id, false).unwrap_err());
    forbidden(w.flows.delete(&nobody, &[id]).unwrap_err());

    // A viewer may read but not change; an editor may save a version but not create.
    let viewer = Caller::limited(tenant("t1"), ["workflow.view"]);
    assert!(w.flows.design(&viewer, id, None).is_ok());
    assert_eq!(
        w.flows.search(&viewer, &query(None, 1, 10)).unwrap().total,
        1
    );
    let msg = forbidden(
        w.flows
            .save_design(&viewer, next_version(id, 1, "Cooling", DESIGN))
            .unwrap_err(),
    );
    assert!(msg.contains("`workflow.edit`"), "{msg}");
    let editor = Caller::limited(tenant("t1"), ["workflow.edit"]);
    assert_eq!(
        w.flows
            .save_design(&editor, next_version(id, 1, "Cooling", DESIGN),)
            .unwrap(),
        (id, 2)
    );
    forbidden(
        w.flows
            .save_design(&editor, new_flow("New", DESIGN))
            .unwrap_err(),
    );
    let deleter = Caller::limited(tenant("t1"), ["workflow.delete"]);
    w.flows.delete(&deleter, &[id]).unwrap();
}
