//! Menus and function codes (`/user/menus...`).

use actix_web::{delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use weir_identity::service::{MenuInput, MenuNode, MenuUpdate};
use weir_kernel::Id;

use super::dto::MenuDto;
use super::envelope::{Empty, Envelope, NativeError, Refusals, Success};
use super::extract::{Body, Caller, State, blocking, path_id};
use crate::openapi::IdText;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateMenuRequest {
    /// Unique per tenant: 1 to 128 characters of a-z, 0-9, '.', '_' and '-'.
    #[schema(pattern = "^[a-z0-9._-]{1,128}$")]
    pub code: String,
    /// 1 to 64 characters.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// `MENU` or `FUNCTION`.
    #[serde(rename = "type")]
    #[schema(pattern = "^(MENU|FUNCTION)$")]
    pub menu_type: String,
    #[schema(value_type = Option<IdText>)]
    pub parent_id: Option<Id>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedMenu {
    #[schema(value_type = IdText)]
    pub menu_id: Id,
}

#[utoipa::path(
    tag = "menus",
    request_body = CreateMenuRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<CreatedMenu>), Refusals)
)]
#[post("/user/menus")]
pub async fn create(
    state: State,
    caller: Caller,
    body: Body<CreateMenuRequest>,
) -> Result<Success<CreatedMenu>, NativeError> {
    let b = body.0;
    let input = MenuInput {
        code: b.code,
        name: b.name,
        menu_type: b.menu_type,
        parent_id: b.parent_id,
    };
    let menu_id = blocking(move || state.identity.create_menu(&caller.0, input)).await?;
    Ok(Success(CreatedMenu { menu_id }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateMenuRequest {
    /// 1 to 64 characters.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// `MENU` or `FUNCTION`.
    #[serde(rename = "type")]
    #[schema(pattern = "^(MENU|FUNCTION)$")]
    pub menu_type: String,
}

/// Renames a menu or changes its type; seeded menus are fixed (`menu_built_in`).
#[utoipa::path(
    tag = "menus",
    request_body = UpdateMenuRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Empty>), Refusals)
)]
#[put("/user/menus/{menu_id}")]
pub async fn update(
    state: State,
    caller: Caller,
    path: web::Path<String>,
    body: Body<UpdateMenuRequest>,
) -> Result<Success<Empty>, NativeError> {
    let id = path_id("menu_id", &path)?;
    let b = body.0;
    blocking(move || {
        state.identity.update_menu(
            &caller.0,
            id,
            MenuUpdate {
                name: b.name,
                menu_type: b.menu_type,
            },
        )
    })
    .await?;
    Ok(Success(Empty {}))
}

#[utoipa::path(
    tag = "menus",
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Empty>), Refusals)
)]
#[delete("/user/menus/{menu_id}")]
pub async fn delete_one(
    state: State,
    caller: Caller,
    path: web::Path<String>,
) -> Result<Success<Empty>, NativeError> {
    let id = path_id("menu_id", &path)?;
    blocking(move || state.identity.delete_menu(&caller.0, id)).await?;
    Ok(Success(Empty {}))
}

/// A menu with its children.
#[derive(Debug, Serialize, ToSchema)]
pub struct MenuTreeDto {
    #[serde(flatten)]
    pub menu: MenuDto,
    #[schema(no_recursion)]
    pub children: Vec<MenuTreeDto>,
}

impl From<MenuNode> for MenuTreeDto {
    fn from(n: MenuNode) -> Self {
        Self {
            menu: MenuDto::from(&n.menu),
            children: n.children.into_iter().map(Into::into).collect(),
        }
    }
}

/// The tenant's menus as a tree.
#[utoipa::path(
    tag = "menus",
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Vec<MenuTreeDto>>), Refusals)
)]
#[get("/user/menus")]
pub async fn tree(state: State, caller: Caller) -> Result<Success<Vec<MenuTreeDto>>, NativeError> {
    let tree = blocking(move || state.identity.menu_tree(&caller.0)).await?;
    Ok(Success(tree.into_iter().map(Into::into).collect()))
}
