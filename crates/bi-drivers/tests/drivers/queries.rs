//! Data model queries run for real on each backend, with the same data and the same
//! expected answers: a measure is never multiplied by a join, row permissions and filters
//! narrow the rows, values are bound.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};
use weir_bi_catalog::augmented::ValidModel;
use weir_bi_catalog::drivers::{ConnectionSpec, Drivers};
use weir_bi_catalog::query::{
    Condition, FieldFilter, Operand, Operator, OrderBy, QueryRequest, plan,
};

/// The tables every backend's fixture creates, in its own SQL.
pub const CUSTOMERS: &[(i64, &str, f64)] =
    &[(1, "north", 100.0), (2, "north", 50.0), (3, "south", 10.0)];
pub const ORDERS: &[(i64, i64, f64, &str)] = &[
    (1, 1, 5.0, "paid"),
    (2, 1, 7.0, "paid"),
    (3, 1, 1.0, "open"),
    (4, 2, 2.0, "paid"),
    (5, 3, 4.0, "open"),
];

/// `INSERT` statements for the fixture rows, in any of the three dialects.
pub fn inserts(customers: &str, orders: &str) -> Vec<String> {
    let mut out: Vec<String> = CUSTOMERS
        .iter()
        .map(|(id, region, credit)| {
            format!("INSERT INTO {customers} VALUES ({id}, '{region}', {credit})")
        })
        .collect();
    out.extend(ORDERS.iter().map(|(id, c, amount, status)| {
        format!("INSERT INTO {orders} VALUES ({id}, {c}, {amount}, '{status}')")
    }));
    out
}

fn model(schema: &str) -> ValidModel {
    weir_bi_catalog::testing::shop_model(schema)
}

/// Rows as `[[cells...]]` with numbers as f64, for comparisons across backends (PostgreSQL
/// answers numeric sums as JSON numbers, MySQL decimals too, SQLite reals).
fn run(
    spec: &ConnectionSpec,
    schema: &str,
    req: QueryRequest,
    perms: BTreeMap<String, Condition>,
) -> Vec<Vec<Json>> {
    let p = plan(&model(schema), &req, &perms, 1000).unwrap();
    let rows = crate::common::drivers().query(spec, &p).unwrap();
    rows.rows
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|v| match v {
                    Json::Number(n) => json!(n.as_f64().unwrap()),
                    other => other,
                })
                .collect()
        })
        .collect()
}

fn ask(dims: &[&str], measures: &[&str], order: &str) -> QueryRequest {
    QueryRequest {
        dimensions: dims.iter().map(|s| s.to_string()).collect(),
        measures: measures.iter().map(|s| s.to_string()).collect(),
        order: vec![OrderBy {
            field: order.into(),
            descending: false,
        }],
        ..QueryRequest::default()
    }
}

/// The same answers on every backend.
pub fn check_queries(spec: &ConnectionSpec, schema: &str) {
    // A one-side measure by a many-side dimension: each customer's credit once per status
    // they have orders in (a plain join would say paid: 250).
    assert_eq!(
        run(
            spec,
            schema,
            ask(&["status"], &["credit"], "status"),
            BTreeMap::new()
        ),
        [[json!("open"), json!(110.0)], [json!("paid"), json!(150.0)]]
    );
    // Measures of both views by region.
    assert_eq!(
        run(
            spec,
            schema,
            ask(&["region"], &["credit", "sales", "orders"], "region"),
            BTreeMap::new()
        ),
        [
            [json!("north"), json!(150.0), json!(15.0), json!(4.0)],
            [json!("south"), json!(10.0), json!(4.0), json!(1.0)]
        ]
    );
    // A row permission (north only) and a filter (status starting with "pa").
    let mut req = ask(&["region"], &["sales"], "region");
    req.filters.push(FieldFilter {
        field: "status".into(),
        operator: Operator::StartsWith,
        values: vec![json!("pa")],
    });
    let perm = Condition::Compare {
        column: "region".into(),
        operator: Operator::In,
        operand: Operand::Values(vec![json!("north"), json!("x' OR '1'='1")]),
    };
    assert_eq!(
        run(spec, schema, req, BTreeMap::from([("c".to_string(), perm)])),
        [[json!("north"), json!(14.0)]]
    );
    // A permission narrows every query of the model: orders alone, by status, keep only
    // the orders of northern customers...
    let north = Condition::Compare {
        column: "region".into(),
        operator: Operator::Eq,
        operand: Operand::Values(vec![json!("north")]),
    };
    assert_eq!(
        run(
            spec,
            schema,
            ask(&["status"], &["sales"], "status"),
            BTreeMap::from([("c".to_string(), north)])
        ),
        [[json!("open"), json!(1.0)], [json!("paid"), json!(14.0)]]
    );
    // ...and a permission on the many side keeps the customers with at least one order
    // that passes, each counted once.
    let paid = Condition::Compare {
        column: "status".into(),
        operator: Operator::Eq,
        operand: Operand::Values(vec![json!("paid")]),
    };
    assert_eq!(
        run(
            spec,
            schema,
            ask(&["region"], &["credit"], "region"),
            BTreeMap::from([("o".to_string(), paid)])
        ),
        [[json!("north"), json!(150.0)]]
    );
    // A value that looks like SQL is only a value; a LIKE wildcard in it matches itself.
    let mut req = ask(&["status"], &["sales"], "status");
    req.filters.push(FieldFilter {
        field: "status".into(),
        operator: Operator::StartsWith,
        values: vec![json!("%")],
    });
    assert!(run(spec, schema, req, BTreeMap::new()).is_empty());
    // The dry run's statement is the one that ran.
    let p = plan(
        &model(schema),
        &ask(&["region"], &["sales"], "region"),
        &BTreeMap::new(),
        2,
    )
    .unwrap();
    let st = crate::common::drivers().statement(spec, &p).unwrap();
    assert!(st.sql.ends_with("LIMIT 2"), "{}", st.sql);
}
