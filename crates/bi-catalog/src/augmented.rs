//! Data models (`augmented/create`): views on synced tables, dimensions, measures and the
//! relations that join the views, every name checked against the tables' synced columns.
//!
//! A model is valid when every view names a synced table (once), every dimension and
//! measure names a column of its view, every relation joins two of the model's views on
//! columns they have, and the relations join all the views into one tree (no view left
//! out, no cycle), so that a query has exactly one way to join what it asks for. Every
//! problem is reported, each naming its field (`measures[1].name`) and what is wrong.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use weir_kernel::Id;

use crate::drivers::{ColumnInfo, FieldType};

/// How a measure is aggregated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Aggregator {
    Sum,
    Count,
    Avg,
    /// A count of distinct values.
    Distinct,
    Max,
    Min,
}

impl Aggregator {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sum => "SUM",
            Self::Count => "COUNT",
            Self::Avg => "AVG",
            Self::Distinct => "DISTINCT",
            Self::Max => "MAX",
            Self::Min => "MIN",
        }
    }
}

/// How a relation joins its views. The document reads `LEFTJOIN` as one-to-many (the
/// source is the "one" side) and `RIGHTJOIN` as many-to-one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LinkType {
    LeftJoin,
    RightJoin,
    InnerJoin,
    FullJoin,
}

/// A synced table used by the model, under a name unique in the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    /// The TABLE resource.
    pub table_id: Id,
    pub name: String,
    pub alias: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimension {
    /// A column of the view.
    pub name: String,
    pub alias: Option<String>,
    /// The view's `name`.
    pub view: String,
    /// Default: the column's own type.
    pub value_type: Option<FieldType>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measure {
    /// A column of the view.
    pub name: String,
    pub alias: Option<String>,
    pub view: String,
    pub aggregator: Aggregator,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relation {
    pub src_view: String,
    pub dest_view: String,
    pub link: LinkType,
    pub src_field: String,
    pub dest_field: String,
}

/// A model as its author described it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelDefinition {
    pub views: Vec<View>,
    pub dimensions: Vec<Dimension>,
    pub measures: Vec<Measure>,
    pub relations: Vec<Relation>,
}

/// What the catalog knows of a synced table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableMeta {
    pub table_id: Id,
    /// The datasource the table belongs to: a model's views must share one.
    pub datasource_id: Id,
    pub schema: String,
    pub table: String,
    pub columns: Vec<ColumnInfo>,
}

impl TableMeta {
    pub fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// One thing wrong with a model or a query of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelProblem {
    /// `views[0].id`, `dimensions[2].name`, `relations[0].srcFieldName`, `relations`.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for ModelProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// A model that passed [`validate`], with the tables of its views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidModel {
    pub definition: ModelDefinition,
    /// By view name.
    pub tables: BTreeMap<String, TableMeta>,
}

impl ValidModel {
    pub fn datasource_id(&self) -> Option<Id> {
        self.tables.values().next().map(|t| t.datasource_id)
    }
}

pub(crate) fn problem(field: impl Into<String>, message: impl Into<String>) -> ModelProblem {
    ModelProblem {
        field: field.into(),
        message: message.into(),
    }
}

