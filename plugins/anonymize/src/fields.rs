//! The v0.2 form: reads each statement's `/actor` and answers a merge patch of it — an
//! Agent's written straight as JSON text (building and serializing a `Value` cost more than
//! the rest of the plugin's work), a Group's built as a value.

use serde_json::{json, Map, Value};
use xlrs_plugin_sdk::{
    export_field_transformer, Actor, Change, FieldTransformer, Fields, Rejection,
};

use crate::{pseudonym, Anonymize};

/// Agents' patches kept, by the actor's JSON text, before the cache is emptied: a learner's
/// statements come in runs, and an agent's patch depends on nothing else (the salt and
/// homePage are the instance's). 4,096 of about 200 bytes each.
const CACHED: usize = 4096;

/// The properties of an actor its pseudonymous account replaces.
const HIDDEN: [&str; 4] = ["mbox", "mbox_sha1sum", "openid", "name"];

impl Anonymize {
    /// The merge patch that pseudonymises an actor, or None when it has nothing to hide.
    fn actor_patch(&self, actor: &Actor, salt: &str) -> Option<Value> {
        let mut patch = Map::new();
        if let Some(account) = self.account(actor, salt) {
            for key in HIDDEN {
                patch.insert(key.into(), Value::Null);
            }
            patch.insert(
                "account".into(),
                json!({"homePage": account.home_page, "name": account.name}),
            );
        }
        if let Some(members) = actor.extra.get("member").and_then(Value::as_array) {
            let changed = self.members(members, salt);
            if &changed != members {
                patch.insert("member".into(), Value::Array(changed));
            }
        }
        (!patch.is_empty()).then_some(Value::Object(patch))
    }
}

impl FieldTransformer for Anonymize {
    fn new() -> Self {
        Anonymize::new()
    }

    fn change_batch(&mut self, statements: &[Fields]) -> Result<Vec<Change>, Vec<Rejection>> {
        let salt = self.salt().map_err(|r| vec![r])?;
        // An Agent's patch up to its pseudonym (a hex digest: nothing to escape).
        let nulls: String = HIDDEN
            .iter()
            .map(|key| format!(r#""{key}":null,"#))
            .collect();
        let head = format!(
            r#"{{"actor":{{{nulls}"account":{{"homePage":{},"name":""#,
            Value::from(self.home_page.as_str())
        );
        Ok(statements
            .iter()
            .map(|s| {
                let Some(text) = s.text("/actor") else {
                    return Change::Unchanged;
                };
                if let Some(patch) = self.patches.get(&text) {
                    return patch.clone().map_or(Change::Unchanged, Change::PatchJson);
                }
                let Ok(actor) = serde_json::from_str::<Actor>(&text) else {
                    return Change::Unchanged;
                };
                if actor.extra.contains_key("member") {
                    return match self.actor_patch(&actor, &salt) {
                        Some(patch) => Change::Patch(json!({ "actor": patch })),
                        None => Change::Unchanged,
                    };
                }
                let patch = pseudonym(&actor, &salt).map(|name| format!(r#"{head}{name}"}}}}}}"#));
                if self.patches.len() >= CACHED {
                    self.patches.clear();
                }
                self.patches.insert(text, patch.clone());
                patch.map_or(Change::Unchanged, Change::PatchJson)
            })
            .collect())
    }
}

export_field_transformer!(Anonymize);
