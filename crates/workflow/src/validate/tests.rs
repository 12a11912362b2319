use super::*;
use crate::design::{Edge, Node};
use serde_json::{Map, Value as Json, json};

fn listener(id: &str) -> Node {
    Node::new(
        id,
        "eventListener",
        "Listen",
        json!({"entities": ["demo.device.d1.temperature"]}),
    )
}

fn output(id: &str) -> Node {
    Node::new(
        id,
        "output",
        "Result",
        json!({"outputVariables": {"t": "{{n1.t}}"}}),
    )
}

fn assigner(id: &str) -> Node {
    Node::new(
        id,
        "entityAssigner",
        "Fan on",
        json!({"exchangePayload": {"demo.device.d1.fan": true}}),
    )
}

fn choice(id: &str) -> Node {
    Node::new(
        id,
        "choice",
        "Hot?",
        json!({"choice": {
            "when": [{"id": "hot", "logicOperator": "AND", "conditions": [
                {"expressionValue": {"key": "{{n1.temperature}}", "operator": "GT", "value": 30}}
            ]}],
            "otherwise": {"id": "else"}
        }}),
    )
}

fn design(nodes: Vec<Node>, edges: Vec<Edge>) -> Design {
    Design {
        nodes,
        edges,
        extra: Map::new(),
    }
}

fn refusal(design: &Design) -> DesignRefusal {
    validate(design, &Limits::default()).expect_err("the design should be refused")
}

fn only(refusal: &DesignRefusal) -> &DesignProblem {
    assert_eq!(refusal.0.len(), 1, "{refusal}");
    &refusal.0[0]
}

fn linear() -> Design {
    design(
        vec![listener("n1"), output("o1")],
        vec![Edge::new("e1", "n1", "o1")],
    )
}

#[test]
fn a_minimal_flow_validates() {
    let flow = validate(&linear(), &Limits::default()).unwrap();
    assert_eq!(flow.entry().id, "n1");
    assert_eq!(flow.entry_component().name, "eventListener");
    assert_eq!(flow.order(), [0, 1]);
    assert_eq!(flow.next(0, None).collect::<Vec<_>>(), [1]);
    assert_eq!(flow.incoming(1), [0]);
    assert_eq!(flow.index_of("o1"), Some(1));
    assert_eq!(flow.component(1).name, "output");
    assert_eq!(flow.into_design(), linear());
}

#[test]
fn unknown_components_are_refused_by_name() {
    let mut d = linear();
    d.nodes[1].component_name = "average".into();
    let r = refusal(&d);
    let p = only(&r);
    assert_eq!(p.rule, Rule::UnknownComponent);
    assert_eq!(
        p.node,
        Some(NodeRef {
            id: "o1".into(),
            name: Some("Result".into())
        })
    );
    assert!(
        p.to_string().starts_with(
            "node \"o1\" (Result): componentName: unknown component \"average\" (known: trigger,"
        ),
        "{p}"
    );
}

#[test]
fn missing_and_mistyped_parameters_name_node_and_field() {
    let mut d = linear();
    d.nodes[0] = Node::new("n1", "eventListener", "Listen", json!({}));
    let r = refusal(&d);
    let p = only(&r);
    assert_eq!(p.rule, Rule::MissingParameter);
    assert_eq!(
        p.to_string(),
        "node \"n1\" (Listen): parameters.entities: is required"
    );

    d.nodes[0] = Node::new("n1", "eventListener", "Listen", json!({"entities": "x"}));
    let r = refusal(&d);
    let p = only(&r);
    assert_eq!(p.rule, Rule::InvalidParameter);
    assert_eq!(
        p.to_string(),
        "node \"n1\" (Listen): parameters.entities: must be a list, not a string"
    );
}

