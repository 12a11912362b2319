//! Paging as the native API has it: `page_number` from 1, `page_size`, optional `sorts`.

use serde::{Deserialize, Serialize};

/// Which way a [`Sort`] orders: `ASC` or `DESC` (lower case accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Direction {
    /// Smallest first.
    #[serde(alias = "asc")]
    Asc,
    /// Largest first.
    #[serde(alias = "desc")]
    Desc,
}

/// One ordering term; `property` is checked against what the use-case can sort by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sort {
    /// The field to order by, as the API names it.
    pub property: String,
    /// Which way.
    pub direction: Direction,
}

/// A validated page request: `number` >= 1 and `size` within the configured maximum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// The page, from 1.
    pub number: u32,
    /// Rows a page.
    pub size: u32,
    /// Ordering terms, first the strongest.
    pub sorts: Vec<Sort>,
}

/// Why a page request is refused; the message names the field.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PageRequestError {
    /// `page_number` below 1.
    #[error("page_number must be 1 or more")]
    Number,
    /// `page_size` below 1.
    #[error("page_size must be 1 or more")]
    Size,
    /// The search keyword breaks a rule of [`crate::text::keyword`].
    #[error("keyword {0}")]
    Keyword(#[from] crate::text::KeywordError),
    /// A sort names a property the use-case cannot sort by.
    #[error("sorts[{index}].property `{property}` is not sortable here (allowed: {allowed})")]
    Property {
        /// Which sort, from 0.
        index: usize,
        /// What it named (cut to 64 characters).
        property: String,
        /// What may be named, comma-separated.
        allowed: String,
    },
}

/// Default size of a page when the client names none.
pub const DEFAULT_PAGE_SIZE: u32 = 10;

impl PageRequest {
    /// Builds a request from what a client sent. A `page_size` above `max_size` is capped,
    /// as the reference product does; zero or negative values are refused.
    pub fn new(
        number: Option<i64>,
        size: Option<i64>,
        sorts: Vec<Sort>,
        max_size: u32,
        sortable: &[&str],
    ) -> Result<Self, PageRequestError> {
        let number = match number {
            None => 1,
            Some(n) if n >= 1 => n.min(u32::MAX as i64) as u32,
            Some(_) => return Err(PageRequestError::Number),
        };
        let size = match size {
            None => DEFAULT_PAGE_SIZE.min(max_size),
            Some(n) if n >= 1 => n.min(max_size as i64) as u32,
            Some(_) => return Err(PageRequestError::Size),
        };
        for (index, sort) in sorts.iter().enumerate() {
            if !sortable.contains(&sort.property.as_str()) {
                return Err(PageRequestError::Property {
                    index,
                    property: sort.property.chars().take(64).collect(),
                    allowed: sortable.join(", "),
                });
            }
        }
        Ok(Self {
            number,
            size,
            sorts,
        })
    }

    /// Rows before the page; saturates, so a page far past the end reads as empty.
    pub fn offset(&self) -> i64 {
        (i64::from(self.number) - 1).saturating_mul(i64::from(self.size))
    }

    /// Rows to read: the page size.
    pub fn limit(&self) -> i64 {
        self.size as i64
    }
}

/// A search as clients send it: a keyword and raw paging values. Use-cases check the
/// paging after the caller's permission, so a caller who may not search learns nothing from
/// a bad page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// Matched as the use-case says (usually a case-insensitive substring of the name).
    pub keyword: Option<String>,
    /// As sent; checked by [`SearchQuery::page`].
    pub page_number: Option<i64>,
    /// As sent; checked by [`SearchQuery::page`].
    pub page_size: Option<i64>,
    /// As sent; checked by [`SearchQuery::page`].
    pub sorts: Vec<Sort>,
}

impl SearchQuery {
    /// The trimmed keyword, if any.
    pub fn keyword(&self) -> Option<&str> {
        self.keyword
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
    }

    /// The page to read, checked against the maximum size and what may be sorted on; the
    /// keyword is checked here too ([`crate::text::keyword`]), so every search refuses the
    /// same keywords.
    pub fn page(&self, max_size: u32, sortable: &[&str]) -> Result<PageRequest, PageRequestError> {
        crate::text::keyword(self.keyword.as_deref())?;
        PageRequest::new(
            self.page_number,
            self.page_size,
            self.sorts.clone(),
            max_size,
            sortable,
        )
    }
}

/// One page of results with the total count of matches.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    /// The page, from 1.
    pub page_number: u32,
    /// Rows a page (the last page may hold fewer).
    pub page_size: u32,
    /// Matches in all pages.
    pub total: i64,
    /// This page's rows.
    pub content: Vec<T>,
}

impl<T> Page<T> {
    /// The page `req` asked for, holding `content` of `total` matches.
    pub fn new(req: &PageRequest, total: i64, content: Vec<T>) -> Self {
        Self {
            page_number: req.number,
            page_size: req.size,
            total,
            content,
        }
    }

    /// The page `req` names of a whole list held in memory, for use-cases whose lists are
    /// short enough to be read whole and cut.
    pub fn cut(req: &PageRequest, all: Vec<T>) -> Self {
        let total = i64::try_from(all.len()).unwrap_or(i64::MAX);
        let skip = usize::try_from(req.offset()).unwrap_or(usize::MAX);
        let content = all.into_iter().skip(skip).take(req.size as usize).collect();
        Self::new(req, total, content)
    }

    /// The same page with each row turned into another type.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            page_number: self.page_number,
            page_size: self.page_size,
            total: self.total,
            content: self.content.into_iter().map(f).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_is_capped_and_zero_refused() {
        let p = PageRequest::new(Some(2), Some(5000), vec![], 100, &[]).unwrap();
        assert_eq!((p.number, p.size, p.offset()), (2, 100, 100));
        assert_eq!(
            PageRequest::new(Some(0), None, vec![], 100, &[]),
            Err(PageRequestError::Number)
        );
        assert_eq!(
            PageRequest::new(None, Some(0), vec![], 100, &[]),
            Err(PageRequestError::Size)
        );
    }
}
