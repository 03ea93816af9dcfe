//! About and operations endpoints.

use reqwest::Method;
use serde_json::Value;
use xlrs_tests::Server;

use crate::XLRS;

#[test]
fn about_lists_both_versions_without_credentials() {
    let s = Server::in_process(XLRS);
    let r = s.raw(Method::GET, "/xAPI/about").send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-experience-api-version"], "2.0.0");
    let body: Value = r.json().unwrap();
    assert_eq!(body["version"], serde_json::json!(["2.0.0", "1.0.3"]));
    // XAPI-00320 (Communication 2.8): "extensions" is an optional Object keyed by IRIs; xlrs
    // names itself there.
    let extensions = body["extensions"]
        .as_object()
        .expect("an extensions object");
    assert!(extensions.keys().all(|k| k.contains(':')), "IRI keys");
    assert_eq!(extensions["urn:xlrs:server"]["name"], "xlrs");
}

#[test]
fn a_server_restricted_to_1_0_3_serves_and_answers_only_1_0_3() {
    let s = Server::in_process_with(XLRS, &[("XLRS_XAPI_VERSIONS", "1.0.3")]);
    let about: Value = s
        .raw(Method::GET, "/xAPI/about")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(about["version"], serde_json::json!(["1.0.3"]));
    let r = s
        .xapi_version(Method::GET, "/statements", "2.0.0")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400, "a version not served is refused");
    let r = s.raw(Method::GET, "/xAPI/statements").send().unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.headers()["x-experience-api-version"],
        "1.0.3",
        "an error answers in the version served"
    );
    let r = s
        .xapi_version(Method::GET, "/statements", "1.0.3")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn an_unknown_served_version_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(XLRS)
        .arg("serve")
        .env("XLRS_DATA_DIR", dir.path())
        .env("XLRS_XAPI_VERSIONS", "2.0.0,0.95")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("xapi_versions"));
}

#[test]
fn health_answers_without_credentials_or_version() {
    let s = Server::in_process(XLRS);
    let r = s.raw(Method::GET, "/health").send().unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn metrics_count_requests_and_stored_statements() {
    let s = Server::in_process(XLRS);
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
