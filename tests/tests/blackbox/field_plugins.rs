//! Contract v0.2's field validators and transformers: the host keeps the statements parsed,
//! the plugin reads fields by JSON Pointer and a transformer answers per statement
//! `unchanged`, a merge patch or a replacement. What a change makes is validated again and may
//! not change the id; a plugin's rejections are the client's 400, anything else it answers
//! wrongly is its failure (500) and stores nothing; v0.1 and v0.2 plugins chain, each seeing
//! what the one before it made.

use serde_json::{json, Value};
use xlrs_tests::{statement, Server};

use crate::plugins::{install, plugin_status, serving, serving_plugin, wait_for};
use crate::XLRS;

/// Serves fault-fields as plugin `fault-<mode>` answering `mode`.
fn fault(s: &Server, mode: &str) -> String {
    let name = format!("fault-{mode}");
    install(
        s,
        &name,
        "fault-fields",
        &format!("kind = \"transformer\"\n[config]\nmode = \"{mode}\"\n"),
    );
    let n = name.clone();
    wait_for(s, &name, move |st| serving_plugin(st, &n));
    name
}

/// Stops serving plugin `name`.
fn remove(s: &Server, name: &str) {
    std::fs::remove_dir_all(s.plugins_dir().join(name)).unwrap();
    let n = name.to_string();
    wait_for(s, "unload", move |st| {
        st["plugins"]
            .as_array()
            .is_some_and(|ps| ps.iter().all(|p| p["name"] != n.as_str()))
    });
}

fn stored(s: &Server, id: &str) -> Value {
    s.get_statement(id).json().unwrap()
}

#[test]
fn a_patch_is_merged_into_the_statement_and_a_replacement_stands_for_it() {
    let s = Server::start(XLRS);
    let name = fault(&s, "patch");
    let sent = statement();
    let ids: Vec<String> = s.post(&sent).json().unwrap();
    let got = stored(&s, &ids[0]);
    assert_eq!(got["result"]["response"], sent["verb"]["id"], "{got}");
    assert_eq!(
        got["actor"], sent["actor"],
        "what the patch does not name stays"
    );
    remove(&s, &name);

    let name = fault(&s, "replace");
    let ids: Vec<String> = s.post(&statement()).json().unwrap();
    assert_eq!(stored(&s, &ids[0])["result"]["response"], "replaced");
    remove(&s, &name);

    let name = fault(&s, "unchanged");
    let sent = statement();
    let ids: Vec<String> = s.post(&sent).json().unwrap();
    let got = stored(&s, &ids[0]);
    assert_eq!(got["actor"], sent["actor"]);
    assert!(got.get("result").is_none(), "{got}");
    assert_eq!(plugin_status(&s, &name)["failures"], 0);
}

#[test]
fn a_change_that_breaks_the_statement_or_the_answer_is_the_plugins_failure_and_stores_nothing() {
    let s = Server::start(XLRS);
    for (mode, found) in [
        ("break", "actor: is required"),
        ("change-id", "changed the statement id"),
        ("not-object", "must be a JSON object"),
        ("wrong-count", "answered 0 changes for 2 statements"),
        ("trap", "deliberate trap"),
        ("reject-none", "without saying why"),
    ] {
        let name = fault(&s, mode);
        let id = uuid::Uuid::new_v4().to_string();
        let batch = json!([xlrs_tests::statement_with_id(&id), statement()]);
        let r = s.post(&batch);
        assert_eq!(r.status(), 500, "{mode}");
        let body: Value = r.json().unwrap();
        assert_eq!(body["error"], "plugin_failure", "{mode}: {body}");
        assert!(body["message"].as_str().unwrap().contains(&name), "{body}");
        let st = plugin_status(&s, &name);
        assert_eq!(st["failures"], 1, "{mode}: {st}");
        assert!(
            st["last_failure"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(found)),
            "{mode}: {st}"
        );
        assert_eq!(
            s.get_statement(&id).status(),
            404,
            "{mode}: nothing of the batch is stored"
        );
        remove(&s, &name);
    }
}

