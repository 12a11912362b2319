//! Identity-Role: the thirteen operations under `/api/v2/identity/roles`.
//!
//! Every operation but `GET /roles/me/non-org-roles` is the super admin's, as role
//! management is in the native API; the use-cases check it (403 `Forbidden`).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, delete, get, post, put, web};
use futures_util::future::LocalBoxFuture;
use weir_identity::errors::RoleError;
use weir_identity::service::{MAX_BATCH, RoleChanges, RoleFilter};
use weir_identity::{IdentityService, Principal};
use weir_kernel::Id;

use super::envelope::{BUILTIN_ROLE_CANNOT_BE_DELETED, Refusals, USER_NOT_FOUND, WynError, json};
use super::extract::{Caller, Query, SearchType, parse_body, path_id, read_json};
use super::models::{
    CountResult, PermissionModel, RoleBizModel, RoleBizModelInput, RoleList,
    RolePermissionsUpdateModel, RoleUsersUpdateModel, RolesImportModel, UserBizModel,
};
use crate::core::body::read_body;
use crate::core::{State, blocking};

/// Where the dialect's routes are mounted; the operations add `/roles...`.
pub const PREFIX: &str = "/api/v2/identity";

/// The query names of the permission flag: the lists' `IncludePermissions` and one role's
/// `includePermission` mean the same, so each endpoint takes both.
const INCLUDE_PERMISSIONS: &[&str] = &["IncludePermissions", "IncludePermission"];
const INCLUDE_MEMBERS: &[&str] = &["IncludeMembers", "IncludeMember"];

fn ok<T: serde::Serialize>(body: &T) -> HttpResponse {
    json(StatusCode::OK, body)
}

/// The role the path names (`{id}`), read before the handler runs; a path that is no id
/// is 404 `RoleNotFound`.
struct RoleId(Id);

impl FromRequest for RoleId {
    type Error = WynError;
    type Future = Ready<Result<Self, WynError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(path_id(req, "id", WynError::role_not_found).map(RoleId))
    }
}

/// A listing as the query asks: every role, or with `SearchType=Count` their number.
async fn list(
    state: State,
    caller: Caller,
    req: &HttpRequest,
    filter: RoleFilter,
) -> Result<HttpResponse, WynError> {
    let q = Query::of(req)?;
    let (permissions, members) = (q.flag(INCLUDE_PERMISSIONS)?, q.flag(INCLUDE_MEMBERS)?);
    let search = q.search_type()?;
    let roles = blocking(move || state.identity.role_profiles(&caller.0, &filter)).await??;
    Ok(ok(&match search {
        SearchType::Count => RoleList::Count(CountResult { count: roles.len() }),
        SearchType::None => RoleList::Roles(
            roles
                .into_iter()
                .map(|r| RoleBizModel::of(r, permissions, members))
                .collect(),
        ),
    }))
}

