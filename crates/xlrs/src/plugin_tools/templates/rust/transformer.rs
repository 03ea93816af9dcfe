//! `{{name}}` — an xlrs transformer (contract v0.2: it answers only what it changes): records
//! in `context.extensions` which plugin processed each statement (the extension IRI is
//! `extension` in plugin.toml), as a JSON merge patch. Replace `change` with your own rewrite;
//! ids must stay unchanged.

use serde_json::{json, Map, Value};
use xlrs_plugin_sdk::{config, export_field_transformer, Change, FieldTransformer, Fields};

struct Plugin {
    /// The extension IRI to set.
    extension: String,
}

impl FieldTransformer for Plugin {
    fn new() -> Self {
        Plugin {
            extension: config("extension")
                .unwrap_or_else(|| "http://example.org/extensions/processed-by".into()),
        }
    }

    fn change(&mut self, _statement: &Fields) -> Result<Change, String> {
        // A merge patch merges objects: the statement's other context properties and
        // extensions stay as they are.
        let mut extensions = Map::new();
        extensions.insert(self.extension.clone(), json!("{{name}}"));
        Ok(Change::Patch(json!({ "context": { "extensions": Value::Object(extensions) } })))
    }
}

export_field_transformer!(Plugin);
