//! Text forms of JSON values as Python writes them, because ERB's output and statement ids
//! are made of Python text: `json.dumps` (ids, list answers), `str()` (non-list answers,
//! numbers in IRIs), float `repr`, `"%.3f"` rounding and ISO 8601 durations.

use serde_json::{Number, Value};

/// `json.dumps(value)` with Python's default separators (`", "`, `": "`); `ensure_ascii`
/// escapes every character outside printable ASCII as `\uXXXX`, as Python's default does.
pub(crate) fn json_dumps(value: &Value, ensure_ascii: bool) -> String {
    let mut out = String::new();
    write_json(&mut out, value, ensure_ascii);
    out
}

/// Appends the Python JSON text of `value` to `out`.
fn write_json(out: &mut String, value: &Value, ensure_ascii: bool) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number_text(n)),
        Value::String(s) => write_json_string(out, s, ensure_ascii),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(out, item, ensure_ascii);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json_string(out, key, ensure_ascii);
                out.push_str(": ");
                write_json(out, item, ensure_ascii);
            }
            out.push('}');
        }
    }
}

/// Appends a JSON string literal escaped as Python's `json` module escapes it.
fn write_json_string(out: &mut String, text: &str, ensure_ascii: bool) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if ensure_ascii && !(' '..='~').contains(&c) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `str(value)` of the Python object `json.loads` makes of `value`: a string as is, any
/// other value as its `repr` (`{'a': [1, True, None]}`).
pub(crate) fn py_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

/// `repr()` of the Python object `json.loads` makes of `value`.
pub(crate) fn py_repr(value: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, value);
    out
}

/// Appends the Python `repr` of `value` to `out`.
fn write_repr(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
        Value::Number(n) => out.push_str(&number_text(n)),
        Value::String(s) => write_str_repr(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str_repr(out, key);
                out.push_str(": ");
                write_repr(out, item);
            }
            out.push('}');
        }
    }
}

/// Appends a Python string literal: single quotes unless the text has a `'` and no `"`.
fn write_str_repr(out: &mut String, text: &str) {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if !is_printable(c) => {
                let code = c as u32;
                if code < 0x100 {
                    out.push_str(&format!("\\x{code:02x}"));
                } else if code < 0x10000 {
                    out.push_str(&format!("\\u{code:04x}"));
                } else {
                    out.push_str(&format!("\\U{code:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// Python's `str.isprintable` for one character, close enough for answers: control and
/// format characters, and separators other than the space, are not printable.
fn is_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(
        c,
        '\u{ad}'
            | '\u{600}'..='\u{605}'
            | '\u{61c}'
            | '\u{6dd}'
            | '\u{70f}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{e000}'..='\u{f8ff}'
    )
}

/// A JSON number as Python prints it: integers as digits, floats as `repr(float)`.
fn number_text(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    float_repr(n.as_f64().unwrap_or(f64::NAN))
}

/// Python's `repr(float)`: the shortest round-trip digits, positional from 1e-4 up to 1e16
/// (with at least one decimal), else scientific with a signed two-digit exponent.
pub(crate) fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let sci = format!("{x:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-4..16).contains(&exponent) {
        let point = exponent + 1;
        let text = if point <= 0 {
            format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
        } else if point as usize >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
        } else {
            let (whole, fraction) = digits.split_at(point as usize);
            format!("{whole}.{fraction}")
        };
        format!("{sign}{text}")
    } else {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!(
            "{sign}{first}{fraction}e{exp_sign}{:02}",
            exponent.unsigned_abs()
        )
    }
}

/// A number of seconds as ERB keeps it: `float("%.3f" % float(value))`; `None` for absent
/// values and for what Python's `float()` would refuse.
pub(crate) fn seconds(value: Option<&Value>) -> Option<f64> {
    let x = match value? {
        Value::Number(n) => n.as_f64()?,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    format!("{x:.3}").parse().ok()
}

/// An ISO 8601 duration as tincan writes a `timedelta` (`PT03M15S`, `PT05.5S`, `P1DT00H00M00S`).
pub(crate) fn iso_duration(seconds: f64) -> String {
    // timedelta keeps whole microseconds, rounding half to even.
    let micros = (seconds * 1e6).round_ties_even();
    let total = micros / 1e6;
    let (minutes, secs) = py_divmod(total, 60.0);
    let (hours, minutes) = py_divmod(minutes, 60.0);
    let (days, hours) = py_divmod(hours, 24.0);
    let secs: f64 = format!("{secs:.6}").parse().unwrap_or(secs);
    let (days, hours, minutes) = (days as i64, hours as i64, minutes as i64);
    let mut text = String::from("P");
    if days != 0 {
        text.push_str(&format!("{days}D"));
    }
    text.push('T');
    let mut bigger = days != 0 || hours != 0;
    if bigger {
        text.push_str(&format!("{hours:02}H"));
    }
    bigger = bigger || minutes != 0;
    if bigger {
        text.push_str(&format!("{minutes:02}M"));
    }
    if secs.fract() == 0.0 {
        text.push_str(&format!("{:02}", secs as i64));
    } else {
        let fixed = format!("{secs:09.6}");
        text.push_str(fixed.trim_end_matches('0'));
    }
    text.push('S');
    text
}

/// Python's `divmod` on floats: floor quotient and a remainder with the divisor's sign.
fn py_divmod(a: f64, b: f64) -> (f64, f64) {
    let mut rem = a % b;
    let mut div = (a - rem) / b;
    if rem != 0.0 && ((b < 0.0) != (rem < 0.0)) {
        rem += b;
        div -= 1.0;
    }
    let mut floor = div.floor();
    if div - floor > 0.5 {
        floor += 1.0;
    }
    (floor, rem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_dumps_spaces_and_escapes_as_python() {
        let v = json!({"a": [1, 2.0, "é\"x"], "b": null});
        assert_eq!(
            json_dumps(&v, false),
            r#"{"a": [1, 2.0, "é\"x"], "b": null}"#
        );
        assert_eq!(json_dumps(&json!("é😀"), true), r#""\u00e9\ud83d\ude00""#);
    }

    #[test]
    fn repr_writes_python_literals() {
        let v = json!({"k": ["it's", "a\"b", true, null, 1.5]});
        assert_eq!(py_repr(&v), r#"{'k': ["it's", 'a"b', True, None, 1.5]}"#);
        assert_eq!(py_str(&json!("plain")), "plain");
    }

    #[test]
    fn floats_print_as_python_repr() {
        assert_eq!(float_repr(195.0), "195.0");
        assert_eq!(float_repr(0.0001), "0.0001");
        assert_eq!(float_repr(0.00001), "1e-05");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(-2.5e-7), "-2.5e-07");
        assert_eq!(float_repr(123456.789), "123456.789");
    }

    #[test]
    fn seconds_round_to_milliseconds() {
        assert_eq!(seconds(Some(&json!(194.40735897138978))), Some(194.407));
        assert_eq!(seconds(Some(&json!("12.5"))), Some(12.5));
        assert_eq!(seconds(Some(&json!(null))), None);
    }

    #[test]
    fn durations_are_written_as_tincan_does() {
        assert_eq!(iso_duration(195.0), "PT03M15S");
        assert_eq!(iso_duration(5.5), "PT05.5S");
        assert_eq!(iso_duration(0.0), "PT00S");
        assert_eq!(iso_duration(3600.0), "PT01H00M00S");
        assert_eq!(iso_duration(90061.25), "P1DT01H01M01.25S");
    }
}
