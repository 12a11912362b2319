//! Planning a data model query (`augmented/query`): which views to join and how, what to
//! group by and aggregate, and the conditions (the request's filters and the caller's row
//! permissions), as a [`Plan`] a driver renders into its own SQL dialect with bound
//! parameters. No SQL here.
//!
//! **Measures are never multiplied by a join.** A relation `LEFTJOIN` from `a` to `b` is
//! one-to-many: joining `b` repeats each row of `a` once per matching `b`. So the plan is
//! built per *measure view* (the view a measure's column lives in): rows of the measure
//! view are the grain, and a view reached across a one-to-many step away from it is joined
//! as a *distinct* projection of just the columns the query needs from it (its join key,
//! the dimensions, the filtered columns). Each measure-view row then meets at most one row
//! per combination of those columns, and is counted once in each group — aggregating
//! before the multiplication, as semantic layers do. Measures of several views are
//! planned as one branch each, and the branches are combined by their dimensions
//! (`UNION ALL` and a second aggregation), which every dialect can run.
//!
//! The planner works in phases (`planner`): the requested fields, the filters, the order,
//! the row permissions, then one branch per measure view, whose joins the relation tree
//! builds (`tree`).

mod plan;
mod planner;
mod request;
#[cfg(test)]
mod tests;
mod tree;

pub use plan::{Branch, ColumnRef, Join, JoinKind, Joined, Plan, Select, Source};
pub use planner::plan;
pub use request::{Column, Condition, FieldFilter, Operand, Operator, OrderBy, QueryRequest};
