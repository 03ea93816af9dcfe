//! `{{name}}` — an xlrs transformer: records in `context.extensions` which plugin processed
//! each statement (the extension IRI is `extension` in plugin.toml). Replace `transform` with
//! your own rewrite; ids must stay unchanged.

use serde_json::{json, Map, Value};
use xlrs_plugin_sdk::{config, export_transformer, Statement, Transformer};

struct Plugin {
    /// The extension IRI to set.
    extension: String,
}

/// The object at `key` of `map`, made when missing.
fn object<'a>(map: &'a mut Map<String, Value>, key: &str) -> Result<&'a mut Map<String, Value>, String> {
    map.entry(key)
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| format!("{key} is not an object"))
}

impl Transformer for Plugin {
    fn new() -> Self {
        Plugin {
            extension: config("extension")
                .unwrap_or_else(|| "http://example.org/extensions/processed-by".into()),
        }
    }

    fn transform(&mut self, mut statement: Statement) -> Result<Statement, String> {
        let context = object(&mut statement.extra, "context")?;
        let extensions = object(context, "extensions")?;
        extensions.insert(self.extension.clone(), json!("{{name}}"));
        Ok(statement)
    }
}

export_transformer!(Plugin);
