//! The caller's own account: first-user registration, tenant status, `GET /user` and
//! changing one's own password.

use actix_web::{HttpRequest, get, post, put};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use weir_identity::service::{Me, Member, RegisterInput};

use super::dto::{MenuDto, NewAccountRequest};
use super::envelope::{Empty, Envelope, Failure, NativeError, Refusals, Success};
use super::extract::{Body, Caller, State, blocking, tenant_header};
use super::members::MemberDto;

/// Registers the tenant's first user, who becomes its super admin. Refused once the tenant
/// has a user (`tenant_user_inited`).
#[utoipa::path(
    tag = "user",
    request_body = NewAccountRequest,
    params(("TENANT-ID" = Option<String>, Header, description = "tenant; default `default`")),
    responses(
        (status = 200, body = Envelope<Empty>),
        (status = 400, body = Failure, description = "parameter_validation_failed, tenant_not_found, tenant_user_inited"),
        (status = 413, body = Failure, description = "data_too_large: the body is over the configured limit"),
    )
)]
#[post("/user/register")]
pub async fn register(
    state: State,
    req: HttpRequest,
    body: Body<NewAccountRequest>,
) -> Result<Success<Empty>, NativeError> {
    let tenant = tenant_header(&req);
    let b = body.0;
    let input = RegisterInput {
        email: b.email,
        nickname: b.nickname,
        password: b.password,
    };
    blocking(move || state.identity.register(&tenant, input)).await?;
    Ok(Success(Empty {}))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusData {
    /// Whether the tenant has its first user.
    pub init: bool,
}

#[utoipa::path(
    tag = "user",
    params(("TENANT-ID" = Option<String>, Header, description = "tenant; default `default`")),
    responses(
        (status = 200, body = Envelope<StatusData>),
        (status = 400, body = Failure, description = "tenant_not_found"),
    )
)]
#[get("/user/status")]
pub async fn status(state: State, req: HttpRequest) -> Result<Success<StatusData>, NativeError> {
    let tenant = tenant_header(&req);
    let init = blocking(move || state.identity.tenant_initialized(&tenant)).await?;
    Ok(Success(StatusData { init }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserInfo {
    #[serde(flatten)]
    pub member: MemberDto,
    pub menus: Vec<MenuDto>,
    pub is_super_admin: bool,
    /// The same as `is_super_admin`, under the name the document uses.
    pub super_admin: bool,
}

#[utoipa::path(
    tag = "user",
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<UserInfo>), Refusals)
)]
#[get("/user")]
pub async fn me(state: State, caller: Caller) -> Result<Success<UserInfo>, NativeError> {
    // Cached menus answer in place; else one trip to the blocking pool reads them.
    let me = match state.identity.me_cached(&caller.0) {
        Some(me) => me,
        None => blocking(move || state.identity.me(&caller.0)).await?,
    };
    let Me {
        user,
        roles,
        menus,
        super_admin,
    } = me;
    Ok(Success(UserInfo {
        member: MemberDto::from(Member { user, roles }),
        menus: menus.iter().map(MenuDto::from).collect(),
        is_super_admin: super_admin,
        super_admin,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    pub old_password: String,
    /// 8 to 64 characters.
    #[schema(min_length = 8, max_length = 64)]
    pub new_password: String,
}

/// Changes the caller's password; every token of the caller stops working.
#[utoipa::path(
    tag = "user",
    request_body = ChangePasswordRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Envelope<Empty>),
        Refusals,
        (status = 429, body = Failure, description = "request_too_frequently: too many wrong old_password attempts; Retry-After says when to try again"),
    )
)]
#[put("/user/password")]
pub async fn change_password(
    state: State,
    req: HttpRequest,
    caller: Caller,
    body: Body<ChangePasswordRequest>,
) -> Result<Success<Empty>, NativeError> {
    let b = body.0;
    let address = req.peer_addr().map(|a| a.ip().to_string());
    blocking(move || {
        state.identity.change_own_password(
            &caller.0,
            &b.old_password,
            &b.new_password,
            address.as_deref(),
        )
    })
    .await?;
    Ok(Success(Empty {}))
}
