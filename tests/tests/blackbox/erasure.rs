//! Erasure of a person (`POST /admin/erasure`, `xlrs erase`), on whichever store `TEST_STORE`
//! names: an erasure removes exactly what its dry run listed and nothing else, voided
//! statements and attachments only they named included; pseudonymization keeps every
//! statement and removes every IFI; `more` cursors stay valid; bad input gets a 400 naming
//! the field; the kept record holds no personal data.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_tests::{
    attachment_statement, enc, id_of, multipart_body, statement, Server, ADMIN_PASSWORD,
};

use crate::XLRS;

const ALICE: &str = "mailto:alice@example.org";
const BOB: &str = "mailto:bob@example.org";

fn alice() -> Value {
    json!({"objectType": "Agent", "name": "Alice", "mbox": ALICE})
}

/// Bob, about whom no test erases anything.
pub(crate) fn bob() -> Value {
    json!({"objectType": "Agent", "mbox": BOB})
}

/// A statement by `actor`.
pub(crate) fn by(actor: Value) -> Value {
    let mut s = statement();
    s["actor"] = actor;
    s
}

/// Posts one statement; its id.
pub(crate) fn post(server: &Server, statement: &Value) -> String {
    let r = server.post(statement);
    assert_eq!(r.status(), 200);
    id_of(r)
}

/// Posts a statement with one attachment (`content`); its id.
pub(crate) fn post_with_attachment(
    server: &Server,
    actor: Value,
    content: &[u8],
) -> (String, String) {
    let (mut s, sha2) = attachment_statement(content);
    s["actor"] = actor;
    let r = server.post_multipart(multipart_body(
        "Content-Type: application/json\r\n",
        &s,
        &[(&sha2, content)],
        Some("binary"),
    ));
    assert_eq!(r.status(), 200, "{}", r.text().unwrap_or_default());
    (id_of(r), sha2)
}

/// `POST /admin/erasure` as the admin; status and answer.
pub(crate) fn erasure(server: &Server, body: &Value) -> (u16, Value) {
    let r = server
        .raw(Method::POST, "/admin/erasure")
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .json(body)
        .send()
        .expect("POST /admin/erasure");
    let status = r.status().as_u16();
    (status, r.json().expect("a JSON answer"))
}

/// The ids a receipt lists under `statements.<what>`.
pub(crate) fn listed(receipt: &Value, what: &str) -> BTreeSet<String> {
    receipt["statements"][what]
        .as_array()
        .expect("a list of ids")
        .iter()
        .map(|id| id.as_str().expect("an id").to_string())
        .collect()
}

fn set(ids: &[&String]) -> BTreeSet<String> {
    ids.iter().map(|id| id.to_string()).collect()
}

/// Every statement the server serves (voided ones left out, as a query does), by id.
fn all_ids(server: &Server) -> BTreeSet<String> {
    let page = server.query("limit=0");
    page["statements"]
        .as_array()
        .expect("statements")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_string())
        .collect()
}

