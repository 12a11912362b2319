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

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::augmented::{
    Aggregator, LinkType, ModelDefinition, ModelProblem, ValidModel, output_name, problem,
};

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
    fn columns(&self, out: &mut BTreeSet<String>) {
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

/// A table, or a distinct projection of a subtree of tables, with its conditions.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Table {
        schema: String,
        table: String,
        /// The view name, used as the alias.
        alias: String,
    },
    /// `SELECT DISTINCT columns FROM inner WHERE ...` under the name `alias`: a view on the
    /// many side of the grain, reduced to at most one row per combination of the columns
    /// the query needs (each output column is named `{view}__{column}`).
    Distinct {
        alias: String,
        inner: Box<Joined>,
        /// Each column as the inner sources have it, and its name outside.
        columns: Vec<(ColumnRef, String)>,
    },
}

/// A join of a source to what is joined so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    pub kind: JoinKind,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    Left,
    Right,
    Full,
}

/// A base source with sources joined to it, and the conditions on their columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Joined {
    pub base: Source,
    pub joins: Vec<Join>,
    /// Conditions, each on a source's columns, all of which must hold.
    pub conditions: Vec<(String, Condition)>,
}

/// One output column of a branch.
#[derive(Debug, Clone, PartialEq)]
pub enum Select {
    Dimension {
        column: ColumnRef,
        name: String,
    },
    Measure {
        aggregator: Aggregator,
        column: ColumnRef,
        name: String,
    },
}

/// One query over joined sources, grouped by its dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    pub from: Joined,
    pub select: Vec<Select>,
}

/// What a driver renders and runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// One per measure view (one with no measures for a dimensions-only query).
    pub branches: Vec<Branch>,
    /// The dimensions' output names, then the measures', in the request's order.
    pub dimensions: Vec<String>,
    pub measures: Vec<String>,
    /// Output names with their direction.
    pub order: Vec<(String, bool)>,
    pub limit: u64,
}

