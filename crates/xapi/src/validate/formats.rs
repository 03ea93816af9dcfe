//! The formats of xAPI values: IRIs, UUIDs, language tags, ISO 8601 timestamps and durations.

use chrono::{DateTime, Utc};

/// True for a well-formed RFC 5646 language tag (structure, not registry membership).
pub fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let Some(primary) = parts.next() else {
        return false;
    };
    let primary_ok = (primary.len() >= 2
        && primary.len() <= 8
        && primary.chars().all(|c| c.is_ascii_alphabetic()))
        || ((primary == "i" || primary == "x") && tag.len() > 2);
    primary_ok
        && parts
            .all(|p| !p.is_empty() && p.len() <= 8 && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Parses an ISO 8601 / RFC 3339 timestamp with a time zone; None if not acceptable. `-00:00`
/// (RFC 3339's "unknown offset") is refused, as xAPI 2.0 requires.
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    if s.ends_with("-00:00") || s.ends_with("-0000") || s.ends_with("-00") {
        return None;
    }
    // ISO 8601 separates date and time with `T` (RFC 3339 also allows `t`); chrono would
    // accept a space too.
    if !matches!(s.as_bytes().get(10), Some(b'T' | b't')) {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    // ISO 8601 forms RFC 3339 lacks: basic offsets (+0100), hour-only offsets (+01).
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(s, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    None
}

/// True if s is an ISO 8601 duration as xAPI allows (e.g. "PT1H30M", "P1DT2.5S", "P4W").
pub fn is_duration(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('P') else {
        return false;
    };
    if let Some(weeks) = rest.strip_suffix('W') {
        return is_number(weeks);
    }
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => {
            if t.is_empty() {
                return false;
            }
            (d, Some(t))
        }
        None => (rest, None),
    };
    let mut any = false;
    let mut check = |part: &str, units: &[char]| -> bool {
        let mut number = String::new();
        let mut next_unit = 0;
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' || c == ',' {
                number.push(c);
                continue;
            }
            let Some(pos) = units[next_unit..].iter().position(|u| *u == c) else {
                return false;
            };
            if !is_number(&number) {
                return false;
            }
            number.clear();
            next_unit += pos + 1;
            any = true;
        }
        number.is_empty()
    };
    check(date, &['Y', 'M', 'D']) && time.is_none_or(|t| check(t, &['H', 'M', 'S'])) && any
}

fn is_number(s: &str) -> bool {
    let s = s.replace(',', ".");
    !s.is_empty() && s.parse::<f64>().is_ok() && !s.starts_with('.') && !s.ends_with('.')
}

/// True if s is an absolute IRI: a scheme, a colon, and no whitespace or control characters.
pub fn is_iri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'));
    let forbidden = |c: char| {
        c.is_whitespace()
            || c.is_control()
            || matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '\\' | '^' | '`')
    };
    scheme_ok && !rest.is_empty() && !s.chars().any(forbidden)
}

/// True if s is a UUID in the 8-4-4-4-12 hex form.
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::parse_str(s).is_ok() && s.as_bytes()[8] == b'-'
}