/// Puts a state document `id` of `agent` for the course activity.
pub(crate) fn put_state(server: &Server, agent: &Value, id: &str) {
    let path = format!(
        "/activities/state?activityId={}&agent={}&stateId={id}",
        enc("http://example.org/course"),
        enc(&agent.to_string())
    );
    let r = server
        .xapi(Method::PUT, &path)
        .header("Content-Type", "application/json")
        .body(r#"{"progress": 0.5}"#)
        .send()
        .expect("PUT state");
    assert_eq!(r.status(), 204);
}

/// The status of a GET of the state document `id` of `agent`.
pub(crate) fn state_status(server: &Server, agent: &Value, id: &str) -> u16 {
    let path = format!(
        "/activities/state?activityId={}&agent={}&stateId={id}",
        enc("http://example.org/course"),
        enc(&agent.to_string())
    );
    server
        .xapi(Method::GET, &path)
        .send()
        .expect("GET state")
        .status()
        .as_u16()
}

#[test]
fn an_erasure_removes_exactly_what_its_dry_run_listed_and_nothing_else() {
    let server = Server::in_process(XLRS);
    // About Alice: as actor (with an attachment only she has), voided, as instructor, as a
    // group member known by her mbox_sha1sum, and one sharing an attachment with Bob's.
    let (as_actor, her_attachment) = post_with_attachment(&server, alice(), b"alice's essay");
    let voided = post(&server, &by(alice()));
    let mut voiding = by(bob());
    voiding["verb"] = json!({"id": "http://adlnet.gov/expapi/verbs/voided"});
    voiding["object"] = json!({"objectType": "StatementRef", "id": voided});
    let voiding = post(&server, &voiding);
    let mut instructed = by(bob());
    instructed["context"] = json!({"instructor": alice()});
    let instructed = post(&server, &instructed);
    let group = json!({"objectType": "Group", "member": [
        {"mbox_sha1sum": xlrs_sha1(ALICE)}, bob()]});
    let in_group = post(&server, &by(group));
    let (shared_hers, shared) = post_with_attachment(&server, alice(), b"the course handout");
    // Only mentioning her: a sub-statement about her, reported by Bob.
    let mut mentions = by(bob());
    mentions["object"] = json!({"objectType": "SubStatement", "actor": alice(),
        "verb": {"id": "http://example.org/verbs/helped"}, "object": {"id": "http://example.org/a"}});
    let mentions = post(&server, &mentions);
    // Not about her at all.
    let (bobs_shared, _) = post_with_attachment(&server, bob(), b"the course handout");
    let bobs = post(&server, &by(bob()));
    put_state(&server, &alice(), "hers");
    put_state(&server, &bob(), "his");
    let before = server.query("limit=2");
    let more = before["more"].as_str().expect("a more link").to_string();

    let ask = json!({"agent": {"mbox": ALICE}, "dry_run": true});
    let (status, dry) = erasure(&server, &ask);
    assert_eq!(status, 200, "{dry}");
    let removed = set(&[&as_actor, &voided, &instructed, &in_group, &shared_hers]);
    assert_eq!(listed(&dry, "removed"), removed);
    assert_eq!(listed(&dry, "pseudonymized"), set(&[&mentions]));
    assert_eq!(dry["counts"]["state_documents"], 1);
    let attachments: BTreeSet<&str> = dry["attachments"]
        .as_array()
        .expect("attachments")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        attachments,
        BTreeSet::from([her_attachment.as_str(), shared.as_str()])
    );
    // A dry run changes nothing.
    assert_eq!(server.get_statement(&as_actor).status(), 200);
    assert_eq!(state_status(&server, &alice(), "hers"), 200);

    let (status, receipt) = erasure(
        &server,
        &json!({"agent": {"mbox": ALICE}, "dry_run": false}),
    );
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(listed(&receipt, "removed"), listed(&dry, "removed"));
    assert_eq!(
        listed(&receipt, "pseudonymized"),
        listed(&dry, "pseudonymized")
    );
    assert_eq!(receipt["counts"]["attachments"], 1, "the shared one stays");
    for id in &removed {
        assert_eq!(server.get_statement(id).status(), 404, "{id} is gone");
        let r = server
            .xapi(Method::GET, &format!("/statements?voidedStatementId={id}"))
            .send()
            .expect("GET");
        assert_eq!(r.status(), 404, "{id} is gone, voided or not");
    }
    let left = all_ids(&server);
    assert_eq!(
        left,
        set(&[&voiding, &mentions, &bobs_shared, &bobs]),
        "everything not about her stays"
    );
    let reported = server.get_statement(&mentions).text().expect("body");
    assert!(!reported.contains("alice@"), "{reported}");
    assert!(!reported.contains("Alice"), "{reported}");
    let by_her = server.query(&format!(
        "agent={}&related_agents=true",
        enc(&alice().to_string())
    ));
    assert_eq!(by_her["statements"], json!([]));
    // Bob's statement still has the attachment it shared with one of hers.
    let r = server
        .xapi(
            Method::GET,
            &format!("/statements?statementId={bobs_shared}&attachments=true"),
        )
        .send()
        .expect("GET");
    assert_eq!(r.status(), 200);
    assert!(r.text().expect("body").contains("the course handout"));
    assert_eq!(state_status(&server, &alice(), "hers"), 404);
    assert_eq!(state_status(&server, &bob(), "his"), 200);
    // A `more` cursor taken before still pages.
    let r = server
        .raw(Method::GET, &more)
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .header("X-Experience-API-Version", "2.0.0")
        .send()
        .expect("GET more");
    assert_eq!(r.status(), 200);

    // The kept record: who, when, counts, keyed hashes; nothing that names her.
    let id = receipt["id"].as_str().expect("a receipt id");
    let r = server
        .raw(Method::GET, &format!("/admin/erasure/{id}"))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .expect("GET receipt");
    assert_eq!(r.status(), 200);
    let record = r.text().expect("body");
    assert!(
        !record.contains("alice") && !record.contains(&xlrs_sha1(ALICE)),
        "{record}"
    );
    assert!(record.contains("\"by\":\"admin\""), "{record}");

    let (_, again) = erasure(&server, &ask);
    assert_eq!(
        listed(&again, "removed"),
        BTreeSet::new(),
        "nothing is left of her"
    );
    // Nothing comes back at the next start (from Ralph's table or index, say).
    let server = Server::in_process_in(XLRS, server.stop(), &[]);
    for id in &removed {
        assert_eq!(server.get_statement(id).status(), 404, "{id} stays gone");
    }
    assert_eq!(all_ids(&server).len(), 4);
}

