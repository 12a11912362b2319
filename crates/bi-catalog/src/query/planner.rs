//! Planning a query, phase by phase: resolve the requested fields, turn the filters into
//! conditions, check the order, add the row permissions, then plan one branch per measure
//! view.

use std::collections::{BTreeMap, BTreeSet};

use super::plan::{Branch, Plan, Select};
use super::request::{Column, Condition, Operand, QueryRequest};
use super::tree::Tree;
use crate::augmented::{
    Aggregator, Dimension, ModelDefinition, ModelProblem, ValidModel, output_name, problem,
};

/// Most filters one query may carry.
pub const MAX_FILTERS: usize = 32;
/// Most values of one `in` / `not in` filter. With [`MAX_FILTERS`], a query binds at most
/// 32,000 values: under PostgreSQL's 65,535 parameters a statement, with room for the row
/// permissions.
pub const MAX_IN_VALUES: usize = 1000;

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
    let fields = Fields::resolve(def, request, &mut problems);
    let filters = filter_conditions(def, request, &mut problems);
    fields.check_order(request, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    let planner = Planner {
        model,
        tree: Tree::of(model),
        conditions: with_row_permissions(filters, row_filters),
        fields: &fields,
    };
    let branches = fields
        .by_measure_view()
        .into_iter()
        .map(|(root, measures)| planner.branch(&root, &measures))
        .collect();
    Ok(Plan {
        branches,
        dimensions: fields.dimensions.into_iter().map(|d| d.name).collect(),
        measures: fields.measures.into_iter().map(|m| m.name).collect(),
        order: request
            .order
            .iter()
            .map(|o| (o.field.clone(), o.descending))
            .collect(),
        limit: request.limit.unwrap_or(max_rows).min(max_rows),
    })
}

/// A requested dimension: its output name and its column.
struct DimensionField {
    name: String,
    column: Column,
}

/// A requested measure: its output name, how it aggregates, its column.
struct MeasureField {
    name: String,
    aggregator: Aggregator,
    column: Column,
}

/// The requested fields found in the model, in the request's order.
struct Fields {
    dimensions: Vec<DimensionField>,
    measures: Vec<MeasureField>,
}

impl Fields {
    /// The model's dimensions and measures the request names; a name the model lacks is a
    /// problem, and so is asking for nothing.
    fn resolve(
        def: &ModelDefinition,
        request: &QueryRequest,
        problems: &mut Vec<ModelProblem>,
    ) -> Self {
        let dimensions: Vec<DimensionField> = resolve(
            &request.dimensions,
            "dimension",
            |name| dimension(def, name),
            problems,
        )
        .into_iter()
        .map(|(name, d)| DimensionField {
            name,
            column: Column {
                view: d.view.clone(),
                column: d.name.clone(),
            },
        })
        .collect();
        let measures: Vec<MeasureField> = resolve(
            &request.measures,
            "measure",
            |name| {
                def.measures
                    .iter()
                    .find(|m| output_name(&m.alias, &m.name) == name)
            },
            problems,
        )
        .into_iter()
        .map(|(name, m)| MeasureField {
            name,
            aggregator: m.aggregator,
            column: Column {
                view: m.view.clone(),
                column: m.name.clone(),
            },
        })
        .collect();
        if dimensions.is_empty() && measures.is_empty() {
            problems.push(problem(
                "dimensions",
                "ask for at least one dimension or measure",
            ));
        }
        Self {
            dimensions,
            measures,
        }
    }

    /// The request orders by requested fields only.
    fn check_order(&self, request: &QueryRequest, problems: &mut Vec<ModelProblem>) {
        let outputs: BTreeSet<&str> = self
            .dimensions
            .iter()
            .map(|d| d.name.as_str())
            .chain(self.measures.iter().map(|m| m.name.as_str()))
            .collect();
        for (i, o) in request.order.iter().enumerate() {
            if !outputs.contains(o.field.as_str()) {
                problems.push(problem(
                    format!("order[{i}].field"),
                    format!("{} is not one of the requested fields", o.field),
                ));
            }
        }
    }

    /// The measures by the view their column lives in: one branch each. A dimensions-only
    /// query is one branch rooted at the first dimension's view.
    fn by_measure_view(&self) -> BTreeMap<String, Vec<&MeasureField>> {
        let mut by_view: BTreeMap<String, Vec<&MeasureField>> = BTreeMap::new();
        for m in &self.measures {
            by_view.entry(m.column.view.clone()).or_default().push(m);
        }
        if by_view.is_empty() {
            by_view.insert(self.dimensions[0].column.view.clone(), Vec::new());
        }
        by_view
    }
}

