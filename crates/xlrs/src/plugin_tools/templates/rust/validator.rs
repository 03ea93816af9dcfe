//! `{{name}}` — an xlrs validator (contract v0.2: it reads only the fields it needs): rejects
//! statements with the verb set as `deny_verb` in plugin.toml. Replace `check` with your own
//! rule.

use xlrs_plugin_sdk::{config, export_field_validator, FieldValidator, Fields};

struct Plugin {
    /// The verb IRI this LRS does not accept.
    deny_verb: String,
}

impl FieldValidator for Plugin {
    fn new() -> Self {
        Plugin {
            deny_verb: config("deny_verb")
                .unwrap_or_else(|| "http://example.org/verbs/forbidden".into()),
        }
    }

    fn check(&mut self, statement: &Fields) -> Result<(), String> {
        if statement.string("/verb/id").as_deref() == Some(self.deny_verb.as_str()) {
            return Err(format!("the verb {} is not accepted here", self.deny_verb));
        }
        Ok(())
    }
}

export_field_validator!(Plugin);
