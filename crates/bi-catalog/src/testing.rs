//! A small model for tests of queries, here and in the drivers: customers (view `c`: `id`,
//! `region`, `credit`) one-to-many orders (view `o`: `id`, `customer_id`, `amount`,
//! `status`), with the dimensions `region` and `status` and the measures `credit`
//! (SUM of c.credit), `sales` (SUM of o.amount) and `orders` (COUNT of o.id). The tables are
//! `q_customers` and `q_orders` in `schema`.

// Fixtures for tests only: a panic is how a test fails.
#![allow(clippy::expect_used)]

use weir_kernel::Id;

use crate::augmented::{
    Aggregator, Dimension, LinkType, Measure, ModelDefinition, Relation, TableMeta, ValidModel,
    View, validate,
};
use crate::drivers::{ColumnInfo, FieldType};

fn column(name: &str, field_type: FieldType) -> ColumnInfo {
    ColumnInfo {
        name: name.into(),
        native_type: String::new(),
        field_type,
        nullable: true,
    }
}

/// The synced tables of [`shop_model`]: table 1 is customers, table 2 orders.
pub fn shop_tables(schema: &str) -> impl Fn(Id) -> Option<TableMeta> + use<> {
    let schema = schema.to_owned();
    move |id: Id| {
        let (table, columns) = match id.get() {
            1 => (
                "q_customers",
                vec![
                    column("id", FieldType::Integer),
                    column("region", FieldType::String),
                    column("credit", FieldType::Double),
                ],
            ),
            2 => (
                "q_orders",
                vec![
                    column("id", FieldType::Integer),
                    column("customer_id", FieldType::Integer),
                    column("amount", FieldType::Double),
                    column("status", FieldType::String),
                ],
            ),
            _ => return None,
        };
        Some(TableMeta {
            table_id: id,
            datasource_id: Id(9),
            schema: schema.clone(),
            table: table.into(),
            columns,
        })
    }
}

/// A view named `name` on table `id`, without an alias.
pub fn view(id: i64, name: &str) -> View {
    View {
        table_id: Id(id),
        name: name.into(),
        alias: None,
    }
}

/// The definition of [`shop_model`].
pub fn shop_definition() -> ModelDefinition {
    let dimension = |name: &str, view: &str| Dimension {
        name: name.into(),
        alias: None,
        view: view.into(),
        value_type: None,
    };
    let measure = |name: &str, alias: &str, view: &str, aggregator| Measure {
        name: name.into(),
        alias: Some(alias.into()),
        view: view.into(),
        aggregator,
    };
    ModelDefinition {
        views: vec![view(1, "c"), view(2, "o")],
        dimensions: vec![dimension("region", "c"), dimension("status", "o")],
        measures: vec![
            measure("credit", "credit", "c", Aggregator::Sum),
            measure("amount", "sales", "o", Aggregator::Sum),
            measure("id", "orders", "o", Aggregator::Count),
        ],
        relations: vec![Relation {
            src_view: "c".into(),
            dest_view: "o".into(),
            link: LinkType::LeftJoin,
            src_field: "id".into(),
            dest_field: "customer_id".into(),
        }],
    }
}

/// The model, validated.
pub fn shop_model(schema: &str) -> ValidModel {
    validate(shop_definition(), shop_tables(schema)).expect("the shop model is valid")
}
