//! Rules of the document resources and headers the conformance suite checks that the other
//! modules did not cover over HTTP (docs/conformance-map.md, "Gaps").

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_tests::Response;
use xlrs_tests::{enc, statement, unique, Server};

use crate::XLRS;

fn activity() -> String {
    enc(&format!("http://example.org/activity/{}", unique()))
}

fn agent() -> String {
    enc(&json!({"mbox": format!("mailto:{}@example.org", unique())}).to_string())
}

fn send(s: &Server, method: Method, path: &str, body: Option<Value>) -> Response {
    let request = s.xapi(method, path);
    match body {
        Some(b) => request.json(&b),
        None => request,
    }
    .send()
    .expect("request")
}

fn json_of(r: Response) -> Value {
    assert_eq!(r.status(), 200, "a document GET succeeds");
    r.json().expect("JSON")
}

#[test]
fn head_is_answered_like_get_without_a_body() {
    // XAPI-00125/00126: the LRS accepts HEAD wherever it accepts GET, and sends no body.
    let s = Server::in_process(XLRS);
    let ids: Vec<String> = s.post(&statement()).json().unwrap();
    let head = send(
        &s,
        Method::HEAD,
        &format!("/statements?statementId={}", ids[0]),
        None,
    );
    assert_eq!(head.status(), 200);
    assert!(head
        .headers()
        .contains_key("x-experience-api-consistent-through"));
    assert!(
        head.bytes().unwrap().is_empty(),
        "a HEAD answer has no body"
    );

    let state = format!(
        "/activities/state?activityId={}&agent={}&stateId=s",
        activity(),
        agent()
    );
    assert_eq!(
        send(&s, Method::PUT, &state, Some(json!({"a": 1}))).status(),
        204
    );
    let head = send(&s, Method::HEAD, &state, None);
    assert_eq!(head.status(), 200);
    assert!(head.headers().contains_key("etag"));
    assert!(head.bytes().unwrap().is_empty());
}

#[test]
fn post_creates_a_document_that_does_not_exist_yet_for_every_document_resource() {
    // XAPI-00233, 00280, 00310: a POST to a new document id stores it as sent.
    let s = Server::in_process(XLRS);
    for path in [
        format!(
            "/activities/state?activityId={}&agent={}&stateId=new",
            activity(),
            agent()
        ),
        format!(
            "/activities/profile?activityId={}&profileId=new",
            activity()
        ),
        format!("/agents/profile?agent={}&profileId=new", agent()),
    ] {
        let created = send(&s, Method::POST, &path, Some(json!({"first": true})));
        assert_eq!(created.status(), 204, "{path}");
        assert_eq!(
            json_of(send(&s, Method::GET, &path, None)),
            json!({"first": true})
        );
    }
}

#[test]
fn activity_profiles_merge_on_post_list_and_delete() {
    // XAPI-00285, 00286, 00291, 00292, 00312.
    let s = Server::in_process(XLRS);
    let activity = activity();
    let doc = format!("/activities/profile?activityId={activity}&profileId=p1");
    assert_eq!(
        send(&s, Method::POST, &doc, Some(json!({"a": 1}))).status(),
        204
    );
    assert_eq!(
        send(&s, Method::POST, &doc, Some(json!({"b": 2}))).status(),
        204
    );
    assert_eq!(
        json_of(send(&s, Method::GET, &doc, None)),
        json!({"a": 1, "b": 2}),
        "POST merges the JSON objects"
    );
    let list = format!("/activities/profile?activityId={activity}");
    assert_eq!(json_of(send(&s, Method::GET, &list, None)), json!(["p1"]));
    assert_eq!(
        json_of(send(
            &s,
            Method::GET,
            &format!("{list}&since={}", enc("2999-01-01T00:00:00Z")),
            None
        )),
        json!([]),
        "since leaves out documents not updated after it"
    );
    assert_eq!(send(&s, Method::DELETE, &doc, None).status(), 204);
    assert_eq!(send(&s, Method::GET, &doc, None).status(), 404);
    assert_eq!(json_of(send(&s, Method::GET, &list, None)), json!([]));
}

#[test]
fn agent_profiles_are_read_listed_and_deleted() {
    // XAPI-00259, 00269, 00271, 00274, 00275.
    let s = Server::in_process(XLRS);
    let agent = agent();
    let doc = format!("/agents/profile?agent={agent}&profileId=prefs");
    let put = s
        .xapi(Method::PUT, &doc)
        .header("If-None-Match", "*")
        .header("Content-Type", "text/plain")
        .body("dark mode")
        .send()
        .unwrap();
    assert_eq!(put.status(), 204);
    let got = send(&s, Method::GET, &doc, None);
    assert_eq!(got.status(), 200);
    assert_eq!(
        got.headers()["content-type"].to_str().unwrap(),
        "text/plain",
        "a document comes back with the type it was sent with"
    );
    assert_eq!(got.text().unwrap(), "dark mode");
    let list = format!("/agents/profile?agent={agent}");
    assert_eq!(
        json_of(send(&s, Method::GET, &list, None)),
        json!(["prefs"])
    );
    assert_eq!(
        json_of(send(
            &s,
            Method::GET,
            &format!("{list}&since={}", enc("2000-01-01T00:00:00Z")),
            None
        )),
        json!(["prefs"]),
        "since before the update lists it"
    );
    assert_eq!(send(&s, Method::DELETE, &doc, None).status(), 204);
    assert_eq!(send(&s, Method::GET, &doc, None).status(), 404);
}

