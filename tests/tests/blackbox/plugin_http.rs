//! Outbound HTTP is a capability: a plugin reaches only the hosts its manifest lists, and a
//! plugin that imports `wasi:http` without a grant does not load. Checked with the
//! `remote-validator` component against a policy service run by the test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_tests::{statement, Server};

use crate::XLRS;

/// A policy service on a free port: 403 for a batch naming the `forbidden` verb, 200 otherwise.
/// Returns its port and how many requests it answered.
fn policy_service() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let (status, text) = if String::from_utf8_lossy(&body).contains("/verbs/forbidden") {
                ("403 Forbidden", "verb not allowed")
            } else {
                ("200 OK", "ok")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    (port, hits)
}

fn install_remote_validator(s: &Server, manifest: &str) {
    xlrs_tests::install_plugin(
        &s.plugins_dir(),
        "remote-validator",
        "remote-validator",
        manifest,
    );
}

/// The `/plugins` entry of remote-validator once it is loaded or has failed to.
fn settled(s: &Server) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let st: Value = s
            .raw(Method::GET, "/plugins")
            .basic_auth("admin", Some(xlrs_tests::ADMIN_PASSWORD))
            .send()
            .unwrap()
            .json()
            .unwrap();
        if let Some(p) = st["plugins"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == "remote-validator"))
            .filter(|p| p["serving"] == true || p["last_error"].is_string())
        {
            return p.clone();
        }
        assert!(
            Instant::now() < deadline,
            "remote-validator never settled: {st}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_plugin_granted_a_host_reaches_it_and_its_verdict_applies() {
    let (port, hits) = policy_service();
    let s = Server::start(XLRS);
    install_remote_validator(
        &s,
        &format!("[capabilities]\nhttp = [\"127.0.0.1:{port}\"]\n[config]\nurl = \"http://127.0.0.1:{port}/verdict\"\n"),
    );
    assert_eq!(settled(&s)["serving"], true);
    let r = s.post(&statement());
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    let mut forbidden = statement();
    forbidden["verb"] = json!({"id": "http://example.org/verbs/forbidden"});
    let r = s.post(&forbidden);
    assert_eq!(r.status(), 400);
    let body: Value = r.json().unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("the policy service said 403: verb not allowed"),
        "{body}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[test]
fn a_plugin_that_imports_http_without_a_grant_does_not_load() {
    let (port, hits) = policy_service();
    let s = Server::start(XLRS);
    install_remote_validator(
        &s,
        &format!("[config]\nurl = \"http://127.0.0.1:{port}/verdict\"\n"),
    );
    let p = settled(&s);
    assert_eq!(p["serving"], false);
    assert!(
        p["last_error"]
            .as_str()
            .unwrap()
            .contains("wasi:http, which is not granted"),
        "{p}"
    );
    assert_eq!(s.post(&statement()).status(), 200);
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[test]
fn a_request_to_a_host_not_granted_is_denied_before_it_leaves() {
    let (granted, _) = policy_service();
    let (other, other_hits) = policy_service();
    let s = Server::start(XLRS);
    install_remote_validator(
        &s,
        &format!("[capabilities]\nhttp = [\"127.0.0.1:{granted}\"]\n[config]\nurl = \"http://127.0.0.1:{other}/verdict\"\n"),
    );
    assert_eq!(settled(&s)["serving"], true);
    let r = s.post(&statement());
    assert_eq!(r.status(), 400);
    let body: Value = r.json().unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("HttpRequestDenied"),
        "{body}"
    );
    assert_eq!(other_hits.load(Ordering::SeqCst), 0);
}
