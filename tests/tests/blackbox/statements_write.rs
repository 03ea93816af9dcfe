//! Storing statements: POST, PUT, ids, conflicts, validation, voiding, attachments.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use xlrs_tests::{
    attachment_statement, multipart_body, openssl, statement, statement_with_id, Server,
};

use crate::XLRS;

#[test]
fn every_request_needs_a_supported_version_header() {
    let s = Server::in_process(XLRS);
    let missing = s
        .raw(Method::GET, "/xAPI/statements")
        .basic_auth("admin", Some(xlrs_tests::ADMIN_PASSWORD))
        .send()
        .unwrap();
    assert_eq!(missing.status(), 400);
    assert_eq!(missing.headers()["x-experience-api-version"], "2.0.0");
    let body: Value = missing.json().unwrap();
    assert_eq!(body["error"], "bad_request");
    let wrong = s
        .xapi_version(Method::GET, "/statements", "3.0.0")
        .send()
        .unwrap();
    assert_eq!(wrong.status(), 400);
}

#[test]
fn responses_carry_the_version_that_was_asked() {
    let s = Server::in_process(XLRS);
    let r = s
        .xapi_version(Method::GET, "/statements", "1.0.1")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-experience-api-version"], "1.0.3");
}

#[test]
fn post_returns_the_ids_in_order_and_sets_id_stored_authority_and_version() {
    let s = Server::in_process(XLRS);
    let given = uuid::Uuid::new_v4().to_string();
    let r = s.post(&json!([statement_with_id(&given), statement()]));
    assert_eq!(r.status(), 200);
    assert!(r
        .headers()
        .contains_key("x-experience-api-consistent-through"));
    let ids: Vec<String> = r.json().unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], given);
    let got: Value = s.get_statement(&ids[1]).json().unwrap();
    assert_eq!(got["id"], ids[1]);
    assert!(got["stored"].is_string());
    assert_eq!(got["version"], "2.0.0");
    assert_eq!(got["authority"]["account"]["name"], "admin");
    assert_eq!(
        got["timestamp"], got["stored"],
        "a missing timestamp is set to stored"
    );
}

#[test]
fn a_1_0_3_statement_without_version_is_stored_as_1_0_0() {
    let s = Server::in_process(XLRS);
    let ids: Vec<String> = s
        .xapi_version(Method::POST, "/statements", "1.0.3")
        .json(&statement())
        .send()
        .unwrap()
        .json()
        .unwrap();
    let got: Value = s.get_statement(&ids[0]).json().unwrap();
    assert_eq!(got["version"], "1.0.0");
}

#[test]
fn put_stores_under_the_given_id_with_204() {
    let s = Server::in_process(XLRS);
    let id = uuid::Uuid::new_v4().to_string();
    let r = s.put_statement(&id, &statement());
    assert_eq!(r.status(), 204);
    assert_eq!(s.get_statement(&id).status(), 200);
}

#[test]
fn put_without_statement_id_or_with_a_different_id_in_the_body_is_400() {
    let s = Server::in_process(XLRS);
    assert_eq!(
        s.xapi(Method::PUT, "/statements")
            .json(&statement())
            .send()
            .unwrap()
            .status(),
        400
    );
    let body = statement_with_id(&uuid::Uuid::new_v4().to_string());
    let other = uuid::Uuid::new_v4();
    let r = s.put_statement(&other.to_string(), &body);
    assert_eq!(r.status(), 400);
}

#[test]
fn an_identical_resend_is_accepted_and_a_different_one_conflicts() {
    let s = Server::in_process(XLRS);
    let id = uuid::Uuid::new_v4().to_string();
    let st = statement_with_id(&id);
    assert_eq!(s.post(&st).status(), 200);
    assert_eq!(s.post(&st).status(), 200, "identical re-send");
    let r = s.put_statement(&id, &st);
    assert_eq!(r.status(), 204, "identical PUT");
    let mut changed = st.clone();
    changed["verb"]["id"] = json!("http://adlnet.gov/expapi/verbs/failed");
    let r = s.post(&changed);
    assert_eq!(r.status(), 409);
    let body: Value = r.json().unwrap();
    assert_eq!(body["error"], "conflict");
    let page = s.query(&format!(
        "verb={}",
        xlrs_tests::enc("http://adlnet.gov/expapi/verbs/completed")
    ));
    assert_eq!(
        page["statements"].as_array().unwrap().len(),
        1,
        "no duplicate stored"
    );
}

