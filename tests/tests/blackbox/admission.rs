//! The admission stage (wit/v0.2, world `admission`): asked only about statements the host's
//! validation refused; a plugin's verdict is checked by the host (a waiver names every rule
//! broken and only rules the LRS can look past; a repair is validated again); plugins run in
//! their order and the first that does not reject decides; a plugin that fails fails the
//! batch and admits nothing. Driven by plugins/fault-admission.

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_tests::{install_plugin, statement, Server, ADMIN_PASSWORD};

use crate::XLRS;

/// Installs fault-admission as admission plugin `name` of data dir `dir`, in `mode`, at `order`.
pub(crate) fn install_admission(dir: &std::path::Path, name: &str, mode: &str, order: i64) {
    let manifest = format!(
        "kind = \"admission\"\norder = {order}\n[limits]\nmemory_mb = 32\ntimeout_ms = 300\n[config]\nmode = \"{mode}\"\n"
    );
    install_plugin(&dir.join("plugins"), name, "fault-admission", &manifest);
}

/// A server in this process with fault-admission installed once per `(name, mode, order)`.
fn server(plugins: &[(&str, &str, i64)]) -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, mode, order) in plugins {
        install_admission(dir.path(), name, mode, *order);
    }
    Server::in_process_in(XLRS, dir, &[])
}

/// A statement breaking one rule the LRS can look past: its activity says it is a
/// `GroupActivity`.
pub(crate) fn group_activity() -> Value {
    let mut s = statement();
    s["id"] = json!(uuid::Uuid::new_v4().to_string());
    s["object"]["objectType"] = json!("GroupActivity");
    s
}

fn get(s: &Server, id: &str) -> xlrs_tests::Response {
    s.xapi(Method::GET, &format!("/statements?statementId={id}"))
        .send()
        .expect("GET")
}

fn admissions(s: &Server) -> Vec<Value> {
    let listed: Value = s
        .raw(Method::GET, "/admissions")
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .expect("GET /admissions")
        .json()
        .expect("JSON");
    listed["admissions"].as_array().expect("a list").clone()
}

fn message(r: xlrs_tests::Response) -> String {
    let body: Value = r.json().expect("a JSON error");
    body["message"].as_str().expect("a message").to_string()
}

#[test]
fn a_valid_statement_never_reaches_admission() {
    let s = server(&[("fault-trap", "trap", 1)]);
    assert_eq!(s.post(&statement()).status(), 200);
    assert_eq!(s.post(&json!([statement(), statement()])).status(), 200);
}

#[test]
fn an_admission_plugin_that_traps_loops_or_miscounts_fails_the_batch_naming_it_and_admits_nothing()
{
    for (mode, reason) in [
        ("trap", "trapped"),
        ("loop", "300 ms limit"),
        ("wrong-count", "answered 0 verdicts for 1 statements"),
    ] {
        let name = format!("fault-{mode}");
        let s = server(&[(&name, mode, 1)]);
        let mut valid = statement();
        valid["id"] = json!(uuid::Uuid::new_v4().to_string());
        let r = s.post(&json!([valid, group_activity()]));
        assert_eq!(r.status(), 500, "{mode}");
        let body: Value = r.json().expect("JSON");
        assert_eq!(body["error"], "plugin_failure", "{mode}: {body}");
        let text = body["message"].as_str().expect("a message");
        assert!(
            text.contains(&name) && text.contains(reason),
            "{mode}: {text}"
        );
        assert_eq!(
            get(&s, valid["id"].as_str().expect("id")).status(),
            404,
            "{mode}: nothing of the failed batch is stored"
        );
        assert!(admissions(&s).is_empty(), "{mode}: nothing admitted");
        assert_eq!(
            s.post(&statement()).status(),
            200,
            "{mode}: the server still serves"
        );
    }
}

#[test]
fn a_statement_accepted_as_sent_is_stored_as_the_producer_wrote_it_and_listed() {
    let s = server(&[("waiver", "waive-all", 1)]);
    let sent = group_activity();
    let id = sent["id"].as_str().expect("id");
    assert_eq!(s.post(&sent).status(), 200);
    let stored: Value = get(&s, id).json().expect("JSON");
    assert_eq!(stored["object"]["objectType"], "GroupActivity");
    let listed = admissions(&s);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["statement"], id);
    assert_eq!(listed[0]["plugin"], "waiver");
    assert_eq!(listed[0]["rules"], json!(["object-type"]));
    assert_eq!(listed[0]["repaired"], false);
    assert_eq!(listed[0]["credential"], "admin");
}

