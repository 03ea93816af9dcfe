//! Rules that hold wherever a property stands: in statements and sub-statements, at 1.0.3
//! and 2.0.0, for nulls, extensions, the case of keys and values, and groups.

use serde_json::json;

use super::*;

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
