//! `require-fields` — a validator that rejects statements missing configured paths.
//!
//! Config (`[config]` in plugin.toml): `fields = "context.registration,result.score.scaled"`.

use serde_json::Value;
use xlrs_plugin_sdk::{config, export_validator, log, Level, Rejection, Statement, Validator};

struct RequireFields {
    /// Dotted paths every statement must have (non-null).
    fields: Vec<String>,
}

fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(value, |v, key| v.get(key))
        .filter(|v| !v.is_null())
}

impl Validator for RequireFields {
    fn new() -> Self {
        let fields = config("fields")
            .unwrap_or_default()
            .split(',')
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty())
            .collect();
        RequireFields { fields }
    }

    fn validate_batch(&mut self, statements: &[Statement]) -> Result<(), Vec<Rejection>> {
        let mut rejections = Vec::new();
        for (i, statement) in statements.iter().enumerate() {
            let value = serde_json::to_value(statement).unwrap_or(Value::Null);
            for field in &self.fields {
                if lookup(&value, field).is_none() {
                    rejections.push(Rejection::of(i, format!("{field} is required by this LRS")));
                }
            }
        }
        if rejections.is_empty() {
            Ok(())
        } else {
            log(Level::Debug, &format!("rejected {} statement(s)", rejections.len()));
            Err(rejections)
        }
    }
}

export_validator!(RequireFields);
