//! xAPI Profile validation in the write path: `plugins/profile-validator` with ADL's published
//! cmi5 and Video profiles (tests/data/profiles) in its granted directory.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use xlrs_tests::Server;

use crate::plugin_examples::{server, shipped_manifest, stored};
use crate::plugins::{install, serving, wait_for};

const CMI5_CATEGORY: &str = "https://w3id.org/xapi/cmi5/context/categories/cmi5";
const MOVEON: &str = "https://w3id.org/xapi/cmi5/context/categories/moveon";

/// The profiles' folder the plugin is granted (`dir = "profiles"` in its shipped manifest).
fn profiles_dir(s: &Server) -> PathBuf {
    s.data_dir().join("plugin-data").join("profiles")
}

/// A server with the profile validator serving, and the two published profiles in its folder.
fn validating_server(config: &str) -> Server {
    let s = server();
    let dir = profiles_dir(&s);
    std::fs::create_dir_all(&dir).unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/profiles");
    for name in ["cmi5.jsonld", "video.jsonld"] {
        std::fs::copy(data.join(name), dir.join(name)).unwrap();
    }
    let manifest = shipped_manifest("profile-validator", config);
    install(&s, "profile-validator", "profile-validator", &manifest);
    wait_for(&s, "profile-validator", serving("profile-validator"));
    s
}

/// A cmi5 "passed" statement as an AU sends it (cmi5 §9.3.5), with a fresh id.
fn cmi5_passed() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/profiles/cmi5-passed.json");
    let mut s: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    s["id"] = json!(uuid::Uuid::new_v4().to_string());
    s
}

/// A Video profile "played" statement, declaring the profile's version as its category.
fn video_played() -> Value {
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "timestamp": "2026-12-03T01:00:00Z",
        "actor": {"mbox": "mailto:viewer@example.org"},
        "verb": {"id": "https://w3id.org/xapi/video/verbs/played"},
        "object": {"id": "https://example.org/video/1", "objectType": "Activity",
                   "definition": {"type": "https://w3id.org/xapi/video/activity-type/video"}},
        "result": {"extensions": {"https://w3id.org/xapi/video/extensions/time": 12.5}},
        "context": {"contextActivities": {"category": [{"id": "https://w3id.org/xapi/video/v1.0.3"}]}}
    })
}

fn error_of(s: &Server, body: &Value) -> Value {
    let r = s.post(body);
    assert_eq!(r.status(), 400, "the batch is rejected");
    r.json().unwrap()
}

#[test]
fn statements_following_the_cmi5_and_video_templates_are_stored() {
    let s = validating_server(&format!(
        "declared_by = \"https://w3id.org/xapi/cmi5={CMI5_CATEGORY}\"\n"
    ));
    assert_eq!(stored(&s, &cmi5_passed())["result"]["success"], true);
    assert_eq!(
        stored(&s, &video_played())["verb"]["id"],
        "https://w3id.org/xapi/video/verbs/played"
    );
    // Declaring no profile, a statement is not checked against any.
    assert_eq!(s.post(&xlrs_tests::statement()).status(), 200);
}

#[test]
fn a_statement_breaking_a_template_rule_is_a_400_naming_profile_template_and_rule() {
    let s = validating_server(&format!(
        "declared_by = \"https://w3id.org/xapi/cmi5={CMI5_CATEGORY}\"\n"
    ));
    let mut passed = cmi5_passed();
    passed["result"].as_object_mut().unwrap().remove("duration");
    passed["result"]["completion"] = json!(true);
    let body = error_of(&s, &passed);
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert_eq!(
        message,
        "profile https://w3id.org/xapi/cmi5: template https://w3id.org/xapi/cmi5#passed: \
         $.result.completion must be absent (presence excluded); \
         profile https://w3id.org/xapi/cmi5: template https://w3id.org/xapi/cmi5#passed: \
         $.result.duration is required (presence included) and missing"
    );
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("profile-validator"));
    assert_eq!(
        s.get_statement(passed["id"].as_str().unwrap()).status(),
        404
    );
}

#[test]
fn in_a_batch_every_statement_breaking_a_profile_is_listed_and_none_is_stored() {
    let s = validating_server(&format!(
        "declared_by = \"https://w3id.org/xapi/cmi5={CMI5_CATEGORY}\"\n"
    ));
    let good = cmi5_passed();
    let mut no_time = video_played();
    no_time["result"]["extensions"] = json!({});
    let mut moveon_on_initialized = cmi5_passed();
    moveon_on_initialized["verb"]["id"] = json!("http://adlnet.gov/expapi/verbs/initialized");
    moveon_on_initialized
        .as_object_mut()
        .unwrap()
        .remove("result");
    let body = error_of(&s, &json!([good, no_time, moveon_on_initialized]));
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(
        errors
            .iter()
            .map(|e| e["statement_index"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert!(errors[0]["message"]
        .as_str()
        .unwrap()
        .contains("extensions/time'] is required"));
    let second = errors[1]["message"].as_str().unwrap();
    assert!(
        second.ends_with(&format!("must not be \"{MOVEON}\"")),
        "{second}"
    );
    assert_eq!(
        s.get_statement(good["id"].as_str().unwrap()).status(),
        404,
        "all or nothing"
    );
}

#[test]
fn scope_all_checks_every_statement_and_require_template_refuses_unmatched_ones() {
    let s = validating_server(
        "scope = \"all\"\nrequire_template = \"true\"\nprofiles = \"video.jsonld\"\n",
    );
    let plain = xlrs_tests::statement();
    let body = error_of(&s, &plain);
    assert_eq!(
        body["errors"][0]["message"],
        "profile https://w3id.org/xapi/video: matches none of its statement templates"
    );
    assert_eq!(s.post(&video_played()).status(), 200);
}

#[test]
fn a_profile_file_that_cannot_be_read_is_a_plugin_failure_naming_it_not_a_verdict() {
    let s = validating_server(&format!(
        "declared_by = \"https://w3id.org/xapi/cmi5={CMI5_CATEGORY}\"\n"
    ));
    let broken = profiles_dir(&s).join("broken.jsonld");
    std::fs::write(&broken, "{ not json").unwrap();
    let r = s.post(&cmi5_passed());
    assert_eq!(r.status(), 500);
    let body: Value = r.json().unwrap();
    assert_eq!(body["error"], "plugin_failure");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("profile-validator"));
    let st = crate::plugins::plugin_status(&s, "profile-validator");
    let kept = st["last_failure"]["message"].as_str().unwrap_or_default();
    assert!(kept.contains("broken.jsonld: not JSON"), "{st}");
    std::fs::remove_file(&broken).unwrap();
    assert_eq!(
        s.post(&cmi5_passed()).status(),
        200,
        "read again at the next call"
    );
}
