//! Tenant roles (`/api/yt/role...`): save with menus, enable and disable, delete in a batch,
//! and the paged listing. Every operation is for the super admin.
//!
//! The listing reads its query here ([`ListParams::parse`]) and asks the identity
//! use-case for one page ([`ListQuery::page_request`]): the store filters, sorts and cuts it.

use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, delete, get, post, put};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use utoipa::ToSchema;
use weir_identity::RoleType;
use weir_identity::service::{RoleChanges, RoleFilter, RoleProfile};
use weir_kernel::{Direction, Id, PageRequest, Sort};

use super::envelope::{Refusals, ThingsKitError, iso8601, json};
use super::{AdminBody, ThingsKitCaller};
use crate::core::body::{Empty, parse_json};
use crate::core::{State, blocking};

/// What `tenantStatus` always holds: a caller's tenant is enabled (a disabled tenant's
/// tokens stop working) and Weir's tenants do not expire.
pub const TENANT_STATUS: &str = "NORMAL";

/// A role as ThingsKit answers it. Fields Weir has no value for are `null`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleDto {
    /// The role's code: Weir's id of the role (the only unique, server-made key a role has).
    pub code: String,
    /// ISO-8601 UTC with milliseconds.
    pub create_time: String,
    /// The id of the user who created the role; `null` for the built-in role.
    pub creator: Option<String>,
    /// Always `null` (a tenant field).
    pub default_config: Option<String>,
    /// Always `null` (the tenant's description; the role's own is `remark`).
    pub description: Option<String>,
    /// Always `null`.
    pub icon: Option<String>,
    pub id: String,
    pub name: String,
    /// The role's description.
    pub remark: String,
    /// Always `null`.
    pub role_ids: Option<Vec<String>>,
    /// CUSTOMER_USER, PLATFORM_ADMIN, SYS_ADMIN or TENANT_ADMIN.
    pub role_type: &'static str,
    /// Whether the role is enabled (a disabled role grants nothing).
    pub status: bool,
    /// Always `null`: Weir's tenants do not expire.
    pub tenant_expire_time: Option<String>,
    /// The tenant the role belongs to (the caller's).
    pub tenant_id: String,
    /// Always `null`.
    pub tenant_profile_id: Option<String>,
    /// Always `NORMAL`.
    pub tenant_status: &'static str,
    /// ISO-8601 UTC with milliseconds.
    pub update_time: String,
    /// Always `null`: Weir does not record who last changed a role.
    pub updater: Option<String>,
    /// Weir's addition: the ids of the menus the role grants (the built-in role: all), as
    /// `save_with_menu` takes them.
    pub menu: Vec<String>,
}

impl From<RoleProfile> for RoleDto {
    fn from(p: RoleProfile) -> Self {
        let r = p.role;
        Self {
            code: r.id.to_string(),
            create_time: iso8601(r.created_at),
            creator: r.creator_id.map(|id| id.to_string()),
            default_config: None,
            description: None,
            icon: None,
            id: r.id.to_string(),
            name: r.name,
            remark: r.description,
            role_ids: None,
            role_type: r.role_type.as_str(),
            status: r.enabled,
            tenant_expire_time: None,
            tenant_id: r.tenant_id.to_string(),
            tenant_profile_id: None,
            tenant_status: TENANT_STATUS,
            update_time: iso8601(r.updated_at),
            updater: None,
            menu: p.menus.iter().map(Id::to_string).collect(),
        }
    }
}

/// An id as a client sends it: a string or an integer. Whether it names anything is
/// checked later (a malformed id is reported like an unknown one: 32).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawId(pub String);