#[test]
fn a_resend_that_differs_only_where_the_spec_allows_is_the_same_statement() {
    // Data 2.3.1, Statement Comparison Requirements: "Differences which could have been caused
    // by exceptions to Statement immutability MUST be ignored" — the verb's display, activity
    // definitions, the serialization of timestamps, the order of a Group's members. "Whether
    // it responds with 409 Conflict or 204 No Content, it MUST NOT modify the Statement."
    let s = Server::in_process(XLRS);
    let id = uuid::Uuid::new_v4().to_string();
    let st = json!({
        "id": id,
        "actor": {"objectType": "Group", "name": "team", "member": [
            {"mbox": "mailto:ada@example.org"}, {"mbox": "mailto:bob@example.org"}]},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
        "object": {"id": "http://example.org/course/1", "definition": {"name": {"en-US": "Course 1"}}},
        "timestamp": "2026-03-01T12:00:00.000Z"
    });
    assert_eq!(s.post(&st).status(), 200);
    let mut resend = st.clone();
    resend["actor"]["member"] = json!([
        {"mbox": "mailto:bob@example.org"}, {"mbox": "mailto:ada@example.org"}]);
    resend["verb"]["display"] = json!({"fr-FR": "a terminé"});
    resend["object"]["definition"] = json!({"name": {"en-US": "Course One, renamed"}});
    resend["timestamp"] = json!("2026-03-01T13:00:00+01:00");
    assert_eq!(s.post(&resend).status(), 200, "the same statement");
    let put = s.put_statement(&id, &resend);
    assert_eq!(put.status(), 204, "the same statement, by PUT");
    let stored: Value = s.get_statement(&id).json().unwrap();
    assert_eq!(
        stored["verb"]["display"], st["verb"]["display"],
        "not modified"
    );
    assert_eq!(
        stored["actor"]["member"], st["actor"]["member"],
        "not modified"
    );

    let mut different = st.clone();
    different["result"] = json!({"success": true});
    assert_eq!(s.post(&different).status(), 409, "another statement");
}

