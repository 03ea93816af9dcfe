//! Language maps (`{"en-US": "completed", "fr": "terminé"}`): picking the best entry for a
//! reader's languages.

use serde_json::{Map, Value};

/// The entry of `map` best matching `preferred` (RFC 5646 tags, most wanted first): an exact
/// tag, then the same primary language (`en` for `en-GB`), then `und`, then any entry.
pub fn best<'a>(map: &'a Map<String, Value>, preferred: &[&str]) -> Option<&'a str> {
    let text = |(_, v): (&String, &'a Value)| v.as_str();
    let primary = |tag: &str| tag.split('-').next().unwrap_or(tag).to_ascii_lowercase();
    for wanted in preferred {
        if let Some(t) = map
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(wanted))
            .and_then(text)
        {
            return Some(t);
        }
        let p = primary(wanted);
        if let Some(t) = map.iter().find(|(k, _)| primary(k) == p).and_then(text) {
            return Some(t);
        }
    }
    map.get("und")
        .and_then(Value::as_str)
        .or_else(|| map.iter().find_map(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn an_exact_tag_wins_over_the_same_language() {
        let m = map(json!({"en-GB": "colour", "en-US": "color"}));
        assert_eq!(best(&m, &["en-US"]), Some("color"));
    }

    #[test]
    fn the_primary_language_matches_a_regional_tag() {
        let m = map(json!({"fr-CA": "terminé"}));
        assert_eq!(best(&m, &["fr-FR", "en"]), Some("terminé"));
    }

    #[test]
    fn without_a_match_any_entry_is_better_than_none() {
        let m = map(json!({"de": "abgeschlossen"}));
        assert_eq!(best(&m, &["en"]), Some("abgeschlossen"));
        assert_eq!(best(&Map::new(), &["en"]), None);
    }
}
