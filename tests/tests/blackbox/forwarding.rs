//! Forwarding: statements accepted by one LRS are sent on to the LRSs in `forwarding`, and
//! none is lost while a target is down, even across a restart.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_tests::{
    attachment_statement, id_of, multipart_body, statement, unique, Server, ADMIN_PASSWORD,
};

use super::XLRS;

/// The `XLRS_FORWARDING` value sending to the xAPI endpoint of `base`, as admin.
pub(crate) fn forwarding_to(base: &str) -> String {
    json!([{ "url": format!("{base}/xAPI"), "username": "admin", "password": ADMIN_PASSWORD }])
        .to_string()
}

/// A port nothing listens on (yet).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Waits up to a minute for `done`, then fails with `what`.
fn eventually(what: &str, done: impl FnMut() -> bool) {
    eventually_within(Duration::from_secs(60), what, done);
}

/// Waits up to `limit` for `done`, then fails with `what`.
pub(crate) fn eventually_within(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The value of a metric line `name{target="…"}` or `name` on a server's /metrics.
pub(crate) fn metric(server: &Server, name: &str) -> Option<u64> {
    let text = server
        .raw(Method::GET, "/metrics")
        .send()
        .ok()?
        .text()
        .ok()?;
    let (labelled, bare) = (format!("{name}{{"), format!("{name} "));
    text.lines()
        .find(|l| l.starts_with(&labelled) || l.starts_with(&bare))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
}

fn statement_on(server: &Server, id: &str) -> Option<Value> {
    statement_as(server, id, "2.0.0")
}

/// The statement `id` on `server`, asked for as xAPI `version`.
fn statement_as(server: &Server, id: &str, version: &str) -> Option<Value> {
    let r = server
        .xapi_version(
            Method::GET,
            &format!("/statements?statementId={id}"),
            version,
        )
        .send()
        .expect("GET statement");
    (r.status() == 200).then(|| r.json().expect("JSON"))
}

#[test]
fn every_statement_the_lrs_accepts_is_forwarded_to_the_configured_lrs() {
    let target = Server::start(XLRS);
    let forwarding = forwarding_to(target.base());
    let source = Server::start_with(XLRS, &[("XLRS_FORWARDING", forwarding.as_str())]);

    let batch = [statement(), statement(), statement()];
    let r = source.post(&json!(batch));
    assert_eq!(r.status(), 200);
    let mut ids: Vec<String> = r.json().expect("ids");
    let mut timed = statement();
    timed["timestamp"] = json!("2026-01-02T03:04:05.678Z");
    ids.push(id_of(source.post(&timed)));
    let voiding = json!({
        "actor": {"mbox": "mailto:admin@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": ids[0]}
    });
    let voiding_id = id_of(source.post(&voiding));

    eventually("the voiding statement reaches the target", || {
        statement_on(&target, &voiding_id).is_some()
    });
    for id in &ids[1..] {
        let forwarded = statement_on(&target, id).expect("forwarded statement");
        let original = statement_on(&source, id).expect("source statement");
        for field in ["actor", "verb", "object", "timestamp"] {
            assert_eq!(forwarded[field], original[field], "{field} of {id}");
        }
    }
    assert_eq!(
        statement_on(&target, &ids[3]).expect("timed")["timestamp"],
        "2026-01-02T03:04:05.678Z"
    );
    let voided = target
        .xapi(
            Method::GET,
            &format!("/statements?voidedStatementId={}", ids[0]),
        )
        .send()
        .expect("GET voided");
    assert_eq!(
        voided.status(),
        200,
        "the voided statement is forwarded too"
    );
    assert_eq!(
        target.get_statement(&ids[0]).status(),
        404,
        "and voided there"
    );
    eventually("the outbox is empty", || {
        metric(&source, "xlrs_forwarding_waiting") == Some(0)
    });
    assert_eq!(metric(&source, "xlrs_forwarded_total"), Some(5));
}

#[test]
fn statements_accepted_while_the_target_is_down_are_forwarded_when_it_returns_even_after_a_restart()
{
    let port = free_port();
    let target_base = format!("http://127.0.0.1:{port}");
    let forwarding = forwarding_to(&target_base);
    let env = [("XLRS_FORWARDING", forwarding.as_str())];
    let source = Server::start_with(XLRS, &env);
    let batch: Vec<Value> = (0..5).map(|_| statement()).collect();
    let r = source.post(&json!(batch));
    assert_eq!(
        r.status(),
        200,
        "the source accepts while the target is down"
    );
    let ids: Vec<String> = r.json().expect("ids");
    // Counted as the POST queues them (an outbox file), or as the task next reads the log.
    eventually("the five wait", || {
        metric(&source, "xlrs_forwarding_waiting") == Some(5)
    });

    let source = Server::start_in(XLRS, source.stop(), &env);
    assert_eq!(
        metric(&source, "xlrs_forwarding_waiting"),
        Some(5),
        "the outbox survives the restart"
    );
    let listen = format!("127.0.0.1:{port}");
    let target = Server::start_with(XLRS, &[("XLRS_LISTEN", listen.as_str())]);
    eventually("every statement reaches the target", || {
        ids.iter().all(|id| statement_on(&target, id).is_some())
    });
    eventually("the outbox is empty", || {
        metric(&source, "xlrs_forwarding_waiting") == Some(0)
    });
}

#[test]
fn a_statement_the_target_refuses_is_set_aside_and_the_others_still_arrive() {
    // The target serves xAPI 1.0.3 only: it refuses the 2.0 statement, not the 1.0.3 ones.
    let target = Server::start_with(XLRS, &[("XLRS_XAPI_VERSIONS", "1.0.3")]);
    let forwarding = forwarding_to(target.base());
    let source = Server::start_with(XLRS, &[("XLRS_FORWARDING", forwarding.as_str())]);
    let post = |version: &str| {
        let r = source
            .xapi_version(Method::POST, "/statements", version)
            .json(&statement())
            .send()
            .expect("POST");
        id_of(r)
    };
    let older = post("1.0.3");
    let newer = post("2.0.0");
    let later = post("1.0.3");

    eventually("the 1.0.3 statements arrive", || {
        statement_as(&target, &older, "1.0.3").is_some()
            && statement_as(&target, &later, "1.0.3").is_some()
    });
    eventually("the 2.0 statement is set aside", || {
        metric(&source, "xlrs_forwarding_refused") == Some(1)
    });
    assert!(statement_as(&target, &newer, "1.0.3").is_none());
    // The target may hold the last statement a moment before the source counts it delivered.
    eventually("nothing waits", || {
        metric(&source, "xlrs_forwarding_waiting") == Some(0)
    });
}

#[test]
fn a_statement_is_forwarded_with_the_content_of_its_attachments() {
    let target = Server::start(XLRS);
    let forwarding = forwarding_to(target.base());
    let source = Server::start_with(XLRS, &[("XLRS_FORWARDING", forwarding.as_str())]);
    let content = format!("a certificate {}", unique()).into_bytes();
    let (st, sha2) = attachment_statement(&content);
    let r = source.post_multipart(multipart_body(
        "Content-Type: application/json\r\n",
        &st,
        &[(&sha2, &content)],
        Some("binary"),
    ));
    assert_eq!(r.status(), 200, "{}", r.text().unwrap_or_default());
    let ids: Vec<String> = r.json().expect("ids");
    eventually("the statement reaches the target", || {
        statement_on(&target, &ids[0]).is_some()
    });
    let r = target
        .xapi(
            Method::GET,
            &format!("/statements?statementId={}&attachments=true", ids[0]),
        )
        .send()
        .expect("GET");
    let body = String::from_utf8_lossy(&r.bytes().expect("body")).into_owned();
    assert!(
        body.contains(std::str::from_utf8(&content).expect("text")),
        "the target serves the attachment's content: {body}"
    );
    assert_eq!(metric(&source, "xlrs_forwarding_refused"), Some(0));
}

#[test]
fn a_forwarding_setting_that_is_not_a_list_of_targets_stops_start_up() {
    let dir = tempfile::tempdir().expect("dir");
    for value in [
        "{\"url\": \"http://127.0.0.1:1/xAPI\"}",
        "[{\"url\": \"ftp://example.org\"}]",
    ] {
        let out = std::process::Command::new(XLRS)
            .arg("serve")
            .env("XLRS_LISTEN", "127.0.0.1:0")
            .env("XLRS_DATA_DIR", dir.path())
            .env("XLRS_FORWARDING", value)
            .output()
            .expect("xlrs runs");
        assert_eq!(out.status.code(), Some(2), "{value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("forwarding"), "{stderr}");
    }
}
