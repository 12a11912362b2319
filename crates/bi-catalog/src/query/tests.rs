use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::augmented::{Aggregator, ValidModel};

fn model() -> ValidModel {
    crate::testing::shop_model("shop")
}

fn request(dims: &[&str], measures: &[&str]) -> QueryRequest {
    QueryRequest {
        dimensions: dims.iter().map(|s| s.to_string()).collect(),
        measures: measures.iter().map(|s| s.to_string()).collect(),
        ..QueryRequest::default()
    }
}

fn cref(source: &str, name: &str) -> ColumnRef {
    ColumnRef {
        source: source.into(),
        name: name.into(),
    }
}

#[test]
fn a_one_side_measure_by_a_many_side_dimension_joins_a_distinct_projection() {
    let p = plan(
        &model(),
        &request(&["status"], &["credit"]),
        &BTreeMap::new(),
        100,
    )
    .unwrap();
    assert_eq!(p.branches.len(), 1);
    let b = &p.branches[0];
    assert_eq!(b.from.joins.len(), 1);
    let j = &b.from.joins[0];
    assert_eq!(j.kind, JoinKind::Left);
    assert_eq!(j.on, (cref("c", "id"), cref("o__d", "o__customer_id")));
    let Source::Distinct { columns, .. } = &j.source else {
        panic!("{j:?}")
    };
    assert_eq!(
        columns,
        &[
            (cref("o", "customer_id"), "o__customer_id".to_string()),
            (cref("o", "status"), "o__status".to_string())
        ]
    );
    assert_eq!(
        b.select,
        [
            Select::Dimension {
                column: cref("o__d", "o__status"),
                name: "status".into()
            },
            Select::Measure {
                aggregator: Aggregator::Sum,
                column: cref("c", "credit"),
                name: "credit".into()
            }
        ]
    );
}

#[test]
fn measures_of_two_views_are_two_branches_and_a_many_side_measure_joins_plainly() {
    let p = plan(
        &model(),
        &request(&["region"], &["credit", "sales"]),
        &BTreeMap::new(),
        100,
    )
    .unwrap();
    assert_eq!(p.branches.len(), 2);
    // credit: customers alone; sales: orders joined to customers (many-to-one).
    assert!(p.branches[0].from.joins.is_empty());
    let j = &p.branches[1].from.joins[0];
    assert_eq!(j.on, (cref("o", "customer_id"), cref("c", "id")));
    assert!(matches!(j.source, Source::Table { .. }));
}

#[test]
fn row_permissions_and_filters_become_conditions_and_bad_names_are_named() {
    let perm = Condition::Compare {
        column: "region".into(),
        operator: Operator::Eq,
        operand: Operand::Values(vec![json!("north")]),
    };
    let mut req = request(&["status"], &["sales"]);
    req.filters.push(FieldFilter {
        field: "region".into(),
        operator: Operator::In,
        values: vec![json!("north"), json!("south")],
    });
    req.limit = Some(10_000);
    let p = plan(
        &model(),
        &req,
        &BTreeMap::from([("c".to_string(), perm)]),
        500,
    )
    .unwrap();
    assert_eq!(p.limit, 500);
    let conds: Vec<&str> = p.branches[0]
        .from
        .conditions
        .iter()
        .map(|(v, _)| v.as_str())
        .collect();
    assert_eq!(conds, ["c", "c"]);
    let mut bad = request(&["nope"], &["sales"]);
    bad.order.push(OrderBy {
        field: "credit".into(),
        descending: true,
    });
    let e = plan(&model(), &bad, &BTreeMap::new(), 10).unwrap_err();
    let msgs: Vec<String> = e.iter().map(ToString::to_string).collect();
    assert_eq!(
        msgs,
        [
            "dimensions[0]: the model has no dimension nope",
            "order[0].field: credit is not one of the requested fields"
        ]
    );
}

#[test]
fn filters_and_in_lists_are_capped_and_the_cap_is_named() {
    let filter = |values: usize| FieldFilter {
        field: "region".into(),
        operator: Operator::In,
        values: (0..values).map(|i| json!(format!("r{i}"))).collect(),
    };
    let mut req = request(&["status"], &["sales"]);
    req.filters.push(filter(planner::MAX_IN_VALUES));
    assert!(plan(&model(), &req, &BTreeMap::new(), 10).is_ok());

    req.filters[0] = filter(planner::MAX_IN_VALUES + 1);
    let e = plan(&model(), &req, &BTreeMap::new(), 10).unwrap_err();
    assert_eq!(
        e.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["filters[0].values: takes at most 1000 values, not 1001"]
    );

    req.filters = (0..=planner::MAX_FILTERS).map(|_| filter(1)).collect();
    let e = plan(&model(), &req, &BTreeMap::new(), 10).unwrap_err();
    assert_eq!(
        e.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["filters: at most 32 filters, not 33"]
    );
}
