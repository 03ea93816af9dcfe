//! One rule in every plugin language (Rust, JavaScript, Python, C): only an explicit rejection
//! is a verdict on the data (400, listing every error the plugin gave); an uncaught exception,
//! panic or abort is the plugin's failure (500 naming the plugin; what the plugin said last is
//! the operator's, in `GET /plugins`, not the client's), and the server goes on serving.

use serde_json::{json, Value};
use xlrs_tests::{statement, Server};

use crate::plugins::{install, plugin_status, serving_plugin, wait_for};
use crate::XLRS;

/// The fault plugin of each language, and what its uncaught failure says.
const LANGUAGES: [(&str, &str); 4] = [
    ("fault-validator", "deliberate trap"),
    ("fault-js", "TypeError"),
    ("fault-python", "KeyError: 'noSuchProperty'"),
    ("fault-c", "fault-c: giving up on purpose"),
];

/// Serves `component` as plugin `name` with `mode`, posts a batch of three statements and
/// answers (status, body, the plugin's `/plugins` entry), then removes the plugin.
fn post_through(s: &Server, component: &str, mode: &str) -> (u16, Value, Value) {
    let name = format!("{component}-{mode}");
    let manifest = format!(
        "kind = \"validator\"\n[config]\nmode = \"{mode}\"\n[limits]\nmemory_mb = 256\ntimeout_ms = 5000\n"
    );
    install(s, &name, component, &manifest);
    let n = name.clone();
    wait_for(s, &name, move |st| serving_plugin(st, &n));
    let batch = json!([statement(), statement(), statement()]);
    let r = s.post(&batch);
    let code = r.status().as_u16();
    let body: Value = r.json().unwrap();
    let st = plugin_status(s, &name);
    assert_eq!(st["calls"], 1, "{name}: one call: {st}");
    std::fs::remove_dir_all(s.plugins_dir().join(&name)).unwrap();
    let n = name.clone();
    wait_for(s, "unload", move |st| {
        st["plugins"]
            .as_array()
            .is_some_and(|ps| ps.iter().all(|p| p["name"] != n.as_str()))
    });
    (code, body, st)
}

fn failures(st: &Value) -> u64 {
    st["failures"].as_u64().unwrap_or(u64::MAX)
}

#[test]
fn in_every_language_an_uncaught_exception_is_a_plugin_failure_the_operator_sees_explained() {
    let s = Server::start(XLRS);
    for (component, said) in LANGUAGES {
        let mode = if component == "fault-validator" {
            "trap"
        } else {
            "throw"
        };
        let (code, body, st) = post_through(&s, component, mode);
        assert_eq!(code, 500, "{component}: {body}");
        assert_eq!(body["error"], "plugin_failure", "{component}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains(component) && message.contains("trapped"),
            "{component}: {message}"
        );
        assert!(
            !message.contains(said),
            "{component}: what it said is not the client's: {message}"
        );
        let kept = st["last_failure"]["message"].as_str().unwrap_or_default();
        assert!(
            kept.contains("trapped") && kept.contains(said),
            "{component}: {st}"
        );
        assert_eq!(
            failures(&st),
            1,
            "{component}: counted as the plugin's failure"
        );
        assert_eq!(
            s.post(&statement()).status(),
            200,
            "still serving after {component}"
        );
    }
}

#[test]
fn in_every_language_every_error_of_a_rejection_reaches_the_client() {
    let s = Server::start(XLRS);
    for (component, _) in LANGUAGES {
        let (code, body, st) = post_through(&s, component, "reject");
        assert_eq!(code, 400, "{component}: {body}");
        assert_eq!(body["error"], "bad_request", "{component}");
        assert_eq!(body["statement_index"], 0, "{component}");
        let errors: Vec<(u64, String)> = body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{component}: no errors list: {body}"))
            .iter()
            .map(|e| {
                (
                    e["statement_index"].as_u64().unwrap(),
                    e["message"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let expected: Vec<(u64, String)> = (0..3)
            .map(|i| (i, format!("statement {i} rejected on purpose")))
            .collect();
        assert_eq!(errors, expected, "{component}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains("(and 2 more errors)"),
            "{component}: {message}"
        );
        assert_eq!(failures(&st), 0, "{component}: a verdict is not a failure");
        assert!(st["last_failure"].is_null(), "{component}");
    }
}

#[test]
fn a_rejection_without_an_error_or_naming_a_statement_not_in_the_batch_is_a_plugin_failure() {
    let s = Server::start(XLRS);
    for (mode, says) in [
        ("raw-throw", "refused the batch without saying why"),
        ("bad-index", "named statement 99 of a batch of 3"),
    ] {
        let (code, body, st) = post_through(&s, "fault-js", mode);
        assert_eq!(code, 500, "{mode}: {body}");
        assert_eq!(body["error"], "plugin_failure", "{mode}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(says), "{mode}: {message}");
        assert_eq!(failures(&st), 1, "{mode}");
        assert!(st["last_failure"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains(says));
    }
}
