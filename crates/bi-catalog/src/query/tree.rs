//! The model's relations as a tree, and the joins of a branch built from it: a view across
//! a one-to-many step from the branch's root becomes a distinct projection.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::plan::{ColumnRef, Join, JoinKind, Joined, Source};
use super::request::{Column, Condition};
use crate::augmented::{LinkType, ValidModel};

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
pub(super) struct Tree {
    steps: HashMap<String, Vec<Step>>,
}

/// A built source tree, with where each needed column can be read from.
pub(super) struct Built {
    pub(super) joined: Joined,
    exposed: BTreeMap<Column, ColumnRef>,
}

impl Built {
    /// Where `c` is read from outside the built sources.
    pub(super) fn exposed(&self, c: &Column) -> ColumnRef {
        self.exposed.get(c).cloned().unwrap_or(ColumnRef {
            source: c.view.clone(),
            name: c.column.clone(),
        })
    }
}

impl Tree {
    pub(super) fn of(model: &ValidModel) -> Self {
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
    pub(super) fn connecting(&self, root: &str, needed: &BTreeSet<String>) -> BTreeSet<String> {
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
    pub(super) fn build(
        &self,
        model: &ValidModel,
        root: &str,
        views: &BTreeSet<String>,
        wanted: &BTreeMap<String, BTreeSet<String>>,
        conditions: &BTreeMap<String, Vec<Condition>>,
    ) -> Built {
        let joins = Joins {
            tree: self,
            model,
            views,
            wanted,
            conditions,
        };
        let mut built = joins.start(root);
        joins.join_children(root, None, &mut built);
        built
    }
}

/// What every join of a branch reads: the views it joins, the columns wanted from each
/// view and the conditions on each.
struct Joins<'a> {
    tree: &'a Tree,
    model: &'a ValidModel,
    views: &'a BTreeSet<String>,
    wanted: &'a BTreeMap<String, BTreeSet<String>>,
    conditions: &'a BTreeMap<String, Vec<Condition>>,
}

impl Joins<'_> {
    /// `view`'s table alone, with its conditions.
    fn start(&self, view: &str) -> Built {
        Built {
            joined: Joined {
                base: self.table(view),
                joins: Vec::new(),
                conditions: self.own_conditions(view),
            },
            exposed: BTreeMap::new(),
        }
    }

    fn table(&self, view: &str) -> Source {
        let t = &self.model.tables[view];
        Source::Table {
            schema: t.schema.clone(),
            table: t.table.clone(),
            alias: view.to_owned(),
        }
    }

    fn own_conditions(&self, view: &str) -> Vec<(String, Condition)> {
        self.conditions
            .get(view)
            .into_iter()
            .flatten()
            .map(|c| (view.to_owned(), c.clone()))
            .collect()
    }

    /// Joins to `built` the branch's views beyond `view`, away from `parent`.
    fn join_children(&self, view: &str, parent: Option<&str>, built: &mut Built) {
        for s in self.tree.steps(view) {
            if Some(s.to.as_str()) == parent || !self.views.contains(&s.to) {
                continue;
            }
            let from = built.exposed(&Column {
                view: view.to_owned(),
                column: s.from_column.clone(),
            });
            if s.multiplies {
                self.join_distinct(view, s, from, built);
            } else {
                self.join_table(view, s, from, built);
            }
        }
    }

    /// Across a step that keeps the rows as they are: the table itself, then the views
    /// beyond it.
    fn join_table(&self, view: &str, s: &Step, from: ColumnRef, built: &mut Built) {
        built.joined.joins.push(Join {
            kind: s.kind,
            source: self.table(&s.to),
            on: (
                from,
                ColumnRef {
                    source: s.to.clone(),
                    name: s.to_column.clone(),
                },
            ),
        });
        built.joined.conditions.extend(self.own_conditions(&s.to));
        self.join_children(&s.to, Some(view), built);
    }

    /// Across a multiplying step: the subtree beyond, as a distinct projection of the join
    /// key and the columns wanted from it.
    fn join_distinct(&self, view: &str, s: &Step, from: ColumnRef, built: &mut Built) {
        let mut inner = self.start(&s.to);
        self.join_children(&s.to, Some(view), &mut inner);
        let mut sub_views = BTreeSet::new();
        self.subtree(&s.to, Some(view), &mut sub_views);
        let columns = self.projected_columns(s, &sub_views);
        let alias = format!("{}__d", s.to);
        let projected: Vec<(ColumnRef, String)> = columns
            .iter()
            .map(|c| (inner.exposed(c), projected_name(c)))
            .collect();
        for c in &columns {
            built.exposed.insert(
                c.clone(),
                ColumnRef {
                    source: alias.clone(),
                    name: projected_name(c),
                },
            );
        }
        // A subtree with conditions (filters, row permissions) keeps only the rows of
        // this side related to rows that pass them: an inner join. Without conditions it
        // joins as the relation says.
        let narrowed = sub_views.iter().any(|v| self.conditions.contains_key(v));
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
                    name: projected_name(&columns[0]),
                },
            ),
        });
    }

    /// The join key of the view `s` reaches, then the columns wanted from `sub_views`.
    fn projected_columns(&self, s: &Step, sub_views: &BTreeSet<String>) -> Vec<Column> {
        let mut columns = vec![Column {
            view: s.to.clone(),
            column: s.to_column.clone(),
        }];
        for v in sub_views {
            for c in self.wanted.get(v).into_iter().flatten() {
                let col = Column {
                    view: v.clone(),
                    column: c.clone(),
                };
                if !columns.contains(&col) {
                    columns.push(col);
                }
            }
        }
        columns
    }

    /// The branch's views from `view` on, away from `parent`.
    fn subtree(&self, view: &str, parent: Option<&str>, out: &mut BTreeSet<String>) {
        out.insert(view.to_owned());
        for s in self.tree.steps(view) {
            if Some(s.to.as_str()) != parent && self.views.contains(&s.to) {
                self.subtree(&s.to, Some(view), out);
            }
        }
    }
}

/// A column's name outside the distinct projection that holds it.
fn projected_name(c: &Column) -> String {
    format!("{}__{}", c.view, c.column)
}
