//! A flow's design, the `design_data` JSON string the console edits.
//!
//! The shape is the reference product's, camelCase inside:
//!
//! ```json
//! {"nodes": [{"id": "n1", "componentName": "eventListener",
//!             "data": {"nodeName": "Listen", "nodeRemark": "", "parameters": {"entities": [...]}},
//!             "position": {"x": 0, "y": 0}, "type": "listener"}],
//!  "edges": [{"id": "e1", "source": "n1", "target": "n2", "sourceHandle": null}],
//!  "viewport": {"x": 0, "y": 0, "zoom": 1}}
//! ```
//!
//! Only what the server needs is typed. Everything else the console keeps in a design
//! (React Flow's `position`, `type`, `width`, `measured`, the `viewport`, private `$` members
//! of `data`...) lands in the `extra` maps and is written back as it came, so saving a design
//! the console made and reading it back loses nothing. Optional members keep the difference
//! between absent and `null` for the same reason (React Flow writes `"sourceHandle": null`).
//!
//! Parsing checks the shape only: ids are strings, `nodes` and `edges` are lists, `parameters`
//! is an object. Whether the design makes a runnable flow is [`crate::validate()`]'s business.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value as Json};

/// A flow design: its nodes, the edges between them, and whatever else the console stores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Design {
    /// The steps, in the order the console stored them.
    pub nodes: Vec<Node>,
    /// The connections between nodes.
    pub edges: Vec<Edge>,
    /// Members the server does not use (`viewport`, `version`...), kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Json>,
}

/// One step of the flow: an instance of a component from the [`crate::components`]
/// catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "NodeAsSent")]
pub struct Node {
    /// Unique within the design; edges refer to it.
    pub id: String,
    /// The component this node is an instance of (`eventListener`, `choice`, `webhook`...).
    /// When a design leaves it out, the node's React Flow `type` names the component: the
    /// console v1.1.1 sets `componentName` only for the node kinds it knows itself, and a
    /// kind it learnt from `GET /workflow/components` (`output`, `httpIn`) gets the
    /// component's name as its `type` and no `componentName`.
    #[serde(rename = "componentName")]
    pub component_name: String,
    /// What the user filled in: name, remark and parameters.
    pub data: NodeData,
    /// React Flow's members (`type`, `position`, `width`, `height`, `selected`...).
    #[serde(flatten)]
    pub extra: Map<String, Json>,
}

/// A node as a design holds it, `componentName` perhaps absent.
#[derive(Deserialize)]
struct NodeAsSent {
    id: String,
    #[serde(rename = "componentName", default)]
    component_name: Option<String>,
    data: NodeData,
    #[serde(flatten)]
    extra: Map<String, Json>,
}

impl TryFrom<NodeAsSent> for Node {
    type Error = &'static str;

    fn try_from(node: NodeAsSent) -> Result<Self, Self::Error> {
        let component_name = match (node.component_name, node.extra.get("type")) {
            (Some(name), _) => name,
            (None, Some(Json::String(kind))) => kind.clone(),
            (None, _) => {
                return Err("missing field `componentName` (or a `type` naming the component)");
            }
        };
        Ok(Self {
            id: node.id,
            component_name,
            data: node.data,
            extra: node.extra,
        })
    }
}

/// What a user fills in for a node.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NodeData {
    /// The name the user gave the node; errors about the node quote it. `Some(None)` is an
    /// explicit `null`.
    #[serde(
        rename = "nodeName",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub node_name: Option<Option<String>>,
    /// The user's note on the node. `Some(None)` is an explicit `null`.
    #[serde(
        rename = "nodeRemark",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub node_remark: Option<Option<String>>,
    /// The component's parameters, checked against its schema by [`crate::validate()`].
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub parameters: Option<Option<Map<String, Json>>>,
    /// The console's private members (`$status`, `$errMsg`...).
    #[serde(flatten)]
    pub extra: Map<String, Json>,
}

/// A connection from one node's output to another node's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    /// Unique within the design.
    pub id: String,
    /// The id of the node the edge leaves.
    pub source: String,
    /// The id of the node the edge enters.
    pub target: String,
    /// For an edge leaving a `choice` node, the id of the branch it belongs to. Other nodes
    /// have one output and the console leaves it absent or `null`.
    #[serde(
        rename = "sourceHandle",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub source_handle: Option<Option<String>>,
    /// React Flow's members (`type`, `targetHandle`, `animated`...).
    #[serde(flatten)]
    pub extra: Map<String, Json>,
}

