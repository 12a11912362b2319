//! Rendering a query [`Plan`] into one SQL statement of a datasource's dialect. Identifiers
//! are quoted (`"x"` for PostgreSQL and SQLite, `` `x` `` for MySQL, inner quotes doubled);
//! every value is a bound parameter (`$1` for PostgreSQL, `?` for the others), never text in
//! the statement.
//!
//! One branch renders as `SELECT dims, AGG(col) FROM ... WHERE ... GROUP BY dims`. Several
//! branches (measures of several views) render as their `UNION ALL`, each branch filling
//! its own measures and `NULL` for the others, aggregated again by the dimensions with
//! `MAX` (each branch has one row per combination of dimensions, so `MAX` picks its value).

use std::fmt::Write;

use serde_json::Value as Json;
use weir_bi_catalog::augmented::Aggregator;
use weir_bi_catalog::query::{
    Branch, ColumnRef, Condition, Join, JoinKind, Joined, Operand, Operator, Plan, Select, Source,
};

/// The SQL dialects Weir renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    MySql,
    Sqlite,
}

/// A statement and the values bound to its placeholders, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub sql: String,
    pub params: Vec<Json>,
}

/// Why a plan cannot be rendered in a dialect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RenderError(pub String);

/// The escape character of the `LIKE` patterns Weir builds (`starts with` and the like):
/// not a backslash, which MySQL would read as a string escape.
const LIKE_ESCAPE: char = '!';

struct Writer {
    dialect: Dialect,
    sql: String,
    params: Vec<Json>,
}

pub fn render(plan: &Plan, dialect: Dialect) -> Result<Rendered, RenderError> {
    let mut w = Writer {
        dialect,
        sql: String::new(),
        params: Vec::new(),
    };
    if plan.branches.len() == 1 {
        w.branch(&plan.branches[0], None)?;
    } else {
        w.sql.push_str("SELECT ");
        let mut first = true;
        for d in &plan.dimensions {
            w.comma(&mut first);
            w.ident(d);
        }
        for m in &plan.measures {
            w.comma(&mut first);
            w.sql.push_str("MAX(");
            w.ident(m);
            w.sql.push_str(") AS ");
            w.ident(m);
        }
        w.sql.push_str(" FROM (");
        for (i, b) in plan.branches.iter().enumerate() {
            if i > 0 {
                w.sql.push_str(" UNION ALL ");
            }
            w.branch(b, Some(&plan.measures))?;
        }
        w.sql.push_str(") ");
        w.ident("q");
        if !plan.dimensions.is_empty() {
            w.sql.push_str(" GROUP BY ");
            let mut first = true;
            for d in &plan.dimensions {
                w.comma(&mut first);
                w.ident(d);
            }
        }
    }
    if !plan.order.is_empty() {
        w.sql.push_str(" ORDER BY ");
        let mut first = true;
        for (name, descending) in &plan.order {
            w.comma(&mut first);
            w.ident(name);
            w.sql.push_str(if *descending { " DESC" } else { " ASC" });
        }
    }
    write!(w.sql, " LIMIT {}", plan.limit).ok();
    Ok(Rendered {
        sql: w.sql,
        params: w.params,
    })
}

impl Writer {
    fn comma(&mut self, first: &mut bool) {
        if !*first {
            self.sql.push_str(", ");
        }
        *first = false;
    }

    fn ident(&mut self, name: &str) {
        let q = match self.dialect {
            Dialect::MySql => '`',
            Dialect::Postgres | Dialect::Sqlite => '"',
        };
        self.sql.push(q);
        for c in name.chars() {
            if c == q {
                self.sql.push(q);
            }
            self.sql.push(c);
        }
        self.sql.push(q);
    }

    fn column(&mut self, c: &ColumnRef) {
        self.ident(&c.source);
        self.sql.push('.');
        self.ident(&c.name);
    }

    /// A placeholder. PostgreSQL infers a placeholder's type from its context and then
    /// refuses a value of another type, so each carries the type of its JSON value.
    fn param(&mut self, value: &Json) {
        self.params.push(value.clone());
        match self.dialect {
            Dialect::Postgres => {
                let cast = match value {
                    Json::Bool(_) => "bool",
                    Json::Number(n) if n.is_i64() || n.is_u64() => "int8",
                    Json::Number(_) => "float8",
                    _ => "text",
                };
                write!(self.sql, "${}::{cast}", self.params.len()).ok();
            }
            Dialect::MySql | Dialect::Sqlite => self.sql.push('?'),
        }
    }

