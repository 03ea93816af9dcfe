//! Reading statements: single GETs, filters, formats, paging and headers.

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_tests::{enc, statement, statement_with_id, voiding, Server};

use crate::XLRS;

fn ids(page: &Value) -> Vec<String> {
    page["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

fn post_ids(s: &Server, body: &Value) -> Vec<String> {
    let r = s.post(body);
    assert_eq!(r.status(), 200);
    r.json().unwrap()
}

#[test]
fn a_single_statement_has_last_modified_and_consistent_through() {
    let s = Server::in_process(XLRS);
    let id = post_ids(&s, &statement()).remove(0);
    let r = s.get_statement(&id);
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("last-modified"));
    assert!(r
        .headers()
        .contains_key("x-experience-api-consistent-through"));
    assert_eq!(
        s.get_statement(&uuid::Uuid::new_v4().to_string()).status(),
        404
    );
}

#[test]
fn a_query_has_last_modified_of_its_newest_statement() {
    let s = Server::in_process(XLRS);
    let id = post_ids(&s, &statement()).remove(0);
    let single = s.get_statement(&id).headers()["last-modified"].clone();
    let r = s.xapi(Method::GET, "/statements").send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["last-modified"], single);
}

#[test]
fn statement_id_with_a_filter_or_an_unknown_parameter_is_400() {
    let s = Server::in_process(XLRS);
    let id = uuid::Uuid::new_v4();
    let r = s
        .xapi(
            Method::GET,
            &format!(
                "/statements?statementId={id}&verb={}",
                enc("http://v.example/x")
            ),
        )
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = s
        .xapi(Method::GET, "/statements?colour=red")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().unwrap();
    assert_eq!(body["field"], "colour");
}