impl<'de> Deserialize<'de> for RawId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = RawId;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an id (a string or an integer)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawId, E> {
                Ok(RawId(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawId, E> {
                Ok(RawId(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawId, E> {
                Ok(RawId(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl RawId {
    fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// The id, or 32 naming `what`.
    fn parse(&self, what: &str) -> Result<Id, ThingsKitError> {
        self.0.parse().map_err(|_| {
            ThingsKitError::not_found(format!(
                "{what} `{}` not found",
                self.0.chars().take(40).collect::<String>()
            ))
        })
    }
}

/// The ids, each parsed (32 for a malformed one), without repeats, in their order.
fn parse_ids(what: &str, raw: &[RawId]) -> Result<Vec<Id>, ThingsKitError> {
    let mut out: Vec<Id> = Vec::with_capacity(raw.len());
    for r in raw {
        let id = r.parse(what)?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// `RoleReqDto`: creates the role when `id` is absent or empty, else changes it. Absent
/// (or `null`) fields are left as they are; creating, `name` is required.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleReqDto {
    /// The role to change; absent or empty to create one.
    #[schema(value_type = Option<String>)]
    pub id: Option<RawId>,
    /// Menu ids: replaces the menus the role grants (`[]` takes them all away).
    #[schema(value_type = Option<Vec<String>>)]
    pub menu: Option<Vec<RawId>>,
    pub name: Option<String>,
    /// The role's description.
    pub remark: Option<String>,
    /// CUSTOMER_USER (the default), PLATFORM_ADMIN, SYS_ADMIN or TENANT_ADMIN; empty is
    /// absent. Informational: what a role allows comes from its menus.
    pub role_type: Option<String>,
    /// 1 enabled (the default), 0 disabled.
    pub status: Option<i64>,
}

impl RoleReqDto {
    /// The same fields from an `application/x-www-form-urlencoded` body. Menus come as
    /// repeated `menu` (or `menu[]`, `menu[0]`...) fields and/or comma-separated; `menu=`
    /// alone clears them.
    pub fn from_form(body: &[u8]) -> Result<Self, ThingsKitError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|e| {
            ThingsKitError::bad_params(format!("request body is not a valid form: {e}"))
        })?;
        let mut dto = Self::default();
        for (key, value) in pairs {
            match key.as_str() {
                "id" => dto.id = Some(RawId(value)),
                "name" => dto.name = Some(value),
                "remark" => dto.remark = Some(value),
                "roleType" => dto.role_type = Some(value),
                "status" => {
                    let v = value.trim();
                    dto.status = if v.is_empty() {
                        None
                    } else {
                        Some(v.parse().map_err(|_| {
                            ThingsKitError::bad_params(format!(
                                "status must be an integer, got `{}`",
                                v.chars().take(40).collect::<String>()
                            ))
                        })?)
                    };
                }
                k if k == "menu" || (k.starts_with("menu[") && k.ends_with(']')) => {
                    let menus = dto.menu.get_or_insert_with(Vec::new);
                    menus.extend(
                        value
                            .split(',')
                            .map(str::trim)
                            .filter(|v| !v.is_empty())
                            .map(|v| RawId(v.to_owned())),
                    );
                }
                _ => {}
            }
        }
        Ok(dto)
    }

    /// The role to change (`None`: create one) and the changes.
    pub fn into_changes(self) -> Result<(Option<Id>, RoleChanges), ThingsKitError> {
        let id = match &self.id {
            Some(raw) if !raw.is_blank() => Some(raw.parse("role")?),
            _ => None,
        };
        let role_type = match self.role_type.as_deref().map(str::trim) {
            Some(raw) if !raw.is_empty() => Some(
                RoleType::parse("roleType", raw)
                    .map_err(|e| ThingsKitError::invalid(e.to_string()))?,
            ),
            _ => None,
        };
        let menus = self
            .menu
            .as_deref()
            .map(|m| parse_ids("menu", m))
            .transpose()?;
        let changes = RoleChanges {
            name: self.name,
            description: self.remark,
            role_type,
            enabled: self.status.map(enabled_of).transpose()?,
            menus,
            ..RoleChanges::default()
        };
        Ok((id, changes))
    }
}

/// `status`: 1 enabled, 0 disabled; anything else is 30.
fn enabled_of(status: i64) -> Result<bool, ThingsKitError> {
    match status {
        1 => Ok(true),
        0 => Ok(false),
        other => Err(ThingsKitError::invalid(format!(
            "status must be 1 (enabled) or 0 (disabled), got {other}"
        ))),
    }
}

fn is_form(req: &HttpRequest) -> bool {
    req.content_type() == "application/x-www-form-urlencoded"
}

fn ok<T: Serialize>(body: &T) -> HttpResponse {
    json(StatusCode::OK, body)
}

/// Creates a role (no `id`) or changes one, granting exactly the menus in `menu` when it
/// is sent; answers the role. Takes JSON or a form (by `Content-Type`).
#[utoipa::path(
    tag = "thingskit",
    security(("bearer" = []), ("x_authorization" = [])),
    request_body(content(
        (RoleReqDto = "application/json"),
        (RoleReqDto = "application/x-www-form-urlencoded"),
    )),
    responses((status = 200, body = RoleDto, description = "the role"), Refusals)
)]
#[post("/role/save_with_menu")]
pub async fn save_with_menu(
    state: State,
    req: HttpRequest,
    AdminBody(p, body): AdminBody,
) -> Result<HttpResponse, ThingsKitError> {
    let dto = if is_form(&req) {
        RoleReqDto::from_form(&body)?
    } else {
        parse_json::<RoleReqDto>(&body)?
    };
    let (id, changes) = dto.into_changes()?;
    let role = blocking(move || match id {
        None => state.identity.create_role(&p, &changes),
        Some(id) => state.identity.change_role(&p, id, &changes),
    })
    .await??;
    Ok(ok(&RoleDto::from(role)))
}

/// Enables (`1`) or disables (`0`) a role; answers the role. The built-in role refuses (20).
#[utoipa::path(
    tag = "thingskit",
    security(("bearer" = []), ("x_authorization" = [])),
    params(
        ("roleId" = String, Path, description = "the role's id"),
        ("status" = i32, Path, minimum = 0, maximum = 1, description = "1 enables, 0 disables"),
    ),
    request_body(content = Option<Empty>, description = "None: the body is not read"),
    responses((status = 200, body = RoleDto, description = "the role"), Refusals)
)]
#[put("/role/update_status/{roleId}/{status}")]
pub async fn update_status(
    state: State,
    caller: ThingsKitCaller,
    req: HttpRequest,
) -> Result<HttpResponse, ThingsKitError> {
    let p = caller.admin()?;
    let segment = |name: &str| req.match_info().get(name).unwrap_or_default().to_owned();
    let status = segment("status");
    let status: i64 = status.trim().parse().map_err(|_| {
        ThingsKitError::bad_params(format!(
            "status must be an integer, got `{}`",
            status.chars().take(40).collect::<String>()
        ))
    })?;
    let enabled = enabled_of(status)?;
    let id = RawId(segment("roleId")).parse("role")?;
    let role = blocking(move || state.identity.set_role_enabled(&p, id, enabled)).await??;
    Ok(ok(&RoleDto::from(role)))
}

/// The ids a delete names: a JSON array (or `{"ids": [...]}`), or a form of repeated or
/// comma-separated `ids` (or `strings`) fields.
fn delete_ids(req: &HttpRequest, body: &[u8]) -> Result<Vec<RawId>, ThingsKitError> {
    if is_form(req) {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|e| {
            ThingsKitError::bad_params(format!("request body is not a valid form: {e}"))
        })?;
        return Ok(pairs
            .into_iter()
            .filter(|(k, _)| matches!(k.as_str(), "ids" | "ids[]" | "strings" | "strings[]"))
            .flat_map(|(_, v)| {
                v.split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(|v| RawId(v.to_owned()))
                    .collect::<Vec<_>>()
            })
            .collect());
    }
    let shape = || ThingsKitError::bad_params("request body must be a JSON array of role ids");
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(shape());
    }
    let items = match parse_json::<Json>(body)? {
        Json::Array(items) => items,
        Json::Object(mut o) => match o.remove("ids") {
            Some(Json::Array(items)) => items,
            _ => return Err(shape()),
        },
        _ => return Err(shape()),
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            serde_json::from_value::<RawId>(item)
                .map_err(|e| ThingsKitError::bad_params(format!("[{i}]: {e}")))
        })
        .collect()
}

/// Deletes roles, all or none: an unknown id (32), the built-in role (20) or a role that
/// still has users (30) refuses the whole batch. Answers `true`.
#[utoipa::path(
    tag = "thingskit",
    security(("bearer" = []), ("x_authorization" = [])),
    request_body(
        description = "the role ids (1 to 1000); also `{\"ids\": [...]}`, or a form of `ids` fields",
        content((Vec<String> = "application/json"))
    ),
    responses(
        (status = 200, body = bool, content_type = "application/json", description = "`true`"),
        Refusals
    )
)]
#[delete("/role")]
pub async fn delete(
    state: State,
    req: HttpRequest,
    AdminBody(p, body): AdminBody,
) -> Result<HttpResponse, ThingsKitError> {
    let ids = parse_ids("role", &delete_ids(&req, &body)?)?;
    blocking(move || state.identity.delete_roles(&p, &ids)).await??;
    Ok(ok(&true))
}

