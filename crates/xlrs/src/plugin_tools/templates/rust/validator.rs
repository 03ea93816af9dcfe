//! `{{name}}` — an xlrs validator: rejects statements with the verb set as `deny_verb` in
//! plugin.toml. Replace `validate` with your own rule.

use xlrs_plugin_sdk::{config, export_validator, Statement, Validator};

struct Plugin {
    /// The verb IRI this LRS does not accept.
    deny_verb: String,
}

impl Validator for Plugin {
    fn new() -> Self {
        Plugin {
            deny_verb: config("deny_verb")
                .unwrap_or_else(|| "http://example.org/verbs/forbidden".into()),
        }
    }

    fn validate(&mut self, statement: &Statement) -> Result<(), String> {
        if statement.verb.id == self.deny_verb {
            return Err(format!("the verb {} is not accepted here", self.deny_verb));
        }
        Ok(())
    }
}

export_validator!(Plugin);