#[test]
fn a_waiver_must_name_every_rule_the_statement_breaks() {
    let s = server(&[("no-rules", "waive-none", 1)]);
    let r = s.post(&group_activity());
    assert_eq!(r.status(), 400);
    let text = message(r);
    assert!(
        text.contains("no-rules") && text.contains("without waiving rule `object-type`"),
        "{text}"
    );
    assert!(admissions(&s).is_empty());
}

#[test]
fn a_rule_the_lrs_cannot_look_past_is_never_waived() {
    let s = server(&[("waiver", "waive-all", 1)]);
    let mut no_actor = group_activity();
    no_actor.as_object_mut().expect("object").remove("actor");
    let id = no_actor["id"].as_str().expect("id").to_string();
    let r = s.post(&no_actor);
    assert_eq!(r.status(), 400);
    let text = message(r);
    assert!(text.contains("which the LRS cannot look past"), "{text}");
    assert_eq!(get(&s, &id).status(), 404);
}

#[test]
fn a_repair_is_validated_again_and_stored_instead_of_the_statement_as_sent() {
    let s = server(&[("repairer", "repair", 1)]);
    let sent = group_activity();
    let id = sent["id"].as_str().expect("id");
    assert_eq!(s.post(&sent).status(), 200);
    let stored: Value = get(&s, id).json().expect("JSON");
    assert_eq!(stored["object"]["objectType"], "Activity");
    let listed = admissions(&s);
    assert_eq!(listed[0]["repaired"], true);
    let metrics = s
        .raw(Method::GET, "/metrics")
        .send()
        .expect("GET /metrics")
        .text()
        .expect("text");
    assert!(
        metrics.contains(
            "xlrs_admissions_total{plugin=\"repairer\",rule=\"object-type\",how=\"repaired\"} 1"
        ),
        "{metrics}"
    );
}

#[test]
fn a_repair_that_is_still_invalid_is_refused() {
    let s = server(&[("unrepaired", "repair-invalid", 1)]);
    let sent = group_activity();
    let r = s.post(&sent);
    assert_eq!(r.status(), 400);
    let text = message(r);
    assert!(
        text.contains("unrepaired") && text.contains("the repair is invalid"),
        "{text}"
    );
    assert_eq!(get(&s, sent["id"].as_str().expect("id")).status(), 404);
}

#[test]
fn admission_plugins_run_in_order_and_the_first_that_does_not_reject_decides() {
    let s = server(&[
        ("first-rejects", "reject", 1),
        ("then-waives", "waive-all", 2),
        ("last-repairs", "repair", 3),
    ]);
    let sent = group_activity();
    assert_eq!(s.post(&sent).status(), 200);
    let listed = admissions(&s);
    assert_eq!(listed[0]["plugin"], "then-waives");
    let stored: Value = get(&s, sent["id"].as_str().expect("id"))
        .json()
        .expect("JSON");
    assert_eq!(stored["object"]["objectType"], "GroupActivity");

    let s = server(&[
        ("repairs-first", "repair", 1),
        ("waives-next", "waive-all", 2),
    ]);
    let sent = group_activity();
    assert_eq!(s.post(&sent).status(), 200);
    assert_eq!(admissions(&s)[0]["plugin"], "repairs-first");
}

#[test]
fn when_every_admission_plugin_rejects_the_statement_is_refused_as_without_plugins() {
    let s = server(&[("no", "reject", 1), ("nor", "reject", 2)]);
    let r = s.post(&json!([statement(), group_activity()]));
    assert_eq!(r.status(), 400);
    let body: Value = r.json().expect("JSON");
    assert_eq!(body["field"], "object.objectType", "{body}");
}

#[test]
fn an_admission_plugin_is_listed_with_its_contract_beside_the_contracts_the_host_loads() {
    let s = server(&[("waiver", "waive-all", 1)]);
    let listed: Value = s
        .raw(Method::GET, "/plugins")
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .expect("GET /plugins")
        .json()
        .expect("JSON");
    assert_eq!(
        listed["wit"],
        json!(["xlrs:plugin@0.1.0", "xlrs:plugin@0.2.0"])
    );
    let plugin = listed["plugins"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["name"] == "waiver"))
        .expect("waiver is listed");
    assert_eq!(plugin["kind"], "admission");
    assert_eq!(plugin["wit"], "xlrs:plugin@0.2.0");
}
