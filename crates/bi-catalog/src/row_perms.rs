//! Row permissions (`dataperm/create`, `dataperm/get`): named items on a table, each with
//! the users, groups and roles it concerns and an expression tree of conditions on the
//! table's columns; and how they narrow the rows a caller's queries read.
//!
//! - A `FILTER` leaf compares a column (`fieldId`: the column's name, **decision**: Weir's
//!   columns have no ids of their own) with a value (`valueKind` `VALUE`) or another column
//!   of the table (`valueKind` `FIELD`) by one of the document's operators (`=`, `<>`,
//!   `like`, `not like`, `in`, `not in`, `like ..%`, `like %..`, `not like ..%`,
//!   `not like %..`). `in` and `not in` take a comma-separated `value`. `valueType`
//!   (default `STRING`; `INTEGER`, `DOUBLE`, `BOOLEAN`, `DATE`, `DATETIME`) says how the
//!   value is bound.
//! - An `EXPRESSION` node joins its `expressions` with `AND` or `OR` (its `operator`), and
//!   nests.
//! - `applicable` 1 (the default): the item concerns the listed users, groups and roles;
//!   0: everyone but them.
//! - **Decision:** a caller concerned by several items of a table sees the rows any of them
//!   allows (their conditions joined with `OR`); a caller concerned by none is not narrowed
//!   on that table. This is how Smartbi reads "row permissions restrict the users they
//!   name".

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use crate::drivers::ColumnInfo;
use crate::query::{Condition, Operand, Operator};

/// Deepest nesting of an expression.
pub const MAX_DEPTH: usize = 8;
/// Most leaves (`FILTER` nodes) one item may have.
pub const MAX_LEAVES: usize = 100;

/// An item as the API sends and answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RowPermItem {
    /// The item's name, unique on its table (`itemName`); required.
    pub item_name: String,
    /// 1 (the default): the item concerns those listed; 0: everyone but them.
    #[serde(default = "one")]
    pub applicable: i64,
    /// User ids the item names.
    #[serde(default)]
    pub user: Vec<String>,
    /// Group ids the item names.
    #[serde(default)]
    pub group: Vec<String>,
    /// Role ids the item names.
    #[serde(default)]
    pub role: Vec<String>,
    /// The condition the rows must meet for those the item concerns.
    pub expression: Expression,
}

fn one() -> i64 {
    1
}

/// A node of the expression tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Expression {
    /// `FILTER` or `EXPRESSION`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A `FILTER`'s column, by its name in the table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_id: Option<String>,
    /// A `FILTER`'s value: a value (comma-separated for `in` and `not in`), or another
    /// column's name with `valueKind` `FIELD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Json>,
    /// `VALUE` (the default) or `FIELD`, any case: what `value` holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_kind: Option<String>,
    /// How a `VALUE` is bound: `STRING` (the default), `INTEGER`, `DOUBLE`, `BOOLEAN`, `DATE`,
    /// `DATETIME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_type: Option<String>,
    /// A `FILTER`'s comparison (default `=`), or how an `EXPRESSION` joins its parts: `AND`
    /// (the default) or `OR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// An `EXPRESSION`'s parts (at least one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expressions: Vec<Expression>,
}

/// Who a caller is, for row permissions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    /// The user's id; empty for the system.
    pub user: String,
    /// The ids of the user's groups.
    pub groups: BTreeSet<String>,
    /// The ids of the user's roles.
    pub roles: BTreeSet<String>,
}

/// An item that passed [`check`], with its condition.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedItem {
    /// The item as sent.
    pub item: RowPermItem,
    /// Its expression as a condition on the table's columns.
    pub condition: Condition,
}

impl CheckedItem {
    /// Whether the item concerns the subject.
    pub fn concerns(&self, s: &Subject) -> bool {
        let i = &self.item;
        let listed = i.user.contains(&s.user)
            || i.group.iter().any(|g| s.groups.contains(g))
            || i.role.iter().any(|r| s.roles.contains(r));
        if i.applicable == 0 { !listed } else { listed }
    }
}

/// Checks one item against the table's columns: its name, its lists, its expression.
/// The error says what is wrong, for the item's entry in the failure list.
pub fn check(item: RowPermItem, columns: &[ColumnInfo]) -> Result<CheckedItem, String> {
    if item.item_name.trim().is_empty() {
        return Err("itemName is required".into());
    }
    if !matches!(item.applicable, 0 | 1) {
        return Err(format!(
            "applicable must be 1 or 0, not {}",
            item.applicable
        ));
    }
    let condition = Conditions { columns, leaves: 0 }.of(&item.expression, "expression", 0)?;
    Ok(CheckedItem { item, condition })
}

/// Turns an expression tree into a condition on the table's columns, counting its leaves.
struct Conditions<'a> {
    columns: &'a [ColumnInfo],
    leaves: usize,
}

