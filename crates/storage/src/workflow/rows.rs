//! Table rows of the workflow tables and their conversion to and from the domain.

use diesel::prelude::*;
use weir_kernel::{Id, StoreError};
use weir_workflow::{Flow, FlowVersion};

use crate::errors::tenant_id;
use crate::schema::*;

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = flows, treat_none_as_null = true)]
pub(super) struct FlowRow {
    pub id: i64,
    pub tenant_id: String,
    pub name: String,
    pub name_folded: String,
    pub remark: String,
    pub enabled: bool,
    pub version: i64,
    pub user_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub http_secret: Option<String>,
}

impl From<&Flow> for FlowRow {
    fn from(f: &Flow) -> Self {
        Self {
            id: f.id.get(),
            tenant_id: f.tenant_id.to_string(),
            name: f.name.clone(),
            name_folded: f.name.to_lowercase(),
            remark: f.remark.clone(),
            enabled: f.enabled,
            version: f.version,
            user_id: f.user_id.map(Id::get),
            created_at: f.created_at,
            updated_at: f.updated_at,
            http_secret: f.http_secret.clone(),
        }
    }
}

impl FlowRow {
    pub fn into_flow(self) -> Result<Flow, StoreError> {
        Ok(Flow {
            id: Id(self.id),
            tenant_id: tenant_id(self.tenant_id)?,
            name: self.name,
            remark: self.remark,
            enabled: self.enabled,
            version: self.version,
            user_id: self.user_id.map(Id),
            created_at: self.created_at,
            updated_at: self.updated_at,
            http_secret: self.http_secret,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = flow_versions)]
pub(super) struct FlowVersionRow {
    pub flow_id: i64,
    pub version: i64,
    pub design_data: String,
    pub created_at: i64,
}

impl From<&FlowVersion> for FlowVersionRow {
    fn from(v: &FlowVersion) -> Self {
        Self {
            flow_id: v.flow_id.get(),
            version: v.version,
            design_data: v.design_data.clone(),
            created_at: v.created_at,
        }
    }
}

impl From<FlowVersionRow> for FlowVersion {
    fn from(r: FlowVersionRow) -> Self {
        Self {
            flow_id: Id(r.flow_id),
            version: r.version,
            design_data: r.design_data,
            created_at: r.created_at,
        }
    }
}
