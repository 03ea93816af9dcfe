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
fn truncate_durations(statement: &mut Value) {
    for pointer in DURATION_POINTERS {
        if let Some(Value::String(d)) = statement.pointer_mut(pointer) {
            *d = truncate_duration(d);
        }
    }
}

/// SHA-256 (hex) of what makes a statement the same statement (Data 2.3.1, "Statement
/// Comparison Requirements": differences that the exceptions to immutability could cause are
/// ignored). Keys are sorted and numbers compared by value; left out or normalised are the
/// LRS-set properties, verb displays, activity definitions, the serialization of timestamps
/// (compared as instants), the order of a Group's members, the case of an mbox's domain and of
/// an mbox_sha1sum, and durations beyond hundredths of a second (Data 4.6). Extensions are
/// compared as sent.
pub fn content_hash(statement: &Value) -> String {
    let mut hasher = Sha256::new();
    match statement {
        Value::Object(map) => feed_statement(&mut hasher, map, &LRS_SET),
        other => feed(&mut hasher, other),
    }
    hex::encode(hasher.finalize())
}

/// True if two values of a statement's property `key` are the same by the rules of
/// [`content_hash`] (a signed statement's payload against the statement received, Data 2.6).
pub fn same_property(key: &str, a: Option<&Value>, b: Option<&Value>) -> bool {
    let digest = |value: &Value| {
        let mut hasher = Sha256::new();
        feed_statement_entry(&mut hasher, key, value);
        hasher.finalize()
    };
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a == b || digest(a) == digest(b),
        _ => false,
    }
}

