//! Spec-style tests of the edX → xAPI conversion, on events written from the Open edX
//! tracking-log documentation (`tests/events/`).

use std::path::PathBuf;

use edx_to_xapi::{convert, convert_line, is_edx_event, ConvertError, Options};
use serde_json::{json, Value};

const PLATFORM: &str = "https://courses.example.org";
const NAMESPACE: &str = "ee241f8b-174f-5bdb-bae9-c09de5fe017f";
const COURSE: &str = "course-v1:edX+DemoX+Demo_Course";
const VIDEO: &str = "0b9e39477cf34507a7a48f74be381fdd";
const VIDEO_OBJECT_ID: &str = "https://courses.example.org/xblock/block-v1:course-v1:edX+DemoX+Demo_Course-course-v1:+type@video+block@0b9e39477cf34507a7a48f74be381fdd";
const SESSION_UUID: &str = "d85f5b2e-8d3a-2c8b-0f27-de3a3ac13cbd";

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/events")
}

fn event(name: &str) -> Value {
    let path = events_dir().join(name);
    let text = std::fs::read_to_string(&path).expect("fixture is readable");
    serde_json::from_str(&text).expect("fixture is JSON")
}

fn options() -> Options {
    Options {
        platform_url: PLATFORM.to_string(),
        uuid_namespace: Some(NAMESPACE.to_string()),
    }
}

fn converted(name: &str) -> Value {
    let statement = convert(&event(name), &options())
        .expect("converts")
        .expect("is a handled event type");
    assert_xapi_shape(&statement);
    statement
}

/// The statement has the shape the xAPI spec requires and Ralph emits.
fn assert_xapi_shape(statement: &Value) {
    let id = statement["id"].as_str().expect("id is a string");
    assert_eq!(id.len(), 36, "id is a hyphenated UUID: {id}");
    assert_eq!(&id[14..15], "5", "id is a version-5 UUID: {id}");
    assert_eq!(statement["actor"]["objectType"], "Agent");
    assert_eq!(statement["actor"]["account"]["homePage"], PLATFORM);
    assert!(statement["actor"]["account"]["name"].is_string());
    assert!(statement["verb"]["id"]
        .as_str()
        .is_some_and(|v| v.starts_with("http")));
    assert!(statement["object"]["id"]
        .as_str()
        .is_some_and(|v| v.starts_with("http")));
    assert!(statement["object"]["definition"]["type"].is_string());
    assert!(statement["timestamp"].is_string());
    assert_eq!(statement["version"], "1.0.0");
    assert_no_empty_values(statement, "statement");
}

/// Ralph rejects statements holding `null`, `""` or `{}` anywhere (outside extensions' values).
fn assert_no_empty_values(value: &Value, path: &str) {
    match value {
        Value::Null => panic!("{path} is null"),
        Value::String(s) => assert!(!s.is_empty(), "{path} is empty"),
        Value::Object(map) => {
            assert!(!map.is_empty(), "{path} is an empty object");
            for (key, item) in map {
                assert_no_empty_values(item, &format!("{path}.{key}"));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                assert_no_empty_values(item, &format!("{path}[{i}]"));
            }
        }
        _ => {}
    }
}

fn video_category() -> Value {
    json!([{ "id": "https://w3id.org/xapi/video", "definition": { "type": "http://adlnet.gov/expapi/activities/profile" } }])
}

#[test]
fn a_load_video_event_becomes_an_initialized_statement_on_the_video_activity() {
    let statement = converted("load_video.json");
    assert_eq!(
        statement["verb"],
        json!({ "id": "http://adlnet.gov/expapi/verbs/initialized" })
    );
    assert_eq!(
        statement["object"],
        json!({
            "id": VIDEO_OBJECT_ID,
            "definition": { "type": "https://w3id.org/xapi/video/activity-type/video", "name": { "en-US": VIDEO } },
        })
    );
    assert_eq!(
        statement["context"]["contextActivities"]["category"],
        video_category()
    );
    let extensions = &statement["context"]["extensions"];
    assert_eq!(
        extensions["https://w3id.org/xapi/video/extensions/length"],
        json!(0.0)
    );
    assert_eq!(
        extensions["https://w3id.org/xapi/video/extensions/session-id"],
        SESSION_UUID
    );
    assert!(
        extensions["https://w3id.org/xapi/video/extensions/user-agent"]
            .as_str()
            .is_some_and(|agent| agent.starts_with("Mozilla/5.0"))
    );
    assert!(statement.get("result").is_none());
}

