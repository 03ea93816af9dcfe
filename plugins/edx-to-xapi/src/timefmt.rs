//! Statement timestamps: ERB hands the event's time text to tincan, which parses it as an
//! ISO 8601 date-time (a time zone is required) and writes it back as Python's `isoformat()`
//! does: `2023-08-22T20:16:25.500832Z` becomes `2023-08-22T20:16:25.500832+00:00`.

/// The `isoformat()` text of an ISO 8601 date-time, or `None` when it is not one or has no
/// time zone (tincan refuses naive times).
pub(crate) fn isoformat(text: &str) -> Option<String> {
    let (date, rest) = text.split_once('T')?;
    let date = parse_date(date)?;
    let tz_start = rest.find(['Z', 'z', '+', '-'])?;
    let (time, zone) = rest.split_at(tz_start);
    let (hour, minute, second, micros) = parse_time(time)?;
    let offset = parse_zone(zone)?;
    let mut out = format!("{date}T{hour:02}:{minute:02}:{second:02}");
    if micros != 0 {
        out.push_str(&format!(".{micros:06}"));
    }
    out.push_str(&offset);
    Some(out)
}

/// `YYYY-MM-DD`, checked.
fn parse_date(text: &str) -> Option<String> {
    let mut parts = text.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    let (y, m, d): (u32, u32, u32) = (digits(year)?, digits(month)?, digits(day)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if y == 0 || d == 0 || d > days_in_month {
        return None;
    }
    Some(text.to_string())
}

/// `HH:MM[:SS[.fraction]]` as hour, minute, second, microseconds (extra digits truncated).
fn parse_time(text: &str) -> Option<(u32, u32, u32, u32)> {
    let (clock, fraction) = match text.split_once(['.', ',']) {
        Some((clock, fraction)) => (clock, Some(fraction)),
        None => (text, None),
    };
    let mut parts = clock.split(':');
    let (hour, minute) = (parts.next()?, parts.next()?);
    let second = parts.next();
    if parts.next().is_some() || hour.len() != 2 || minute.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (digits(hour)?, digits(minute)?);
    let s: u32 = match second {
        Some(s) if s.len() == 2 => digits(s)?,
        Some(_) => return None,
        None if fraction.is_some() => return None,
        None => 0,
    };
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    let micros = match fraction {
        None => 0,
        Some(f) if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) => return None,
        Some(f) => {
            let six: String = f.chars().chain("000000".chars()).take(6).collect();
            digits(&six)?
        }
    };
    Some((h, m, s, micros))
}

/// `Z`, `±HH:MM`, `±HHMM` or `±HH` as Python writes an offset (`+00:00` for UTC).
fn parse_zone(text: &str) -> Option<String> {
    if text.eq_ignore_ascii_case("z") {
        return Some("+00:00".into());
    }
    let (sign, rest) = text.split_at(1);
    let (hours, minutes) = match rest.len() {
        2 => (rest, "00"),
        4 => rest.split_at(2),
        5 if rest.as_bytes()[2] == b':' => (&rest[..2], &rest[3..]),
        _ => return None,
    };
    let (h, m): (u32, u32) = (digits(hours)?, digits(minutes)?);
    if h > 23 || m > 59 {
        return None;
    }
    let sign = if h == 0 && m == 0 { "+" } else { sign };
    Some(format!("{sign}{h:02}:{m:02}"))
}

/// The value of a run of ASCII digits.
fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::isoformat;

    #[test]
    fn utc_times_keep_their_microseconds_and_get_a_numeric_offset() {
        assert_eq!(
            isoformat("2023-08-22T20:16:25.500832Z").as_deref(),
            Some("2023-08-22T20:16:25.500832+00:00")
        );
        assert_eq!(
            isoformat("2020-07-15T06:36:01.917775+00:00").as_deref(),
            Some("2020-07-15T06:36:01.917775+00:00")
        );
    }

    #[test]
    fn fractions_are_padded_truncated_or_dropped_as_python_does() {
        assert_eq!(
            isoformat("2024-01-02T03:04:05.5-0530").as_deref(),
            Some("2024-01-02T03:04:05.500000-05:30")
        );
        assert_eq!(
            isoformat("2024-01-02T03:04:05.1234567+01").as_deref(),
            Some("2024-01-02T03:04:05.123456+01:00")
        );
        assert_eq!(
            isoformat("2024-01-02T03:04:05.000+00:00").as_deref(),
            Some("2024-01-02T03:04:05+00:00")
        );
    }

    #[test]
    fn naive_or_malformed_times_are_refused() {
        assert_eq!(isoformat("2024-01-02T03:04:05"), None);
        assert_eq!(isoformat("2024-02-30T03:04:05Z"), None);
        assert_eq!(isoformat("yesterday"), None);
    }
}