    /// A branch; with `all_measures`, as one part of a `UNION ALL`: every measure of the
    /// plan in order, `NULL` for those of other branches.
    fn branch(&mut self, b: &Branch, all_measures: Option<&[String]>) -> Result<(), RenderError> {
        self.sql.push_str("SELECT ");
        let mut first = true;
        let mut dims = Vec::new();
        for s in &b.select {
            if let Select::Dimension { column, name } = s {
                self.comma(&mut first);
                self.column(column);
                self.sql.push_str(" AS ");
                self.ident(name);
                dims.push(column.clone());
            }
        }
        let measure = |name: &str| {
            b.select.iter().find_map(|s| match s {
                Select::Measure {
                    aggregator,
                    column,
                    name: n,
                } if n == name => Some((*aggregator, column.clone())),
                _ => None,
            })
        };
        let names: Vec<String> = match all_measures {
            Some(all) => all.to_vec(),
            None => b
                .select
                .iter()
                .filter_map(|s| match s {
                    Select::Measure { name, .. } => Some(name.clone()),
                    Select::Dimension { .. } => None,
                })
                .collect(),
        };
        for name in &names {
            self.comma(&mut first);
            match measure(name) {
                Some((aggregator, column)) => {
                    self.aggregate(aggregator, &column);
                }
                None => self.sql.push_str("NULL"),
            }
            self.sql.push_str(" AS ");
            self.ident(name);
        }
        self.sql.push_str(" FROM ");
        self.joined(&b.from)?;
        if !dims.is_empty() {
            self.sql.push_str(" GROUP BY ");
            let mut first = true;
            for c in &dims {
                self.comma(&mut first);
                self.column(c);
            }
        }
        Ok(())
    }

    fn aggregate(&mut self, aggregator: Aggregator, column: &ColumnRef) {
        let (function, distinct) = match aggregator {
            Aggregator::Sum => ("SUM", false),
            Aggregator::Count => ("COUNT", false),
            Aggregator::Avg => ("AVG", false),
            Aggregator::Distinct => ("COUNT", true),
            Aggregator::Max => ("MAX", false),
            Aggregator::Min => ("MIN", false),
        };
        self.sql.push_str(function);
        self.sql.push('(');
        if distinct {
            self.sql.push_str("DISTINCT ");
        }
        self.column(column);
        self.sql.push(')');
    }

    /// `FROM` sources and joins, then `WHERE`.
    fn joined(&mut self, j: &Joined) -> Result<(), RenderError> {
        self.source(&j.base)?;
        for join in &j.joins {
            self.join(join)?;
        }
        if !j.conditions.is_empty() {
            self.sql.push_str(" WHERE ");
            for (i, (source, c)) in j.conditions.iter().enumerate() {
                if i > 0 {
                    self.sql.push_str(" AND ");
                }
                self.condition(source, c)?;
            }
        }
        Ok(())
    }

    fn join(&mut self, join: &Join) -> Result<(), RenderError> {
        self.sql.push_str(match join.kind {
            JoinKind::Inner => " INNER JOIN ",
            JoinKind::Left => " LEFT JOIN ",
            JoinKind::Right if self.dialect == Dialect::Sqlite => {
                // SQLite learnt RIGHT and FULL joins in 3.39; the bundled library is newer.
                " RIGHT JOIN "
            }
            JoinKind::Right => " RIGHT JOIN ",
            JoinKind::Full if self.dialect == Dialect::MySql => {
                return Err(RenderError(
                    "a FULLJOIN relation cannot be queried on MySQL, which has no FULL JOIN".into(),
                ));
            }
            JoinKind::Full => " FULL JOIN ",
        });
        self.source(&join.source)?;
        self.sql.push_str(" ON ");
        self.column(&join.on.0);
        self.sql.push_str(" = ");
        self.column(&join.on.1);
        Ok(())
    }

