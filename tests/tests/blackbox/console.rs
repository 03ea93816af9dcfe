//! The operator console's server side: its pages served by the binary at `/console/`, the live
//! counters, the refused requests of the last minutes, the live tail of statements, and the
//! admin API it drives (plugins uploaded, disabled, removed; refused forwards sent again).
//! The pages themselves are driven in a real browser by tests/console (playwright).

use std::io::{BufRead, BufReader};
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_tests::{id_of, plugin_component, statement, unique, Server, ADMIN_PASSWORD};

use crate::forwarding::{eventually_within, forwarding_to};
use crate::XLRS;

/// A request as the admin credential.
fn admin(server: &Server, method: Method, path: &str) -> xlrs_tests::RequestBuilder {
    server
        .raw(method, path)
        .basic_auth("admin", Some(ADMIN_PASSWORD))
}

/// A multipart/form-data body of `(field, file name, content)` parts.
fn form(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = format!("xlrs-test-{}", unique());
    let mut body = Vec::new();
    for (name, file, content) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let file = file
            .map(|f| format!("; filename=\"{f}\""))
            .unwrap_or_default();
        body.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"{file}\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Uploads `component` (from target/plugins) as plugin `name` with `manifest`; the answer.
fn upload(server: &Server, name: &str, component: &[u8], manifest: &str) -> (u16, Value) {
    let (content_type, body) = form(&[
        ("wasm", Some("plugin.wasm"), component),
        ("manifest", None, manifest.as_bytes()),
    ]);
    let r = admin(server, Method::PUT, &format!("/admin/plugins/{name}"))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .expect("PUT plugin");
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

/// A statement of about `bytes` bytes.
fn big_statement(bytes: usize) -> Value {
    let mut s = statement();
    s["result"] = json!({ "response": "x".repeat(bytes) });
    s
}

fn post(server: &Server, body: &Value) -> (u16, Value) {
    let r = server.post(body);
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

const MAX_SIZE_300: &str = "kind = \"validator\"\norder = 5\n\n[config]\nmax_bytes = 300\n";

#[test]
fn the_console_is_served_by_the_binary_at_console_and_the_root_leads_there() {
    let s = Server::in_process(XLRS);
    let root = s.raw(Method::GET, "/").send().expect("GET /");
    assert_eq!(root.status(), 303);
    assert_eq!(
        root.headers()["location"],
        "console/",
        "relative: works behind a prefix"
    );
    let bare = s.raw(Method::GET, "/console").send().expect("GET /console");
    assert_eq!(bare.status(), 308);
    assert_eq!(bare.headers()["location"], "console/");
    let page = s
        .raw(Method::GET, "/console/")
        .send()
        .expect("GET /console/");
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/html"));
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap_or_default()
        .to_string();
    assert!(policy.contains("default-src 'self'"), "{policy}");
    let html = page.text().expect("HTML");
    assert!(
        html.contains("<script") && html.contains("app.js"),
        "{html}"
    );
    let script = s
        .raw(Method::GET, "/console/app.js")
        .send()
        .expect("app.js");
    assert_eq!(script.status(), 200);
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/javascript"));
    let missing = s
        .raw(Method::GET, "/console/nothing-here.js")
        .send()
        .expect("GET");
    assert_eq!(missing.status(), 404);
    assert!(missing.json::<Value>().expect("JSON error")["message"]
        .as_str()
        .is_some());
}

#[test]
fn the_console_can_be_turned_off() {
    let s = Server::in_process_with(XLRS, &[("XLRS_CONSOLE__ENABLED", "false")]);
    assert_eq!(
        s.raw(Method::GET, "/console/")
            .send()
            .expect("GET")
            .status(),
        404
    );
    assert_eq!(
        s.raw(Method::GET, "/console/api/live")
            .send()
            .expect("GET")
            .status(),
        404
    );
}

#[test]
fn the_live_counters_count_statements_stored_and_refused_by_reason() {
    let s = Server::in_process(XLRS);
    assert_eq!(
        s.raw(Method::GET, "/console/api/live")
            .send()
            .expect("GET")
            .status(),
        401,
        "the counters need a credential"
    );
    assert_eq!(post(&s, &statement()).0, 200);
    let mut broken = statement();
    broken["verb"] = json!({ "id": "not an IRI" });
    assert_eq!(post(&s, &broken).0, 400);
    let live: Value = admin(&s, Method::GET, "/console/api/live")
        .send()
        .expect("GET live")
        .json()
        .expect("JSON");
    assert_eq!(live["statements"]["stored"], 1, "{live}");
    assert!(
        live["requests"]["statements"]["2xx"].as_u64() >= Some(1),
        "{live}"
    );
    assert_eq!(live["store"]["answers"], true, "{live}");
    let reasons = live["refusals"].as_array().expect("refusals by reason");
    assert!(
        reasons
            .iter()
            .any(|r| r["status"] == 400 && r["field"] == "verb.id" && r["count"] == 1),
        "{live}"
    );
}

#[test]
fn a_refused_request_is_listed_with_its_message_and_key_but_never_its_secret() {
    let s = Server::in_process(XLRS);
    let wrong = s
        .raw(Method::GET, "/xAPI/statements")
        .basic_auth("producer-7", Some("a-wrong-secret"))
        .header("X-Experience-API-Version", "2.0.0")
        .send()
        .expect("GET");
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().contains_key("www-authenticate"));
    let mut broken = statement();
    broken["actor"] = json!({ "name": "no identifier" });
    let (status, answer) = post(&s, &broken);
    assert_eq!(status, 400);
    // The console's own requests are answered without a browser prompt, and not listed.
    let console = s
        .raw(Method::GET, "/admin/status")
        .basic_auth("admin", Some("not-the-password"))
        .header("X-Xlrs-Console", "1")
        .send()
        .expect("GET");
    assert_eq!(console.status(), 401);
    assert!(!console.headers().contains_key("www-authenticate"));

    let listed: Value = admin(&s, Method::GET, "/console/api/refusals")
        .send()
        .expect("GET refusals")
        .json()
        .expect("JSON");
    let refusals = listed["refusals"].as_array().expect("a list");
    assert_eq!(refusals.len(), 2, "{listed}");
    assert_eq!(refusals[0]["status"], 400, "newest first: {listed}");
    assert_eq!(refusals[0]["message"], answer["message"]);
    assert_eq!(refusals[0]["path"], "/xAPI/statements");
    assert_eq!(refusals[1]["status"], 401);
    assert_eq!(refusals[1]["key"], "producer-7");
    assert!(!listed.to_string().contains("a-wrong-secret"), "{listed}");
}

#[test]
fn the_live_tail_streams_arriving_statements_that_match_its_filters() {
    let s = Server::start(XLRS);
    let verb = format!("http://example.org/verbs/{}", unique());
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let url = format!("{}/console/api/tail", s.base());
    let refused = client
        .get(&url)
        .query(&[("limit", "3")])
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .expect("GET tail");
    assert_eq!(refused.status(), 400, "the tail takes filters, not paging");
    let stream = client
        .get(&url)
        .query(&[("verb", verb.as_str())])
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .expect("GET tail");
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");

    let mut other = statement();
    other["verb"] = json!({ "id": "http://example.org/verbs/other" });
    let skipped = id_of(s.post(&other));
    let mut wanted = statement();
    wanted["verb"] = json!({ "id": verb });
    let expected = id_of(s.post(&wanted));

    let mut lines = BufReader::new(stream).lines();
    let mut event = String::new();
    let arrived = loop {
        let line = lines.next().expect("the stream goes on").expect("a line");
        if let Some(name) = line.strip_prefix("event:") {
            event = name.trim().to_string();
        } else if let Some(data) = line.strip_prefix("data:") {
            assert_eq!(event, "statement", "{data}");
            break serde_json::from_str::<Value>(data.trim()).expect("a statement");
        }
    };
    assert_eq!(arrived["id"], expected.as_str());
    assert_ne!(arrived["id"], skipped.as_str());
    assert_eq!(arrived["verb"]["id"], verb.as_str());
}

#[test]
fn an_uploaded_plugin_takes_effect_at_once_and_can_be_disabled_enabled_and_removed() {
    let s = Server::start(XLRS);
    let component = std::fs::read(plugin_component("max-size")).expect("max-size.wasm");
    let (status, answer) = upload(&s, "max-size", &component, MAX_SIZE_300);
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["plugin"]["kind"], "validator");
    assert_eq!(answer["plugin"]["serving"], true);
    let (status, refused) = post(&s, &big_statement(1000));
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap_or_default()
            .contains("max-size"),
        "{refused}"
    );

    let disabled = admin(&s, Method::POST, "/admin/plugins/max-size/disable")
        .send()
        .expect("POST");
    assert_eq!(disabled.status(), 204);
    assert_eq!(
        post(&s, &big_statement(1000)).0,
        200,
        "a disabled plugin does not run"
    );
    let listed: Value = admin(&s, Method::GET, "/admin/plugins")
        .send()
        .expect("GET")
        .json()
        .expect("JSON");
    assert_eq!(
        listed["disabled"],
        json!([{ "name": "max-size" }]),
        "{listed}"
    );
    let serving = listed["plugins"].as_array().expect("plugins");
    assert!(!serving.iter().any(|p| p["name"] == "max-size"), "{listed}");

    let enabled = admin(&s, Method::POST, "/admin/plugins/max-size/enable")
        .send()
        .expect("POST");
    assert_eq!(enabled.status(), 200);
    assert_eq!(post(&s, &big_statement(1000)).0, 400, "enabled again");

    let removed = admin(&s, Method::DELETE, "/admin/plugins/max-size")
        .send()
        .expect("DELETE");
    assert_eq!(removed.status(), 204);
    assert_eq!(
        post(&s, &big_statement(1000)).0,
        200,
        "a removed plugin does not run"
    );
    assert!(!s.plugins_dir().join("max-size").exists());
    let again = admin(&s, Method::DELETE, "/admin/plugins/max-size")
        .send()
        .expect("DELETE");
    assert_eq!(again.status(), 404);
}