/// Every role of the caller's organisation: its own roles and the global ones.
#[utoipa::path(
    tag = "wyn",
    security(("bearer" = [])),
    params(
        ("IncludePermissions" = Option<bool>, Query, description = "Include each role's permissions (default false; `null` otherwise). Any case; `includePermission` too."),
        ("IncludeMembers" = Option<bool>, Query, description = "Include each role's member ids (default false; `null` otherwise)."),
        ("SearchType" = Option<String>, Query, description = "`None` (default) or `Count`: `{\"count\": n}` only."),
    ),
    responses((status = 200, body = RoleList), Refusals)
)]
#[get("/roles")]
pub async fn list_roles(
    state: State,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, WynError> {
    list(state, caller, &req, RoleFilter::default()).await
}

/// The global roles: those of no organisation (`tenantId` null).
#[utoipa::path(
    tag = "wyn",
    security(("bearer" = [])),
    params(
        ("IncludePermissions" = Option<bool>, Query, description = "Include each role's permissions."),
        ("IncludeMembers" = Option<bool>, Query, description = "Include each role's member ids."),
        ("SearchType" = Option<String>, Query, description = "`None` (default) or `Count`."),
    ),
    responses((status = 200, body = RoleList), Refusals)
)]
#[get("/roles/non-org-roles")]
pub async fn list_non_org_roles(
    state: State,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, WynError> {
    let filter = RoleFilter {
        global_only: true,
        ..RoleFilter::default()
    };
    list(state, caller, &req, filter).await
}

/// The caller's own global roles (direct or through a group, enabled ones), with their
/// permissions; with `all=true` a super admin gets every global role. Any signed-in user
/// may ask. `members` is always `null` here.
#[utoipa::path(
    tag = "wyn",
    security(("bearer" = [])),
    params(("all" = Option<bool>, Query, description = "Every global role (super admin only; ignored for others). Default false.")),
    responses((status = 200, body = Vec<RoleBizModel>), Refusals)
)]
#[get("/roles/me/non-org-roles")]
pub async fn my_non_org_roles(
    state: State,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, WynError> {
    let all = Query::of(&req)?.flag(&["all"])?;
    let roles = blocking(move || state.identity.my_global_roles(&caller.0, all)).await??;
    let roles: Vec<RoleBizModel> = roles
        .into_iter()
        .map(|r| RoleBizModel::of(r, true, false))
        .collect();
    Ok(ok(&roles))
}

/// What a role body asks, as the domain's changes. `at` prefixes field names in errors.
fn changes(input: RoleBizModelInput, at: &str) -> Result<RoleChanges, WynError> {
    if input.is_builtin == Some(true) {
        return Err(WynError::invalid(
            format!("{at}isBuiltin"),
            "built-in roles are the server's: isBuiltin must be false",
        ));
    }
    Ok(RoleChanges {
        name: input.name,
        allow_edit_permissions: input.allow_edit_permissions,
        organisation_id: input.tenant_id,
        permissions: input.permissions,
        members: input.members,
        ..RoleChanges::default()
    })
}

/// Adds a role (a `RoleBizModel`: `name` required; `permissions`, `members`,
/// `allowEditPermissions` and `tenantId` optional). Answers 201 with the role and a
/// `Location` header.
#[utoipa::path(
    tag = "wyn",
    security(("bearer" = [])),
    request_body = RoleBizModelInput,
    responses((status = 201, body = RoleBizModel), Refusals)
)]
#[post("/roles")]
pub async fn create_role(
    state: State,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WynError> {
    let input: RoleBizModelInput = read_json(&req, payload).await?;
    let c = changes(input, "")?;
    let role = blocking(move || state.identity.create_role(&caller.0, &c)).await??;
    let location = format!("{PREFIX}/roles/{}", role.role.id);
    let mut res = json(StatusCode::CREATED, &RoleBizModel::of(role, true, true));
    if let Ok(v) = location.parse() {
        res.headers_mut().insert(LOCATION, v);
    }
    Ok(res)
}

/// Creates or updates roles by name, all or none. Absent fields of an existing role stay
/// as they are; `tenantId: null` makes it global. Answers the imported roles.
#[utoipa::path(
    tag = "wyn",
    security(("bearer" = [])),
    request_body = RolesImportModel,
    responses((status = 200, body = Vec<RoleBizModel>), Refusals)
)]
#[post("/roles/import")]
pub async fn import_roles(
    state: State,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WynError> {
    let body: RolesImportModel = read_json(&req, payload).await?;
    let mut all = Vec::with_capacity(body.roles.len());
    for (i, role) in body.roles.into_iter().enumerate() {
        let at = format!("roles[{i}].");
        if role.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
            return Err(WynError::invalid(
                format!("{at}name"),
                format!("{at}name is required"),
            ));
        }
        all.push(changes(role, &at)?);
    }
    let roles = blocking(move || state.identity.import_roles(&caller.0, &all)).await??;
    let roles: Vec<RoleBizModel> = roles
        .into_iter()
        .map(|r| RoleBizModel::of(r, true, true))
        .collect();
    Ok(ok(&roles))
}

