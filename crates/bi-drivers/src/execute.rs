//! Running a rendered query plan on each database, values bound as parameters, and reading
//! the rows back as JSON in the plan's column order.

use mysql::consts::ColumnType;
use mysql::prelude::Queryable;
use serde_json::{Number, Value as Json};
use weir_bi_catalog::drivers::{DriverError, Rows};

use crate::render::Rendered;
use crate::{Server, SqliteFile};

/// PostgreSQL: the statement is wrapped so that each row arrives as one `jsonb` object,
/// which carries every column type (numeric included) as JSON without a decoder per type.
pub(crate) fn postgres(
    pool: &crate::pg_pool::PgPool,
    server: &Server,
    r: &Rendered,
    columns: &[String],
) -> Result<Rows, DriverError> {
    let sql = format!("SELECT to_jsonb(q) FROM ({}) q", r.sql);
    let params: Vec<PgParam> = r.params.iter().map(PgParam::of).collect();
    let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
        params.iter().map(PgParam::as_sql).collect();
    let rows = pool.query_json(server, &sql, &refs)?;
    let rows = rows
        .into_iter()
        .map(|object| match object {
            Json::Object(mut m) => columns
                .iter()
                .map(|c| m.remove(c).unwrap_or(Json::Null))
                .collect(),
            _ => vec![Json::Null; columns.len()],
        })
        .collect();
    Ok(Rows {
        columns: columns.to_vec(),
        rows,
    })
}

/// A bound PostgreSQL value; the statement casts each placeholder to its type.
#[derive(Debug)]
pub(crate) enum PgParam {
    Text(Option<String>),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl PgParam {
    fn of(v: &Json) -> Self {
        match v {
            Json::Null => Self::Text(None),
            Json::Bool(b) => Self::Bool(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Self::Int(i),
                None => Self::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(s) => Self::Text(Some(s.clone())),
            other => Self::Text(Some(other.to_string())),
        }
    }

    pub(crate) fn as_sql(&self) -> &(dyn tokio_postgres::types::ToSql + Sync) {
        match self {
            Self::Text(t) => t,
            Self::Int(i) => i,
            Self::Float(f) => f,
            Self::Bool(b) => b,
        }
    }
}

/// MySQL and MariaDB, on a kept connection (or a new one).
pub(crate) fn mysql(
    pool: &crate::my_pool::MyPool,
    server: &Server,
    r: &Rendered,
    columns: &[String],
) -> Result<Rows, DriverError> {
    let params: Vec<mysql::Value> = r
        .params
        .iter()
        .map(|v| match v {
            Json::Null => mysql::Value::NULL,
            Json::Bool(b) => mysql::Value::Int(i64::from(*b)),
            Json::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => mysql::Value::Int(i),
                (None, Some(u)) => mysql::Value::UInt(u),
                _ => mysql::Value::Double(n.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(s) => mysql::Value::Bytes(s.clone().into_bytes()),
            other => mysql::Value::Bytes(other.to_string().into_bytes()),
        })
        .collect();
    let rows: Vec<mysql::Row> =
        pool.run_query(server, |conn| conn.exec(r.sql.as_str(), params.clone()))?;
    let rows = rows
        .into_iter()
        .map(|row| {
            let types: Vec<ColumnType> =
                row.columns_ref().iter().map(|c| c.column_type()).collect();
            row.unwrap()
                .into_iter()
                .zip(types)
                .map(|(v, t)| mysql_json(v, t))
                .collect()
        })
        .collect();
    Ok(Rows {
        columns: columns.to_vec(),
        rows,
    })
}

fn mysql_json(v: mysql::Value, t: ColumnType) -> Json {
    match v {
        mysql::Value::NULL => Json::Null,
        mysql::Value::Int(i) => Json::from(i),
        mysql::Value::UInt(u) => Json::from(u),
        mysql::Value::Float(f) => number(f64::from(f)),
        mysql::Value::Double(f) => number(f),
        mysql::Value::Bytes(b) => {
            let text = String::from_utf8_lossy(&b).into_owned();
            // Decimals (SUM of a DECIMAL, say) arrive as text: they are numbers.
            if matches!(
                t,
                ColumnType::MYSQL_TYPE_NEWDECIMAL | ColumnType::MYSQL_TYPE_DECIMAL
            ) && let Ok(f) = text.parse::<f64>()
            {
                return number(f);
            }
            Json::String(text)
        }
        mysql::Value::Date(y, mo, d, h, mi, s, us) => {
            if matches!(t, ColumnType::MYSQL_TYPE_DATE) {
                Json::String(format!("{y:04}-{mo:02}-{d:02}"))
            } else if us > 0 {
                Json::String(format!(
                    "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}"
                ))
            } else {
                Json::String(format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"))
            }
        }
        mysql::Value::Time(neg, days, h, mi, s, _) => {
            let hours = u32::from(h) + days * 24;
            Json::String(format!(
                "{}{hours:02}:{mi:02}:{s:02}",
                if neg { "-" } else { "" }
            ))
        }
    }
}

/// SQLite.
pub(crate) fn sqlite(
    file: &SqliteFile,
    r: &Rendered,
    columns: &[String],
) -> Result<Rows, DriverError> {
    use rusqlite::types::{Value, ValueRef};
    let params: Vec<Value> = r
        .params
        .iter()
        .map(|v| match v {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Integer(i64::from(*b)),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Value::Integer(i),
                None => Value::Real(n.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(s) => Value::Text(s.clone()),
            other => Value::Text(other.to_string()),
        })
        .collect();
    let width = columns.len();
    let rows = crate::sqlite::run_query(file, &r.sql, &params, |row| {
        (0..width)
            .map(|i| {
                Ok(match row.get_ref(i)? {
                    ValueRef::Null => Json::Null,
                    ValueRef::Integer(i) => Json::from(i),
                    ValueRef::Real(f) => number(f),
                    ValueRef::Text(t) => Json::String(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => {
                        Json::String(b.iter().map(|x| format!("{x:02x}")).collect())
                    }
                })
            })
            .collect()
    })?;
    Ok(Rows {
        columns: columns.to_vec(),
        rows,
    })
}

/// A float as a JSON number; NaN and infinities, which JSON has not, as `null`.
fn number(f: f64) -> Json {
    Number::from_f64(f).map_or(Json::Null, Json::Number)
}

/// The columns of a plan's rows: dimensions, then measures.
pub(crate) fn columns(plan: &weir_bi_catalog::query::Plan) -> Vec<String> {
    plan.dimensions
        .iter()
        .chain(&plan.measures)
        .cloned()
        .collect()
}