#[test]
fn node_ids_must_be_present_and_unique_and_names_present() {
    let d = design(vec![listener("n1"), output("n1"), assigner(" ")], vec![]);
    let r = refusal(&d);
    // Nothing about reachability: those nodes cannot be the end of an edge anyway.
    let rules: Vec<Rule> = r.0.iter().map(|p| p.rule).collect();
    assert_eq!(rules, [Rule::DuplicateNodeId, Rule::InvalidNodeId]);
    let dup =
        r.0.iter()
            .find(|p| p.rule == Rule::DuplicateNodeId)
            .unwrap();
    assert_eq!(
        dup.to_string(),
        "node \"n1\" (Result): id: node \"n1\" (Listen) has the same id"
    );
    let missing = r.0.iter().find(|p| p.rule == Rule::InvalidNodeId).unwrap();
    assert_eq!(missing.to_string(), "nodes[2] (Fan on): id: is required");

    let mut d = linear();
    d.nodes[1].data.node_name = Some(None);
    let r = refusal(&d);
    assert_eq!(
        only(&r).to_string(),
        "node \"o1\": data.nodeName: is required"
    );
}

#[test]
fn edges_to_or_from_unknown_nodes_are_refused() {
    let d = design(
        vec![listener("n1"), output("o1")],
        vec![
            Edge::new("e1", "n1", "o1"),
            Edge::new("e2", "n1", "ghost"),
            Edge::new("e3", "phantom", "o1"),
        ],
    );
    let r = refusal(&d);
    assert_eq!(r.0.len(), 2, "{r}");
    assert_eq!(r.0[0].rule, Rule::UnknownTarget);
    assert_eq!(
        r.0[0].to_string(),
        "edge \"e2\" from node \"n1\" (Listen) to \"ghost\": target: no node has the id \"ghost\""
    );
    assert_eq!(r.0[0].edge.as_deref(), Some("e2"));
    assert_eq!(r.0[1].rule, Rule::UnknownSource);
    assert_eq!(r.0[1].node.as_ref().unwrap().id, "o1");
    assert_eq!(
        r.0[1].to_string(),
        "edge \"e3\" from \"phantom\" to node \"o1\" (Result): source: no node has the id \"phantom\""
    );
}

#[test]
fn edge_ids_must_be_present_and_unique_and_connections_not_repeated() {
    let d = design(
        vec![listener("n1"), output("o1")],
        vec![
            Edge::new("e1", "n1", "o1"),
            Edge::new("e1", "n1", "o1"),
            Edge::new("", "n1", "o1"),
        ],
    );
    let r = refusal(&d);
    let rules: Vec<Rule> = r.0.iter().map(|p| p.rule).collect();
    assert_eq!(
        rules,
        [
            Rule::DuplicateEdgeId,
            Rule::DuplicateEdge,
            Rule::InvalidEdgeId,
            Rule::DuplicateEdge
        ]
    );
    assert_eq!(
        r.0[2].to_string(),
        "edges[2] from node \"n1\" (Listen) to node \"o1\" (Result): id: is required"
    );
}

#[test]
fn choice_edges_must_name_one_of_its_branches() {
    let d = design(
        vec![listener("n1"), choice("c1"), assigner("a1"), output("o1")],
        vec![
            Edge::new("e1", "n1", "c1"),
            Edge::branch("e2", "c1", "hot", "a1"),
            Edge::branch("e3", "c1", "warm", "o1"),
            Edge::new("e4", "c1", "o1"),
        ],
    );
    let r = refusal(&d);
    assert_eq!(r.0.len(), 2, "{r}");
    assert_eq!(r.0[0].rule, Rule::UnknownBranch);
    assert_eq!(
        r.0[0].to_string(),
        "edge \"e3\" from node \"c1\" (Hot?) to node \"o1\" (Result): sourceHandle: \"warm\" \
         is not a branch of the choice node (its branches: hot, else)"
    );
    assert_eq!(r.0[1].rule, Rule::MissingBranch);
    assert_eq!(r.0[1].field, "sourceHandle");
}

