//! Limits that keep the server serving: batch size, a deadline per request and for its headers
//! (slow clients), header size, and caps on requests in flight and open connections — none of
//! them lets a client exhaust the server.

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
fn beyond_max_concurrent_requests_a_request_gets_a_429_with_retry_after_at_once() {
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
    // xAPI Communication 3.2: "429 Too Many Requests", the list's code for this.
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    let body: Value = r.json().unwrap();
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("max_concurrent_requests"));
    let (status, _) = answer(slow);
    assert!(status.contains("408"), "{status}");
    assert_eq!(s.raw(Method::GET, "/health").send().unwrap().status(), 200);
}

#[test]
fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let s = Server::start_with(XLRS, &[("XLRS_HEADER_READ_TIMEOUT_SECS", "1")]);
    let addr = s.base().trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let mut buf = Vec::new();
    let read = stream.read_to_end(&mut buf);
    assert!(
        read.is_ok(),
        "the server closed the connection instead of waiting: {read:?}"
    );
    assert_eq!(s.raw(Method::GET, "/health").send().unwrap().status(), 200);
}

#[test]
fn headers_over_max_header_bytes_are_refused_with_431() {
    let s = Server::start_with(XLRS, &[("XLRS_MAX_HEADER_BYTES", "16384")]);
    let r = s
        .raw(Method::GET, "/health")
        .header("x-padding", "a".repeat(32 * 1024))
        .send()
        .unwrap();
    assert_eq!(r.status(), 431);
    assert_eq!(s.raw(Method::GET, "/health").send().unwrap().status(), 200);
}

#[test]
fn beyond_max_connections_a_new_connection_is_closed_and_served_again_once_one_ends() {
    let s = Server::start_with(XLRS, &[("XLRS_MAX_CONNECTIONS", "1")]);
    let addr = s.base().trim_start_matches("http://").to_string();
    let held = TcpStream::connect(&addr).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let mut second = TcpStream::connect(&addr).unwrap();
    second
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let _ = second.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut answer = Vec::new();
    let _ = second.read_to_end(&mut answer);
    assert!(
        answer.is_empty(),
        "closed without an answer: {}",
        String::from_utf8_lossy(&answer)
    );
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(s.raw(Method::GET, "/health").send().unwrap().status(), 200);
}
