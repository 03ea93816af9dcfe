//! Canonical activity definitions kept as contributions, for stores shared by several
//! processes: each distinct definition of an activity is one row with the last position it was
//! stored at, and the canonical definition is every row merged in position order. No process
//! reads before it writes, so processes never race on a definition.
//!
//! Merging only the last occurrence of each distinct definition gives what merging every
//! occurrence gives: [`activity::merge`] keeps, for each property (and each language or
//! extension key), the value of the last definition that has it, and the last occurrence of
//! every definition is kept.

use serde_json::Value;
use sha2::{Digest, Sha256};
use xlrs_xapi::activity;

use crate::group_commit::Positioned;
use crate::{Definition, StoreError};

/// The key of a definition among the contributions to its activity: SHA-256 of the activity id
/// and the definition's JSON, lowercase hex.
pub fn contribution_key(activity: &str, definition: &Value) -> String {
    let mut hash = Sha256::new();
    hash.update(activity.as_bytes());
    hash.update([0]);
    hash.update(definition.to_string().as_bytes());
    hex::encode(hash.finalize())
}

/// The canonical definition made of contributions given in position order.
pub fn canonical(contributions: impl IntoIterator<Item = Value>) -> Option<Value> {
    contributions.into_iter().reduce(|mut canonical, newer| {
        activity::merge(&mut canonical, &newer);
        canonical
    })
}

/// The canonical definition made of contributions kept as JSON text, given in position order.
pub fn canonical_of_texts<'a>(
    texts: impl IntoIterator<Item = &'a str>,
) -> Result<Option<Value>, StoreError> {
    let contributions = texts
        .into_iter()
        .map(|text| {
            serde_json::from_str(text)
                .map_err(|e| StoreError::Internal(format!("a stored activity definition: {e}")))
        })
        .collect::<Result<Vec<Value>, _>>()?;
    Ok(canonical(contributions))
}

/// The definitions a round's statements carry, at their positions, in position order.
pub fn of_round(round: &[Positioned<'_>]) -> Vec<Definition> {
    round
        .iter()
        .flat_map(|p| {
            p.statement
                .index
                .definitions
                .iter()
                .map(|(activity, definition)| Definition {
                    activity: activity.clone(),
                    definition: definition.clone(),
                    stored: p.stored,
                })
        })
        .collect()
}

/// The last occurrence of each distinct definition among `definitions` (in position order),
/// with its contribution key.
pub fn last_occurrences(definitions: Vec<Definition>) -> Vec<(String, Definition)> {
    let mut last: std::collections::HashMap<String, Definition> = std::collections::HashMap::new();
    for d in definitions {
        let key = contribution_key(&d.activity, &d.definition);
        last.insert(key, d);
    }
    let mut out: Vec<(String, Definition)> = last.into_iter().collect();
    out.sort_by_key(|(_, d)| d.stored);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn merged_in_full(all: &[Value]) -> Option<Value> {
        canonical(all.iter().cloned())
    }

    #[test]
    fn merging_last_occurrences_gives_what_merging_every_occurrence_gives() {
        let a = json!({"name": {"en": "a"}, "type": "http://t/a"});
        let b = json!({"name": {"en": "b", "fr": "b"}, "extensions": {"http://x": 1}});
        let c = json!({"description": {"en": "c"}, "type": "http://t/c"});
        let sequence = [
            a.clone(),
            b.clone(),
            a.clone(),
            c.clone(),
            b.clone(),
            a.clone(),
        ];
        let definitions: Vec<Definition> = sequence
            .iter()
            .enumerate()
            .map(|(i, d)| Definition {
                activity: "http://act".into(),
                definition: d.clone(),
                stored: i as i64 + 1,
            })
            .collect();
        let kept = last_occurrences(definitions);
        assert_eq!(kept.len(), 3, "one row per distinct definition");
        let from_rows = canonical(kept.into_iter().map(|(_, d)| d.definition));
        assert_eq!(from_rows, merged_in_full(&sequence));
        assert_eq!(
            from_rows,
            Some(json!({
                "name": {"en": "a", "fr": "b"},
                "type": "http://t/a",
                "extensions": {"http://x": 1},
                "description": {"en": "c"}
            }))
        );
    }

    #[test]
    fn the_key_tells_activities_and_definitions_apart() {
        let d = json!({"name": {"en": "x"}});
        assert_ne!(
            contribution_key("http://a", &d),
            contribution_key("http://b", &d)
        );
        assert_ne!(
            contribution_key("http://a", &d),
            contribution_key("http://a", &json!({"name": {"en": "y"}}))
        );
        assert_eq!(contribution_key("http://a", &d).len(), 64);
    }
}
