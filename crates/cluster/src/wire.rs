//! What travels between the nodes, as JSON: committed values with their cause, and flow
//! changes. Kept apart from the domain types so that the domain stays free of a wire
//! format, and so that a node of the next version can still read this one's messages
//! (unknown fields are ignored).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use weir_iot::EntityValue;
use weir_iot::events::{Cause, CommittedValue, Origin, ValuesCommitted};
use weir_kernel::{Id, TenantId};

/// [`ValuesCommitted`] on the wire.
#[derive(Debug, Serialize, Deserialize)]
pub struct Values {
    /// The tenant.
    pub tenant: String,
    /// The cause's flows, oldest first.
    #[serde(default)]
    pub flows: Vec<i64>,
    /// The values.
    pub values: Vec<Value>,
}

/// One [`CommittedValue`] on the wire.
#[derive(Debug, Serialize, Deserialize)]
pub struct Value {
    pub key: String,
    pub entity: i64,
    pub integration: String,
    #[serde(default)]
    pub device: Option<i64>,
    pub ts: i64,
    /// The value's type: `STRING`, `LONG`, `DOUBLE`, `BOOLEAN` or `BINARY` (base64).
    #[serde(rename = "type")]
    pub value_type: String,
    pub value: Json,
}

/// A flow change made through one node: the others reload these flows.
#[derive(Debug, Serialize, Deserialize)]
pub struct FlowsChanged {
    pub tenant: String,
    pub flows: Vec<i64>,
}

/// An identity change made through one node: the others forget the tenant's cached
/// principals.
#[derive(Debug, Serialize, Deserialize)]
pub struct IdentityChanged {
    pub tenant: String,
}

impl Values {
    /// The wire form of an event.
    pub fn of(event: &ValuesCommitted) -> Self {
        Self {
            tenant: event.tenant_id.as_str().to_owned(),
            flows: event.cause.flows.iter().map(|id| id.0).collect(),
            values: event
                .values
                .iter()
                .map(|v| {
                    let (value_type, value) = match &v.value {
                        EntityValue::String(s) => ("STRING", Json::from(s.as_str())),
                        EntityValue::Long(n) => ("LONG", Json::from(*n)),
                        EntityValue::Double(d) => ("DOUBLE", Json::from(*d)),
                        EntityValue::Boolean(b) => ("BOOLEAN", Json::from(*b)),
                        EntityValue::Binary(b) => ("BINARY", Json::from(BASE64.encode(b))),
                    };
                    Value {
                        key: v.key.clone(),
                        entity: v.entity_id.0,
                        integration: v.integration.clone(),
                        device: v.device_id.map(|d| d.0),
                        ts: v.timestamp,
                        value_type: value_type.to_owned(),
                        value,
                    }
                })
                .collect(),
        }
    }

    /// The event a peer committed; `None` when the message does not hold one (a bad
    /// tenant id or value is dropped whole, rather than shown half).
    pub fn into_event(self) -> Option<ValuesCommitted> {
        let values = self
            .values
            .into_iter()
            .map(|v| {
                let value = match (v.value_type.as_str(), v.value) {
                    ("STRING", Json::String(s)) => EntityValue::String(s),
                    ("LONG", n) => EntityValue::Long(n.as_i64()?),
                    ("DOUBLE", n) => EntityValue::Double(n.as_f64()?),
                    ("BOOLEAN", Json::Bool(b)) => EntityValue::Boolean(b),
                    ("BINARY", Json::String(s)) => EntityValue::Binary(BASE64.decode(s).ok()?),
                    _ => return None,
                };
                Some(CommittedValue {
                    key: v.key,
                    entity_id: Id(v.entity),
                    integration: v.integration,
                    device_id: v.device.map(Id),
                    timestamp: v.ts,
                    value,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(ValuesCommitted {
            tenant_id: TenantId::parse(&self.tenant).ok()?,
            values,
            cause: Cause {
                flows: self.flows.into_iter().map(Id).collect(),
            },
            origin: Origin::Peer,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_type_and_the_cause_cross_the_wire() {
        let mk = |key: &str, value| CommittedValue {
            key: key.into(),
            entity_id: Id(7),
            integration: "i".into(),
            device_id: Some(Id(9)),
            timestamp: 1_700_000_000_000,
            value,
        };
        let sent = ValuesCommitted {
            tenant_id: TenantId::default_tenant(),
            values: vec![
                mk("s", EntityValue::String("a\"b".into())),
                mk("l", EntityValue::Long(i64::MIN)),
                mk("d", EntityValue::Double(1.5)),
                mk("b", EntityValue::Boolean(true)),
                mk("x", EntityValue::Binary(vec![0, 255, 7])),
            ],
            cause: Cause {
                flows: vec![Id(1), Id(2)],
            },
            origin: Origin::Here,
        };
        let bytes = serde_json::to_vec(&Values::of(&sent)).unwrap_or_default();
        let got: Values = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}"));
        let got = got.into_event().unwrap_or_else(|| panic!("not an event"));
        assert_eq!(got.origin, Origin::Peer);
        assert_eq!(
            ValuesCommitted {
                origin: Origin::Here,
                ..got
            },
            sent
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_drops_the_message() {
        let bad = serde_json::json!({"tenant": "default", "values": [
            {"key": "k", "entity": 1, "integration": "i", "ts": 1, "type": "LONG", "value": "x"}
        ]});
        let bad: Values = serde_json::from_value(bad).unwrap_or_else(|e| panic!("{e}"));
        assert!(bad.into_event().is_none());
    }
}