/// Each of `names` (the request's `{kind}s`) with what `find` finds for it; a name it
/// finds nothing for is a problem.
fn resolve<'m, T>(
    names: &[String],
    kind: &str,
    find: impl Fn(&str) -> Option<&'m T>,
    problems: &mut Vec<ModelProblem>,
) -> Vec<(String, &'m T)> {
    let mut found = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        match find(name) {
            Some(f) => found.push((name.clone(), f)),
            None => problems.push(problem(
                format!("{kind}s[{i}]"),
                format!("the model has no {kind} {name}"),
            )),
        }
    }
    found
}

/// The model's dimension whose output name is `name`.
fn dimension<'m>(def: &'m ModelDefinition, name: &str) -> Option<&'m Dimension> {
    def.dimensions
        .iter()
        .find(|d| output_name(&d.alias, &d.name) == name)
}

/// The request's filters as conditions by view; a filter on an unknown field, or with the
/// wrong number of values, is a problem.
fn filter_conditions(
    def: &ModelDefinition,
    request: &QueryRequest,
    problems: &mut Vec<ModelProblem>,
) -> BTreeMap<String, Vec<Condition>> {
    let mut filters: BTreeMap<String, Vec<Condition>> = BTreeMap::new();
    if request.filters.len() > MAX_FILTERS {
        problems.push(problem(
            "filters",
            format!(
                "at most {MAX_FILTERS} filters, not {}",
                request.filters.len()
            ),
        ));
        return filters;
    }
    for (i, f) in request.filters.iter().enumerate() {
        let Some(d) = dimension(def, &f.field) else {
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
            None if f.values.len() > MAX_IN_VALUES => problems.push(problem(
                format!("filters[{i}].values"),
                format!(
                    "takes at most {MAX_IN_VALUES} values, not {}",
                    f.values.len()
                ),
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
    filters
}

/// The filters' conditions and then the caller's row permissions, by view.
fn with_row_permissions(
    filters: BTreeMap<String, Vec<Condition>>,
    row_filters: &BTreeMap<String, Condition>,
) -> BTreeMap<String, Vec<Condition>> {
    let mut conditions = filters;
    for (view, c) in row_filters {
        conditions.entry(view.clone()).or_default().push(c.clone());
    }
    conditions
}

/// What every branch of a plan shares.
struct Planner<'a> {
    model: &'a ValidModel,
    tree: Tree,
    /// Filters and row permissions by view.
    conditions: BTreeMap<String, Vec<Condition>>,
    fields: &'a Fields,
}

impl Planner<'_> {
    /// The branch of the `measures` of view `root`, grouped by every requested dimension.
    fn branch(&self, root: &str, measures: &[&MeasureField]) -> Branch {
        let views = self.tree.connecting(root, &self.needed_views(root));
        let wanted = self.wanted_columns(&views);
        let from = self
            .tree
            .build(self.model, root, &views, &wanted, &self.conditions);
        let mut select: Vec<Select> = self
            .fields
            .dimensions
            .iter()
            .map(|d| Select::Dimension {
                column: from.exposed(&d.column),
                name: d.name.clone(),
            })
            .collect();
        select.extend(measures.iter().map(|m| Select::Measure {
            aggregator: m.aggregator,
            column: from.exposed(&m.column),
            name: m.name.clone(),
        }));
        Branch {
            from: from.joined,
            select,
        }
    }

    /// The views a branch needs: its root, the dimensions', and those with conditions.
    /// Filters and permissions narrow every branch, so their views are joined even when
    /// nothing is read from them: a permission on customers hides the orders of the
    /// customers it hides.
    fn needed_views(&self, root: &str) -> BTreeSet<String> {
        let mut needed: BTreeSet<String> = self
            .fields
            .dimensions
            .iter()
            .map(|d| d.column.view.clone())
            .collect();
        needed.insert(root.to_owned());
        needed.extend(self.conditions.keys().cloned());
        needed
    }

    /// The columns read from each of `views`: the dimensions and the columns conditions
    /// compare.
    fn wanted_columns(&self, views: &BTreeSet<String>) -> BTreeMap<String, BTreeSet<String>> {
        let mut wanted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for d in &self.fields.dimensions {
            wanted
                .entry(d.column.view.clone())
                .or_default()
                .insert(d.column.column.clone());
        }
        for (view, cs) in &self.conditions {
            if views.contains(view) {
                let set = wanted.entry(view.clone()).or_default();
                for c in cs {
                    c.columns(set);
                }
            }
        }
        wanted
    }
}
