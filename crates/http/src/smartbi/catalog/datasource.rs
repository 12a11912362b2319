//! `datasource/create`, `update`, `get` (document 2.1) and Weir's own `datasource/test`.

use serde::Deserialize;
use serde_json::{Value as Json, json};
use utoipa::ToSchema;
use weir_bi_catalog::catalog::{
    Caller, ConnectionFields, DatasourceChanges, NewDatasource, ResourceRef, TestTarget,
};

use super::{IdParams, blocking, missing, opt_int, opt_ref, parse};
use crate::core::State;
use crate::smartbi::actions::ResourceId;
use crate::smartbi::envelope::SmartbiResult;

/// Adds a datasource; answers its id.
pub(super) async fn create(state: State, c: Caller, params: Json) -> SmartbiResult {
    let p: DatasourceParams = parse(params)?;
    let req = NewDatasource {
        parent: p.parent_id,
        name: p.name.clone().unwrap_or_default(),
        alias: p.alias.clone(),
        desc: p.desc.clone(),
        connection: p.connection(),
    };
    let r = blocking(&state, move |s| s.create_datasource(&c, req)).await?;
    Ok(json!(r.api_id()))
}

/// Changes a datasource; answers its id.
pub(super) async fn update(state: State, c: Caller, params: Json) -> SmartbiResult {
    let p: DatasourceParams = parse(params)?;
    let id = p.id.ok_or_else(|| missing("id"))?;
    let req = DatasourceChanges {
        name: p.name.clone(),
        alias: p.alias.clone(),
        desc: p.desc.clone(),
        connection: p.connection(),
    };
    let r = blocking(&state, move |s| s.update_datasource(&c, id, req)).await?;
    Ok(json!(r.api_id()))
}

/// A datasource, its password masked.
pub(super) async fn get(state: State, c: Caller, params: Json) -> SmartbiResult {
    let p: IdParams = parse(params)?;
    let v = blocking(&state, move |s| s.datasource(&c, p.id)).await?;
    let s = &v.settings;
    Ok(json!({
        "id": v.resource.api_id(),
        "name": v.resource.name,
        "alias": v.resource.alias,
        "desc": v.resource.desc,
        "connectUserName": s.user,
        "connectPassword": v.masked_password(),
        "maxConnection": s.max_connection,
        "driverType": s.driver_type.as_str(),
        "driverClassName": s.driver_class_name,
        "driverCatalog": s.driver_catalog,
        "url": s.url,
        "transactionIsolation": s.transaction_isolation,
    }))
}

/// Connects to a stored datasource (by id) or to the one described.
pub(super) async fn test(state: State, c: Caller, params: Json) -> SmartbiResult {
    let p: DatasourceParams = parse(params)?;
    let target = match p.id {
        Some(id) => TestTarget::Stored(id),
        None => TestTarget::Unsaved(p.connection()),
    };
    blocking(&state, move |s| s.test_datasource(&c, target)).await?;
    Ok(json!(true))
}

/// `datasource/create`, `update` and `test`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = smartbi::DatasourceParams)]
pub(super) struct DatasourceParams {
    /// The datasource (`update`; `test` of a stored one).
    #[serde(default, deserialize_with = "opt_ref")]
    #[schema(value_type = Option<ResourceId>)]
    pub(super) id: Option<ResourceRef>,
    /// The folder it goes in (`create`); default DATA_SOURCES.
    #[serde(default, deserialize_with = "opt_ref")]
    #[schema(value_type = Option<ResourceId>)]
    pub(super) parent_id: Option<ResourceRef>,
    name: Option<String>,
    alias: Option<String>,
    desc: Option<String>,
    connect_user_name: Option<String>,
    connect_password: Option<String>,
    #[serde(default, deserialize_with = "opt_int")]
    pub(super) max_connection: Option<i64>,
    driver_type: Option<String>,
    driver_class_name: Option<String>,
    driver_catalog: Option<String>,
    url: Option<String>,
    #[serde(default, deserialize_with = "opt_int")]
    transaction_isolation: Option<i64>,
}

impl DatasourceParams {
    fn connection(&self) -> ConnectionFields {
        ConnectionFields {
            driver_type: self.driver_type.clone(),
            driver_class_name: self.driver_class_name.clone(),
            driver_catalog: self.driver_catalog.clone(),
            url: self.url.clone(),
            user: self.connect_user_name.clone(),
            password: self.connect_password.clone(),
            max_connection: self.max_connection,
            transaction_isolation: self.transaction_isolation,
        }
    }
}