/// Plans `request` over `model`. `row_filters` holds the caller's row permissions as
/// conditions by view name (already combined: a view's rows must satisfy its condition).
/// `max_rows` caps the limit.
pub fn plan(
    model: &ValidModel,
    request: &QueryRequest,
    row_filters: &BTreeMap<String, Condition>,
    max_rows: u64,
) -> Result<Plan, Vec<ModelProblem>> {
    let def = &model.definition;
    let mut problems = Vec::new();
    let dims: Vec<(String, Column)> = request
        .dimensions
        .iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let d = def
                .dimensions
                .iter()
                .find(|d| output_name(&d.alias, &d.name) == *name);
            if d.is_none() {
                problems.push(problem(
                    format!("dimensions[{i}]"),
                    format!("the model has no dimension {name}"),
                ));
            }
            d.map(|d| {
                (
                    name.clone(),
                    Column {
                        view: d.view.clone(),
                        column: d.name.clone(),
                    },
                )
            })
        })
        .collect();
    let measures: Vec<(String, Aggregator, Column)> = request
        .measures
        .iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let m = def
                .measures
                .iter()
                .find(|m| output_name(&m.alias, &m.name) == *name);
            if m.is_none() {
                problems.push(problem(
                    format!("measures[{i}]"),
                    format!("the model has no measure {name}"),
                ));
            }
            m.map(|m| {
                (
                    name.clone(),
                    m.aggregator,
                    Column {
                        view: m.view.clone(),
                        column: m.name.clone(),
                    },
                )
            })
        })
        .collect();
    if dims.is_empty() && measures.is_empty() {
        problems.push(problem(
            "dimensions",
            "ask for at least one dimension or measure",
        ));
    }
    let mut filters: BTreeMap<String, Vec<Condition>> = BTreeMap::new();
    for (i, f) in request.filters.iter().enumerate() {
        let Some(d) = def
            .dimensions
            .iter()
            .find(|d| output_name(&d.alias, &d.name) == f.field)
        else {
            problems.push(problem(
                format!("filters[{i}].field"),
                format!("the model has no dimension {}", f.field),
            ));
            continue;
        };
        match f.operator.arity() {
            Some(n) if f.values.len() != n => problems.push(problem(
                format!("filters[{i}].values"),
                format!(
                    "{:?} takes {n} value(s), not {}",
                    f.operator,
                    f.values.len()
                ),
            )),
            None if f.values.is_empty() => problems.push(problem(
                format!("filters[{i}].values"),
                "takes at least one value",
            )),
            _ => {}
        }
        filters
            .entry(d.view.clone())
            .or_default()
            .push(Condition::Compare {
                column: d.name.clone(),
                operator: f.operator,
                operand: Operand::Values(f.values.clone()),
            });
    }
    let outputs: BTreeSet<&str> = dims
        .iter()
        .map(|(n, _)| n.as_str())
        .chain(measures.iter().map(|(n, ..)| n.as_str()))
        .collect();
    for (i, o) in request.order.iter().enumerate() {
        if !outputs.contains(o.field.as_str()) {
            problems.push(problem(
                format!("order[{i}].field"),
                format!("{} is not one of the requested fields", o.field),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut conditions: BTreeMap<String, Vec<Condition>> = filters;
    for (view, c) in row_filters {
        conditions.entry(view.clone()).or_default().push(c.clone());
    }
    let tree = Tree::of(model);
    // One branch per measure view; a dimensions-only query is one branch rooted at the
    // first dimension's view.
    let mut by_view: BTreeMap<String, Vec<(String, Aggregator, Column)>> = BTreeMap::new();
    for m in &measures {
        by_view.entry(m.2.view.clone()).or_default().push(m.clone());
    }
    if by_view.is_empty() {
        by_view.insert(dims[0].1.view.clone(), Vec::new());
    }
    let branches = by_view
        .into_iter()
        .map(|(root, ms)| {
            // The views this branch needs: its dimensions', the filtered ones and those
            // the caller's row permissions narrow. Filters and permissions narrow every
            // branch, so their views are joined even when nothing is read from them: a
            // permission on customers hides the orders of the customers it hides.
            let mut needed: BTreeSet<String> = dims.iter().map(|(_, c)| c.view.clone()).collect();
            needed.insert(root.clone());
            needed.extend(
                conditions
                    .keys()
                    .filter(|v| filters_view(request, def, v))
                    .cloned(),
            );
            needed.extend(row_filters.keys().cloned());
            let views = tree.connecting(&root, &needed);
            let mut wanted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for (_, c) in &dims {
                wanted
                    .entry(c.view.clone())
                    .or_default()
                    .insert(c.column.clone());
            }
            for (view, cs) in &conditions {
                if views.contains(view) {
                    let set = wanted.entry(view.clone()).or_default();
                    for c in cs {
                        c.columns(set);
                    }
                }
            }
            let from = tree.build(model, &root, &views, &wanted, &conditions);
            let mut select: Vec<Select> = dims
                .iter()
                .map(|(name, c)| Select::Dimension {
                    column: from.exposed(c),
                    name: name.clone(),
                })
                .collect();
            select.extend(ms.iter().map(|(name, aggregator, c)| Select::Measure {
                aggregator: *aggregator,
                column: from.exposed(c),
                name: name.clone(),
            }));
            Branch {
                from: from.joined,
                select,
            }
        })
        .collect();
    Ok(Plan {
        branches,
        dimensions: dims.into_iter().map(|(n, _)| n).collect(),
        measures: measures.into_iter().map(|(n, ..)| n).collect(),
        order: request
            .order
            .iter()
            .map(|o| (o.field.clone(), o.descending))
            .collect(),
        limit: request.limit.unwrap_or(max_rows).min(max_rows),
    })
}

/// Whether the request filters a dimension of `view`.
fn filters_view(request: &QueryRequest, def: &ModelDefinition, view: &str) -> bool {
    request.filters.iter().any(|f| {
        def.dimensions
            .iter()
            .any(|d| d.view == view && output_name(&d.alias, &d.name) == f.field)
    })
}

/// One step of the relation tree, from one view to a neighbour.
#[derive(Debug, Clone)]
struct Step {
    to: String,
    /// The column of the view the step leaves, and of the view it reaches.
    from_column: String,
    to_column: String,
    kind: JoinKind,
    /// Whether going this way repeats rows of the view the step leaves.
    multiplies: bool,
}

/// The model's relations as an undirected tree.
struct Tree {
    steps: HashMap<String, Vec<Step>>,
}

/// A built source tree, with where each needed column can be read from.
struct Built {
    joined: Joined,
    exposed: BTreeMap<Column, ColumnRef>,
}

impl Built {
    fn exposed(&self, c: &Column) -> ColumnRef {
        self.exposed.get(c).cloned().unwrap_or(ColumnRef {
            source: c.view.clone(),
            name: c.column.clone(),
        })
    }
}

impl Tree {
    fn of(model: &ValidModel) -> Self {
        let mut steps: HashMap<String, Vec<Step>> = HashMap::new();
        for r in &model.definition.relations {
            // LEFTJOIN: src is the "one" side; RIGHTJOIN: dest is. INNER and FULL are
            // one-to-one in the document's words.
            let (forward_multiplies, backward_multiplies) = match r.link {
                LinkType::LeftJoin => (true, false),
                LinkType::RightJoin => (false, true),
                LinkType::InnerJoin | LinkType::FullJoin => (false, false),
            };
            let (forward, backward) = match r.link {
                LinkType::LeftJoin => (JoinKind::Left, JoinKind::Right),
                LinkType::RightJoin => (JoinKind::Right, JoinKind::Left),
                LinkType::InnerJoin => (JoinKind::Inner, JoinKind::Inner),
                LinkType::FullJoin => (JoinKind::Full, JoinKind::Full),
            };
            steps.entry(r.src_view.clone()).or_default().push(Step {
                to: r.dest_view.clone(),
                from_column: r.src_field.clone(),
                to_column: r.dest_field.clone(),
                kind: forward,
                multiplies: forward_multiplies,
            });
            steps.entry(r.dest_view.clone()).or_default().push(Step {
                to: r.src_view.clone(),
                from_column: r.dest_field.clone(),
                to_column: r.src_field.clone(),
                kind: backward,
                multiplies: backward_multiplies,
            });
        }
        Self { steps }
    }

    fn steps(&self, view: &str) -> &[Step] {
        self.steps.get(view).map_or(&[], Vec::as_slice)
    }

    /// The views on the paths from `root` to every view of `needed`.
    fn connecting(&self, root: &str, needed: &BTreeSet<String>) -> BTreeSet<String> {
        let mut keep = BTreeSet::from([root.to_owned()]);
        // Depth-first from the root, keeping a view when it or something below it is needed.
        fn walk(
            tree: &Tree,
            view: &str,
            parent: Option<&str>,
            needed: &BTreeSet<String>,
            keep: &mut BTreeSet<String>,
        ) -> bool {
            let mut any = needed.contains(view);
            for s in tree.steps(view) {
                if Some(s.to.as_str()) != parent && walk(tree, &s.to, Some(view), needed, keep) {
                    any = true;
                }
            }
            if any {
                keep.insert(view.to_owned());
            }
            any
        }
        walk(self, root, None, needed, &mut keep);
        keep
    }

    /// The joined sources of `views` seen from `root`: views across a multiplying step
    /// become distinct projections of the columns needed from them.
    fn build(
        &self,
        model: &ValidModel,
        root: &str,
        views: &BTreeSet<String>,
        wanted: &BTreeMap<String, BTreeSet<String>>,
        conditions: &BTreeMap<String, Vec<Condition>>,
    ) -> Built {
        let table = |view: &str| {
            let t = &model.tables[view];
            Source::Table {
                schema: t.schema.clone(),
                table: t.table.clone(),
                alias: view.to_owned(),
            }
        };
        let mut built = Built {
            joined: Joined {
                base: table(root),
                joins: Vec::new(),
                conditions: own_conditions(root, conditions),
            },
            exposed: BTreeMap::new(),
        };
        self.join_children(model, root, None, views, wanted, conditions, &mut built);
        built
    }

    #[allow(clippy::too_many_arguments)]
    fn join_children(
        &self,
        model: &ValidModel,
        view: &str,
        parent: Option<&str>,
        views: &BTreeSet<String>,
        wanted: &BTreeMap<String, BTreeSet<String>>,
        conditions: &BTreeMap<String, Vec<Condition>>,
        built: &mut Built,
    ) {
        for s in self.steps(view) {
            if Some(s.to.as_str()) == parent || !views.contains(&s.to) {
                continue;
            }
            let from = built.exposed(&Column {
                view: view.to_owned(),
                column: s.from_column.clone(),
            });
            if !s.multiplies {
                let t = &model.tables[&s.to];
                built.joined.joins.push(Join {
                    kind: s.kind,
                    source: Source::Table {
                        schema: t.schema.clone(),
                        table: t.table.clone(),
                        alias: s.to.clone(),
                    },
                    on: (
                        from,
                        ColumnRef {
                            source: s.to.clone(),
                            name: s.to_column.clone(),
                        },
                    ),
                });
                built
                    .joined
                    .conditions
                    .extend(own_conditions(&s.to, conditions));
                self.join_children(model, &s.to, Some(view), views, wanted, conditions, built);
                continue;
            }
            // Across a multiplying step: the subtree beyond, as a distinct projection of
            // the join key and the columns wanted from it.
            let mut inner = Built {
                joined: Joined {
                    base: Source::Table {
                        schema: model.tables[&s.to].schema.clone(),
                        table: model.tables[&s.to].table.clone(),
                        alias: s.to.clone(),
                    },
                    joins: Vec::new(),
                    conditions: own_conditions(&s.to, conditions),
                },
                exposed: BTreeMap::new(),
            };
            let mut sub_views = BTreeSet::new();
            self.subtree(&s.to, Some(view), views, &mut sub_views);
            self.join_children(
                model,
                &s.to,
                Some(view),
                views,
                wanted,
                conditions,
                &mut inner,
            );
            let mut columns = vec![Column {
                view: s.to.clone(),
                column: s.to_column.clone(),
            }];
            for v in &sub_views {
                for c in wanted.get(v).into_iter().flatten() {
                    let col = Column {
                        view: v.clone(),
                        column: c.clone(),
                    };
                    if !columns.contains(&col) {
                        columns.push(col);
                    }
                }
            }
            let alias = format!("{}__d", s.to);
            let projected: Vec<(ColumnRef, String)> = columns
                .iter()
                .map(|c| (inner.exposed(c), format!("{}__{}", c.view, c.column)))
                .collect();
            for c in &columns {
                built.exposed.insert(
                    c.clone(),
                    ColumnRef {
                        source: alias.clone(),
                        name: format!("{}__{}", c.view, c.column),
                    },
                );
            }
            // A subtree with conditions (filters, row permissions) keeps only the rows of
            // this side related to rows that pass them: an inner join. Without conditions it
            // joins as the relation says.
            let narrowed = sub_views.iter().any(|v| conditions.contains_key(v));
            built.joined.joins.push(Join {
                kind: if narrowed { JoinKind::Inner } else { s.kind },
                source: Source::Distinct {
                    alias: alias.clone(),
                    inner: Box::new(inner.joined),
                    columns: projected,
                },
                on: (
                    from,
                    ColumnRef {
                        source: alias,
                        name: format!("{}__{}", s.to, s.to_column),
                    },
                ),
            });
        }
    }

    fn subtree(
        &self,
        view: &str,
        parent: Option<&str>,
        views: &BTreeSet<String>,
        out: &mut BTreeSet<String>,
    ) {
        out.insert(view.to_owned());
        for s in self.steps(view) {
            if Some(s.to.as_str()) != parent && views.contains(&s.to) {
                self.subtree(&s.to, Some(view), views, out);
            }
        }
    }
}

fn own_conditions(
    view: &str,
    conditions: &BTreeMap<String, Vec<Condition>>,
) -> Vec<(String, Condition)> {
    conditions
        .get(view)
        .into_iter()
        .flatten()
        .map(|c| (view.to_owned(), c.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn model() -> ValidModel {
        crate::testing::shop_model("shop")
    }

    fn request(dims: &[&str], measures: &[&str]) -> QueryRequest {
        QueryRequest {
            dimensions: dims.iter().map(|s| s.to_string()).collect(),
            measures: measures.iter().map(|s| s.to_string()).collect(),
            ..QueryRequest::default()
        }
    }

    fn cref(source: &str, name: &str) -> ColumnRef {
        ColumnRef {
            source: source.into(),
            name: name.into(),
        }
    }

    #[test]
    fn a_one_side_measure_by_a_many_side_dimension_joins_a_distinct_projection() {
        let p = plan(
            &model(),
            &request(&["status"], &["credit"]),
            &BTreeMap::new(),
            100,
        )
        .unwrap();
        assert_eq!(p.branches.len(), 1);
        let b = &p.branches[0];
        assert_eq!(b.from.joins.len(), 1);
        let j = &b.from.joins[0];
        assert_eq!(j.kind, JoinKind::Left);
        assert_eq!(j.on, (cref("c", "id"), cref("o__d", "o__customer_id")));
        let Source::Distinct { columns, .. } = &j.source else {
            panic!("{j:?}")
        };
        assert_eq!(
            columns,
            &[
                (cref("o", "customer_id"), "o__customer_id".to_string()),
                (cref("o", "status"), "o__status".to_string())
            ]
        );
        assert_eq!(
            b.select,
            [
                Select::Dimension {
                    column: cref("o__d", "o__status"),
                    name: "status".into()
                },
                Select::Measure {
                    aggregator: Aggregator::Sum,
                    column: cref("c", "credit"),
                    name: "credit".into()
                }
            ]
        );
    }

    #[test]
    fn measures_of_two_views_are_two_branches_and_a_many_side_measure_joins_plainly() {
        let p = plan(
            &model(),
            &request(&["region"], &["credit", "sales"]),
            &BTreeMap::new(),
            100,
        )
        .unwrap();
        assert_eq!(p.branches.len(), 2);
        // credit: customers alone; sales: orders joined to customers (many-to-one).
        assert!(p.branches[0].from.joins.is_empty());
        let j = &p.branches[1].from.joins[0];
        assert_eq!(j.on, (cref("o", "customer_id"), cref("c", "id")));
        assert!(matches!(j.source, Source::Table { .. }));
    }

    #[test]
    fn row_permissions_and_filters_become_conditions_and_bad_names_are_named() {
        let perm = Condition::Compare {
            column: "region".into(),
            operator: Operator::Eq,
            operand: Operand::Values(vec![json!("north")]),
        };
        let mut req = request(&["status"], &["sales"]);
        req.filters.push(FieldFilter {
            field: "region".into(),
            operator: Operator::In,
            values: vec![json!("north"), json!("south")],
        });
        req.limit = Some(10_000);
        let p = plan(
            &model(),
            &req,
            &BTreeMap::from([("c".to_string(), perm)]),
            500,
        )
        .unwrap();
        assert_eq!(p.limit, 500);
        let conds: Vec<&str> = p.branches[0]
            .from
            .conditions
            .iter()
            .map(|(v, _)| v.as_str())
            .collect();
        assert_eq!(conds, ["c", "c"]);
        let mut bad = request(&["nope"], &["sales"]);
        bad.order.push(OrderBy {
            field: "credit".into(),
            descending: true,
        });
        let e = plan(&model(), &bad, &BTreeMap::new(), 10).unwrap_err();
        let msgs: Vec<String> = e.iter().map(ToString::to_string).collect();
        assert_eq!(
            msgs,
            [
                "dimensions[0]: the model has no dimension nope",
                "order[0].field: credit is not one of the requested fields"
            ]
        );
    }
}
