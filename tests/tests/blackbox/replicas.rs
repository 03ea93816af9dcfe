//! Several xlrs processes over one database, as replicas behind a load balancer: whatever one
//! process stores, every other serves at once — statements, attachments, canonical activity
//! definitions, voiding, conflicts, and document preconditions (acted on by the database). Each
//! test starts its database and three processes, each with a data dir of its own. Under
//! `TEST_STORE`, only the tests of that store run.

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_tests::databases::{ClickHouse, Elasticsearch, Mongo};
use xlrs_tests::{attachment_statement, enc, id_of, multipart_body, statement, unique, Server};

use crate::XLRS;

/// Whether the tests of `store` run in this pass.
fn runs_here(store: &str) -> bool {
    std::env::var("TEST_STORE").map_or(true, |s| s == store)
}

/// Three processes over the database `settings` name.
fn three_over(settings: &[(&str, String)]) -> Vec<Server> {
    let env: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    (0..3).map(|_| Server::start_with(XLRS, &env)).collect()
}

/// The attachment parts of a statement GET with `attachments=true`, as text.
fn with_attachments(server: &Server, id: &str) -> String {
    let r = server
        .xapi(
            Method::GET,
            &format!("/statements?statementId={id}&attachments=true"),
        )
        .send()
        .expect("GET");
    assert_eq!(r.status(), 200);
    String::from_utf8_lossy(&r.bytes().expect("body")).into_owned()
}

/// The canonical definition `server` gives of `activity`.
fn definition(server: &Server, activity: &str) -> Value {
    let r = server
        .xapi(
            Method::GET,
            &format!("/activities?activityId={}", enc(activity)),
        )
        .send()
        .expect("GET");
    assert_eq!(r.status(), 200);
    let activity: Value = r.json().expect("JSON");
    activity["definition"].clone()
}

fn an_attachment_stored_through_one_process_is_served_by_the_others(p: &[Server]) {
    let content = format!("notes kept by one replica {}", unique()).into_bytes();
    let (st, sha2) = attachment_statement(&content);
    let r = p[0].post_multipart(multipart_body(
        "Content-Type: application/json\r\n",
        &st,
        &[(&sha2, &content)],
        Some("binary"),
    ));
    assert_eq!(r.status(), 200, "{}", r.text().unwrap_or_default());
    let id: Vec<String> = r.json().expect("ids");
    for other in &p[1..] {
        let text = with_attachments(other, &id[0]);
        assert!(
            text.contains(&sha2),
            "the other process names the attachment"
        );
        assert!(
            text.contains(std::str::from_utf8(&content).expect("text")),
            "the other process serves the attachment's bytes"
        );
    }
}

fn definitions_given_through_different_processes_merge_into_one_everywhere(p: &[Server]) {
    let activity = format!("http://example.org/replicas/{}", unique());
    let defining = |definition: Value| {
        let mut st = statement();
        st["object"] = json!({"objectType": "Activity", "id": activity, "definition": definition});
        st
    };
    id_of(p[0].post(&defining(json!({"name": {"en-US": "meeting"}}))));
    id_of(p[2].post(&defining(
        json!({"name": {"fr": "réunion"}, "type": "http://t/a"}),
    )));
    for server in p {
        assert_eq!(
            definition(server, &activity),
            json!({"name": {"en-US": "meeting", "fr": "réunion"}, "type": "http://t/a"}),
            "every process gives the definition merged from both"
        );
    }
}

fn statements_voiding_and_conflicts_hold_across_processes(p: &[Server]) {
    let st = statement();
    let id = id_of(p[0].post(&st));
    assert_eq!(
        p[2].get_statement(&id).status(),
        200,
        "read through another"
    );
    let mut same = st.clone();
    same["id"] = json!(id);
    assert_eq!(
        p[1].put_statement(&id, &same).status(),
        204,
        "an identical re-send"
    );
    let mut different = same.clone();
    different["verb"] = json!({"id": "http://example.org/verbs/other"});
    assert_eq!(
        p[2].put_statement(&id, &different).status(),
        409,
        "a conflicting re-send, wherever it lands"
    );
    let agent = enc(&st["actor"].to_string());
    for server in p {
        let page = server.query(&format!("agent={agent}"));
        assert_eq!(
            page["statements"].as_array().map(Vec::len),
            Some(1),
            "stored once"
        );
    }
    let voiding = json!({
        "actor": st["actor"],
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": id},
    });
    id_of(p[1].post(&voiding));
    assert_eq!(p[2].get_statement(&id).status(), 404, "voided everywhere");
    let r = p[0]
        .xapi(Method::GET, &format!("/statements?voidedStatementId={id}"))
        .send()
        .expect("GET");
    assert_eq!(r.status(), 200, "found as voided through the first");
}

