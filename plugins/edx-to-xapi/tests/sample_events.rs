//! The sample tracking-log events of `tests/events/` (written for this project; also what
//! the black-box test feeds `xlrs convert`): ERB's verbs, no statement for events ERB does
//! not convert, and actors made without any external-id setting.

use std::path::Path;

use edx_to_xapi::Options;
use serde_json::Value;

/// The event of `tests/events/<file>`.
fn event(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/events")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

#[test]
fn each_sample_event_gets_erb_s_verb_or_no_statement() {
    let options = Options::for_lms("https://courses.example.org");
    let cases = [
        (
            "enrollment_activated.json",
            Some("http://adlnet.gov/expapi/verbs/registered"),
        ),
        (
            "enrollment_deactivated.json",
            Some("http://id.tincanapi.com/verb/unregistered"),
        ),
        (
            "load_video.json",
            Some("http://adlnet.gov/expapi/verbs/initialized"),
        ),
        (
            "play_video.json",
            Some("https://w3id.org/xapi/video/verbs/played"),
        ),
        (
            "pause_video.json",
            Some("https://w3id.org/xapi/video/verbs/paused"),
        ),
        (
            "seek_video.json",
            Some("https://w3id.org/xapi/video/verbs/seeked"),
        ),
        (
            "stop_video.json",
            Some("http://adlnet.gov/expapi/verbs/terminated"),
        ),
        (
            "problem_check.json",
            Some("https://w3id.org/xapi/acrossx/verbs/evaluated"),
        ),
        ("page_close.json", None),
        ("seq_goto.json", None),
        ("server_page_view.json", None),
    ];
    for (file, verb) in cases {
        let statement = edx_to_xapi::convert(&event(file), &options).unwrap();
        assert_eq!(
            statement.as_ref().map(|s| s["verb"]["id"].clone()),
            verb.map(Value::from),
            "{file}"
        );
        if let Some(statement) = statement {
            assert!(edx_to_xapi::has_object_ids(&[statement.clone()]), "{file}");
            assert_eq!(
                statement["actor"]["account"]["homePage"],
                "https://courses.example.org"
            );
        }
    }
}

#[test]
fn the_same_line_always_gives_the_same_statement() {
    let options = Options::for_lms("https://courses.example.org");
    let line = serde_json::to_string(&event("play_video.json")).unwrap();
    let first = edx_to_xapi::convert_line(&line, &options).unwrap();
    assert_eq!(first, edx_to_xapi::convert_line(&line, &options).unwrap());
    let played = first.unwrap();
    assert_eq!(
        played["result"]["extensions"]["https://w3id.org/xapi/video/extensions/time"],
        1.345
    );
    assert!(edx_to_xapi::is_edx_event(&event("play_video.json")));
    assert!(!edx_to_xapi::is_edx_event(&played));
    assert!(edx_to_xapi::convert_line("not json", &options).is_err());
}
