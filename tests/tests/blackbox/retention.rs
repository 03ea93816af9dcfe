//! Retention (`[lifecycle]` `statements_max_age`, `documents_max_age`), on whichever store
//! `TEST_STORE` names: old statements and documents go, by a pass every interval, while
//! ingest goes on; a dry run reports what the next pass removes; by `timestamp`, what
//! happened long ago goes whenever it was stored.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_tests::{enc, id_of, statement, Server, ADMIN_PASSWORD};

use crate::forwarding::eventually_within;
use crate::XLRS;

/// A request to `path` as the admin.
pub(crate) fn admin(server: &Server, method: Method, path: &str) -> xlrs_tests::RequestBuilder {
    server
        .raw(method, path)
        .basic_auth("admin", Some(ADMIN_PASSWORD))
}

fn post(server: &Server, body: &Value) -> String {
    let r = server.post(body);
    assert_eq!(r.status(), 200);
    id_of(r)
}

fn state_path(id: &str) -> String {
    format!(
        "/activities/state?activityId={}&agent={}&stateId={id}",
        enc("http://example.org/course"),
        enc(r#"{"mbox":"mailto:learner@example.org"}"#)
    )
}

fn put_state(server: &Server, id: &str) {
    let r = server
        .xapi(Method::PUT, &state_path(id))
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .expect("PUT state");
    assert_eq!(r.status(), 204);
}

fn state_status(server: &Server, id: &str) -> u16 {
    let r = server
        .xapi(Method::GET, &state_path(id))
        .send()
        .expect("GET");
    r.status().as_u16()
}

#[test]
fn retention_removes_old_statements_and_documents_while_ingest_goes_on() {
    let server = Server::in_process_with(
        XLRS,
        &[
            ("XLRS_LIFECYCLE__STATEMENTS_MAX_AGE", "3s"),
            ("XLRS_LIFECYCLE__DOCUMENTS_MAX_AGE", "3s"),
            ("XLRS_LIFECYCLE__RETENTION_INTERVAL", "1s"),
            ("XLRS_LIFECYCLE__RETENTION_BATCH", "7"),
        ],
    );
    let old: Vec<String> = (0..20).map(|_| post(&server, &statement())).collect();
    put_state(&server, "old");
    let started = Instant::now();
    let mut recent: Vec<(Instant, String)> = Vec::new();
    eventually_within(Duration::from_secs(60), "the old statements go", || {
        // Ingest goes on meanwhile, every answer a 200.
        let batch: Vec<Value> = (0..5).map(|_| statement()).collect();
        let r = server.post(&json!(batch));
        assert_eq!(r.status(), 200, "ingest goes on during retention");
        let ids: Vec<String> = r.json().expect("ids");
        recent.extend(ids.into_iter().map(|id| (Instant::now(), id)));
        old.iter()
            .all(|id| server.get_statement(id).status() == 404)
    });
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "nothing went before its time"
    );
    eventually_within(Duration::from_secs(30), "the old document goes", || {
        state_status(&server, "old") == 404
    });
    put_state(&server, "new");
    assert_eq!(state_status(&server, "new"), 200);
    // What was stored within the last second is all there.
    let just_now = Instant::now() - Duration::from_secs(1);
    for (at, id) in recent.iter().filter(|(at, _)| *at > just_now) {
        assert_eq!(
            server.get_statement(id).status(),
            200,
            "{id} of {at:?} stays"
        );
    }
    let status: Value = admin(&server, Method::GET, "/admin/status")
        .send()
        .expect("GET status")
        .json()
        .expect("JSON");
    let last = &status["retention"]["last_pass"];
    assert!(last["at"].is_string(), "{status}");
    assert_eq!(status["retention"]["statements_max_age"], "3s");
}

#[test]
fn a_dry_run_reports_what_the_next_pass_removes_and_the_pass_removes_it() {
    let server = Server::in_process_with(
        XLRS,
        &[
            ("XLRS_LIFECYCLE__STATEMENTS_MAX_AGE", "1s"),
            ("XLRS_LIFECYCLE__DOCUMENTS_MAX_AGE", "1s"),
            ("XLRS_LIFECYCLE__RETENTION_INTERVAL", "1h"),
        ],
    );
    let old: Vec<String> = (0..3).map(|_| post(&server, &statement())).collect();
    put_state(&server, "old");
    std::thread::sleep(Duration::from_millis(1500));
    let kept = post(&server, &statement());
    let next: Value = admin(&server, Method::GET, "/admin/retention")
        .send()
        .expect("GET")
        .json()
        .expect("JSON");
    assert_eq!(next["next_pass"]["statements"], 3, "{next}");
    assert_eq!(next["next_pass"]["documents"], 1, "{next}");
    assert_eq!(next["next_pass"]["dry_run"], true);
    for id in &old {
        assert_eq!(
            server.get_statement(id).status(),
            200,
            "a dry run removes nothing"
        );
    }
    let r = admin(&server, Method::POST, "/admin/retention")
        .json(&json!({"dry_run": false}))
        .send()
        .expect("POST");
    assert_eq!(r.status(), 200);
    let report: Value = r.json().expect("JSON");
    assert_eq!(report["statements"], 3, "{report}");
    assert_eq!(report["documents"], 1, "{report}");
    for id in &old {
        assert_eq!(server.get_statement(id).status(), 404);
    }
    assert_eq!(server.get_statement(&kept).status(), 200);
    assert_eq!(state_status(&server, "old"), 404);
    let r = admin(&server, Method::POST, "/admin/retention")
        .json(&json!({"dry_run": "no"}))
        .send()
        .expect("POST");
    assert_eq!(r.status(), 400);
}

#[test]
fn by_timestamp_what_happened_long_ago_goes_whenever_it_was_stored() {
    let server = Server::in_process_with(
        XLRS,
        &[
            ("XLRS_LIFECYCLE__STATEMENTS_MAX_AGE", "1d"),
            ("XLRS_LIFECYCLE__STATEMENTS_AGE_BY", "timestamp"),
            ("XLRS_LIFECYCLE__RETENTION_INTERVAL", "1h"),
        ],
    );
    let mut long_ago = statement();
    long_ago["timestamp"] = json!("2020-01-01T00:00:00Z");
    let long_ago = post(&server, &long_ago);
    let today = post(&server, &statement());
    let r = admin(&server, Method::POST, "/admin/retention")
        .json(&json!({"dry_run": false}))
        .send()
        .expect("POST");
    let report: Value = r.json().expect("JSON");
    assert_eq!(report["statements"], 1, "{report}");
    assert_eq!(server.get_statement(&long_ago).status(), 404);
    assert_eq!(server.get_statement(&today).status(), 200);
}
