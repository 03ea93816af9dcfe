//! Looking past the rules the LRS can store a statement without: what `violations` finds and
//! what `validate_waiving` lets through, with the quirks real producers send.

use serde_json::{json, Value};

use super::*;

fn statement(object: Value) -> Value {
    json!({
        "actor": {"objectType": "Agent", "account": {"homePage": "http://lms.example.org", "name": "7"}},
        "verb": {"id": "https://w3id.org/xapi/acrossx/verbs/evaluated"},
        "object": object
    })
}

fn found(v: &Value) -> Vec<(Rule, String)> {
    violations(v, XapiVersion::V1_0_3)
        .into_iter()
        .map(|e| (e.rule, e.path))
        .collect()
}

#[test]
fn a_valid_statement_breaks_no_rule() {
    assert!(found(&statement(json!({"id": "http://example.org/a"}))).is_empty());
}

#[test]
fn an_unknown_object_type_is_looked_past_and_the_object_checked_as_an_activity() {
    let group_activity = statement(json!({
        "id": "http://example.org/problem", "objectType": "GroupActivity",
        "definition": {"name": {"en-US": "Questions"}, "interactionType": "other"}
    }));
    assert_eq!(
        found(&group_activity),
        [(Rule::ObjectType, "object.objectType".to_string())]
    );
    let mut garbage = group_activity.clone();
    garbage["object"]["definition"]["name"] = json!("not a language map");
    assert_eq!(
        found(&garbage),
        [
            (Rule::ObjectType, "object.objectType".to_string()),
            (Rule::Type, "object.definition.name".to_string())
        ],
        "what follows a waivable rule is still checked, and a rule that is not waivable ends it"
    );
}

#[test]
fn every_waivable_rule_of_a_statement_is_found_in_order() {
    let mut s = statement(json!({"objectType": "Activity"}));
    s["result"] = json!({"score": {"raw": 0, "min": 0, "max": 0}});
    s["context"] = json!({"contextActivities": {
        "grouping": [{"id": "0b1c4a3e-5a4f-4c55-9c4c-1c1d4b1f0f0e"}],
        "parent": [{"id": "http://example.org/course", "objectType": "Course"}]
    }});
    assert_eq!(
        found(&s),
        [
            (Rule::ActivityId, "object.id".to_string()),
            (Rule::Score, "result.score.min".to_string()),
            (
                Rule::Iri,
                "context.contextActivities.grouping[0].id".to_string()
            ),
            (
                Rule::ObjectType,
                "context.contextActivities.parent[0].objectType".to_string()
            ),
        ]
    );
}

#[test]
fn a_statement_passes_only_when_every_rule_it_breaks_is_waived() {
    let s = statement(json!({"id": "http://example.org/p", "objectType": "GroupActivity"}));
    let passed = validate_waiving(&s, XapiVersion::V1_0_3, &[Rule::ObjectType]).expect("waived");
    assert_eq!(passed.len(), 1);
    assert_eq!(passed[0].rule, Rule::ObjectType);
    assert_eq!(
        validate_waiving(&s, XapiVersion::V1_0_3, &[Rule::Score]).map_err(|e| e.rule),
        Err(Rule::ObjectType)
    );
    assert_eq!(
        validate_statement(&s, XapiVersion::V1_0_3).map_err(|e| e.rule),
        Err(Rule::ObjectType),
        "strict validation is unchanged"
    );
}

#[test]
fn a_rule_the_lrs_cannot_look_past_is_not_waived_even_when_named() {
    let mut s = statement(json!({"id": "http://example.org/p"}));
    s.as_object_mut().expect("an object").remove("verb");
    assert!(!Rule::Required.waivable());
    assert_eq!(
        found(&s),
        [(Rule::Required, "verb".to_string())],
        "listed last"
    );
    assert!(validate_waiving(&s, XapiVersion::V1_0_3, &[]).is_err());
}
