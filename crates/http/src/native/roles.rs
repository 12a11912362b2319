//! Roles, their members, and the menus and resources they grant (`/user/roles...`).

use actix_web::{delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use weir_identity::errors::RoleError;
use weir_identity::service::{RoleChanges, RoleInput};
use weir_identity::{IdentityService, Principal, ResourceRef, ResourceType, RoleSummary, User};
use weir_kernel::Id;

use super::dto::{
    KeywordRequest, ListRequest, Listed, Listing, MenuDto, PageDto, SearchRequest, Time,
};
use super::envelope::{Empty, Envelope, NativeError, Refusals, Success};
use super::extract::{Body, Caller, State, blocking, path_id};
use crate::openapi::{IdText, one_of};
use utoipa::openapi::{RefOr, Schema};

/// Runs a change to the role the path names, answering `{}`.
async fn on_role(
    state: State,
    caller: Caller,
    path: &str,
    change: impl FnOnce(&IdentityService, &Principal, Id) -> Result<(), RoleError> + Send + 'static,
) -> Result<Success<Empty>, NativeError> {
    let id = path_id("role_id", path)?;
    blocking(move || change(&state.identity, &caller.0, id)).await?;
    Ok(Success(Empty {}))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RoleRequest {
    /// 1 to 64 characters.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// At most 255 characters.
    #[schema(max_length = 255)]
    pub description: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedRole {
    #[schema(value_type = IdText)]
    pub role_id: Id,
}

#[utoipa::path(
    tag = "roles",
    request_body = RoleRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<CreatedRole>), Refusals)
)]
#[post("/user/roles")]
pub async fn create(
    state: State,
    caller: Caller,
    body: Body<RoleRequest>,
) -> Result<Success<CreatedRole>, NativeError> {
    let b = body.0;
    let changes = RoleChanges {
        name: Some(b.name),
        description: b.description,
        ..RoleChanges::default()
    };
    let made = blocking(move || state.identity.create_role(&caller.0, &changes)).await?;
    Ok(Success(CreatedRole {
        role_id: made.role.id,
    }))
}

#[utoipa::path(
    tag = "roles",
    request_body = RoleRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Empty>), Refusals)
)]
#[put("/user/roles/{role_id}")]
pub async fn update(
    state: State,
    caller: Caller,
    path: web::Path<String>,
    body: Body<RoleRequest>,
) -> Result<Success<Empty>, NativeError> {
    let b = body.0;
    let input = RoleInput {
        name: b.name,
        description: b.description,
    };
    on_role(state, caller, &path, move |identity, p, id| {
        identity.update_role(p, id, input)
    })
    .await
}

