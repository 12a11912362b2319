//! Answer shapes shared by several native endpoints.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use weir_identity::service::SearchQuery;
use weir_identity::{Menu, Role};
use weir_kernel::{Direction, Id, Millis, Page, Sort};

use crate::openapi::IdText;

/// A role as listed with a user.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleRef {
    #[schema(value_type = IdText)]
    pub role_id: Id,
    pub role_name: String,
}

impl From<&Role> for RoleRef {
    fn from(r: &Role) -> Self {
        Self {
            role_id: r.id,
            role_name: r.name.clone(),
        }
    }
}

/// A menu or function code.
#[derive(Debug, Serialize, ToSchema)]
pub struct MenuDto {
    #[schema(value_type = IdText)]
    pub menu_id: Id,
    pub code: String,
    pub name: String,
    /// `MENU` or `FUNCTION`.
    #[serde(rename = "type")]
    pub menu_type: &'static str,
    /// Absent on root menus.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<IdText>)]
    pub parent_id: Option<Id>,
}

impl From<&Menu> for MenuDto {
    fn from(m: &Menu) -> Self {
        Self {
            menu_id: m.id,
            code: m.code.clone(),
            name: m.name.clone(),
            menu_type: m.menu_type.as_str(),
            parent_id: m.parent_id,
        }
    }
}

/// One page of a search.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageDto<T> {
    pub page_number: u32,
    pub page_size: u32,
    pub total: i64,
    pub content: Vec<T>,
}

impl<T> PageDto<T> {
    pub fn from_page<U>(page: Page<U>, f: impl FnMut(U) -> T) -> Self {
        let page = page.map(f);
        Self {
            page_number: page.page_number,
            page_size: page.page_size,
            total: page.total,
            content: page.content,
        }
    }
}

/// A list as the seed document has it (`{keyword}`) or a page of it as the web console asks
/// (`{keyword, page_number, page_size}`); a value for `page_number` or `page_size` asks for
/// the page.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ListRequest {
    /// Matched, case-insensitively, as a substring.
    pub keyword: Option<String>,
    /// From 1; default 1. Asks for a page.
    pub page_number: Option<i64>,
    /// Default 10; capped at the configured maximum. Asks for a page.
    pub page_size: Option<i64>,
}

/// What a [`ListRequest`] asks for.
#[derive(Debug)]
pub enum Listing {
    /// The whole list, filtered by the keyword.
    All(Option<String>),
    /// One page of it.
    Page(SearchQuery),
}

impl ListRequest {
    pub fn listing(self) -> Listing {
        if self.page_number.is_some() || self.page_size.is_some() {
            Listing::Page(page_query(self.keyword, self.page_number, self.page_size))
        } else {
            Listing::All(self.keyword)
        }
    }
}

/// The answer to a [`ListRequest`]: the plain list, or the page asked for.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Listed<T> {
    List(Vec<T>),
    Page(PageDto<T>),
}

impl<T> Listed<T> {
    /// The listed items (those of the page, when paged).
    pub fn items(&self) -> &[T] {
        match self {
            Self::List(items) => items,
            Self::Page(page) => &page.content,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Listed<U> {
        match self {
            Self::List(items) => Listed::List(items.into_iter().map(f).collect()),
            Self::Page(page) => Listed::Page(PageDto {
                page_number: page.page_number,
                page_size: page.page_size,
                total: page.total,
                content: page.content.into_iter().map(f).collect(),
            }),
        }
    }
}

/// One ordering term of a search.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SortDto {
    pub property: String,
    /// `ASC` or `DESC`.
    #[schema(value_type = String)]
    pub direction: Direction,
}

/// The paging part of a search request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SearchRequest {
    /// Matched, case-insensitively, as a substring.
    pub keyword: Option<String>,
    /// From 1; default 1.
    pub page_number: Option<i64>,
    /// Default 10; capped at the configured maximum.
    pub page_size: Option<i64>,
    #[serde(default)]
    pub sorts: Vec<SortDto>,
}

impl SearchRequest {
    pub fn into_query(self) -> SearchQuery {
        SearchQuery {
            keyword: self.keyword,
            page_number: self.page_number,
            page_size: self.page_size,
            sorts: self
                .sorts
                .into_iter()
                .map(|s| Sort {
                    property: s.property,
                    direction: s.direction,
                })
                .collect(),
        }
    }
}

/// A search of the keyword and page a request names, in the store's order: what the
/// endpoints without sorts ask of a use-case.
pub fn page_query(
    keyword: Option<String>,
    page_number: Option<i64>,
    page_size: Option<i64>,
) -> SearchQuery {
    SearchQuery {
        keyword,
        page_number,
        page_size,
        sorts: Vec::new(),
    }
}

/// A new account: the tenant's first user registering, or a member an admin adds.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewAccountRequest {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// 1 to 64 characters.
    #[schema(min_length = 1, max_length = 64)]
    pub nickname: String,
    /// 8 to 64 characters.
    #[schema(min_length = 8, max_length = 64)]
    pub password: String,
}

/// A `keyword` filter.
#[derive(Debug, Default, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct KeywordRequest {
    pub keyword: Option<String>,
}

/// The answer of a create: the new object's id.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    #[schema(value_type = IdText)]
    pub id: Id,
}

/// Times are epoch milliseconds.
pub type Time = Millis;