#[test]
fn a_play_video_event_becomes_a_played_statement_on_the_video_activity() {
    let statement = converted("play_video.json");
    assert_eq!(
        statement["verb"]["id"],
        "https://w3id.org/xapi/video/verbs/played"
    );
    assert_eq!(statement["object"]["id"], VIDEO_OBJECT_ID);
    assert_eq!(
        statement["object"]["definition"]["type"],
        "https://w3id.org/xapi/video/activity-type/video"
    );
    assert_eq!(
        statement["actor"]["account"],
        json!({ "homePage": PLATFORM, "name": "6789" })
    );
    assert_eq!(
        statement["result"],
        json!({ "extensions": { "https://w3id.org/xapi/video/extensions/time": 1.345 } })
    );
    assert_eq!(
        statement["context"],
        json!({
            "contextActivities": { "category": video_category() },
            "extensions": { "https://w3id.org/xapi/video/extensions/session-id": SESSION_UUID },
        })
    );
    assert_eq!(statement["timestamp"], "2024-03-27T23:36:54.937616Z");
}

#[test]
fn a_pause_video_event_becomes_a_paused_statement_with_the_time_and_a_zero_length() {
    let statement = converted("pause_video.json");
    assert_eq!(
        statement["verb"]["id"],
        "https://w3id.org/xapi/video/verbs/paused"
    );
    assert_eq!(
        statement["result"]["extensions"]["https://w3id.org/xapi/video/extensions/time"],
        json!(81.2)
    );
    assert_eq!(
        statement["context"]["extensions"],
        json!({
            "https://w3id.org/xapi/video/extensions/length": 0.0,
            "https://w3id.org/xapi/video/extensions/session-id": SESSION_UUID,
        })
    );
}

#[test]
fn a_seek_video_event_becomes_a_seeked_statement_with_time_from_and_time_to() {
    let statement = converted("seek_video.json");
    assert_eq!(
        statement["verb"]["id"],
        "https://w3id.org/xapi/video/verbs/seeked"
    );
    assert_eq!(
        statement["result"],
        json!({ "extensions": {
            "https://w3id.org/xapi/video/extensions/time-from": 14.5,
            "https://w3id.org/xapi/video/extensions/time-to": 60.0,
        } })
    );
    assert_eq!(
        statement["context"]["extensions"],
        json!({ "https://w3id.org/xapi/video/extensions/session-id": SESSION_UUID })
    );
}

#[test]
fn a_stop_video_event_becomes_a_terminated_statement_with_zero_progress_and_length() {
    let statement = converted("stop_video.json");
    assert_eq!(
        statement["verb"]["id"],
        "http://adlnet.gov/expapi/verbs/terminated"
    );
    assert_eq!(
        statement["result"]["extensions"],
        json!({
            "https://w3id.org/xapi/video/extensions/time": 195.0,
            "https://w3id.org/xapi/video/extensions/progress": 0.0,
        })
    );
    assert_eq!(
        statement["context"]["extensions"]["https://w3id.org/xapi/video/extensions/length"],
        json!(0.0)
    );
}

#[test]
fn a_video_event_whose_event_field_is_an_object_converts_like_its_json_string_form() {
    let mut as_object = event("play_video.json");
    let inner: Value = serde_json::from_str(as_object["event"].as_str().expect("string event"))
        .expect("event string is JSON");
    as_object["event"] = inner;
    let mut from_object = convert(&as_object, &options())
        .expect("converts")
        .expect("handled");
    let mut from_string = converted("play_video.json");
    // Only the id differs: it is made from the event text, which differs.
    assert_ne!(from_object["id"], from_string["id"]);
    from_object["id"] = Value::Null;
    from_string["id"] = Value::Null;
    assert_eq!(from_object, from_string);
}

#[test]
fn a_video_event_with_an_empty_session_has_no_session_id_extension() {
    let mut play = event("play_video.json");
    play["session"] = json!("");
    let statement = convert(&play, &options())
        .expect("converts")
        .expect("handled");
    assert_xapi_shape(&statement);
    assert!(statement["context"].get("extensions").is_none());
}