/// Deletes a role that has no users (`role_still_has_user` otherwise).
#[utoipa::path(
    tag = "roles",
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Empty>), Refusals)
)]
#[delete("/user/roles/{role_id}")]
pub async fn delete_one(
    state: State,
    caller: Caller,
    path: web::Path<String>,
) -> Result<Success<Empty>, NativeError> {
    on_role(state, caller, &path, |identity, p, id| {
        identity.delete_role(p, id)
    })
    .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleDto {
    #[schema(value_type = IdText)]
    pub role_id: Id,
    pub name: String,
    pub description: String,
    pub created_at: Time,
    pub user_role_count: i64,
    pub role_integration_count: i64,
    /// The built-in super admin role.
    pub built_in: bool,
}

impl From<RoleSummary> for RoleDto {
    fn from(s: RoleSummary) -> Self {
        Self {
            role_id: s.role.id,
            name: s.role.name,
            description: s.role.description,
            created_at: s.role.created_at,
            user_role_count: s.user_count,
            role_integration_count: s.integration_count,
            built_in: s.role.built_in,
        }
    }
}

/// Roles whose name contains `keyword`; sortable by created_at and name.
#[utoipa::path(
    tag = "roles",
    request_body = SearchRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<PageDto<RoleDto>>), Refusals)
)]
#[post("/user/roles/search")]
pub async fn search(
    state: State,
    caller: Caller,
    body: Body<SearchRequest>,
) -> Result<Success<PageDto<RoleDto>>, NativeError> {
    let query = body.0.into_query();
    let found = blocking(move || state.identity.search_roles(&caller.0, &query)).await?;
    Ok(Success(PageDto::from_page(found, RoleDto::from)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleMemberDto {
    #[schema(value_type = IdText)]
    pub user_id: Id,
    pub user_email: String,
    pub user_nickname: String,
    #[schema(value_type = IdText)]
    pub role_id: Id,
}

/// The role's users (optionally filtered by `keyword` over nickname and email).
#[utoipa::path(
    tag = "roles",
    security(("bearer" = [])),
    params(KeywordRequest),
    responses((status = 200, body = Envelope<Vec<RoleMemberDto>>), Refusals)
)]
#[get("/user/roles/{role_id}/members")]
pub async fn members(
    state: State,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<KeywordRequest>,
) -> Result<Success<Vec<RoleMemberDto>>, NativeError> {
    let id = path_id("role_id", &path)?;
    let keyword = query.into_inner().keyword;
    let users = blocking(move || {
        state
            .identity
            .role_members(&caller.0, id, keyword.as_deref())
    })
    .await?;
    Ok(Success(
        users
            .into_iter()
            .map(|u| RoleMemberDto {
                user_id: u.id,
                user_email: u.email_or_username().to_owned(),
                user_nickname: u.nickname,
                role_id: id,
            })
            .collect(),
    ))
}

/// One page of the role's users, as the web console asks for them: `keyword` over
/// nickname and email, `page_number` from 1, `page_size` (no `sorts`).
#[utoipa::path(
    tag = "roles",
    request_body = SearchRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<PageDto<RoleMemberDto>>), Refusals)
)]
#[post("/user/roles/{role_id}/members")]
pub async fn members_page(
    state: State,
    caller: Caller,
    path: web::Path<String>,
    body: Body<SearchRequest>,
) -> Result<Success<PageDto<RoleMemberDto>>, NativeError> {
    let id = path_id("role_id", &path)?;
    let query = body.0.into_query();
    let page = blocking(move || state.identity.role_members_page(&caller.0, id, &query)).await?;
    Ok(Success(PageDto::from_page(page, |u| RoleMemberDto {
        user_id: u.id,
        user_email: u.email_or_username().to_owned(),
        user_nickname: u.nickname,
        role_id: id,
    })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UndistributedUserDto {
    pub email: String,
    pub nickname: String,
    #[schema(value_type = IdText)]
    pub user_id: Id,
}

impl From<User> for UndistributedUserDto {
    fn from(u: User) -> Self {
        Self {
            email: u.email_or_username().to_owned(),
            nickname: u.nickname,
            user_id: u.id,
        }
    }
}

/// Users not yet in the role: the plain list (`{keyword}`), or one page of it when the body
/// names `page_number` or `page_size` (the web console's form).
#[utoipa::path(
    tag = "roles",
    request_body = ListRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Listed<UndistributedUserDto>>), Refusals)
)]
#[post("/user/roles/{role_id}/undistributed-users")]
pub async fn undistributed_users(
    state: State,
    caller: Caller,
    path: web::Path<String>,
    body: Body<ListRequest>,
) -> Result<Success<Listed<UndistributedUserDto>>, NativeError> {
    let id = path_id("role_id", &path)?;
    let p = caller.0;
    let identity = state.identity.clone();
    Ok(Success(match body.0.listing() {
        Listing::All(keyword) => {
            let users =
                blocking(move || identity.users_outside_role(&p, id, keyword.as_deref())).await?;
            Listed::List(users.into_iter().map(Into::into).collect())
        }
        Listing::Page(q) => {
            let page = blocking(move || identity.users_outside_role_page(&p, id, &q)).await?;
            Listed::Page(PageDto::from_page(page, Into::into))
        }
    }))
}

