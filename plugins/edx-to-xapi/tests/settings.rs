//! The settings that replace ERB's environment: each one changes what ERB's environment
//! would change.

mod common;

use std::collections::BTreeMap;

use edx_to_xapi::{AgentIfi, ConvertError, Options, DEFAULT_TRANSFORMER_VERSION};
use serde_json::{json, Value};

/// The enrollment fixture's only statement with `options`.
fn enrollment(options: &Options) -> Value {
    let line = common::tracking_line("edx.course.enrollment.activated");
    edx_to_xapi::convert(&line, options).unwrap().unwrap()
}

/// The video fixture's only statement with `options`.
fn video(options: &Options) -> Value {
    let line = common::tracking_line("play_video");
    edx_to_xapi::convert(&line, options).unwrap().unwrap()
}

#[test]
fn another_lms_url_changes_the_actor_home_page_and_object_ids() {
    let options = Options {
        platform_url: "https://lms.example.com".into(),
        ..common::erb_options()
    };
    let erb = enrollment(&common::erb_options());
    let statement = enrollment(&options);
    assert_eq!(
        statement["actor"]["account"]["homePage"],
        "https://lms.example.com"
    );
    assert_eq!(
        statement["object"]["id"],
        "https://lms.example.com/course/course-v1:edX+DemoX+Demo_Course"
    );
    // The actor is part of the id recipe.
    assert_ne!(statement["id"], erb["id"]);

    let statement = video(&options);
    assert_eq!(
        statement["object"]["id"],
        "https://lms.example.com/xblock/block-v1:edX+DemoX+Demo_Course+type@video+block@0b9e39477cf34507a7a48f74be381fdd"
    );
    assert_eq!(
        statement["context"]["contextActivities"]["parent"][0]["id"],
        "https://lms.example.com/course/course-v1:edX+DemoX+Demo_Course"
    );
}

#[test]
fn external_ids_are_looked_up_by_user_id_then_derived() {
    let mut options = common::erb_options();
    options.external_user_ids = BTreeMap::from([("3".into(), "ext-of-user-3".into())]);
    assert_eq!(
        enrollment(&options)["actor"]["account"]["name"],
        "ext-of-user-3"
    );

    // Not listed: a UUIDv5 of the user id, in `uuid_namespace` (default: from the LMS URL).
    options.external_user_ids.clear();
    let derived = enrollment(&options)["actor"]["account"]["name"].clone();
    let namespace = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, b"http://localhost:18000");
    assert_eq!(
        derived,
        uuid::Uuid::new_v5(&namespace, b"3").to_string().as_str()
    );
    options.uuid_namespace = Some("6ba7b811-9dad-11d1-80b4-00c04fd430c8".into());
    assert_ne!(enrollment(&options)["actor"]["account"]["name"], derived);

    options.uuid_namespace = Some("not a uuid".into());
    let line = common::tracking_line("edx.course.enrollment.activated");
    assert!(matches!(
        edx_to_xapi::convert(&line, &options),
        Err(ConvertError::InvalidOption {
            option: "uuid_namespace",
            ..
        })
    ));
}

#[test]
fn mbox_actors_are_made_from_the_configured_e_mail() {
    // ERB's test_xapi_agent_ifi_settings_mbox and …_mbox_sha1sum.
    let options = Options {
        agent_ifi: AgentIfi::Mbox,
        ..common::erb_options()
    };
    assert_eq!(
        enrollment(&options)["actor"],
        json!({"objectType": "Agent", "mbox": "mailto:edx@example.com"})
    );
    let options = Options {
        agent_ifi: AgentIfi::MboxSha1sum,
        ..common::erb_options()
    };
    assert_eq!(
        enrollment(&options)["actor"],
        // sha1("edx@example.com"): ERB hashes the bare address.
        json!({"objectType": "Agent", "mbox_sha1sum": "5ca50defdffe6702ba250181db9192aa27dabbf1"})
    );

    // A user without an e-mail is ERB's unknown user.
    let options = Options {
        agent_ifi: AgentIfi::Mbox,
        user_emails: BTreeMap::new(),
        ..common::erb_options()
    };
    assert_eq!(
        enrollment(&options)["actor"]["mbox"],
        "mailto:unknown@example.com"
    );
}

#[test]
fn course_names_come_from_the_settings_or_are_left_out() {
    let mut options = common::erb_options();
    options.course_names =
        BTreeMap::from([("course-v1:edX+DemoX+Demo_Course".into(), "Demo".into())]);
    assert_eq!(
        video(&options)["context"]["contextActivities"]["parent"][0]["definition"]["name"],
        json!({"en-US": "Demo"})
    );
    assert_eq!(
        enrollment(&options)["object"]["definition"]["name"],
        json!({"en": "Demo"})
    );

    options.course_names.clear();
    let statement = video(&options);
    let parent = &statement["context"]["contextActivities"]["parent"][0];
    assert_eq!(
        parent["definition"],
        json!({"type": "http://adlnet.gov/expapi/activities/course"})
    );
    assert!(enrollment(&options)["object"]["definition"]
        .get("name")
        .is_none());
}

#[test]
fn the_transformer_version_is_set_and_defaults_to_erb_s_release() {
    let key = "https://w3id.org/xapi/openedx/extension/transformer-version";
    let mut options = common::erb_options();
    options.transformer_version = "my-converter@2".into();
    assert_eq!(
        enrollment(&options)["context"]["extensions"][key],
        "my-converter@2"
    );
    options.transformer_version = Options::default().transformer_version;
    assert_eq!(
        enrollment(&options)["context"]["extensions"][key],
        DEFAULT_TRANSFORMER_VERSION
    );
}

#[test]
fn an_empty_lms_url_is_an_error() {
    let options = Options {
        platform_url: String::new(),
        ..common::erb_options()
    };
    let line = common::tracking_line("play_video");
    assert!(matches!(
        edx_to_xapi::convert(&line, &options),
        Err(ConvertError::InvalidOption {
            option: "platform_url",
            ..
        })
    ));
}

#[test]
fn the_plugin_config_keys_give_erb_s_test_settings() {
    let config = |key: &str| {
        match key {
            "lms_root_url" => Some(common::ERB_LMS_ROOT_URL),
            "external_user_ids" => Some(r#"{"*": "32e08e30-f8ae-4ce2-94a8-c2bfe38a70cb"}"#),
            "user_emails" => Some(r#"{"*": "edx@example.com"}"#),
            "course_names" => Some(r#"{"*": "Demonstration Course"}"#),
            "transformer_version" => Some(common::ERB_TEST_VERSION),
            "agent_ifi" => Some("external_id"),
            _ => None,
        }
        .map(String::from)
    };
    assert_eq!(Options::from_config(config).unwrap(), common::erb_options());
    // `platform_url` is the older name of `lms_root_url`.
    let legacy = Options::from_config(|k| (k == "platform_url").then(|| "https://a.b".into()));
    assert_eq!(legacy.unwrap().platform_url, "https://a.b");
}