#[test]
fn a_timestamp_sent_with_an_offset_is_returned_as_the_same_instant_in_utc() {
    // xAPI Data 4.5 (2.0 suite 4.2.7, U-11): "The LRS SHOULD* return the Timestamp in UTC
    // timezone", without changing the point in time; the sub-statement's timestamp too. The
    // serialization of a timestamp is not part of the statement: re-sending it with the UTC
    // form is an identical re-send, not a conflict.
    let s = Server::in_process(XLRS);
    let id = uuid::Uuid::new_v4().to_string();
    let mut st = statement_with_id(&id);
    st["timestamp"] = json!("2023-05-04T12:00:00.120-05:00");
    st["object"] = json!({"objectType": "SubStatement",
        "actor": {"mbox": "mailto:sub@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
        "object": {"id": "http://example.org/activity/sub"},
        "timestamp": "2023-05-05T08:30:00+09:30"});
    assert_eq!(s.post(&st).status(), 200);
    let stored: Value = s.get_statement(&id).json().unwrap();
    assert_eq!(stored["timestamp"], "2023-05-04T17:00:00.120Z");
    assert_eq!(stored["object"]["timestamp"], "2023-05-04T23:00:00Z");

    let mut in_utc = st.clone();
    in_utc["timestamp"] = json!("2023-05-04T17:00:00.120Z");
    in_utc["object"]["timestamp"] = json!("2023-05-04T23:00:00Z");
    assert_eq!(s.post(&in_utc).status(), 200, "the same instants in UTC");
    let mut later = st.clone();
    later["timestamp"] = json!("2023-05-04T12:00:00.120-06:00");
    assert_eq!(s.post(&later).status(), 409, "another instant conflicts");
}

#[test]
fn an_invalid_statement_is_400_naming_field_and_index_and_nothing_of_the_batch_is_stored() {
    let s = Server::in_process(XLRS);
    let good = statement_with_id(&uuid::Uuid::new_v4().to_string());
    let mut broken = statement();
    broken["actor"] = json!({"mbox": "learner@example.org"});
    let r = s.post(&json!([good.clone(), broken]));
    assert_eq!(r.status(), 400);
    let body: Value = r.json().unwrap();
    assert_eq!(body["field"], "actor.mbox");
    assert_eq!(body["statement_index"], 1);
    assert!(body["message"].as_str().unwrap().contains("mailto"));
    assert_eq!(s.get_statement(good["id"].as_str().unwrap()).status(), 404);
}

#[test]
fn two_statements_with_the_same_id_in_one_batch_are_400() {
    let s = Server::in_process(XLRS);
    let id = uuid::Uuid::new_v4().to_string();
    let r = s.post(&json!([statement_with_id(&id), statement_with_id(&id)]));
    assert_eq!(r.status(), 400);
}

#[test]
fn a_body_that_is_not_json_is_400_with_a_json_error() {
    let s = Server::in_process(XLRS);
    let r = s
        .xapi(Method::POST, "/statements")
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().unwrap();
    assert!(body["message"].as_str().unwrap().contains("JSON"));
}

#[test]
fn errors_come_as_json_plain_text_or_html_as_the_accept_header_prefers() {
    // Communication 3.2: "The LRS SHOULD allow for plain text, HTML, and JSON responses for
    // errors (using content negotiation)." JSON stays the default.
    let s = Server::in_process(XLRS);
    for path in ["/statements?limit=nope", "/no-such-resource"] {
        for (accept, content_type) in [
            (None, "application/json"),
            (Some("*/*"), "application/json"),
            (Some("text/plain"), "text/plain"),
            (
                Some("text/html,application/xhtml+xml,*/*;q=0.8"),
                "text/html",
            ),
            (
                Some("text/html;q=0.5, application/json"),
                "application/json",
            ),
        ] {
            let mut request = s.xapi(Method::GET, path);
            if let Some(accept) = accept {
                request = request.header("Accept", accept);
            }
            let r = request.send().unwrap();
            assert!(r.status().is_client_error(), "{path} {accept:?}");
            let got = r.headers()["content-type"].to_str().unwrap().to_string();
            assert!(got.starts_with(content_type), "{path} {accept:?}: {got}");
            let body = r.text().unwrap();
            let message = match content_type {
                "application/json" => serde_json::from_str::<Value>(&body).unwrap()["message"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                _ => body,
            };
            let expected = if path.contains("limit") {
                "limit"
            } else {
                "no such resource"
            };
            assert!(message.contains(expected), "{path} {accept:?}: {message}");
        }
    }
}

#[test]
fn voiding_hides_the_target_from_queries_and_moves_it_to_voided_statement_id() {
    let s = Server::in_process(XLRS);
    let target: Vec<String> = s.post(&statement()).json().unwrap();
    let voiding = json!({
        "actor": {"mbox": "mailto:admin@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": target[0]}
    });
    let voiding_id: Vec<String> = s.post(&voiding).json().unwrap();
    assert_eq!(s.get_statement(&target[0]).status(), 404);
    let r = s
        .xapi(
            Method::GET,
            &format!("/statements?voidedStatementId={}", target[0]),
        )
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = s.query("limit=10");
    let ids: Vec<&str> = page["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![voiding_id[0].as_str()]);
    let r = s
        .xapi(
            Method::GET,
            &format!("/statements?voidedStatementId={}", voiding_id[0]),
        )
        .send()
        .unwrap();
    assert_eq!(
        r.status(),
        404,
        "a statement that is not voided is not found by voidedStatementId"
    );
}

#[test]
fn a_voiding_statement_cannot_be_voided() {
    let s = Server::in_process(XLRS);
    let target: Vec<String> = s.post(&statement()).json().unwrap();
    let void = |id: &str| {
        json!({"actor": {"mbox": "mailto:a@example.org"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                                 "object": {"objectType": "StatementRef", "id": id}})
    };
    let voiding: Vec<String> = s.post(&void(&target[0])).json().unwrap();
    assert_eq!(s.post(&void(&voiding[0])).status(), 400);
}

fn multipart(statement: &Value, parts: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    multipart_encoded(statement, parts, Some("binary"))
}

/// A multipart/mixed body whose first part is the statement as application/json and whose
/// attachment parts carry `Content-Transfer-Encoding: encoding` (no such header for `None`).
fn multipart_encoded(
    statement: &Value,
    parts: &[(&str, &[u8])],
    encoding: Option<&str>,
) -> (String, Vec<u8>) {
    multipart_body(
        "Content-Type: application/json\r\n",
        statement,
        parts,
        encoding,
    )
}

#[test]
fn attachments_are_stored_from_multipart_and_returned_with_attachments_true() {
    let s = Server::in_process(XLRS);
    let content = b"hello attachment\r\nwith two lines";
    let (st, sha2) = attachment_statement(content);
    let r = s.post_multipart(multipart(&st, &[(&sha2, content)]));
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    let ids: Value = s.query("limit=1")["statements"][0]["id"].clone();
    let r = s
        .xapi(
            Method::GET,
            &format!(
                "/statements?statementId={}&attachments=true",
                ids.as_str().unwrap()
            ),
        )
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("multipart/mixed"));
    let bytes = r.bytes().unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains(&sha2));
    assert!(text.contains("hello attachment\r\nwith two lines"));
}

/// Communication 1.5.2 (XAPI-00135): every part after the first MUST have a
/// Content-Transfer-Encoding header with the value `binary`.
#[test]
fn an_attachment_part_not_marked_content_transfer_encoding_binary_is_400() {
    let s = Server::in_process(XLRS);
    let content = b"plain text attachment";
    let (st, sha2) = attachment_statement(content);
    for encoding in [Some("base64"), None] {
        let r = s.post_multipart(multipart_encoded(&st, &[(&sha2, content)], encoding));
        assert_eq!(r.status(), 400, "{encoding:?}");
        let message = r.text().unwrap();
        assert!(message.contains("Content-Transfer-Encoding"), "{message}");
    }
    assert_eq!(s.query("")["statements"].as_array().unwrap().len(), 0);
}

/// Data 2.4.11 and Communication 2.1.3 (XAPI-00161, XAPI-00165): a statement GET without
/// `attachments=true` answers `application/json` with the statements only, never the
/// attachments' content, and every statement GET answer has a Content-Type.
#[test]
fn a_statement_get_without_attachments_true_is_json_without_the_attachment_content() {
    let s = Server::in_process(XLRS);
    let content = b"the attachment's own bytes";
    let (st, sha2) = attachment_statement(content);
    let r = s.post_multipart(multipart(&st, &[(&sha2, content)]));
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    let id: Vec<String> = r.json().unwrap();
    for query in [
        format!("statementId={}", id[0]),
        format!("statementId={}&attachments=false", id[0]),
        "limit=10".to_string(),
        "limit=10&attachments=false".to_string(),
    ] {
        let r = s
            .xapi(Method::GET, &format!("/statements?{query}"))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{query}");
        let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(
            content_type.starts_with("application/json"),
            "{query}: {content_type}"
        );
        let text = r.text().unwrap();
        assert!(
            !text.contains("the attachment's own bytes"),
            "{query}: {text}"
        );
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert!(
            answer.get("id").is_some() || answer.get("statements").is_some(),
            "{query}"
        );
    }
}

#[test]
fn an_attachment_whose_content_does_not_match_its_hash_is_400() {
    let s = Server::in_process(XLRS);
    let (st, sha2) = attachment_statement(b"declared");
    let r = s.post_multipart(multipart(&st, &[(&sha2, b"something else")]));
    assert_eq!(r.status(), 400);
}

#[test]
fn an_attachment_without_file_url_must_come_with_its_content() {
    let s = Server::in_process(XLRS);
    let (st, _) = attachment_statement(b"missing");
    assert_eq!(s.post(&st).status(), 400);
}

#[test]
fn the_1_0_3_alternate_request_syntax_works_and_2_0_refuses_it() {
    let s = Server::in_process(XLRS);
    let id = uuid::Uuid::new_v4().to_string();
    let form = |version: &str| {
        vec![
            ("statementId", id.clone()),
            (
                "Authorization",
                xlrs_tests::basic("admin", xlrs_tests::ADMIN_PASSWORD),
            ),
            ("X-Experience-API-Version", version.to_string()),
            ("Content-Type", "application/json".to_string()),
            ("content", statement().to_string()),
        ]
    };
    let r = s
        .raw(Method::POST, "/xAPI/statements?method=PUT")
        .form(&form("1.0.3"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(s.get_statement(&id).status(), 200);
    let r = s
        .raw(Method::POST, "/xAPI/statements?method=PUT")
        .form(&form("2.0.0"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
}

/// A compact JWS over `payload` with `alg` (the signature bytes are not checked without a
/// certificate, so they are arbitrary here).
fn jws(alg: &str, payload: &str) -> Vec<u8> {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(json!({ "alg": alg }).to_string()),
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(b"signature-bytes")
    )
    .into_bytes()
}

/// POSTs `signed` with `signature` attached as its signature (declared as `content_type`).
fn post_signed(s: &Server, signed: &Value, signature: &[u8], content_type: &str) -> u16 {
    let sha2 = hex::encode(Sha256::digest(signature));
    let mut st = signed.clone();
    st["attachments"] = json!([{"usageType": "http://adlnet.gov/expapi/attachments/signature",
                                "display": {"en-US": "signature"}, "contentType": content_type,
                                "length": signature.len(), "sha2": sha2}]);
    s.post_multipart(multipart(&st, &[(&sha2, signature)]))
        .status()
        .as_u16()
}

#[test]
fn a_signed_statement_is_a_jws_of_the_statement_with_rs256_rs384_or_rs512() {
    let s = Server::in_process(XLRS);
    let st = statement();
    let octets = "application/octet-stream";
    for alg in ["RS256", "RS384", "RS512"] {
        assert_eq!(
            post_signed(&s, &st, &jws(alg, &st.to_string()), octets),
            200,
            "{alg}"
        );
    }
    assert_eq!(
        post_signed(&s, &st, &jws("HS256", &st.to_string()), octets),
        400,
        "another algorithm is refused"
    );
    assert_eq!(
        post_signed(&s, &st, &jws("RS256", &st.to_string()), "text/plain"),
        400,
        "a signature attachment must be application/octet-stream"
    );
    let broken = st.to_string().replacen('"', "'", 1);
    assert_eq!(
        post_signed(&s, &st, &jws("RS256", &broken), octets),
        400,
        "the payload must be a JSON serialization of the statement"
    );
    let mut other = st.clone();
    other["verb"]["id"] = json!("http://example.org/verbs/other");
    assert_eq!(
        post_signed(&s, &st, &jws("RS256", &other.to_string()), octets),
        400,
        "the payload must be the statement that was signed"
    );
    assert_eq!(post_signed(&s, &st, b"not a jws", octets), 400);
}

#[test]
fn an_authority_group_must_be_an_anonymous_pair() {
    let s = Server::in_process(XLRS);
    let pair = json!([{"mbox": "mailto:app@example.org"}, {"mbox": "mailto:user@example.org"}]);
    let mut st = statement();
    st["authority"] = json!({"objectType": "Group", "member": pair});
    assert_eq!(s.post(&st).status(), 200);
    st["authority"]["mbox"] = json!("mailto:group@example.org");
    assert_eq!(s.post(&st).status(), 400, "an identified Group is refused");
}

#[test]
fn interaction_components_need_an_interaction_type() {
    let s = Server::in_process(XLRS);
    let mut st = statement();
    st["object"]["definition"] = json!({"correctResponsesPattern": ["true"]});
    assert_eq!(s.post(&st).status(), 400);
    st["object"]["definition"]["interactionType"] = json!("true-false");
    assert_eq!(s.post(&st).status(), 200);
}

/// An RS256 JWS over `payload` whose header carries `cert.der` as x5c, signed with `key`.
fn jws_with_certificate(dir: &std::path::Path, key: &str, payload: &str) -> Vec<u8> {
    use base64::engine::general_purpose::STANDARD;
    let der = std::fs::read(dir.join("cert.der")).unwrap();
    let header = json!({"alg": "RS256", "x5c": [STANDARD.encode(der)]}).to_string();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = openssl(
        dir,
        &["dgst", "-sha256", "-sign", key],
        Some(input.as_bytes()),
    );
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)).into_bytes()
}

#[test]
fn a_signature_with_a_certificate_must_verify_with_that_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.der",
            "-outform",
            "DER",
            "-days",
            "1",
            "-subj",
            "/CN=xlrs test signer",
        ],
        None,
    );
    openssl(d, &["genrsa", "-out", "other.pem", "2048"], None);
    let s = Server::in_process(XLRS);
    let st = statement();
    let octets = "application/octet-stream";
    let good = jws_with_certificate(d, "key.pem", &st.to_string());
    assert_eq!(post_signed(&s, &st, &good, octets), 200);
    let forged = jws_with_certificate(d, "other.pem", &st.to_string());
    assert_eq!(
        post_signed(&s, &st, &forged, octets),
        400,
        "a signature by another key than the certificate's is refused"
    );
}

