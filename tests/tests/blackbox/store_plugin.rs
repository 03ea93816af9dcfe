//! A backend plugin as the statement store (`XLRS_STORE=<plugin name>`): the `jsonl-store`
//! component, built from plugins/, passes the store contract and serves the xAPI over HTTP, in
//! the directory its manifest grants and nowhere else — in its v0.2 form (world `storage`: the
//! host applies the xAPI rules over its primitives, and can erase) and its v0.1 form (world
//! `backend`: it applies them itself).

use std::path::Path;

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_plugin_host::{PluginPaths, PluginRegistry};
use xlrs_store_plugin::PluginStore;
use xlrs_tests::{check_store_contract, enc, install_plugin, statement, voiding, Server};

use crate::XLRS;

const MANIFEST: &str =
    "kind = \"backend\"\n[capabilities]\ndir = \"jsonl\"\n[limits]\nmemory_mb = 128\n";

/// Puts the jsonl-store component (v0.2) into `<data>/plugins/jsonl-store/` with `manifest`.
fn install_jsonl_store(data: &Path, manifest: &str) {
    install_plugin(
        &data.join("plugins"),
        "jsonl-store",
        "jsonl-store",
        manifest,
    );
}

/// Puts jsonl-store's v0.1 form there instead.
fn install_jsonl_store_v0_1(data: &Path, manifest: &str) {
    install_plugin(
        &data.join("plugins"),
        "jsonl-store",
        "jsonl-store-v0_1",
        manifest,
    );
}

fn registry(dir: &Path) -> std::sync::Arc<PluginRegistry> {
    PluginRegistry::open(
        PluginPaths {
            dir: dir.join("plugins"),
            cache: dir.join("plugin-cache"),
            cache_key: dir.join("plugin-cache.key"),
            data: dir.join("plugin-data"),
        },
        false,
    )
    .unwrap()
}

/// The status of `GET /statements?voidedStatementId=id`.
fn voided_status(s: &Server, id: &str) -> reqwest::StatusCode {
    s.xapi(Method::GET, &format!("/statements?voidedStatementId={id}"))
        .send()
        .unwrap()
        .status()
}

/// A real erasure of `agent` through the admin API.
fn erase(s: &Server, agent: &Value) -> xlrs_tests::Response {
    s.raw(Method::POST, "/admin/erasure")
        .basic_auth("admin", Some(xlrs_tests::ADMIN_PASSWORD))
        .json(&json!({"agent": agent, "dry_run": false}))
        .send()
        .unwrap()
}

fn start_on_jsonl_store(manifest: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    install_jsonl_store(dir.path(), manifest);
    Server::start_in(XLRS, dir, &[("XLRS_STORE", "jsonl-store")])
}

/// Runs the store contract on jsonl-store's `component` (its v0.2 or v0.1 form), the lifecycle
/// part too when the store can remove; whether it could.
fn contract_on(dir: &Path, component: &str) -> bool {
    install_plugin(&dir.join("plugins"), "jsonl-store", component, MANIFEST);
    let registry = registry(dir);
    let mut removal = false;
    check_store_contract(async |embedded| {
        let stores = PluginStore::open("jsonl-store", registry, embedded);
        removal = stores.as_ref().is_ok_and(|s| s.lifecycle.is_some());
        stores
    });
    removal
}

#[test]
fn a_storage_backend_under_the_hosts_rules_passes_the_statement_store_contract_with_removal() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        contract_on(dir.path(), "jsonl-store"),
        "a v0.2 storage backend can remove statements"
    );
    assert!(
        dir.path()
            .join("plugin-data/jsonl/statements.jsonl")
            .is_file(),
        "the plugin wrote into its granted directory"
    );
}

#[test]
fn a_v0_1_backend_applying_the_rules_itself_passes_the_statement_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        !contract_on(dir.path(), "jsonl-store-v0_1"),
        "contract v0.1 has no removal"
    );
}

