//! `openedx-compat`: an admission plugin that stores, as sent, the statements Open edX's
//! event-routing-backends (ERB) emits that break xAPI 1.0.3 in the ways ERB is known to, and
//! nothing else. A statement is admitted only when it carries ERB's transformer-version
//! extension and every rule it breaks is one of the quirks below; any other invalid statement
//! is left to the next admission plugin, or refused. The quirks (README.md names the ERB
//! events each comes from) are pure functions of the statement, tested natively.

use serde_json::Value;

/// The context extension ERB sets on every statement: `event-routing-backends@<version>`.
pub const TRANSFORMER_VERSION: &str =
    "https://w3id.org/xapi/openedx/extension/transformer-version";

/// True when the statement says ERB made it.
pub fn from_erb(statement: &Value) -> bool {
    statement
        .pointer("/context/extensions")
        .and_then(|e| e.get(TRANSFORMER_VERSION))
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with("event-routing-backends@"))
}

/// The value at a host violation path (`context.contextActivities.parent[0].objectType`).
fn at<'a>(statement: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = statement;
    for part in path.split('.') {
        let (key, index) = match part.split_once('[') {
            Some((key, rest)) => (key, rest.strip_suffix(']')?.parse::<usize>().ok()),
            None => (part, None),
        };
        current = current.get(key)?;
        if let Some(i) = index {
            current = current.get(i)?;
        }
    }
    Some(current)
}

/// `parent[N].objectType` (or `grouping[N].id`, …) of the context activity list `list`.
fn in_context_list(path: &str, list: &str, leaf: &str) -> bool {
    path.strip_prefix("context.contextActivities.")
        .and_then(|rest| rest.strip_prefix(list))
        .and_then(|rest| rest.strip_prefix('['))
        .and_then(|rest| rest.split_once(']'))
        .is_some_and(|(index, rest)| {
            !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()) && rest == leaf
        })
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// True when the violation of `rule` at `path` is one of ERB's known quirks.
pub fn is_erb_quirk(statement: &Value, rule: &str, path: &str) -> bool {
    let value = at(statement, path);
    match rule {
        // problem_check of a problem with several questions: the problem is a
        // "GroupActivity", as the object of the problem's statement or as the parent of each
        // question's.
        "object-type" if path == "object.objectType" || in_context_list(path, "parent", ".objectType") => {
            value.and_then(Value::as_str) == Some("GroupActivity")
        }
        // A problem or subsection worth nothing: a score of 0 out of 0.
        "score" if path == "result.score.min" => {
            let score = statement.pointer("/result/score");
            let number = |key: &str| score.and_then(|s| s.get(key)).and_then(Value::as_f64);
            matches!((number("min"), number("max")), (Some(min), Some(max)) if min == max)
        }
        // Special exams: the attempt's grouping activity is identified by the exam
        // attempt's bare UUID.
        "iri" if in_context_list(path, "grouping", ".id") => {
            value.and_then(Value::as_str).is_some_and(is_uuid)
        }
        // problem_check sent by the browser with only the required data: the problem's
        // interaction has no id.
        "activity-id" if path == "object.id" => {
            statement.pointer("/object/definition/type").and_then(Value::as_str)
                == Some("http://adlnet.gov/expapi/activities/cmi.interaction")
        }
        _ => false,
    }
}

/// The rules to waive when every violation is an ERB quirk of an ERB statement, else `None`.
pub fn waivers<'a>(
    statement: &Value,
    violations: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<Vec<String>> {
    if !from_erb(statement) {
        return None;
    }
    let mut rules = Vec::new();
    for (rule, path) in violations {
        if !is_erb_quirk(statement, rule, path) {
            return None;
        }
        if !rules.iter().any(|r| r == rule) {
            rules.push(rule.to_string());
        }
    }
    (!rules.is_empty()).then_some(rules)
}

#[cfg(target_arch = "wasm32")]
mod plugin {
    use serde_json::Value;
    use xlrs_plugin_sdk::{config, export_admission, Admission, Verdict, Violation};

