//! The example plugins in JavaScript, Python and C, and what `xlrs plugin new` makes in every
//! language, loaded as real components (built from source by scripts/build-plugins.sh) into a
//! running server and doing their job over HTTP.

use std::path::Path;

use serde_json::{json, Value};
use xlrs_tests::{id_of, install_plugin, statement, Server};

use crate::plugins::{install, serving, wait_for};
use crate::XLRS;

/// The manifest at `path` (relative to the repository), with its `[config]` lines replaced.
fn manifest_with_config(path: &str, config: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    let text = std::fs::read_to_string(&path).expect("the plugin.toml");
    let head = text.split("[config]").next().unwrap_or_default();
    format!("{head}[config]\n{config}")
}

/// The manifest an example plugin ships with, with `[config]` lines replaced.
pub(crate) fn shipped_manifest(plugin: &str, config: &str) -> String {
    manifest_with_config(&format!("plugins/{plugin}/plugin.toml"), config)
}

/// A server on the embedded store (these plugins do not depend on the store).
pub(crate) fn server() -> Server {
    Server::start_in(
        XLRS,
        tempfile::tempdir().unwrap(),
        &[("XLRS_STORE", "sqlite")],
    )
}

pub(crate) fn stored(s: &Server, body: &Value) -> Value {
    let id = id_of(s.post(body));
    s.get_statement(&id).json().expect("the stored statement")
}

fn rejection(s: &Server, body: &Value) -> String {
    let r = s.post(body);
    assert_eq!(r.status(), 400, "the statement is rejected");
    let body: Value = r.json().expect("a JSON error");
    body["message"].as_str().unwrap_or_default().to_string()
}

#[test]
fn add_platform_in_javascript_sets_the_platform_of_statements_about_activities() {
    let s = server();
    let manifest = shipped_manifest("add-platform", "platform = \"Open edX\"\n");
    install(&s, "add-platform", "add-platform", &manifest);
    wait_for(&s, "add-platform", serving("add-platform"));

    let got = stored(&s, &statement());
    assert_eq!(got["context"]["platform"], "Open edX");

    let mut set = statement();
    set["context"] = json!({"platform": "Moodle"});
    assert_eq!(
        stored(&s, &set)["context"]["platform"],
        "Moodle",
        "a platform already set is kept unless overwrite = \"true\""
    );

    let mut about_an_agent = statement();
    about_an_agent["object"] = json!({"objectType": "Agent", "mbox": "mailto:peer@example.org"});
    assert!(
        stored(&s, &about_an_agent)["context"]
            .get("platform")
            .is_none(),
        "xAPI: platform only when the object is an Activity"
    );
}

#[test]
fn verb_allowlist_in_python_accepts_listed_verbs_and_rejects_the_others() {
    verb_allowlist_accepts_listed_verbs_and_rejects_the_others("verb-allowlist");
}

#[test]
fn verb_allowlist_in_rust_accepts_listed_verbs_and_rejects_the_others() {
    verb_allowlist_accepts_listed_verbs_and_rejects_the_others("verb-allowlist-rust");
}

/// The verb allow-list `plugin` (the Python or the Rust one: same config, same answers).
fn verb_allowlist_accepts_listed_verbs_and_rejects_the_others(plugin: &'static str) {
    let s = server();
    let manifest = shipped_manifest(
        plugin,
        "verbs = \"http://adlnet.gov/expapi/verbs/completed, http://adlnet.gov/expapi/verbs/passed\"\n",
    );
    install(&s, plugin, plugin, &manifest);
    wait_for(&s, plugin, serving(plugin));

    let completed = stored(&s, &statement());
    assert_eq!(
        completed["verb"]["id"],
        "http://adlnet.gov/expapi/verbs/completed"
    );

    let mut attempted = statement();
    attempted["verb"] = json!({"id": "http://adlnet.gov/expapi/verbs/attempted"});
    let message = rejection(&s, &attempted);
    assert!(message.contains(plugin), "{message}");
    assert!(
        message.contains("http://adlnet.gov/expapi/verbs/attempted"),
        "{message}"
    );

    let target = id_of(s.post(&statement()));
    let mut voiding = statement();
    voiding["verb"] = json!({"id": "http://adlnet.gov/expapi/verbs/voided"});
    voiding["object"] = json!({"objectType": "StatementRef", "id": target});
    assert_eq!(s.post(&voiding).status(), 200, "voiding is always allowed");
}

