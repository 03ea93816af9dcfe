//! Plugins loaded as real components (built from plugins/ by scripts/build-plugins.sh) into a
//! running server: validators, transformers, hot swap, and faults contained.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_tests::{plugin_component, statement, Server};

use crate::XLRS;

/// Installs `component` as plugin `name` with a manifest, the way an operator would.
pub(crate) fn install(s: &Server, name: &str, component: &str, manifest: &str) {
    xlrs_tests::install_plugin(&s.plugins_dir(), name, component, manifest);
}

fn status(s: &Server) -> Value {
    s.raw(Method::GET, "/plugins")
        .basic_auth("admin", Some(xlrs_tests::ADMIN_PASSWORD))
        .send()
        .unwrap()
        .json()
        .unwrap()
}

/// Waits until `check` holds for the `/plugins` status (bounded generously: the watcher
/// debounces ~200 ms, and a component bundling a JS or Python engine compiles for seconds).
pub(crate) fn wait_for(s: &Server, what: &str, check: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let st = status(s);
        if check(&st) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {st}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn plugin<'a>(st: &'a Value, name: &str) -> Option<&'a Value> {
    st["plugins"].as_array()?.iter().find(|p| p["name"] == name)
}

/// Plugin `name`'s entry in `/plugins` (`null` when it is not loaded).
pub(crate) fn plugin_status(s: &Server, name: &str) -> Value {
    plugin(&status(s), name).cloned().unwrap_or(Value::Null)
}

/// Whether plugin `name` serves, in a `/plugins` status.
pub(crate) fn serving_plugin(st: &Value, name: &str) -> bool {
    plugin(st, name).is_some_and(|p| p["serving"] == true)
}

pub(crate) fn serving(name: &'static str) -> impl Fn(&Value) -> bool {
    move |st| serving_plugin(st, name)
}

#[test]
fn a_validator_dropped_into_the_plugins_dir_rejects_with_400_naming_it() {
    let s = Server::start(XLRS);
    assert_eq!(s.post(&statement()).status(), 200);
    install(
        &s,
        "require-fields",
        "require-fields",
        "[config]\nfields = \"context.registration\"\n",
    );
    wait_for(&s, "require-fields", serving("require-fields"));
    let r = s.post(&json!([statement(), statement()]));
    assert_eq!(r.status(), 400);
    let body: Value = r.json().unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("require-fields"),
        "{body}"
    );
    assert_eq!(body["statement_index"], 0);
    let mut ok = statement();
    ok["context"] = json!({"registration": uuid::Uuid::new_v4().to_string()});
    assert_eq!(s.post(&ok).status(), 200);
}

/// anonymize's pseudonym of an identifier: the salted SHA-256 of its key, in hex.
fn pseudonym(salt: &str, key: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(
        Sha256::new()
            .chain_update(salt)
            .chain_update(key)
            .finalize(),
    )
}

/// anonymize (its README): each actor's identifier — and each Group member's — becomes an
/// account on the configured home page named by a salted SHA-256 of it; names go too.
#[test]
fn a_transformer_changes_what_is_stored() {
    let s = Server::start(XLRS);
    install(
        &s,
        "anonymize",
        "anonymize",
        "[config]\nsalt = \"pepper\"\nhome_page = \"https://pseudo.example.org\"\n",
    );
    wait_for(&s, "anonymize", serving("anonymize"));
    let account = |key: &str| json!({"homePage": "https://pseudo.example.org", "name": pseudonym("pepper", key)});

    let sent = statement();
    let ids: Vec<String> = s.post(&sent).json().unwrap();
    let got: Value = s.get_statement(&ids[0]).json().unwrap();
    let mbox = sent["actor"]["mbox"].as_str().unwrap();
    assert_eq!(
        got["actor"],
        json!({"objectType": "Agent", "account": account(&format!("mbox:{mbox}"))}),
        "the identifier and the name are gone"
    );

    // The same learner again (from the plugin's cache of patches) and another learner with
    // the same name: each keeps their own pseudonym.
    let mut again = statement();
    again["actor"] = sent["actor"].clone();
    let other = statement();
    let ids: Vec<String> = s.post(&json!([again, other.clone()])).json().unwrap();
    let actor =
        |id: &str| -> Value { s.get_statement(id).json::<Value>().unwrap()["actor"].clone() };
    assert_eq!(actor(&ids[0])["account"], account(&format!("mbox:{mbox}")));
    let mbox = other["actor"]["mbox"].as_str().unwrap();
    assert_eq!(actor(&ids[1])["account"], account(&format!("mbox:{mbox}")));

    let mut group = statement();
    group["actor"] = json!({"objectType": "Group", "name": "Team", "member": [
        {"mbox": "mailto:a@example.org", "name": "A"},
        {"objectType": "Agent", "account": {"homePage": "https://lms.example.org", "name": "b"}}
    ]});
    let ids: Vec<String> = s.post(&group).json().unwrap();
    let got: Value = s.get_statement(&ids[0]).json().unwrap();
    assert_eq!(
        got["actor"],
        json!({"objectType": "Group", "name": "Team", "member": [
            {"account": account("mbox:mailto:a@example.org")},
            {"objectType": "Agent", "account": account("account:https://lms.example.org|b")}
        ]}),
        "an anonymous Group keeps its name, its members do not"
    );
}