#[test]
fn an_enrollment_activated_event_becomes_a_registered_statement_on_the_course() {
    let statement = converted("enrollment_activated.json");
    assert_eq!(
        statement["verb"],
        json!({ "id": "http://adlnet.gov/expapi/verbs/registered" })
    );
    assert_eq!(
        statement["object"],
        json!({
            "id": format!("{PLATFORM}/courses/{COURSE}/info"),
            "definition": { "type": "http://adlnet.gov/expapi/activities/course" },
        })
    );
    assert_eq!(
        statement["context"],
        json!({ "contextActivities": { "category": [
            { "id": "https://w3id.org/xapi/lms", "definition": { "type": "http://adlnet.gov/expapi/activities/profile" } }
        ] } })
    );
    assert_eq!(statement["timestamp"], "2024-03-28T08:12:03.114052Z");
}

#[test]
fn an_enrollment_deactivated_event_becomes_an_unregistered_statement_on_the_course() {
    let statement = converted("enrollment_deactivated.json");
    assert_eq!(
        statement["verb"]["id"],
        "http://id.tincanapi.com/verb/unregistered"
    );
    assert_eq!(
        statement["object"]["id"],
        format!("{PLATFORM}/courses/{COURSE}/info")
    );
    assert_eq!(
        statement["object"]["definition"]["type"],
        "http://adlnet.gov/expapi/activities/course"
    );
}

#[test]
fn a_page_close_event_becomes_a_terminated_statement_on_the_page() {
    let source = event("page_close.json");
    let statement = converted("page_close.json");
    assert_eq!(
        statement["verb"]["id"],
        "http://adlnet.gov/expapi/verbs/terminated"
    );
    assert_eq!(
        statement["object"],
        json!({ "id": source["page"], "definition": { "type": "http://activitystrea.ms/schema/1.0/page" } })
    );
    assert!(statement.get("context").is_none());
}

#[test]
fn a_server_page_request_becomes_a_viewed_statement_on_the_page() {
    let statement = converted("server_page_view.json");
    assert_eq!(
        statement["verb"]["id"],
        "http://id.tincanapi.com/verb/viewed"
    );
    assert_eq!(
        statement["object"],
        json!({
            "id": format!("{PLATFORM}/courses/{COURSE}/courseware"),
            "definition": { "type": "http://activitystrea.ms/schema/1.0/page" },
        })
    );
}

#[test]
fn a_problem_check_event_becomes_an_answered_statement_with_score_and_success() {
    let statement = converted("problem_check.json");
    assert_eq!(
        statement["verb"]["id"],
        "http://adlnet.gov/expapi/verbs/answered"
    );
    assert_eq!(
        statement["object"],
        json!({
            "id": format!("{PLATFORM}/xblock/block-v1:edX+DemoX+Demo_Course+type@problem+block@2b1c7a0e8f1c4c0e9f1f1c2d3e4f5a6b"),
            "definition": {
                "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                "interactionType": "choice",
            },
        })
    );
    assert_eq!(
        statement["result"],
        json!({ "success": true, "score": { "raw": 1, "min": 0, "max": 1, "scaled": 1.0 } })
    );
}

#[test]
fn an_event_without_a_user_id_is_attributed_to_the_anonymous_account() {
    for user_id in [Value::Null, json!(""), json!(0)] {
        let mut page_close = event("page_close.json");
        page_close["context"]["user_id"] = user_id;
        let statement = convert(&page_close, &options())
            .expect("converts")
            .expect("handled");
        assert_eq!(statement["actor"]["account"]["name"], "anonymous");
    }
    let mut page_close = event("page_close.json");
    page_close["context"]
        .as_object_mut()
        .expect("context")
        .remove("user_id");
    let statement = convert(&page_close, &options())
        .expect("converts")
        .expect("handled");
    assert_eq!(statement["actor"]["account"]["name"], "anonymous");
}

#[test]
fn the_statement_id_of_a_raw_line_is_its_uuid5_in_the_configured_namespace_as_in_ralph() {
    let line = std::fs::read_to_string(events_dir().join("play_video.line")).expect("line fixture");
    let statement = convert_line(&line, &options())
        .expect("converts")
        .expect("handled");
    // Computed with Python: str(uuid.uuid5(uuid.UUID(NAMESPACE), line)).
    assert_eq!(statement["id"], "dc857afe-2805-5abb-a995-ed5892e15036");
    assert_eq!(
        statement["verb"]["id"],
        "https://w3id.org/xapi/video/verbs/played"
    );
}

