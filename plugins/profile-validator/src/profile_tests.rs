//! Validation against ADL's published cmi5 and Video profiles (tests/data/profiles), with
//! statements shaped as a cmi5 LMS/AU and a video player send them.

use serde_json::{json, Value};

use super::*;

const CMI5: &str = include_str!("../../../tests/data/profiles/cmi5.jsonld");
const VIDEO: &str = include_str!("../../../tests/data/profiles/video.jsonld");
const CMI5_CATEGORY: &str = "https://w3id.org/xapi/cmi5/context/categories/cmi5";
const MOVEON: &str = "https://w3id.org/xapi/cmi5/context/categories/moveon";

/// A cmi5 "passed" statement as an AU sends it (cmi5 §9.3.5).
fn passed() -> Value {
    serde_json::from_str(include_str!(
        "../../../tests/data/profiles/cmi5-passed.json"
    ))
    .expect("the cmi5 passed statement")
}

fn cmi5() -> Profile {
    Profile::parse(CMI5).expect("ADL's cmi5 profile parses")
}

#[test]
fn adls_published_profiles_parse_with_every_template() {
    let p = cmi5();
    assert_eq!(p.id, "https://w3id.org/xapi/cmi5");
    assert_eq!(p.versions, vec!["https://w3id.org/xapi/cmi5/v1.0"]);
    assert_eq!(p.template_count(), 10);
    assert_eq!(Profile::parse(VIDEO).unwrap().template_count(), 9);
}

#[test]
fn a_statement_following_the_cmi5_passed_template_matches_it_and_the_general_restrictions() {
    let outcome = cmi5().validate(&passed());
    assert_eq!(
        outcome,
        Outcome {
            followed: vec![
                "https://w3id.org/xapi/cmi5#generalrestrictions".into(),
                "https://w3id.org/xapi/cmi5#passed".into()
            ],
            broken: vec![],
        }
    );
}

#[test]
fn presence_included_fails_when_the_location_finds_nothing() {
    let mut s = passed();
    s["result"].as_object_mut().unwrap().remove("duration");
    let outcome = cmi5().validate(&s);
    assert_eq!(
        outcome.broken,
        vec!["template https://w3id.org/xapi/cmi5#passed: $.result.duration is required (presence included) and missing"]
    );
}

#[test]
fn presence_excluded_fails_when_the_location_finds_a_value() {
    let mut s = passed();
    s["result"]["completion"] = json!(true);
    let broken = cmi5().validate(&s).broken;
    assert_eq!(broken.len(), 1);
    assert!(broken[0].ends_with("$.result.completion must be absent (presence excluded)"));
}

#[test]
fn all_fails_on_a_value_outside_it_and_any_when_none_of_its_values_is_there() {
    let mut s = passed();
    s["result"]["success"] = json!(false);
    s["context"]["contextActivities"]["category"] = json!([{"id": CMI5_CATEGORY}]);
    let broken = cmi5().validate(&s).broken;
    assert_eq!(broken.len(), 2, "{broken:?}");
    assert!(broken[0].ends_with("$.result.success is false, not one of [true]"));
    assert!(broken[1].contains(
        "must include one of [\"https://w3id.org/xapi/cmi5/context/categories/moveon\"]"
    ));
}

#[test]
fn none_fails_when_a_forbidden_value_is_there() {
    let mut s = passed();
    s["verb"]["id"] = json!("http://adlnet.gov/expapi/verbs/initialized");
    s.as_object_mut().unwrap().remove("result");
    let broken = cmi5().validate(&s).broken;
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert!(broken[0].starts_with("template https://w3id.org/xapi/cmi5#initialized: "));
    assert!(broken[0].ends_with(&format!("must not be \"{MOVEON}\"")));
}

#[test]
fn presence_recommended_checks_its_values_only_when_there_are_some() {
    let video = Profile::parse(VIDEO).unwrap();
    let mut played = json!({
        "id": "6a0c0a3c-1b5b-4e09-9a0e-8f3b0d7c2e11",
        "timestamp": "2026-12-03T01:00:00Z",
        "actor": {"mbox": "mailto:viewer@example.org"},
        "verb": {"id": "https://w3id.org/xapi/video/verbs/played"},
        "object": {"id": "https://example.org/video/1",
                   "definition": {"type": "https://w3id.org/xapi/video/activity-type/video"}},
        "result": {"extensions": {"https://w3id.org/xapi/video/extensions/time": 12.5}},
        "context": {"contextActivities": {"category": [{"id": "https://w3id.org/xapi/video/v1.0.3"}]}}
    });
    let outcome = video.validate(&played);
    assert!(outcome.broken.is_empty(), "{outcome:?}");
    assert!(outcome.followed.iter().any(|t| t.ends_with("#played")));
    played["result"]["extensions"] = json!({});
    let broken = video.validate(&played).broken;
    assert!(
        broken
            .iter()
            .any(|b| b.contains("extensions/time']") && b.contains("presence included")),
        "{broken:?}"
    );
}

#[test]
fn a_statement_matching_no_template_is_unmatched_and_declaration_is_by_category() {
    let p = cmi5();
    let plain = json!({"actor": {"mbox": "mailto:a@example.org"},
                       "verb": {"id": "http://example.org/verbs/liked"},
                       "object": {"id": "http://example.org/a"}});
    // The general restrictions have no determining property: every statement matches them.
    assert!(!p.validate(&plain).unmatched());
    assert!(!p.declared_by(&plain, &[]));
    assert!(!p.declared_by(&passed(), &[]));
    assert!(p.declared_by(&passed(), &[CMI5_CATEGORY]));
    let mut versioned = plain.clone();
    versioned["context"] =
        json!({"contextActivities": {"category": {"id": "https://w3id.org/xapi/cmi5/v1.0"}}});
    assert!(p.declared_by(&versioned, &[]));
}

#[test]
fn a_document_that_is_not_a_profile_is_refused_with_the_reason() {
    assert!(Profile::parse("{}")
        .unwrap_err()
        .contains("not an xAPI Profile"));
    let bad = json!({"id": "p", "type": "Profile", "templates": [
        {"id": "t", "rules": [{"location": "$..id", "presence": "included"}]}]});
    let e = Profile::parse(&bad.to_string()).unwrap_err();
    assert!(e.contains("template t") && e.contains("recursive"), "{e}");
}
