//! What every converted statement shares: id, actor, timestamp, version, and helpers
//! to read edX fields.
//!
//! Mirrors Ralph's `BaseXapiConverter`: `id` is `uuid5(namespace, event text)`,
//! `actor.account` is `{homePage: platform_url, name: context.user_id or "anonymous"}`,
//! `timestamp` is the event's `time`.

use std::borrow::Cow;

use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::{ConvertError, Options};

/// Activity type of the `category` activities that name an xAPI profile.
pub(crate) const ACTIVITY_TYPE_PROFILE: &str = "http://adlnet.gov/expapi/activities/profile";
/// Activity type of a web page (Activity Streams vocabulary).
pub(crate) const ACTIVITY_TYPE_PAGE: &str = "http://activitystrea.ms/schema/1.0/page";
/// xAPI version Ralph writes in every statement.
pub(crate) const XAPI_VERSION: &str = "1.0.0";

/// The statement fields common to all conversions: `id`, `actor`, `timestamp`, `version`.
pub(crate) fn base_statement(
    event: &Value,
    id_source: &[u8],
    options: &Options,
) -> Result<Map<String, Value>, ConvertError> {
    let namespace = uuid_namespace(options)?;
    let mut statement = Map::new();
    statement.insert(
        "id".into(),
        Value::String(Uuid::new_v5(&namespace, id_source).to_string()),
    );
    statement.insert("actor".into(), actor(event, options)?);
    statement.insert("timestamp".into(), Value::String(timestamp(event)?));
    statement.insert("version".into(), Value::String(XAPI_VERSION.into()));
    Ok(statement)
}

/// The platform URL without its trailing slashes (Python's `rstrip("/")`), for object ids.
pub(crate) fn platform_base(options: &Options) -> &str {
    options.platform_url.trim_end_matches('/')
}

/// The namespace of statement ids: the configured UUID, else `uuid5(NAMESPACE_URL, platform_url)`.
fn uuid_namespace(options: &Options) -> Result<Uuid, ConvertError> {
    if options.platform_url.trim().is_empty() {
        return Err(ConvertError::InvalidOption {
            option: "platform_url",
            reason: "must be the URL of the edX platform, not empty".into(),
        });
    }
    match &options.uuid_namespace {
        Some(text) => Uuid::parse_str(text.trim()).map_err(|e| ConvertError::InvalidOption {
            option: "uuid_namespace",
            reason: format!("not a UUID ({e})"),
        }),
        None => Ok(Uuid::new_v5(
            &Uuid::NAMESPACE_URL,
            options.platform_url.as_bytes(),
        )),
    }
}

/// Ralph's actor: an `Agent` with `account.homePage` = platform URL and `account.name` = `context.user_id`.
fn actor(event: &Value, options: &Options) -> Result<Value, ConvertError> {
    let name = match get(event, &["context", "user_id"]) {
        // Python's `str(user_id) if user_id else "anonymous"`: absent, null, "" and 0 are falsy.
        None => "anonymous".to_string(),
        Some(Value::String(s)) if s.is_empty() => "anonymous".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) if n.as_f64() == Some(0.0) => "anonymous".to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => {
            return Err(ConvertError::invalid(
                "context.user_id",
                "expected an integer, a string or null",
            ))
        }
    };
    Ok(json!({
        "objectType": "Agent",
        "account": { "homePage": options.platform_url, "name": name },
    }))
}

/// The event's `time`, re-written the way Ralph (pydantic) serialises a datetime.
fn timestamp(event: &Value) -> Result<String, ConvertError> {
    let time = required_str(event, &["time"], "time")?;
    normalize_timestamp(time).ok_or_else(|| {
        ConvertError::invalid("time", format!("not an ISO 8601 date-time: {time:?}"))
    })
}