/// Deserializes a member that is present, even as `null`, into `Some(..)`; with
/// `#[serde(default)]` an absent member stays `None`. Serializing `Some(None)` writes `null`
/// back, so a design round-trips member for member.
fn present<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// Why a `design_data` string is not a design at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DesignError {
    /// Not JSON.
    #[error("design_data is not valid JSON: {message}")]
    Syntax {
        /// The JSON parser's message, with line and column.
        message: String,
    },
    /// JSON, but not of the design's shape. `path` is where (`nodes[2].data.parameters`),
    /// empty for the whole document.
    #[error("design_data{}: {message}", display_path(path))]
    Shape {
        /// Where in the document, as a JSON path; empty for the whole document.
        path: String,
        /// What is wrong there.
        message: String,
    },
}

fn display_path(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else if path.starts_with('[') {
        path.to_string()
    } else {
        format!(".{path}")
    }
}

impl Design {
    /// Reads a `design_data` string. Errors name the JSON path that failed.
    pub fn parse(json: &str) -> Result<Design, DesignError> {
        let de = &mut serde_json::Deserializer::from_str(json);
        let design: Design = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                DesignError::Syntax {
                    message: inner.to_string(),
                }
            } else {
                DesignError::Shape {
                    path: if path == "." { String::new() } else { path },
                    message: inner.to_string(),
                }
            }
        })?;
        Ok(design)
    }

    /// The design as the `design_data` string to store.
    pub fn to_json(&self) -> String {
        // A design holds strings, string-keyed maps and JSON values only: serializing
        // cannot fail.
        #[allow(clippy::expect_used)]
        serde_json::to_string(self).expect("a design always serializes")
    }

    /// The first node with this id.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }
}

impl Node {
    /// A node with a name and parameters and nothing else; for tests and programs that
    /// build designs.
    pub fn new(id: &str, component: &str, name: &str, parameters: Json) -> Self {
        let parameters = match parameters {
            Json::Object(m) => Some(Some(m)),
            Json::Null => None,
            other => panic!("parameters must be a JSON object, not {other}"),
        };
        Self {
            id: id.to_string(),
            component_name: component.to_string(),
            data: NodeData {
                node_name: Some(Some(name.to_string())),
                node_remark: None,
                parameters,
                extra: Map::new(),
            },
            extra: Map::new(),
        }
    }

    /// The name the user gave the node, if any.
    pub fn name(&self) -> Option<&str> {
        self.data.node_name.as_ref().and_then(|n| n.as_deref())
    }

    /// The user's note on the node, if any.
    pub fn remark(&self) -> Option<&str> {
        self.data.node_remark.as_ref().and_then(|n| n.as_deref())
    }

    /// The node's parameters; `None` when absent or `null`.
    pub fn parameters(&self) -> Option<&Map<String, Json>> {
        self.data.parameters.as_ref().and_then(|p| p.as_ref())
    }

    /// One parameter; `None` when absent or `null`.
    pub fn parameter(&self, name: &str) -> Option<&Json> {
        self.parameters()
            .and_then(|p| p.get(name))
            .filter(|v| !v.is_null())
    }
}

impl Edge {
    /// An edge from `source` to `target` with no `sourceHandle`; for tests and programs that
    /// build designs.
    pub fn new(id: &str, source: &str, target: &str) -> Self {
        Self {
            id: id.to_string(),
            source: source.to_string(),
            target: target.to_string(),
            source_handle: None,
            extra: Map::new(),
        }
    }

    /// An edge leaving branch `handle` of a `choice` node.
    pub fn branch(id: &str, source: &str, handle: &str, target: &str) -> Self {
        Self {
            source_handle: Some(Some(handle.to_string())),
            ..Self::new(id, source, target)
        }
    }