/// What the listing may be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderField {
    CreateTime,
    UpdateTime,
    Name,
    Status,
    RoleType,
}

impl OrderField {
    /// The names `orderFiled` takes (each also in snake case: `create_time`...).
    pub const NAMES: &str = "createTime, updateTime, name, status, roleType";

    pub fn parse(raw: &str) -> Result<Self, ThingsKitError> {
        Ok(match raw {
            "createTime" | "create_time" => Self::CreateTime,
            "updateTime" | "update_time" => Self::UpdateTime,
            "name" => Self::Name,
            "status" => Self::Status,
            "roleType" | "role_type" => Self::RoleType,
            other => {
                return Err(ThingsKitError::invalid(format!(
                    "orderFiled `{}` is not sortable (allowed: {})",
                    other.chars().take(40).collect::<String>(),
                    Self::NAMES
                )));
            }
        })
    }

    /// The property of a role profile page it sorts by
    /// ([`weir_identity::service::ROLE_PROFILE_SORTS`]).
    fn property(self) -> &'static str {
        match self {
            Self::CreateTime => "created_at",
            Self::UpdateTime => "updated_at",
            Self::Name => "name",
            Self::Status => "enabled",
            Self::RoleType => "role_type",
        }
    }
}

/// One page of the listing, as the query string asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// 1 or more.
    pub page: u64,
    /// 1 to the server's maximum.
    pub page_size: u64,
    pub order: OrderField,
    pub descending: bool,
}

