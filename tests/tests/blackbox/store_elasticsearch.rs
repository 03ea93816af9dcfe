//! Elasticsearch as the statement store (`XLRS_STORE=elasticsearch`), against a live server
//! started by the test (osmem-server, an in-memory server of the OpenSearch REST API): the
//! store contract, the API over HTTP, Ralph's index, atomic batches, and what happens when the
//! server is missing or goes away.

use std::process::Command;

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_store::ledger::Writers;
use xlrs_store_elasticsearch::ElasticsearchSettings;
use xlrs_tests::databases::{free_port, Elasticsearch};
use xlrs_tests::{check_store_contract, enc, id_of, ids_of, statement, unique, Server};

use crate::XLRS;

fn start_on(elasticsearch: &Elasticsearch) -> Server {
    Server::start_with(
        XLRS,
        &[
            ("XLRS_STORE", "elasticsearch"),
            ("XLRS_ELASTICSEARCH__URL", &elasticsearch.url()),
        ],
    )
}

/// How many documents an index holds.
fn count(elasticsearch: &Elasticsearch, index: &str) -> u64 {
    elasticsearch.request(Method::POST, &format!("/{index}/_refresh"), None);
    elasticsearch.request(Method::GET, &format!("/{index}/_count"), None)["count"]
        .as_u64()
        .expect("a count")
}

#[test]
fn elasticsearch_passes_the_statement_and_document_store_contract() {
    let elasticsearch = Elasticsearch::start();
    let settings = ElasticsearchSettings {
        url: elasticsearch.url(),
        ..ElasticsearchSettings::default()
    };
    check_store_contract(async |_| xlrs_store_elasticsearch::open(&settings, Writers::Many).await);
    // One writing process, positions reserved in memory: the same contract, on new indices.
    let settings = ElasticsearchSettings {
        index: "statements_one".into(),
        query_index: "xlrs_statements_one".into(),
        documents_index: "xlrs_documents_one".into(),
        ..settings
    };
    check_store_contract(async |_| xlrs_store_elasticsearch::open(&settings, Writers::One).await);
}

#[test]
fn the_api_runs_on_elasticsearch_and_writes_ralphs_index() {
    let elasticsearch = Elasticsearch::start();
    let server = start_on(&elasticsearch);
    let first = statement();
    let id = id_of(server.post(&first));
    let second = id_of(server.post(&statement()));

    let got: Value = server.get_statement(&id).json().unwrap();
    assert_eq!(got["id"], json!(id));
    let actor = enc(&first["actor"].to_string());
    let page = server.query(&format!("agent={actor}"));
    assert_eq!(ids_of(&page), [id.as_str()]);

    // Ralph's layout: `_id` the statement id, `_source` the statement as served, nothing else.
    let ralph = elasticsearch.request(Method::GET, &format!("/statements/_doc/{id}"), None);
    assert_eq!(ralph["_source"], got, "Ralph's document is the statement");
    assert_eq!(count(&elasticsearch, "statements"), 2);
    let found = elasticsearch.request(
        Method::POST,
        "/statements/_search",
        Some(
            json!({
                "query": {"bool": {"filter": [
                    {"term": {"actor.mbox.keyword": first["actor"]["mbox"]}},
                    {"term": {"verb.id.keyword": first["verb"]["id"]}},
                    {"range": {"timestamp": {"gt": "2000-01-01T00:00:00Z"}}},
                ]}},
                "sort": [{"timestamp": {"order": "desc"}}],
            })
            .to_string(),
        ),
    );
    assert_eq!(
        found["hits"]["hits"][0]["_id"],
        json!(id),
        "Ralph's own query (keyword terms, a timestamp range, sorted on timestamp) finds it"
    );
    assert_ne!(id, second);

    // The data lives in Elasticsearch: a new xlrs process with a new data dir serves it.
    drop(server);
    let server = start_on(&elasticsearch);
    assert_eq!(server.get_statement(&id).status(), 200);
    let voiding = json!({
        "actor": first["actor"], "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": id}
    });
    id_of(server.post(&voiding));
    let page = server.query(&format!("agent={actor}"));
    assert!(
        !ids_of(&page).contains(&id.as_str()),
        "a voided statement leaves queries"
    );
    let voided = server
        .xapi(Method::GET, &format!("/statements?voidedStatementId={id}"))
        .send()
        .unwrap();
    assert_eq!(voided.status(), 200, "and is found by voidedStatementId");
}