    fn source(&mut self, s: &Source) -> Result<(), RenderError> {
        match s {
            Source::Table {
                schema,
                table,
                alias,
            } => {
                // SQLite's one schema is `main`; naming it is allowed but pointless.
                if self.dialect != Dialect::Sqlite || schema != "main" {
                    self.ident(schema);
                    self.sql.push('.');
                }
                self.ident(table);
                self.sql.push(' ');
                self.ident(alias);
            }
            Source::Distinct {
                alias,
                inner,
                columns,
            } => {
                self.sql.push_str("(SELECT DISTINCT ");
                let mut first = true;
                for (column, name) in columns {
                    self.comma(&mut first);
                    self.column(column);
                    self.sql.push_str(" AS ");
                    self.ident(name);
                }
                self.sql.push_str(" FROM ");
                self.joined(inner)?;
                self.sql.push_str(") ");
                self.ident(alias);
            }
        }
        Ok(())
    }

    fn condition(&mut self, source: &str, c: &Condition) -> Result<(), RenderError> {
        match c {
            Condition::All(cs) | Condition::Any(cs) if cs.is_empty() => {
                self.sql.push_str(if matches!(c, Condition::All(_)) {
                    "1 = 1"
                } else {
                    "1 = 0"
                });
            }
            Condition::All(cs) | Condition::Any(cs) => {
                let glue = if matches!(c, Condition::All(_)) {
                    " AND "
                } else {
                    " OR "
                };
                self.sql.push('(');
                for (i, c) in cs.iter().enumerate() {
                    if i > 0 {
                        self.sql.push_str(glue);
                    }
                    self.condition(source, c)?;
                }
                self.sql.push(')');
            }
            Condition::Compare {
                column,
                operator,
                operand,
            } => {
                let col = ColumnRef {
                    source: source.to_owned(),
                    name: column.clone(),
                };
                self.compare(&col, *operator, operand, source)?;
            }
        }
        Ok(())
    }