#[test]
fn an_erasure_takes_the_person_out_of_the_forwarding_queue() {
    let nobody = format!(
        "http://127.0.0.1:{}/xAPI",
        xlrs_tests::databases::free_port()
    );
    let targets = json!([{ "url": nobody, "username": "u", "password": "p" }]).to_string();
    let server = Server::in_process_with(XLRS, &[("XLRS_FORWARDING", &targets)]);
    post(&server, &by(alice()));
    post(&server, &by(alice()));
    post(&server, &by(bob()));
    let outbox = !xlrs_tests::databases::database_store();
    let (_, dry) = erasure(&server, &json!({"agent": {"mbox": ALICE}, "dry_run": true}));
    // The outbox file holds entries; a database store is its own queue (nothing to take out
    // but refusals).
    assert_eq!(
        dry["counts"]["forwarding_entries"],
        if outbox { 2 } else { 0 }
    );
    let (status, receipt) = erasure(
        &server,
        &json!({"agent": {"mbox": ALICE}, "dry_run": false}),
    );
    assert_eq!(status, 200, "{receipt}");
    if outbox {
        let r = server
            .raw(Method::GET, "/admin/status")
            .basic_auth("admin", Some(ADMIN_PASSWORD))
            .send()
            .expect("GET status");
        let status: Value = r.json().expect("JSON");
        assert_eq!(status["forwarding"][0]["waiting"], 1, "{status}");
    }
}

/// The mbox_sha1sum of an mbox.
fn xlrs_sha1(mbox: &str) -> String {
    use sha1::{Digest, Sha1};
    hex::encode(Sha1::digest(mbox.as_bytes()))
}

#[test]
fn pseudonymization_keeps_every_statement_and_removes_every_identifier() {
    let server = Server::in_process(XLRS);
    let person = json!({"objectType": "Person", "mbox": [ALICE],
        "account": [{"homePage": "https://lms.example.org", "name": "alice42"}]});
    let ids: BTreeSet<String> = [
        by(alice()),
        by(json!({"account": {"homePage": "https://lms.example.org", "name": "alice42"}})),
        by(json!({"objectType": "Group", "member": [alice(), bob()]})),
        by(bob()),
    ]
    .iter()
    .map(|s| post(&server, s))
    .collect();
    let (status, receipt) = erasure(
        &server,
        &json!({"agent": person, "dry_run": false, "pseudonymize": true}),
    );
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(receipt["counts"]["statements_pseudonymized"], 3);
    assert_eq!(receipt["counts"]["statements_removed"], 0);
    assert_eq!(all_ids(&server), ids, "every statement stays");
    let page = server.query("limit=0").to_string();
    for ifi in ["alice@example.org", "alice42", "Alice", &xlrs_sha1(ALICE)] {
        assert!(!page.contains(ifi), "{ifi} is gone: {page}");
    }
    // The opaque account is one, and the statements are found under it.
    let pseudonym = json!({"account": receipt["pseudonym"]});
    let hers = server.query(&format!(
        "agent={}&related_agents=true",
        enc(&pseudonym.to_string())
    ));
    assert_eq!(hers["statements"].as_array().expect("statements").len(), 3);
    // The same person pseudonymized again becomes the same account.
    post(&server, &by(alice()));
    let (_, again) = erasure(
        &server,
        &json!({"agent": {"objectType": "Person", "mbox": [ALICE], "account": [{"homePage": "https://lms.example.org", "name": "alice42"}]},
                "dry_run": false, "pseudonymize": true}),
    );
    assert_eq!(again["pseudonym"], receipt["pseudonym"]);
    assert_eq!(again["counts"]["statements_pseudonymized"], 1);
}