/// The content hash xlrs stored before [`content_hash`] followed the comparison rules: only
/// LRS-set properties left out and durations truncated. Kept so that an identical re-send of
/// a statement stored then is still recognised.
pub fn legacy_content_hash(statement: &Value) -> String {
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

/// A statement or sub-statement's entries in key order, leaving out `skip`, each by the rules of
/// its position.
fn feed_statement(hasher: &mut Sha256, map: &Map<String, Value>, skip: &[&str]) {
    feed_entries(hasher, map, skip, feed_statement_entry);
}

/// The value of a statement's property `key`, by the rules of its position.
fn feed_statement_entry(hasher: &mut Sha256, key: &str, value: &Value) {
    match (key, value) {
        ("verb", Value::Object(verb)) => feed_compared(hasher, verb, &["display"]),
        ("object", Value::Object(object)) => feed_statement_object(hasher, object),
        ("context", Value::Object(context)) => feed_context(hasher, context),
        ("timestamp", Value::String(t)) => feed_timestamp(hasher, t),
        ("result", Value::Object(result)) => {
            feed_entries(hasher, result, &[], |hasher, key, value| {
                match (key, value) {
                    ("duration", Value::String(d)) => feed_str(hasher, &truncate_duration(d)),
                    _ => feed_compared_value(hasher, key, value),
                }
            })
        }
        _ => feed_compared_value(hasher, key, value),
    }
}

/// A statement's object: an Activity without its definition, a SubStatement by the statement
/// rules, anything else as compared.
fn feed_statement_object(hasher: &mut Sha256, object: &Map<String, Value>) {
    match object.get("objectType").and_then(Value::as_str) {
        None | Some("Activity") => feed_compared(hasher, object, &["definition"]),
        Some("SubStatement") => feed_statement(hasher, object, &[]),
        Some(_) => feed_compared(hasher, object, &[]),
    }
}

/// A context: the activities of its context activity lists without their definitions.
fn feed_context(hasher: &mut Sha256, context: &Map<String, Value>) {
    feed_entries(hasher, context, &[], |hasher, key, value| {
        match (key, value) {
            ("contextActivities", Value::Object(lists)) => {
                feed_entries(hasher, lists, &[], |hasher, _, list| match list {
                    Value::Array(activities) => {
                        feed_array(hasher, activities, feed_context_activity)
                    }
                    activity => feed_context_activity(hasher, activity),
                })
            }
            _ => feed_compared_value(hasher, key, value),
        }
    });
}

/// A context activity without its definition.
fn feed_context_activity(hasher: &mut Sha256, activity: &Value) {
    match activity {
        Value::Object(activity) => feed_compared(hasher, activity, &["definition"]),
        other => feed(hasher, other),
    }
}

/// A value under `key` outside the statement's special positions: extensions as sent, objects
/// by [`feed_compared`], an mbox with its domain in lowercase, an mbox_sha1sum in lowercase.
fn feed_compared_value(hasher: &mut Sha256, key: &str, value: &Value) {
    match (key, value) {
        ("extensions", _) => feed(hasher, value),
        ("mbox", Value::String(mbox)) => match mbox.rsplit_once('@') {
            Some((local, domain)) => {
                feed_str(hasher, &format!("{local}@{}", domain.to_ascii_lowercase()))
            }
            None => feed_str(hasher, mbox),
        },
        ("mbox_sha1sum", Value::String(sha1)) => feed_str(hasher, &sha1.to_ascii_lowercase()),
        (_, Value::Object(map)) => feed_compared(hasher, map, &[]),
        (_, Value::Array(items)) => feed_array(hasher, items, |hasher, item| {
            feed_compared_value(hasher, "", item)
        }),
        _ => feed(hasher, value),
    }
}

/// An object (agent, group, activity, …) leaving out `skip`; a Group's members in no order.
fn feed_compared(hasher: &mut Sha256, map: &Map<String, Value>, skip: &[&str]) {
    feed_entries(hasher, map, skip, |hasher, key, value| match (key, value) {
        ("member", Value::Array(members)) => {
            let mut digests: Vec<[u8; 32]> = members
                .iter()
                .map(|m| {
                    let mut member = Sha256::new();
                    feed_compared_value(&mut member, "", m);
                    member.finalize().into()
                })
                .collect();
            digests.sort_unstable();
            hasher.update(b"m[");
            for digest in digests {
                hasher.update(digest);
            }
            hasher.update(b"]");
        }
        _ => feed_compared_value(hasher, key, value),
    });
}

/// A timestamp as the instant it names; a string that is not one, as sent.
fn feed_timestamp(hasher: &mut Sha256, timestamp: &str) {
    match crate::validate::parse_timestamp(timestamp) {
        Some(t) => {
            let _ = write!(
                hasher,
                "t{}.{:09}",
                t.timestamp(),
                t.timestamp_subsec_nanos()
            );
        }
        None => feed_str(hasher, timestamp),
    }
}

/// An object's entries in key order, leaving out `skip`, each value fed by `value`.
fn feed_entries(
    hasher: &mut Sha256,
    map: &Map<String, Value>,
    skip: &[&str],
    mut value: impl FnMut(&mut Sha256, &str, &Value),
) {
    let mut entries: Vec<(&String, &Value)> = map
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .collect();
    entries.sort_by_key(|(k, _)| *k);
    hasher.update(b"{");
    for (k, v) in entries {
        feed_str(hasher, k);
        hasher.update(b":");
        value(hasher, k, v);
        hasher.update(b",");
    }
    hasher.update(b"}");
}

/// An array's items in order, each fed by `item`.
fn feed_array(hasher: &mut Sha256, items: &[Value], mut item: impl FnMut(&mut Sha256, &Value)) {
    hasher.update(b"[");
    for v in items {
        item(hasher, v);
        hasher.update(b",");
    }
    hasher.update(b"]");
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
        Value::Array(items) => feed_array(hasher, items, feed),
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

/// An object's entries in key order, leaving out the keys in `skip`, each value by [`feed`].
fn feed_object(hasher: &mut Sha256, map: &Map<String, Value>, skip: &[&str]) {
    feed_entries(hasher, map, skip, |hasher, _, value| feed(hasher, value));
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

    fn pinned_statement() -> Value {
        json!({
            "id": "6f1c9a2e-0d4b-4c1e-9a7f-000000000007",
            "actor": {"objectType": "Agent", "account": {"homePage": "https://lms.example.org", "name": "l\u{e9}arner \"7\""}},
            "verb": {"id": "https://w3id.org/xapi/video/verbs/played", "display": {"en-US": "played", "fr-FR": "lu"}},
            "object": {"id": "https://lms.example.org/video/7", "definition": {"name": {"en-US": "Video 7"}}},
            "result": {"score": {"scaled": 0.5, "raw": 1}, "success": true, "duration": "PT1.2345S",
                       "extensions": {"https://example.org/x": [1.0, null, false, "a\nb", {"z": 1, "a": 2}]}},
            "stored": "2026-11-20T10:00:00.000Z",
            "timestamp": "2026-11-20T10:00:00.000Z"
        })
    }

    #[test]
    fn the_hash_of_a_statement_never_changes_between_versions() {
        // Stored hashes decide whether a re-sent statement is the same one: a new way of
        // computing them must give the same bytes (the legacy hash is what xlrs stored
        // before the comparison rules; it must never change either).
        assert_eq!(
            legacy_content_hash(&pinned_statement()),
            "20c10c0c60313119b2ea915a5950e12ea91889ad1e5c381f0d40836b4fa10d6f"
        );
        assert_eq!(
            content_hash(&pinned_statement()),
            "7f7518498742acc28e8a4a05fe02f7523822e69ebefc0ecdc7f62f04ddb7b82b"
        );
    }

    #[test]
    fn differences_the_exceptions_to_immutability_could_cause_are_ignored() {
        // Data 2.3.1: verb displays, activity definitions, the serialization of timestamps and
        // the order of a Group's members are not part of the statement; an mbox's domain is
        // case-insensitive.
        let base = json!({
            "actor": {"objectType": "Group", "name": "team", "member": [
                {"mbox": "mailto:ada@example.org"}, {"mbox_sha1sum": "ABCDEF0123456789ABCDEF0123456789ABCDEF01"}]},
            "verb": {"id": "http://v", "display": {"en-US": "did"}},
            "object": {"objectType": "SubStatement", "actor": {"mbox": "mailto:bob@Example.org"},
                       "verb": {"id": "http://v", "display": {"en-US": "did"}},
                       "object": {"id": "http://a/sub", "definition": {"name": {"en-US": "A"}}},
                       "timestamp": "2026-01-01T12:00:00Z"},
            "context": {"contextActivities": {"parent": [{"id": "http://p", "definition": {"name": {"en": "P"}}}]},
                        "instructor": {"mbox": "mailto:Carol@EXAMPLE.org"}},
            "timestamp": "2026-01-01T12:00:00.000Z"
        });
        let mut other = base.clone();
        other["actor"]["member"] = json!([
            {"mbox_sha1sum": "abcdef0123456789abcdef0123456789abcdef01"}, {"mbox": "mailto:ada@EXAMPLE.ORG"}]);
        other["verb"]["display"] = json!({"fr-FR": "a fait"});
        other["object"]["verb"]
            .as_object_mut()
            .unwrap()
            .remove("display");
        other["object"]["object"]["definition"] = json!({"name": {"en-US": "Renamed"}});
        other["object"]["actor"]["mbox"] = json!("mailto:bob@example.org");
        other["object"]["timestamp"] = json!("2026-01-01T07:00:00-05:00");
        other["context"]["contextActivities"]["parent"][0]
            .as_object_mut()
            .unwrap()
            .remove("definition");
        other["context"]["instructor"]["mbox"] = json!("mailto:Carol@example.org");
        other["timestamp"] = json!("2026-01-01T12:00:00Z");
        assert_eq!(content_hash(&base), content_hash(&other));

        for (pointer, value) in [
            ("/verb/id", json!("http://other")),
            (
                "/context/instructor/mbox",
                json!("mailto:carol@example.org"),
            ),
            ("/timestamp", json!("2026-01-01T12:00:00.001Z")),
            ("/object/object/id", json!("http://a/other")),
            ("/actor/name", json!("another team")),
        ] {
            let mut changed = base.clone();
            *changed.pointer_mut(pointer).unwrap() = value;
            assert_ne!(content_hash(&base), content_hash(&changed), "{pointer}");
        }
    }

    #[test]
    fn extensions_are_compared_as_sent() {
        let a = json!({"result": {"extensions": {"http://x": {"mbox": "mailto:a@B.org", "member": [1, 2]}}}});
        let b = json!({"result": {"extensions": {"http://x": {"mbox": "mailto:a@b.org", "member": [2, 1]}}}});
        assert_ne!(content_hash(&a), content_hash(&b));
    }
}
