//! Managing users (`/user/members...`, `/user/batch-delete`).

use actix_web::{delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use weir_identity::ResourceRef;
use weir_identity::service::{Member, NewMember, UpdateMember};
use weir_kernel::Id;

use super::dto::{MenuDto, NewAccountRequest, PageDto, RoleRef, SearchRequest, Time};
use super::envelope::{Empty, Envelope, NativeError, Refusals, Success};
use super::extract::{Body, Caller, State, blocking, path_id};
use crate::openapi::IdText;

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberDto {
    pub tenant_id: String,
    #[schema(value_type = IdText)]
    pub user_id: Id,
    pub nickname: String,
    pub email: String,
    pub created_at: Time,
    pub roles: Vec<RoleRef>,
}

impl From<Member> for MemberDto {
    fn from(m: Member) -> Self {
        Self {
            tenant_id: m.user.tenant_id.to_string(),
            user_id: m.user.id,
            email: m.user.email_or_username().to_owned(),
            nickname: m.user.nickname,
            created_at: m.user.created_at,
            roles: m.roles.iter().map(RoleRef::from).collect(),
        }
    }
}

/// Users whose nickname or email contains `keyword`; sortable by created_at, nickname, email.
#[utoipa::path(
    tag = "members",
    request_body = SearchRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<PageDto<MemberDto>>), Refusals)
)]
#[post("/user/members/search")]
pub async fn search(
    state: State,
    caller: Caller,
    body: Body<SearchRequest>,
) -> Result<Success<PageDto<MemberDto>>, NativeError> {
    let query = body.0.into_query();
    let found = blocking(move || state.identity.search_members(&caller.0, &query)).await?;
    Ok(Success(PageDto::from_page(found, MemberDto::from)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    #[schema(value_type = IdText)]
    pub user_id: Id,
}

#[utoipa::path(
    tag = "members",
    request_body = NewAccountRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<CreatedUser>), Refusals)
)]
#[post("/user/members")]
pub async fn create(
    state: State,
    caller: Caller,
    body: Body<NewAccountRequest>,
) -> Result<Success<CreatedUser>, NativeError> {
    let b = body.0;
    let input = NewMember {
        email: b.email,
        nickname: b.nickname,
        password: b.password,
    };
    let user_id = blocking(move || state.identity.create_member(&caller.0, input)).await?;
    Ok(Success(CreatedUser { user_id }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateMemberRequest {
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    /// 1 to 64 characters.
    #[schema(min_length = 1, max_length = 64)]
    pub nickname: String,
}

#[utoipa::path(
    tag = "members",
    request_body = UpdateMemberRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Empty>), Refusals)
)]
#[put("/user/members/{user_id}")]
pub async fn update(
    state: State,
    caller: Caller,
    path: web::Path<String>,
    body: Body<UpdateMemberRequest>,
) -> Result<Success<Empty>, NativeError> {
    let id = path_id("user_id", &path)?;
    let b = body.0;
    let input = UpdateMember {
        email: b.email,
        nickname: b.nickname,
    };
    blocking(move || state.identity.update_member(&caller.0, id, input)).await?;
    Ok(Success(Empty {}))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetPasswordRequest {
    /// 8 to 64 characters.
    #[schema(min_length = 8, max_length = 64)]
    pub password: String,
}

/// Sets a user's password; every token of that user stops working.
#[utoipa::path(
    tag = "members",
    request_body = ResetPasswordRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Empty>), Refusals)
)]
#[put("/user/members/{user_id}/change-password")]
pub async fn reset_password(
    state: State,
    caller: Caller,
    path: web::Path<String>,
    body: Body<ResetPasswordRequest>,
) -> Result<Success<Empty>, NativeError> {
    let id = path_id("user_id", &path)?;
    blocking(move || {
        state
            .identity
            .reset_password(&caller.0, id, &body.0.password)
    })
    .await?;
    Ok(Success(Empty {}))
}

#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Empty>), Refusals)
)]
#[delete("/user/members/{user_id}")]
pub async fn delete_one(
    state: State,
    caller: Caller,
    path: web::Path<String>,
) -> Result<Success<Empty>, NativeError> {
    let id = path_id("user_id", &path)?;
    blocking(move || state.identity.delete_members(&caller.0, &[id])).await?;
    Ok(Success(Empty {}))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchDeleteRequest {
    /// 1 to 1000 user ids; all are deleted or none.
    #[schema(value_type = Vec<IdText>)]
    pub user_id_list: Vec<Id>,
}

#[utoipa::path(
    tag = "members",
    request_body = BatchDeleteRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Empty>), Refusals)
)]
#[post("/user/batch-delete")]
pub async fn batch_delete(
    state: State,
    caller: Caller,
    body: Body<BatchDeleteRequest>,
) -> Result<Success<Empty>, NativeError> {
    blocking(move || {
        state
            .identity
            .delete_members(&caller.0, &body.0.user_id_list)
    })
    .await?;
    Ok(Success(Empty {}))
}

/// The menus a user holds (the super admin: all). Users may read their own.
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Vec<MenuDto>>), Refusals)
)]
#[get("/user/members/{user_id}/menus")]
pub async fn menus(
    state: State,
    caller: Caller,
    path: web::Path<String>,
) -> Result<Success<Vec<MenuDto>>, NativeError> {
    let id = path_id("user_id", &path)?;
    let menus = blocking(move || state.identity.member_menus(&caller.0, id)).await?;
    Ok(Success(menus.iter().map(MenuDto::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PermissionRequest {
    /// ENTITY, DEVICE, INTEGRATION, DASHBOARD or WORKFLOW.
    pub resource_type: String,
    pub resource_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionData {
    pub has_permission: bool,
}

/// Whether a user may reach a resource (through a role granted it; the super admin always).
#[utoipa::path(
    tag = "members",
    request_body = PermissionRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<PermissionData>), Refusals)
)]
#[post("/user/members/{user_id}/permission")]
pub async fn permission(
    state: State,
    caller: Caller,
    path: web::Path<String>,
    body: Body<PermissionRequest>,
) -> Result<Success<PermissionData>, NativeError> {
    let id = path_id("user_id", &path)?;
    let b = body.0;
    let resource = ResourceRef::parse(
        "resource_type",
        "resource_id",
        &b.resource_type,
        &b.resource_id,
    )
    .map_err(|e| NativeError::invalid(e.to_string()))?;
    let has_permission =
        blocking(move || state.identity.member_has_resource(&caller.0, id, &resource)).await?;
    Ok(Success(PermissionData { has_permission }))
}
