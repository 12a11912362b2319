use super::*;
use crate::testing::{shop_definition, shop_tables, view};

/// The shop's tables (datasource 9), and table 3: customers again, on datasource 8.
fn tables(id: Id) -> Option<TableMeta> {
    match id.get() {
        3 => shop_tables("shop")(Id(1)).map(|customers| TableMeta {
            table_id: id,
            datasource_id: Id(8),
            table: "elsewhere".into(),
            ..customers
        }),
        _ => shop_tables("shop")(id),
    }
}

fn fields(def: ModelDefinition) -> Vec<String> {
    validate(def, tables)
        .unwrap_err()
        .into_iter()
        .map(|p| p.to_string())
        .collect()
}

#[test]
fn a_model_on_synced_columns_joined_into_a_tree_is_valid() {
    let m = validate(shop_definition(), tables).unwrap();
    assert_eq!(m.tables["o"].table, "q_orders");
    assert_eq!(m.datasource_id(), Some(Id(9)));
}

#[test]
fn every_bad_name_is_reported_by_field() {
    let mut d = shop_definition();
    d.views.push(view(7, "x"));
    d.dimensions[0].name = "regio".into();
    d.measures[0].view = "orderz".into();
    d.relations[0].dest_field = "cust".into();
    assert_eq!(
        fields(d),
        [
            "views[2].id: table 7 not found",
            "dimensions[0].name: column regio not found in view c (shop.q_customers)",
            "measures[0].name: view orderz is not one of the model's views",
            "relations[0].destFieldName: column cust not found in view o (shop.q_orders)",
        ]
    );
}

#[test]
fn a_view_whose_table_is_missing_is_reported_once() {
    let mut d = shop_definition();
    d.views[1].table_id = Id(7);
    assert_eq!(fields(d), ["views[1].id: table 7 not found"]);
}

#[test]
fn views_must_share_a_datasource_and_relations_must_form_a_tree() {
    let mut d = shop_definition();
    d.views.push(view(3, "e"));
    assert_eq!(
        fields(d),
        ["views[2].id: table 3 is of another datasource than the model's other views"]
    );
    let mut d = shop_definition();
    d.relations.clear();
    assert_eq!(
        fields(d),
        ["relations: 2 views need 1 relations joining them into one tree, not 0"]
    );
    let mut d = shop_definition();
    d.measures[1].name = "status".into();
    assert_eq!(
        fields(d),
        ["measures[1].aggregator: SUM needs a numeric column; status is not"]
    );
}
