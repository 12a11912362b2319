//! What a device sends: one or more samples, each a set of values with an optional time.
//! MQTT payloads and HTTP ingest bodies share this format.
//!
//! - `{"temperature": 21.5, "door": true}`: one sample, stamped on arrival;
//! - `{"ts": 1700000000000, "values": {...}}`: one sample at that time (milliseconds);
//! - `[{"ts": ..., "values": {...}}, ...]`: several samples.
//!
//! An object is read as the second form only when it has a `values` object and nothing
//! but `ts` beside it; any other object is the first form.

use serde_json::{Map, Value as Json};
use weir_kernel::Millis;

use crate::errors::IotError;

/// Values of one device at one time (`None`: when they arrive).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// When the values were measured (epoch milliseconds); `None`: on arrival.
    pub timestamp: Option<Millis>,
    /// The values, each under the entity identifier the device reports it by.
    pub values: Map<String, Json>,
}

impl Sample {
    /// A sample of `values`, stamped on arrival.
    pub fn now(values: Map<String, Json>) -> Self {
        Self {
            timestamp: None,
            values,
        }
    }

    /// Reads a report in any of the three forms; errors name the offending field.
    pub fn parse_all(body: Json) -> Result<Vec<Sample>, IotError> {
        match body {
            Json::Array(items) => {
                if items.is_empty() {
                    return Err(IotError::invalid("body", "must hold at least one sample"));
                }
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| match item {
                        Json::Object(o) if Self::is_timed(&o) => Self::timed(o, &format!("[{i}]")),
                        _ => Err(IotError::invalid(
                            format!("[{i}]"),
                            "must be an object {\"ts\": milliseconds, \"values\": {...}}",
                        )),
                    })
                    .collect()
            }
            Json::Object(o) if Self::is_timed(&o) => Ok(vec![Self::timed(o, "")?]),
            Json::Object(o) => Ok(vec![Self::now(o)]),
            _ => Err(IotError::invalid(
                "body",
                "must be a JSON object of values, or an array of {\"ts\", \"values\"} samples",
            )),
        }
    }

    fn is_timed(o: &Map<String, Json>) -> bool {
        o.get("values").is_some_and(Json::is_object) && o.keys().all(|k| k == "values" || k == "ts")
    }

    fn timed(mut o: Map<String, Json>, at: &str) -> Result<Sample, IotError> {
        let field = |name: &str| {
            if at.is_empty() {
                name.to_owned()
            } else {
                format!("{at}.{name}")
            }
        };
        let timestamp = match o.remove("ts") {
            None | Some(Json::Null) => None,
            Some(ts) => Some(ts.as_i64().filter(|t| *t >= 0).ok_or_else(|| {
                IotError::invalid(field("ts"), "must be milliseconds since 1970")
            })?),
        };
        let Some(Json::Object(values)) = o.remove("values") else {
            unreachable!("is_timed checked `values`")
        };
        Ok(Sample { timestamp, values })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_three_forms_are_read() {
        let plain = Sample::parse_all(json!({"t": 1, "values": 5})).unwrap();
        assert_eq!(plain.len(), 1);
        assert_eq!(plain[0].timestamp, None);
        assert_eq!(
            plain[0].values.len(),
            2,
            "`values` that is no object is a value"
        );

        let timed = Sample::parse_all(json!({"ts": 7, "values": {"t": 1}})).unwrap();
        assert_eq!(timed[0].timestamp, Some(7));
        assert_eq!(timed[0].values.get("t"), Some(&json!(1)));

        let many = Sample::parse_all(json!([
            {"ts": 1, "values": {"t": 1}},
            {"values": {"t": 2}}
        ]))
        .unwrap();
        assert_eq!(
            many.iter().map(|s| s.timestamp).collect::<Vec<_>>(),
            vec![Some(1), None]
        );
    }

    #[test]
    fn bad_forms_name_the_field() {
        let msg = |body| Sample::parse_all(body).unwrap_err().to_string();
        assert!(msg(json!([])).starts_with("body "));
        assert!(msg(json!([{"ts": 1, "values": {}}, 3])).starts_with("[1] "));
        assert!(msg(json!([{"ts": -1, "values": {}}])).starts_with("[0].ts "));
        assert!(msg(json!({"ts": "x", "values": {}})).starts_with("ts "));
        assert!(msg(json!("x")).starts_with("body "));
    }
}