#[test]
fn the_same_event_gets_the_same_id_whatever_its_key_order_or_spacing() {
    let pretty = std::fs::read_to_string(events_dir().join("play_video.json")).expect("fixture");
    let compact = std::fs::read_to_string(events_dir().join("play_video.line")).expect("fixture");
    let a = convert(&serde_json::from_str(&pretty).expect("json"), &options()).expect("ok");
    let b = convert(&serde_json::from_str(&compact).expect("json"), &options()).expect("ok");
    assert_eq!(a.expect("handled")["id"], b.expect("handled")["id"]);
}

#[test]
fn different_events_get_different_ids() {
    let play = converted("play_video.json");
    let pause = converted("pause_video.json");
    assert_ne!(play["id"], pause["id"]);
}

#[test]
fn without_a_uuid_namespace_ids_are_derived_from_the_platform_url() {
    let play = event("play_video.json");
    let here = Options {
        platform_url: PLATFORM.into(),
        uuid_namespace: None,
    };
    let elsewhere = Options {
        platform_url: "https://lms.other.example".into(),
        uuid_namespace: None,
    };
    let a = convert(&play, &here).expect("ok").expect("handled");
    let b = convert(&play, &here).expect("ok").expect("handled");
    let c = convert(&play, &elsewhere).expect("ok").expect("handled");
    assert_eq!(a["id"], b["id"]);
    assert_ne!(a["id"], c["id"]);
    // Same as configuring the namespace uuid5(NAMESPACE_URL, platform_url) explicitly.
    let explicit = Options {
        platform_url: PLATFORM.into(),
        uuid_namespace: Some("cb54a218-46df-52af-a618-1edfb0ca2e2f".into()),
    };
    assert_eq!(
        convert(&play, &explicit).expect("ok").expect("handled")["id"],
        a["id"]
    );
}

#[test]
fn an_invalid_uuid_namespace_is_an_error_naming_the_option() {
    let bad = Options {
        platform_url: PLATFORM.into(),
        uuid_namespace: Some("not-a-uuid".into()),
    };
    let error = convert(&event("play_video.json"), &bad).expect_err("rejected");
    assert!(matches!(
        error,
        ConvertError::InvalidOption {
            option: "uuid_namespace",
            ..
        }
    ));
    assert!(error.to_string().contains("uuid_namespace"), "{error}");
}

#[test]
fn an_empty_platform_url_is_an_error_naming_the_option() {
    let bad = Options {
        platform_url: String::new(),
        uuid_namespace: None,
    };
    let error = convert(&event("page_close.json"), &bad).expect_err("rejected");
    assert!(error.to_string().contains("platform_url"), "{error}");
}

#[test]
fn a_trailing_slash_on_the_platform_url_is_not_doubled_in_object_ids() {
    let slashed = Options {
        platform_url: format!("{PLATFORM}/"),
        uuid_namespace: Some(NAMESPACE.into()),
    };
    let statement = convert(&event("enrollment_activated.json"), &slashed)
        .expect("ok")
        .expect("handled");
    assert_eq!(
        statement["object"]["id"],
        format!("{PLATFORM}/courses/{COURSE}/info")
    );
    // The actor's homePage keeps the configured URL as is, as in Ralph.
    assert_eq!(
        statement["actor"]["account"]["homePage"],
        format!("{PLATFORM}/")
    );
}

#[test]
fn a_play_video_event_without_a_video_id_is_an_error_naming_event_id() {
    let mut play = event("play_video.json");
    play["event"] = json!("{\"currentTime\": 3.5, \"code\": \"html5\"}");
    let error = convert(&play, &options()).expect_err("rejected");
    assert_eq!(error, ConvertError::MissingField("event.id".into()));
    assert_eq!(error.to_string(), "missing field `event.id`");
}

#[test]
fn a_play_video_event_without_current_time_is_an_error_naming_event_current_time() {
    let mut play = event("play_video.json");
    play["event"] = json!({ "id": VIDEO, "code": "html5" });
    let error = convert(&play, &options()).expect_err("rejected");
    assert_eq!(error.field(), Some("event.currentTime"));
}

#[test]
fn a_video_event_with_a_negative_time_is_an_error() {
    let mut seek = event("seek_video.json");
    seek["event"] = json!({ "id": VIDEO, "old_time": -1, "new_time": 3, "type": "onSlideSeek" });
    let error = convert(&seek, &options()).expect_err("rejected");
    assert_eq!(error.field(), Some("event.old_time"));
}

