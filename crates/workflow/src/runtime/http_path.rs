//! The path of an `httpIn` node, under `/workflow-http-in/`, with `{name}` segments that
//! match any one segment and become path variables.

use serde_json::{Map, Value as Json};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Variable(String),
}

/// An `httpIn` node's path: literal segments and `{name}` variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern {
    segments: Vec<Segment>,
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

impl PathPattern {
    /// A pattern as the node's `url` has it (`/orders/{id}` or `orders/{id}`).
    pub fn parse(url: &str) -> Self {
        let segments = split(url)
            .map(
                |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => Segment::Variable(name.to_owned()),
                    None => Segment::Literal(s.to_owned()),
                },
            )
            .collect();
        Self { segments }
    }

    /// The path variables when `path` (below `/workflow-http-in/`) matches.
    pub fn matches(&self, path: &str) -> Option<Map<String, Json>> {
        let mut variables = Map::new();
        let mut parts = split(path);
        for segment in &self.segments {
            let part = parts.next()?;
            match segment {
                Segment::Literal(l) if l == part => {}
                Segment::Literal(_) => return None,
                Segment::Variable(name) => {
                    variables.insert(name.clone(), Json::String(part.to_owned()));
                }
            }
        }
        parts.next().is_none().then_some(variables)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn literal_and_variable_segments_match_one_segment_each() {
        let p = PathPattern::parse("/orders/{id}/items");
        assert_eq!(
            p.matches("orders/42/items"),
            Some(json!({"id": "42"}).as_object().unwrap().clone())
        );
        assert_eq!(p.matches("/orders/42/items/"), p.matches("orders/42/items"));
        assert_eq!(p.matches("orders/42"), None);
        assert_eq!(p.matches("orders/42/items/7"), None);
        assert_eq!(p.matches("order/42/items"), None);
        assert_eq!(
            PathPattern::parse("ingest").matches("ingest"),
            Some(Map::new())
        );
    }
}