/// Parses an ISO 8601 date-time and writes it as pydantic does: `T`, fraction without trailing zeros, `Z` for UTC.
pub(crate) fn normalize_timestamp(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let digits = |from: usize, len: usize| -> Option<u32> {
        let slice = b.get(from..from + len)?;
        slice.iter().try_fold(0u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ' | b'_')) {
        return None;
    }
    let (hour, minute) = (digits(11, 2)?, digits(14, 2)?);
    if b.get(13) != Some(&b':') || hour > 23 || minute > 59 {
        return None;
    }
    let mut pos = 16;
    let (mut second, mut micros) = (0, 0);
    if b.get(pos) == Some(&b':') {
        second = digits(pos + 1, 2)?;
        if second > 59 {
            return None;
        }
        pos += 3;
        if matches!(b.get(pos), Some(b'.' | b',')) {
            pos += 1;
            let count = b[pos..].iter().take_while(|c| c.is_ascii_digit()).count();
            if count == 0 || count > 6 {
                return None;
            }
            micros = digits(pos, count)? * 10u32.pow(6 - count as u32);
            pos += count;
        }
    }
    let offset = match &b[pos..] {
        [] => None,
        [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest {
                [_, _] => (digits(pos + 1, 2)?, 0),
                [_, _, b':', _, _] => (digits(pos + 1, 2)?, digits(pos + 4, 2)?),
                [_, _, _, _] => (digits(pos + 1, 2)?, digits(pos + 3, 2)?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let minutes = (h * 60 + m) as i32;
            Some(if *sign == b'-' { -minutes } else { minutes })
        }
        _ => return None,
    };
    let mut out = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}");
    if micros != 0 {
        let fraction = format!("{micros:06}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    match offset {
        None => {}
        Some(0) => out.push('Z'),
        Some(minutes) => {
            let sign = if minutes < 0 { '-' } else { '+' };
            let minutes = minutes.unsigned_abs();
            out.push_str(&format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60));
        }
    }
    Some(out)
}

/// Number of days of `month` in `year` (Gregorian).
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The value at `path`, treating JSON `null` as absent.
pub(crate) fn get<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .filter(|v| !v.is_null())
}

/// The string at `path`; `field` (its dotted name) is used in the error.
pub(crate) fn required_str<'a>(
    value: &'a Value,
    path: &[&str],
    field: &str,
) -> Result<&'a str, ConvertError> {
    match get(value, path) {
        None => Err(ConvertError::missing(field)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(ConvertError::invalid(field, "expected a string")),
    }
}

/// A string field that pydantic would also accept as a number (`coerce_numbers_to_str`).
pub(crate) fn required_text(
    value: &Value,
    path: &[&str],
    field: &str,
) -> Result<String, ConvertError> {
    match get(value, path) {
        None => Err(ConvertError::missing(field)),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(_) => Err(ConvertError::invalid(field, "expected a string")),
    }
}

/// A number at `path`, accepting numeric strings as pydantic's lax mode does.
pub(crate) fn required_number(
    value: &Value,
    path: &[&str],
    field: &str,
) -> Result<f64, ConvertError> {
    let number = match get(value, path) {
        None => return Err(ConvertError::missing(field)),
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    number
        .filter(|n| n.is_finite())
        .ok_or_else(|| ConvertError::invalid(field, "expected a number"))
}

/// A number at `path` that must not be negative (pydantic's `NonNegativeFloat`).
pub(crate) fn non_negative(value: &Value, path: &[&str], field: &str) -> Result<f64, ConvertError> {
    let number = required_number(value, path, field)?;
    if number < 0.0 {
        return Err(ConvertError::invalid(field, "must not be negative"));
    }
    Ok(number)
}

/// A float as a JSON number (always finite here, so never `null`).
pub(crate) fn float(number: f64) -> Value {
    serde_json::Number::from_f64(number).map_or(Value::Null, Value::Number)
}

/// The event's `event` member as an object, parsing it when the log holds it as a JSON string.
pub(crate) fn event_payload(event: &Value) -> Result<Cow<'_, Value>, ConvertError> {
    let payload = match get(event, &["event"]) {
        None => return Err(ConvertError::missing("event")),
        Some(Value::String(text)) => Cow::Owned(
            serde_json::from_str::<Value>(text)
                .map_err(|e| ConvertError::invalid("event", format!("not a JSON object ({e})")))?,
        ),
        Some(other) => Cow::Borrowed(other),
    };
    if payload.is_object() {
        Ok(payload)
    } else {
        Err(ConvertError::invalid("event", "expected a JSON object"))
    }
}

/// A `contextActivities.category` activity naming the xAPI profile `profile_id`.
pub(crate) fn profile_category(profile_id: &str) -> Value {
    json!({ "id": profile_id, "definition": { "type": ACTIVITY_TYPE_PROFILE } })
}

/// Canonical JSON text of a value: object keys sorted, no insignificant whitespace.
pub(crate) fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

/// Appends the canonical JSON text of `value` to `out`.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(item) = map.get(key) {
                    write_canonical(item, out);
                }
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_as_pydantic_does() {
        let cases = [
            (
                "2014-03-03T16:19:01.385925+00:00",
                "2014-03-03T16:19:01.385925Z",
            ),
            ("2023-05-02T10:20:30.500000Z", "2023-05-02T10:20:30.5Z"),
            ("2023-05-02 10:20:30", "2023-05-02T10:20:30"),
            ("2023-05-02T10:20:30.000+02:00", "2023-05-02T10:20:30+02:00"),
            ("2023-05-02T10:20-0130", "2023-05-02T10:20:00-01:30"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                normalize_timestamp(input).as_deref(),
                Some(expected),
                "{input}"
            );
        }
        for bad in [
            "",
            "2023-02-30T00:00:00",
            "2023-05-02",
            "2023-05-02T10:20:30.1234567",
            "yesterday",
        ] {
            assert_eq!(normalize_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let value = json!({"b": [1, {"z": null, "a": "é\""}], "a": true});
        assert_eq!(
            canonical_json(&value),
            r#"{"a":true,"b":[1,{"a":"é\"","z":null}]}"#
        );
    }
}