impl ListQuery {
    /// The page in the kernel's terms; a page beyond `u32::MAX` reads as that page (as
    /// empty as any other page past the end).
    pub fn page_request(&self) -> PageRequest {
        PageRequest {
            number: u32::try_from(self.page).unwrap_or(u32::MAX),
            size: u32::try_from(self.page_size).unwrap_or(u32::MAX),
            sorts: vec![Sort {
                property: self.order.property().to_owned(),
                direction: if self.descending {
                    Direction::Desc
                } else {
                    Direction::Asc
                },
            }],
        }
    }
}

/// The query string as sent: every value a string, checked by [`ListParams::parse`].
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListParams {
    pub page: Option<String>,
    pub page_size: Option<String>,
    pub role_name: Option<String>,
    pub status: Option<String>,
    pub order_filed: Option<String>,
    pub order_type: Option<String>,
}

/// A query value, trimmed; empty is absent.
fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// An integer query parameter: 31 when it is not one.
fn integer(name: &str, raw: &str) -> Result<i64, ThingsKitError> {
    raw.parse().map_err(|_| {
        ThingsKitError::bad_params(format!(
            "{name} must be an integer, got `{}`",
            raw.chars().take(40).collect::<String>()
        ))
    })
}

/// A required positive integer: 31 missing or not an integer, 30 below 1.
fn positive(name: &str, raw: &Option<String>) -> Result<u64, ThingsKitError> {
    let raw =
        present(raw).ok_or_else(|| ThingsKitError::bad_params(format!("{name} is required")))?;
    match integer(name, raw)? {
        n if n >= 1 => Ok(n as u64),
        n => Err(ThingsKitError::invalid(format!(
            "{name} must be 1 or more, got {n}"
        ))),
    }
}

