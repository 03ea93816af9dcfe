//! Property-based fuzzing of everything that reads client input: statement validation and
//! preparation, the statements query parameters (and `more` cursors), JWS
//! signatures and the format checkers (the multipart parser has its own, in xlrs-server). The property is always the same: any input gives an
//! answer — accepted or a reasoned rejection — and never a panic.
//!
//! A bounded run (proptest's default 256 cases per property) is part of every `cargo test`;
//! a longer one: `PROPTEST_CASES=100000 cargo test -p xlrs-xapi fuzz`.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use uuid::Uuid;

use crate::query::parse_request;
use crate::statement::prepare;
use crate::validate::{
    is_duration, is_iri, is_language_tag, is_uuid, parse_timestamp, validate_statement,
};
use crate::version::XapiVersion;

/// Strings that look like what xAPI fields hold, and some that almost do.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z]{1,8}:[a-z/.@:%0-9-]{0,30}",
        "mailto:[a-z]{0,5}@?[a-z.]{0,8}",
        "P(T?[0-9.]{0,4}[YMWDHS]){0,4}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]{0,15}(Z|[+-][0-9:]{2,5})?",
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8}){0,3}",
        Just("Activity".to_string()),
        Just("SubStatement".to_string()),
        Just("StatementRef".to_string()),
        Just("Group".to_string()),
        Just("http://adlnet.gov/expapi/verbs/voided".to_string()),
    ]
}

/// Property names of the xAPI objects, so generated objects reach deep validation paths.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(vec![
            "id", "actor", "verb", "object", "result", "context", "timestamp", "stored",
            "authority", "version", "attachments", "objectType", "mbox", "mbox_sha1sum", "openid",
            "account", "homePage", "name", "member", "display", "definition", "description",
            "type", "moreInfo", "interactionType", "correctResponsesPattern", "choices", "scale",
            "source", "target", "steps", "extensions", "score", "scaled", "raw", "min", "max",
            "success", "completion", "response", "duration", "registration", "instructor", "team",
            "contextActivities", "parent", "grouping", "category", "other", "revision", "platform",
            "language", "statement", "usageType", "contentType", "length", "sha2", "fileUrl",
            "contextAgents", "contextGroups", "relevantTypes", "agent", "group", "en-US",
        ])
        .prop_map(str::to_string),
        1 => any::<String>(),
    ]
}

/// Any JSON value, biased towards xAPI-shaped objects.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-10.0f64..10.0).prop_map(|f| json!(f)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn valid_statement() -> Value {
    json!({
        "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
        "actor": {"objectType": "Agent", "mbox": "mailto:fuzz@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
        "object": {"objectType": "Activity", "id": "http://example.org/a",
                   "definition": {"name": {"en-US": "A"}, "interactionType": "choice",
                                  "choices": [{"id": "a", "description": {"en-US": "A"}}]}},
        "result": {"score": {"scaled": 0.5}, "duration": "PT1M"},
        "context": {"registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
                    "contextActivities": {"parent": {"id": "http://example.org/p"}}}
    })
}

/// Replaces the value at a path (indices into objects by position) of a valid statement.
fn mutated(path: Vec<usize>, value: Value) -> Value {
    let mut statement = valid_statement();
    let mut pointer = String::new();
    let mut node = &statement;
    for step in path {
        let next = match node {
            Value::Object(map) if !map.is_empty() => map
                .iter()
                .nth(step % map.len())
                .map(|(k, v)| (k.replace('~', "~0").replace('/', "~1"), v)),
            Value::Array(items) if !items.is_empty() => {
                let i = step % items.len();
                Some((i.to_string(), &items[i]))
            }
            _ => None,
        };
        match next {
            Some((segment, child)) => {
                pointer.push('/');
                pointer.push_str(&segment);
                node = child;
            }
            None => break,
        }
    }
    if let Some(target) = statement.pointer_mut(&pointer) {
        *target = value;
    }
    statement
}

fn authority() -> Value {
    json!({"objectType": "Agent", "account": {"homePage": "http://localhost", "name": "fuzz"}})
}

/// Validation answers; what it accepts, preparation takes without error.
fn check(statement: Value) {
    for version in XapiVersion::ALL {
        if validate_statement(&statement, version).is_ok() {
            let prepared = prepare(statement.clone(), &authority(), version, Uuid::new_v4);
            assert!(
                prepared.is_ok(),
                "a valid statement failed to prepare: {statement}"
            );
        }
    }
}

proptest! {
    #[test]
    fn any_json_value_gets_a_verdict_not_a_panic(value in json_value()) {
        check(value);
    }

    #[test]
    fn a_statement_with_any_part_replaced_gets_a_verdict(
        path in prop::collection::vec(any::<usize>(), 0..5),
        value in json_value(),
    ) {
        check(mutated(path, value));
    }

    #[test]
    fn any_query_parameters_get_a_verdict(
        params in prop::collection::vec((
            prop_oneof![
                proptest::sample::select(vec![
                    "statementId", "voidedStatementId", "agent", "verb", "activity",
                    "registration", "related_activities", "related_agents", "since", "until",
                    "limit", "format", "attachments", "ascending", "more",
                ]).prop_map(str::to_string),
                any::<String>(),
            ],
            prop_oneof![text(), json_value().prop_map(|v| v.to_string())],
        ), 0..6),
    ) {
        for version in XapiVersion::ALL {
            let _ = parse_request(&params, version, 100);
        }
    }

    #[test]
    fn any_signature_gets_a_verdict(jws in prop::collection::vec(any::<u8>(), 0..300), parts in "[A-Za-z0-9_-]{0,40}(\\.[A-Za-z0-9_-]{0,40}){0,3}") {
        let statement = valid_statement();
        let _ = crate::signature::check(&statement, &jws);
        let _ = crate::signature::check(&statement, parts.as_bytes());
    }

    #[test]
    fn the_format_checkers_answer_any_text(s in any::<String>(), t in text()) {
        for x in [&s, &t] {
            let _ = (is_iri(x), is_uuid(x), is_language_tag(x), parse_timestamp(x));
            if is_duration(x) {
                let _ = crate::canonical::truncate_duration(x);
            }
        }
    }
}