#[test]
fn statements_ralph_wrote_are_served_without_a_migration() {
    let elasticsearch = Elasticsearch::start();
    // Ralph's index, created and filled as Ralph does: a plain index (dynamic mapping), one
    // document per statement with `_id` the statement id, through the bulk API.
    elasticsearch.request(Method::PUT, "/statements", None);
    let learner = format!("mailto:{}@example.org", unique());
    let mut ids = Vec::new();
    let mut bulk = String::new();
    for minute in 0..3 {
        let id = uuid::Uuid::new_v4().to_string();
        let event = json!({
            "id": id,
            "actor": {"objectType": "Agent", "mbox": learner},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"objectType": "Activity", "id": "http://example.org/course/ralph"},
            "timestamp": format!("2023-05-01T12:0{minute}:00+00:00"),
            "stored": format!("2023-05-01T12:0{minute}:01+00:00"),
            "authority": {"objectType": "Agent", "account": {"homePage": "http://ralph", "name": "ralph"}},
            "version": "1.0.0"
        });
        bulk.push_str(&json!({"index": {"_index": "statements", "_id": id}}).to_string());
        bulk.push('\n');
        bulk.push_str(&event.to_string());
        bulk.push('\n');
        ids.push(id);
    }
    let written = elasticsearch.request(Method::POST, "/_bulk?refresh=true", Some(bulk));
    assert_eq!(written["errors"], json!(false));

    let server = start_on(&elasticsearch);
    let got: Value = server.get_statement(&ids[1]).json().unwrap();
    assert_eq!(got["id"], json!(ids[1]));
    assert_eq!(got["stored"], json!("2023-05-01T12:01:01.000000Z"));
    let page = server.query(&format!(
        "agent={}&ascending=true",
        enc(&json!({"mbox": learner}).to_string())
    ));
    assert_eq!(
        ids_of(&page),
        ids,
        "every Ralph statement is served, oldest first"
    );
    assert_eq!(
        count(&elasticsearch, "statements"),
        3,
        "Ralph's documents are read, not written again"
    );
    // A second start finds nothing more to adopt and serves the same.
    drop(server);
    let server = start_on(&elasticsearch);
    assert_eq!(count(&elasticsearch, "xlrs_statements"), 3);
    assert_eq!(server.get_statement(&ids[2]).status(), 200);
}

#[test]
fn a_batch_elasticsearch_refuses_part_of_is_not_kept_at_all() {
    let elasticsearch = Elasticsearch::start();
    // Ralph's index made by someone else with `result` mapped as a keyword: Elasticsearch
    // refuses any statement with a result object, and accepts the others.
    elasticsearch.request(
        Method::PUT,
        "/statements",
        Some(json!({"mappings": {"properties": {"result": {"type": "keyword"}}}}).to_string()),
    );
    let server = start_on(&elasticsearch);
    let kept = statement();
    let kept_id = id_of(server.post(&kept));

    let voiding_id = uuid::Uuid::new_v4().to_string();
    let other_id = uuid::Uuid::new_v4().to_string();
    let mut refused = statement();
    refused["id"] = json!(other_id);
    refused["result"] = json!({"completion": true});
    let batch = json!([
        {"id": voiding_id, "actor": kept["actor"], "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
         "object": {"objectType": "StatementRef", "id": kept_id}},
        refused
    ]);
    let answer = server.post(&batch);
    assert!(
        answer.status().is_server_error(),
        "the batch fails: {}",
        answer.status()
    );

    assert_eq!(server.get_statement(&voiding_id).status(), 404);
    assert_eq!(server.get_statement(&other_id).status(), 404);
    let actor = enc(&kept["actor"].to_string());
    assert_eq!(
        ids_of(&server.query(&format!("agent={actor}"))),
        [kept_id.as_str()],
        "the statement the failed batch voided is still served"
    );
    assert_eq!(
        count(&elasticsearch, "xlrs_statements"),
        1,
        "nothing of the batch is kept"
    );
    assert_eq!(count(&elasticsearch, "statements"), 1);

    // The next batch is written as usual.
    let after = id_of(server.post(&statement()));
    assert_eq!(server.get_statement(&after).status(), 200);
}

#[test]
fn an_unreachable_elasticsearch_stops_the_start_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{}", free_port());
    let output = Command::new(XLRS)
        .arg("serve")
        .env("XLRS_LISTEN", "127.0.0.1:0")
        .env("XLRS_DATA_DIR", dir.path())
        .env("XLRS_STORE", "elasticsearch")
        .env("XLRS_ELASTICSEARCH__URL", &url)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Elasticsearch")
            && stderr.contains(&url)
            && stderr.contains("is it running"),
        "the message names the database and where it was looked for: {stderr}"
    );
}

