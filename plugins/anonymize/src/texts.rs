//! The v0.1 form: whole statements in and out.

use serde_json::Value;
use xlrs_plugin_sdk::{export_transformer, Rejection, Statement, Transformer};

use crate::Anonymize;

impl Transformer for Anonymize {
    fn new() -> Self {
        Anonymize::new()
    }

    fn transform_batch(
        &mut self,
        mut statements: Vec<Statement>,
    ) -> Result<Vec<Statement>, Rejection> {
        let salt = self.salt()?;
        for statement in &mut statements {
            self.pseudonymise(&mut statement.actor, &salt);
            if let Some(members) = statement
                .actor
                .extra
                .get_mut("member")
                .and_then(Value::as_array_mut)
            {
                *members = self.members(members, &salt);
            }
        }
        Ok(statements)
    }
}

export_transformer!(Anonymize);