impl Conditions<'_> {
    /// The condition of `e`, found at `at`, `depth` levels down the tree.
    fn of(&mut self, e: &Expression, at: &str, depth: usize) -> Result<Condition, String> {
        if depth > MAX_DEPTH {
            return Err(format!("{at}: nested deeper than {MAX_DEPTH} levels"));
        }
        match e.kind.to_ascii_uppercase().as_str() {
            "EXPRESSION" => self.group(e, at, depth),
            "FILTER" => self.filter(e, at),
            other => Err(format!("{at}.type: FILTER or EXPRESSION, not {other}")),
        }
    }

    /// An `EXPRESSION`: its parts joined with AND or OR.
    fn group(&mut self, e: &Expression, at: &str, depth: usize) -> Result<Condition, String> {
        if e.expressions.is_empty() {
            return Err(format!(
                "{at}.expressions: an EXPRESSION needs at least one"
            ));
        }
        let parts = e
            .expressions
            .iter()
            .enumerate()
            .map(|(i, x)| self.of(x, &format!("{at}.expressions[{i}]"), depth + 1))
            .collect::<Result<Vec<_>, _>>()?;
        match e
            .operator
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            Some("AND") | None => Ok(Condition::All(parts)),
            Some("OR") => Ok(Condition::Any(parts)),
            Some(other) => Err(format!(
                "{at}.operator: an EXPRESSION joins with AND or OR, not {other}"
            )),
        }
    }

    /// A `FILTER`: a column compared with values or with another column.
    fn filter(&mut self, e: &Expression, at: &str) -> Result<Condition, String> {
        self.leaves += 1;
        if self.leaves > MAX_LEAVES {
            return Err(format!("{at}: more than {MAX_LEAVES} conditions"));
        }
        let field = e
            .field_id
            .as_deref()
            .filter(|f| !f.trim().is_empty())
            .ok_or_else(|| format!("{at}.fieldId is required"))?;
        let column = self.column(field, at, "fieldId")?;
        let operator = filter_operator(e, at)?;
        let operand = self.operand(e, at, operator)?;
        Ok(Condition::Compare {
            column,
            operator,
            operand,
        })
    }

    /// What a filter compares its column with, as its `valueKind` says.
    fn operand(&self, e: &Expression, at: &str, operator: Operator) -> Result<Operand, String> {
        match e
            .value_kind
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            Some("FIELD") => {
                let other = e.value.as_ref().and_then(Json::as_str).unwrap_or_default();
                Ok(Operand::Column(self.column(other, at, "value")?))
            }
            Some("VALUE") | None => values(e, at, operator).map(Operand::Values),
            Some(other) => Err(format!("{at}.valueKind: FIELD or VALUE, not {other}")),
        }
    }

    /// The table's column `name`, which `what` of the filter at `at` names.
    fn column(&self, name: &str, at: &str, what: &str) -> Result<String, String> {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.name.clone())
            .ok_or_else(|| format!("{at}.{what}: the table has no column {name}"))
    }
}

/// A filter's operator (default `=`), one of those row permissions take.
fn filter_operator(e: &Expression, at: &str) -> Result<Operator, String> {
    let op_text = e
        .operator
        .as_deref()
        .unwrap_or("=")
        .trim()
        .to_ascii_lowercase();
    let operator: Operator = serde_json::from_value(json!(op_text)).map_err(|_| {
        format!("{at}.operator: {op_text} is not one of =, <>, like, not like, in, not in, like ..%, like %.., not like ..%, not like %..")
    })?;
    if matches!(
        operator,
        Operator::Gt
            | Operator::Ge
            | Operator::Lt
            | Operator::Le
            | Operator::IsNull
            | Operator::IsNotNull
    ) {
        return Err(format!(
            "{at}.operator: {op_text} is not a row permission operator"
        ));
    }
    Ok(operator)
}

/// A filter's `value`, typed as its `valueType` says; `in` and `not in` split it at commas.
fn values(e: &Expression, at: &str, operator: Operator) -> Result<Vec<Json>, String> {
    let raw = match &e.value {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Null) | None => return Err(format!("{at}.value is required")),
        Some(other) => other.to_string(),
    };
    let texts: Vec<String> = if matches!(operator, Operator::In | Operator::NotIn) {
        raw.split(',').map(|v| v.trim().to_owned()).collect()
    } else {
        vec![raw]
    };
    let value_type = e.value_type.as_deref().unwrap_or("STRING");
    texts
        .iter()
        .map(|t| typed(t, value_type).map_err(|why| format!("{at}.value: {why}")))
        .collect()
}

