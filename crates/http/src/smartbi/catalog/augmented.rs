//! Data models in the Smartbi dialect: `augmented/create` (document 2.8) and Weir's own
//! `augmented/get` and `augmented/query`. See docs/bi-query.md.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::{Value as Json, json};
use utoipa::ToSchema;
use weir_bi_catalog::augmented::{
    Aggregator, Dimension, LinkType, Measure, ModelDefinition, Relation, View,
};
use weir_bi_catalog::catalog::{Caller, NewModel, QueryAnswer, ResourceRef};
use weir_bi_catalog::drivers::FieldType;
use weir_bi_catalog::query::{FieldFilter, Operator, OrderBy, QueryRequest};
use weir_kernel::Id;

use super::{IdParams, blocking, opt_bool, opt_int, opt_ref, parse};
use crate::core::State;
use crate::smartbi::actions::ResourceId;
use crate::smartbi::envelope::{SmartbiError, SmartbiResult};

/// Adds a data model; answers its id.
pub(super) async fn create(state: State, c: Caller, params: Json) -> SmartbiResult {
    let p: ModelParams = parse(params)?;
    let req = p.into_request();
    let r = blocking(&state, move |s| s.create_model(&c, req)).await?;
    Ok(json!(r.api_id()))
}

/// A data model.
pub(super) async fn get(state: State, c: Caller, params: Json) -> SmartbiResult {
    let p: IdParams = parse(params)?;
    let v = blocking(&state, move |s| s.model(&c, p.id)).await?;
    Ok(model_json(&v))
}

/// Queries a data model (or shows its SQL: `dryRun`).
pub(super) async fn query(state: State, c: Caller, params: Json) -> SmartbiResult {
    let p: QueryParams = parse(params)?;
    let (id, dry_run, request) = p.into_request()?;
    let answer = blocking(&state, move |s| s.query_model(&c, id, &request, dry_run)).await?;
    Ok(match answer {
        QueryAnswer::Statement(st) => json!({"sql": st.sql, "params": st.params}),
        QueryAnswer::Rows(rows) => json!({"columns": rows.columns, "rows": rows.rows}),
    })
}

// ---- reading paramsInfo ----

/// A name of the document's enums (`LEFTJOIN`, `sum`, `string`), any case; missing,
/// `null` and `""` are none.
fn opt_upper<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    match Option::<Json>::deserialize(d)? {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Json::String(s)) => T::deserialize(Json::String(s.trim().to_ascii_uppercase()))
            .map(Some)
            .map_err(D::Error::custom),
        Some(other) => Err(D::Error::custom(format!(
            "invalid type: {other}, expected a string"
        ))),
    }
}

/// [`opt_upper`], required.
fn upper<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<T, D::Error> {
    opt_upper(d)?.ok_or_else(|| D::Error::custom("is required"))
}

/// An operator of a filter (`=`, `like ..%`, `IN`), any case.
fn operator<'de, D: Deserializer<'de>>(d: D) -> Result<Operator, D::Error> {
    let s = String::deserialize(d)?;
    let normal = s.split_whitespace().collect::<Vec<_>>().join(" ");
    Operator::deserialize(Json::String(normal.to_ascii_lowercase())).map_err(D::Error::custom)
}

/// An alias: blank reads as none.
fn alias(a: Option<String>) -> Option<String> {
    a.map(|a| a.trim().to_owned()).filter(|a| !a.is_empty())
}

/// `augmented/create`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = smartbi::ModelParams)]
pub(super) struct ModelParams {
    /// The folder it goes in.
    #[serde(default, deserialize_with = "opt_ref")]
    #[schema(value_type = Option<ResourceId>)]
    pid: Option<ResourceRef>,
    #[serde(default)]
    name: String,
    alias: Option<String>,
    desc: Option<String>,
    store_type: Option<String>,
    extract_type: Option<String>,
    views: Option<Vec<ViewParams>>,
    dimensions: Option<Vec<DimensionParams>>,
    measures: Option<Vec<MeasureParams>>,
    relations: Option<Vec<RelationParams>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = smartbi::ViewParams)]
struct ViewParams {
    /// The TABLE resource.
    #[schema(value_type = ResourceId)]
    id: Id,
    name: String,
    alias: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = smartbi::DimensionParams)]
struct DimensionParams {
    name: String,
    alias: Option<String>,
    view_name: String,
    /// STRING, INTEGER, DOUBLE, BOOLEAN, DATE, DATETIME, TIME or OTHER (any case).
    #[serde(default, deserialize_with = "opt_upper")]
    #[schema(value_type = Option<String>)]
    value_type: Option<FieldType>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = smartbi::MeasureParams)]
