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

/// The name a field has in query results: its alias, else its column name.
pub fn output_name(alias: &Option<String>, name: &str) -> String {
    alias
        .as_deref()
        .filter(|a| !a.trim().is_empty())
        .unwrap_or(name)
        .to_owned()
}