#[test]
fn max_size_in_c_rejects_statements_larger_than_max_bytes() {
    let s = server();
    install(
        &s,
        "max-size",
        "max-size",
        &shipped_manifest("max-size", "max_bytes = 2000\n"),
    );
    wait_for(&s, "max-size", serving("max-size"));

    assert_eq!(s.post(&statement()).status(), 200);
    let mut large = statement();
    large["result"] = json!({"extensions": {"http://example.org/notes": "x".repeat(3000)}});
    let message = rejection(&s, &json!([statement(), large]));
    assert!(message.contains("max-size"), "{message}");
    assert!(message.contains("at most 2000"), "{message}");
}

/// The validators and transformers `xlrs plugin new` makes, one per language and kind.
const TEMPLATES: [(&str, &str); 8] = [
    ("rust", "validator"),
    ("rust", "transformer"),
    ("js", "validator"),
    ("js", "transformer"),
    ("python", "validator"),
    ("python", "transformer"),
    ("c", "validator"),
    ("c", "transformer"),
];

#[test]
fn plugin_new_makes_validators_and_transformers_that_load_and_work_in_every_language() {
    let s = server();
    for (lang, kind) in TEMPLATES {
        let name = format!("new-{lang}-{kind}");
        // Each gets its own verb to deny or extension to set, so each one's work is seen.
        let config = match kind {
            "validator" => format!("deny_verb = \"http://example.org/verbs/deny-{name}\"\n"),
            _ => format!("extension = \"http://example.org/extensions/{name}\"\n"),
        };
        let manifest =
            manifest_with_config(&format!("target/scaffolds/{name}/plugin.toml"), &config);
        install(&s, &name, &name, &manifest);
    }
    for (lang, kind) in TEMPLATES {
        let name: &'static str = format!("new-{lang}-{kind}").leak();
        wait_for(&s, name, serving(name));
    }

    let got = stored(&s, &statement());
    // The C transformer template passes statements through (C has no JSON library to edit
    // them with); the others set their extension.
    for (lang, _) in TEMPLATES
        .iter()
        .filter(|(lang, k)| *k == "transformer" && *lang != "c")
    {
        let name = format!("new-{lang}-transformer");
        assert_eq!(
            got["context"]["extensions"][format!("http://example.org/extensions/{name}")],
            name.as_str(),
            "{name} set its extension: {got}"
        );
    }
    for (lang, _) in TEMPLATES.iter().filter(|(_, k)| *k == "validator") {
        let name = format!("new-{lang}-validator");
        let mut denied = statement();
        denied["verb"] = json!({"id": format!("http://example.org/verbs/deny-{name}")});
        let message = rejection(&s, &denied);
        assert!(message.contains(&name), "{name} rejected it: {message}");
    }
}

/// Serves on the backend `xlrs plugin new` made in `lang`, stores and finds statements by the
/// host's rules, and keeps them through a restart.
fn a_new_backend_serves_as_the_statement_store(lang: &str) {
    let name = format!("new-{lang}-backend");
    let dir = tempfile::tempdir().unwrap();
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../target/scaffolds/{name}/plugin.toml")),
    )
    .expect("the template's plugin.toml");
    install_plugin(&dir.path().join("plugins"), &name, &name, &manifest);
    let s = Server::start_in(XLRS, dir, &[("XLRS_STORE", &name)]);

    let first = statement();
    let id = id_of(s.post(&first));
    let got: Value = s.get_statement(&id).json().unwrap();
    assert_eq!(got["actor"], first["actor"]);
    let mut conflicting = statement();
    conflicting["id"] = json!(id);
    assert_eq!(s.post(&conflicting).status(), 409);
    assert_eq!(s.post(&xlrs_tests::voiding(&id)).status(), 200);
    let second = statement();
    let kept = id_of(s.post(&second));

    let data = s.stop();
    let s = Server::start_in(XLRS, data, &[("XLRS_STORE", &name)]);
    assert_eq!(s.get_statement(&id).status(), 404, "voided");
    let page = s.query(&format!(
        "agent={}",
        xlrs_tests::enc(&second["actor"].to_string())
    ));
    assert_eq!(xlrs_tests::ids_of(&page), vec![kept.as_str()]);
}