struct MeasureParams {
    name: String,
    alias: Option<String>,
    view_name: String,
    /// SUM (the default), COUNT, AVG, DISTINCT, MAX or MIN (any case).
    #[serde(default, deserialize_with = "opt_upper")]
    #[schema(value_type = Option<String>)]
    aggregator: Option<Aggregator>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = smartbi::RelationParams)]
struct RelationParams {
    src_view_name: String,
    dest_view_name: String,
    /// LEFTJOIN, RIGHTJOIN, INNERJOIN or FULLJOIN (any case).
    #[serde(deserialize_with = "upper")]
    #[schema(value_type = String)]
    link_type: LinkType,
    src_field_name: String,
    dest_field_name: String,
}

impl ModelParams {
    /// The document's names onto the model's: `viewName` is a dimension's `view`, and so
    /// on.
    fn into_request(self) -> NewModel {
        let definition = ModelDefinition {
            views: self
                .views
                .unwrap_or_default()
                .into_iter()
                .map(|v| View {
                    table_id: v.id,
                    name: v.name,
                    alias: alias(v.alias),
                })
                .collect(),
            dimensions: self
                .dimensions
                .unwrap_or_default()
                .into_iter()
                .map(|d| Dimension {
                    name: d.name,
                    alias: alias(d.alias),
                    view: d.view_name,
                    value_type: d.value_type,
                })
                .collect(),
            measures: self
                .measures
                .unwrap_or_default()
                .into_iter()
                .map(|m| Measure {
                    name: m.name,
                    alias: alias(m.alias),
                    view: m.view_name,
                    aggregator: m.aggregator.unwrap_or(Aggregator::Sum),
                })
                .collect(),
            relations: self
                .relations
                .unwrap_or_default()
                .into_iter()
                .map(|r| Relation {
                    src_view: r.src_view_name,
                    dest_view: r.dest_view_name,
                    link: r.link_type,
                    src_field: r.src_field_name,
                    dest_field: r.dest_field_name,
                })
                .collect(),
        };
        NewModel {
            parent: self.pid,
            name: self.name,
            alias: self.alias,
            desc: self.desc,
            store_type: self.store_type,
            extract_type: self.extract_type,
            definition,
        }
    }
}

/// `augmented/query`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = smartbi::QueryParams)]
pub(super) struct QueryParams {
    #[schema(value_type = ResourceId)]
    id: ResourceRef,
    dimensions: Option<Vec<String>>,
    measures: Option<Vec<String>>,
    filters: Option<Vec<FilterParams>>,
    order: Option<Vec<OrderParams>>,
    #[serde(default, deserialize_with = "opt_int")]
    limit: Option<i64>,
    #[serde(default, deserialize_with = "opt_bool")]
    dry_run: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = smartbi::FilterParams)]
struct FilterParams {
    field: String,
    /// `=`, `<>`, `>`, `>=`, `<`, `<=`, `like`, `IN`... (docs/bi-query.md; any case).
    #[serde(deserialize_with = "operator")]
    #[schema(value_type = String)]
    operator: Operator,
    #[schema(value_type = Option<Vec<serde_json::Value>>)]
    values: Option<Vec<Json>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = smartbi::OrderParams)]
struct OrderParams {
    field: String,
    #[serde(default, deserialize_with = "opt_bool")]
    desc: Option<bool>,
}

impl QueryParams {
    fn into_request(self) -> Result<(ResourceRef, bool, QueryRequest), SmartbiError> {
        let limit = match self.limit {
            None => None,
            Some(n) if n >= 1 => u64::try_from(n).ok(),
            Some(_) => {
                return Err(SmartbiError::new("paramsInfo.limit: must be at least 1"));
            }
        };
        let request = QueryRequest {
            dimensions: self.dimensions.unwrap_or_default(),
            measures: self.measures.unwrap_or_default(),
            filters: self
                .filters
                .unwrap_or_default()
                .into_iter()
                .map(|f| FieldFilter {
                    field: f.field,
                    operator: f.operator,
                    values: f.values.unwrap_or_default(),
                })
                .collect(),
            order: self
                .order
                .unwrap_or_default()
                .into_iter()
                .map(|o| OrderBy {
                    field: o.field,
                    descending: o.desc.unwrap_or(false),
                })
                .collect(),
            limit,
        };
        Ok((self.id, self.dry_run.unwrap_or(false), request))
    }
}

// ---- answers ----