#[test]
fn a_choice_branch_without_an_edge_is_allowed() {
    // Only `hot` is connected: when it is cold the run simply ends.
    let d = design(
        vec![listener("n1"), choice("c1"), assigner("a1")],
        vec![
            Edge::new("e1", "n1", "c1"),
            Edge::branch("e2", "c1", "hot", "a1"),
        ],
    );
    let flow = validate(&d, &Limits::default()).unwrap();
    assert_eq!(flow.next(1, Some("hot")).collect::<Vec<_>>(), [2]);
    assert_eq!(flow.next(1, Some("else")).count(), 0);
    assert_eq!(flow.outgoing(1)[0].branch.as_deref(), Some("hot"));
}

#[test]
fn non_choice_edges_may_carry_a_handle() {
    let mut d = linear();
    d.edges[0].source_handle = Some(Some("source-right".into()));
    let flow = validate(&d, &Limits::default()).unwrap();
    assert_eq!(flow.outgoing(0)[0].branch, None);
    assert_eq!(flow.next(0, None).collect::<Vec<_>>(), [1]);
}

#[test]
fn cycles_are_refused_naming_a_node_on_them() {
    let d = design(
        vec![listener("n1"), assigner("a1"), assigner("a2"), output("o1")],
        vec![
            Edge::new("e1", "n1", "a1"),
            Edge::new("e2", "a1", "a2"),
            Edge::new("e3", "a2", "a1"),
            Edge::new("e4", "a2", "o1"),
        ],
    );
    let r = refusal(&d);
    let p = only(&r);
    assert_eq!(p.rule, Rule::Cycle);
    let on_cycle = &p.node.as_ref().unwrap().id;
    assert!(on_cycle == "a1" || on_cycle == "a2", "{p}");
    assert!(
        p.message == "the node is on a cycle: \"a1\" → \"a2\" → \"a1\""
            || p.message == "the node is on a cycle: \"a2\" → \"a1\" → \"a2\"",
        "{p}"
    );
    assert!(p.to_string().starts_with("node \"a"), "{p}");

    // A node joined to itself.
    let d = design(
        vec![listener("n1"), assigner("a1")],
        vec![Edge::new("e1", "n1", "a1"), Edge::new("e2", "a1", "a1")],
    );
    let r = refusal(&d);
    assert_eq!(
        only(&r).to_string(),
        "node \"a1\" (Fan on): edges: the node is on a cycle: \"a1\" → \"a1\""
    );
}

#[test]
fn a_flow_has_exactly_one_entry() {
    let d = design(vec![output("o1")], vec![]);
    let r = refusal(&d);
    let p = only(&r);
    assert_eq!(p.rule, Rule::NoEntry);
    assert_eq!(
        p.to_string(),
        "design: nodes: no entry node: a flow starts at one trigger, eventListener, \
         simpleTimer, httpIn node"
    );
    assert!(refusal(&design(vec![], vec![])).breaks(Rule::NoEntry));

    let timer = Node::new(
        "t1",
        "simpleTimer",
        "Every minute",
        json!({"timerSettings": {"type": "INTERVAL", "intervalTime": 1, "intervalTimeUnit": "MINUTES"}}),
    );
    let d = design(
        vec![listener("n1"), timer, output("o1")],
        vec![Edge::new("e1", "n1", "o1"), Edge::new("e2", "t1", "o1")],
    );
    let r = refusal(&d);
    let p = only(&r);
    assert_eq!(p.rule, Rule::SeveralEntries);
    assert_eq!(
        p.to_string(),
        "node \"t1\" (Every minute): componentName: a flow has one entry node, and node \
         \"n1\" (Listen) is one already"
    );
}

#[test]
fn no_edge_enters_the_entry_and_none_leaves_an_output() {
    let d = design(
        vec![listener("n1"), assigner("a1"), output("o1")],
        vec![
            Edge::new("e1", "n1", "o1"),
            Edge::new("e2", "o1", "a1"),
            Edge::new("e3", "a1", "n1"),
        ],
    );
    let r = refusal(&d);
    assert!(r.breaks(Rule::EdgeIntoEntry), "{r}");
    assert!(r.breaks(Rule::OutputNotSink), "{r}");
    // n1 → o1 → a1 → n1 is a cycle as well.
    assert!(r.breaks(Rule::Cycle), "{r}");
    let into = r.0.iter().find(|p| p.rule == Rule::EdgeIntoEntry).unwrap();
    assert_eq!(
        into.to_string(),
        "node \"n1\" (Listen): edges: edge \"e3\" enters it, but a run can only start at an \
         entry node"
    );
    let out = r.0.iter().find(|p| p.rule == Rule::OutputNotSink).unwrap();
    assert_eq!(
        out.to_string(),
        "node \"o1\" (Result): edges: edge \"e2\" leaves it, but an output node ends the run"
    );
}

