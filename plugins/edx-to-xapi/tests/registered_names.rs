//! Every event name ERB's xAPI backend registers (erb-xapi-registered-names.txt) is
//! converted, and no other.

mod common;

use std::collections::BTreeSet;

use serde_json::{json, Value};

/// The 65 names ERB registers.
fn registered() -> BTreeSet<String> {
    let path = common::fixtures().join("erb-xapi-registered-names.txt");
    std::fs::read_to_string(path)
        .expect("the list of names")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// A server event with every field some converter needs, named `name`.
fn event_named(name: &str) -> Value {
    json!({
        "name": name,
        "context": {
            "course_id": "course-v1:edX+DemoX+Demo_Course",
            "user_id": 3,
            "path": "/api/discussion/v1/threads/t1/",
            "module": {
                "display_name": "Checkboxes",
                "usage_key": "block-v1:edX+DemoX+Demo_Course+type@problem+block@p1"
            }
        },
        "username": "edx",
        "session": "0123456789abcdef0123456789abcdef",
        "referer": "http://localhost:18000/courses/course-v1:edX+DemoX+Demo_Course/courseware/",
        "event": {
            "id": "t1",
            "course_id": "course-v1:edX+DemoX+Demo_Course",
            "problem_id": "block-v1:edX+DemoX+Demo_Course+type@problem+block@p1",
            "module_id": "block-v1:edX+DemoX+Demo_Course+type@problem+block@p1",
            "block_id": "block-v1:edX+DemoX+Demo_Course+type@sequential+block@s1",
            "hint_index": 0,
            "target_url": "http://localhost:18000/courses/course-v1:edX+DemoX+Demo_Course/jump_to/x",
            "completion": 1.0,
            "percent_grade": 0.5,
            "exam_content_id": "block-v1:edX+DemoX+Demo_Course+type@sequential+block@e1",
            "exam_name": "Final",
            "attempt_code": "A1",
            "duration": 10,
            "currentTime": 1.5
        },
        "time": "2024-01-01T00:00:00+00:00",
        "event_type": name,
        "event_source": "server",
        "page": null
    })
}

#[test]
fn the_crate_converts_exactly_the_names_erb_registers() {
    let ours: BTreeSet<String> = edx_to_xapi::event_names().map(String::from).collect();
    assert_eq!(ours.len(), 65);
    assert_eq!(ours, registered());
}

#[test]
fn every_registered_name_gives_a_statement() {
    let options = common::erb_options();
    for name in registered() {
        let statements = edx_to_xapi::convert_all(&event_named(&name), &options)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(statements.len(), 1, "{name}");
        let statement = &statements[0];
        assert!(statement["verb"]["id"].is_string(), "{name}");
        assert!(
            statement["object"]["id"].is_string(),
            "{name}: {statement:#}"
        );
        assert_eq!(
            statement["actor"]["account"]["name"],
            common::ERB_EXTERNAL_ID,
            "{name}"
        );
    }
}

#[test]
fn other_events_are_not_converted() {
    let options = common::erb_options();
    for name in [
        "page_close",
        "seq_goto",
        "problem_graded",
        "/courses/x/courseware",
    ] {
        assert_eq!(
            edx_to_xapi::convert(&event_named(name), &options).unwrap(),
            None
        );
    }
    assert_eq!(
        edx_to_xapi::convert(&json!("not an event"), &options).unwrap(),
        None
    );
}