#[test]
fn every_rejection_of_a_field_plugin_reaches_the_clients_400() {
    let s = Server::start(XLRS);
    let name = fault(&s, "reject");
    let r = s.post(&json!([statement(), statement(), statement()]));
    assert_eq!(r.status(), 400);
    let body: Value = r.json().unwrap();
    let indexes: Vec<u64> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["statement_index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, [0, 1, 2], "{body}");
    assert_eq!(
        plugin_status(&s, &name)["failures"],
        0,
        "a verdict, not a failure"
    );
    remove(&s, &name);

    install(
        &s,
        "require-fields",
        "require-fields",
        "[config]\nfields = \"context.registration,result.score.scaled\"\n",
    );
    wait_for(&s, "require-fields", serving("require-fields"));
    let r = s.post(&json!([statement(), statement()]));
    assert_eq!(r.status(), 400);
    let body: Value = r.json().unwrap();
    assert_eq!(body["errors"].as_array().unwrap().len(), 4, "{body}");
    assert!(body["errors"][1]["message"]
        .as_str()
        .unwrap()
        .contains("result.score.scaled"));
    let mut ok = statement();
    ok["context"] = json!({"registration": uuid::Uuid::new_v4().to_string()});
    ok["result"] = json!({"score": {"scaled": 0.5}});
    assert_eq!(s.post(&ok).status(), 200);
}

#[test]
fn v0_1_and_v0_2_transformers_chain_each_seeing_what_the_one_before_made() {
    let s = Server::start(XLRS);
    // A v0.1 validator that accepts (it sees the batch as JSON text first), a v0.2 patch
    // (order 10), a v0.1 transformer handing back the JSON it was given (order 50: it sees the
    // patched statements or loses the patch), anonymize (v0.2, order 100) and add-platform
    // (v0.2 JavaScript, order 150).
    install(
        &s,
        "accept-v0-1",
        "fault-validator",
        "kind = \"validator\"\n[config]\nmode = \"accept\"\n",
    );
    install(
        &s,
        "fault-patch",
        "fault-fields",
        "kind = \"transformer\"\norder = 10\n[config]\nmode = \"patch\"\n",
    );
    install(
        &s,
        "pass-v0-1",
        "fault-transformer",
        "kind = \"transformer\"\norder = 50\n[config]\nmode = \"pass\"\n",
    );
    install(
        &s,
        "anonymize",
        "anonymize",
        "order = 100\n[config]\nsalt = \"pepper\"\n",
    );
    install(
        &s,
        "add-platform",
        "add-platform",
        "kind = \"transformer\"\norder = 150\n[limits]\nmemory_mb = 256\ntimeout_ms = 5000\n[config]\nplatform = \"Moodle\"\n",
    );
    for name in [
        "accept-v0-1",
        "fault-patch",
        "pass-v0-1",
        "anonymize",
        "add-platform",
    ] {
        wait_for(&s, name, move |st| serving_plugin(st, name));
    }
    let sent = statement();
    let ids: Vec<String> = s.post(&sent).json().unwrap();
    let got = stored(&s, &ids[0]);
    assert_eq!(got["result"]["response"], sent["verb"]["id"], "{got}");
    assert!(got["actor"].get("mbox").is_none(), "{got}");
    assert_eq!(got["actor"]["account"]["name"].as_str().unwrap().len(), 64);
    assert_eq!(got["context"]["platform"], "Moodle", "{got}");
}

#[test]
fn an_instance_serves_call_after_call_until_one_fails_and_the_next_call_gets_a_fresh_one() {
    let s = Server::start(XLRS);
    let name = fault(&s, "count");
    let response = |statement: Value| -> Value {
        let ids: Vec<String> = s.post(&statement).json().unwrap();
        stored(&s, &ids[0])["result"]["response"].clone()
    };
    assert_eq!(response(statement()), "1");
    assert_eq!(response(statement()), "2", "the instance kept its state");
    let mut trap = statement();
    trap["object"]["id"] = json!("http://example.org/activity/trap");
    assert_eq!(s.post(&trap).status(), 500);
    assert_eq!(
        response(statement()),
        "1",
        "a failed call's instance is dropped"
    );
    assert_eq!(plugin_status(&s, &name)["failures"], 1);
}

/// Serves fault-fields as plugin `name` with `manifest` after its kind line.
fn fault_with(s: &Server, name: &str, manifest: &str) {
    install(
        s,
        name,
        "fault-fields",
        &format!("kind = \"transformer\"\n{manifest}"),
    );
    let n = name.to_string();
    wait_for(s, name, move |st| serving_plugin(st, &n));
}

#[test]
fn a_field_plugin_granted_nothing_runs_on_the_requests_thread_until_a_call_runs_past_the_inline_budget(
) {
    let s = Server::start(XLRS);
    let fast = fault(&s, "patch");
    assert_eq!(s.post(&statement()).status(), 200);
    assert_eq!(
        plugin_status(&s, &fast)["inline"],
        true,
        "a fast call stays inline"
    );
    remove(&s, &fast);

    // A grant keeps every call on the plugin threads (a host call may block).
    fault_with(
        &s,
        "fault-granted",
        "[capabilities]\nhttp = [\"127.0.0.1\"]\n[config]\nmode = \"patch\"\n",
    );
    assert_eq!(plugin_status(&s, "fault-granted")["inline"], false);
    assert_eq!(s.post(&statement()).status(), 200);
    remove(&s, "fault-granted");

    // 100 million rounds take longer than the inline budget (10–20 ms), well within the
    // plugin's own deadline: each call is made again on a plugin thread, and its batch stored.
    // The plugin leaves the request's thread at once when its call used the CPU, or at the
    // third such call in a row (a loaded machine may keep a call waiting for a core).
    fault_with(
        &s,
        "fault-spin",
        "[limits]\ntimeout_ms = 30000\n[config]\nmode = \"spin\"\n",
    );
    assert_eq!(plugin_status(&s, "fault-spin")["inline"], true);
    for _ in 0..3 {
        let id = uuid::Uuid::new_v4().to_string();
        let sent = xlrs_tests::statement_with_id(&id);
        let r = s.post(&sent);
        assert_eq!(r.status(), 200, "{}", r.text().unwrap());
        assert_eq!(stored(&s, &id)["actor"], sent["actor"]);
    }
    let st = plugin_status(&s, "fault-spin");
    assert_eq!(
        st["inline"], false,
        "its calls run on the plugin threads now: {st}"
    );
    assert!(
        (1..=3).contains(&st["handed_over"].as_u64().unwrap()),
        "{st}"
    );
    assert_eq!(
        st["failures"], 0,
        "running past the budget is no failure: {st}"
    );
    remove(&s, "fault-spin");

    // A deadline within the budget is the plugin's own: running past it is its failure.
    fault_with(
        &s,
        "fault-spin-short",
        "[limits]\ntimeout_ms = 5\n[config]\nmode = \"spin\"\n",
    );
    let r = s.post(&statement());
    assert_eq!(r.status(), 500);
    let body: Value = r.json().unwrap();
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("ran longer than its 5 ms limit")),
        "{body}"
    );
}

