//! What the planner gives a driver to render: branches of joined sources, grouped and
//! aggregated, combined by their dimensions.

use super::request::Condition;
use crate::augmented::Aggregator;

/// A table, or a distinct projection of a subtree of tables, with its conditions.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A table of the datasource, under its view's name.
    Table {
        /// The table's schema in the datasource.
        schema: String,
        /// The table's name in the schema.
        table: String,
        /// The view name, used as the alias.
        alias: String,
    },
    /// `SELECT DISTINCT columns FROM inner WHERE ...` under the name `alias`: a view on the
    /// many side of the grain, reduced to at most one row per combination of the columns
    /// the query needs (each output column is named `{view}__{column}`).
    Distinct {
        /// The projection's name: `{view}__d`, after the view it starts from.
        alias: String,
        /// The view and the views beyond it, joined, with their conditions.
        inner: Box<Joined>,
        /// Each column as the inner sources have it, and its name outside.
        columns: Vec<(ColumnRef, String)>,
    },
}

/// A join of a source to what is joined so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    /// How the source joins.
    pub kind: JoinKind,
    /// What is joined.
    pub source: Source,
    /// Column of what is joined so far = column of `source`.
    pub on: (ColumnRef, ColumnRef),
}

/// How a column is reached from the outside of a source: a table's own column, or a column
/// a distinct projection exposes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ColumnRef {
    /// The alias of the source the column is read from.
    pub source: String,
    /// The column's name in that source.
    pub name: String,
}

/// The SQL join a step across a relation becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    /// `INNER JOIN`.
    Inner,
    /// `LEFT JOIN`.
    Left,
    /// `RIGHT JOIN`.
    Right,
    /// `FULL JOIN`.
    Full,
}

/// A base source with sources joined to it, and the conditions on their columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Joined {
    /// The first source: the branch's root view, or the view a projection starts from.
    pub base: Source,
    /// The sources joined to it, in order.
    pub joins: Vec<Join>,
    /// Conditions, each on a source's columns, all of which must hold.
    pub conditions: Vec<(String, Condition)>,
}

/// One output column of a branch.
#[derive(Debug, Clone, PartialEq)]
pub enum Select {
    /// A column the branch groups by.
    Dimension {
        /// Where the column is read.
        column: ColumnRef,
        /// Its output name.
        name: String,
    },
    /// An aggregated column.
    Measure {
        /// How it is aggregated.
        aggregator: Aggregator,
        /// Where the column is read.
        column: ColumnRef,
        /// Its output name.
        name: String,
    },
}

/// One query over joined sources, grouped by its dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    /// The joined sources, with their conditions.
    pub from: Joined,
    /// Every requested dimension, then this branch's measures.
    pub select: Vec<Select>,
}

/// What a driver renders and runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// One per measure view (one with no measures for a dimensions-only query).
    pub branches: Vec<Branch>,
    /// The dimensions' output names, in the request's order.
    pub dimensions: Vec<String>,
    /// The measures' output names, in the request's order.
    pub measures: Vec<String>,
    /// Output names with their direction.
    pub order: Vec<(String, bool)>,
    /// Most rows to answer: the request's limit, capped by the catalog's `max_rows`.
    pub limit: u64,
}
