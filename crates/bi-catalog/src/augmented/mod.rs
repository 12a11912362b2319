//! Data models (`augmented/create`): views on synced tables, dimensions, measures and the
//! relations that join the views, every name checked against the tables' synced columns.
//!
//! A model is valid when every view names a synced table (once), every dimension and
//! measure names a column of its view, every relation joins two of the model's views on
//! columns they have, and the relations join all the views into one tree (no view left
//! out, no cycle), so that a query has exactly one way to join what it asks for. Every
//! problem is reported, each naming its field (`measures[1].name`) and what is wrong.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use weir_kernel::Id;

use crate::drivers::{ColumnInfo, FieldType};

#[cfg(test)]
mod tests;
mod validate;

pub use validate::validate;

/// How a measure is aggregated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Aggregator {
    /// The sum of the column's values; numeric columns only.
    Sum,
    /// The number of rows with a value in the column (SQL `COUNT(column)`).
    Count,
    /// The mean of the column's values; numeric columns only.
    Avg,
    /// A count of distinct values.
    Distinct,
    /// The largest value.
    Max,
    /// The smallest value.
    Min,
}

impl Aggregator {
    /// The aggregator's name as the document writes it (`SUM`, `DISTINCT`...).
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
    /// One-to-many from the source view to the destination view; a SQL left join.
    LeftJoin,
    /// Many-to-one from the source view to the destination view; a SQL right join.
    RightJoin,
    /// One-to-one; a SQL inner join.
    InnerJoin,
    /// One-to-one; a SQL full outer join.
    FullJoin,
}

/// A synced table used by the model, under a name unique in the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    /// The TABLE resource.
    pub table_id: Id,
    /// The view's name in the model, which dimensions, measures and relations refer to;
    /// also the table's alias in the SQL a query becomes.
    pub name: String,
    /// A display name; queries do not use it.
    pub alias: Option<String>,
}

/// A column of a view that query results can be grouped and filtered by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimension {
    /// A column of the view.
    pub name: String,
    /// The name the dimension has in queries and results; blank or `None` means its column name.
    pub alias: Option<String>,
    /// The view's `name`.
    pub view: String,
    /// Default: the column's own type.
    pub value_type: Option<FieldType>,
}

/// A column of a view aggregated in query results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measure {
    /// A column of the view.
    pub name: String,
    /// The name the measure has in queries and results; blank or `None` means its column name.
    pub alias: Option<String>,
    /// The view's `name`.
    pub view: String,
    /// How the column is aggregated; `SUM` and `AVG` need a numeric column.
    pub aggregator: Aggregator,
}

/// A join between two of the model's views on one column of each; the relations form a
/// tree over the views.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relation {
    /// The source view's `name`.
    pub src_view: String,
    /// The destination view's `name`; another view than the source.
    pub dest_view: String,
    /// How the views join, and which side is the "one" side of a one-to-many link.
    pub link: LinkType,
    /// The column of the source view the join compares.
    pub src_field: String,
    /// The column of the destination view the join compares.
    pub dest_field: String,
}

/// A model as its author described it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelDefinition {
    /// The synced tables the model uses, each under its view name.
    pub views: Vec<View>,
    /// The columns results can be grouped and filtered by.
    pub dimensions: Vec<Dimension>,
    /// The aggregated columns.
    pub measures: Vec<Measure>,
    /// The joins between the views: one fewer than the views, joining them all.
    pub relations: Vec<Relation>,
}

/// What the catalog knows of a synced table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableMeta {
    /// The TABLE resource.
    pub table_id: Id,
    /// The datasource the table belongs to: a model's views must share one.
    pub datasource_id: Id,
    /// The table's schema in the datasource's database.
    pub schema: String,
    /// The table's name in the datasource's database.
    pub table: String,
    /// The columns as last synced from the datasource.
    pub columns: Vec<ColumnInfo>,
}

impl TableMeta {
    /// The synced column named `name`, if the table has one.
    pub fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// One thing wrong with a model or a query of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelProblem {
    /// `views[0].id`, `dimensions[2].name`, `relations[0].srcFieldName`, `relations`.
    pub field: String,
    /// What is wrong with it, for the author to read.
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
    /// The definition as its author gave it.
    pub definition: ModelDefinition,
    /// By view name.
    pub tables: BTreeMap<String, TableMeta>,
}

impl ValidModel {
    /// The datasource all the model's tables belong to (`None` only for a model without views,
    /// which validation refuses).
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

/// The name a field has in query results: its alias, else its column name.
pub fn output_name(alias: &Option<String>, name: &str) -> String {
    alias
        .as_deref()
        .filter(|a| !a.trim().is_empty())
        .unwrap_or(name)
        .to_owned()
}
