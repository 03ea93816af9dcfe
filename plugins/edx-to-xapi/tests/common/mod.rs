//! Shared by the test files: ERB's fixtures, the settings ERB's tests mock, and the
//! tracking-log form edx-platform's shim writes.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use edx_to_xapi::{AgentIfi, Options};
use serde_json::{Map, Value};

/// The external user id ERB's tests give every user (`ExternalId` is mocked).
pub const ERB_EXTERNAL_ID: &str = "32e08e30-f8ae-4ce2-94a8-c2bfe38a70cb";
/// `LMS_ROOT_URL` of ERB's test settings.
pub const ERB_LMS_ROOT_URL: &str = "http://localhost:18000";
/// The transformer version ERB writes under `RUNNING_WITH_TEST_SETTINGS`.
pub const ERB_TEST_VERSION: &str = "event-routing-backends@1.1.1";

/// Fixtures without event_source that the browser emits (the fixture README's list), except
/// `problem_check(browser).required.only.data`: its expected statement is ERB's reading of
/// the event as a server one, which is what the shim's default (`server`) gives.
const BROWSER_WITHOUT_SOURCE: [&str; 3] = [
    "load_video.required.only.data",
    "play_video.required.only.data",
    "edx.ui.lms.link_clicked.required.only.data",
];

/// The fixture folder.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/openedx-erb")
}

/// A JSON file of the fixture folder.
pub fn read(relative: &str) -> Value {
    let path = fixtures().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// The settings that stand for what ERB's tests mock: LMS URL, one external id and e-mail
/// for every user, one course name for every course, the test transformer version.
pub fn erb_options() -> Options {
    let every = |value: &str| BTreeMap::from([("*".to_string(), value.to_string())]);
    Options {
        platform_url: ERB_LMS_ROOT_URL.into(),
        uuid_namespace: None,
        agent_ifi: AgentIfi::ExternalId,
        external_user_ids: every(ERB_EXTERNAL_ID),
        user_emails: every("edx@example.com"),
        course_names: every("Demonstration Course"),
        transformer_version: ERB_TEST_VERSION.into(),
    }
}

/// The tracking-log line of a fixture (`current/<name>.json`).
pub fn tracking_line(name: &str) -> Value {
    let fixture = read(&format!("current/{name}.json"));
    shim(&fixture, BROWSER_WITHOUT_SOURCE.contains(&name))
}

/// Rewrites an eventtracking event as edx-platform's `LegacyFieldMappingProcessor` does:
/// request fields out of `context` to the top (empty when absent), `client_id` dropped,
/// `data` → `event` (JSON text for a browser event), `timestamp` → `time`, then
/// `event_type` (default: the name), `event_source` (default: `server`) and `page`.
/// Lines already in that form are kept. `browser` marks an event the browser emitted.
pub fn shim(fixture: &Value, browser: bool) -> Value {
    let mut line = fixture.as_object().cloned().expect("an object");
    if line.contains_key("event_type") {
        return Value::Object(line);
    }
    let mut context = match line.get("context") {
        Some(Value::Object(c)) => Some(c.clone()),
        _ => None,
    };
    let from_browser = browser
        || context.as_ref().and_then(|c| c.get("event_source")) == Some(&Value::from("browser"));
    if let Some(context) = context.as_mut() {
        for field in [
            "username",
            "session",
            "ip",
            "agent",
            "host",
            "referer",
            "accept_language",
        ] {
            let value = context.shift_remove(field).unwrap_or_else(|| "".into());
            line.insert(field.into(), value);
        }
        context.shift_remove("client_id");
    }
    let event = match line.shift_remove("data") {
        Some(data @ Value::Object(_)) if from_browser => Value::String(data.to_string()),
        Some(data) => data,
        None => Value::Object(Map::new()),
    };
    line.insert("event".into(), event);
    let mut take = |key: &str| context.as_mut().and_then(|c| c.shift_remove(key));
    let time = take("timestamp").or_else(|| line.get("timestamp").cloned());
    let event_type = take("event_type");
    let event_source = take("event_source");
    let page = take("page");
    if let Some(time) = time {
        line.insert("time".into(), time);
    }
    line.shift_remove("timestamp");
    let name = line.get("name").cloned().unwrap_or_else(|| "".into());
    line.insert("event_type".into(), event_type.unwrap_or(name));
    let default_source = if browser { "browser" } else { "server" };
    line.insert(
        "event_source".into(),
        event_source.unwrap_or_else(|| default_source.into()),
    );
    line.insert("page".into(), page.unwrap_or(Value::Null));
    if let Some(context) = context {
        line.insert("context".into(), Value::Object(context));
    }
    Value::Object(line)
}

/// `statement` with the integral floats of `result.score` as integers: tincan writes scores
/// as floats, some fixtures write them as integers, and ERB's test compares with Python's
/// `assertDictEqual`, where `1 == 1.0`. Every other number is compared as it is.
pub fn numeric(statement: &Value) -> Value {
    let mut statement = statement.clone();
    if let Some(Value::Object(score)) = statement.pointer_mut("/result/score") {
        for value in score.values_mut() {
            if let Some(f) = value
                .as_f64()
                .filter(|f| value.is_f64() && f.fract() == 0.0)
            {
                *value = Value::from(f as i64);
            }
        }
    }
    statement
}

/// The statements of a fixture's tracking-log line with ERB's test settings.
pub fn convert_fixture(name: &str) -> Vec<Value> {
    let line = tracking_line(name);
    edx_to_xapi::convert_all(&line, &erb_options())
        .unwrap_or_else(|e| panic!("{name}: {e}\n{line:#}"))
}

/// Converts `current/<name>.json` and compares with `expected/<name>.json`, every field.
pub fn assert_matches_erb(name: &str) {
    let actual = convert_fixture(name);
    let expected = match read(&format!("expected/{name}.json")) {
        Value::Array(list) => list,
        one => vec![one],
    };
    assert_eq!(actual.len(), expected.len(), "{name}: number of statements");
    for (i, (got, want)) in actual.iter().zip(&expected).enumerate() {
        assert_eq!(
            numeric(got),
            numeric(want),
            "{name}, statement {i}:\n got {got:#}\nwant {want:#}"
        );
    }
    let single = edx_to_xapi::convert(&tracking_line(name), &erb_options())
        .expect("converted")
        .expect("handled");
    let expected_single = if actual.len() == 1 {
        actual[0].clone()
    } else {
        Value::Array(actual)
    };
    assert_eq!(
        single, expected_single,
        "{name}: convert and convert_all agree"
    );
}
