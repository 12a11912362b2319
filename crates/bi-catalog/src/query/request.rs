//! What a client asks: the fields, filters, order and limit, and the conditions filters and
//! row permissions become.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// A comparison of a filter or a row permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Operator {
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "<>")]
    Ne,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "like")]
    Like,
    #[serde(rename = "not like")]
    NotLike,
    #[serde(rename = "in")]
    In,
    #[serde(rename = "not in")]
    NotIn,
    /// `like ..%`
    #[serde(rename = "like ..%")]
    StartsWith,
    /// `like %..`
    #[serde(rename = "like %..")]
    EndsWith,
    #[serde(rename = "not like ..%")]
    NotStartsWith,
    #[serde(rename = "not like %..")]
    NotEndsWith,
    #[serde(rename = "is null")]
    IsNull,
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
    pub view: String,
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
    Compare {
        column: String,
        operator: Operator,
        operand: Operand,
    },
    All(Vec<Condition>),
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
    pub order: Vec<OrderBy>,
    pub limit: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldFilter {
    /// A dimension's output name.
    pub field: String,
    pub operator: Operator,
    pub values: Vec<Json>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    /// One of the requested fields.
    pub field: String,
    pub descending: bool,
}
