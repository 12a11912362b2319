//! Text that no backend can store (the NUL character, U+0000) is refused before any handler
//! sees it, the same way in every dialect: in the path and the query string by
//! [`uri_refusal`] (which the app's middleware calls, answering in the dialect of the path),
//! in bodies by [`body_field`], which `read_body` (through which every dialect reads its
//! bodies) calls. The rule itself is `weir_kernel::text`; this module only finds where a
//! request carries NUL, and names the field.
//!
//! Finding it costs a scan for three byte patterns; only a body that holds one is parsed
//! again to name the field.

use memchr::memmem;
use serde_json::Value as Json;
use weir_kernel::text::{NUL_REFUSED, nul_path, storable};

use super::refusal::Refusal;

/// The refusal of text holding NUL in `field`: a request that cannot be read (400 with the
/// dialect's validation code).
pub fn refusal(field: &str) -> Refusal {
    Refusal::malformed(format!("{field}: {NUL_REFUSED}"))
}

/// The field of a request body that carries NUL, if any: a JSON path (`items[1].name`), a
/// form field's name, or `request body` when it is neither.
pub fn body_field(bytes: &[u8]) -> Option<String> {
    let escaped = memmem::find(bytes, br"\u0000").is_some();
    let encoded = memmem::find(bytes, b"%00").is_some();
    let raw = memchr::memchr(0, bytes).is_some();
    if !(escaped || encoded || raw) {
        return None;
    }
    if let Ok(json) = serde_json::from_slice::<Json>(bytes) {
        // `%00` in a JSON string is three characters of text, not NUL.
        return nul_path(&json).map(|p| if p == "." { "request body".into() } else { p });
    }
    if (encoded || raw)
        && let Some(name) = form_field(bytes, "request body")
    {
        return Some(name);
    }
    raw.then(|| "request body".into())
}

/// The name of the first form (or query string) field whose value holds NUL; `whole` when
/// a name itself does.
fn form_field(bytes: &[u8], whole: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).ok()?;
    pairs.into_iter().find_map(|(name, value)| {
        if !storable(&name) {
            Some(whole.to_owned())
        } else {
            (!storable(&value)).then_some(name)
        }
    })
}

/// Where the URI carries NUL: `path`, or the name of a query parameter.
fn uri_field(path: &str, query: &str) -> Option<String> {
    if memmem::find(path.as_bytes(), b"%00").is_some() || !storable(path) {
        return Some("path".into());
    }
    memmem::find(query.as_bytes(), b"%00")?;
    form_field(query.as_bytes(), "query string").or_else(|| Some("query string".into()))
}

/// The refusal of a request whose path or query string carries NUL.
pub fn uri_refusal(path: &str, query: &str) -> Option<Refusal> {
    uri_field(path, query).map(|field| refusal(&field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_name_the_field() {
        assert_eq!(body_field(br#"{"keyword":"lamp"}"#), None);
        assert_eq!(
            body_field(br#"{"keyword":"a\u0000b"}"#),
            Some("keyword".into())
        );
        assert_eq!(
            body_field(br#"{"values":{"note":["x","\u0000"]}}"#),
            Some("values.note[1]".into())
        );
        // Text that only looks like NUL.
        assert_eq!(body_field(br#"{"url":"http://x/%00","p":"\\u0000"}"#), None);
        assert_eq!(body_field(br#""\u0000""#), Some("request body".into()));
    }

    #[test]
    fn forms_and_raw_bytes_name_the_field() {
        assert_eq!(
            body_field(b"grant_type=password&username=a%00b"),
            Some("username".into())
        );
        assert_eq!(body_field(b"a=1&b=2"), None);
        assert_eq!(body_field(b"{\"a\":\"\0\"}"), Some("request body".into()));
    }

    #[test]
    fn uris_name_the_path_or_the_parameter() {
        assert_eq!(uri_field("/api/v1/user", "keyword=x"), None);
        assert_eq!(uri_field("/api/v1/entity/a%00b", ""), Some("path".into()));
        assert_eq!(
            uri_field("/api/v1/user/roles", "keyword=a%00"),
            Some("keyword".into())
        );
    }
}