#[test]
fn deleting_a_plugin_unloads_it() {
    let s = Server::start(XLRS);
    install(
        &s,
        "require-fields",
        "require-fields",
        "[config]\nfields = \"context.registration\"\n",
    );
    wait_for(&s, "require-fields", serving("require-fields"));
    assert_eq!(s.post(&statement()).status(), 400);
    std::fs::remove_dir_all(s.plugins_dir().join("require-fields")).unwrap();
    wait_for(&s, "require-fields unloaded", |st| {
        plugin(st, "require-fields").is_none()
    });
    assert_eq!(s.post(&statement()).status(), 200);
}

#[test]
fn a_plugin_that_fails_to_load_leaves_the_previous_version_serving() {
    let s = Server::start(XLRS);
    install(
        &s,
        "require-fields",
        "require-fields",
        "[config]\nfields = \"context.registration\"\n",
    );
    wait_for(&s, "require-fields", serving("require-fields"));
    std::fs::write(
        s.plugins_dir().join("require-fields/require-fields.wasm"),
        b"not a component",
    )
    .unwrap();
    wait_for(&s, "the load error", |st| {
        plugin(st, "require-fields").is_some_and(|p| !p["last_error"].is_null())
    });
    let st = status(&s);
    assert_eq!(plugin(&st, "require-fields").unwrap()["serving"], true);
    assert_eq!(
        s.post(&statement()).status(),
        400,
        "the previous version still validates"
    );
}

#[test]
fn a_hot_swap_under_concurrent_posting_fails_no_request() {
    let s = Arc::new(Server::start(XLRS));
    let manifest = |salt: &str| {
        format!("[config]\nsalt = \"{salt}\"\nhome_page = \"https://pseudo.example.org\"\n")
    };
    install(&s, "anonymize", "anonymize", &manifest("v1"));
    wait_for(&s, "anonymize v1", serving("anonymize"));
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicU64::new(0));
    let posted = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let (s, stop, failures, posted) =
                (s.clone(), stop.clone(), failures.clone(), posted.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) && n < 2000 {
                    let batch: Vec<Value> = (0..10).map(|_| statement()).collect();
                    if s.post(&json!(batch)).status() != 200 {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                    posted.fetch_add(1, Ordering::Relaxed);
                    n += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let v1_loaded = {
        let st = status(&s);
        plugin(&st, "anonymize").unwrap()["loaded_at"].clone()
    };
    std::fs::write(
        s.plugins_dir().join("anonymize/plugin.toml"),
        manifest("v2"),
    )
    .unwrap();
    wait_for(&s, "anonymize v2", |st| {
        plugin(st, "anonymize").is_some_and(|p| p["loaded_at"] != v1_loaded)
    });
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    assert!(posted.load(Ordering::Relaxed) > 0);
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "no request failed during the swap"
    );
    let ids: Vec<String> = s.post(&statement()).json().unwrap();
    let got: Value = s.get_statement(&ids[0]).json().unwrap();
    assert_eq!(
        got["actor"]["account"]["homePage"],
        "https://pseudo.example.org"
    );
}

fn fault(s: &Server, component: &str, mode: &str) -> Value {
    let name = format!("fault-{mode}");
    let manifest =
        format!("[config]\nmode = \"{mode}\"\n[limits]\nmemory_mb = 32\ntimeout_ms = 300\n");
    install(s, &name, component, &manifest);
    let n = name.clone();
    wait_for(s, &name, move |st| {
        plugin(st, &n).is_some_and(|p| p["serving"] == true)
    });
    let r = s.post(&statement());
    let code = r.status().as_u16();
    let body: Value = r.json().unwrap();
    let st = status(s);
    let p = plugin(&st, &name).unwrap();
    assert_eq!(
        (p["calls"].as_u64(), p["failures"].as_u64()),
        (Some(1), Some(1)),
        "{name}: its failure counter rose: {p}"
    );
    std::fs::remove_dir_all(s.plugins_dir().join(&name)).unwrap();
    let n = name.clone();
    wait_for(s, "unload", move |st| plugin(st, &n).is_none());
    json!({"status": code, "body": body})
}

