//! MongoDB as the statement store (`XLRS_STORE=mongodb`), against a MongoDB-compatible server
//! started by the test: the store contract, the API over HTTP, Ralph's collection layout, and
//! what happens when the database is missing or goes away.

use std::process::Command;

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_store::ledger::Writers;
use xlrs_store_mongodb::MongoSettings;
use xlrs_tests::databases::{free_port, Mongo};
use xlrs_tests::{check_store_contract, enc, id_of, ids_of, statement, unique, Server};

use crate::XLRS;

/// A database name of its own for each test.
fn database() -> String {
    format!("xlrs_test_{}", unique())
}

fn start_on(mongo: &Mongo, database: &str, collection: &str) -> Server {
    Server::start_with(
        XLRS,
        &[
            ("XLRS_STORE", "mongodb"),
            ("XLRS_MONGODB__URI", &mongo.uri()),
            ("XLRS_MONGODB__DATABASE", database),
            ("XLRS_MONGODB__COLLECTION", collection),
        ],
    )
}

#[test]
fn mongodb_passes_the_statement_and_document_store_contract() {
    let mongo = Mongo::start();
    let settings = MongoSettings {
        uri: mongo.uri(),
        database: database(),
        ..MongoSettings::default()
    };
    check_store_contract(async |_| xlrs_store_mongodb::open(&settings, Writers::Many).await);
    // One writing process, positions reserved in memory: the same contract.
    let settings = MongoSettings {
        database: database(),
        ..settings
    };
    check_store_contract(async |_| xlrs_store_mongodb::open(&settings, Writers::One).await);
}

#[test]
fn the_api_runs_on_mongodb_in_ralphs_layout() {
    let mongo = Mongo::start();
    let db = database();
    let server = start_on(&mongo, &db, "statements");
    let mut first = statement();
    first["timestamp"] = json!("2024-03-01T10:00:00.123456+02:00");
    first["result"] = json!({"score": {"raw": 7, "scaled": 0.7}, "extensions": {"http://example.org/ext.v1": 1.0}});
    let id = id_of(server.post(&first));
    id_of(server.post(&statement()));

    let got: Value = server.get_statement(&id).json().unwrap();
    assert_eq!(got["id"], json!(id));
    assert_eq!(got["result"], first["result"], "read back as sent");
    let actor = enc(&first["actor"].to_string());
    let page = server.query(&format!("agent={actor}"));
    assert_eq!(ids_of(&page), vec![id.as_str()]);

    // Ralph's layout: `_source` is the statement, `_id` the ObjectId Ralph computes from its
    // timestamp (seconds, UTC) and id; Ralph's readers find it by `_source.id`.
    let seen = mongo.python(
        &db,
        &format!(
            "d = db.statements.find_one({{'_source.id': {id:?}}})\n\
             print(d['_id'].generation_time.isoformat(), d['_source']['actor'] == json.loads({actor_json:?}))",
            actor_json = first["actor"].to_string()
        ),
    );
    assert_eq!(seen.trim(), "2024-03-01T08:00:00+00:00 True");

    // The data lives in MongoDB: a new xlrs process with a new data dir serves it.
    drop(server);
    let server = start_on(&mongo, &db, "statements");
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
    let mongo = Mongo::start();
    let db = database();
    let learner = format!("mailto:{}@example.org", unique());
    // Written as Ralph's MongoDB backend writes (src/ralph/backends/data/mongo.py): `_id` from
    // the timestamp and the id's SHA-256, `_source` the statement, in Ralph's default
    // collection; pymongo stores small integers as 32-bit ones.
    let written = mongo.python(
        &db,
        &format!(
            r#"
import hashlib, struct, uuid
from bson.objectid import ObjectId
from dateutil.parser import isoparse
docs = []
for minute in range(3):
    statement = {{
        "id": str(uuid.uuid4()),
        "actor": {{"objectType": "Agent", "mbox": {learner:?}}},
        "verb": {{"id": "http://adlnet.gov/expapi/verbs/scored"}},
        "object": {{"objectType": "Activity", "id": "http://example.org/course/ralph"}},
        "result": {{"score": {{"raw": minute, "max": 3}}}},
        "timestamp": "2023-05-01T12:0%d:00+00:00" % minute,
        "stored": "2023-05-01T12:0%d:01+00:00" % minute,
        "authority": {{"objectType": "Agent", "account": {{"homePage": "http://ralph", "name": "ralph"}}}},
        "version": "1.0.0",
    }}
    timestamp = int(isoparse(statement["timestamp"]).timestamp())
    oid = ObjectId(struct.pack(">I", timestamp) + bytes.fromhex(hashlib.sha256(bytes(statement["id"], "utf-8")).hexdigest()[:16]))
    docs.append({{"_id": oid, "_source": statement}})
db.marsha.insert_many(docs)
print(" ".join(d["_source"]["id"] for d in docs))
"#
        ),
    );
    let ids: Vec<&str> = written.split_whitespace().collect();
    let server = start_on(&mongo, &db, "marsha");
    let got: Value = server.get_statement(ids[1]).json().unwrap();
    assert_eq!(got["id"], json!(ids[1]));
    assert_eq!(got["stored"], json!("2023-05-01T12:01:01.000000Z"));
    assert_eq!(got["result"]["score"], json!({"raw": 1, "max": 3}));
    let page = server.query(&format!(
        "agent={}&ascending=true",
        enc(&json!({"mbox": learner}).to_string())
    ));
    assert_eq!(
        ids_of(&page),
        ids,
        "every Ralph document is served, oldest first"
    );
    let count = mongo.python(&db, "print(db.marsha.count_documents({}))");
    assert_eq!(
        count.trim(),
        "3",
        "Ralph's documents are indexed, not copied"
    );
}

#[test]
fn an_unreachable_mongodb_stops_the_start_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(XLRS)
        .arg("serve")
        .env("XLRS_LISTEN", "127.0.0.1:0")
        .env("XLRS_DATA_DIR", dir.path())
        .env("XLRS_STORE", "mongodb")
        .env(
            "XLRS_MONGODB__URI",
            format!(
                "mongodb://127.0.0.1:{}/?serverSelectionTimeoutMS=1000",
                free_port()
            ),
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("MongoDB") && stderr.contains("is it running"),
        "the message names the database: {stderr}"
    );
}

#[test]
fn a_lost_mongodb_answers_500_with_retry_after_loses_nothing_acknowledged_and_recovers() {
    let mut mongo = Mongo::start();
    let db = database();
    let server = start_on(&mongo, &db, "statements");
    let before = id_of(server.post(&statement()));

    mongo.halt();
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
        body["message"].as_str().unwrap_or("").contains("MongoDB"),
        "saying what is wrong: {body}"
    );
    assert_eq!(server.get_statement(&before).status(), 500);

    mongo.resume();
    let after = id_of(server.post(&statement()));
    assert_eq!(server.get_statement(&before).status(), 200);
    assert_eq!(server.get_statement(&after).status(), 200);
    let count = mongo.python(&db, "print(db.statements.count_documents({}))");
    assert_eq!(
        count.trim(),
        "2",
        "only the acknowledged statements are kept"
    );
}