fn model_json(v: &weir_bi_catalog::catalog::ModelView) -> Json {
    let r = &v.resource;
    let d = &v.model.definition;
    json!({
        "id": r.api_id(),
        "name": r.name,
        "alias": r.alias,
        "desc": r.desc,
        "path": v.path,
        "type": r.kind.as_str(),
        "storeType": v.model.store_type.as_str(),
        "extractType": v.model.extract_type.as_str(),
        "views": d.views.iter().map(|x| json!({
            "id": x.table_id.to_string(),
            "name": x.name,
            "alias": x.alias,
        })).collect::<Vec<_>>(),
        "dimensions": d.dimensions.iter().map(|x| json!({
            "name": x.name,
            "alias": x.alias,
            "viewName": x.view,
            "valueType": x.value_type,
        })).collect::<Vec<_>>(),
        "measures": d.measures.iter().map(|x| json!({
            "name": x.name,
            "alias": x.alias,
            "viewName": x.view,
            "aggregator": x.aggregator.as_str(),
        })).collect::<Vec<_>>(),
        "relations": d.relations.iter().map(|x| json!({
            "srcViewName": x.src_view,
            "destViewName": x.dest_view,
            "linkType": x.link,
            "srcFieldName": x.src_field,
            "destFieldName": x.dest_field,
        })).collect::<Vec<_>>(),
        "createdAt": r.created_at,
        "updatedAt": r.updated_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_params_read_the_document_names_in_any_case() {
        let p: ModelParams = parse(json!({
            "name": "sales",
            "views": [{"id": "11", "name": "c"}, {"id": 12, "name": "o", "alias": ""}],
            "dimensions": [{"name": "region", "viewName": "c", "valueType": "string"}],
            "measures": [{"name": "amount", "viewName": "o"}],
            "relations": [{"srcViewName": "c", "destViewName": "o", "linkType": "leftjoin",
                           "srcFieldName": "id", "destFieldName": "customer_id"}]
        }))
        .unwrap();
        let req = p.into_request();
        let d = &req.definition;
        assert_eq!(req.parent, None);
        assert_eq!(
            (d.views[1].table_id, d.views[1].alias.clone()),
            (Id(12), None)
        );
        assert_eq!(d.dimensions[0].value_type, Some(FieldType::String));
        assert_eq!(d.measures[0].aggregator, Aggregator::Sum);
        assert_eq!(d.relations[0].link, LinkType::LeftJoin);

        let e = parse::<ModelParams>(json!({"relations": [{"srcViewName": "c",
            "destViewName": "o", "linkType": "CROSS", "srcFieldName": "a",
            "destFieldName": "b"}]}))
        .unwrap_err();
        assert!(
            e.msg
                .starts_with("paramsInfo.relations[0].linkType: unknown variant `CROSS`"),
            "{}",
            e.msg
        );
        let e = parse::<ModelParams>(json!({"views": [{"id": "x", "name": "c"}]})).unwrap_err();
        assert!(e.msg.starts_with("paramsInfo.views[0].id: "), "{}", e.msg);
        let e = parse::<ModelParams>(json!({"measures": [{"name": "a"}]})).unwrap_err();
        assert_eq!(
            e.msg, "paramsInfo.measures[0]: missing field `viewName`",
            "{}",
            e.msg
        );
    }

    #[test]
    fn query_params_read_operators_in_any_case_and_refuse_a_bad_limit() {
        let p: QueryParams = parse(json!({"id": "5", "dimensions": ["region"],
            "filters": [{"field": "status", "operator": "LIKE  ..%", "values": ["pa"]}],
            "order": [{"field": "region", "desc": "true"}], "limit": "10", "dryRun": true}))
        .unwrap();
        let (id, dry, req) = p.into_request().unwrap();
        assert_eq!((id, dry), (ResourceRef::Id(Id(5)), true));
        assert_eq!(req.filters[0].operator, Operator::StartsWith);
        assert!(req.order[0].descending);
        assert_eq!(req.limit, Some(10));
        let p: QueryParams = parse(json!({"id": "5", "limit": 0})).unwrap();
        assert_eq!(
            p.into_request().unwrap_err().msg,
            "paramsInfo.limit: must be at least 1"
        );
        let e =
            parse::<QueryParams>(json!({"id": "5", "filters": [{"field": "a", "operator": "~"}]}))
                .unwrap_err();
        assert!(
            e.msg
                .starts_with("paramsInfo.filters[0].operator: unknown variant `~`"),
            "{}",
            e.msg
        );
    }
}
