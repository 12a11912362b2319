//! Small pieces every repository's queries share.

use weir_kernel::Id;

/// `%keyword%` for LIKE, case-folded like the stored `*_folded` columns, with LIKE's
/// wildcards escaped by `\`.
pub(crate) fn contains_pattern(keyword: &str) -> String {
    let mut p = String::from("%");
    for ch in keyword.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// Ids as the column values they are stored as.
pub(crate) fn ids(v: &[Id]) -> Vec<i64> {
    v.iter().map(|i| i.get()).collect()
}
