//! Retention with three processes over one database (README, "Erasure and retention"): while a
//! pass runs on one process, a pass asked of another is refused (409), what it removed is gone
//! through every process, and every process reports the last pass.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_tests::{id_of, statement, Server};

use crate::forwarding::eventually_within;
use crate::replicas::micros;
use crate::retention::admin;

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
    let r = admin(server, Method::POST, "/admin/retention")
        .json(&json!({"dry_run": false}))
        .send()
        .expect("POST /admin/retention");
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

/// `GET /admin/retention` through `server`.
fn retention_status(server: &Server) -> Value {
    let r = admin(server, Method::GET, "/admin/retention")
        .send()
        .expect("GET /admin/retention");
    assert_eq!(r.status(), 200);
    r.json().expect("JSON")
}

/// Statements from 2001 stored through every process among 2,000 of today (a pass then
/// reads at least 20 batches), a pass asked of the first process, and 100 ms later of the
/// other two: those asked while a pass runs are told another process runs it (409), so no two
/// passes overlap, and the old statements go.
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
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let first = scope.spawn(|| run_pass(&p[0]));
        std::thread::sleep(Duration::from_millis(100));
        let later: Vec<_> = p[1..]
            .iter()
            .map(|server| scope.spawn(move || run_pass(server)))
            .collect();
        std::iter::once(first)
            .chain(later)
            .map(|t| t.join().expect("asked"))
            .collect()
    });
    assert!(
        answers.iter().all(|(s, _)| [200, 202, 409].contains(s)),
        "each runs the pass or is told another runs one: {answers:?}"
    );
    // The passes that ran, each from its start to its end (202: still running after 5 s, so
    // past the moment the others were asked).
    let mut ran: Vec<(i64, i64)> = answers
        .iter()
        .filter_map(|(status, report)| match status {
            200 => {
                let start = micros(report["at"].as_str().expect("when it started"));
                let took = report["took_ms"].as_i64().expect("how long it took");
                Some((start, start + took * 1000))
            }
            202 => Some((i64::MIN, i64::MAX)),
            _ => None,
        })
        .collect();
    assert!(!ran.is_empty(), "one of them runs the pass: {answers:?}");
    ran.sort_unstable();
    assert!(
        ran.windows(2).all(|w| w[1].0 >= w[0].1),
        "no pass runs beside another: {answers:?}"
    );
    eventually_within(Duration::from_secs(120), "the pass ends", || {
        let status = retention_status(&p[2]);
        status["next_pass"]["statements"] == 0 && !status["last_pass"].is_null()
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
