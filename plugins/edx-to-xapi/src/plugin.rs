//! The WebAssembly face of the converter: a transformer whose input is tracking-log lines
//! (`xlrs convert --from edx` feeds them). One text out per line in, as the transformer
//! contract wants:
//!
//! - the statement, when ERB makes one;
//! - a JSON array of the statements, when ERB makes several (a multi-question problem);
//! - the line unchanged, when the event has no converter (the caller sees an edX event);
//! - a rejection of the line when it cannot be converted, or when a statement has no object
//!   id (ERB's router drops such events).

use xlrs_plugin_sdk::{config, export_transformer, Rejection, Transformer};

use crate::{convert_all, has_object_ids, ConvertError, Options};

struct EdxToXapi {
    /// From the plugin's `[config]` (see plugin.toml), or why it is unusable.
    options: Result<Options, ConvertError>,
}

impl Transformer for EdxToXapi {
    fn new() -> Self {
        EdxToXapi {
            options: Options::from_config(config),
        }
    }

    fn transform_texts(&mut self, texts: Vec<String>) -> Result<Vec<String>, Rejection> {
        let options = self
            .options
            .as_ref()
            .map_err(|e| Rejection::failure(e.to_string()))?;
        texts
            .into_iter()
            .enumerate()
            .map(|(i, line)| {
                let event = serde_json::from_str(&line).map_err(|e| {
                    Rejection::of(i, ConvertError::InvalidJson(e.to_string()).to_string())
                })?;
                let mut statements =
                    convert_all(&event, options).map_err(|e| Rejection::of(i, e.to_string()))?;
                if statements.is_empty() {
                    return Ok(line);
                }
                if !has_object_ids(&statements) {
                    return Err(Rejection::of(
                        i,
                        "no object id can be made for this event (ERB drops it)",
                    ));
                }
                Ok(match statements.len() {
                    1 => statements.remove(0).to_string(),
                    _ => serde_json::Value::Array(statements).to_string(),
                })
            })
            .collect()
    }
}

export_transformer!(EdxToXapi);
