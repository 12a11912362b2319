//! Run logs: recorded in batches for the engine, listed per flow newest first, read with
//! their node traces, scoped to the caller's tenant and flows, deleted with their flow and
//! purged by age.

use std::sync::Arc;

use weir_kernel::{AsProblem, Id, IdGenerator, ProblemKind, SearchQuery, SystemClock, TenantId};
use weir_storage::testing::TestDatabase;

use crate::tenant;
use weir_workflow::errors::WorkflowError;
use weir_workflow::{
    Caller, NodeTrace, RunLog, RunStatus, SaveDesign, WorkflowPorts, WorkflowService,
    WorkflowSettings,
};

/// The smallest design: one listener.
const LISTENER_ONLY: &str = r#"{"nodes": [{"id": "n1", "componentName": "eventListener",
  "data": {"nodeName": "Listen", "parameters": {"entities": ["demo.device.d1.t"]}}}],
  "edges": []}"#;

struct World {
    flows: WorkflowService,
    ids: IdGenerator,
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
    World {
        flows,
        ids: IdGenerator::new(2, Box::new(SystemClock)),
        _db: place,
    }
}

fn admin() -> Caller {
    Caller::system(tenant("t1")).as_user(Id(7))
}

fn code(e: WorkflowError) -> &'static str {
    e.problem().code
}

fn kind(e: &WorkflowError) -> ProblemKind {
    e.problem().kind
}

fn query(number: i64, size: i64) -> SearchQuery {
    SearchQuery {
        keyword: None,
        page_number: Some(number),
        page_size: Some(size),
        sorts: vec![],
    }
}

impl World {
    /// A new flow of the caller's tenant.
    fn flow(&self, c: &Caller, name: &str) -> Id {
        self.flows
            .save_design(
                c,
                SaveDesign {
                    name: name.into(),
                    enabled: true,
                    design_data: LISTENER_ONLY.into(),
                    ..SaveDesign::default()
                },
            )
            .unwrap()
            .0
    }

    /// A run of `flow_id` started at `start`, with no traces.
    fn log(&self, t: &TenantId, flow_id: Id, status: RunStatus, start: i64) -> RunLog {
        RunLog {
            id: self.ids.next_id(),
            tenant_id: t.clone(),
            flow_id,
            version: 1,
            status,
            start_time: start,
            time_cost: 5,
            message: match status {
                RunStatus::Success => String::new(),
                RunStatus::Error => "node \"n1\" (Listen): boom".into(),
            },
            traces: vec![],
        }
    }
}

fn trace(message_id: &str, node_id: &str, status: RunStatus, start: i64) -> NodeTrace {
    NodeTrace {
        message_id: message_id.into(),
        node_id: node_id.into(),
        node_label: format!("Node «{node_id}» \"quoted\""),
        status,
        start_time: start,
        time_cost: 3,
        error_message: (status == RunStatus::Error).then(|| "division by zero\nline 2".into()),
        input: r#"{"demo.device.d1.t": 21.5, "nested": {"a": [1, 2]}}"#.into(),
        output: r#"{"ok": tr…"#.into(),
    }
}

fn ids_of(logs: &[RunLog]) -> Vec<Id> {
    logs.iter().map(|l| l.id).collect()
}

