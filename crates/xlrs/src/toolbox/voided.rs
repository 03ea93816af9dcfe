//! Voided statements in a copy. A statements query leaves voided statements out, so a read that
//! meets a voiding statement fetches the statement it voids and emits it just before: a copy
//! then holds both, and the destination voids the copy again when the voiding one arrives.

use serde_json::Value;
use uuid::Uuid;

use xlrs_xapi::statement::{voided_target, VOIDED_VERB};

/// The id of the statement `statement` (serialized) voids, when it is a voiding statement.
pub fn target_of(statement: &str) -> Option<Uuid> {
    if !statement.contains(VOIDED_VERB) {
        return None;
    }
    target_of_value(&serde_json::from_str(statement).ok()?)
}

/// [`target_of`] for a parsed statement.
pub fn target_of_value(statement: &Value) -> Option<Uuid> {
    voided_target(statement["verb"]["id"].as_str()?, &statement["object"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_voided_verb_with_a_statement_ref_names_a_target() {
        let id = "3b6f3c1e-8f6a-4f57-9c3e-2a1f0c5d7e90";
        let voiding = format!(
            r#"{{"verb":{{"id":"{VOIDED_VERB}"}},"object":{{"objectType":"StatementRef","id":"{id}"}}}}"#
        );
        assert_eq!(target_of(&voiding), Uuid::parse_str(id).ok());
        let activity = format!(r#"{{"verb":{{"id":"{VOIDED_VERB}"}},"object":{{"id":"{id}"}}}}"#);
        assert_eq!(target_of(&activity), None);
        assert_eq!(target_of(r#"{"verb":{"id":"x"}}"#), None);
    }
}