#[test]
fn an_upload_that_does_not_load_is_not_installed_and_the_previous_version_keeps_serving() {
    let s = Server::start(XLRS);
    let component = std::fs::read(plugin_component("max-size")).expect("max-size.wasm");
    assert_eq!(upload(&s, "max-size", &component, MAX_SIZE_300).0, 201);

    let (status, answer) = upload(&s, "max-size", b"not a component", MAX_SIZE_300);
    assert_eq!(status, 400, "{answer}");
    let (status, answer) = upload(
        &s,
        "max-size",
        &component,
        "kind = \"validator\"\n[limits]\nmemory_mb = 0\n",
    );
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap_or_default()
            .contains("memory_mb"),
        "{answer}"
    );
    // A component that is WebAssembly but not a plugin: compiled, refused, put back.
    let mut truncated = component.clone();
    truncated.truncate(component.len() / 2);
    let (status, answer) = upload(&s, "max-size", &truncated, MAX_SIZE_300);
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap_or_default()
            .contains("previous version keeps serving"),
        "{answer}"
    );

    assert_eq!(
        post(&s, &big_statement(1000)).0,
        400,
        "the first version still serves"
    );
    let on_disk = std::fs::read(s.plugins_dir().join("max-size/max-size.wasm")).expect("its file");
    assert_eq!(on_disk, component, "and is what the directory holds");
    let user = s
        .raw(Method::PUT, "/admin/plugins/other")
        .basic_auth("nobody", Some("whatever"))
        .send()
        .expect("PUT");
    assert_eq!(user.status(), 401);
    // Last: the server answers before reading the upload, and closes that connection.
    let (status, answer) = upload(&s, "bad%20name", &component, MAX_SIZE_300);
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap_or_default()
            .contains("not a plugin name"),
        "{answer}"
    );
}

