//! The WebAssembly face of the converter: a transformer whose input is tracking-log lines
//! (`xlrs convert --from edx` feeds them). One text out per text in: the statement, or the
//! event unchanged when its type has no converter (the caller sees it is still an edX event).

use xlrs_plugin_sdk::{config, export_transformer, Rejection, Transformer};

use crate::{convert_line, Options};

struct EdxToXapi {
    /// From the plugin's `[config]`: `platform_url`, `uuid_namespace`.
    options: Options,
}

impl Transformer for EdxToXapi {
    fn new() -> Self {
        EdxToXapi {
            options: Options {
                platform_url: config("platform_url").unwrap_or_default(),
                uuid_namespace: config("uuid_namespace").filter(|n| !n.is_empty()),
            },
        }
    }

    fn transform_texts(&mut self, texts: Vec<String>) -> Result<Vec<String>, Rejection> {
        texts
            .into_iter()
            .enumerate()
            .map(|(i, line)| match convert_line(&line, &self.options) {
                Ok(Some(statement)) => Ok(statement.to_string()),
                Ok(None) => Ok(line),
                Err(e) => Err(Rejection::of(i, e.to_string())),
            })
            .collect()
    }
}

export_transformer!(EdxToXapi);
