//! `require-fields` — a validator that rejects statements missing configured paths.
//!
//! Config (`[config]` in plugin.toml): `fields = "context.registration,result.score.scaled"`.

wit_bindgen::generate!({ world: "validator", path: "../../wit/v0.1" });

use serde_json::Value;
use xlrs::plugin::host::{config, log};
use xlrs::plugin::types::Level;

struct RequireFields;

fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(value, |v, key| v.get(key))
        .filter(|v| !v.is_null())
}

impl Guest for RequireFields {
    fn validate(statements: Vec<String>) -> Result<(), Vec<Error>> {
        let fields: Vec<String> = config("fields")
            .unwrap_or_default()
            .split(',')
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty())
            .collect();
        let mut errors = Vec::new();
        for (i, text) in statements.iter().enumerate() {
            let statement: Value = match serde_json::from_str(text) {
                Ok(v) => v,
                Err(e) => {
                    errors.push(Error { message: format!("not JSON: {e}"), statement_index: Some(i as u32) });
                    continue;
                }
            };
            for field in &fields {
                if lookup(&statement, field).is_none() {
                    errors.push(Error {
                        message: format!("{field} is required by this LRS"),
                        statement_index: Some(i as u32),
                    });
                }
            }
        }
        if !errors.is_empty() {
            log(Level::Debug, &format!("rejected {} statement(s)", errors.len()));
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

export!(RequireFields);
