//! Times as the dialects write them: epoch milliseconds formatted in UTC by jiff.

use weir_kernel::Millis;

/// `ms` in UTC with a strftime `format` (`%Y-%m-%d %H:%M:%S%.3f`); an instant outside
/// jiff's range (years beyond ±9999) is written as an empty string.
pub fn utc(ms: Millis, format: &str) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime(format).to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn formats_in_utc_with_milliseconds() {
        let f = "%Y-%m-%dT%H:%M:%S%.3fZ";
        assert_eq!(utc(0, f), "1970-01-01T00:00:00.000Z");
        assert_eq!(utc(951_782_400_000, f), "2000-02-29T00:00:00.000Z");
        assert_eq!(utc(-1, f), "1969-12-31T23:59:59.999Z");
        assert_eq!(
            utc(1_795_000_000_123, "%Y-%m-%d %H:%M:%S"),
            "2026-11-18 11:06:40"
        );
    }
}
