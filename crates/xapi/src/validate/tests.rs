//! The validation rules, each test named for the spec sentence it checks.

use serde_json::{json, Value};

use super::*;

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

#[test]
fn context_agents_and_context_groups_follow_their_rules_in_statements_and_sub_statements() {
    // xAPI 2.0 4.2.2.5 (U-14, U-15).
    let agent = json!({"mbox": "mailto:c@example.org"});
    let group = json!({"objectType": "Group", "member": [{"mbox": "mailto:m@example.org"}]});
    let types = json!(["http://t.example/r"]);
    let good_agents =
        json!([{"objectType": "contextAgent", "agent": agent, "relevantTypes": types}]);
    let good_groups =
        json!([{"objectType": "contextGroup", "group": group, "relevantTypes": types}]);
    let sub = |context: Value| sub_statement_with("context", context);
    for (key, good) in [
        ("contextAgents", &good_agents),
        ("contextGroups", &good_groups),
    ] {
        ok(&with(&["context", key], good.clone()));
        ok(&sub(json!({ key: good })));
    }
    let cases = [
        (
            "contextAgents",
            json!([{"objectType": "Agent", "agent": agent}]),
            "[0].objectType",
        ),
        (
            "contextAgents",
            json!([{"objectType": "contextAgent", "agent": {"name": "no ifi"}}]),
            "[0].agent",
        ),
        (
            "contextAgents",
            json!([{"objectType": "contextAgent", "agent": agent, "relevantTypes": ["not an iri"]}]),
            "[0].relevantTypes[0]",
        ),
        (
            "contextAgents",
            json!({"objectType": "contextAgent", "agent": agent}),
            "",
        ),
        (
            "contextGroups",
            json!([{"objectType": "contextAgent", "group": group}]),
            "[0].objectType",
        ),
        (
            "contextGroups",
            json!([{"objectType": "contextGroup", "group": agent}]),
            "[0].group",
        ),
        (
            "contextGroups",
            json!([{"objectType": "contextGroup", "group": group, "relevantTypes": []}]),
            "[0].relevantTypes",
        ),
        (
            "contextGroups",
            json!([{"objectType": "contextGroup", "group": group, "relevantTypes": ["x y"]}]),
            "[0].relevantTypes[0]",
        ),
    ];
    for (key, value, at) in cases {
        bad(
            &with(&["context", key], value.clone()),
            &format!("context.{key}{at}"),
        );
        bad(
            &sub(json!({ key: value })),
            &format!("object.context.{key}{at}"),
        );
    }
}