#[test]
fn a_batch_is_recorded_and_each_log_read_back_with_its_traces() {
    let w = world();
    let t1 = tenant("t1");
    let flow = w.flow(&admin(), "Cooling");
    let mut ok = w.log(&t1, flow, RunStatus::Success, 1_000);
    ok.version = 3;
    ok.traces = vec![
        trace("m-1", "n1", RunStatus::Success, 1_000),
        trace("m-1", "n2", RunStatus::Success, 1_002),
    ];
    let mut failed = w.log(&t1, flow, RunStatus::Error, 2_000);
    failed.time_cost = 42;
    failed.traces = vec![
        trace("m-2", "n1", RunStatus::Success, 2_000),
        trace("m-2", "code-1", RunStatus::Error, 2_010),
    ];
    let bare = w.log(&t1, flow, RunStatus::Success, 3_000);
    w.flows
        .record_logs(&[ok.clone(), failed.clone(), bare.clone()])
        .unwrap();
    w.flows.record_logs(&[]).unwrap();

    for log in [&ok, &failed, &bare] {
        assert_eq!(&w.flows.run_log(&admin(), log.id).unwrap(), log);
    }
    let read = w.flows.run_log(&admin(), failed.id).unwrap();
    let t = &read.traces[1];
    assert_eq!(
        (t.message_id.as_str(), t.node_id.as_str(), t.status),
        ("m-2", "code-1", RunStatus::Error)
    );
    assert_eq!(t.node_label, "Node «code-1» \"quoted\"");
    assert_eq!((t.start_time, t.time_cost), (2_010, 3));
    assert_eq!(t.error_message.as_deref(), Some("division by zero\nline 2"));
    assert_eq!(
        t.input,
        r#"{"demo.device.d1.t": 21.5, "nested": {"a": [1, 2]}}"#
    );
    assert_eq!(t.output, r#"{"ok": tr…"#);
    assert_eq!(read.traces[0].error_message, None);
    assert_eq!(
        (read.status, read.time_cost, read.message.as_str()),
        (RunStatus::Error, 42, "node \"n1\" (Listen): boom")
    );
}

#[test]
fn logs_are_searched_newest_first_by_status_and_page_without_traces() {
    let w = world();
    let t1 = tenant("t1");
    let flow = w.flow(&admin(), "Cooling");
    let other = w.flow(&admin(), "Heating");
    // Five runs of `flow`, two of them at the same time (the newer id first), and one run
    // of another flow.
    let mut logs: Vec<RunLog> = [
        (RunStatus::Success, 1_000),
        (RunStatus::Error, 2_000),
        (RunStatus::Success, 3_000),
        (RunStatus::Success, 3_000),
        (RunStatus::Error, 4_000),
    ]
    .into_iter()
    .map(|(s, at)| {
        let mut log = w.log(&t1, flow, s, at);
        log.traces = vec![trace("m", "n1", s, at)];
        log
    })
    .collect();
    logs.push(w.log(&t1, other, RunStatus::Success, 5_000));
    w.flows.record_logs(&logs).unwrap();

    let all = w
        .flows
        .search_logs(&admin(), flow, None, &query(1, 10))
        .unwrap();
    assert_eq!(all.total, 5);
    assert_eq!(
        ids_of(&all.content),
        vec![logs[4].id, logs[3].id, logs[2].id, logs[1].id, logs[0].id]
    );
    assert!(all.content.iter().all(|l| l.traces.is_empty()));
    let mut head = logs[4].clone();
    head.traces.clear();
    assert_eq!(all.content[0], head);

    let page = w
        .flows
        .search_logs(&admin(), flow, None, &query(2, 2))
        .unwrap();
    assert_eq!((page.total, page.page_number, page.page_size), (5, 2, 2));
    assert_eq!(ids_of(&page.content), vec![logs[2].id, logs[1].id]);
    let past = w
        .flows
        .search_logs(&admin(), flow, None, &query(4, 2))
        .unwrap();
    assert_eq!((past.total, past.content.len()), (5, 0));

    let errors = w
        .flows
        .search_logs(&admin(), flow, Some("ERROR"), &query(1, 10))
        .unwrap();
    assert_eq!(errors.total, 2);
    assert_eq!(ids_of(&errors.content), vec![logs[4].id, logs[1].id]);
    let successes = w
        .flows
        .search_logs(&admin(), flow, Some("success"), &query(1, 1))
        .unwrap();
    assert_eq!(successes.total, 3);
    assert_eq!(ids_of(&successes.content), vec![logs[3].id]);
    let blank = w
        .flows
        .search_logs(&admin(), flow, Some(""), &query(1, 10))
        .unwrap();
    assert_eq!(blank.total, 5);

    let e = w
        .flows
        .search_logs(&admin(), flow, Some("FAILED"), &query(1, 10))
        .unwrap_err();
    assert_eq!(e.to_string(), "status: must be SUCCESS or ERROR");
    assert_eq!(code(e), "parameter_validation_failed");

    let e = w
        .flows
        .search_logs(&admin(), Id(123_456), None, &query(1, 10))
        .unwrap_err();
    assert_eq!(e.to_string(), "flow 123456 not found");
    assert_eq!(kind(&e), ProblemKind::NotFound);
}

#[test]
fn another_tenants_logs_are_not_found() {
    let w = world();
    let t1 = tenant("t1");
    let flow = w.flow(&admin(), "Cooling");
    let log = w.log(&t1, flow, RunStatus::Success, 1_000);
    w.flows.record_logs(std::slice::from_ref(&log)).unwrap();

    let stranger = Caller::system(tenant("t2"));
    let e = w.flows.run_log(&stranger, log.id).unwrap_err();
    assert_eq!(e.to_string(), format!("log {} not found", log.id));
    assert_eq!(kind(&e), ProblemKind::NotFound);
    let e = w
        .flows
        .search_logs(&stranger, flow, None, &query(1, 10))
        .unwrap_err();
    assert_eq!(e.to_string(), format!("flow {flow} not found"));
    let e = w.flows.run_log(&admin(), Id(987_654)).unwrap_err();
    assert_eq!(e.to_string(), "log 987654 not found");
}

#[test]
fn a_limited_caller_sees_only_the_logs_of_flows_it_sees() {
    let w = world();
    let t1 = tenant("t1");
    let granted = w.flow(&admin(), "Granted");
    let hidden = w.flow(&admin(), "Hidden");
    let seen = w.log(&t1, granted, RunStatus::Success, 1_000);
    let unseen = w.log(&t1, hidden, RunStatus::Error, 2_000);
    w.flows
        .record_logs(&[seen.clone(), unseen.clone()])
        .unwrap();

    let viewer = Caller::limited(t1.clone(), ["workflow.view"]).with_flows([granted]);
    assert_eq!(w.flows.run_log(&viewer, seen.id).unwrap(), seen);
    let found = w
        .flows
        .search_logs(&viewer, granted, None, &query(1, 10))
        .unwrap();
    assert_eq!(ids_of(&found.content), vec![seen.id]);

    let e = w.flows.run_log(&viewer, unseen.id).unwrap_err();
    assert_eq!(e.to_string(), format!("log {} not found", unseen.id));
    let e = w
        .flows
        .search_logs(&viewer, hidden, None, &query(1, 10))
        .unwrap_err();
    assert_eq!(e.to_string(), format!("flow {hidden} not found"));

    let blind = Caller::limited(t1, ["workflow.edit"]);
    let e = w.flows.run_log(&blind, seen.id).unwrap_err();
    assert_eq!(code(e), "forbidden_permission");
    let e = w
        .flows
        .search_logs(&blind, granted, None, &query(1, 10))
        .unwrap_err();
    assert_eq!(code(e), "forbidden_permission");
}

#[test]
fn deleting_a_flow_deletes_its_logs_and_a_late_batch_drops_them() {
    let w = world();
    let t1 = tenant("t1");
    let doomed = w.flow(&admin(), "Doomed");
    let kept = w.flow(&admin(), "Kept");
    let gone = w.log(&t1, doomed, RunStatus::Success, 1_000);
    let stays = w.log(&t1, kept, RunStatus::Success, 1_000);
    w.flows.record_logs(&[gone.clone(), stays.clone()]).unwrap();

    w.flows.delete(&admin(), &[doomed]).unwrap();
    let e = w.flows.run_log(&admin(), gone.id).unwrap_err();
    assert_eq!(kind(&e), ProblemKind::NotFound);
    assert_eq!(w.flows.run_log(&admin(), stays.id).unwrap(), stays);
    // The purge of everything finds only the kept flow's log: the other went with its flow.
    assert_eq!(w.flows.purge_logs(i64::MAX).unwrap(), 1);

    // A batch written after its flow was deleted keeps the logs of the flows that exist;
    // a log naming another tenant's flow is dropped too.
    let late = w.log(&t1, doomed, RunStatus::Error, 2_000);
    let fine = w.log(&t1, kept, RunStatus::Success, 2_000);
    let foreign = w.log(&tenant("t2"), kept, RunStatus::Success, 2_000);
    w.flows
        .record_logs(&[late.clone(), fine.clone(), foreign.clone()])
        .unwrap();
    assert_eq!(w.flows.run_log(&admin(), fine.id).unwrap(), fine);
    assert!(w.flows.run_log(&admin(), late.id).is_err());
    assert!(
        w.flows
            .run_log(&Caller::system(tenant("t2")), foreign.id)
            .is_err()
    );
    let page = w
        .flows
        .search_logs(&admin(), kept, None, &query(1, 10))
        .unwrap();
    assert_eq!(ids_of(&page.content), vec![fine.id]);
}

#[test]
fn a_purge_deletes_only_older_logs_of_every_tenant() {
    let w = world();
    let t1 = tenant("t1");
    let t2 = tenant("t2");
    let flow1 = w.flow(&admin(), "One");
    let flow2 = w.flow(&Caller::system(t2.clone()), "Two");
    let old1 = w.log(&t1, flow1, RunStatus::Success, 1_000);
    let old2 = w.log(&t2, flow2, RunStatus::Error, 1_999);
    let edge = w.log(&t1, flow1, RunStatus::Success, 2_000);
    let new2 = w.log(&t2, flow2, RunStatus::Success, 3_000);
    w.flows
        .record_logs(&[old1.clone(), old2.clone(), edge.clone(), new2.clone()])
        .unwrap();

    assert_eq!(w.flows.purge_logs(2_000).unwrap(), 2);
    assert_eq!(w.flows.purge_logs(2_000).unwrap(), 0);
    assert!(w.flows.run_log(&admin(), old1.id).is_err());
    assert!(
        w.flows
            .run_log(&Caller::system(t2.clone()), old2.id)
            .is_err()
    );
    assert_eq!(w.flows.run_log(&admin(), edge.id).unwrap(), edge);
    assert_eq!(w.flows.run_log(&Caller::system(t2), new2.id).unwrap(), new2);
}

#[test]
fn a_batch_larger_than_one_statement_is_recorded_and_purged_whole() {
    let w = world();
    let t1 = tenant("t1");
    let flow = w.flow(&admin(), "Busy");
    let logs: Vec<RunLog> = (0..2_500)
        .map(|i| {
            let status = if i % 5 == 0 {
                RunStatus::Error
            } else {
                RunStatus::Success
            };
            let mut log = w.log(&t1, flow, status, 10_000 + i);
            log.traces = vec![trace(&format!("m-{i}"), "n1", status, 10_000 + i)];
            log
        })
        .collect();
    w.flows.record_logs(&logs).unwrap();

    let page = w
        .flows
        .search_logs(&admin(), flow, None, &query(1, 3))
        .unwrap();
    assert_eq!(page.total, 2_500);
    assert_eq!(
        ids_of(&page.content),
        vec![logs[2_499].id, logs[2_498].id, logs[2_497].id]
    );
    let errors = w
        .flows
        .search_logs(&admin(), flow, Some("ERROR"), &query(1, 1))
        .unwrap();
    assert_eq!(errors.total, 500);
    for i in [0, 999, 1_000, 2_499] {
        assert_eq!(w.flows.run_log(&admin(), logs[i].id).unwrap(), logs[i]);
    }

    assert_eq!(w.flows.purge_logs(10_000 + 1_500).unwrap(), 1_500);
    let rest = w
        .flows
        .search_logs(&admin(), flow, None, &query(1, 1))
        .unwrap();
    assert_eq!(rest.total, 1_000);
}

#[test]
fn a_purge_of_more_than_one_batch_goes_on_until_none_is_left() {
    let w = world();
    let t1 = tenant("t1");
    let flow = w.flow(&admin(), "Chatty");
    let logs: Vec<RunLog> = (0..10_050)
        .map(|i| w.log(&t1, flow, RunStatus::Success, 1_000 + i))
        .collect();
    w.flows.record_logs(&logs).unwrap();
    let newest = logs.last().unwrap();

    assert_eq!(w.flows.purge_logs(newest.start_time).unwrap(), 10_049);
    let rest = w
        .flows
        .search_logs(&admin(), flow, None, &query(1, 10))
        .unwrap();
    assert_eq!(ids_of(&rest.content), vec![newest.id]);
}