#[test]
fn a_lost_elasticsearch_answers_500_with_retry_after_and_recovers_when_it_returns() {
    let mut elasticsearch = Elasticsearch::start();
    let server = start_on(&elasticsearch);
    let before = id_of(server.post(&statement()));

    elasticsearch.halt();
    let refused = server.post(&statement());
    assert_eq!(refused.status(), 500, "a write while the database is away");
    assert_eq!(
        refused.headers()["retry-after"],
        "1",
        "a temporary condition"
    );
    let body: Value = refused.json().expect("a JSON body");
    assert_eq!(body["error"], json!("unavailable"));
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("Elasticsearch"),
        "saying what is wrong: {body}"
    );
    assert_eq!(server.get_statement(&before).status(), 500);
    let documents = server
        .xapi(
            Method::GET,
            "/activities/profile?activityId=http://example.org/a&profileId=p",
        )
        .send()
        .unwrap();
    assert_eq!(documents.status(), 500, "documents too");

    // The stand-in comes back empty (it keeps data in memory only; keeping data across an
    // engine restart is the real server's job): xlrs makes its indices again and serves what
    // is written from then on.
    elasticsearch.resume();
    let mut after_statement = statement();
    after_statement["verb"]["id"] = json!(format!("http://example.org/verb/{}", unique()));
    let after = id_of(server.post(&after_statement));
    assert_eq!(server.get_statement(&after).status(), 200);
    let page = server.query(&format!(
        "verb={}",
        enc(after_statement["verb"]["id"].as_str().unwrap())
    ));
    assert_eq!(ids_of(&page), [after.as_str()]);
    assert_eq!(count(&elasticsearch, "xlrs_statements"), 1);
}

#[test]
fn a_reference_or_voiding_that_arrives_before_its_target_takes_effect_when_the_target_arrives() {
    let elasticsearch = Elasticsearch::start();
    let server = start_on(&elasticsearch);
    let target = statement();
    let target_id = uuid::Uuid::new_v4().to_string();
    let voided = statement();
    let voided_id = uuid::Uuid::new_v4().to_string();
    let commenter = statement();
    let comment = json!({
        "actor": commenter["actor"],
        "verb": {"id": "http://adlnet.gov/expapi/verbs/commented"},
        "object": {"objectType": "StatementRef", "id": target_id}
    });
    let comment_id = id_of(server.post(&comment));
    id_of(server.post(&json!({
        "actor": voided["actor"],
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": voided_id}
    })));

    let mut target = target;
    target["id"] = json!(target_id);
    let mut voided = voided;
    voided["id"] = json!(voided_id);
    id_of(server.post(&json!([target, voided])));

    let page = server.query(&format!(
        "activity={}&ascending=true",
        enc(target["object"]["id"].as_str().unwrap())
    ));
    assert_eq!(
        ids_of(&page),
        [comment_id.as_str(), target_id.as_str()],
        "the comment (stored first) matches the filter through the statement it references"
    );
    assert_eq!(
        server.get_statement(&voided_id).status(),
        404,
        "a statement voided before it arrived is voided"
    );
    let found = server
        .xapi(
            Method::GET,
            &format!("/statements?voidedStatementId={voided_id}"),
        )
        .send()
        .unwrap();
    assert_eq!(found.status(), 200);
    let page = server.query(&format!("agent={}", enc(&voided["actor"].to_string())));
    assert!(!ids_of(&page).contains(&voided_id.as_str()));
}

#[test]
fn a_second_xlrs_on_the_same_indices_serves_what_the_first_writes() {
    let elasticsearch = Elasticsearch::start();
    let writer = start_on(&elasticsearch);
    let reader = start_on(&elasticsearch);
    let s = statement();
    let id = id_of(writer.post(&s));
    assert_eq!(reader.get_statement(&id).status(), 200);
    let page = reader.query(&format!("agent={}", enc(&s["actor"].to_string())));
    assert_eq!(ids_of(&page), [id.as_str()]);
}

#[test]
fn indices_of_a_newer_layout_stop_the_start_with_exit_code_2() {
    let elasticsearch = Elasticsearch::start();
    elasticsearch.request(
        Method::PUT,
        "/xlrs_statements",
        Some(json!({"mappings": {"_meta": {"xlrs_layout": 99}, "properties": {"stored": {"type": "long"}}}}).to_string()),
    );
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(XLRS)
        .arg("serve")
        .env("XLRS_LISTEN", "127.0.0.1:0")
        .env("XLRS_DATA_DIR", dir.path())
        .env("XLRS_STORE", "elasticsearch")
        .env("XLRS_ELASTICSEARCH__URL", elasticsearch.url())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("layout version 99") && stderr.contains("upgrade xlrs"),
        "the message says why: {stderr}"
    );
}
