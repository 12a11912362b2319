//! The timer leases in the database (`TimerLeases` over `timer_leases`): which node fires
//! each timer flow, on both backends.

use std::sync::Arc;

use weir_kernel::{Id, IdGenerator, SystemClock};
use weir_storage::Database;
use weir_workflow::{Caller, SaveDesign, TimerLeases, WorkflowPorts, WorkflowService};

use crate::tenant;

const TIMER: &str = r#"{"nodes": [{"id": "t", "componentName": "simpleTimer",
  "data": {"nodeName": "Tick", "parameters": {"timerSettings":
    {"type": "INTERVAL", "intervalTime": 1, "intervalTimeUnit": "MINUTES"}}}}],
  "edges": []}"#;

fn flows(db: &Database) -> WorkflowService {
    WorkflowService::new(
        WorkflowPorts {
            store: Arc::new(db.clone()),
            ids: Arc::new(IdGenerator::new(3, Box::new(SystemClock))),
            clock: Arc::new(SystemClock),
        },
        weir_workflow::WorkflowSettings::default(),
    )
}

fn timer(service: &WorkflowService, name: &str, enabled: bool) -> Id {
    let c = Caller::system(tenant("t1"));
    let save = SaveDesign {
        name: name.into(),
        enabled,
        design_data: TIMER.into(),
        ..SaveDesign::default()
    };
    service.save_design(&c, save).unwrap().0
}

fn sorted(mut ids: Vec<Id>) -> Vec<Id> {
    ids.sort();
    ids
}

#[test]
fn a_lease_is_taken_when_free_expired_or_already_the_claimers() {
    let (_place, db) = crate::database_with_tenants();
    let service = flows(&db);
    let (f1, f2) = (timer(&service, "one", true), timer(&service, "two", true));
    let both = [f1, f2];
    assert_eq!(sorted(db.claim("a", &[f1], 0, 10_000).unwrap()), vec![f1]);
    // b gets the free one only; a's is live.
    assert_eq!(db.claim("b", &both, 100, 10_100).unwrap(), vec![f2]);
    // a renews its own, whatever the time.
    assert_eq!(db.claim("a", &both, 9_000, 19_000).unwrap(), vec![f1]);
    assert_eq!(db.claim("b", &both, 15_000, 25_000).unwrap(), vec![f2]);
    // a stopped renewing: once its lease has expired, b takes it.
    assert_eq!(
        sorted(db.claim("b", &both, 19_001, 29_001).unwrap()),
        sorted(both.to_vec())
    );
    assert!(db.claim("a", &both, 19_002, 29_002).unwrap().is_empty());
    // A release is the node's own: a's leaves b's leases, b's frees them at once.
    db.release("a", &both).unwrap();
    assert_eq!(crate::count(&db, "timer_leases"), 2);
    db.release("b", &[f1]).unwrap();
    assert_eq!(db.claim("a", &both, 19_003, 29_003).unwrap(), vec![f1]);
    assert!(db.claim("a", &[], 19_004, 29_004).unwrap().is_empty());
}

#[test]
fn only_enabled_flows_that_exist_are_leased() {
    let (_place, db) = crate::database_with_tenants();
    let service = flows(&db);
    let on = timer(&service, "on", true);
    let off = timer(&service, "off", false);
    let c = Caller::system(tenant("t1"));
    let gone = timer(&service, "gone", true);
    service.delete(&c, &[gone]).unwrap();
    assert_eq!(
        db.claim("a", &[on, off, gone, Id(42)], 0, 10_000).unwrap(),
        vec![on]
    );
    assert_eq!(crate::count(&db, "timer_leases"), 1);
    // More flows than one statement names (they are claimed in chunks).
    let many: Vec<Id> = (1..2_500).map(Id).chain([on]).collect();
    assert_eq!(db.claim("a", &many, 2, 10_002).unwrap(), vec![on]);
    // Disabled since: no longer renewed.
    service.set_enabled(&c, on, false).unwrap();
    assert!(db.claim("a", &[on], 1, 10_001).unwrap().is_empty());
}