#[test]
fn a_body_over_the_limit_is_413_with_a_json_error() {
    let s = Server::in_process_with(XLRS, &[("XLRS_MAX_BODY_BYTES", "2000")]);
    let batch: Vec<Value> = (0..20).map(|_| statement()).collect();
    let r = s
        .xapi(Method::POST, "/statements")
        .json(&batch)
        .send()
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(r.headers()["x-experience-api-version"], "2.0.0");
    let body: Value = r.json().unwrap();
    assert_eq!(body["error"], "payload_too_large");
    assert_eq!(
        s.query("limit=1")["statements"],
        json!([]),
        "nothing was stored"
    );
}

#[test]
fn a_put_or_post_without_content_type_application_json_or_multipart_mixed_is_refused() {
    let s = Server::in_process(XLRS);
    let body = statement().to_string();
    let id = uuid::Uuid::new_v4().to_string();
    for (method, path) in [
        (Method::POST, "/statements".to_string()),
        (Method::PUT, format!("/statements?statementId={id}")),
    ] {
        for content_type in [Some("text/plain"), Some("application/xml"), None] {
            let mut request = s.xapi(method.clone(), &path).body(body.clone());
            if let Some(ct) = content_type {
                request = request.header("Content-Type", ct);
            }
            let r = request.send().unwrap();
            assert_eq!(r.status(), 400, "{method} {content_type:?}");
            let reason: Value = r.json().unwrap();
            assert!(
                reason["message"]
                    .as_str()
                    .unwrap()
                    .contains("application/json"),
                "{reason}"
            );
        }
    }
    let with_charset = s
        .xapi(Method::POST, "/statements")
        .header("Content-Type", "application/json; charset=utf-8")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(with_charset.status(), 200, "parameters are allowed");
    assert_eq!(
        s.query("limit=10")["statements"].as_array().unwrap().len(),
        1
    );
}