#[test]
fn faulty_plugins_fail_only_their_batch_and_the_server_keeps_serving() {
    let s = Server::start(XLRS);
    for (component, mode, reason) in [
        ("fault-validator", "trap", "trapped"),
        ("fault-validator", "loop", "300 ms limit"),
        ("fault-validator", "memory", "32 MiB memory limit"),
        ("fault-validator", "recursion", "trapped"),
        ("fault-transformer", "not-json", "not JSON"),
        (
            "fault-transformer",
            "wrong-count",
            "one statement out per statement in",
        ),
        (
            "fault-transformer",
            "invalid-statement",
            "not a valid xAPI statement",
        ),
        ("fault-transformer", "change-id", "changed the statement id"),
    ] {
        let outcome = fault(&s, component, mode);
        assert_eq!(outcome["status"], 500, "{mode}: {outcome}");
        assert_eq!(outcome["body"]["error"], "plugin_failure", "{mode}");
        let message = outcome["body"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("fault-{mode}")) && message.contains(reason),
            "{mode}: {message}"
        );
        assert_eq!(
            s.post(&statement()).status(),
            200,
            "the server still serves after {mode}"
        );
    }
}

#[test]
fn a_validator_verdict_is_a_400_and_counts_no_failure() {
    let s = Server::start(XLRS);
    install(
        &s,
        "fault-reject",
        "fault-validator",
        "[config]\nmode = \"reject\"\n",
    );
    wait_for(&s, "fault-reject", serving("fault-reject"));
    assert_eq!(s.post(&statement()).status(), 400);
    let st = status(&s);
    let p = plugin(&st, "fault-reject").unwrap();
    assert_eq!(p["calls"], 1);
    assert_eq!(p["failures"], 0);
}

fn check(plugin: &str) -> Value {
    let out = std::process::Command::new(XLRS)
        .args(["plugin", "check"])
        .arg(plugin_component(plugin))
        .output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn plugin_check_names_the_world_and_wit_version() {
    let v = check("fault-validator");
    assert_eq!(v["world"], "validator");
    assert_eq!(v["contract"], "0.1.0");
    assert_eq!(v["packages"], json!(["xlrs:plugin@0.1.0"]));
    // require-fields reads fields (v0.2); the SDK's log and config are v0.1's host functions.
    let v = check("require-fields");
    assert_eq!(v["world"], "validator");
    assert_eq!(v["contract"], "0.2.0");
    assert_eq!(
        v["packages"],
        json!(["xlrs:plugin@0.1.0", "xlrs:plugin@0.2.0"])
    );
}

#[test]
fn plugin_run_applies_a_transformer_offline_as_the_server_would() {
    use std::io::Write;
    let manifest =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/anonymize/plugin.toml");
    let mut child = std::process::Command::new(XLRS)
        .args(["plugin", "run"])
        .arg(plugin_component("anonymize"))
        .arg("--manifest")
        .arg(manifest)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let input = json!([statement(), statement()]).to_string();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let batch: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(batch.as_array().unwrap().len(), 2);
    for s in batch.as_array().unwrap() {
        assert_eq!(
            s["actor"]["account"]["homePage"],
            "https://anonymous.invalid"
        );
        assert!(s["actor"].get("mbox").is_none());
    }
}

#[test]
fn plugin_list_shows_the_plugins_dir_as_a_server_would_load_it() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(
        plugin_component("require-fields"),
        plugins.join("require-fields.wasm"),
    )
    .unwrap();
    std::fs::write(plugins.join("broken.wasm"), b"not wasm").unwrap();
    let out = xlrs_tests::run_cli(XLRS, dir.path(), &["plugin", "list"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let st: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = plugin(&st, "require-fields").unwrap();
    assert_eq!(found["kind"], "validator");
    assert_eq!(found["serving"], true);
    let broken = plugin(&st, "broken").unwrap();
    assert_eq!(broken["serving"], false);
    assert!(broken["last_error"].is_string());
}