#[test]
fn nodes_the_entry_cannot_reach_are_refused() {
    let d = design(
        vec![listener("n1"), output("o1"), assigner("a1")],
        vec![Edge::new("e1", "n1", "o1")],
    );
    let r = refusal(&d);
    let p = only(&r);
    assert_eq!(p.rule, Rule::Unreachable);
    assert_eq!(
        p.to_string(),
        "node \"a1\" (Fan on): edges: no path from the entry node \"n1\" (Listen) reaches it"
    );
    // A lone entry node is a valid (if idle) flow.
    assert!(validate(&design(vec![listener("n1")], vec![]), &Limits::default()).is_ok());
}

#[test]
fn limits_are_enforced() {
    let limits = Limits {
        max_nodes: 1,
        max_edges: 0,
        max_design_bytes: 10,
    };
    let r = validate(&linear(), &limits).unwrap_err();
    assert_eq!(
        r.to_string(),
        "design: nodes: 2 nodes, more than the limit of 1; design: edges: 1 edges, more than \
         the limit of 0"
    );
    assert!(limits.check_size("0123456789").is_ok());
    let r = limits.check_size("01234567890").unwrap_err();
    assert_eq!(only(&r).rule, Rule::TooLarge);
    assert_eq!(r.to_string(), "design: 11 bytes, more than the limit of 10");

    let json = linear().to_json();
    match parse_and_validate(&json, &limits) {
        Err(WorkflowError::Design(r)) => assert!(r.breaks(Rule::TooLarge)),
        other => panic!("{other:?}"),
    }
    assert_eq!(Limits::default().max_design_bytes, 262_144);
}

#[test]
fn many_problems_are_all_reported_and_the_message_is_capped() {
    let nodes: Vec<Node> = (0..15)
        .map(|i| Node::new(&format!("x{i}"), "nope", "X", Json::Null))
        .collect();
    let r = refusal(&design(nodes, vec![]));
    // 15 unknown components and no entry.
    assert_eq!(r.0.len(), 16);
    assert!(r.to_string().ends_with("; and 6 more"), "{r}");
}

