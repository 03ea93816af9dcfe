//! The v0.2 form: reads each statement's `/actor` and answers a merge patch of it.

use serde_json::json;
use xlrs_plugin_sdk::{export_field_transformer, Change, FieldTransformer, Fields, Rejection};

use crate::Anonymize;

impl FieldTransformer for Anonymize {
    fn new() -> Self {
        Anonymize::new()
    }

    fn change_batch(&mut self, statements: &[Fields]) -> Result<Vec<Change>, Vec<Rejection>> {
        let salt = self.salt().map_err(|r| vec![r])?;
        Ok(statements
            .iter()
            .map(|s| {
                match s.get("/actor").and_then(|actor| self.actor_patch(&actor, &salt)) {
                    Some(patch) => Change::Patch(json!({ "actor": patch })),
                    None => Change::Unchanged,
                }
            })
            .collect())
    }
}

export_field_transformer!(Anonymize);
