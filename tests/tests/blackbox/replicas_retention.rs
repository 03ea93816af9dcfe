//! Retention with three processes over one database (README, "Erasure and retention"): while a
//! pass runs on one process, a pass asked of another is refused (409), what it removed is gone
//! through every process, and every process reports the last pass.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_tests::{id_of, statement, Server, ADMIN_PASSWORD};

use crate::forwarding::eventually_within;

/// The settings the three processes start with: statements whose `timestamp` is older than
/// ten years go, at a pass asked for (the scheduled one waits an hour). By `timestamp` a pass
/// reads every statement, 100 a batch with a pause between batches.
pub(crate) const RETENTION: [(&str, &str); 4] = [
    ("XLRS_LIFECYCLE__STATEMENTS_MAX_AGE", "3650d"),
    ("XLRS_LIFECYCLE__STATEMENTS_AGE_BY", "timestamp"),
    ("XLRS_LIFECYCLE__RETENTION_INTERVAL", "1h"),
    ("XLRS_LIFECYCLE__RETENTION_BATCH", "100"),
];

/// `POST /admin/retention` through `server`: the status and answer.
fn run_pass(server: &Server) -> (u16, Value) {
    let r = server
        .raw(Method::POST, "/admin/retention")
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .json(&json!({"dry_run": false}))
        .send()
        .expect("POST /admin/retention");
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

/// `GET /admin/retention` through `server`.
fn retention_status(server: &Server) -> Value {
    let r = server
        .raw(Method::GET, "/admin/retention")
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .expect("GET /admin/retention");
    assert_eq!(r.status(), 200);
    r.json().expect("JSON")
}

/// Statements from 2001 stored through every process among 2,000 of today (a pass then
/// reads at least 20 batches), a pass asked of the first process, and while it runs, of the
/// other two: they are told another process runs it (409), or, should the first pass have
/// ended already, run one that finds nothing left.
pub(crate) fn a_retention_pass_asked_of_every_process_at_once_runs_once(p: &[Server]) {
    let today: Vec<Value> = (0..2000).map(|_| statement()).collect();
    for batch in today.chunks(500) {
        assert_eq!(p[0].post(&json!(batch)).status(), 200);
    }
    let old: Vec<String> = (0..9)
        .map(|i| {
            let mut s = statement();
            s["timestamp"] = json!("2001-01-01T00:00:00Z");
            let r = p[i % p.len()].post(&s);
            assert_eq!(r.status(), 200);
            id_of(r)
        })
        .collect();
    let (first, later) = std::thread::scope(|scope| {
        let first = scope.spawn(|| run_pass(&p[0]));
        std::thread::sleep(Duration::from_millis(100));
        let later: Vec<_> = p[1..]
            .iter()
            .map(|server| scope.spawn(move || run_pass(server)))
            .collect();
        let join = |t: std::thread::ScopedJoinHandle<'_, (u16, Value)>| t.join().expect("asked");
        (join(first), later.into_iter().map(join).collect::<Vec<_>>())
    });
    assert!(
        first.0 == 200 && first.1["statements"] == old.len() || first.0 == 202,
        "the first pass removes the old statements, or goes on past 5 s: {first:?}"
    );
    for answer in &later {
        assert!(
            answer.0 == 409 || answer.0 == 200 && answer.1["statements"] == 0,
            "no second pass runs beside the first: {answer:?} (first: {first:?})"
        );
    }
    eventually_within(Duration::from_secs(120), "the pass ends", || {
        retention_status(&p[2])["next_pass"]["statements"] == 0
    });
    for (i, server) in p.iter().enumerate() {
        for id in &old {
            assert_eq!(server.get_statement(id).status(), 404, "process {i}: {id}");
        }
        let status = retention_status(server);
        let last = &status["last_pass"];
        assert!(
            last["statements"].as_u64().is_some() && last["error"].is_null(),
            "process {i} reports the last pass: {status}"
        );
    }
}