#[test]
fn unknown_local_offsets_are_refused_and_future_timestamps_accepted_in_statements_and_sub_statements(
) {
    // XAPI-00123: "-00", "-0000" and "-00:00" mean "offset unknown" (RFC 3339) → 400.
    // XAPI-00022, U-10: a timestamp later than now is not a reason to refuse.
    let sub = |timestamp: &str| sub_statement_with("timestamp", json!(timestamp));
    for t in [
        "2026-01-31T12:00:00-00",
        "2026-01-31T12:00:00-0000",
        "2026-01-31T12:00:00.5-00:00",
    ] {
        bad(&with(&["timestamp"], json!(t)), "timestamp");
        bad(&sub(t), "object.timestamp");
    }
    let future = "2999-12-31T23:59:59.999Z";
    ok(&with(&["timestamp"], json!(future)));
    ok(&sub(future));
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

/// The statement with `value` at each place an "extensions" map may stand: an activity
/// definition (the object's and a context activity's), a result and a context, of a statement
/// and of a sub-statement. Each comes with the place's name.
fn with_extensions_everywhere(extensions: &Value) -> Vec<(&'static str, Value)> {
    let e = || json!({"extensions": extensions});
    let activity = json!({"id": "http://example.org/a", "definition": e()});
    vec![
        ("object.definition", with(&["object", "definition"], e())),
        (
            "context.contextActivities.parent[0].definition",
            with(
                &["context", "contextActivities", "parent"],
                json!([activity]),
            ),
        ),
        ("result", with(&["result"], e())),
        ("context", with(&["context"], e())),
        (
            "object.object.definition",
            sub_statement_with("object", activity),
        ),
        ("object.result", sub_statement_with("result", e())),
        ("object.context", sub_statement_with("context", e())),
    ]
}

#[test]
fn null_values_are_rejected_wherever_they_stand_outside_extensions() {
    // XAPI-00001: "The LRS MUST reject Statements with any null values (except inside
    // extensions)" (xAPI-Data 2.2.s4.b1.b1, both versions).
    let cases: &[&[&str]] = &[
        &["id"],
        &["actor"],
        &["verb"],
        &["object"],
        &["result"],
        &["context"],
        &["timestamp"],
        &["authority"],
        &["version"],
        &["attachments"],
        &["actor", "name"],
        &["actor", "mbox"],
        &["verb", "id"],
        &["verb", "display"],
        &["verb", "display", "en-US"],
        &["object", "id"],
        &["object", "definition"],
        &["object", "definition", "name"],
        &["object", "definition", "moreInfo"],
        &["object", "definition", "extensions"],
        &["result", "score"],
        &["result", "score", "max"],
        &["result", "success"],
        &["result", "extensions"],
        &["context", "registration"],
        &["context", "instructor"],
        &["context", "contextActivities"],
        &["context", "contextActivities", "parent"],
        &["context", "extensions"],
    ];
    for path in cases {
        bad_in_both(&with(path, Value::Null), &path.join("."));
    }
    for key in ["actor", "verb", "object", "result", "context", "timestamp"] {
        bad_in_both(
            &sub_statement_with(key, Value::Null),
            &format!("object.{key}"),
        );
    }
    bad_in_both(
        &with(
            &["object", "definition"],
            json!({"interactionType": "choice", "choices": [{"id": null}]}),
        ),
        "object.definition.choices[0].id",
    );
    bad_in_both(
        &with(
            &["actor"],
            json!({"account": {"homePage": "http://h.example", "name": null}}),
        ),
        "actor.account.name",
    );
}

#[test]
fn empty_extensions_are_accepted_in_activities_results_and_contexts_of_statements_and_sub_statements(
) {
    // XAPI-00001: an empty "extensions" object is neither null nor empty of a required
    // value; it is a map with no extension in it.
    for (place, v) in with_extensions_everywhere(&json!({})) {
        validate_statement(&v, XapiVersion::V1_0_3)
            .and_then(|()| validate_statement(&v, XapiVersion::V2_0_0))
            .unwrap_or_else(|e| panic!("{{}} extensions in {place}: {e}"));
    }
}

#[test]
fn extension_values_of_every_json_type_are_accepted_and_null_too() {
    // XAPI-00120: "The values of an extension can be any JSON value or data structure" and
    // "An LRS MUST NOT reject a Statement based on the values of the extensions map"
    // (xAPI-Data 4.1.s2, 4.1.s3.b2). XAPI-00001: null values are allowed inside extensions.
    let values = [
        json!(true),
        json!(false),
        json!(1),
        json!(-1.5),
        json!("s"),
        json!(""),
        json!({"a": 1}),
        json!({}),
        json!([1, "two", null]),
        json!([]),
        json!(null),
        json!({"a": null, "b": {"c": null}}),
    ];
    for value in values {
        let extensions = json!({"http://example.org/ext": value});
        for (place, v) in with_extensions_everywhere(&extensions) {
            validate_statement(&v, XapiVersion::V1_0_3)
                .and_then(|()| validate_statement(&v, XapiVersion::V2_0_0))
                .unwrap_or_else(|e| panic!("extension value {value} in {place}: {e}"));
        }
    }
}

#[test]
fn keys_whose_case_differs_from_the_spec_are_rejected() {
    // XAPI-00008: "The LRS MUST reject Statements where the case of a key does not match the
    // case specified in this specification" (xAPI-Data 2.2.s4.b1.b5, both versions).
    let full = json!({
        "id": "2bf6e6f7-2b56-4c56-bc4c-3a6e5f7d2f9a",
        "actor": {"objectType": "Agent", "mbox": "mailto:ada@example.org", "name": "Ada"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"en-US": "answered"}},
        "object": {"objectType": "Activity", "id": "http://example.org/q1", "definition": {
            "name": {"en-US": "Q1"}, "moreInfo": "http://example.org/q1/info",
            "interactionType": "choice", "correctResponsesPattern": ["a"],
            "choices": [{"id": "a", "description": {"en-US": "A"}}]}},
        "result": {"score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10}, "success": true},
        "context": {"registration": "ab0d4c56-1234-4abc-8def-0123456789ab",
                    "instructor": {"account": {"homePage": "http://lms.example.org", "name": "t"}},
                    "contextActivities": {"parent": [{"id": "http://example.org/quiz"}]}},
        "timestamp": "2026-01-31T12:00:00Z",
        "version": "1.0.0",
        "authority": {"mbox": "mailto:lms@example.org"}
    });
    ok_in_both(&full);
    let cases: &[(&[&str], &str, &str)] = &[
        (&[], "id", "ID"),
        (&[], "actor", "Actor"),
        (&[], "verb", "Verb"),
        (&[], "object", "Object"),
        (&[], "result", "Result"),
        (&[], "context", "Context"),
        (&[], "timestamp", "Timestamp"),
        (&[], "version", "Version"),
        (&[], "authority", "Authority"),
        (&["actor"], "mbox", "MBox"),
        (&["actor"], "objectType", "objecttype"),
        (&["actor"], "name", "Name"),
        (&["verb"], "display", "Display"),
        (&["object"], "definition", "Definition"),
        (
            &["object", "definition"],
            "interactionType",
            "interactiontype",
        ),
        (&["object", "definition"], "moreInfo", "moreinfo"),
        (
            &["object", "definition"],
            "correctResponsesPattern",
            "CorrectResponsesPattern",
        ),
        (&["object", "definition"], "choices", "Choices"),
        (&["result"], "score", "Score"),
        (&["result", "score"], "max", "Max"),
        (&["context"], "registration", "Registration"),
        (&["context"], "contextActivities", "contextactivities"),
        (&["context", "contextActivities"], "parent", "Parent"),
        (
            &["context", "instructor", "account"],
            "homePage",
            "homepage",
        ),
    ];
    for (parent, from, to) in cases {
        let mut v = full.clone();
        let map = parent
            .iter()
            .fold(&mut v, |node, key| &mut node[*key])
            .as_object_mut()
            .unwrap();
        let value = map.remove(*from).unwrap();
        map.insert(to.to_string(), value);
        let mut at = parent.to_vec();
        at.push(to);
        bad_in_both(&v, &at.join("."));
    }
    let sub = json!({"objectType": "SubStatement", "Actor": {"mbox": "mailto:s@example.org"},
                     "verb": {"id": "http://example.org/v"}, "object": {"id": "http://example.org/a"}});
    bad_in_both(&with(&["object"], sub), "object.Actor");
}

#[test]
fn enumerated_values_in_the_wrong_case_are_rejected() {
    // XAPI-00009: "The LRS MUST reject Statements where the case of a value restricted to
    // enumerated values does not match an enumerated value given in this specification
    // exactly" (xAPI-Data 2.2.s4.b1.b6, both versions).
    for t in INTERACTION_TYPES {
        ok_in_both(&with(
            &["object", "definition", "interactionType"],
            json!(t),
        ));
    }
    for t in [
        "True-false",
        "true-faLse",
        "choiCe",
        "Fill-in",
        "long-fiLl-in",
        "MATCHING",
        "perfOrmance",
        "Sequencing",
        "liKert",
        "nUmeric",
        "Other",
    ] {
        bad_in_both(
            &with(&["object", "definition", "interactionType"], json!(t)),
            "object.definition.interactionType",
        );
    }
    let agent = json!({"mbox": "mailto:a@example.org"});
    let group = |t: &str| json!({"objectType": t, "member": [agent]});
    let statement_ref =
        |t: &str| json!({"objectType": t, "id": "2bf6e6f7-2b56-4c56-bc4c-3a6e5f7d2f9a"});
    let sub_statement = |t: &str| {
        json!({"objectType": t, "actor": agent, "verb": {"id": "http://example.org/v"},
               "object": {"id": "http://example.org/a"}})
    };
    let cases: &[(&[&str], Value, &str)] = &[
        (
            &["actor"],
            json!({"objectType": "agent", "mbox": "mailto:a@example.org"}),
            "actor.objectType",
        ),
        (
            &["actor"],
            json!({"objectType": "AGENT", "mbox": "mailto:a@example.org"}),
            "actor.objectType",
        ),
        (&["actor"], group("group"), "actor.objectType"),
        (
            &["actor"],
            json!({"objectType": "Group", "member": [{"objectType": "agent", "mbox": "mailto:a@example.org"}]}),
            "actor.member[0].objectType",
        ),
        (
            &["object"],
            json!({"objectType": "activity", "id": "http://example.org/a"}),
            "object.objectType",
        ),
        (
            &["object"],
            json!({"objectType": "agent", "mbox": "mailto:a@example.org"}),
            "object.objectType",
        ),
        (&["object"], group("group"), "object.objectType"),
        (
            &["object"],
            statement_ref("statementref"),
            "object.objectType",
        ),
        (
            &["object"],
            statement_ref("statementRef"),
            "object.objectType",
        ),
        (
            &["object"],
            sub_statement("substatement"),
            "object.objectType",
        ),
        (
            &["object"],
            sub_statement("Substatement"),
            "object.objectType",
        ),
        (
            &["context", "team"],
            group("GROUP"),
            "context.team.objectType",
        ),
        (
            &["context", "instructor"],
            json!({"objectType": "agent", "mbox": "mailto:a@example.org"}),
            "context.instructor.objectType",
        ),
        (
            &["context", "contextActivities", "parent"],
            json!([{"objectType": "activity", "id": "http://example.org/p"}]),
            "context.contextActivities.parent[0].objectType",
        ),
        (
            &["context", "statement"],
            statement_ref("statementref"),
            "context.statement.objectType",
        ),
        (
            &["authority"],
            json!({"objectType": "agent", "mbox": "mailto:a@example.org"}),
            "authority.objectType",
        ),
    ];
    for (path, value, at) in cases {
        bad_in_both(&with(path, value.clone()), at);
    }
    // contextAgents exist in 2.0 only.
    bad(
        &with(
            &["context", "contextAgents"],
            json!([{"objectType": "ContextAgent", "agent": agent}]),
        ),
        "context.contextAgents[0].objectType",
    );
    bad(
        &with(
            &["context", "contextGroups"],
            json!([{"objectType": "contextgroup", "group": group("Group")}]),
        ),
        "context.contextGroups[0].objectType",
    );
}

#[test]
fn only_a_group_may_have_members_so_an_agent_with_member_is_rejected() {
    // XAPI-00035: "member" is a property of a Group (xAPI-Data 2.4.2.2 tables); an Agent has
    // objectType, name and one IFI only (2.4.2.1), so "member" on an Agent is "a key ... not
    // allowed by this specification" (2.2.s4.b1.b7). Both versions.
    let members = json!([{"mbox": "mailto:m@example.org"}]);
    for agent in [
        json!({"objectType": "Agent", "mbox": "mailto:a@example.org", "member": members}),
        json!({"mbox": "mailto:a@example.org", "member": members}),
    ] {
        bad_in_both(&with(&["actor"], agent.clone()), "actor.member");
        bad_in_both(
            &with(&["context", "instructor"], agent.clone()),
            "context.instructor.member",
        );
        bad_in_both(&with(&["authority"], agent.clone()), "authority.member");
        bad_in_both(
            &sub_statement_with("actor", agent.clone()),
            "object.actor.member",
        );
        bad_in_both(
            &with(
                &["actor"],
                json!({"objectType": "Group", "member": [agent]}),
            ),
            "actor.member[0].member",
        );
    }
    bad_in_both(
        &with(
            &["object"],
            json!({"objectType": "Agent", "mbox": "mailto:a@example.org", "member": members}),
        ),
        "object.member",
    );
    ok_in_both(&with(
        &["actor"],
        json!({"objectType": "Group", "member": members}),
    ));
    ok_in_both(&with(
        &["actor"],
        json!({"objectType": "Group", "mbox": "mailto:g@example.org", "member": members}),
    ));
}

#[test]
fn an_anonymous_group_without_member_is_rejected_wherever_a_group_may_stand() {
    // XAPI-00035 (as the ADL suite reads it): "An Anonymous Group MUST include a "member"
    // property listing constituent Agents" (xAPI-Data 2.4.2.2.s4.b1), for the actor, the
    // object, the instructor, the team and the authority, of a statement and a sub-statement.
    let anonymous = json!({"objectType": "Group", "name": "no members"});
    for (path, at) in [
        (&["actor"][..], "actor.member"),
        (&["object"], "object.member"),
        (&["context", "instructor"], "context.instructor.member"),
        (&["context", "team"], "context.team.member"),
        (&["authority"], "authority.member"),
    ] {
        bad_in_both(&with(path, anonymous.clone()), at);
    }
    bad_in_both(
        &sub_statement_with("actor", anonymous.clone()),
        "object.actor.member",
    );
    bad_in_both(
        &sub_statement_with("object", anonymous.clone()),
        "object.object.member",
    );
    bad_in_both(
        &sub_statement_with("context", json!({"instructor": anonymous})),
        "object.context.instructor.member",
    );
    bad_in_both(
        &sub_statement_with("context", json!({"team": anonymous})),
        "object.context.team.member",
    );
}

/// Every interaction component list with an interactionType that supports it
/// (xAPI-Data 2.4.4.1.s15, table 2).
const COMPONENT_LISTS: [(&str, &str); 6] = [
    ("choice", "choices"),
    ("sequencing", "choices"),
    ("likert", "scale"),
    ("matching", "source"),
    ("matching", "target"),
    ("performance", "steps"),
];

/// A statement whose activity has `interaction_type` and `list: value`.
fn with_components(interaction_type: &str, list: &str, value: Value) -> Value {
    with(
        &["object", "definition"],
        json!({"interactionType": interaction_type, list: value}),
    )
}

#[test]
fn valid_interaction_component_lists_are_accepted() {
    // XAPI-00051..00054, XAPI-00062: an array of components, each an id and an optional
    // Language Map description.
    let components =
        json!([{"id": "a", "description": {"en-US": "A", "sr-Latn-RS": "A"}}, {"id": "b"}]);
    for (interaction_type, list) in COMPONENT_LISTS {
        ok_in_both(&with_components(interaction_type, list, components.clone()));
        ok_in_both(&with_components(interaction_type, list, json!([])));
    }
    ok_in_both(&with(
        &["object", "definition"],
        json!({"interactionType": "matching", "source": components, "target": components,
               "correctResponsesPattern": ["a[.]b"]}),
    ));
}

#[test]
fn an_interaction_component_list_that_is_not_an_array_is_rejected() {
    // XAPI-00051 (steps), XAPI-00052 (target), XAPI-00053 (source), XAPI-00054 (scale), and
    // choices: each is an "Array of interaction components" (xAPI-Data 2.4.4.1.s8 table).
    for (interaction_type, list) in COMPONENT_LISTS {
        for value in [json!("a"), json!({"id": "a"}), json!(5), json!(true)] {
            bad_in_both(
                &with_components(interaction_type, list, value),
                &format!("object.definition.{list}"),
            );
        }
    }
}

#[test]
fn each_interaction_component_must_be_an_object() {
    // XAPI-00063, and XAPI-00051..00054 for their lists: a component is an object with "id"
    // and "description" (xAPI-Data 2.4.4.1.s15 table 1), so ["a", 5] is not a component list.
    for (interaction_type, list) in COMPONENT_LISTS {
        for (value, at) in [
            (json!(["a", 5]), "[0]"),
            (json!([{"id": "a"}, 5]), "[1]"),
            (json!([["a"]]), "[0]"),
            (json!([null]), "[0]"),
        ] {
            bad_in_both(
                &with_components(interaction_type, list, value),
                &format!("object.definition.{list}{at}"),
            );
        }
    }
}

#[test]
fn each_interaction_component_needs_a_string_id_distinct_within_its_list() {
    // XAPI-00051..00054: a component's "id" is a required String (xAPI-Data 2.4.4.1.s15
    // table 1); "Within an array of interaction components, all id values MUST be distinct"
    // (2.4.4.1.s16.b1). A property other than id and description is not allowed (2.2.s4.b1.b7).
    for (interaction_type, list) in COMPONENT_LISTS {
        for (value, at) in [
            (json!([{"description": {"en-US": "no id"}}]), "[0].id"),
            (json!([{"id": 5}]), "[0].id"),
            (json!([{"id": {"en-US": "a"}}]), "[0].id"),
            (json!([{"id": ["a"]}]), "[0].id"),
            (json!([{"id": "a"}, {"id": "a"}]), "[1].id"),
            (json!([{"id": "a", "label": "A"}]), "[0].label"),
        ] {
            bad_in_both(
                &with_components(interaction_type, list, value),
                &format!("object.definition.{list}{at}"),
            );
        }
    }
}

#[test]
fn an_interaction_component_description_must_be_a_language_map() {
    // XAPI-00062: a component's "description" is a Language Map (xAPI-Data 2.4.4.1.s15
    // table 1), whose keys are RFC 5646 tags and whose values are strings (4.2).
    for (interaction_type, list) in COMPONENT_LISTS {
        for (description, at) in [
            (json!("x"), ""),
            (json!(["x"]), ""),
            (json!(5), ""),
            (json!({"bad tag!": "x"}), ".bad tag!"),
            (json!({"en_US": "x"}), ".en_US"),
            (json!({"en-US": 5}), ".en-US"),
        ] {
            bad_in_both(
                &with_components(
                    interaction_type,
                    list,
                    json!([{"id": "a", "description": description}]),
                ),
                &format!("object.definition.{list}[0].description{at}"),
            );
        }
    }
}

#[test]
fn a_component_list_the_interaction_type_does_not_support_is_refused() {
    // xAPI-Data 2.4.4.1.s15 table 2 names the component lists each interactionType supports
    // ("true-false, fill-in, long-fill-in, numeric, other: [No component lists supported]"),
    // and 2.4.4.1.s13.b3 lets the LRS "return 400 Bad Request if the remaining properties are
    // not valid for the Interaction Activity". That is a MAY, not a MUST: xlrs takes it.
    let components = json!([{"id": "a"}]);
    for interaction_type in INTERACTION_TYPES {
        for list in ["choices", "scale", "source", "target", "steps"] {
            if COMPONENT_LISTS.contains(&(interaction_type, list)) {
                continue;
            }
            bad_in_both(
                &with_components(interaction_type, list, components.clone()),
                &format!("object.definition.{list}"),
            );
        }
    }
}

#[test]
fn a_score_value_that_is_not_a_number_is_rejected() {
    // XAPI-00080 (max), and scaled, raw and min: each is a "Decimal number" (xAPI-Data
    // 2.4.5.1.s2 table); "The LRS MUST reject Statements where the wrong data type is used,
    // for example with strings where numbers are required, even if those strings contain
    // numbers" (2.2.s4.b1.b2, XAPI-00006). In a statement and in a sub-statement.
    for key in ["scaled", "raw", "min", "max"] {
        for value in [
            json!("1"),
            json!("one hundred"),
            json!({"value": 1}),
            json!(true),
            json!([1]),
        ] {
            bad_in_both(
                &with(&["result", "score", key], value.clone()),
                &format!("result.score.{key}"),
            );
            bad_in_both(
                &sub_statement_with("result", json!({"score": {key: value}})),
                &format!("object.result.score.{key}"),
            );
        }
    }
}

#[test]
fn score_values_may_be_any_decimal_number_within_their_ranges() {
    // XAPI-00080: "max" is a "Decimal number greater than min (if present)"; the others are
    // decimals too (xAPI-Data 2.4.5.1.s2 table).
    for score in [
        json!({"max": 45.45}),
        json!({"max": 100}),
        json!({"max": -1}),
        json!({"min": 0.12123434, "raw": 12.125, "max": 45.45, "scaled": 0.12123434}),
        json!({"min": -10.5, "raw": -10.5, "max": 1e3, "scaled": -1}),
    ] {
        ok_in_both(&with(&["result", "score"], score.clone()));
        ok_in_both(&sub_statement_with("result", json!({"score": score})));
    }
}