    struct OpenEdxCompat {
        /// The credentials whose statements are admitted; `None`: any.
        credentials: Option<Vec<String>>,
    }

    impl Admission for OpenEdxCompat {
        fn new() -> Self {
            let credentials = config("credentials").map(|list| {
                list.split(',')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect()
            });
            Self { credentials }
        }

        fn admit(&mut self, credential: &str, statement: &Value, violations: &[Violation]) -> Verdict {
            if let Some(allowed) = &self.credentials {
                if !allowed.iter().any(|c| c == credential) {
                    return Verdict::Reject;
                }
            }
            let found = violations.iter().map(|v| (v.rule.as_str(), v.path.as_str()));
            match super::waivers(statement, found) {
                Some(rules) => Verdict::Accept(rules),
                None => Verdict::Reject,
            }
        }
    }

    export_admission!(OpenEdxCompat);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn erb(mut statement: Value) -> Value {
        statement["context"]["extensions"] =
            json!({TRANSFORMER_VERSION: "event-routing-backends@9.3.0"});
        statement
    }

    #[test]
    fn a_group_activity_object_or_parent_of_erb_is_admitted() {
        let s = erb(json!({"object": {"id": "http://x/p", "objectType": "GroupActivity"},
                           "context": {"contextActivities": {"parent": [{"id": "http://x/q", "objectType": "GroupActivity"}]}}}));
        assert_eq!(
            waivers(&s, [("object-type", "object.objectType"), ("object-type", "context.contextActivities.parent[0].objectType")]),
            Some(vec!["object-type".to_string()])
        );
    }

    #[test]
    fn another_unknown_object_type_is_not() {
        let s = erb(json!({"object": {"id": "http://x/p", "objectType": "Course"}}));
        assert_eq!(waivers(&s, [("object-type", "object.objectType")]), None);
    }

    #[test]
    fn only_a_score_of_equal_bounds_is_admitted() {
        let zero = erb(json!({"result": {"score": {"raw": 0, "min": 0, "max": 0}}}));
        assert!(waivers(&zero, [("score", "result.score.min")]).is_some());
        let upside_down = erb(json!({"result": {"score": {"raw": 0, "min": 5, "max": 1}}}));
        assert_eq!(waivers(&upside_down, [("score", "result.score.min")]), None);
        assert_eq!(waivers(&zero, [("score", "result.score.scaled")]), None);
    }

    #[test]
    fn only_a_bare_uuid_as_a_grouping_id_is_admitted() {
        let exam = erb(json!({"context": {"contextActivities": {"grouping": [{"id": "438AD672-DE2C-4F0B-8876-35444E7DD746"}]}}}));
        assert!(waivers(&exam, [("iri", "context.contextActivities.grouping[0].id")]).is_some());
        let other = erb(json!({"context": {"contextActivities": {"grouping": [{"id": "not an iri"}]}}}));
        assert_eq!(waivers(&other, [("iri", "context.contextActivities.grouping[0].id")]), None);
        assert_eq!(waivers(&exam, [("iri", "verb.id")]), None, "only where ERB puts it");
    }

    #[test]
    fn an_interaction_without_id_is_admitted_but_no_other_activity() {
        let browser = erb(json!({"object": {"objectType": "Activity", "definition": {"type": "http://adlnet.gov/expapi/activities/cmi.interaction"}}}));
        assert!(waivers(&browser, [("activity-id", "object.id")]).is_some());
        let course = erb(json!({"object": {"definition": {"type": "http://adlnet.gov/expapi/activities/course"}}}));
        assert_eq!(waivers(&course, [("activity-id", "object.id")]), None);
    }

    #[test]
    fn a_statement_not_from_erb_or_with_one_more_violation_is_not_admitted() {
        let plain = json!({"object": {"id": "http://x/p", "objectType": "GroupActivity"}});
        assert_eq!(waivers(&plain, [("object-type", "object.objectType")]), None);
        let s = erb(json!({"object": {"id": "http://x/p", "objectType": "GroupActivity"}}));
        assert_eq!(
            waivers(&s, [("object-type", "object.objectType"), ("required", "verb")]),
            None
        );
    }
}