    fn compare(
        &mut self,
        col: &ColumnRef,
        op: Operator,
        operand: &Operand,
        source: &str,
    ) -> Result<(), RenderError> {
        self.column(col);
        let symbol = match op {
            Operator::Eq => " = ",
            Operator::Ne => " <> ",
            Operator::Gt => " > ",
            Operator::Ge => " >= ",
            Operator::Lt => " < ",
            Operator::Le => " <= ",
            Operator::Like | Operator::StartsWith | Operator::EndsWith => " LIKE ",
            Operator::NotLike | Operator::NotStartsWith | Operator::NotEndsWith => " NOT LIKE ",
            Operator::In => " IN ",
            Operator::NotIn => " NOT IN ",
            Operator::IsNull => {
                self.sql.push_str(" IS NULL");
                return Ok(());
            }
            Operator::IsNotNull => {
                self.sql.push_str(" IS NOT NULL");
                return Ok(());
            }
        };
        self.sql.push_str(symbol);
        match operand {
            Operand::Column(other) => {
                self.column(&ColumnRef {
                    source: source.to_owned(),
                    name: other.clone(),
                });
            }
            Operand::Values(values) if matches!(op, Operator::In | Operator::NotIn) => {
                self.sql.push('(');
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        self.sql.push_str(", ");
                    }
                    self.param(v);
                }
                self.sql.push(')');
            }
            Operand::Values(values) => {
                let value = values.first().cloned().unwrap_or(Json::Null);
                let pattern = |v: &Json, before: bool, after: bool| {
                    let text = match v {
                        Json::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    let escaped: String = text
                        .chars()
                        .flat_map(|c| {
                            let special = matches!(c, '%' | '_') || c == LIKE_ESCAPE;
                            special.then_some(LIKE_ESCAPE).into_iter().chain([c])
                        })
                        .collect();
                    Json::String(format!(
                        "{}{escaped}{}",
                        if before { "%" } else { "" },
                        if after { "%" } else { "" }
                    ))
                };
                match op {
                    Operator::StartsWith | Operator::NotStartsWith => {
                        self.param(&pattern(&value, false, true));
                        write!(self.sql, " ESCAPE '{LIKE_ESCAPE}'").ok();
                    }
                    Operator::EndsWith | Operator::NotEndsWith => {
                        self.param(&pattern(&value, true, false));
                        write!(self.sql, " ESCAPE '{LIKE_ESCAPE}'").ok();
                    }
                    _ => self.param(&value),
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;
    use weir_bi_catalog::augmented::ValidModel;
    use weir_bi_catalog::query::{FieldFilter, OrderBy, QueryRequest, plan};

    use super::*;

    fn model() -> ValidModel {
        weir_bi_catalog::testing::shop_model("shop")
    }

    fn sql(req: QueryRequest, perms: BTreeMap<String, Condition>, d: Dialect) -> Rendered {
        render(&plan(&model(), &req, &perms, 1000).unwrap(), d).unwrap()
    }

    #[test]
    fn a_one_side_measure_by_a_many_side_dimension_is_counted_once_per_group() {
        let req = QueryRequest {
            dimensions: vec!["status".into()],
            measures: vec!["credit".into()],
            order: vec![OrderBy {
                field: "credit".into(),
                descending: true,
            }],
            ..QueryRequest::default()
        };
        let r = sql(req, BTreeMap::new(), Dialect::Postgres);
        assert_eq!(
            r.sql,
            "SELECT \"o__d\".\"o__status\" AS \"status\", SUM(\"c\".\"credit\") AS \"credit\" \
             FROM \"shop\".\"q_customers\" \"c\" LEFT JOIN (SELECT DISTINCT \"o\".\"customer_id\" \
             AS \"o__customer_id\", \"o\".\"status\" AS \"o__status\" FROM \"shop\".\"q_orders\" \
             \"o\") \"o__d\" ON \"c\".\"id\" = \"o__d\".\"o__customer_id\" GROUP BY \
             \"o__d\".\"o__status\" ORDER BY \"credit\" DESC LIMIT 1000"
        );
        assert!(r.params.is_empty());
    }

    #[test]
    fn values_are_bound_and_identifiers_quoted_in_each_dialect() {
        let req = QueryRequest {
            dimensions: vec!["region".into()],
            measures: vec!["sales".into()],
            filters: vec![FieldFilter {
                field: "status".into(),
                operator: Operator::StartsWith,
                values: vec![json!("pa_d%")],
            }],
            ..QueryRequest::default()
        };
        let perm = Condition::Compare {
            column: "region".into(),
            operator: Operator::In,
            operand: Operand::Values(vec![json!("north"), json!("it's")]),
        };
        let perms = BTreeMap::from([("c".to_string(), perm)]);
        let r = sql(req.clone(), perms.clone(), Dialect::MySql);
        assert_eq!(
            r.sql,
            "SELECT `c`.`region` AS `region`, SUM(`o`.`amount`) AS `sales` FROM `shop`.`q_orders` \
             `o` RIGHT JOIN `shop`.`q_customers` `c` ON `o`.`customer_id` = `c`.`id` WHERE \
             `o`.`status` LIKE ? ESCAPE '!' AND `c`.`region` IN (?, ?) GROUP BY `c`.`region` \
             LIMIT 1000"
        );
        assert_eq!(r.params, [json!("pa!_d!%%"), json!("north"), json!("it's")]);
        let r = sql(req, perms, Dialect::Postgres);
        assert!(
            r.sql
                .contains("LIKE $1::text ESCAPE '!' AND \"c\".\"region\" IN ($2::text, $3::text)"),
            "{}",
            r.sql
        );
    }

    #[test]
    fn measures_of_two_views_are_combined_by_their_dimensions() {
        let req = QueryRequest {
            dimensions: vec!["region".into()],
            measures: vec!["credit".into(), "sales".into()],
            ..QueryRequest::default()
        };
        let r = sql(req, BTreeMap::new(), Dialect::Sqlite);
        assert_eq!(
            r.sql,
            "SELECT \"region\", MAX(\"credit\") AS \"credit\", MAX(\"sales\") AS \"sales\" FROM \
             (SELECT \"c\".\"region\" AS \"region\", SUM(\"c\".\"credit\") AS \"credit\", NULL \
             AS \"sales\" FROM \"shop\".\"q_customers\" \"c\" GROUP BY \"c\".\"region\" UNION ALL \
             SELECT \"c\".\"region\" AS \"region\", NULL AS \"credit\", SUM(\"o\".\"amount\") AS \
             \"sales\" FROM \"shop\".\"q_orders\" \"o\" RIGHT JOIN \"shop\".\"q_customers\" \"c\" ON \
             \"o\".\"customer_id\" = \"c\".\"id\" GROUP BY \"c\".\"region\") \"q\" GROUP BY \
             \"region\" LIMIT 1000"
        );
    }
}