#[test]
fn plugin_new_makes_a_rust_backend_that_serves_as_the_statement_store() {
    a_new_backend_serves_as_the_statement_store("rust");
}

#[test]
fn plugin_new_makes_a_javascript_backend_that_serves_as_the_statement_store() {
    a_new_backend_serves_as_the_statement_store("js");
}

#[test]
fn plugin_new_makes_a_python_backend_that_serves_as_the_statement_store() {
    a_new_backend_serves_as_the_statement_store("python");
}

#[test]
fn xlrs_validate_reports_each_invalid_line_and_applies_the_plugins_when_asked() {
    let data = tempfile::tempdir().unwrap();
    install_plugin(
        &data.path().join("plugins"),
        "max-size",
        "max-size",
        &shipped_manifest("max-size", "max_bytes = 1000\n"),
    );
    let mut large = statement();
    large["result"] = json!({"response": "x".repeat(2000)});
    let mut no_actor = statement();
    no_actor.as_object_mut().unwrap().remove("actor");
    let lines = [statement(), no_actor, large]
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    let file = data.path().join("batch.jsonl");
    std::fs::write(&file, lines).unwrap();
    let file = file.to_str().unwrap();

    let rules_only = xlrs_tests::run_cli(XLRS, data.path(), &["validate", file]);
    assert_eq!(
        rules_only.status.code(),
        Some(1),
        "an invalid statement exits 1"
    );
    let reports: Vec<Value> = String::from_utf8_lossy(&rules_only.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0]["line"], 2);
    assert!(reports[0]["errors"][0].as_str().unwrap().contains("actor"));

    let with_plugins = xlrs_tests::run_cli(XLRS, data.path(), &["validate", "--plugins", file]);
    let reports: Vec<Value> = String::from_utf8_lossy(&with_plugins.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert_eq!(reports[1]["line"], 3);
    assert!(reports[1]["errors"][0]
        .as_str()
        .unwrap()
        .contains("max-size"));
}

#[test]
fn xlrs_convert_turns_open_edx_tracking_logs_into_statements_an_lrs_stores() {
    let data = tempfile::tempdir().unwrap();
    install_plugin(
        &data.path().join("plugins"),
        "edx-to-xapi",
        "edx-to-xapi",
        &shipped_manifest(
            "edx-to-xapi",
            "platform_url = \"https://courses.example.org\"\nuuid_namespace = \"6ba7b811-9dad-11d1-80b4-00c04fd430c8\"\n",
        ),
    );
    // Events written from the Open edX tracking-log documentation, one per line.
    let events = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/edx-to-xapi/tests/events");
    let mut names: Vec<_> = std::fs::read_dir(&events)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    names.sort();
    let log: String = names
        .iter()
        .map(|p| {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
            format!("{v}\n")
        })
        .collect();
    let file = data.path().join("tracking.log");
    std::fs::write(&file, &log).unwrap();

    let out = xlrs_tests::run_cli(
        XLRS,
        data.path(),
        &["convert", "--from", "edx", file.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let statements: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let played = statements
        .iter()
        .find(|s| s["verb"]["id"] == "https://w3id.org/xapi/video/verbs/played")
        .expect("play_video becomes a played statement");
    assert_eq!(
        played["actor"]["account"]["homePage"],
        "https://courses.example.org"
    );
    assert!(statements
        .iter()
        .any(|s| s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/registered"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("skipped"), "{stderr}");

    let s = server();
    let batch = Value::Array(statements.clone());
    let r = s.post(&batch);
    assert_eq!(
        r.status(),
        200,
        "the converted statements are valid xAPI: {:?}",
        r.text()
    );
    assert_eq!(
        xlrs_tests::ids_of(&s.query("limit=100")).len(),
        statements.len()
    );
}