#[test]
fn state_documents_are_scoped_by_registration() {
    // XAPI-00218-00220: registration selects the documents of GET, list and DELETE.
    let s = Server::in_process(XLRS);
    let base = format!(
        "/activities/state?activityId={}&agent={}",
        activity(),
        agent()
    );
    let (r1, r2) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    for (registration, id) in [(r1, "one"), (r2, "two")] {
        let put = send(
            &s,
            Method::PUT,
            &format!("{base}&registration={registration}&stateId={id}"),
            Some(json!({"id": id})),
        );
        assert_eq!(put.status(), 204);
    }
    assert_eq!(
        json_of(send(
            &s,
            Method::GET,
            &format!("{base}&registration={r1}"),
            None
        )),
        json!(["one"])
    );
    assert_eq!(
        send(
            &s,
            Method::GET,
            &format!("{base}&registration={r2}&stateId=one"),
            None
        )
        .status(),
        404,
        "a document of another registration is not found"
    );
    assert_eq!(
        send(
            &s,
            Method::DELETE,
            &format!("{base}&registration={r1}"),
            None
        )
        .status(),
        204
    );
    assert_eq!(
        json_of(send(
            &s,
            Method::GET,
            &format!("{base}&registration={r2}"),
            None
        )),
        json!(["two"]),
        "deleting one registration's documents keeps the others"
    );
    // XAPI-00195, 00221: `since` keeps only the documents updated after it.
    for (since, expected) in [
        ("2000-01-01T00:00:00Z", json!(["two"])),
        ("2999-01-01T00:00:00Z", json!([])),
    ] {
        let listed = send(
            &s,
            Method::GET,
            &format!("{base}&registration={r2}&since={}", enc(since)),
            None,
        );
        assert_eq!(json_of(listed), expected, "since={since}");
    }
}

#[test]
fn every_statements_get_answer_carries_consistent_through_as_an_iso_8601_instant() {
    // XAPI-00153, 00160: on every GET of statements, found, not found or refused.
    let s = Server::in_process(XLRS);
    let missing = uuid::Uuid::new_v4();
    for (path, status) in [
        ("/statements".to_string(), 200),
        (format!("/statements?statementId={missing}"), 404),
        ("/statements?limit=nope".to_string(), 400),
    ] {
        let r = send(&s, Method::GET, &path, None);
        assert_eq!(r.status(), status, "{path}");
        let header = r
            .headers()
            .get("x-experience-api-consistent-through")
            .unwrap_or_else(|| panic!("{path} has no Consistent-Through"))
            .to_str()
            .unwrap()
            .to_string();
        let (date, time) = header.split_once('T').expect("date T time");
        assert!(
            date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-',
            "{header}"
        );
        assert!(
            time.ends_with('Z') || time.contains('+'),
            "an instant with its offset: {header}"
        );
    }
}

#[test]
fn a_post_or_delete_with_a_stale_if_match_is_refused_with_412_and_changes_nothing() {
    // xAPI 2.0 (U-03, U-04): If-Match applies to POST and DELETE of every document resource
    // as it does to PUT.
    let s = Server::in_process(XLRS);
    let documents = [
        format!(
            "/activities/state?activityId={}&agent={}&stateId=s",
            activity(),
            agent()
        ),
        format!("/activities/profile?activityId={}&profileId=p", activity()),
        format!("/agents/profile?agent={}&profileId=p", agent()),
    ];
    for path in documents {
        let put = s
            .xapi(Method::PUT, &path)
            .header("If-None-Match", "*")
            .json(&json!({"a": 1}))
            .send()
            .expect("PUT");
        assert_eq!(put.status(), 204, "{path}");
        let etag = send(&s, Method::GET, &path, None).headers()["etag"]
            .to_str()
            .expect("ETag")
            .to_string();
        let stale = "\"0000000000000000000000000000000000000000\"";

        let post = |if_match: &str, body: Value| {
            s.xapi(Method::POST, &path)
                .header("If-Match", if_match)
                .json(&body)
                .send()
                .expect("POST")
        };
        assert_eq!(post(stale, json!({"b": 2})).status(), 412, "{path}");
        assert_eq!(json_of(send(&s, Method::GET, &path, None)), json!({"a": 1}));
        assert_eq!(post(&etag, json!({"b": 2})).status(), 204, "{path}");
        let merged = send(&s, Method::GET, &path, None);
        let etag = merged.headers()["etag"].to_str().expect("ETag").to_string();
        assert_eq!(json_of(merged), json!({"a": 1, "b": 2}));

        let delete = |if_match: &str| {
            s.xapi(Method::DELETE, &path)
                .header("If-Match", if_match)
                .send()
                .expect("DELETE")
        };
        assert_eq!(delete(stale).status(), 412, "{path}");
        assert_eq!(send(&s, Method::GET, &path, None).status(), 200, "kept");
        assert_eq!(delete(&etag).status(), 204, "{path}");
        assert_eq!(send(&s, Method::GET, &path, None).status(), 404, "deleted");
    }
}
