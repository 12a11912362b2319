//! Two Weir processes on one database fire each timer once (issue 15): every node
//! follows the schedule, only the one holding the flow's lease fires it, and when that
//! node dies the other takes the timer over within `timer_lease_ms + timer_renew_ms`,
//! continuing the same schedule. Each node runs on a tokio runtime of its own, so that
//! shutting that runtime down stops all its tasks at once, as a killed process would:
//! nothing is released. SQLite by default, PostgreSQL with `WEIR_TEST_DATABASE_URL`.

// Test code: a panic is how a test fails (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use weir::{Settings, Weir};
use weir_kernel::{Id, SearchQuery, TenantId};
use weir_storage::testing::TestDatabase;
use weir_workflow::runtime::Runtime;
use weir_workflow::{Caller, SaveDesign};

const LEASE_MS: i64 = 1_500;
const RENEW_MS: i64 = 300;
/// How long after its node died a timer may be without a node, at most.
const TAKEOVER_MS: i64 = LEASE_MS + RENEW_MS;

/// One process: its assembled Weir and its workflow runtime, on a tokio runtime of its own.
struct Node {
    tokio: tokio::runtime::Runtime,
    weir: Weir,
    workflows: Runtime,
}

impl Node {
    fn start(weir: Weir) -> Self {
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let workflows = tokio.block_on(weir.start_workflows()).unwrap();
        Self {
            tokio,
            weir,
            workflows,
        }
    }

    /// Stops every task of the node at once, as if its process were killed.
    fn kill(self) {
        self.tokio.shutdown_background();
    }
}

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

fn caller() -> Caller {
    Caller::system(TenantId::parse("leases").unwrap())
}

/// Saves an enabled flow: `settings` in a simpleTimer whose time an output node returns.
fn timer_flow(weir: &Weir, name: &str, settings: Value) -> Id {
    let design = json!({
        "nodes": [
            {"id": "tick", "componentName": "simpleTimer",
             "data": {"nodeName": "Tick", "parameters": {"timerSettings": settings}}},
            {"id": "out", "componentName": "output",
             "data": {"nodeName": "Out",
                      "parameters": {"outputVariables": {"at": "{{tick.timestamp}}"}}}}
        ],
        "edges": [{"id": "e1", "source": "tick", "target": "out"}]
    });
    let save = SaveDesign {
        name: name.into(),
        enabled: true,
        design_data: design.to_string(),
        ..SaveDesign::default()
    };
    weir.workflow.save_design(&caller(), save).unwrap().0
}

/// The due time of every logged run of the flow (what the timer handed the run).
fn fired(weir: &Weir, flow: Id) -> Vec<i64> {
    let query = SearchQuery {
        page_size: Some(100),
        ..SearchQuery::default()
    };
    let page = weir
        .workflow
        .search_logs(&caller(), flow, None, &query)
        .unwrap();
    let mut due: Vec<i64> = page
        .content
        .iter()
        .map(|log| {
            let log = weir.workflow.run_log(&caller(), log.id).unwrap();
            let out = log.traces.iter().find(|t| t.node_id == "out").unwrap();
            let output: Value = serde_json::from_str(&out.output).unwrap();
            output["at"]
                .as_i64()
                .unwrap_or_else(|| panic!("no due time in {output}"))
        })
        .collect();
    due.sort();
    due
}

/// Settings for a node on the database at `place`, with short leases.
fn settings(place: &TestDatabase) -> Settings {
    let mut settings = Settings::default();
    settings.database.url = place.url.clone();
    settings.database.pool_size = 4;
    settings.workflow.timer_lease_ms = LEASE_MS as u64;
    settings.workflow.timer_renew_ms = RENEW_MS as u64;
    settings
}

fn every_second(weir: &Weir) -> Id {
    timer_flow(
        weir,
        "every second",
        json!({"type": "INTERVAL", "intervalTime": 1, "intervalTimeUnit": "SECONDS"}),
    )
}

