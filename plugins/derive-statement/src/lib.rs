//! `derive-statement` — a reactor (plugin contract v0.2) that writes statements back through
//! the LRS, as SQL LRS's "reactions" do: for each stored statement with verb `when_verb`, it
//! derives one with verb `then_verb` about the same actor — e.g. a course `completed` when its
//! final assessment is `passed`. The derived statement's object is the source's parent
//! activity (`context.contextActivities.parent[0]`; `object = "same"`: the source's object),
//! its `context.statement` a StatementRef to the source, its `timestamp` the source's, and its
//! `id` a name-based UUID (v5) of the source's id and `then_verb`: offered the same statement
//! again, it derives the identical statement, which the LRS accepts without storing it twice.
//!
//! Config: `when_verb`, `then_verb` (required, different, so a derived statement never
//! derives again), `then_display` (its `en-US` display, optional), `object` (`parent`, the
//! default, or `same`).

use serde_json::{json, Value};
use uuid::Uuid;

/// What the plugin derives, from its config.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The verb of the statements it reacts to.
    pub when_verb: String,
    /// The verb of the statements it derives.
    pub then_verb: String,
    /// Their `en-US` display.
    pub then_display: Option<String>,
    /// Whether the derived statement is about the source's parent activity (else its object).
    pub parent: bool,
}

impl Rule {
    /// Reads the rule from config values (`None` when unset); says what is wrong.
    pub fn from_config(
        when_verb: Option<String>,
        then_verb: Option<String>,
        then_display: Option<String>,
        object: Option<String>,
    ) -> Result<Self, String> {
        let when_verb = when_verb.ok_or("config `when_verb` is not set")?;
        let then_verb = then_verb.ok_or("config `then_verb` is not set")?;
        if when_verb == then_verb {
            return Err(
                "`when_verb` and `then_verb` must differ (a derived statement would derive again)"
                    .into(),
            );
        }
        let parent = match object.as_deref() {
            None | Some("parent") => true,
            Some("same") => false,
            Some(other) => return Err(format!("object `{other}`: use `parent` or `same`")),
        };
        Ok(Self {
            when_verb,
            then_verb,
            then_display,
            parent,
        })
    }

    /// The statement derived from `source`, or None when it is not one to react to (another
    /// verb, or no parent activity to be about).
    pub fn derive(&self, source: &Value) -> Option<Value> {
        if source["verb"]["id"].as_str() != Some(self.when_verb.as_str()) {
            return None;
        }
        let source_id = source["id"].as_str()?;
        let object = if self.parent {
            let parents = &source["context"]["contextActivities"]["parent"];
            match parents {
                Value::Array(items) => items.first()?.clone(),
                Value::Object(_) => parents.clone(),
                _ => return None,
            }
        } else {
            source["object"].clone()
        };
        let name = format!("{source_id} {}", self.then_verb);
        let id = Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes());
        let mut verb = json!({"id": self.then_verb});
        if let Some(display) = &self.then_display {
            verb["display"] = json!({"en-US": display});
        }
        let mut derived = json!({
            "id": id.to_string(),
            "actor": source["actor"],
            "verb": verb,
            "object": object,
            "context": {"statement": {"objectType": "StatementRef", "id": source_id}},
        });
        if let Some(registration) = source["context"]["registration"].as_str() {
            derived["context"]["registration"] = json!(registration);
        }
        if let Some(timestamp) = source["timestamp"].as_str() {
            derived["timestamp"] = json!(timestamp);
        }
        Some(derived)
    }
}

#[cfg(target_arch = "wasm32")]
mod plugin {
    use serde_json::Value;
    use xlrs_plugin_sdk::{config, export_reactor, ReactionError, Reactor};

    use super::Rule;

    struct DeriveStatement;

    impl Reactor for DeriveStatement {
        fn new() -> Self {
            DeriveStatement
        }

        fn react(&mut self, statements: &[Value]) -> Result<Vec<Value>, ReactionError> {
            let rule = Rule::from_config(
                config("when_verb"),
                config("then_verb"),
                config("then_display"),
                config("object"),
            )
            .map_err(ReactionError::Retry)?;
            Ok(statements.iter().filter_map(|s| rule.derive(s)).collect())
        }
    }

    export_reactor!(DeriveStatement);
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSED: &str = "http://adlnet.gov/expapi/verbs/passed";
    const COMPLETED: &str = "http://adlnet.gov/expapi/verbs/completed";

    fn rule() -> Rule {
        Rule::from_config(
            Some(PASSED.into()),
            Some(COMPLETED.into()),
            Some("completed".into()),
            None,
        )
        .unwrap()
    }

    fn passed_final_exam() -> Value {
        json!({
            "id": "0d5c3f0e-7a0b-4c39-9a52-2f4b7e0c1a11",
            "actor": {"mbox": "mailto:learner@example.org"},
            "verb": {"id": PASSED},
            "object": {"id": "https://example.org/course/1/final-exam"},
            "timestamp": "2026-12-03T01:00:00Z",
            "context": {"registration": "9b2c1f5e-2a4d-4c8e-8a1b-3f6d7e9c0b21",
                        "contextActivities": {"parent": [{"id": "https://example.org/course/1"}]}}
        })
    }

    #[test]
    fn a_passed_final_exam_derives_the_course_completed_pointing_at_it() {
        let derived = rule().derive(&passed_final_exam()).unwrap();
        assert_eq!(derived["verb"]["id"], COMPLETED);
        assert_eq!(derived["object"]["id"], "https://example.org/course/1");
        assert_eq!(derived["actor"]["mbox"], "mailto:learner@example.org");
        assert_eq!(
            derived["context"]["statement"]["id"],
            "0d5c3f0e-7a0b-4c39-9a52-2f4b7e0c1a11"
        );
        assert_eq!(
            derived["context"]["registration"],
            "9b2c1f5e-2a4d-4c8e-8a1b-3f6d7e9c0b21"
        );
        assert_eq!(derived["timestamp"], "2026-12-03T01:00:00Z");
    }

    #[test]
    fn the_same_source_always_derives_the_same_id() {
        let a = rule().derive(&passed_final_exam()).unwrap();
        let b = rule().derive(&passed_final_exam()).unwrap();
        assert_eq!(a["id"], b["id"]);
        let mut other = passed_final_exam();
        other["id"] = json!("1d5c3f0e-7a0b-4c39-9a52-2f4b7e0c1a11");
        assert_ne!(rule().derive(&other).unwrap()["id"], a["id"]);
    }

    #[test]
    fn other_verbs_and_statements_without_a_parent_derive_nothing() {
        let mut s = passed_final_exam();
        s["verb"]["id"] = json!(COMPLETED);
        assert!(rule().derive(&s).is_none());
        let mut orphan = passed_final_exam();
        orphan["context"] = json!({});
        assert!(rule().derive(&orphan).is_none());
    }

    #[test]
    fn a_rule_that_would_derive_from_its_own_statements_is_refused() {
        let e =
            Rule::from_config(Some(PASSED.into()), Some(PASSED.into()), None, None).unwrap_err();
        assert!(e.contains("must differ"));
    }
}
