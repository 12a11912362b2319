//! Rules for text that clients send, shared by every domain and dialect.
//!
//! - **NUL.** PostgreSQL cannot store the NUL character (U+0000) in text, and no client has a
//!   reason to send one. Text holding it is refused everywhere, on both backends alike, so the
//!   answer does not depend on where Weir keeps its data. [`nul_path`] finds it in a JSON
//!   document (values and member names), naming the field.
//! - **Search keywords** are at most [`MAX_KEYWORD_CHARS`] characters: a keyword becomes a
//!   `LIKE` pattern, and SQLite refuses patterns longer than 50,000 bytes.

use serde_json::Value as Json;

/// The longest search keyword accepted, in characters.
pub const MAX_KEYWORD_CHARS: usize = 256;

/// Why text holding NUL is refused, as messages say it after the field's name.
pub const NUL_REFUSED: &str = "must not contain the NUL character (U+0000)";

/// Whether `text` may be stored: it holds no NUL character.
pub fn storable(text: &str) -> bool {
    !text.contains('\0')
}

/// The path of the first string in `value` that holds NUL, or of the first object whose
/// member name does: `keyword`, `values.temp`, `items[2].name`; `.` for the document itself.
pub fn nul_path(value: &Json) -> Option<String> {
    fn walk(value: &Json, path: &mut String) -> bool {
        match value {
            Json::String(s) => !storable(s),
            Json::Array(items) => items.iter().enumerate().any(|(i, item)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            Json::Object(members) => members.iter().any(|(name, item)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                // A bad member name is shown without its NUL, so the message stays readable.
                path.push_str(&name.replace('\0', "\u{FFFD}"));
                let found = !storable(name) || walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            _ => false,
        }
    }
    let mut path = String::new();
    walk(value, &mut path).then(|| if path.is_empty() { ".".into() } else { path })
}

/// Why a search keyword is refused; the message follows the field's name (`keyword`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeywordError {
    /// Longer than [`MAX_KEYWORD_CHARS`].
    #[error("must be at most {MAX_KEYWORD_CHARS} characters")]
    TooLong,
    /// Holds NUL.
    #[error("{NUL_REFUSED}")]
    Nul,
}

/// The trimmed keyword of a search, `None` when it is absent or blank; refused when it is
/// longer than [`MAX_KEYWORD_CHARS`] or holds NUL.
pub fn keyword(raw: Option<&str>) -> Result<Option<&str>, KeywordError> {
    let Some(k) = raw.map(str::trim).filter(|k| !k.is_empty()) else {
        return Ok(None);
    };
    if k.chars().count() > MAX_KEYWORD_CHARS {
        return Err(KeywordError::TooLong);
    }
    if !storable(k) {
        return Err(KeywordError::Nul);
    }
    Ok(Some(k))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn nul_is_found_in_values_and_member_names() {
        assert_eq!(nul_path(&json!({"a": "ok", "b": 1})), None);
        assert_eq!(
            nul_path(&json!({"keyword": "a\u{0}b"})),
            Some("keyword".into())
        );
        assert_eq!(
            nul_path(&json!({"items": [{"name": "x"}, {"name": "\u{0}"}]})),
            Some("items[1].name".into())
        );
        assert_eq!(
            nul_path(&json!({"values": {"t\u{0}": 1}})),
            Some("values.t\u{FFFD}".into())
        );
        assert_eq!(nul_path(&json!(["\u{0}"])), Some("[0]".into()));
        assert_eq!(nul_path(&json!("\u{0}")), Some(".".into()));
    }

    #[test]
    fn keywords_are_trimmed_and_bounded() {
        assert_eq!(keyword(None), Ok(None));
        assert_eq!(keyword(Some("  ")), Ok(None));
        assert_eq!(keyword(Some(" lamp ")), Ok(Some("lamp")));
        let longest = "é".repeat(MAX_KEYWORD_CHARS);
        assert_eq!(keyword(Some(&longest)), Ok(Some(longest.as_str())));
        let long = "a".repeat(MAX_KEYWORD_CHARS + 1);
        assert_eq!(keyword(Some(&long)), Err(KeywordError::TooLong));
        assert_eq!(keyword(Some("a\u{0}")), Err(KeywordError::Nul));
    }
}
