//! Checking a model, phase by phase: not empty, the views' tables, the fields, the
//! relations, and last the relations as one tree.

use std::collections::{BTreeMap, BTreeSet};

use weir_kernel::Id;

use super::{
    Aggregator, ModelDefinition, ModelProblem, TableMeta, ValidModel, output_name, problem,
};
use crate::drivers::FieldType;

/// Checks a model against the synced metadata of its tables (`table` answers a TABLE
/// resource of the caller's tenant, or `None`).
pub fn validate(
    def: ModelDefinition,
    table: impl Fn(Id) -> Option<TableMeta>,
) -> Result<ValidModel, Vec<ModelProblem>> {
    let mut out = Vec::new();
    check_not_empty(&def, &mut out);
    let views = Views::resolve(&def, table, &mut out);
    views.check_fields(&def, &mut out);
    views.check_relations(&def, &mut out);
    if out.is_empty() {
        check_tree(&def, &mut out);
    }
    if !out.is_empty() {
        return Err(out);
    }
    let tables = views.tables;
    Ok(ValidModel {
        definition: def,
        tables,
    })
}

fn check_not_empty(def: &ModelDefinition, out: &mut Vec<ModelProblem>) {
    if def.views.is_empty() {
        out.push(problem("views", "a model needs at least one view"));
    }
    if def.dimensions.is_empty() && def.measures.is_empty() {
        out.push(problem(
            "dimensions",
            "a model needs at least one dimension or measure",
        ));
    }
}

/// The model's views with the tables they name.
struct Views<'d> {
    tables: BTreeMap<String, TableMeta>,
    /// Views whose table was not found (or not usable): already reported, so the fields
    /// naming them are not reported again as naming an unknown view.
    unresolved: BTreeSet<&'d str>,
}

impl<'d> Views<'d> {
    /// Each view's table: named once, found, and of the same datasource as the others.
    fn resolve(
        def: &'d ModelDefinition,
        table: impl Fn(Id) -> Option<TableMeta>,
        out: &mut Vec<ModelProblem>,
    ) -> Self {
        let mut views = Self {
            tables: BTreeMap::new(),
            unresolved: BTreeSet::new(),
        };
        let mut datasource = None;
        for (i, v) in def.views.iter().enumerate() {
            if v.name.trim().is_empty() {
                out.push(problem(format!("views[{i}].name"), "is required"));
                continue;
            }
            if views.tables.contains_key(&v.name) {
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
                views.unresolved.insert(&v.name);
                continue;
            };
            if *datasource.get_or_insert(meta.datasource_id) != meta.datasource_id {
                out.push(problem(
                    format!("views[{i}].id"),
                    format!(
                        "table {} is of another datasource than the model's other views",
                        v.table_id
                    ),
                ));
                views.unresolved.insert(&v.name);
                continue;
            }
            views.tables.insert(v.name.clone(), meta);
        }
        views
    }

    /// Dimensions and measures: their columns, their aggregators, and one field per
    /// output name.
    fn check_fields(&self, def: &ModelDefinition, out: &mut Vec<ModelProblem>) {
        let mut names = BTreeSet::new();
        for (i, d) in def.dimensions.iter().enumerate() {
            let at = format!("dimensions[{i}]");
            self.check_column(format!("{at}.name"), &d.view, &d.name, out);
            check_unique_name(&mut names, &at, &d.alias, &d.name, out);
        }
        for (i, m) in def.measures.iter().enumerate() {
            let at = format!("measures[{i}]");
            self.check_column(format!("{at}.name"), &m.view, &m.name, out);
            let numeric = self
                .tables
                .get(&m.view)
                .and_then(|t| t.column(&m.name))
                .is_none_or(|c| matches!(c.field_type, FieldType::Integer | FieldType::Double));
            if !numeric && matches!(m.aggregator, Aggregator::Sum | Aggregator::Avg) {
                out.push(problem(
                    format!("{at}.aggregator"),
                    format!(
                        "{} needs a numeric column; {} is not",
                        m.aggregator.as_str(),
                        m.name
                    ),
                ));
            }
            check_unique_name(&mut names, &at, &m.alias, &m.name, out);
        }
    }

    /// Each relation joins columns of two different views of the model.
    fn check_relations(&self, def: &ModelDefinition, out: &mut Vec<ModelProblem>) {
        for (i, r) in def.relations.iter().enumerate() {
            let at = format!("relations[{i}]");
            self.check_column(format!("{at}.srcFieldName"), &r.src_view, &r.src_field, out);
            self.check_column(
                format!("{at}.destFieldName"),
                &r.dest_view,
                &r.dest_field,
                out,
            );
            if r.src_view == r.dest_view {
                out.push(problem(
                    format!("{at}.destViewName"),
                    "a relation joins two different views",
                ));
            }
        }
    }

    /// `column` is a column of `view`, one of the model's views (`at` names the field).
    fn check_column(&self, at: String, view: &str, column: &str, out: &mut Vec<ModelProblem>) {
        match self.tables.get(view) {
            None if self.unresolved.contains(view) => {}
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
        }
    }
}

/// No two fields share an output name (`at` names the field).
fn check_unique_name(
    names: &mut BTreeSet<String>,
    at: &str,
    alias: &Option<String>,
    name: &str,
    out: &mut Vec<ModelProblem>,
) {
    let output = output_name(alias, name);
    if names.contains(&output) {
        out.push(problem(
            format!("{at}.alias"),
            format!("{output} names another field of the model"),
        ));
    } else {
        names.insert(output);
    }
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