impl ListParams {
    /// The page to cut (`pageSize` capped at `max_page_size`) and the filter.
    pub fn parse(&self, max_page_size: u32) -> Result<(ListQuery, RoleFilter), ThingsKitError> {
        let page = positive("page", &self.page)?;
        let page_size = positive("pageSize", &self.page_size)?.min(u64::from(max_page_size));
        let enabled = present(&self.status)
            .map(|s| integer("status", s).and_then(enabled_of))
            .transpose()?;
        let order = present(&self.order_filed)
            .map(OrderField::parse)
            .transpose()?
            .unwrap_or(OrderField::CreateTime);
        let descending = match present(&self.order_type) {
            None => true,
            Some(t) if t.eq_ignore_ascii_case("DESC") => true,
            Some(t) if t.eq_ignore_ascii_case("ASC") => false,
            Some(t) => {
                return Err(ThingsKitError::invalid(format!(
                    "orderType must be ASC or DESC, got `{}`",
                    t.chars().take(40).collect::<String>()
                )));
            }
        };
        let filter = RoleFilter {
            global_only: false,
            name_contains: present(&self.role_name).map(str::to_owned),
            enabled,
        };
        Ok((
            ListQuery {
                page,
                page_size,
                order,
                descending,
            },
            filter,
        ))
    }
}

/// One page of roles.
#[derive(Debug, Serialize, ToSchema)]
pub struct RolePage {
    pub items: Vec<RoleDto>,
    /// How many roles pass the filters, in all pages.
    pub total: i64,
}