#[test]
fn bad_erasure_requests_get_a_400_naming_the_field_and_an_unknown_agent_matches_nothing() {
    let server = Server::in_process_with(XLRS, &[("XLRS_LIFECYCLE__ERASURE_CONFIRM_ABOVE", "1")]);
    for (body, field) in [
        (
            json!({"agent": {"mbox": "alice@example.org"}, "dry_run": true}),
            "agent",
        ),
        (
            json!({"agent": {"objectType": "Person", "mbox": ["alice@example.org"]}, "dry_run": true}),
            "agent.mbox[0]",
        ),
        (json!({"agent": {"mbox": ALICE}}), "dry_run"),
        (json!({"agent": {"mbox": ALICE}, "dry_run": "yes"}), "body"),
    ] {
        let (status, answer) = erasure(&server, &body);
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(
            answer.to_string().contains(field),
            "{body}: the answer names {field}: {answer}"
        );
    }
    let (status, nobody) = erasure(
        &server,
        &json!({"agent": {"mbox": "mailto:nobody@example.org"}, "dry_run": true}),
    );
    assert_eq!(status, 200);
    assert_eq!(nobody["counts"]["statements_removed"], 0);
    assert_eq!(nobody["counts"]["state_documents"], 0);
    // Above the bound, the count of the dry run must be confirmed.
    post(&server, &by(alice()));
    post(&server, &by(alice()));
    let erase = json!({"agent": {"mbox": ALICE}, "dry_run": false});
    let (status, answer) = erasure(&server, &erase);
    assert_eq!(status, 400, "{answer}");
    assert!(answer.to_string().contains("confirm"), "{answer}");
    assert_eq!(all_ids(&server).len(), 2, "nothing was erased");
    let mut confirmed = erase.clone();
    confirmed["confirm"] = json!(2);
    let (status, receipt) = erasure(&server, &confirmed);
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(all_ids(&server).len(), 0);
    // Only the admin scope erases.
    let created = crate::admin::create(&server, &json!({"scopes": ["all"]}));
    let r = server
        .raw(Method::POST, "/admin/erasure")
        .basic_auth(
            created["key"].as_str().expect("key"),
            created["secret"].as_str(),
        )
        .json(&json!({"agent": {"mbox": ALICE}, "dry_run": true}))
        .send()
        .expect("POST");
    assert_eq!(r.status(), 403);
}

#[test]
fn xlrs_erase_runs_an_erasure_through_the_server() {
    let server = Server::start(XLRS);
    let id = post(&server, &by(alice()));
    let agent = json!({"mbox": ALICE}).to_string();
    let erase = |extra: &[&str]| {
        let mut args = vec![
            "erase",
            "--agent",
            &agent,
            "--url",
            server.base(),
            "--user",
            "admin",
        ];
        args.extend(extra);
        let mut command = std::process::Command::new(XLRS);
        command.args(&args).env("XLRS_DATA_DIR", server.data_dir());
        xlrs_tests::run_piped(command, ADMIN_PASSWORD.as_bytes())
    };
    let out = erase(&["--dry-run", "--password-stdin"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dry: Value = serde_json::from_slice(&out.stdout).expect("the receipt as JSON");
    assert_eq!(dry["dry_run"], true);
    assert_eq!(server.get_statement(&id).status(), 200);
    let out = erase(&["--password-stdin"]);
    assert!(
        !out.status.success(),
        "neither --dry-run nor --execute: nothing is erased"
    );
    assert_eq!(server.get_statement(&id).status(), 200);
    let out = erase(&["--password-stdin", "--execute"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(server.get_statement(&id).status(), 404);
    let out = erase(&["--password-stdin", "--execute", "--mentions", "sometimes"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("mentions"));
}