#[test]
fn statements_a_target_refused_are_listed_with_its_answer_and_sent_again_on_retry() {
    let target = Server::start(XLRS);
    let component = std::fs::read(plugin_component("max-size")).expect("max-size.wasm");
    assert_eq!(upload(&target, "max-size", &component, MAX_SIZE_300).0, 201);
    let forwarding = forwarding_to(target.base());
    let source = Server::start_with(XLRS, &[("XLRS_FORWARDING", forwarding.as_str())]);
    let big = id_of(source.post(&big_statement(1000)));

    let refused = || -> Value {
        admin(&source, Method::GET, "/admin/forwarding")
            .send()
            .expect("GET")
            .json()
            .expect("JSON")
    };
    eventually_within(Duration::from_secs(60), "the target refuses it", || {
        refused()["refused"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
    });
    let listed = refused();
    let first = &listed["refused"][0];
    assert_eq!(first["statement"], big.as_str(), "{listed}");
    assert_eq!(first["status"], 400, "{listed}");
    assert!(
        first["answer"]
            .as_str()
            .unwrap_or_default()
            .contains("max-size"),
        "{listed}"
    );
    assert_eq!(listed["targets"][0]["refused"], 1, "{listed}");

    let removed = admin(&target, Method::DELETE, "/admin/plugins/max-size")
        .send()
        .expect("DELETE");
    assert_eq!(removed.status(), 204);
    let retried: Value = admin(&source, Method::POST, "/admin/forwarding/retry")
        .json(&json!({}))
        .send()
        .expect("POST retry")
        .json()
        .expect("JSON");
    // The outbox queues it again; a database store's log (its cursor has passed it) sends it.
    let again = retried["requeued"].as_u64().unwrap_or(0) + retried["sent"].as_u64().unwrap_or(0);
    assert_eq!(again, 1, "{retried}");
    eventually_within(
        Duration::from_secs(60),
        "it arrives once sent again",
        || target.get_statement(&big).status() == 200,
    );
    assert_eq!(refused()["refused"], json!([]));
}

#[test]
fn a_statement_shows_the_statements_referring_to_it_its_voiding_one_among_them() {
    let s = Server::start(XLRS);
    let target = id_of(s.post(&statement()));
    let mut comment = statement();
    comment["object"] = json!({ "objectType": "StatementRef", "id": target });
    let comment = id_of(s.post(&comment));
    let voiding = id_of(s.post(&xlrs_tests::voiding(&target)));
    let unrelated = id_of(s.post(&statement()));

    let answer: Value = admin(
        &s,
        Method::GET,
        &format!("/console/api/referring?statementId={target}"),
    )
    .send()
    .expect("GET referring")
    .json()
    .expect("JSON");
    let ids: Vec<&str> = answer["statements"]
        .as_array()
        .expect("statements")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [voiding.as_str(), comment.as_str()],
        "newest first: {answer}"
    );
    assert!(!ids.contains(&unrelated.as_str()));
    assert_eq!(answer["voided"], json!([]), "{answer}");
    let bad = admin(&s, Method::GET, "/console/api/referring?statementId=nope")
        .send()
        .expect("GET");
    assert_eq!(bad.status(), 400);
}