/// Checks a model against the synced metadata of its tables (`table` answers a TABLE
/// resource of the caller's tenant, or `None`).
pub fn validate(
    def: ModelDefinition,
    table: impl Fn(Id) -> Option<TableMeta>,
) -> Result<ValidModel, Vec<ModelProblem>> {
    let mut out = Vec::new();
    if def.views.is_empty() {
        out.push(problem("views", "a model needs at least one view"));
    }
    if def.dimensions.is_empty() && def.measures.is_empty() {
        out.push(problem(
            "dimensions",
            "a model needs at least one dimension or measure",
        ));
    }
    let mut tables: BTreeMap<String, TableMeta> = BTreeMap::new();
    // Views whose table was not found (or not usable): already reported, so the fields
    // naming them are not reported again as naming an unknown view.
    let mut unresolved: BTreeSet<&str> = BTreeSet::new();
    let mut datasource = None;
    for (i, v) in def.views.iter().enumerate() {
        if v.name.trim().is_empty() {
            out.push(problem(format!("views[{i}].name"), "is required"));
            continue;
        }
        if tables.contains_key(&v.name) {
            out.push(problem(
                format!("views[{i}].name"),
                format!("view {} is named twice", v.name),
            ));
            continue;
        }
        let Some(meta) = table(v.table_id) else {
            out.push(problem(
                format!("views[{i}].id"),
                format!("table {} not found", v.table_id),
            ));
            unresolved.insert(&v.name);
            continue;
        };
        match datasource {
            None => datasource = Some(meta.datasource_id),
            Some(ds) if ds != meta.datasource_id => {
                out.push(problem(
                    format!("views[{i}].id"),
                    format!(
                        "table {} is of another datasource than the model's other views",
                        v.table_id
                    ),
                ));
                unresolved.insert(&v.name);
                continue;
            }
            Some(_) => {}
        }
        tables.insert(v.name.clone(), meta);
    }
    let column_of = |at: String, view: &str, column: &str, out: &mut Vec<ModelProblem>| match tables
        .get(view)
    {
        None if unresolved.contains(view) => {}
        None => out.push(problem(
            at,
            format!("view {view} is not one of the model's views"),
        )),
        Some(t) if t.column(column).is_none() => out.push(problem(
            at,
            format!(
                "column {column} not found in view {view} ({}.{})",
                t.schema, t.table
            ),
        )),
        Some(_) => {}
    };
    let mut names = BTreeSet::new();
    for (i, d) in def.dimensions.iter().enumerate() {
        column_of(format!("dimensions[{i}].name"), &d.view, &d.name, &mut out);
        if !names.insert(output_name(&d.alias, &d.name)) {
            out.push(problem(
                format!("dimensions[{i}].alias"),
                format!(
                    "{} names another field of the model",
                    output_name(&d.alias, &d.name)
                ),
            ));
        }
    }
    for (i, m) in def.measures.iter().enumerate() {
        column_of(format!("measures[{i}].name"), &m.view, &m.name, &mut out);
        let numeric = tables
            .get(&m.view)
            .and_then(|t| t.column(&m.name))
            .is_none_or(|c| matches!(c.field_type, FieldType::Integer | FieldType::Double));
        if !numeric && matches!(m.aggregator, Aggregator::Sum | Aggregator::Avg) {
            out.push(problem(
                format!("measures[{i}].aggregator"),
                format!(
                    "{} needs a numeric column; {} is not",
                    m.aggregator.as_str(),
                    m.name
                ),
            ));
        }
        if !names.insert(output_name(&m.alias, &m.name)) {
            out.push(problem(
                format!("measures[{i}].alias"),
                format!(
                    "{} names another field of the model",
                    output_name(&m.alias, &m.name)
                ),
            ));
        }
    }
    for (i, r) in def.relations.iter().enumerate() {
        column_of(
            format!("relations[{i}].srcFieldName"),
            &r.src_view,
            &r.src_field,
            &mut out,
        );
        column_of(
            format!("relations[{i}].destFieldName"),
            &r.dest_view,
            &r.dest_field,
            &mut out,
        );
        if r.src_view == r.dest_view {
            out.push(problem(
                format!("relations[{i}].destViewName"),
                "a relation joins two different views",
            ));
        }
    }
    if out.is_empty() {
        check_tree(&def, &mut out);
    }
    if out.is_empty() {
        Ok(ValidModel {
            definition: def,
            tables,
        })
    } else {
        Err(out)
    }
}

/// The name a field has in query results: its alias, else its column name.
pub fn output_name(alias: &Option<String>, name: &str) -> String {
    alias
        .as_deref()
        .filter(|a| !a.trim().is_empty())
        .unwrap_or(name)
        .to_owned()
}

/// The relations must join every view into one tree: n views, n-1 relations, connected.
fn check_tree(def: &ModelDefinition, out: &mut Vec<ModelProblem>) {
    let n = def.views.len();
    if def.relations.len() + 1 != n {
        out.push(problem(
            "relations",
            format!(
                "{n} views need {} relations joining them into one tree, not {}",
                n.saturating_sub(1),
                def.relations.len()
            ),
        ));
        return;
    }
    // Union-find over view names: a relation joining two views already joined is a cycle.
    let mut group: BTreeMap<&str, usize> = def
        .views
        .iter()
        .enumerate()
        .map(|(i, v)| (v.name.as_str(), i))
        .collect();
    for (i, r) in def.relations.iter().enumerate() {
        let (a, b) = (group[r.src_view.as_str()], group[r.dest_view.as_str()]);
        if a == b {
            out.push(problem(
                format!("relations[{i}]"),
                format!(
                    "{} and {} are already joined: the relations form a cycle",
                    r.src_view, r.dest_view
                ),
            ));
            return;
        }
        for g in group.values_mut() {
            if *g == b {
                *g = a;
            }
        }
    }
}

#[cfg(test)]
mod tests {
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
}
