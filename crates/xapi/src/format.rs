//! The `format` parameter of statement GETs: `exact`, `ids`, `canonical`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How statements are returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// As stored.
    #[default]
    Exact,
    /// Agents, activities and verbs reduced to their identifiers.
    Ids,
    /// Language maps reduced to the one language the client prefers.
    Canonical,
}

impl Format {
    /// Parses the parameter value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "exact" => Some(Self::Exact),
            "ids" => Some(Self::Ids),
            "canonical" => Some(Self::Canonical),
            _ => None,
        }
    }
}

/// Rewrites a stored statement for the requested format.
pub fn apply(statement: &mut Value, format: Format, accept_language: &[String]) {
    match format {
        Format::Exact => {}
        Format::Ids => ids(statement),
        Format::Canonical => canonical(statement, accept_language),
    }
}

/// Parses `Accept-Language` into tags, best first (q=0 dropped).
pub fn accept_languages(header: Option<&str>) -> Vec<String> {
    let mut tags: Vec<(String, f32)> = header
        .unwrap_or_default()
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next()?.trim();
            if tag.is_empty() {
                return None;
            }
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse().ok()))
                .unwrap_or(1.0);
            (q > 0.0).then(|| (tag.to_string(), q))
        })
        .collect();
    tags.sort_by(|a, b| b.1.total_cmp(&a.1));
    tags.into_iter().map(|(t, _)| t).collect()
}

fn ids(statement: &mut Value) {
    let Some(map) = statement.as_object_mut() else {
        return;
    };
    for key in ["actor", "authority"] {
        if let Some(agent) = map.get_mut(key) {
            *agent = agent_ids(agent);
        }
    }
    if let Some(verb) = map.get_mut("verb") {
        if let Some(id) = verb.get("id").cloned() {
            *verb = Value::Object(Map::from_iter([("id".to_string(), id)]));
        }
    }
    if let Some(object) = map.get_mut("object") {
        object_ids(object);
    }
    if let Some(context) = map.get_mut("context").and_then(Value::as_object_mut) {
        for key in ["instructor", "team"] {
            if let Some(agent) = context.get_mut(key) {
                *agent = agent_ids(agent);
            }
        }
        for (list, key) in [("contextAgents", "agent"), ("contextGroups", "group")] {
            for entry in context
                .get_mut(list)
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(agent) = entry.get_mut(key) {
                    *agent = agent_ids(agent);
                }
            }
        }
        if let Some(acts) = context
            .get_mut("contextActivities")
            .and_then(Value::as_object_mut)
        {
            for value in acts.values_mut() {
                match value {
                    Value::Array(items) => items.iter_mut().for_each(activity_ids),
                    single => activity_ids(single),
                }
            }
        }
    }
}

fn object_ids(object: &mut Value) {
    match object.get("objectType").and_then(Value::as_str) {
        Some("Agent") | Some("Group") => *object = agent_ids(object),
        Some("SubStatement") => ids(object),
        Some("StatementRef") => {}
        _ => activity_ids(object),
    }
}

fn activity_ids(activity: &mut Value) {
    if let Some(id) = activity.get("id").cloned() {
        *activity = Value::Object(Map::from_iter([("id".to_string(), id)]));
    }
}

/// An Agent or Group reduced to objectType + IFI (anonymous groups keep reduced members).
fn agent_ids(agent: &Value) -> Value {
    let Some(obj) = agent.as_object() else {
        return agent.clone();
    };
    let mut out = Map::new();
    let object_type = obj
        .get("objectType")
        .cloned()
        .unwrap_or_else(|| Value::String("Agent".into()));
    let is_group = object_type == "Group";
    out.insert("objectType".into(), object_type);
    let mut has_ifi = false;
    for ifi in ["mbox", "mbox_sha1sum", "openid", "account"] {
        if let Some(v) = obj.get(ifi) {
            out.insert(ifi.into(), v.clone());
            has_ifi = true;
        }
    }
    if is_group && !has_ifi {
        if let Some(members) = obj.get("member").and_then(Value::as_array) {
            out.insert(
                "member".into(),
                Value::Array(members.iter().map(agent_ids).collect()),
            );
        }
    }
    Value::Object(out)
}

