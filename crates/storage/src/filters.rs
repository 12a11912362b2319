//! Small pieces every repository's queries share.

use weir_kernel::Id;

/// `%keyword%` for LIKE, case-folded like the stored `*_folded` columns, with LIKE's
/// wildcards escaped by `\`.
pub(crate) fn contains_pattern(keyword: &str) -> String {
    format!("%{}%", escape_like(&keyword.to_lowercase()))
}

/// A search keyword, trimmed; `None` when there is none or it is blank.
pub(crate) fn keyword(k: Option<&str>) -> Option<&str> {
    k.map(str::trim).filter(|k| !k.is_empty())
}

/// `text` with LIKE's wildcards escaped by `\`, matching itself only.
pub(crate) fn escape_like(text: &str) -> String {
    let mut p = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p
}

/// Ids as the column values they are stored as.
pub(crate) fn ids(v: &[Id]) -> Vec<i64> {
    v.iter().map(|i| i.get()).collect()
}
