//! How each database's column types become the catalog's [`FieldType`].

use weir_bi_catalog::drivers::FieldType;

/// PostgreSQL, from `information_schema.columns.data_type` (`udt_name` for `USER-DEFINED`
/// types, which are `Other` but for `citext`).
pub fn postgres_field_type(data_type: &str, udt_name: &str) -> FieldType {
    let t = data_type.to_ascii_lowercase();
    match t.as_str() {
        "smallint" | "integer" | "bigint" => FieldType::Integer,
        "numeric" | "decimal" | "real" | "double precision" => FieldType::Double,
        "boolean" => FieldType::Boolean,
        "date" => FieldType::Date,
        "text" | "character varying" | "character" | "\"char\"" | "name" | "uuid" => {
            FieldType::String
        }
        "user-defined" if udt_name.eq_ignore_ascii_case("citext") => FieldType::String,
        _ if t.starts_with("timestamp") => FieldType::Datetime,
        _ if t.starts_with("time") => FieldType::Time,
        _ => FieldType::Other,
    }
}

/// MySQL and MariaDB, from `information_schema.columns`: `data_type` (`int`) and
/// `column_type` (`tinyint(1)`, which JDBC drivers read as a boolean, as does `bit(1)`).
pub fn mysql_field_type(data_type: &str, column_type: &str) -> FieldType {
    let column = column_type.trim().to_ascii_lowercase();
    if column.starts_with("tinyint(1)") || column == "bit(1)" || column == "bool" {
        return FieldType::Boolean;
    }
    match data_type.trim().to_ascii_lowercase().as_str() {
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "year" => {
            FieldType::Integer
        }
        "decimal" | "numeric" | "float" | "double" | "double precision" | "real" => {
            FieldType::Double
        }
        "bool" | "boolean" => FieldType::Boolean,
        "date" => FieldType::Date,
        "datetime" | "timestamp" => FieldType::Datetime,
        "time" => FieldType::Time,
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set"
        | "uuid" => FieldType::String,
        _ => FieldType::Other,
    }
}

/// SQLite, from a column's declared type, by SQLite's own affinity rules (section 3.1 of
/// "Datatypes In SQLite3"): INTEGER affinity is `Integer`, TEXT `String`, BLOB (or no
/// type) `Other`, REAL `Double`. NUMERIC affinity is read by name: booleans, dates, date-times
/// and times as such, anything else (`NUMERIC`, `DECIMAL(10,2)`) as `Double`.
pub fn sqlite_field_type(declared: &str) -> FieldType {
    let t = declared.to_ascii_uppercase();
    if t.contains("INT") {
        FieldType::Integer
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        FieldType::String
    } else if t.trim().is_empty() || t.contains("BLOB") {
        FieldType::Other
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        FieldType::Double
    } else if t.contains("BOOL") {
        FieldType::Boolean
    } else if t.contains("DATETIME") || t.contains("TIMESTAMP") {
        FieldType::Datetime
    } else if t.contains("DATE") {
        FieldType::Date
    } else if t.contains("TIME") {
        FieldType::Time
    } else {
        FieldType::Double
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FieldType::*;

    #[test]
    fn postgres_types() {
        for (data_type, expected) in [
            ("integer", Integer),
            ("smallint", Integer),
            ("bigint", Integer),
            ("numeric", Double),
            ("real", Double),
            ("double precision", Double),
            ("boolean", Boolean),
            ("date", Date),
            ("timestamp without time zone", Datetime),
            ("timestamp with time zone", Datetime),
            ("time without time zone", Time),
            ("time with time zone", Time),
            ("text", String),
            ("character varying", String),
            ("character", String),
            ("uuid", String),
            ("bytea", Other),
            ("jsonb", Other),
            ("ARRAY", Other),
            ("interval", Other),
            ("USER-DEFINED", Other),
        ] {
            assert_eq!(postgres_field_type(data_type, ""), expected, "{data_type}");
        }
        assert_eq!(postgres_field_type("USER-DEFINED", "citext"), String);
    }

    #[test]
    fn mysql_types() {
        for (data_type, column_type, expected) in [
            ("int", "int(11)", Integer),
            ("bigint", "bigint(20) unsigned", Integer),
            ("tinyint", "tinyint(4)", Integer),
            ("tinyint", "tinyint(1)", Boolean),
            ("bit", "bit(1)", Boolean),
            ("bit", "bit(8)", Other),
            ("decimal", "decimal(10,2)", Double),
            ("double", "double", Double),
            ("float", "float", Double),
            ("date", "date", Date),
            ("datetime", "datetime", Datetime),
            ("timestamp", "timestamp", Datetime),
            ("time", "time", Time),
            ("year", "year(4)", Integer),
            ("varchar", "varchar(20)", String),
            ("longtext", "longtext", String),
            ("enum", "enum('a','b')", String),
            ("blob", "blob", Other),
            ("json", "json", Other),
        ] {
            assert_eq!(
                mysql_field_type(data_type, column_type),
                expected,
                "{column_type}"
            );
        }
    }

    #[test]
    fn sqlite_affinities() {
        for (declared, expected) in [
            ("INTEGER", Integer),
            ("BIGINT", Integer),
            ("int8", Integer),
            ("VARCHAR(20)", String),
            ("TEXT", String),
            ("CLOB", String),
            ("BLOB", Other),
            ("", Other),
            ("REAL", Double),
            ("DOUBLE PRECISION", Double),
            ("FLOAT", Double),
            ("NUMERIC", Double),
            ("DECIMAL(10,2)", Double),
            ("BOOLEAN", Boolean),
            ("DATE", Date),
            ("DATETIME", Datetime),
            ("TIMESTAMP", Datetime),
            ("TIME", Time),
        ] {
            assert_eq!(sqlite_field_type(declared), expected, "{declared:?}");
        }
    }
}
