//! State, Activity Profile and Agent Profile documents; Agents and Activities.

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_tests::{enc, statement, Server};

use crate::XLRS;

fn state_query(state_id: Option<&str>) -> String {
    let mut q = format!(
        "/activities/state?activityId={}&agent={}",
        enc("http://example.org/activity/1"),
        enc(r#"{"mbox":"mailto:ada@example.org"}"#)
    );
    if let Some(id) = state_id {
        q.push_str(&format!("&stateId={id}"));
    }
    q
}

#[test]
fn state_put_get_post_merge_list_and_delete() {
    let s = Server::in_process(XLRS);
    let put = s
        .xapi(Method::PUT, &state_query(Some("bookmark")))
        .json(&json!({"page": 3}))
        .send()
        .unwrap();
    assert_eq!(put.status(), 204);
    let post = s
        .xapi(Method::POST, &state_query(Some("bookmark")))
        .json(&json!({"seen": true}))
        .send()
        .unwrap();
    assert_eq!(post.status(), 204);
    let got = s
        .xapi(Method::GET, &state_query(Some("bookmark")))
        .send()
        .unwrap();
    assert_eq!(got.status(), 200);
    assert!(got.headers().contains_key("etag"));
    assert!(got.headers().contains_key("last-modified"));
    let body: Value = got.json().unwrap();
    assert_eq!(
        body,
        json!({"page": 3, "seen": true}),
        "POST merges JSON objects"
    );
    let list: Value = s
        .xapi(Method::GET, &state_query(None))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(list, json!(["bookmark"]));
    assert_eq!(
        s.xapi(Method::DELETE, &state_query(None))
            .send()
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        s.xapi(Method::GET, &state_query(Some("bookmark")))
            .send()
            .unwrap()
            .status(),
        404
    );
}

#[test]
fn state_requires_activity_and_agent() {
    let s = Server::in_process(XLRS);
    let r = s
        .xapi(Method::GET, "/activities/state?stateId=x")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[test]
fn a_profile_put_over_an_existing_document_needs_a_precondition() {
    let s = Server::in_process(XLRS);
    let path = format!(
        "/activities/profile?activityId={}&profileId=p1",
        enc("http://example.org/activity/1")
    );
    let put = |body: &str, header: Option<(&str, String)>| {
        let mut r = s
            .xapi(Method::PUT, &path)
            .header("Content-Type", "text/plain")
            .body(body.to_string());
        if let Some((k, v)) = header {
            r = r.header(k, v);
        }
        r.send().unwrap().status().as_u16()
    };
    assert_eq!(put("v1", None), 204);
    assert_eq!(
        put("v2", None),
        409,
        "no If-Match/If-None-Match over an existing document"
    );
    assert_eq!(put("v2", Some(("If-None-Match", "*".into()))), 412);
    assert_eq!(
        put("v2", Some(("If-Match", "\"not-the-etag\"".into()))),
        412
    );
    let etag = s.xapi(Method::GET, &path).send().unwrap().headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(put("v2", Some(("If-Match", etag))), 204);
    let got = s.xapi(Method::GET, &path).send().unwrap();
    assert_eq!(got.headers()["content-type"], "text/plain");
    assert_eq!(got.text().unwrap(), "v2");
}

#[test]
fn in_2_0_a_state_put_over_an_existing_document_needs_a_precondition_but_not_in_1_0_3() {
    let s = Server::in_process(XLRS);
    let path = state_query(Some("concurrency"));
    let put = |version: &str, body: Value| {
        s.xapi_version(Method::PUT, &path, version)
            .json(&body)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(put("2.0.0", json!({"v": 1})), 204);
    assert_eq!(put("2.0.0", json!({"v": 2})), 409);
    let got: Value = s.xapi(Method::GET, &path).send().unwrap().json().unwrap();
    assert_eq!(
        got,
        json!({"v": 1}),
        "a refused PUT leaves the document as it was"
    );
    assert_eq!(
        put("1.0.3", json!({"v": 3})),
        204,
        "1.0.3 State PUT overwrites"
    );
    let got: Value = s.xapi(Method::GET, &path).send().unwrap().json().unwrap();
    assert_eq!(got, json!({"v": 3}));
}

#[test]
fn in_1_0_3_a_profile_put_without_a_precondition_is_400_for_a_new_document() {
    let s = Server::in_process(XLRS);
    let path = format!(
        "/agents/profile?agent={}&profileId=p",
        enc(r#"{"mbox":"mailto:ada@example.org"}"#)
    );
    let put = |header: Option<(&str, &str)>| {
        let mut r = s
            .xapi_version(Method::PUT, &path, "1.0.3")
            .json(&json!({"a": 1}));
        if let Some((k, v)) = header {
            r = r.header(k, v);
        }
        r.send().unwrap().status().as_u16()
    };
    assert_eq!(put(None), 400);
    assert_eq!(put(Some(("If-None-Match", "*"))), 204);
    assert_eq!(put(None), 409, "over an existing document it is a conflict");
}

#[test]
fn post_cannot_merge_into_a_document_that_is_not_json() {
    let s = Server::in_process(XLRS);
    let path = format!(
        "/agents/profile?agent={}&profileId=p",
        enc(r#"{"mbox":"mailto:ada@example.org"}"#)
    );
    let r = s
        .xapi(Method::PUT, &path)
        .header("Content-Type", "text/plain")
        .body("plain")
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = s
        .xapi(Method::POST, &path)
        .json(&json!({"a": 1}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[test]
fn agents_returns_a_person_and_activities_the_definition() {
    let s = Server::in_process(XLRS);
    let st = statement();
    assert_eq!(s.post(&st).status(), 200);
    let person: Value = s
        .xapi(
            Method::GET,
            &format!("/agents?agent={}", enc(&st["actor"].to_string())),
        )
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(person["objectType"], "Person");
    assert_eq!(person["mbox"], json!([st["actor"]["mbox"]]));
    let activity: Value = s
        .xapi(
            Method::GET,
            &format!(
                "/activities?activityId={}",
                enc(st["object"]["id"].as_str().unwrap())
            ),
        )
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(activity["definition"]["name"]["en-US"], "Algebra");
}

#[test]
fn an_activity_holds_every_language_any_statement_gave_it() {
    let s = Server::in_process(XLRS);
    let activity = format!("http://example.org/meeting/{}", uuid::Uuid::new_v4());
    for name in [
        json!({"en-US": "example meeting"}),
        json!({"fr-FR": "réunion"}),
    ] {
        let mut st = statement();
        st["object"] = json!({"id": activity, "definition": {"name": name}});
        assert_eq!(s.post(&st).status(), 200);
    }
    let got: Value = s
        .xapi(
            Method::GET,
            &format!("/activities?activityId={}", enc(&activity)),
        )
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        got["definition"]["name"],
        json!({"en-US": "example meeting", "fr-FR": "réunion"})
    );
}