/// One role with its member ids; its permissions with `includePermission=true`.
#[utoipa::path(
    tag = "wyn",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The role id."),
        ("includePermission" = Option<bool>, Query, description = "Include the role's permissions (default false). Any case; `IncludePermissions` too."),
    ),
    responses((status = 200, body = RoleBizModel), Refusals)
)]
#[get("/roles/{id}")]
pub async fn get_role(
    state: State,
    caller: Caller,
    RoleId(id): RoleId,
    req: HttpRequest,
) -> Result<HttpResponse, WynError> {
    let permissions = Query::of(&req)?.flag(INCLUDE_PERMISSIONS)?;
    let role = blocking(move || state.identity.role_profile(&caller.0, id)).await??;
    Ok(ok(&RoleBizModel::of(role, permissions, true)))
}

/// Deletes a role that has no members (400 `RoleHasMembers` otherwise); the built-in role
/// refuses (400 `BuiltinRoleCannotBeDeleted`).
#[utoipa::path(
    tag = "wyn",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The role id.")),
    responses((status = 204, description = "Deleted"), Refusals)
)]
#[delete("/roles/{id}")]
pub async fn delete_role(
    state: State,
    caller: Caller,
    RoleId(id): RoleId,
) -> Result<HttpResponse, WynError> {
    blocking(move || {
        state
            .identity
            .delete_roles(&caller.0, &[id])
            .map_err(|e| match e {
                RoleError::BuiltIn => {
                    let mut out = WynError::from(e);
                    out.code = BUILTIN_ROLE_CANNOT_BE_DELETED;
                    out.message = "the built-in role cannot be deleted".into();
                    out
                }
                e => e.into(),
            })
    })
    .await??;
    Ok(HttpResponse::NoContent().finish())
}

/// The role's direct members, each with the names of their own direct roles.
fn members(
    identity: &IdentityService,
    p: &Principal,
    id: Id,
) -> Result<Vec<UserBizModel>, RoleError> {
    let users = identity.role_members(p, id, None)?;
    let mut roles_of: BTreeMap<Id, Vec<String>> = BTreeMap::new();
    for profile in identity.role_profiles(p, &RoleFilter::default())? {
        for member in profile.members {
            roles_of
                .entry(member)
                .or_default()
                .push(profile.role.name.clone());
        }
    }
    Ok(UserBizModel::list(users, &roles_of))
}

/// The users who belong to the role (directly).
#[utoipa::path(
    tag = "wyn",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The role id.")),
    responses((status = 200, body = Vec<UserBizModel>), Refusals)
)]
#[get("/roles/{id}/users")]
pub async fn role_users(
    state: State,
    caller: Caller,
    RoleId(id): RoleId,
) -> Result<HttpResponse, WynError> {
    let users = blocking(move || members(&state.identity, &caller.0, id)).await??;
    Ok(ok(&users))
}

/// The body of the role-users endpoints (`RoleUsersUpdateModel`), read after the caller
/// and the role id, refusing more ids than one batch may name.
struct UserIds(Vec<Id>);

impl FromRequest for UserIds {
    type Error = WynError;
    type Future = LocalBoxFuture<'static, Result<Self, WynError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let body: RoleUsersUpdateModel = parse_body(&read_body(&req, &mut payload).await?)?;
            if body.user_ids.len() > MAX_BATCH {
                return Err(WynError::invalid(
                    "userIds",
                    format!("userIds must have at most {MAX_BATCH} items"),
                ));
            }
            Ok(UserIds(body.user_ids))
        })
    }
}