#[test]
fn an_operator_chooses_which_rules_an_admission_plugin_may_waive() {
    let s = Server::start(XLRS);
    let component = std::fs::read(plugin_component("fault-admission")).expect("fault-admission");
    let manifest = "# waives whatever is asked\nkind = \"admission\"\norder = 1\n[config]\nmode = \"waive-all\"\n";
    assert_eq!(upload(&s, "waiver", &component, manifest).0, 201);
    let group_activity = || {
        let mut s = statement();
        s["object"]["objectType"] = json!("GroupActivity");
        s
    };
    assert_eq!(post(&s, &group_activity()).0, 200, "object-type is waived");

    let set = |body: Value| {
        let r = admin(&s, Method::PUT, "/admin/plugins/waiver/waivers")
            .json(&body)
            .send()
            .expect("PUT waivers");
        (
            r.status().as_u16(),
            r.json::<Value>().unwrap_or(Value::Null),
        )
    };
    let (status, answer) = set(json!({ "waive": ["iri", "score"] }));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["plugin"]["waive"], json!(["iri", "score"]));
    let (status, refused) = post(&s, &group_activity());
    assert_eq!(status, 400, "{refused}");
    let message = refused["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("waiver") && message.contains("object-type"),
        "{message}"
    );
    let kept =
        std::fs::read_to_string(s.plugins_dir().join("waiver/plugin.toml")).expect("manifest");
    assert!(
        kept.contains("# waives whatever is asked") && kept.contains("mode = \"waive-all\""),
        "{kept}"
    );

    let (status, answer) = set(json!({ "waive": ["required"] }));
    assert_eq!(
        status, 400,
        "a rule the LRS cannot look past is never waivable: {answer}"
    );
    let (status, answer) = set(json!({ "waive": null }));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["plugin"]["waive"], Value::Null);
    assert_eq!(
        post(&s, &group_activity()).0,
        200,
        "every waivable rule again"
    );

    let max_size = std::fs::read(plugin_component("max-size")).expect("max-size.wasm");
    assert_eq!(upload(&s, "max-size", &max_size, MAX_SIZE_300).0, 201);
    let r = admin(&s, Method::PUT, "/admin/plugins/max-size/waivers")
        .json(&json!({ "waive": [] }))
        .send()
        .expect("PUT");
    assert_eq!(r.status(), 409, "a validator waives nothing");
    let live: Value = admin(&s, Method::GET, "/console/api/live")
        .send()
        .expect("GET")
        .json()
        .expect("JSON");
    let admissions = live["admissions"].as_array().expect("admissions");
    assert!(
        admissions
            .iter()
            .any(|a| a["plugin"] == "waiver" && a["rule"] == "object-type" && a["count"] == 2),
        "{live}"
    );
}
