use super::*;

fn col(name: &str, t: FieldType) -> ColumnInfo {
    ColumnInfo {
        name: name.into(),
        native_type: String::new(),
        field_type: t,
        nullable: true,
    }
}

fn tables(id: Id) -> Option<TableMeta> {
    let (table, columns) = match id.get() {
        1 => (
            "customers",
            vec![
                col("id", FieldType::Integer),
                col("region", FieldType::String),
                col("credit", FieldType::Double),
            ],
        ),
        2 => (
            "orders",
            vec![
                col("id", FieldType::Integer),
                col("customer_id", FieldType::Integer),
                col("amount", FieldType::Double),
                col("status", FieldType::String),
            ],
        ),
        3 => ("elsewhere", vec![col("id", FieldType::Integer)]),
        _ => return None,
    };
    Some(TableMeta {
        table_id: id,
        datasource_id: Id(if id.get() == 3 { 9 } else { 8 }),
        schema: "shop".into(),
        table: table.into(),
        columns,
    })
}

fn view(id: i64, name: &str) -> View {
    View {
        table_id: Id(id),
        name: name.into(),
        alias: None,
    }
}

fn good() -> ModelDefinition {
    ModelDefinition {
        views: vec![view(1, "c"), view(2, "o")],
        dimensions: vec![Dimension {
            name: "region".into(),
            alias: None,
            view: "c".into(),
            value_type: None,
        }],
        measures: vec![Measure {
            name: "amount".into(),
            alias: Some("sales".into()),
            view: "o".into(),
            aggregator: Aggregator::Sum,
        }],
        relations: vec![Relation {
            src_view: "c".into(),
            dest_view: "o".into(),
            link: LinkType::LeftJoin,
            src_field: "id".into(),
            dest_field: "customer_id".into(),
        }],
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
    let m = validate(good(), tables).unwrap();
    assert_eq!(m.tables["o"].table, "orders");
    assert_eq!(m.datasource_id(), Some(Id(8)));
}

#[test]
fn every_bad_name_is_reported_by_field() {
    let mut d = good();
    d.views.push(view(7, "x"));
    d.dimensions[0].name = "regio".into();
    d.measures[0].view = "orderz".into();
    d.relations[0].dest_field = "cust".into();
    assert_eq!(
        fields(d),
        [
            "views[2].id: table 7 not found",
            "dimensions[0].name: column regio not found in view c (shop.customers)",
            "measures[0].name: view orderz is not one of the model's views",
            "relations[0].destFieldName: column cust not found in view o (shop.orders)",
        ]
    );
}

#[test]
fn a_view_whose_table_is_missing_is_reported_once() {
    let mut d = good();
    d.views[1].table_id = Id(7);
    assert_eq!(fields(d), ["views[1].id: table 7 not found"]);
}

#[test]
fn views_must_share_a_datasource_and_relations_must_form_a_tree() {
    let mut d = good();
    d.views.push(view(3, "e"));
    assert_eq!(
        fields(d),
        ["views[2].id: table 3 is of another datasource than the model's other views"]
    );
    let mut d = good();
    d.relations.clear();
    assert_eq!(
        fields(d),
        ["relations: 2 views need 1 relations joining them into one tree, not 0"]
    );
    let mut d = good();
    d.measures[0].name = "status".into();
    assert_eq!(
        fields(d),
        ["measures[0].aggregator: SUM needs a numeric column; status is not"]
    );
}