#[test]
fn queries_filter_by_agent_verb_activity_and_registration() {
    let s = Server::in_process(XLRS);
    let registration = uuid::Uuid::new_v4().to_string();
    let mut a = statement();
    a["context"] = json!({"registration": registration, "instructor": {"mbox": "mailto:teacher@example.org"},
                          "contextActivities": {"parent": [{"id": "http://example.org/course/1"}]}});
    let b = statement();
    let a_id = post_ids(&s, &a).remove(0);
    let b_id = post_ids(&s, &b).remove(0);
    assert_eq!(
        ids(&s.query(&format!("agent={}", enc(&a["actor"].to_string())))),
        vec![a_id.clone()]
    );
    assert_eq!(
        ids(&s.query(&format!(
            "activity={}",
            enc(b["object"]["id"].as_str().unwrap())
        ))),
        vec![b_id.clone()]
    );
    assert_eq!(
        ids(&s.query(&format!("registration={registration}"))),
        vec![a_id.clone()]
    );
    assert_eq!(
        ids(&s.query(&format!(
            "verb={}",
            enc("http://adlnet.gov/expapi/verbs/completed")
        ))),
        vec![b_id, a_id.clone()]
    );
    let teacher = enc(r#"{"mbox":"mailto:teacher@example.org"}"#);
    assert!(
        ids(&s.query(&format!("agent={teacher}"))).is_empty(),
        "an instructor is not the actor"
    );
    assert_eq!(
        ids(&s.query(&format!("agent={teacher}&related_agents=true"))),
        vec![a_id.clone()]
    );
    let course = enc("http://example.org/course/1");
    assert!(ids(&s.query(&format!("activity={course}"))).is_empty());
    assert_eq!(
        ids(&s.query(&format!("activity={course}&related_activities=true"))),
        vec![a_id]
    );
}

/// The page a query page's `more` link leads to; `None` at the end.
fn next_page(s: &Server, page: &Value) -> Option<Value> {
    let more = page["more"].as_str().expect("a StatementResult has `more`");
    if more.is_empty() {
        return None;
    }
    let r = s
        .raw(Method::GET, more)
        .basic_auth("admin", Some(xlrs_tests::ADMIN_PASSWORD))
        .header("X-Experience-API-Version", "2.0.0")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    Some(r.json().unwrap())
}

/// Follows a query's `more` links to the end; every statement id, in order.
fn all_pages(s: &Server, query: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut page = Some(s.query(query));
    while let Some(current) = page {
        seen.extend(ids(&current));
        page = next_page(s, &current);
    }
    seen
}

#[test]
fn an_agent_filter_finds_older_matches_behind_many_newer_statements_that_do_not_match() {
    // Database stores read an agent's newest positions first and filter them; a match older
    // than many non-matching (or voided) statements of the same agent must still be found.
    let s = Server::in_process(XLRS);
    let mut rare = statement();
    rare["verb"] = json!({"id": "http://example.org/verbs/rare"});
    let actor = rare["actor"].clone();
    let rare_id = post_ids(&s, &rare).remove(0);
    let batch: Vec<Value> = (0..12)
        .map(|_| {
            let mut st = statement();
            st["actor"] = actor.clone();
            st
        })
        .collect();
    let common = post_ids(&s, &Value::Array(batch));
    let voiders: Vec<String> = common[9..]
        .iter()
        .map(|target| post_ids(&s, &voiding(target)).remove(0))
        .collect();
    let agent = enc(&actor.to_string());
    let verb = enc("http://example.org/verbs/rare");
    assert_eq!(
        ids(&s.query(&format!("agent={agent}&verb={verb}&limit=2"))),
        vec![rare_id.clone()]
    );
    // The voided three are left out; the statements voiding them refer to a match, so they
    // match too (xAPI "Filter Conditions for StatementRefs").
    let mut expected: Vec<String> = voiders.iter().rev().cloned().collect();
    expected.extend(common[..9].iter().rev().cloned());
    expected.push(rare_id);
    assert_eq!(all_pages(&s, &format!("agent={agent}&limit=2")), expected);
    expected.reverse();
    assert_eq!(
        all_pages(&s, &format!("agent={agent}&limit=3&ascending=true")),
        expected
    );
}

#[test]
fn a_statement_referring_to_a_match_matches_too() {
    let s = Server::in_process(XLRS);
    let target = statement();
    let target_id = post_ids(&s, &target).remove(0);
    let comment = json!({"actor": {"mbox": "mailto:other@example.org"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/commented"},
                         "object": {"objectType": "StatementRef", "id": target_id}});
    let comment_id = post_ids(&s, &comment).remove(0);
    let page = s.query(&format!(
        "activity={}",
        enc(target["object"]["id"].as_str().unwrap())
    ));
    assert_eq!(ids(&page), vec![comment_id, target_id]);
}

#[test]
fn since_and_until_select_by_stored_time() {
    let s = Server::in_process(XLRS);
    let first = post_ids(&s, &statement()).remove(0);
    let stored: Value = s.get_statement(&first).json().unwrap();
    let t = stored["stored"].as_str().unwrap().to_string();
    let second = post_ids(&s, &statement()).remove(0);
    assert_eq!(ids(&s.query(&format!("since={}", enc(&t)))), vec![second]);
    assert_eq!(ids(&s.query(&format!("until={}", enc(&t)))), vec![first]);
    assert_eq!(
        s.xapi(Method::GET, "/statements?since=yesterday")
            .send()
            .unwrap()
            .status(),
        400
    );
}

#[test]
fn pages_follow_more_links_without_gaps_or_repeats_while_others_post() {
    let s = Server::in_process(XLRS);
    let posted: Vec<String> = (0..7)
        .map(|_| post_ids(&s, &statement()).remove(0))
        .collect();
    let mut seen = Vec::new();
    let mut page = Some(s.query("limit=3"));
    while let Some(current) = page {
        seen.extend(ids(&current));
        post_ids(&s, &statement());
        page = next_page(&s, &current);
    }
    let mut expected = posted;
    expected.reverse();
    assert_eq!(seen, expected);
}

#[test]
fn ascending_returns_oldest_first() {
    let s = Server::in_process(XLRS);
    let a = post_ids(&s, &statement()).remove(0);
    let b = post_ids(&s, &statement()).remove(0);
    assert_eq!(ids(&s.query("ascending=true")), vec![a, b]);
}

#[test]
fn format_ids_reduces_to_identifiers_and_canonical_to_one_language() {
    let s = Server::in_process(XLRS);
    let id = post_ids(&s, &statement()).remove(0);
    let page = s.query("format=ids");
    let st = &page["statements"][0];
    assert_eq!(st["id"], id);
    assert!(st["actor"].get("name").is_none());
    assert_eq!(
        st["verb"],
        json!({"id": "http://adlnet.gov/expapi/verbs/completed"})
    );
    assert_eq!(
        st["object"],
        json!({"id": st["object"]["id"]}),
        "an Activity in the ids format is its id alone"
    );
    let r = s
        .xapi(Method::GET, "/statements?format=canonical")
        .header("Accept-Language", "fr-FR")
        .send()
        .unwrap();
    let page: Value = r.json().unwrap();
    assert_eq!(
        page["statements"][0]["verb"]["display"],
        json!({"fr-FR": "a terminé"})
    );
    assert_eq!(
        page["statements"][0]["object"]["definition"]["name"],
        json!({"fr-FR": "Algèbre"})
    );
}

#[test]
fn a_context_activity_sent_as_one_object_is_returned_in_an_array() {
    let s = Server::in_process(XLRS);
    let id = uuid::Uuid::new_v4().to_string();
    let mut st = statement_with_id(&id);
    st["context"] = json!({"contextActivities": {"parent": {"id": "http://example.org/course"}}});
    post_ids(&s, &st);
    let got: Value = s.get_statement(&id).json().unwrap();
    assert_eq!(
        got["context"]["contextActivities"]["parent"],
        json!([{"id": "http://example.org/course"}])
    );
    assert_eq!(
        s.post(&st).status(),
        200,
        "re-sending the single-object form is the same statement, not a conflict"
    );
}

#[test]
fn an_empty_result_is_200_with_an_empty_list() {
    let s = Server::in_process(XLRS);
    let page = s.query(&format!("verb={}", enc("http://example.org/never")));
    assert_eq!(page, json!({"statements": [], "more": ""}));
}

#[test]
fn statements_survive_a_restart() {
    let s = Server::in_process(XLRS);
    let id = post_ids(&s, &statement()).remove(0);
    let dir = s.stop();
    let s = Server::in_process_in(XLRS, dir, &[]);
    assert_eq!(s.get_statement(&id).status(), 200);
}

#[test]
fn a_statement_comes_back_as_it_was_sent_with_only_the_lrs_fields_added() {
    // XAPI-00002 (score precision), 00122 (millisecond timestamps), 00170 (format=exact),
    // 00330 (no conversion on read), 00332 (the version it was accepted with).
    let s = Server::in_process(XLRS);
    for (header, version) in [("2.0.0", "2.0.0"), ("1.0.3", "1.0.1")] {
        let mut sent = statement();
        sent["version"] = json!(version);
        sent["timestamp"] = json!("2026-03-04T10:00:00.123Z");
        sent["result"] = json!({
            "score": {"scaled": 0.1234567, "raw": 1.234567, "min": 0.1234567, "max": 12345.67},
            "success": true,
            "duration": "PT1.23S"
        });
        sent["context"] = json!({
            "registration": uuid::Uuid::new_v4().to_string(),
            "language": "fr-FR",
            "contextActivities": {"parent": [{"id": "http://example.org/course"}]}
        });
        let r = s
            .xapi_version(Method::POST, "/statements", header)
            .json(&sent)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{header}");
        let id = xlrs_tests::id_of(r);
        for query in [
            format!("statementId={id}"),
            format!("statementId={id}&format=exact"),
        ] {
            let got: Value = s
                .xapi_version(Method::GET, &format!("/statements?{query}"), header)
                .send()
                .unwrap()
                .json()
                .unwrap();
            let mut expected = sent.clone();
            for added in ["id", "stored", "authority"] {
                assert!(got.get(added).is_some(), "{added} set by the LRS");
                expected[added] = got[added].clone();
            }
            assert_eq!(got, expected, "{header} {query}");
        }
    }
}