/// The index of the one node holding the flow's lease.
fn owner(nodes: &[Node; 2], flow: Id) -> usize {
    let holders: Vec<usize> = (0..2)
        .filter(|&i| nodes[i].workflows.leased_timers().contains(&flow))
        .collect();
    assert_eq!(holders.len(), 1, "one node holds the timer");
    holders[0]
}

#[test]
fn two_nodes_fire_each_timer_once_and_the_survivor_takes_over() {
    let place = TestDatabase::new().unwrap();
    let settings = settings(&place);
    let first = Weir::assemble(settings.clone()).unwrap();
    first.add_tenant("leases", None, None).unwrap();
    let every_second = every_second(&first);
    let once_at = now_ms() / 1000 + 3;
    let once = timer_flow(
        &first,
        "once",
        json!({"type": "ONCE", "executionEpochSecond": once_at}),
    );
    let nodes = [
        Node::start(first),
        Node::start(Weir::assemble(settings).unwrap()),
    ];
    assert_ne!(nodes[0].workflows.node(), nodes[1].workflows.node());

    std::thread::sleep(Duration::from_millis(4_500));
    let owner = owner(&nodes, every_second);
    let before = fired(&nodes[0].weir, every_second);
    assert!(before.len() >= 3, "fired at {before:?}");
    assert!(
        before.windows(2).all(|w| w[0] < w[1]),
        "fired twice: {before:?}"
    );
    assert_eq!(fired(&nodes[0].weir, once), vec![once_at * 1000]);

    let [a, b] = nodes;
    let (dead, survivor) = if owner == 0 { (a, b) } else { (b, a) };
    let killed_at = now_ms();
    dead.kill();
    std::thread::sleep(Duration::from_millis((TAKEOVER_MS + 2_700) as u64));
    assert_eq!(survivor.workflows.leased_timers(), vec![every_second]);

    let due = fired(&survivor.weir, every_second);
    let distinct: BTreeSet<i64> = due.iter().copied().collect();
    assert_eq!(distinct.len(), due.len(), "a due time fired twice: {due:?}");
    // One schedule on both nodes: every due time a whole number of seconds from the first.
    assert!(
        due.iter().all(|t| (t - due[0]) % 1_000 == 0),
        "two schedules: {due:?}"
    );
    let first_after = *due
        .iter()
        .find(|t| **t > killed_at)
        .unwrap_or_else(|| panic!("not taken over: {due:?}, killed at {killed_at}"));
    assert!(
        first_after <= killed_at + TAKEOVER_MS + 1_000 + 300,
        "taken over late: {due:?}, killed at {killed_at}"
    );
    assert!(due.iter().filter(|t| **t > first_after).count() >= 1);
    // The ONCE timer fired before the owner died; the survivor does not fire it again.
    assert_eq!(fired(&survivor.weir, once), vec![once_at * 1000]);
    survivor.tokio.block_on(survivor.workflows.stop_timers());
    assert!(survivor.workflows.leased_timers().is_empty());
}

#[test]
fn a_node_that_stops_cleanly_hands_its_timers_over_before_they_expire() {
    let place = TestDatabase::new().unwrap();
    let settings = settings(&place);
    let first = Weir::assemble(settings.clone()).unwrap();
    first.add_tenant("leases", None, None).unwrap();
    let flow = every_second(&first);
    let nodes = [
        Node::start(first),
        Node::start(Weir::assemble(settings).unwrap()),
    ];
    std::thread::sleep(Duration::from_millis(1_000));
    let owner = owner(&nodes, flow);
    let [a, b] = nodes;
    let (stopping, other) = if owner == 0 { (a, b) } else { (b, a) };
    stopping.tokio.block_on(stopping.workflows.stop_timers());
    let stopped = now_ms();
    assert!(stopping.workflows.leased_timers().is_empty());
    // The stopped node renewed at most RENEW_MS ago: its lease would last until at least
    // LEASE_MS - RENEW_MS from now. The other node takes the timer well before.
    while !other.workflows.leased_timers().contains(&flow) {
        assert!(
            now_ms() - stopped < LEASE_MS - RENEW_MS,
            "not handed over before the lease expired"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
