//! The validation rules, each test named for the spec sentence it checks.

use serde_json::{json, Value};

use super::*;

mod components;
mod everywhere;

fn base() -> Value {
    json!({
        "actor": {"objectType": "Agent", "mbox": "mailto:ada@example.org", "name": "Ada"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
        "object": {"id": "http://example.org/activity/1"}
    })
}

fn ok(v: &Value) {
    validate_statement(v, XapiVersion::V2_0_0).unwrap_or_else(|e| panic!("should pass: {e}\n{v}"));
}

fn bad(v: &Value, path: &str) {
    match validate_statement(v, XapiVersion::V2_0_0) {
        Ok(()) => panic!("should fail at {path}: {v}"),
        Err(e) => assert_eq!(e.path, path, "{e}"),
    }
}

fn with(path: &[&str], value: Value) -> Value {
    let mut v = base();
    let mut cur = &mut v;
    for key in &path[..path.len() - 1] {
        cur = cur
            .as_object_mut()
            .unwrap()
            .entry(key.to_string())
            .or_insert(json!({}));
    }
    cur[path[path.len() - 1]] = value;
    v
}

#[test]
fn a_minimal_statement_is_valid() {
    ok(&base());
}

#[test]
fn a_realistic_video_statement_is_valid() {
    ok(&json!({
        "id": "2bf6e6f7-2b56-4c56-bc4c-3a6e5f7d2f9a",
        "actor": {"objectType": "Agent", "account": {"homePage": "https://lms.example.org", "name": "user-1"}},
        "verb": {"id": "https://w3id.org/xapi/video/verbs/played", "display": {"en-US": "played"}},
        "object": {"objectType": "Activity", "id": "https://lms.example.org/xblock/video-1",
                   "definition": {"type": "https://w3id.org/xapi/video/activity-type/video", "name": {"en-US": "Intro"}}},
        "result": {"extensions": {"https://w3id.org/xapi/video/extensions/time": 12.5}},
        "context": {"registration": "ab0d4c56-1234-4abc-8def-0123456789ab",
                    "contextActivities": {"category": [{"id": "https://w3id.org/xapi/video"}], "parent": {"id": "https://lms.example.org/course"}},
                    "platform": "Open edX", "language": "en-US",
                    "extensions": {"https://w3id.org/xapi/video/extensions/length": 300}},
        "timestamp": "2026-01-31T12:00:00.123+01:00"
    }));
}

#[test]
fn required_properties_must_be_present() {
    for key in ["actor", "verb", "object"] {
        let mut v = base();
        v.as_object_mut().unwrap().remove(key);
        bad(&v, key);
    }
}

#[test]
fn unknown_properties_are_rejected() {
    bad(&with(&["foo"], json!(1)), "foo");
    bad(&with(&["actor", "age"], json!(3)), "actor.age");
}

#[test]
fn null_values_are_rejected() {
    bad(&with(&["result"], Value::Null), "result");
}

#[test]
fn the_id_must_be_a_uuid() {
    bad(&with(&["id"], json!("not-a-uuid")), "id");
}

#[test]
fn an_agent_must_have_exactly_one_ifi() {
    bad(&with(&["actor"], json!({"name": "nobody"})), "actor");
    bad(
        &with(
            &["actor"],
            json!({"mbox": "mailto:a@example.org", "openid": "http://openid.example.org/a"}),
        ),
        "actor",
    );
}

#[test]
fn an_mbox_must_be_a_mailto_iri() {
    bad(
        &with(&["actor"], json!({"mbox": "a@example.org"})),
        "actor.mbox",
    );
}

#[test]
fn an_mbox_sha1sum_must_be_forty_hex_digits() {
    ok(&with(
        &["actor"],
        json!({"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}),
    ));
    bad(
        &with(&["actor"], json!({"mbox_sha1sum": "xyz"})),
        "actor.mbox_sha1sum",
    );
}

#[test]
fn an_account_needs_home_page_and_name_only() {
    bad(
        &with(&["actor"], json!({"account": {"name": "u"}})),
        "actor.account.homePage",
    );
    bad(
        &with(
            &["actor"],
            json!({"account": {"homePage": "http://h.example", "name": "u", "x": 1}}),
        ),
        "actor.account.x",
    );
}

#[test]
fn an_anonymous_group_must_list_members_and_members_are_agents() {
    bad(
        &with(&["actor"], json!({"objectType": "Group"})),
        "actor.member",
    );
    ok(&with(
        &["actor"],
        json!({"objectType": "Group", "member": [{"mbox": "mailto:m@example.org"}]}),
    ));
    bad(
        &with(
            &["actor"],
            json!({"objectType": "Group", "member": [{"objectType": "Group", "member": []}]}),
        ),
        "actor.member[0].objectType",
    );
}

#[test]
fn a_verb_id_must_be_an_iri_and_display_a_language_map() {
    bad(&with(&["verb", "id"], json!("completed")), "verb.id");
    bad(
        &with(&["verb", "display"], json!({"not a tag!": "x"})),
        "verb.display.not a tag!",
    );
}

#[test]
fn an_activity_id_must_be_an_iri() {
    bad(&with(&["object", "id"], json!("not an iri")), "object.id");
}

#[test]
fn interaction_components_must_match_the_interaction_type() {
    let def =
        json!({"interactionType": "choice", "choices": [{"id": "a", "description": {"en": "A"}}]});
    ok(&with(&["object", "definition"], def));
    bad(
        &with(
            &["object", "definition"],
            json!({"interactionType": "true-false", "choices": []}),
        ),
        "object.definition.choices",
    );
    bad(
        &with(
            &["object", "definition"],
            json!({"interactionType": "dance"}),
        ),
        "object.definition.interactionType",
    );
    bad(
        &with(
            &["object", "definition"],
            json!({"interactionType": "choice", "choices": [{"id": "a"}, {"id": "a"}]}),
        ),
        "object.definition.choices[1].id",
    );
}

#[test]
fn a_statement_ref_needs_a_uuid() {
    bad(
        &with(
            &["object"],
            json!({"objectType": "StatementRef", "id": "x"}),
        ),
        "object.id",
    );
}

#[test]
fn a_substatement_cannot_contain_a_substatement_or_lrs_properties() {
    let sub = json!({"objectType": "SubStatement", "actor": {"mbox": "mailto:a@example.org"}, "verb": {"id": "http://v.example/x"},
                     "object": {"objectType": "SubStatement", "actor": {"mbox": "mailto:a@example.org"}, "verb": {"id": "http://v.example/x"}, "object": {"id": "http://a.example"}}});
    bad(&with(&["object"], sub), "object.object");
    let sub = json!({"objectType": "SubStatement", "id": "2bf6e6f7-2b56-4c56-bc4c-3a6e5f7d2f9a", "actor": {"mbox": "mailto:a@example.org"},
                     "verb": {"id": "http://v.example/x"}, "object": {"id": "http://a.example"}});
    bad(&with(&["object"], sub), "object.id");
}

#[test]
fn a_voiding_statement_must_target_a_statement_ref() {
    bad(
        &with(
            &["verb", "id"],
            json!("http://adlnet.gov/expapi/verbs/voided"),
        ),
        "object",
    );
}

#[test]
fn scores_respect_their_ranges() {
    ok(&with(
        &["result", "score"],
        json!({"scaled": 0.5, "raw": 5, "min": 0, "max": 10}),
    ));
    bad(
        &with(&["result", "score"], json!({"scaled": 1.5})),
        "result.score.scaled",
    );
    bad(
        &with(
            &["result", "score"],
            json!({"raw": 11, "min": 0, "max": 10}),
        ),
        "result.score.raw",
    );
    bad(
        &with(&["result", "score"], json!({"min": 10, "max": 0})),
        "result.score.min",
    );
}

#[test]
fn durations_are_iso_8601() {
    for d in ["PT1H30M", "P1DT2.5S", "P4W", "PT0S", "P1Y2M3DT4H5M6S"] {
        assert!(is_duration(d), "{d}");
    }
    for d in ["1H", "P", "PT", "P1H", "PT1.5", "P1W2D", "PTM"] {
        assert!(!is_duration(d), "{d}");
    }
    bad(
        &with(&["result", "duration"], json!("an hour")),
        "result.duration",
    );
}

#[test]
fn timestamps_need_a_time_zone_and_refuse_unknown_offset() {
    for t in [
        "2026-01-31T12:00:00Z",
        "2026-01-31T12:00:00.123456+01:00",
        "2026-01-31T12:00:00+0100",
    ] {
        assert!(parse_timestamp(t).is_some(), "{t}");
    }
    for t in [
        "2026-01-31T12:00:00",
        "2026-01-31 12:00:00Z",
        "2026-01-31",
        "yesterday",
        "2026-01-31T12:00:00-00:00",
    ] {
        assert!(parse_timestamp(t).is_none(), "{t}");
    }
    bad(
        &with(&["timestamp"], json!("2026-13-01T00:00:00Z")),
        "timestamp",
    );
}

#[test]
fn revision_and_platform_need_an_activity_object() {
    let mut v = with(
        &["object"],
        json!({"objectType": "Agent", "mbox": "mailto:b@example.org"}),
    );
    v["context"] = json!({"platform": "LMS"});
    bad(&v, "context.platform");
}

#[test]
fn the_team_must_be_a_group() {
    bad(
        &with(
            &["context", "team"],
            json!({"mbox": "mailto:t@example.org"}),
        ),
        "context.team",
    );
}

#[test]
fn context_agents_exist_in_2_0_only() {
    let v = with(
        &["context", "contextAgents"],
        json!([{"objectType": "contextAgent", "agent": {"mbox": "mailto:c@example.org"}, "relevantTypes": ["http://t.example/r"]}]),
    );
    ok(&v);
    assert_eq!(
        validate_statement(&v, XapiVersion::V1_0_3)
            .unwrap_err()
            .path,
        "context.contextAgents"
    );
    bad(
        &with(
            &["context", "contextAgents"],
            json!([{"objectType": "contextAgent", "agent": {"mbox": "mailto:c@example.org"}, "relevantTypes": []}]),
        ),
        "context.contextAgents[0].relevantTypes",
    );
}

#[test]
fn extension_keys_must_be_iris() {
    bad(
        &with(&["result", "extensions"], json!({"speed": 1})),
        "result.extensions.speed",
    );
}

#[test]
fn attachments_declare_usage_type_display_content_type_length_and_sha2() {
    let a = json!([{"usageType": "http://u.example/x", "display": {"en": "a"}, "contentType": "text/plain", "length": 3,
                    "sha2": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}]);
    ok(&with(&["attachments"], a.clone()));
    let mut missing = a;
    missing[0].as_object_mut().unwrap().remove("length");
    bad(&with(&["attachments"], missing), "attachments[0].length");
}

#[test]
fn versions_must_be_supported() {
    ok(&with(&["version"], json!("1.0.3")));
    bad(&with(&["version"], json!("0.95")), "version");
    assert!(validate_statement(&with(&["version"], json!("2.0.0")), XapiVersion::V1_0_3).is_err());
}

#[test]
fn language_tags_follow_rfc_5646_structure() {
    for t in ["en", "en-US", "zh-Hant-TW", "und", "x-private"] {
        assert!(is_language_tag(t), "{t}");
    }
    for t in ["", "e", "en_US", "a12345678", "en-"] {
        assert!(!is_language_tag(t), "{t}");
    }
}

#[test]
fn iris_need_a_scheme_and_no_spaces() {
    assert!(is_iri("http://example.org/a"));
    assert!(is_iri("urn:uuid:1234"));
    assert!(!is_iri("example.org/a"));
    assert!(!is_iri("http://example.org/a b"));
    assert!(!is_iri(""));
}

#[test]
fn an_authority_group_is_an_anonymous_group_of_two_agents() {
    let a = json!({"mbox": "mailto:app@example.org"});
    let b = json!({"mbox": "mailto:user@example.org"});
    ok(&with(
        &["authority"],
        json!({"objectType": "Group", "member": [a, b]}),
    ));
    bad(
        &with(
            &["authority"],
            json!({"objectType": "Group", "mbox": "mailto:g@example.org", "member": [a, b]}),
        ),
        "authority",
    );
    bad(
        &with(
            &["authority"],
            json!({"objectType": "Group", "member": [a]}),
        ),
        "authority.member",
    );
}

#[test]
fn a_correct_responses_pattern_needs_an_interaction_type() {
    bad(
        &with(
            &["object", "definition"],
            json!({"correctResponsesPattern": ["true"]}),
        ),
        "object.definition.correctResponsesPattern",
    );
    ok(&with(
        &["object", "definition"],
        json!({"interactionType": "true-false", "correctResponsesPattern": ["true"]}),
    ));
}

/// A statement whose object is a sub-statement holding `key: value`.
fn sub_statement_with(key: &str, value: Value) -> Value {
    let mut sub = json!({
        "objectType": "SubStatement",
        "actor": {"mbox": "mailto:s@example.org"},
        "verb": {"id": "http://example.org/v"},
        "object": {"id": "http://example.org/a"},
    });
    sub[key] = value;
    with(&["object"], sub)
}

/// Passes at 1.0.3 and at 2.0.0: the rule is the same in both versions.
fn ok_in_both(v: &Value) {
    for version in [XapiVersion::V1_0_3, XapiVersion::V2_0_0] {
        validate_statement(v, version)
            .unwrap_or_else(|e| panic!("should pass at {version:?}: {e}\n{v}"));
    }
}

/// Fails at `path` at 1.0.3 and at 2.0.0.
fn bad_in_both(v: &Value, path: &str) {
    for version in [XapiVersion::V1_0_3, XapiVersion::V2_0_0] {
        match validate_statement(v, version) {
            Ok(()) => panic!("should fail at {path} at {version:?}: {v}"),
            Err(e) => assert_eq!(e.path, path, "at {version:?}: {e}\n{v}"),
        }
    }
}