#[test]
fn a_video_event_whose_event_string_is_not_json_is_an_error_naming_event() {
    let mut play = event("play_video.json");
    play["event"] = json!("{\"id\": \"truncated");
    let error = convert(&play, &options()).expect_err("rejected");
    assert_eq!(error.field(), Some("event"));
}

#[test]
fn a_video_event_without_a_course_id_is_an_error_naming_context_course_id() {
    let mut load = event("load_video.json");
    load["context"]
        .as_object_mut()
        .expect("context")
        .remove("course_id");
    let error = convert(&load, &options()).expect_err("rejected");
    assert_eq!(error.field(), Some("context.course_id"));
}

#[test]
fn an_enrollment_event_without_a_course_id_is_an_error_naming_event_course_id() {
    let mut enrollment = event("enrollment_activated.json");
    enrollment["event"] = json!({ "user_id": 6789, "mode": "audit" });
    let error = convert(&enrollment, &options()).expect_err("rejected");
    assert_eq!(error, ConvertError::MissingField("event.course_id".into()));
}

#[test]
fn an_event_without_a_time_is_an_error_naming_time() {
    let mut close = event("page_close.json");
    close.as_object_mut().expect("object").remove("time");
    assert_eq!(
        convert(&close, &options()),
        Err(ConvertError::MissingField("time".into()))
    );
    close["time"] = json!("last tuesday");
    assert_eq!(
        convert(&close, &options()).expect_err("rejected").field(),
        Some("time")
    );
}

#[test]
fn a_problem_check_event_with_an_unknown_success_value_is_an_error_naming_event_success() {
    let mut check = event("problem_check.json");
    check["event"]["success"] = json!("maybe");
    let error = convert(&check, &options()).expect_err("rejected");
    assert_eq!(error.field(), Some("event.success"));
}

#[test]
fn an_unknown_event_type_is_not_handled() {
    assert_eq!(convert(&event("seq_goto.json"), &options()), Ok(None));
    let mut other = event("enrollment_activated.json");
    other["event_type"] = json!("edx.course.enrollment.mode_changed");
    assert_eq!(convert(&other, &options()), Ok(None));
}

#[test]
fn a_video_event_from_another_source_than_the_browser_is_not_handled() {
    let mut mobile = event("play_video.json");
    mobile["event_source"] = json!("mobile");
    assert_eq!(convert(&mobile, &options()), Ok(None));
}

#[test]
fn a_server_event_that_is_not_a_page_request_is_not_handled() {
    let mut view = event("server_page_view.json");
    view["context"]["path"] = json!("/somewhere/else");
    assert_eq!(convert(&view, &options()), Ok(None));
}

#[test]
fn an_unhandled_event_is_not_an_error_even_with_bad_options() {
    let bad = Options {
        platform_url: String::new(),
        uuid_namespace: Some("nope".into()),
    };
    assert_eq!(convert(&event("seq_goto.json"), &bad), Ok(None));
    assert_eq!(convert(&json!("a string"), &bad), Ok(None));
}

#[test]
fn a_line_that_is_not_json_is_an_error() {
    let error = convert_line("{not json", &options()).expect_err("rejected");
    assert!(matches!(error, ConvertError::InvalidJson(_)));
}

#[test]
fn is_edx_event_tells_tracking_log_events_from_xapi_statements() {
    for name in [
        "play_video.json",
        "enrollment_activated.json",
        "seq_goto.json",
    ] {
        assert!(is_edx_event(&event(name)), "{name}");
    }
    assert!(is_edx_event(&json!({ "event_type": "x", "context": {} })));
    let statement = converted("play_video.json");
    assert!(!is_edx_event(&statement));
    assert!(!is_edx_event(
        &json!({ "event_type": "x", "event_source": "server", "verb": {} })
    ));
    assert!(!is_edx_event(&json!({ "event_type": "x" })));
    assert!(!is_edx_event(&json!([1, 2])));
}

#[test]
fn every_handled_fixture_converts_to_a_valid_xapi_statement() {
    let mut handled = 0;
    for entry in std::fs::read_dir(events_dir()).expect("events dir") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_string();
        let source = event(&name);
        assert!(is_edx_event(&source), "{name} looks like an edX event");
        if let Some(statement) = convert(&source, &options()).expect("fixtures are well formed") {
            assert_xapi_shape(&statement);
            handled += 1;
        }
    }
    assert_eq!(handled, 10);
}