/// The menus the role grants (the built-in role: all).
#[utoipa::path(
    tag = "roles",
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Vec<MenuDto>>), Refusals)
)]
#[get("/user/roles/{role_id}/menus")]
pub async fn menus(
    state: State,
    caller: Caller,
    path: web::Path<String>,
) -> Result<Success<Vec<MenuDto>>, NativeError> {
    let id = path_id("role_id", &path)?;
    let menus = blocking(move || state.identity.role_menus(&caller.0, id)).await?;
    Ok(Success(menus.iter().map(MenuDto::from).collect()))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ResourceFilter {
    /// ENTITY, DEVICE, INTEGRATION, DASHBOARD or WORKFLOW; all when absent.
    pub resource_type: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceDto {
    pub resource_id: String,
    pub resource_type: &'static str,
}

/// The resources granted to the role.
#[utoipa::path(
    tag = "roles",
    request_body = ResourceFilter,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Vec<ResourceDto>>), Refusals)
)]
#[post("/user/roles/{role_id}/resources")]
pub async fn resources(
    state: State,
    caller: Caller,
    path: web::Path<String>,
    body: Body<ResourceFilter>,
) -> Result<Success<Vec<ResourceDto>>, NativeError> {
    let id = path_id("role_id", &path)?;
    let kind = body
        .0
        .resource_type
        .filter(|t| !t.is_empty())
        .map(|t| ResourceType::parse("resource_type", &t))
        .transpose()
        .map_err(|e| NativeError::invalid(e.to_string()))?;
    let items = blocking(move || state.identity.role_resources(&caller.0, id, kind)).await?;
    Ok(Success(
        items
            .into_iter()
            .map(|r| ResourceDto {
                resource_id: r.resource_id,
                resource_type: r.resource_type.as_str(),
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UserIdsRequest {
    /// 1 to 1000 user ids.
    #[schema(value_type = Vec<IdText>)]
    pub user_ids: Vec<Id>,
}

impl UserIdsRequest {
    fn items(self) -> Result<Vec<Id>, NativeError> {
        Ok(self.user_ids)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MenuIdsRequest {
    /// 1 to 1000 menu ids.
    #[schema(value_type = Vec<IdText>)]
    pub menu_ids: Vec<Id>,
}

impl MenuIdsRequest {
    fn items(self) -> Result<Vec<Id>, NativeError> {
        Ok(self.menu_ids)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResourceItem {
    pub id: String,
    /// ENTITY, DEVICE, INTEGRATION, DASHBOARD or WORKFLOW.
    #[serde(rename = "type")]
    #[schema(schema_with = resource_types)]
    pub kind: String,
}

fn resource_types() -> RefOr<Schema> {
    one_of(ResourceType::ALL.map(ResourceType::as_str))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResourcesRequest {
    /// 1 to 1000 resources.
    #[schema(min_items = 1, max_items = 1000)]
    pub resources: Vec<ResourceItem>,
}

impl ResourcesRequest {
    fn items(self) -> Result<Vec<ResourceRef>, NativeError> {
        self.resources
            .iter()
            .enumerate()
            .map(|(i, r)| {
                ResourceRef::parse(
                    &format!("resources[{i}].type"),
                    &format!("resources[{i}].id"),
                    &r.kind,
                    &r.id,
                )
                .map_err(|e| NativeError::invalid(e.to_string()))
            })
            .collect()
    }
}

/// The (dis)association endpoints: `POST /user/roles/{role_id}/<route>` with a body whose
/// `items()` name what to add to or take from the role, through the use-case of the
/// handler's name, answering `{}`. They differ in nothing else, so they are written once.
macro_rules! role_list_changes {
    ($($(#[$doc:meta])* $name:ident($route:tt, $body:ident);)*) => {$(
        $(#[$doc])*
        #[utoipa::path(
            tag = "roles",
            request_body = $body,
            security(("bearer" = [])),
            responses((status = 200, body = Envelope<Empty>), Refusals)
        )]
        #[post($route)]
        pub async fn $name(
            state: State,
            caller: Caller,
            path: web::Path<String>,
            body: Body<$body>,
        ) -> Result<Success<Empty>, NativeError> {
            let items = body.0.items()?;
            on_role(state, caller, &path, move |identity, p, id| {
                identity.$name(p, id, &items)
            })
            .await
        }
    )*};
}

role_list_changes! {
    /// Adds users to the role; an unknown user refuses the whole request.
    associate_users("/user/roles/{role_id}/associate-user", UserIdsRequest);
    disassociate_users("/user/roles/{role_id}/disassociate-user", UserIdsRequest);
    /// Grants menus and function codes to the role.
    associate_menus("/user/roles/{role_id}/associate-menu", MenuIdsRequest);
    disassociate_menus("/user/roles/{role_id}/disassociate-menu", MenuIdsRequest);
    associate_resources("/user/roles/{role_id}/associate-resource", ResourcesRequest);
    disassociate_resources("/user/roles/{role_id}/disassociate-resource", ResourcesRequest);
}
