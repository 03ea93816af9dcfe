//! Canonical Activity definitions: what the Activities resource returns for an id, merged from
//! every statement that defines it (xAPI Communication 2.5: "all available information").

use serde_json::{Map, Value};

/// Definition keys holding language maps: merged language by language, newest wins per tag.
const LANGUAGE_MAP_KEYS: [&str; 2] = ["name", "description"];

/// Every `(activity id, definition)` a statement carries: its object, its context activities,
/// and those of a SubStatement object. Activities without a definition are left out.
pub fn definitions(statement: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    collect(statement, &mut out);
    if let Some(sub) = statement.get("object") {
        if sub.get("objectType").and_then(Value::as_str) == Some("SubStatement") {
            collect(sub, &mut out);
        }
    }
    out
}

fn collect(statement: &Value, out: &mut Vec<(String, Value)>) {
    if let Some(object) = statement.get("object") {
        let kind = object.get("objectType").and_then(Value::as_str);
        if kind.is_none_or(|k| k == "Activity") {
            push(object, out);
        }
    }
    let lists = statement
        .get("context")
        .and_then(|c| c.get("contextActivities"))
        .and_then(Value::as_object);
    for list in lists.into_iter().flat_map(|m| m.values()) {
        match list {
            Value::Array(items) => items.iter().for_each(|a| push(a, out)),
            single => push(single, out),
        }
    }
}

fn push(activity: &Value, out: &mut Vec<(String, Value)>) {
    let (Some(id), Some(definition)) = (
        activity.get("id").and_then(Value::as_str),
        activity.get("definition").filter(|d| d.is_object()),
    ) else {
        return;
    };
    out.push((id.to_string(), definition.clone()));
}

/// Merges a newer definition into the canonical one: language maps and extensions key by key,
/// every other property replaced by the newer value. Returns whether anything changed.
pub fn merge(canonical: &mut Value, newer: &Value) -> bool {
    let (Some(target), Some(source)) = (canonical.as_object_mut(), newer.as_object()) else {
        let changed = canonical != newer;
        *canonical = newer.clone();
        return changed;
    };
    let mut changed = false;
    for (key, value) in source {
        let keyed = LANGUAGE_MAP_KEYS.contains(&key.as_str()) || key == "extensions";
        match (keyed, target.get_mut(key).and_then(Value::as_object_mut)) {
            (true, Some(existing)) => {
                if let Some(entries) = value.as_object() {
                    changed |= set_all(existing, entries);
                }
            }
            _ => changed |= set(target, key, value),
        }
    }
    changed
}

/// Sets every entry of `newer` in `existing`; whether any value changed.
fn set_all(existing: &mut Map<String, Value>, newer: &Map<String, Value>) -> bool {
    let mut changed = false;
    for (key, value) in newer {
        changed |= set(existing, key, value);
    }
    changed
}

fn set(map: &mut Map<String, Value>, key: &str, value: &Value) -> bool {
    if map.get(key) == Some(value) {
        return false;
    }
    map.insert(key.to_string(), value.clone());
    true
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn definitions_come_from_the_object_context_and_sub_statement() {
        let s = json!({
            "object": {"objectType": "SubStatement",
                       "object": {"id": "http://sub", "definition": {"name": {"en": "sub"}}},
                       "context": {"contextActivities": {"parent": [{"id": "http://sp", "definition": {}}]}}},
            "context": {"contextActivities": {"grouping": {"id": "http://g", "definition": {"type": "http://t"}},
                                              "other": [{"id": "http://no-definition"}]}}
        });
        let ids: Vec<String> = definitions(&s).into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, ["http://g", "http://sub", "http://sp"]);
    }

    #[test]
    fn language_maps_are_merged_and_other_properties_replaced() {
        let mut canonical = json!({"name": {"en-US": "meeting"}, "type": "http://old",
                                   "extensions": {"http://e/a": 1}});
        let newer = json!({"name": {"fr": "réunion"}, "description": {"en-US": "d"},
                           "type": "http://new", "extensions": {"http://e/b": 2}});
        assert!(merge(&mut canonical, &newer));
        assert!(
            !merge(&mut canonical.clone(), &newer),
            "merging the same definition again changes nothing"
        );
        assert_eq!(
            canonical,
            json!({"name": {"en-US": "meeting", "fr": "réunion"}, "description": {"en-US": "d"},
                   "type": "http://new", "extensions": {"http://e/a": 1, "http://e/b": 2}})
        );
    }
}