#[test]
fn a_plugin_that_left_the_requests_thread_for_one_costly_call_comes_back_after_a_thousand_cheap_ones(
) {
    let s = Server::start(XLRS);
    fault_with(
        &s,
        "fault-spin-on",
        "[limits]\ntimeout_ms = 30000\n[config]\nmode = \"spin-on\"\n",
    );
    let mut costly = statement();
    costly["object"]["id"] = json!("http://example.org/activity/spin");
    assert_eq!(s.post(&costly).status(), 200);
    let st = plugin_status(&s, "fault-spin-on");
    assert_eq!(st["inline"], false, "one call used the budget's CPU: {st}");

    // A thousand calls in a row on the plugin threads, each under 1 ms of CPU, bring it back;
    // a call the machine made costly (a page fault, a cold cache) starts the count again, so
    // the test allows a few.
    let back = (1..=3_000).any(|i| {
        assert_eq!(s.post(&statement()).status(), 200);
        i % 100 == 0 && plugin_status(&s, "fault-spin-on")["inline"] == true
    });
    let st = plugin_status(&s, "fault-spin-on");
    assert!(back, "its cheap calls brought it back: {st}");
    assert_eq!(st["handed_over"], 1, "{st}");
    assert!(st["calls"].as_u64().unwrap() >= 1_001, "{st}");
}
