//! About and operations endpoints.

use reqwest::Method;
use serde_json::Value;
use xlrs_tests::Server;

use crate::XLRS;

#[test]
fn about_lists_both_versions_without_credentials() {
    let s = Server::start(XLRS);
    let r = s.raw(Method::GET, "/xAPI/about").send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-experience-api-version"], "2.0.0");
    let body: Value = r.json().unwrap();
    assert_eq!(body["version"], serde_json::json!(["2.0.0", "1.0.3"]));
}

#[test]
fn health_answers_without_credentials_or_version() {
    let s = Server::start(XLRS);
    let r = s.raw(Method::GET, "/health").send().unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn metrics_count_requests_and_stored_statements() {
    let s = Server::start(XLRS);
    assert_eq!(s.post(&xlrs_tests::statement()).status(), 200);
    let text = s
        .raw(Method::GET, "/metrics")
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(text.contains("xlrs_statements_stored_total 1"), "{text}");
    assert!(
        text.contains("xlrs_http_requests_total{resource=\"statements\",status=\"2xx\"} 1"),
        "{text}"
    );
}