/// eventListener → choice → (hot) entityAssigner → output, (else) webhook → output,
/// as the console saves it: React Flow members, nulls and the viewport included.
const REALISTIC: &str = r#"{
      "version": "1.0.0",
      "viewport": {"x": -120.5, "y": 44, "zoom": 0.8},
      "nodes": [
        {"id": "listener-1", "type": "listener", "componentName": "eventListener",
         "position": {"x": 0, "y": 120}, "width": 240, "height": 64,
         "measured": {"width": 240, "height": 64}, "selected": false, "dragging": false,
         "data": {"nodeName": "Temperature changed", "nodeRemark": "",
                  "parameters": {"entities": ["demo.device.room-1.temperature"],
                                 "entityData": {"keys": ["demo.device.room-1.temperature"]}},
                  "$status": "SUCCESS"}},
        {"id": "ifelse-1", "type": "ifelse", "componentName": "choice",
         "position": {"x": 320, "y": 120}, "width": 280, "height": 160,
         "data": {"nodeName": "Too hot?", "nodeRemark": null,
                  "parameters": {"choice": {
                    "when": [{"id": "branch-hot", "logicOperator": "AND", "expressionType": "condition",
                              "conditions": [{"id": "cond-1",
                                "expressionValue": {"key": "{{listener-1.demo.device.room-1.temperature}}",
                                                    "operator": "GT", "value": "28.5"},
                                "expressionDescription": ""}]}],
                    "otherwise": {"id": "branch-else"}}}}},
        {"id": "assigner-1", "type": "assigner", "componentName": "entityAssigner",
         "position": {"x": 680, "y": 40},
         "data": {"nodeName": "Fan on",
                  "parameters": {"exchangePayload": {"demo.device.room-1.fan": true,
                                                     "demo.device.room-1.fan_speed": 3}}}},
        {"id": "webhook-1", "type": "webhook", "componentName": "webhook",
         "position": {"x": 680, "y": 240},
         "data": {"nodeName": "Notify ops",
                  "parameters": {"webhookUrl": "https://hooks.example.com/weir",
                                 "secretKey": "s3cret",
                                 "inputArguments": {"room": "room-1",
                                                    "temperature": "{{listener-1.demo.device.room-1.temperature}}"}}}},
        {"id": "output-1", "type": "output", "componentName": "output",
         "position": {"x": 1000, "y": 120},
         "data": {"nodeName": "Result",
                  "parameters": {"outputVariables": {"handled": true}}}}
      ],
      "edges": [
        {"id": "xy-edge__listener-1-ifelse-1", "type": "addable", "source": "listener-1",
         "target": "ifelse-1", "sourceHandle": null, "targetHandle": null},
        {"id": "xy-edge__ifelse-1branch-hot-assigner-1", "type": "addable", "source": "ifelse-1",
         "target": "assigner-1", "sourceHandle": "branch-hot", "targetHandle": null},
        {"id": "xy-edge__ifelse-1branch-else-webhook-1", "type": "addable", "source": "ifelse-1",
         "target": "webhook-1", "sourceHandle": "branch-else", "targetHandle": null},
        {"id": "xy-edge__assigner-1-output-1", "type": "addable", "source": "assigner-1",
         "target": "output-1"},
        {"id": "xy-edge__webhook-1-output-1", "type": "addable", "source": "webhook-1",
         "target": "output-1", "animated": true}
      ]
    }"#;

#[test]
fn a_realistic_design_parses_validates_and_round_trips() {
    let flow = parse_and_validate(REALISTIC, &Limits::default()).unwrap();
    assert_eq!(flow.entry().id, "listener-1");
    let ids: Vec<&str> = flow
        .order()
        .iter()
        .map(|&i| flow.node(i).id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "listener-1",
            "ifelse-1",
            "assigner-1",
            "webhook-1",
            "output-1"
        ]
    );
    let choice = flow.index_of("ifelse-1").unwrap();
    let hot: Vec<&str> = flow
        .next(choice, Some("branch-hot"))
        .map(|i| flow.node(i).id.as_str())
        .collect();
    assert_eq!(hot, ["assigner-1"]);
    let otherwise: Vec<&str> = flow
        .next(choice, Some("branch-else"))
        .map(|i| flow.node(i).id.as_str())
        .collect();
    assert_eq!(otherwise, ["webhook-1"]);
    let output = flow.index_of("output-1").unwrap();
    assert_eq!(flow.incoming(output).len(), 2);
    assert!(flow.outgoing(output).is_empty());

    // Re-serialised, the design is the same JSON, unknown members and nulls included.
    let original: Json = serde_json::from_str(REALISTIC).unwrap();
    let again: Json = serde_json::from_str(&flow.design().to_json()).unwrap();
    assert_eq!(again, original);
    // And it parses back to the same design.
    assert_eq!(
        &Design::parse(&flow.design().to_json()).unwrap(),
        flow.design()
    );
}

