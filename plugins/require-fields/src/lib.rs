//! `require-fields` — a validator that rejects statements missing configured paths. A v0.2
//! field validator: it asks the host for each path of each statement (a JSON Pointer) and
//! never parses a statement.
//!
//! Config (`[config]` in plugin.toml): `fields = "context.registration,result.score.scaled"`.

use xlrs_plugin_sdk::{
    config, export_field_validator, log, pointer, FieldValidator, Fields, Level, Rejection,
};

struct RequireFields {
    /// The configured paths, each as written and as a JSON Pointer.
    fields: Vec<(String, String)>,
}

impl FieldValidator for RequireFields {
    fn new() -> Self {
        let fields = config("fields")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(|f| (f.to_string(), pointer(&f.split('.').collect::<Vec<_>>())))
            .collect();
        RequireFields { fields }
    }

    fn check_batch(&mut self, statements: &[Fields]) -> Vec<Rejection> {
        let rejections: Vec<Rejection> = statements
            .iter()
            .flat_map(|s| {
                self.fields
                    .iter()
                    .filter(|(_, at)| !s.has(at))
                    .map(|(field, _)| {
                        Rejection::of(s.index(), format!("{field} is required by this LRS"))
                    })
            })
            .collect();
        if !rejections.is_empty() {
            log(Level::Debug, &format!("rejected {} statement(s)", rejections.len()));
        }
        rejections
    }
}

export_field_validator!(RequireFields);