/// Keys under which a language map may appear anywhere in a statement.
const LANGUAGE_MAP_KEYS: [&str; 3] = ["display", "name", "description"];

fn canonical(value: &mut Value, langs: &[String]) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "extensions" {
                    continue;
                }
                if LANGUAGE_MAP_KEYS.contains(&key.as_str()) && child.is_object() {
                    reduce_language_map(child, langs);
                } else {
                    canonical(child, langs);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| canonical(i, langs)),
        _ => {}
    }
}

fn reduce_language_map(map_value: &mut Value, langs: &[String]) {
    let Some(map) = map_value.as_object() else {
        return;
    };
    if map.len() <= 1 || !map.values().all(Value::is_string) {
        return;
    }
    let chosen = best_language(map.keys().map(String::as_str), langs)
        .or_else(|| map.keys().next().map(String::as_str))
        .map(str::to_string);
    if let Some(key) = chosen {
        if let Some(text) = map.get(&key).cloned() {
            *map_value = Value::Object(Map::from_iter([(key, text)]));
        }
    }
}

fn best_language<'a>(
    keys: impl Iterator<Item = &'a str> + Clone,
    langs: &[String],
) -> Option<&'a str> {
    for wanted in langs {
        if wanted == "*" {
            return keys.clone().next();
        }
        let wanted = wanted.to_ascii_lowercase();
        if let Some(k) = keys.clone().find(|k| k.to_ascii_lowercase() == wanted) {
            return Some(k);
        }
        if let Some(k) = keys.clone().find(|k| {
            let k = k.to_ascii_lowercase();
            k.starts_with(&format!("{wanted}-")) || wanted.starts_with(&format!("{k}-"))
        }) {
            return Some(k);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_format_keeps_only_identifiers() {
        let mut s = json!({
            "actor": {"objectType": "Agent", "name": "A", "mbox": "mailto:a@example.org"},
            "verb": {"id": "http://v", "display": {"en-US": "did"}},
            "object": {"id": "http://a", "definition": {"name": {"en-US": "A"}}},
            "context": {"contextActivities": {"parent": [{"id": "http://p", "definition": {}}]}}
        });
        apply(&mut s, Format::Ids, &[]);
        assert_eq!(
            s["actor"],
            json!({"objectType": "Agent", "mbox": "mailto:a@example.org"})
        );
        assert_eq!(s["verb"], json!({"id": "http://v"}));
        assert_eq!(s["object"], json!({"id": "http://a"}));
        assert_eq!(
            s["context"]["contextActivities"]["parent"][0],
            json!({"id": "http://p"})
        );
    }

    #[test]
    fn canonical_format_returns_the_preferred_language_only() {
        let mut s =
            json!({"verb": {"id": "http://v", "display": {"en-US": "did", "fr-FR": "a fait"}}});
        apply(
            &mut s,
            Format::Canonical,
            &accept_languages(Some("fr;q=0.9, de;q=0.5")),
        );
        assert_eq!(s["verb"]["display"], json!({"fr-FR": "a fait"}));
    }

    #[test]
    fn canonical_format_without_a_match_keeps_one_language() {
        let mut s =
            json!({"verb": {"id": "http://v", "display": {"en-US": "did", "fr-FR": "a fait"}}});
        apply(&mut s, Format::Canonical, &[]);
        assert_eq!(s["verb"]["display"].as_object().unwrap().len(), 1);
    }

    #[test]
    fn extensions_are_never_rewritten() {
        let mut s = json!({"result": {"extensions": {"http://e": {"name": {"a": "1", "b": "2"}}}}});
        let before = s.clone();
        apply(&mut s, Format::Canonical, &[]);
        assert_eq!(s, before);
    }
}