/// A value as its `valueType` says it is bound.
fn typed(text: &str, value_type: &str) -> Result<Json, String> {
    match value_type.to_ascii_uppercase().as_str() {
        "STRING" | "DATE" | "DATETIME" | "TIME" => Ok(Json::String(text.to_owned())),
        "INTEGER" | "LONG" => text
            .parse::<i64>()
            .map(Json::from)
            .map_err(|_| format!("{text} is not an INTEGER")),
        "DOUBLE" | "NUMBER" => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Json::Number)
            .ok_or_else(|| format!("{text} is not a DOUBLE")),
        "BOOLEAN" => match text.to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(Json::Bool(true)),
            "false" | "0" => Ok(Json::Bool(false)),
            _ => Err(format!("{text} is not a BOOLEAN")),
        },
        other => Err(format!(
            "valueType {other} is not one of STRING, INTEGER, DOUBLE, BOOLEAN, DATE, DATETIME"
        )),
    }
}

/// The condition a subject's queries on a table get from its items: `None` when no item
/// concerns them (no narrowing), else the items' conditions joined with `OR`.
pub fn for_subject(items: &[CheckedItem], subject: &Subject) -> Option<Condition> {
    let concerning: Vec<Condition> = items
        .iter()
        .filter(|i| i.concerns(subject))
        .map(|i| i.condition.clone())
        .collect();
    match concerning.len() {
        0 => None,
        1 => concerning.into_iter().next(),
        _ => Some(Condition::Any(concerning)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::FieldType;

    fn columns() -> Vec<ColumnInfo> {
        ["region", "owner", "amount"]
            .iter()
            .map(|n| ColumnInfo {
                name: n.to_string(),
                native_type: String::new(),
                field_type: FieldType::String,
                nullable: true,
            })
            .collect()
    }

    fn item(v: Json) -> RowPermItem {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_nested_expression_becomes_a_condition() {
        let it = item(json!({"itemName": "north", "role": ["r1"], "expression": {
        "type": "EXPRESSION", "operator": "OR", "expressions": [
            {"type": "FILTER", "fieldId": "region", "operator": "in", "value": "north, east"},
            {"type": "FILTER", "fieldId": "amount", "operator": "=", "value": "5", "valueType": "INTEGER"},
            {"type": "FILTER", "fieldId": "owner", "operator": "=", "value": "region", "valueKind": "FIELD"}
        ]}}));
        let c = check(it, &columns()).unwrap();
        assert_eq!(
            c.condition,
            Condition::Any(vec![
                Condition::Compare {
                    column: "region".into(),
                    operator: Operator::In,
                    operand: Operand::Values(vec![json!("north"), json!("east")])
                },
                Condition::Compare {
                    column: "amount".into(),
                    operator: Operator::Eq,
                    operand: Operand::Values(vec![json!(5)])
                },
                Condition::Compare {
                    column: "owner".into(),
                    operator: Operator::Eq,
                    operand: Operand::Column("region".into())
                },
            ])
        );
        let alice = Subject {
            user: "alice".into(),
            roles: BTreeSet::from(["r1".to_string()]),
            ..Subject::default()
        };
        assert!(for_subject(std::slice::from_ref(&c), &alice).is_some());
        let bob = Subject {
            user: "bob".into(),
            ..Subject::default()
        };
        assert!(for_subject(std::slice::from_ref(&c), &bob).is_none());
        let mut everyone_but = c.clone();
        everyone_but.item.applicable = 0;
        assert!(for_subject(std::slice::from_ref(&everyone_but), &bob).is_some());
        assert!(for_subject(&[everyone_but], &alice).is_none());
    }

    #[test]
    fn bad_items_say_what_is_wrong() {
        let bad = |expression: Json| {
            check(
                item(json!({"itemName": "x", "expression": expression})),
                &columns(),
            )
            .unwrap_err()
        };
        assert_eq!(
            bad(json!({"type": "FILTER", "fieldId": "nope", "value": "1"})),
            "expression.fieldId: the table has no column nope"
        );
        assert_eq!(
            bad(json!({"type": "FILTER", "fieldId": "region", "operator": "~", "value": "1"})),
            "expression.operator: ~ is not one of =, <>, like, not like, in, not in, like ..%, like %.., not like ..%, not like %.."
        );
        assert_eq!(
            bad(
                json!({"type": "EXPRESSION", "operator": "XOR", "expressions": [
                {"type": "FILTER", "fieldId": "region", "value": "a"}]})
            ),
            "expression.operator: an EXPRESSION joins with AND or OR, not XOR"
        );
        assert_eq!(
            bad(json!({"type": "EXPRESSION", "expressions": [
                {"type": "FILTER", "fieldId": "amount", "value": "x", "valueType": "INTEGER"}]})),
            "expression.expressions[0].value: x is not an INTEGER"
        );
        assert_eq!(
            check(
                item(json!({"itemName": " ", "expression": {"type": "FILTER"}})),
                &columns()
            )
            .unwrap_err(),
            "itemName is required"
        );
    }
}