/// The tenant's roles, paged: `page` (from 1) and `pageSize` (capped at the server's
/// maximum page size, 1000 by default) are required; `roleName` filters by a part of the
/// name (case-insensitive) and `status` by 1 enabled or 0 disabled; ordered by
/// `orderFiled` (createTime by default) `orderType` (DESC by default).
#[utoipa::path(
    tag = "thingskit",
    security(("bearer" = []), ("x_authorization" = [])),
    params(
        ("page" = i32, Query, description = "the page, from 1"),
        ("pageSize" = i32, Query, description = "1 or more; capped at the maximum page size (1000 by default)"),
        ("roleName" = Option<String>, Query, description = "only roles whose name contains this (case-insensitive)"),
        ("status" = Option<i32>, Query, description = "1 enabled, 0 disabled"),
        ("orderFiled" = Option<String>, Query, description = "createTime (default), updateTime, name, status or roleType"),
        ("orderType" = Option<String>, Query, description = "ASC or DESC (default)"),
    ),
    responses((status = 200, body = RolePage, description = "one page of roles"), Refusals)
)]
#[get("/role")]
pub async fn list(
    state: State,
    caller: ThingsKitCaller,
    req: HttpRequest,
) -> Result<HttpResponse, ThingsKitError> {
    let p = caller.admin()?;
    let params: ListParams = serde_urlencoded::from_str(req.query_string())
        .map_err(|e| ThingsKitError::bad_params(format!("query string: {e}")))?;
    let max = state.identity.settings().max_page_size;
    let (query, filter) = params.parse(max)?;
    let page = query.page_request();
    let page = blocking(move || state.identity.role_profile_page(&p, &filter, &page)).await??;
    Ok(ok(&RolePage {
        items: page.content.into_iter().map(RoleDto::from).collect(),
        total: page.total,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(order: OrderField, descending: bool, page: u64, page_size: u64) -> ListQuery {
        ListQuery {
            page,
            page_size,
            order,
            descending,
        }
    }

    #[test]
    fn asks_for_the_page_in_the_kernels_terms() {
        let p = query(OrderField::Status, false, 3, 20).page_request();
        assert_eq!((p.number, p.size, p.offset()), (3, 20, 40));
        assert_eq!(
            p.sorts,
            [Sort {
                property: "enabled".into(),
                direction: Direction::Asc,
            }]
        );
        let p = query(OrderField::Name, true, u64::MAX, 10).page_request();
        assert_eq!(
            (p.number, p.sorts[0].direction),
            (u32::MAX, Direction::Desc)
        );
    }

    fn params(pairs: &[(&str, &str)]) -> ListParams {
        serde_urlencoded::from_str(&serde_urlencoded::to_string(pairs).unwrap()).unwrap()
    }

    #[test]
    fn parses_the_query() {
        let (q, f) = params(&[
            ("page", "2"),
            ("pageSize", "5000"),
            ("roleName", " op "),
            ("status", "0"),
            ("orderFiled", "name"),
            ("orderType", "asc"),
        ])
        .parse(1000)
        .unwrap();
        assert_eq!(q, query(OrderField::Name, false, 2, 1000));
        assert_eq!(
            (f.name_contains.as_deref(), f.enabled),
            (Some("op"), Some(false))
        );
        let (q, f) = params(&[("page", "1"), ("pageSize", "10"), ("status", "")])
            .parse(1000)
            .unwrap();
        assert_eq!(q, query(OrderField::CreateTime, true, 1, 10));
        assert_eq!(f.enabled, None);
    }

    #[test]
    fn refuses_bad_query_values() {
        let code = |pairs: &[(&str, &str)]| params(pairs).parse(1000).unwrap_err().code.number();
        assert_eq!(code(&[("pageSize", "10")]), 31);
        assert_eq!(code(&[("page", "x"), ("pageSize", "10")]), 31);
        assert_eq!(code(&[("page", "0"), ("pageSize", "10")]), 30);
        assert_eq!(code(&[("page", "1"), ("pageSize", "-1")]), 30);
        assert_eq!(
            code(&[("page", "1"), ("pageSize", "1"), ("status", "7")]),
            30
        );
        assert_eq!(
            code(&[("page", "1"), ("pageSize", "1"), ("status", "y")]),
            31
        );
        assert_eq!(
            code(&[("page", "1"), ("pageSize", "1"), ("orderFiled", "color")]),
            30
        );
        assert_eq!(
            code(&[("page", "1"), ("pageSize", "1"), ("orderType", "UP")]),
            30
        );
    }

    #[test]
    fn reads_forms_like_json() {
        let dto = RoleReqDto::from_form(
            b"name=ops&remark=r&roleType=TENANT_ADMIN&status=0&menu=1&menu=2,3&menu%5B%5D=4",
        )
        .unwrap();
        let (id, c) = dto.into_changes().unwrap();
        assert_eq!(id, None);
        assert_eq!(c.name.as_deref(), Some("ops"));
        assert_eq!(c.description.as_deref(), Some("r"));
        assert_eq!(c.role_type, Some(RoleType::TenantAdmin));
        assert_eq!(c.enabled, Some(false));
        assert_eq!(c.menus, Some(vec![Id(1), Id(2), Id(3), Id(4)]));
        let (_, c) = RoleReqDto::from_form(b"id=7&menu=")
            .unwrap()
            .into_changes()
            .unwrap();
        assert_eq!(c.menus, Some(vec![]));
        assert_eq!(
            RoleReqDto::from_form(b"status=on")
                .unwrap_err()
                .code
                .number(),
            31
        );
    }

    #[test]
    fn checks_the_request_values() {
        let code = |json: &str| {
            serde_json::from_str::<RoleReqDto>(json)
                .unwrap()
                .into_changes()
                .unwrap_err()
                .code
                .number()
        };
        assert_eq!(code(r#"{"roleType": "KING"}"#), 30);
        assert_eq!(code(r#"{"status": 7}"#), 30);
        assert_eq!(code(r#"{"id": "abc"}"#), 32);
        assert_eq!(code(r#"{"menu": ["1", "x"]}"#), 32);
        let (id, c) = serde_json::from_str::<RoleReqDto>(
            r#"{"id": "", "menu": [5, "5", "6"], "roleType": "", "status": 1}"#,
        )
        .unwrap()
        .into_changes()
        .unwrap();
        assert_eq!(id, None);
        assert_eq!(c.menus, Some(vec![Id(5), Id(6)]));
        assert_eq!((c.role_type, c.enabled), (None, Some(true)));
    }
}