    /// The branch id the edge leaves from, if any.
    pub fn handle(&self) -> Option<&str> {
        self.source_handle.as_ref().and_then(|h| h.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shape(json: &str) -> (String, String) {
        match Design::parse(json) {
            Err(DesignError::Shape { path, message }) => (path, message),
            other => panic!("expected a shape error, got {other:?}"),
        }
    }

    #[test]
    fn parses_the_console_shape_and_keeps_unknown_members() {
        let src = json!({
            "version": "1",
            "viewport": {"x": 10, "y": -4, "zoom": 1.5},
            "nodes": [{
                "id": "n1",
                "componentName": "eventListener",
                "type": "listener",
                "position": {"x": 100, "y": 80},
                "width": 240,
                "measured": {"width": 240, "height": 60},
                "selected": false,
                "data": {
                    "nodeName": "Listen",
                    "nodeRemark": null,
                    "$status": "SUCCESS",
                    "parameters": {"entities": ["demo.device.d1.temperature"], "entityData": {}}
                }
            }],
            "edges": [{
                "id": "e1", "source": "n1", "target": "n2",
                "sourceHandle": null, "targetHandle": null, "type": "addable"
            }]
        });
        let text = src.to_string();
        let design = Design::parse(&text).unwrap();
        let node = &design.nodes[0];
        assert_eq!(node.id, "n1");
        assert_eq!(node.component_name, "eventListener");
        assert_eq!(node.name(), Some("Listen"));
        assert_eq!(node.data.node_remark, Some(None));
        assert_eq!(node.remark(), None);
        assert_eq!(node.extra["width"], json!(240));
        assert_eq!(node.data.extra["$status"], json!("SUCCESS"));
        assert_eq!(
            node.parameter("entities"),
            Some(&json!(["demo.device.d1.temperature"]))
        );
        assert_eq!(design.edges[0].source_handle, Some(None));
        assert_eq!(design.edges[0].handle(), None);
        assert_eq!(design.extra["viewport"]["zoom"], json!(1.5));

        // Everything comes back, `null`s included.
        let back: Json = serde_json::from_str(&design.to_json()).unwrap();
        assert_eq!(back, src);
        assert_eq!(Design::parse(&design.to_json()).unwrap(), design);
    }

    #[test]
    fn absent_optional_members_stay_absent() {
        let src = json!({
            "nodes": [{"id": "n1", "componentName": "trigger", "data": {}}],
            "edges": []
        });
        let design = Design::parse(&src.to_string()).unwrap();
        assert_eq!(design.nodes[0].data.node_name, None);
        assert_eq!(design.nodes[0].parameters(), None);
        let back: Json = serde_json::from_str(&design.to_json()).unwrap();
        assert_eq!(back, src);
    }

    #[test]
    fn not_json_is_a_syntax_error() {
        let e = Design::parse("{\"nodes\": [").unwrap_err();
        assert!(matches!(e, DesignError::Syntax { .. }), "{e:?}");
        assert!(
            e.to_string().starts_with("design_data is not valid JSON"),
            "{e}"
        );
        assert!(matches!(
            Design::parse("").unwrap_err(),
            DesignError::Syntax { .. }
        ));
    }

    #[test]
    fn shape_errors_name_the_json_path() {
        let (path, message) = shape(r#"{"nodes": {}, "edges": []}"#);
        assert_eq!(path, "nodes");
        assert!(message.contains("expected a sequence"), "{message}");

        let (path, message) = shape(r#"{"edges": []}"#);
        assert_eq!(path, "");
        assert!(message.contains("missing field `nodes`"), "{message}");

        let (path, message) = shape(
            r#"{"nodes": [{"id": "a", "componentName": "trigger", "data": {}},
                          {"id": 7, "componentName": "trigger", "data": {}}], "edges": []}"#,
        );
        assert_eq!(path, "nodes[1].id");
        assert!(message.contains("expected a string"), "{message}");

        let (path, message) = shape(
            r#"{"nodes": [{"id": "a", "componentName": "trigger",
                           "data": {"parameters": "oops"}}], "edges": []}"#,
        );
        assert_eq!(path, "nodes[0].data.parameters");
        assert!(message.contains("expected a map"), "{message}");

        let (path, message) = shape(r#"{"nodes": [], "edges": [{"id": "e", "source": "a"}]}"#);
        assert_eq!(path, "edges[0]");
        assert!(message.contains("missing field `target`"), "{message}");

        let e = Design::parse(r#"{"nodes": [], "edges": [{}]}"#).unwrap_err();
        assert!(e.to_string().starts_with("design_data.edges[0]"), "{e}");
    }

    #[test]
    fn a_node_without_component_name_is_the_component_its_type_names() {
        // The console's own output node: `type` only.
        let design = Design::parse(
            r#"{"nodes": [{"id": "o", "type": "output",
                           "data": {"parameters": {"outputVariables": {}}}}], "edges": []}"#,
        )
        .unwrap();
        assert_eq!(design.nodes[0].component_name, "output");
        assert_eq!(design.nodes[0].extra["type"], json!("output"));

        // `componentName` wins over `type` (the console's listener is `type: listener`).
        let design = Design::parse(
            r#"{"nodes": [{"id": "l", "type": "listener", "componentName": "eventListener",
                           "data": {}}], "edges": []}"#,
        )
        .unwrap();
        assert_eq!(design.nodes[0].component_name, "eventListener");

        let (path, message) = shape(r#"{"nodes": [{"id": "x", "data": {}}], "edges": []}"#);
        assert_eq!(path, "nodes[0]");
        assert!(
            message.contains("missing field `componentName`"),
            "{message}"
        );
    }

    #[test]
    fn builders_make_what_parse_reads() {
        let node = Node::new("n1", "output", "Done", json!({"outputVariables": {}}));
        let edge = Edge::branch("e1", "c1", "b1", "n1");
        let design = Design {
            nodes: vec![node],
            edges: vec![edge],
            extra: Map::new(),
        };
        assert_eq!(Design::parse(&design.to_json()).unwrap(), design);
        assert_eq!(design.edges[0].handle(), Some("b1"));
        assert_eq!(design.node("n1").unwrap().name(), Some("Done"));
    }
}
