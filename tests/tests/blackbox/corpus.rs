//! The bad-input corpus (`tests/corpus/requests.jsonl`, written by `generate.py` from the
//! specification's MUST rules): every malformed request gets a 4xx with a JSON reason — never
//! a 5xx, never a 2xx — and nothing of it is stored. It runs at 2.0.0 and at 1.0.3; a case
//! marked with "versions" runs only at those.

use reqwest::Method;
use serde_json::Value;
use xlrs_tests::Server;

use crate::XLRS;

const CORPUS: &str = include_str!("../../corpus/requests.jsonl");

/// The body of a case: its text, or that text repeated as a JSON array.
fn body(case: &Value) -> Option<String> {
    let text = case["body"].as_str()?;
    Some(match case["repeat"].as_u64() {
        Some(n) => format!("[{}]", vec![text; n as usize].join(",")),
        None => text.to_string(),
    })
}

/// The error codes an LRS MUST choose from (Communication 3.2, XAPI-00323), and HTTP's 405 for a
/// method a resource does not have, which that list has no code for; a refusal is one of
/// their 4xx.
const XAPI_ERROR_CODES: [u16; 10] = [400, 401, 403, 404, 405, 409, 412, 413, 429, 500];

/// True if the case applies at `version` (cases without "versions" apply at every version).
fn applies_at(case: &Value, version: &str) -> bool {
    case["versions"]
        .as_array()
        .is_none_or(|versions| versions.iter().any(|v| v == version))
}

/// Sends the case with `version` as X-Experience-API-Version unless the case sets the header.
fn send(s: &Server, case: &Value, version: &str) -> (u16, String) {
    let method = Method::from_bytes(case["method"].as_str().unwrap().as_bytes()).unwrap();
    let headers = case["headers"].as_object().unwrap();
    let mut request = s.raw(method, case["path"].as_str().unwrap());
    match headers.get("auth").and_then(Value::as_str) {
        Some("none") => {}
        Some("wrong") => request = request.basic_auth("admin", Some("not-the-password")),
        _ => request = request.basic_auth("admin", Some(xlrs_tests::ADMIN_PASSWORD)),
    }
    match headers.get("X-Experience-API-Version") {
        Some(Value::Null) => {}
        Some(v) => request = request.header("X-Experience-API-Version", v.as_str().unwrap()),
        None => request = request.header("X-Experience-API-Version", version),
    }
    for (name, value) in headers {
        if name != "auth" && name != "X-Experience-API-Version" {
            request = request.header(name.as_str(), value.as_str().unwrap());
        }
    }
    if let Some(body) = body(case) {
        request = request.body(body);
    }
    match request.send() {
        Ok(r) => (r.status().as_u16(), r.text().unwrap_or_default()),
        Err(e) => (0, e.to_string()),
    }
}

#[test]
fn every_malformed_request_of_the_corpus_gets_a_4xx_with_a_json_reason_and_stores_nothing() {
    let s = Server::in_process_with(XLRS, &[("XLRS_MAX_BODY_BYTES", "1048576")]);
    every_case_is_refused_and_nothing_stored(&s, "2.0.0");
}

#[test]
fn every_malformed_request_of_the_corpus_is_refused_at_1_0_3_too() {
    let s = Server::in_process_with(
        XLRS,
        &[
            ("XLRS_MAX_BODY_BYTES", "1048576"),
            ("XLRS_XAPI_VERSIONS", "1.0.3,2.0.0"),
        ],
    );
    every_case_is_refused_and_nothing_stored(&s, "1.0.3");
}

/// Sends every case that applies at `version`; each must get its 4xx with a JSON reason, and
/// neither a statement nor a document may be stored.
fn every_case_is_refused_and_nothing_stored(s: &Server, version: &str) {
    let cases: Vec<Value> = CORPUS
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("corpus line is JSON"))
        .filter(|case| applies_at(case, version))
        .collect();
    assert!(
        cases.len() >= 300,
        "the corpus has {} requests at {version}",
        cases.len()
    );
    let mut wrong = Vec::new();
    for case in &cases {
        let (status, text) = send(s, case, version);
        let expected_ok = match &case["expect"] {
            Value::Number(n) => n.as_u64() == Some(status as u64),
            _ => (400..500).contains(&status),
        } && XAPI_ERROR_CODES.contains(&status);
        let json_reason = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["message"].as_str().map(|m| !m.is_empty()))
            .unwrap_or(false);
        if !expected_ok || !json_reason {
            wrong.push(format!(
                "{} {} — {}: got {status} {}",
                case["method"].as_str().unwrap(),
                case["path"].as_str().unwrap(),
                case["rule"].as_str().unwrap(),
                text.chars().take(160).collect::<String>()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} corpus requests at {version} were not answered as the spec demands:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
    let stored = s
        .xapi_version(Method::GET, "/statements?limit=10", version)
        .send()
        .unwrap();
    assert_eq!(stored.status(), 200, "GET /statements at {version}");
    assert_eq!(
        stored.json::<Value>().unwrap()["statements"],
        serde_json::json!([]),
        "nothing was stored"
    );
    let state = s
        .xapi_version(
            Method::GET,
            "/activities/state?activityId=http%3A%2F%2Fexample.org%2Fcorpus%2Factivity&agent=%7B%22mbox%22%3A%22mailto%3Acorpus%40example.org%22%7D",
            version,
        )
        .send()
        .unwrap();
    assert_eq!(
        state.json::<Value>().unwrap(),
        serde_json::json!([]),
        "no document was stored"
    );
}
