//! Limits that keep the server serving: batch size, a deadline per request (slow clients), and
//! a cap on requests in flight — each answered with a JSON error, none exhausting the server.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_tests::{basic, statement, Server, ADMIN_PASSWORD};

use crate::XLRS;

/// Starts a POST whose body never finishes: headers and 10 of 1000 promised bytes.
fn slow_client(s: &Server) -> TcpStream {
    let addr = s.base().trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /xAPI/statements HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nX-Experience-API-Version: 2.0.0\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{{\"actor\":",
        basic("admin", ADMIN_PASSWORD)
    )
    .unwrap();
    stream.flush().unwrap();
    stream
}

/// The status line and body of what the server answered on a raw connection.
fn answer(mut stream: TcpStream) -> (String, String) {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    let status = text.lines().next().unwrap_or_default().to_string();
    let body = text
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    (status, body)
}

#[test]
fn a_batch_over_max_batch_statements_is_a_413_and_nothing_is_stored() {
    let s = Server::start_with(XLRS, &[("XLRS_MAX_BATCH_STATEMENTS", "5")]);
    let batch: Vec<Value> = (0..6).map(|_| statement()).collect();
    let r = s.post(&json!(batch));
    assert_eq!(r.status(), 413);
    let body: Value = r.json().unwrap();
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("max_batch_statements"));
    assert_eq!(s.query("limit=10")["statements"], json!([]));
    assert_eq!(s.post(&json!(batch[..5])).status(), 200);
}

#[test]
fn a_client_that_never_finishes_its_body_gets_a_408_and_others_are_served_meanwhile() {
    let s = Server::start_with(XLRS, &[("XLRS_REQUEST_TIMEOUT_SECS", "1")]);
    let slow = slow_client(&s);
    assert_eq!(
        s.post(&statement()).status(),
        200,
        "served while one client stalls"
    );
    let (status, body) = answer(slow);
    assert!(status.contains("408"), "{status}");
    assert!(body.contains("\"message\""), "{body}");
}

#[test]
fn beyond_max_concurrent_requests_a_request_gets_a_503_at_once() {
    let s = Server::start_with(
        XLRS,
        &[
            ("XLRS_MAX_CONCURRENT_REQUESTS", "1"),
            ("XLRS_REQUEST_TIMEOUT_SECS", "2"),
        ],
    );
    let slow = slow_client(&s);
    std::thread::sleep(Duration::from_millis(300));
    let r = s.raw(Method::GET, "/health").send().unwrap();
    assert_eq!(r.status(), 503);
    let body: Value = r.json().unwrap();
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("max_concurrent_requests"));
    let (status, _) = answer(slow);
    assert!(status.contains("408"), "{status}");
    assert_eq!(s.raw(Method::GET, "/health").send().unwrap().status(), 200);
}
