//! Operations: request ids on every response and in every log line of the request, JSON logs,
//! and a graceful shutdown that lets requests in flight finish.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use xlrs_tests::{basic, ADMIN_PASSWORD};

use crate::XLRS;

/// Starts `xlrs serve` with piped stdout/stderr and the given extra environment; returns the
/// child and its base URL.
fn spawn(dir: &std::path::Path, env: &[(&str, &str)]) -> (std::process::Child, String) {
    let mut command = Command::new(XLRS);
    command
        .arg("serve")
        .env("XLRS_LISTEN", "127.0.0.1:0")
        .env("XLRS_DATA_DIR", dir)
        .env("XLRS_ADMIN_USER", "admin")
        .env("XLRS_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("listening line").unwrap();
        if let Some(url) = line.strip_prefix("xlrs listening on ") {
            break url.trim().to_string();
        }
    };
    (child, base)
}

#[test]
fn every_response_carries_a_request_id_that_the_json_logs_carry_too() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = spawn(
        dir.path(),
        &[
            ("XLRS_LOG_FORMAT", "json"),
            ("XLRS_LOG", "xlrs=info,tower_http=debug"),
        ],
    );
    let http = reqwest::blocking::Client::new();
    let given = http
        .get(format!("{base}/health"))
        .header("x-request-id", "ops-test-42")
        .send()
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "ops-test-42");
    let made = http.get(format!("{base}/health")).send().unwrap();
    let id = made.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");

    let _ = child.kill();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let _ = child.wait();
    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("a JSON log line: {l}")))
        .collect();
    for wanted in ["ops-test-42", id.as_str()] {
        assert!(
            lines.iter().any(|l| l["span"]["request_id"] == wanted),
            "a log line of request {wanted} in:\n{stderr}"
        );
    }
}

#[test]
fn sigterm_lets_a_request_in_flight_finish_before_the_server_exits() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = spawn(dir.path(), &[("XLRS_LOG", "warn")]);
    // A POST whose body arrives in two halves, the second after SIGTERM.
    let body = serde_json::json!({
        "actor": {"mbox": "mailto:drain@example.org"},
        "verb": {"id": "http://example.org/v"},
        "object": {"id": "http://example.org/a"}
    })
    .to_string();
    let (first, second) = body.split_at(body.len() / 2);
    let mut stream = TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    write!(
        stream,
        "POST /xAPI/statements HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nX-Experience-API-Version: 2.0.0\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
        basic("admin", ADMIN_PASSWORD),
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    std::thread::sleep(Duration::from_millis(300));
    stream.write_all(second.as_bytes()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "the server exited cleanly after draining: {status}"
    );
}
