//! The LRS's own timestamps written as text: `stored` values and header dates. (Reading the
//! clock is the store's: this crate does no I/O.)

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// An instant as the RFC 3339 UTC string the LRS writes (`2026-11-23T10:00:00.123456Z`).
pub fn format_micros(micros: i64) -> String {
    to_datetime(micros).to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// An instant as an HTTP date (for `Last-Modified`).
pub fn http_date(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000).max(0) as u64;
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// A client's timestamp with a non-UTC offset as the same instant in UTC, keeping the fraction
/// of a second as sent (`2023-05-04T12:00:00.5-05:00` → `2023-05-04T17:00:00.5Z`); None when
/// it is already in UTC (`Z`) or not a timestamp (xAPI Data 4.5: the LRS SHOULD return UTC).
pub fn timestamp_in_utc(timestamp: &str) -> Option<String> {
    if timestamp.ends_with(['Z', 'z']) {
        return None;
    }
    let instant = crate::validate::parse_timestamp(timestamp)?;
    let rest = timestamp.get(19..)?;
    let fraction_len = match rest.strip_prefix('.') {
        Some(digits) => 1 + digits.bytes().take_while(u8::is_ascii_digit).count(),
        None => 0,
    };
    Some(format!(
        "{}{}Z",
        instant.format("%Y-%m-%dT%H:%M:%S"),
        &rest[..fraction_len]
    ))
}

fn to_datetime(micros: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(micros)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_are_utc_with_microseconds() {
        assert_eq!(
            format_micros(1_700_000_000_123_456),
            "2023-11-14T22:13:20.123456Z"
        );
    }

    #[test]
    fn timestamps_with_an_offset_become_the_same_instant_in_utc() {
        for (sent, utc) in [
            ("2023-05-04T12:00:00-05:00", "2023-05-04T17:00:00Z"),
            ("2023-05-04T12:00:00.120-05:00", "2023-05-04T17:00:00.120Z"),
            (
                "2023-05-04T01:30:00.1234567+02:00",
                "2023-05-03T23:30:00.1234567Z",
            ),
            ("2023-12-31T23:00:00+0100", "2023-12-31T22:00:00Z"),
            ("2023-05-04T12:00:00+00:00", "2023-05-04T12:00:00Z"),
        ] {
            assert_eq!(timestamp_in_utc(sent).as_deref(), Some(utc), "{sent}");
        }
        assert_eq!(timestamp_in_utc("2023-05-04T12:00:00.000Z"), None);
        assert_eq!(timestamp_in_utc("yesterday"), None);
    }
}