/// Creations (`If-None-Match: *` PUTs) of one State document, `per_process` through each
/// process, all released at once; their statuses, sorted.
fn create_one_document_through_each_at_once(p: &[Server], per_process: usize) -> Vec<u16> {
    let agent = enc(&json!({"mbox": format!("mailto:{}@example.org", unique())}).to_string());
    let path = format!(
        "/activities/state?activityId={}&agent={agent}&stateId=progress",
        enc("http://example.org/replicas/course")
    );
    let start = std::sync::Barrier::new(p.len() * per_process);
    let mut statuses: Vec<u16> = std::thread::scope(|scope| {
        let puts: Vec<_> = p
            .iter()
            .flat_map(|server| std::iter::repeat_n(server, per_process))
            .enumerate()
            .map(|(i, server)| {
                let (path, start) = (&path, &start);
                scope.spawn(move || {
                    let put = server
                        .xapi(Method::PUT, path)
                        .header("If-None-Match", "*")
                        .header("Content-Type", "application/json")
                        .body(json!({"written_by": i}).to_string());
                    start.wait();
                    put.send().expect("PUT").status().as_u16()
                })
            })
            .collect();
        puts.into_iter()
            .map(|t| t.join().expect("PUT thread"))
            .collect()
    });
    statuses.sort_unstable();
    statuses
}

/// Concurrency control (xAPI Communication 2.2.3.4): of simultaneous creations of one document
/// through different processes, the database lets exactly one succeed.
fn one_of_many_simultaneous_creations_wins_the_others_get_412(p: &[Server]) {
    let per_process = 8;
    let mut expected = vec![412; p.len() * per_process];
    expected[0] = 204;
    for _ in 0..30 {
        assert_eq!(
            create_one_document_through_each_at_once(p, per_process),
            expected
        );
    }
}

fn rules_across(p: &[Server]) {
    an_attachment_stored_through_one_process_is_served_by_the_others(p);
    definitions_given_through_different_processes_merge_into_one_everywhere(p);
    statements_voiding_and_conflicts_hold_across_processes(p);
}

#[test]
fn three_processes_over_one_clickhouse_serve_what_each_stored() {
    if !runs_here("clickhouse") {
        return;
    }
    let clickhouse = ClickHouse::start();
    let p = three_over(&[
        ("XLRS_STORE", "clickhouse".into()),
        ("XLRS_CLICKHOUSE__URL", clickhouse.url()),
        (
            "XLRS_CLICKHOUSE__DATABASE",
            format!("xlrs_replicas_{}", unique()),
        ),
    ]);
    rules_across(&p);
}

#[test]
fn three_processes_over_one_mongodb_serve_what_each_stored() {
    if !runs_here("mongodb") {
        return;
    }
    let mongo = Mongo::start();
    let p = three_over(&[
        ("XLRS_STORE", "mongodb".into()),
        ("XLRS_MONGODB__URI", mongo.uri()),
        ("XLRS_MONGODB__DATABASE", format!("replicas_{}", unique())),
    ]);
    rules_across(&p);
    one_of_many_simultaneous_creations_wins_the_others_get_412(&p);
}

#[test]
fn three_processes_over_one_elasticsearch_serve_what_each_stored() {
    if !runs_here("elasticsearch") {
        return;
    }
    let elasticsearch = Elasticsearch::start();
    let p = three_over(&[
        ("XLRS_STORE", "elasticsearch".into()),
        ("XLRS_ELASTICSEARCH__URL", elasticsearch.url()),
    ]);
    rules_across(&p);
    one_of_many_simultaneous_creations_wins_the_others_get_412(&p);
}