#[test]
fn every_component_validates_in_a_flow() {
    // One node of each non-entry kind behind a trigger, and each entry kind alone.
    let actions = vec![
        Node::new(
            "sel",
            "entitySelector",
            "Read",
            json!({"entities": ["demo.device.d1.temperature"]}),
        ),
        Node::new(
            "svc",
            "serviceInvocation",
            "Reboot",
            json!({"serviceInvocationSetting": {"serviceEntity": "demo.device.d1.reboot",
                   "serviceParams": {"delay": 5}},
                   "payload": [{"name": "ok", "type": "BOOLEAN"}]}),
        ),
        Node::new(
            "code",
            "code",
            "Compute",
            json!({"expression": {"language": "rhai", "expression": "return {avg: a}"},
                   "inputArguments": {"a": "{{sel.demo.device.d1.temperature}}"},
                   "payload": [{"name": "avg", "type": "DOUBLE"}]}),
        ),
        Node::new(
            "mail",
            "email",
            "Mail",
            json!({"emailConfig": {"useSystemSettings": true},
                   "recipients": ["ops@example.com"], "subject": "Hot", "content": "It is hot"}),
        ),
        output("out"),
    ];
    let trigger = Node::new(
        "trg",
        "trigger",
        "Start",
        json!({"entityConfigs": [{"identify": "room", "name": "Room", "type": "STRING", "required": true}]}),
    );
    let mut nodes = vec![trigger];
    let mut edges = Vec::new();
    let mut prev = "trg".to_string();
    for (i, n) in actions.into_iter().enumerate() {
        edges.push(Edge::new(&format!("e{i}"), &prev, &n.id));
        prev = n.id.clone();
        nodes.push(n);
    }
    let flow = validate(&design(nodes, edges), &Limits::default()).unwrap();
    assert_eq!(flow.order(), [0, 1, 2, 3, 4, 5]);

    let http = Node::new(
        "h",
        "httpIn",
        "Hook",
        json!({"method": "POST", "url": "/orders/{id}"}),
    );
    assert!(validate(&design(vec![http], vec![]), &Limits::default()).is_ok());
}

#[test]
fn the_topological_order_waits_for_every_predecessor() {
    // n1 → a1 → a2 → o1 and n1 → o1: o1 comes after a2 although n1 reaches it first.
    let d = design(
        vec![listener("n1"), output("o1"), assigner("a1"), assigner("a2")],
        vec![
            Edge::new("e1", "n1", "o1"),
            Edge::new("e2", "n1", "a1"),
            Edge::new("e3", "a1", "a2"),
            Edge::new("e4", "a2", "o1"),
        ],
    );
    let flow = validate(&d, &Limits::default()).unwrap();
    assert_eq!(flow.order(), [0, 2, 3, 1]);
}

#[test]
fn a_script_language_weir_cannot_run_is_refused_naming_the_node_and_the_languages() {
    use crate::components::{EXPRESSION_TYPES, SCRIPT_LANGUAGES};
    assert_eq!(
        EXPRESSION_TYPES,
        [&["condition"][..], SCRIPT_LANGUAGES].concat(),
        "a choice branch's script languages are the code nodes'"
    );
    let code = |language: &str| {
        Node::new(
            "code",
            "code",
            "Compute",
            json!({"expression": {"language": language, "expression": "return {a: 1}"}}),
        )
    };
    let edges = || vec![Edge::new("e1", "n1", "code")];
    for language in SCRIPT_LANGUAGES {
        validate(
            &design(vec![listener("n1"), code(language)], edges()),
            &Limits::default(),
        )
        .unwrap();
    }
    for language in ["groovy", "mvel", "python", "JS", "javascript"] {
        let refused = refusal(&design(vec![listener("n1"), code(language)], edges()));
        assert_eq!(
            refused.to_string(),
            format!(
                "node \"code\" (Compute): parameters.expression.language: must be one of \
                 rhai, js, not \"{language}\""
            )
        );
    }
    let branch = Node::new(
        "c",
        "choice",
        "Hot?",
        json!({"choice": {
            "when": [{"id": "hot", "expressionType": "mvel", "conditions": [
                {"expressionValue": "a > 1"}
            ]}],
            "otherwise": {"id": "else"}
        }}),
    );
    let refused = refusal(&design(
        vec![listener("n1"), branch],
        vec![Edge::new("e1", "n1", "c")],
    ));
    assert!(
        refused.to_string().starts_with(
            "node \"c\" (Hot?): parameters.choice.when[0].expressionType: must be one of \
             condition, rhai, js, not \"mvel\""
        ),
        "{refused}"
    );
}