#[test]
fn the_xapi_is_served_on_a_backend_plugin_and_survives_a_restart() {
    let s = start_on_jsonl_store(MANIFEST);
    let first = statement();
    let ids: Vec<String> = s.post(&json!([first, statement()])).json().unwrap();
    assert_eq!(ids.len(), 2);
    let got: Value = s.get_statement(&ids[0]).json().unwrap();
    assert_eq!(got["actor"], first["actor"]);
    assert!(got["stored"].is_string());

    // Voiding goes through the plugin's rules too.
    assert_eq!(s.post(&voiding(&ids[1])).status(), 200);
    assert_eq!(voided_status(&s, &ids[1]), 200);

    let data = s.stop();
    let s = Server::start_in(XLRS, data, &[("XLRS_STORE", "jsonl-store")]);
    let agent = enc(&first["actor"].to_string());
    let page = s.query(&format!("agent={agent}"));
    let found: Vec<&str> = page["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| st["id"].as_str().unwrap())
        .collect();
    assert_eq!(found, vec![ids[0].as_str()], "{page}");
    // The activity's canonical definition and documents live in the embedded store beside it.
    let activity = enc(first["object"]["id"].as_str().unwrap());
    let a: Value = s
        .xapi(Method::GET, &format!("/activities?activityId={activity}"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(a["definition"]["name"]["en-US"], "Algebra");
    // A v0.2 storage backend removes what an erasure names, and nothing else.
    let r = erase(&s, &first["actor"]);
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    assert_eq!(s.get_statement(&ids[0]).status(), 404);
    let page = s.query(&format!("agent={agent}"));
    assert_eq!(page["statements"], json!([]), "{page}");
    assert_eq!(
        voided_status(&s, &ids[1]),
        200,
        "another person's statement stays"
    );
}

#[test]
fn a_v0_1_backend_keeps_serving_refuses_erasure_whole_and_its_file_is_read_by_the_v0_2_form() {
    let dir = tempfile::tempdir().unwrap();
    install_jsonl_store_v0_1(dir.path(), MANIFEST);
    let s = Server::start_in(XLRS, dir, &[("XLRS_STORE", "jsonl-store")]);
    let first = statement();
    let ids: Vec<String> = s.post(&json!([first, statement()])).json().unwrap();
    assert_eq!(s.post(&voiding(&ids[1])).status(), 200);
    // The v0.1 contract has no removal: an erasure is refused whole, not half done.
    let r = erase(&s, &first["actor"]);
    assert_eq!(r.status(), 501);
    assert_eq!(s.get_statement(&ids[0]).status(), 200);

    // Upgraded to the v0.2 form, the same file serves: the voided statement stays voided.
    let data = s.stop();
    install_jsonl_store(data.path(), MANIFEST);
    let s = Server::start_in(XLRS, data, &[("XLRS_STORE", "jsonl-store")]);
    assert_eq!(s.get_statement(&ids[0]).status(), 200);
    assert_eq!(s.get_statement(&ids[1]).status(), 404, "voided");
    assert_eq!(voided_status(&s, &ids[1]), 200);
    let mut again = statement();
    again["id"] = json!(ids[0]);
    assert_eq!(s.post(&again).status(), 409, "a conflict with a v0.1 line");
}

#[test]
fn a_conflicting_id_is_a_409_from_the_plugin_store() {
    let s = start_on_jsonl_store(MANIFEST);
    let id = uuid::Uuid::new_v4().to_string();
    let mut a = statement();
    a["id"] = json!(id);
    assert_eq!(s.post(&a).status(), 200);
    assert_eq!(s.post(&a).status(), 200, "an identical re-send is accepted");
    let mut b = statement();
    b["id"] = json!(id);
    assert_eq!(s.post(&b).status(), 409);
}

#[test]
fn a_backend_plugin_without_a_granted_directory_can_open_no_file() {
    let s = start_on_jsonl_store("kind = \"backend\"\n");
    let r = s.post(&statement());
    assert_eq!(r.status(), 500);
    let body: Value = r.json().unwrap();
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("jsonl-store") && message.contains("no directory granted"),
        "{body}"
    );
    let metrics = s
        .raw(Method::GET, "/metrics")
        .basic_auth("admin", Some(xlrs_tests::ADMIN_PASSWORD))
        .send()
        .unwrap()
        .text()
        .unwrap();
    for line in [
        "xlrs_store_errors_total{kind=\"unavailable\"} 1",
        "xlrs_plugin_calls_total{plugin=\"jsonl-store\",kind=\"backend\"} 1",
        "xlrs_plugin_failures_total{plugin=\"jsonl-store\",kind=\"backend\"} 0",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in:\n{metrics}");
    }
}

#[test]
fn a_store_naming_no_loadable_backend_plugin_stops_start_up_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(XLRS)
        .arg("serve")
        .env("XLRS_LISTEN", "127.0.0.1:0")
        .env("XLRS_DATA_DIR", dir.path())
        .env("XLRS_STORE", "jsonl-store")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no plugin `jsonl-store`"), "{stderr}");
}

#[test]
fn a_backend_plugin_cannot_reach_files_outside_its_granted_directory() {
    let manifest = format!("{MANIFEST}[config]\nfile = \"../../credentials.json\"\n");
    let s = start_on_jsonl_store(&manifest);
    let credentials = s.data_dir().join("credentials.json");
    let before = std::fs::read(&credentials).unwrap();
    let r = s.post(&statement());
    assert_eq!(r.status(), 500);
    let body: Value = r.json().unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("cannot open"),
        "{body}"
    );
    assert_eq!(std::fs::read(&credentials).unwrap(), before);
}

#[test]
fn jsonl_store_keeps_what_it_read_between_calls_and_reads_again_when_the_file_changed_under_it() {
    let s = start_on_jsonl_store(MANIFEST);
    let ids: Vec<String> = s.post(&statement()).json().unwrap();
    assert_eq!(s.get_statement(&ids[0]).status(), 200);
    let file = s.data_dir().join("plugin-data/jsonl/statements.jsonl");
    let kept = std::fs::read(&file).unwrap();
    // Another writer empties the file: the instance's copy no longer stands for it.
    std::fs::write(&file, b"").unwrap();
    assert_eq!(s.get_statement(&ids[0]).status(), 404);
    std::fs::write(&file, &kept).unwrap();
    assert_eq!(s.get_statement(&ids[0]).status(), 200);
    let more: Vec<String> = s.post(&json!([statement(), statement()])).json().unwrap();
    for id in ids.iter().chain(&more) {
        assert_eq!(s.get_statement(id).status(), 200, "{id}");
    }
    let lines = std::fs::read_to_string(&file).unwrap().lines().count();
    assert_eq!(lines, 3, "each statement written once");
}