#[test]
fn a_statement_with_a_property_given_twice_is_refused_and_not_stored() {
    let s = Server::in_process(XLRS);
    let u = xlrs_tests::unique();
    let twice = [
        format!(
            r#"{{"actor":{{"mbox":"mailto:a{u}@example.org"}},"actor":{{"mbox":"mailto:b{u}@example.org"}},"verb":{{"id":"http://example.org/v"}},"object":{{"id":"http://example.org/o"}}}}"#
        ),
        format!(
            r#"[{{"actor":{{"mbox":"mailto:a{u}@example.org","mbox":"mailto:b{u}@example.org"}},"verb":{{"id":"http://example.org/v"}},"object":{{"id":"http://example.org/o"}}}}]"#
        ),
    ];
    for body in twice {
        let r = s
            .xapi(Method::POST, "/statements")
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
        let reason: Value = r.json().unwrap();
        assert!(
            reason["message"]
                .as_str()
                .unwrap()
                .contains("appears twice"),
            "{reason}"
        );
    }
    assert!(s.query("limit=10")["statements"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn statements_the_spec_allows_are_accepted_and_agents_as_objects_need_their_object_type() {
    let s = Server::in_process(XLRS);
    // XAPI-00097: a client's "stored" is accepted, and replaced by the LRS's own.
    let mut with_stored = statement();
    with_stored["stored"] = json!("2001-01-01T00:00:00.000Z");
    let r = s.post(&with_stored);
    assert_eq!(r.status(), 200);
    let id = xlrs_tests::id_of(r);
    let stored: Value = s.get_statement(&id).json().unwrap();
    assert_ne!(stored["stored"], "2001-01-01T00:00:00.000Z");

    // XAPI-00119: empty extensions, and extension values null, "" and {}.
    let values = json!({
        "http://example.org/ext/null": null,
        "http://example.org/ext/empty": "",
        "http://example.org/ext/object": {}
    });
    for extensions in [json!({}), values] {
        let mut st = statement();
        st["object"]["definition"]["extensions"] = extensions.clone();
        st["result"] = json!({"extensions": extensions.clone()});
        st["context"] = json!({"extensions": extensions.clone()});
        assert_eq!(s.post(&st).status(), 200, "{extensions}");
    }

    // XAPI-00065: an Agent or Group as the object must say so with objectType.
    for object in [
        json!({"mbox": "mailto:someone@example.org"}),
        json!({"name": "team", "member": [{"mbox": "mailto:m@example.org"}]}),
    ] {
        let mut st = statement();
        st["object"] = object.clone();
        assert_eq!(s.post(&st).status(), 400, "{object}");
        st["object"]["objectType"] = json!(if object.get("member").is_some() {
            "Group"
        } else {
            "Agent"
        });
        assert_eq!(s.post(&st).status(), 200, "{st}");
    }
}
