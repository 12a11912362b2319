//! What a client asks: the fields, filters, order and limit, and the conditions filters and
//! row permissions become.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// A comparison of a filter or a row permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Operator {
    /// `=`.
    #[serde(rename = "=")]
    Eq,
    /// `<>`.
    #[serde(rename = "<>")]
    Ne,
    /// `>`; filters only (not row permissions).
    #[serde(rename = ">")]
    Gt,
    /// `>=`; filters only.
    #[serde(rename = ">=")]
    Ge,
    /// `<`; filters only.
    #[serde(rename = "<")]
    Lt,
    /// `<=`; filters only.
    #[serde(rename = "<=")]
    Le,
    /// `like`: SQL `LIKE` with the value as the pattern (`%` and `_` are wildcards).
    #[serde(rename = "like")]
    Like,
    /// `not like`: SQL `NOT LIKE` with the value as the pattern.
    #[serde(rename = "not like")]
    NotLike,
    /// `in`: equal to one of the values.
    #[serde(rename = "in")]
    In,
    /// `not in`: equal to none of the values.
    #[serde(rename = "not in")]
    NotIn,
    /// `like ..%`
    #[serde(rename = "like ..%")]
    StartsWith,
    /// `like %..`
    #[serde(rename = "like %..")]
    EndsWith,
    /// `not like ..%`: does not start with the value.
    #[serde(rename = "not like ..%")]
    NotStartsWith,
    /// `not like %..`: does not end with the value.
    #[serde(rename = "not like %..")]
    NotEndsWith,
    /// `is null`, taking no value; filters only.
    #[serde(rename = "is null")]
    IsNull,
    /// `is not null`, taking no value; filters only.
    #[serde(rename = "is not null")]
    IsNotNull,
}

impl Operator {
    /// How many values it takes: `None` for a list (`in`), else exactly this many.
    pub fn arity(self) -> Option<usize> {
        match self {
            Self::In | Self::NotIn => None,
            Self::IsNull | Self::IsNotNull => Some(0),
            _ => Some(1),
        }
    }
}

/// A column of one of the model's views.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Column {
    /// The view's name in the model.
    pub view: String,
    /// The column's name in the view's table.
    pub column: String,
}

/// What a condition compares a column with.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// Bound as parameters, never spliced into the text.
    Values(Vec<Json>),
    /// Another column of the same view (a row permission of `valueKind` FIELD).
    Column(String),
}

/// A condition on the columns of one view.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// A column compared with an operand.
    Compare {
        /// The column, by its name in the view's table.
        column: String,
        /// The comparison.
        operator: Operator,
        /// What the column is compared with.
        operand: Operand,
    },
    /// Every condition holds (`AND`); an empty list always holds.
    All(Vec<Condition>),
    /// At least one condition holds (`OR`); an empty list never holds.
    Any(Vec<Condition>),
}

impl Condition {
    pub(super) fn columns(&self, out: &mut BTreeSet<String>) {
        match self {
            Self::Compare {
                column, operand, ..
            } => {
                out.insert(column.clone());
                if let Operand::Column(c) = operand {
                    out.insert(c.clone());
                }
            }
            Self::All(cs) | Self::Any(cs) => cs.iter().for_each(|c| c.columns(out)),
        }
    }
}

/// A query of a model, as a client asks it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryRequest {
    /// Output names (aliases) of the model's dimensions.
    pub dimensions: Vec<String>,
    /// Output names of the model's measures.
    pub measures: Vec<String>,
    /// Conditions on dimensions (before grouping).
    pub filters: Vec<FieldFilter>,
    /// How to sort the results, the first key first.
    pub order: Vec<OrderBy>,
    /// Most rows to answer; at least 1, and capped by the catalog's `max_rows` (`None`: that cap).
    pub limit: Option<u64>,
}

/// A condition on one dimension, applied to the rows before they are grouped.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldFilter {
    /// A dimension's output name.
    pub field: String,
    /// How the dimension's column is compared.
    pub operator: Operator,
    /// The values it is compared with: none for `is null` / `is not null`, 1 to 1,000 for
    /// `in` / `not in`, else exactly one.
    pub values: Vec<Json>,
}

/// A sort key of the results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    /// One of the requested fields.
    pub field: String,
    /// Largest first when true.
    pub descending: bool,
}
