//! Content identity of statements: a hash that ignores what the LRS sets and the order of keys,
//! so that an identical re-send is recognised and a conflicting one refused.

use std::io::Write;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Properties set by the LRS, ignored when comparing a re-sent statement with the stored one.
const LRS_SET: [&str; 4] = ["id", "stored", "authority", "version"];

/// Durations compare to 0.01 s (xAPI Data 4.6): `PT1.2371S` becomes `PT1.23S`.
pub fn truncate_duration(duration: &str) -> String {
    let Some(body) = duration.strip_suffix('S') else {
        return duration.to_string();
    };
    match body.rfind('.') {
        Some(dot) if body.len() > dot + 3 && !body[dot..].contains(['H', 'M', 'T']) => {
            format!("{}S", &body[..dot + 3])
        }
        _ => duration.to_string(),
    }
}

/// Where a statement holds durations: its result and a SubStatement object's result.
const DURATION_POINTERS: [&str; 2] = ["/result/duration", "/object/result/duration"];

/// The statement's durations (see [`DURATION_POINTERS`]), truncated for comparison.
pub fn truncate_durations(statement: &mut Value) {
    for pointer in DURATION_POINTERS {
        if let Some(Value::String(d)) = statement.pointer_mut(pointer) {
            *d = truncate_duration(d);
        }
    }
}

/// SHA-256 (hex) of the statement as the client sent it, keys sorted, LRS-set properties
/// removed, durations truncated to hundredths.
pub fn content_hash(statement: &Value) -> String {
    let mut truncated;
    let statement = if has_duration(statement) {
        truncated = statement.clone();
        truncate_durations(&mut truncated);
        &truncated
    } else {
        statement
    };
    let mut hasher = Sha256::new();
    match statement {
        Value::Object(map) => feed_object(&mut hasher, map, &LRS_SET),
        other => feed(&mut hasher, other),
    }
    hex::encode(hasher.finalize())
}

fn has_duration(statement: &Value) -> bool {
    DURATION_POINTERS
        .iter()
        .any(|pointer| statement.pointer(pointer).is_some())
}

/// Feeds a value's canonical bytes to the hasher: objects with sorted keys, numbers by value,
/// strings as JSON writes them. Writes straight into the hasher, building no strings.
fn feed(hasher: &mut Sha256, value: &Value) {
    match value {
        Value::Object(map) => feed_object(hasher, map, &[]),
        Value::Array(items) => {
            hasher.update(b"[");
            for item in items {
                feed(hasher, item);
                hasher.update(b",");
            }
            hasher.update(b"]");
        }
        // Numbers compare by value: 1, 1.0 and 1e0 are the same score.
        Value::Number(n) => match n.as_f64() {
            Some(f) => {
                let _ = write!(hasher, "n{f:e}");
            }
            None => {
                let _ = write!(hasher, "{n}");
            }
        },
        Value::String(s) => feed_str(hasher, s),
        other => {
            let _ = serde_json::to_writer(&mut *hasher, other);
        }
    }
}

/// An object's entries in key order, leaving out the keys in `skip`.
fn feed_object(hasher: &mut Sha256, map: &Map<String, Value>, skip: &[&str]) {
    let mut entries: Vec<(&String, &Value)> = map
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .collect();
    entries.sort_by_key(|(k, _)| *k);
    hasher.update(b"{");
    for (k, v) in entries {
        feed_str(hasher, k);
        hasher.update(b":");
        feed(hasher, v);
        hasher.update(b",");
    }
    hasher.update(b"}");
}

/// A string as JSON writes it: quoted and escaped.
fn feed_str(hasher: &mut Sha256, s: &str) {
    let _ = serde_json::to_writer(&mut *hasher, s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_and_lrs_set_properties_do_not_change_the_hash() {
        let a = json!({"actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "http://v"}, "id": "x"});
        let b = json!({"verb": {"id": "http://v"}, "stored": "2020-01-01T00:00:00Z", "actor": {"mbox": "mailto:a@b.c"}});
        assert_eq!(content_hash(&a), content_hash(&b));
    }

    #[test]
    fn different_content_changes_the_hash() {
        let a = json!({"verb": {"id": "http://v/1"}});
        let b = json!({"verb": {"id": "http://v/2"}});
        assert_ne!(content_hash(&a), content_hash(&b));
    }

    #[test]
    fn durations_compare_to_hundredths_of_a_second() {
        assert_eq!(truncate_duration("P1DT12H36M0.1237S"), "P1DT12H36M0.12S");
        assert_eq!(truncate_duration("PT1.5S"), "PT1.5S");
        assert_eq!(truncate_duration("PT10M"), "PT10M");
        assert_eq!(
            content_hash(&json!({"result": {"duration": "PT1.2371S"}})),
            content_hash(&json!({"result": {"duration": "PT1.23S"}}))
        );
    }

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(
            content_hash(&json!({"result": {"score": {"raw": 1}}})),
            content_hash(&json!({"result": {"score": {"raw": 1.0}}}))
        );
    }

    #[test]
    fn the_hash_of_a_statement_never_changes_between_versions() {
        // Stored hashes decide whether a re-sent statement is the same one: a new way of
        // computing them must give the same bytes.
        let statement = json!({
            "id": "6f1c9a2e-0d4b-4c1e-9a7f-000000000007",
            "actor": {"objectType": "Agent", "account": {"homePage": "https://lms.example.org", "name": "l\u{e9}arner \"7\""}},
            "verb": {"id": "https://w3id.org/xapi/video/verbs/played", "display": {"en-US": "played", "fr-FR": "lu"}},
            "object": {"id": "https://lms.example.org/video/7", "definition": {"name": {"en-US": "Video 7"}}},
            "result": {"score": {"scaled": 0.5, "raw": 1}, "success": true, "duration": "PT1.2345S",
                       "extensions": {"https://example.org/x": [1.0, null, false, "a\nb", {"z": 1, "a": 2}]}},
            "stored": "2026-11-20T10:00:00.000Z",
            "timestamp": "2026-11-20T10:00:00.000Z"
        });
        assert_eq!(
            content_hash(&statement),
            "20c10c0c60313119b2ea915a5950e12ea91889ad1e5c381f0d40836b4fa10d6f"
        );
    }
}
