//! The v0.2 form: reads each statement's `/actor` and answers a merge patch of it — an
//! Agent's written straight as JSON text (building and serializing a `Value` cost more than
//! the rest of the plugin's work), a Group's built as a value.

use serde_json::{json, Map, Value};
use xlrs_plugin_sdk::{
    export_field_transformer, Actor, Change, FieldTransformer, Fields, Rejection,
};

use crate::{pseudonym, Anonymize};

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
                let Some(actor) = s.parse::<Actor>("/actor") else {
                    return Change::Unchanged;
                };
                if actor.extra.contains_key("member") {
                    return match self.actor_patch(&actor, &salt) {
                        Some(patch) => Change::Patch(json!({ "actor": patch })),
                        None => Change::Unchanged,
                    };
                }
                match pseudonym(&actor, &salt) {
                    Some(name) => Change::PatchJson(format!(r#"{head}{name}"}}}}}}"#)),
                    None => Change::Unchanged,
                }
            })
            .collect())
    }
}

export_field_transformer!(Anonymize);