/// The two endpoints that change a role's users by a `RoleUsersUpdateModel` and answer the
/// role's users: they differ only in method, route and the change, so they are written once.
macro_rules! role_users_changes {
    ($($(#[$doc:meta])* $method:ident $name:ident = $change:expr;)*) => {$(
        $(#[$doc])*
        #[utoipa::path(
            tag = "wyn",
            security(("bearer" = [])),
            params(("id" = String, Path, description = "The role id.")),
            request_body = RoleUsersUpdateModel,
            responses((status = 200, body = Vec<UserBizModel>), Refusals)
        )]
        #[$method("/roles/{id}/users")]
        pub async fn $name(
            state: State,
            caller: Caller,
            RoleId(id): RoleId,
            UserIds(users): UserIds,
        ) -> Result<HttpResponse, WynError> {
            let change: fn(&IdentityService, &Principal, Id, Vec<Id>) -> Result<(), RoleError> =
                $change;
            let users = blocking(move || -> Result<_, WynError> {
                change(&state.identity, &caller.0, id, users)?;
                Ok(members(&state.identity, &caller.0, id)?)
            })
            .await??;
            Ok(ok(&users))
        }
    )*};
}

role_users_changes! {
    /// Adds users to the role (those already in it stay); an unknown user id refuses the whole
    /// list (400 `UserNotFound`). Answers the role's users.
    post add_role_users = |identity, p, id, users| {
        if users.is_empty() {
            return Ok(());
        }
        identity.associate_users(p, id, &users)
    };
    /// Replaces the role's users with these (an empty list removes them all, except from the
    /// built-in role, which keeps at least one). Answers the role's users.
    put set_role_users = |identity, p, id, users| identity.set_role_members(p, id, &users);
}

/// Removes one user from the role; a user who is not a member is 404 `UserNotFound`.
#[utoipa::path(
    tag = "wyn",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The role id."),
        ("userId" = String, Path, description = "The user id."),
    ),
    responses((status = 204, description = "Removed"), Refusals)
)]
#[delete("/roles/{id}/users/{userId}")]
pub async fn remove_role_user(
    state: State,
    caller: Caller,
    RoleId(id): RoleId,
    req: HttpRequest,
) -> Result<HttpResponse, WynError> {
    let user = path_id(&req, "userId", WynError::user_not_found)?;
    blocking(move || {
        state
            .identity
            .remove_role_member(&caller.0, id, user)
            .map_err(|e| {
                let mut out = WynError::from(e);
                if out.code == USER_NOT_FOUND {
                    // Named by the path, so not found rather than bad input.
                    out.status = StatusCode::NOT_FOUND;
                }
                out
            })
    })
    .await??;
    Ok(HttpResponse::NoContent().finish())
}

/// The role's permissions, as the catalogue describes them (the built-in role: all).
#[utoipa::path(
    tag = "wyn",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The role id.")),
    responses((status = 200, body = Vec<PermissionModel>), Refusals)
)]
#[get("/roles/{id}/permissions")]
pub async fn role_permissions(
    state: State,
    caller: Caller,
    RoleId(id): RoleId,
) -> Result<HttpResponse, WynError> {
    let role = blocking(move || state.identity.role_profile(&caller.0, id)).await??;
    Ok(ok(&PermissionModel::list(role.permissions)))
}

/// Replaces the role's permissions with these catalogue names. A role whose
/// `allowEditPermissions` is false refuses (400 `PermissionsLocked`), as does the built-in
/// role (400 `BuiltinRoleCannotBeModified`). Answers the role's permissions.
#[utoipa::path(
    tag = "wyn",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The role id.")),
    request_body = RolePermissionsUpdateModel,
    responses((status = 200, body = Vec<PermissionModel>), Refusals)
)]
#[post("/roles/{id}/permissions")]
pub async fn update_role_permissions(
    state: State,
    caller: Caller,
    RoleId(id): RoleId,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WynError> {
    let body: RolePermissionsUpdateModel = read_json(&req, payload).await?;
    let c = RoleChanges {
        permissions: Some(body.permissions),
        ..RoleChanges::default()
    };
    let role = blocking(move || state.identity.change_role(&caller.0, id, &c)).await??;
    Ok(ok(&PermissionModel::list(role.permissions)))
}
