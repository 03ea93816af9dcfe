//! ClickHouse as the statement store (`XLRS_STORE=clickhouse`), against the real engine started
//! by the test: the store contract, the API over HTTP, Ralph's table for Open edX Aspects, and
//! what happens when the database is missing or goes away.

use std::process::Command;

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_store::ledger::Writers;
use xlrs_store_clickhouse::ClickHouseSettings;
use xlrs_tests::databases::{free_port, ClickHouse};
use xlrs_tests::{
    check_store_contract, enc, id_of, ids_of, statement, unique, voiding, Server, ADMIN_PASSWORD,
};

use crate::forwarding::metric;
use crate::XLRS;

/// A database name of its own for each test.
fn database() -> String {
    format!("xlrs_test_{}", unique())
}

/// Runs `xlrs serve` with `env` on a fresh data dir and checks that it stops: its stderr.
fn refused_start<K, V>(env: impl IntoIterator<Item = (K, V)>) -> String
where
    K: AsRef<std::ffi::OsStr>,
    V: AsRef<std::ffi::OsStr>,
{
    let dir = tempfile::tempdir().unwrap();
    let refused = Command::new(XLRS)
        .arg("serve")
        .env("XLRS_LISTEN", "127.0.0.1:0")
        .env("XLRS_DATA_DIR", dir.path())
        .envs(env)
        .output()
        .unwrap();
    assert!(!refused.status.success(), "the start is refused");
    String::from_utf8_lossy(&refused.stderr).into_owned()
}

fn start_on(clickhouse: &ClickHouse, database: &str) -> Server {
    start_writing(clickhouse, database, "many")
}

/// A server over `database` with `XLRS_WRITERS` = `writers`.
fn start_writing(clickhouse: &ClickHouse, database: &str, writers: &str) -> Server {
    Server::start_with(
        XLRS,
        &[
            ("XLRS_STORE", "clickhouse"),
            ("XLRS_CLICKHOUSE__URL", &clickhouse.url()),
            ("XLRS_CLICKHOUSE__DATABASE", database),
            ("XLRS_WRITERS", writers),
        ],
    )
}

#[test]
fn clickhouse_passes_the_statement_and_document_store_contract() {
    let clickhouse = ClickHouse::start();
    let settings = ClickHouseSettings {
        url: clickhouse.url(),
        database: database(),
        ..ClickHouseSettings::default()
    };
    check_store_contract(async |_| xlrs_store_clickhouse::open(&settings, Writers::Many).await);
    // One writing process, positions reserved in memory: the same contract.
    let settings = ClickHouseSettings {
        database: database(),
        ..settings
    };
    check_store_contract(async |_| xlrs_store_clickhouse::open(&settings, Writers::One).await);
}

#[test]
fn the_api_runs_on_clickhouse_and_writes_ralphs_table_for_aspects() {
    let clickhouse = ClickHouse::start();
    let db = database();
    let server = start_on(&clickhouse, &db);
    let mut first = statement();
    first["timestamp"] = json!("2024-03-01T10:00:00.123456+02:00");
    let id = id_of(server.post(&first));
    let second = id_of(server.post(&statement()));

    let got: Value = server.get_statement(&id).json().unwrap();
    assert_eq!(got["id"], json!(id));
    let actor = enc(&first["actor"].to_string());
    let page = server.query(&format!("agent={actor}"));
    assert_eq!(page["statements"].as_array().unwrap().len(), 1);
    assert_eq!(page["statements"][0]["id"], json!(id));

    // Ralph's layout: one row per statement, emission_time = the statement's timestamp (UTC).
    let rows = clickhouse.sql(&format!(
        "SELECT event_id, emission_time, JSONExtractString(event, 'id') FROM {db}.xapi_events_all ORDER BY emission_time"
    ));
    assert_eq!(
        rows.lines().next().unwrap(),
        format!("{id}\t2024-03-01 08:00:00.123456\t{id}"),
        "the first event row is the first statement at its timestamp"
    );
    assert_eq!(
        rows.lines().count(),
        2,
        "one event row per statement: {rows}"
    );
    assert!(rows.contains(&second));

    // The data lives in ClickHouse: a new xlrs process with a new data dir serves it.
    drop(server);
    let server = start_on(&clickhouse, &db);
    assert_eq!(server.get_statement(&id).status(), 200);
    let voiding = json!({
        "actor": first["actor"], "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": id}
    });
    id_of(server.post(&voiding));
    let page = server.query(&format!("agent={actor}"));
    let ids = ids_of(&page);
    assert!(
        !ids.contains(&id.as_str()),
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
    let clickhouse = ClickHouse::start();
    for writers in ["many", "one"] {
        ralph_rows_are_served(&clickhouse, writers);
    }
}

/// Ralph's rows in a new database are served by a server with `writers`, at once.
fn ralph_rows_are_served(clickhouse: &ClickHouse, writers: &str) {
    let db = database();
    // Ralph's table, created and filled as Ralph does (docs/tutorials/lrs/backends.md).
    clickhouse.sql(&format!("CREATE DATABASE {db}"));
    clickhouse.sql(&format!(
        "CREATE TABLE {db}.xapi_events_all (event_id UUID NOT NULL, emission_time DateTime64(6) NOT NULL, \
         event String NOT NULL) ENGINE MergeTree ORDER BY (emission_time, event_id) PRIMARY KEY (emission_time, event_id)"
    ));
    let learner = format!("mailto:{}@example.org", unique());
    let mut ids = Vec::new();
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
        clickhouse.sql(&format!(
            "INSERT INTO {db}.xapi_events_all FORMAT JSONEachRow {}",
            json!({"event_id": id, "emission_time": format!("2023-05-01 12:0{minute}:00"), "event": event.to_string()})
        ));
        ids.push(id);
    }
    let server = start_writing(clickhouse, &db, writers);
    let got: Value = server.get_statement(&ids[1]).json().unwrap();
    assert_eq!(got["id"], json!(ids[1]));
    assert_eq!(got["stored"], json!("2023-05-01T12:01:01.000000Z"));
    let page = server.query(&format!(
        "agent={}&ascending=true",
        enc(&json!({"mbox": learner}).to_string())
    ));
    let found = ids_of(&page);
    assert_eq!(
        found, ids,
        "every Ralph row is served, oldest first ({writers})"
    );
    let rows = clickhouse.sql(&format!("SELECT count() FROM {db}.xapi_events_all"));
    assert_eq!(rows.trim(), "3", "Ralph's rows are read, not written again");
}

/// A database written before the StatementRefs table existed: at the next start the table is
/// created and filled from the statements, so what was voided stays voided and the StatementRef
/// filter rule still finds the statements referring to a match.
#[test]
fn a_database_from_before_the_statement_refs_table_keeps_its_voiding_and_references() {
    let clickhouse = ClickHouse::start();
    let db = database();
    let server = start_on(&clickhouse, &db);
    let learner = format!("mailto:{}@example.org", unique());
    let mut target = statement();
    target["actor"] = json!({"mbox": learner});
    let target = id_of(server.post(&target));
    let voided = id_of(server.post(&statement()));
    server.post(&voiding(&voided));
    let mut referring = statement();
    referring["object"] = json!({"objectType": "StatementRef", "id": target});
    let referring = id_of(server.post(&referring));
    server.stop();
    // The layout of the previous release: no StatementRefs table, no view filling it.
    clickhouse.sql(&format!("DROP VIEW {db}.xlrs_statements_refs_mv"));
    clickhouse.sql(&format!("DROP TABLE {db}.xlrs_statements_refs"));

    let server = start_on(&clickhouse, &db);
    assert_eq!(server.get_statement(&voided).status(), 404, "still voided");
    let by_voided = server
        .xapi(
            Method::GET,
            &format!("/statements?voidedStatementId={voided}"),
        )
        .send()
        .unwrap();
    assert_eq!(by_voided.status(), 200);
    let page = server.query(&format!(
        "agent={}",
        enc(&json!({"mbox": learner}).to_string())
    ));
    let mut found = ids_of(&page);
    found.sort();
    let mut expected = vec![target.as_str(), referring.as_str()];
    expected.sort();
    assert_eq!(
        found, expected,
        "the match and the statement referring to it"
    );
    assert!(
        !ids_of(&server.query("limit=100")).contains(&voided.as_str()),
        "a voided statement is not listed"
    );
    let rows = clickhouse.sql(&format!("SELECT count() FROM {db}.xlrs_statements_refs"));
    assert_eq!(
        rows.trim(),
        "2",
        "one row per StatementRef (the voiding one and the other)"
    );
}

#[test]
fn transfer_without_compression_is_a_setting_and_an_unknown_codec_is_refused_at_start() {
    let clickhouse = ClickHouse::start();
    let db = database();
    let url = clickhouse.url();
    let mut env = vec![
        ("XLRS_STORE", "clickhouse"),
        ("XLRS_CLICKHOUSE__URL", url.as_str()),
        ("XLRS_CLICKHOUSE__DATABASE", db.as_str()),
        ("XLRS_CLICKHOUSE__COMPRESSION", "none"),
    ];
    let server = Server::start_with(XLRS, &env);
    let id = id_of(server.post(&statement()));
    assert_eq!(server.get_statement(&id).status(), 200);
    assert_eq!(ids_of(&server.query("limit=10")), vec![id.as_str()]);
    server.stop();

    // An unknown codec stops the start.
    env[3].1 = "zstd";
    let stderr = refused_start(env.iter().copied());
    assert!(
        stderr.contains("compression"),
        "names the setting: {stderr}"
    );
}

#[test]
fn after_a_restart_an_identical_resend_stores_nothing_and_a_conflicting_one_is_a_409() {
    // With one writer, the filter of stored ids comes from the scan at start-up alone; with
    // the filter off (0 MiB), every batch reads the id column. Either way the rules hold.
    let clickhouse = ClickHouse::start();
    let url = clickhouse.url();
    for filter_mib in ["256", "0"] {
        let db = database();
        let env = [
            ("XLRS_STORE", "clickhouse"),
            ("XLRS_CLICKHOUSE__URL", url.as_str()),
            ("XLRS_CLICKHOUSE__DATABASE", db.as_str()),
            ("XLRS_CLICKHOUSE__ID_FILTER_MIB", filter_mib),
            ("XLRS_WRITERS", "one"),
        ];
        let first = Server::start_with(XLRS, &env);
        let st = statement();
        let id = id_of(first.post(&st));
        let voids = id_of(first.post(&voiding(&id)));
        let dir = first.stop();

        let server = Server::start_in(XLRS, dir, &env);
        let mut same = st.clone();
        same["id"] = json!(id);
        assert_eq!(
            server.put_statement(&id, &same).status(),
            204,
            "an identical re-send ({filter_mib} MiB)"
        );
        let everything = server.query("limit=100");
        assert_eq!(
            ids_of(&everything),
            vec![voids.as_str()],
            "stored once, still voided ({filter_mib} MiB)"
        );
        let mut different = same.clone();
        different["verb"] = json!({"id": "http://example.org/verbs/other"});
        assert_eq!(
            server.put_statement(&id, &different).status(),
            409,
            "a conflicting re-send ({filter_mib} MiB)"
        );
        let r = server.post(&voiding(&voids));
        assert_eq!(
            r.status(),
            400,
            "a voiding statement cannot be voided ({filter_mib} MiB)"
        );
    }
}

#[test]
fn an_unreachable_clickhouse_stops_the_start_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(XLRS)
        .arg("serve")
        .env("XLRS_LISTEN", "127.0.0.1:0")
        .env("XLRS_DATA_DIR", dir.path())
        .env("XLRS_STORE", "clickhouse")
        .env(
            "XLRS_CLICKHOUSE__URL",
            format!("http://127.0.0.1:{}", free_port()),
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("ClickHouse") && stderr.contains("is it running"),
        "the message names the database: {stderr}"
    );
}

#[test]
fn a_lost_clickhouse_answers_500_with_retry_after_loses_nothing_acknowledged_and_recovers() {
    let mut clickhouse = ClickHouse::start();
    let db = database();
    let server = start_on(&clickhouse, &db);
    let before = id_of(server.post(&statement()));

    clickhouse.halt();
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
            .contains("ClickHouse"),
        "saying what is wrong: {body}"
    );
    assert_eq!(server.get_statement(&before).status(), 500);
    let heartbeat = |expected: &str| {
        let r = server
            .raw(Method::GET, "/__heartbeat__")
            .send()
            .expect("heartbeat");
        let status = r.status();
        let body: Value = r.json().expect("JSON");
        assert_eq!(
            body,
            json!({"database": expected}),
            "Ralph's heartbeat ({status})"
        );
        status
    };
    assert_eq!(
        heartbeat("away"),
        500,
        "the heartbeat says the database is away"
    );

    clickhouse.resume();
    assert_eq!(heartbeat("ok"), 200, "and back");
    let after = id_of(server.post(&statement()));
    assert_eq!(server.get_statement(&before).status(), 200);
    assert_eq!(server.get_statement(&after).status(), 200);
    let count = clickhouse.sql(&format!("SELECT count() FROM {db}.xlrs_statements"));
    assert_eq!(
        count.trim(),
        "2",
        "only the acknowledged statements are kept"
    );
}

/// Open edX Aspects gives its LRS a ClickHouse user with INSERT and SELECT on the xAPI
/// database and nothing more (tutor-contrib-aspects' init job). xlrs creates nothing that
/// exists, so it runs under that user once its tables exist; before, it stops and ClickHouse's
/// refusal names the grant it lacks.
#[test]
fn xlrs_runs_under_aspects_least_privilege_clickhouse_user_once_its_tables_exist() {
    let db = database();
    let clickhouse = ClickHouse::start_with_lrs_user(&db);
    clickhouse.sql(&format!("CREATE DATABASE {db}"));
    let settings = |user: &str, password: &str| -> Vec<(&'static str, String)> {
        vec![
            ("XLRS_STORE", "clickhouse".into()),
            ("XLRS_CLICKHOUSE__URL", clickhouse.url()),
            ("XLRS_CLICKHOUSE__DATABASE", db.clone()),
            ("XLRS_CLICKHOUSE__USER", user.into()),
            ("XLRS_CLICKHOUSE__PASSWORD", password.into()),
        ]
    };
    let as_lrs = settings("lrs", "lrs-password");

    // No tables, no right to create them: the start is refused.
    let stderr = refused_start(as_lrs.iter().map(|(k, v)| (k, v)));
    assert!(stderr.contains("CREATE TABLE"), "names the grant: {stderr}");

    // An operator starts xlrs once with a user that may create the tables…
    let env: Vec<(&str, String)> = settings("default", "");
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let first = Server::start_with(XLRS, &env);
    let before = id_of(first.post(&statement()));
    first.stop();

    // …then runs it under Aspects' LRS user.
    let env: Vec<(&str, &str)> = as_lrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start_with(XLRS, &env);
    assert_eq!(server.get_statement(&before).status(), 200);
    let id = id_of(server.post(&statement()));
    assert_eq!(server.get_statement(&id).status(), 200);
    let events = clickhouse.sql(&format!(
        "SELECT count() FROM {db}.xapi_events_all WHERE event_id = '{id}'"
    ));
    assert_eq!(events.trim(), "1", "written to Aspects' table too");
}

/// Document writes across processes rest on one property of the engine, checked here on the
/// claims table as xlrs creates it: of two claims on the same version of a document (the same
/// insert deduplication token), only the first is kept, even when the second says it came
/// earlier.
#[test]
fn the_engine_keeps_only_the_first_claim_on_a_document_version() {
    let clickhouse = ClickHouse::start();
    let db = database();
    let server = start_on(&clickhouse, &db);
    let claim = |writer: &str, at: i64| {
        clickhouse.sql(&format!(
            "INSERT INTO {db}.xlrs_document_claims SETTINGS insert_deduplication_token = 'doc:7' \
             VALUES ('doc', 7, '{writer}', {at})"
        ))
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_micros() as i64;
    let first = "00000000-0000-4000-8000-000000000001";
    claim(first, now);
    claim("00000000-0000-4000-8000-000000000002", now - 1_000_000);
    let kept = clickhouse.sql(&format!(
        "SELECT writer FROM {db}.xlrs_document_claims WHERE document = 'doc' AND follows = 7"
    ));
    assert_eq!(kept.trim(), first, "one claim, the first");
    drop(server);
}

/// Whether `done` holds within 20 s (asked every 100 ms; the index is filled every second).
fn within_20_s(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..200 {
        if done() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    false
}

/// Waits until the agent and activity index holds every statement stored so far.
fn wait_until_indexed(clickhouse: &ClickHouse, db: &str) {
    let newest = clickhouse.sql(&format!("SELECT max(stored) FROM {db}.xlrs_statements"));
    let caught_up = within_20_s(|| {
        clickhouse.sql(&format!(
            "SELECT max(through) >= {} FROM {db}.xlrs_statements_indexed",
            newest.trim()
        )) == "1\n"
    });
    assert!(
        caught_up,
        "the index did not catch up with the statements table"
    );
}

#[test]
fn queries_by_agent_and_activity_find_statements_the_index_holds_and_those_it_does_not_hold_yet() {
    let clickhouse = ClickHouse::start();
    let db = database();
    let server = start_on(&clickhouse, &db);
    let learner = statement();
    let instructor = json!({"objectType": "Agent", "mbox": format!("mailto:instructor-{}@example.org", unique())});
    let with_instructor = |s: &Value| {
        let mut s = s.clone();
        s["context"] = json!({"instructor": instructor});
        s
    };
    let indexed = id_of(server.post(&with_instructor(&learner)));
    wait_until_indexed(&clickhouse, &db);
    // /metrics says how far the index is behind the newest statement: nothing now.
    let metrics = || {
        server
            .raw(Method::GET, "/metrics")
            .send()
            .unwrap()
            .text()
            .unwrap()
    };
    let caught_up =
        within_20_s(|| metrics().contains("\nxlrs_clickhouse_index_behind_seconds 0\n"));
    assert!(caught_up, "{}", metrics());
    assert!(metrics().contains("\nxlrs_clickhouse_index_pass_failures_total 0"));
    let fresh = id_of(server.post(&with_instructor(&learner)));
    let actor = enc(&learner["actor"].to_string());
    let activity = enc(learner["object"]["id"].as_str().unwrap());
    let teacher = enc(&instructor.to_string());
    // The page's newest statement is past the index, the other in it: both, newest first, once.
    for filter in [
        format!("agent={actor}"),
        format!("activity={activity}"),
        format!("agent={teacher}&related_agents=true"),
    ] {
        let page = server.query(&filter);
        assert_eq!(
            ids_of(&page),
            [fresh.as_str(), indexed.as_str()],
            "{filter}"
        );
    }
    // An agent only in the context matches only with related_agents, in the index or not.
    assert!(ids_of(&server.query(&format!("agent={teacher}"))).is_empty());

    // An activity index entry whose row does not name the activity (a statement since
    // rewritten, say) hands over a candidate that is tested on its row: not served. An agent
    // index row written twice, or with an older version beside it, is served once, as its
    // newest version.
    let other = id_of(server.post(&statement()));
    wait_until_indexed(&clickhouse, &db);
    let position =
        |id: &str| format!("(SELECT stored FROM {db}.xlrs_statements WHERE id = '{id}')");
    clickhouse.sql(&format!(
        "INSERT INTO {db}.xlrs_statements_by_activity (activity, direct, stored)
         SELECT activity, 1, {} FROM {db}.xlrs_statements_by_activity WHERE stored = {} AND direct = 1",
        position(&other),
        position(&indexed)
    ));
    clickhouse.sql(&format!(
        "INSERT INTO {db}.xlrs_statements_by_agent SELECT * FROM {db}.xlrs_statements_by_agent
         WHERE stored = {}",
        position(&indexed)
    ));
    clickhouse.sql(&format!(
        "INSERT INTO {db}.xlrs_statements_by_agent (agent, direct, stored, written, id, verb, registration, authority, body)
         SELECT agent, direct, stored, written - 1, id, verb, registration, authority, '{{\"stale\": true}}'
         FROM {db}.xlrs_statements_by_agent WHERE stored = {} AND direct = 1",
        position(&indexed)
    ));
    for filter in [format!("agent={actor}"), format!("activity={activity}")] {
        let page = server.query(&filter);
        assert_eq!(
            ids_of(&page),
            [fresh.as_str(), indexed.as_str()],
            "{filter}"
        );
        let oldest_first = server.query(&format!("{filter}&ascending=true"));
        assert_eq!(
            ids_of(&oldest_first),
            [indexed.as_str(), fresh.as_str()],
            "{filter}, ascending"
        );
    }
    let page = server.query(&format!("agent={actor}&limit=1"));
    assert_eq!(ids_of(&page), [fresh.as_str()], "a page of one");
    let more = page["more"].as_str().unwrap();
    let next = server.query(more.strip_prefix("/xAPI/statements?").unwrap());
    assert_eq!(ids_of(&next), [indexed.as_str()], "and the next");

    // A pass that cannot fill the index is counted, and queries stay complete meanwhile.
    clickhouse.sql(&format!("DROP TABLE {db}.xlrs_statements_indexed"));
    let late = id_of(server.post(&learner));
    let page = server.query(&format!("agent={actor}"));
    assert_eq!(ids_of(&page)[0], late.as_str());
    let counted =
        within_20_s(|| !metrics().contains("\nxlrs_clickhouse_index_pass_failures_total 0"));
    let text = metrics();
    assert!(counted, "{text}");
    assert!(
        !text.contains("\nxlrs_clickhouse_index_behind_seconds 0\n"),
        "{text}"
    );
}

#[test]
fn a_pseudonymized_statement_is_served_to_its_other_agent_as_rewritten_and_the_index_keeps_no_copy_naming_the_person(
) {
    let clickhouse = ClickHouse::start();
    let db = database();
    let server = start_on(&clickhouse, &db);
    let person = format!("mailto:erased-{}@example.org", unique());
    let other =
        json!({"objectType": "Agent", "mbox": format!("mailto:other-{}@example.org", unique())});
    let mut s = statement();
    s["actor"] = json!({"objectType": "Agent", "mbox": person});
    s["object"] = other.clone();
    let id = id_of(server.post(&s));
    wait_until_indexed(&clickhouse, &db);
    let erased = server
        .raw(Method::POST, "/admin/erasure")
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .json(&json!({"agent": {"objectType": "Person", "mbox": [person]},
                      "dry_run": false, "pseudonymize": true}))
        .send()
        .unwrap();
    assert_eq!(erased.status(), 200);
    // The object's agent still finds the statement, once, as rewritten.
    let page = server.query(&format!("agent={}", enc(&other.to_string())));
    assert_eq!(ids_of(&page), [id.as_str()]);
    assert!(!page.to_string().contains(&person), "{page}");
    assert!(ids_of(&server.query(&format!("agent={}", enc(&s["actor"].to_string())))).is_empty());
    // No row of the agent index holds a copy naming the person any more.
    let copies = clickhouse.sql(&format!(
        "SELECT count() FROM {db}.xlrs_statements_by_agent
         WHERE position(body, '{person}') > 0 OR position(agent, '{person}') > 0"
    ));
    assert_eq!(copies.trim(), "0");
}

#[test]
fn a_statement_voided_after_pages_without_any_statement_ref_leaves_the_next_page_by_agent() {
    let clickhouse = ClickHouse::start();
    let db = database();
    let server = start_on(&clickhouse, &db);
    let s = statement();
    let actor = enc(&s["actor"].to_string());
    let id = id_of(server.post(&s));
    wait_until_indexed(&clickhouse, &db);
    // Pages read while no statement refers to another...
    for _ in 0..2 {
        assert_eq!(
            ids_of(&server.query(&format!("agent={actor}"))),
            [id.as_str()]
        );
    }
    // ...do not keep the next page from seeing the voiding, in the index or past it: the
    // voided statement leaves it, the voiding one (whose StatementRef targets a statement
    // of the agent) comes in.
    let voids = id_of(server.post(&voiding(&id)));
    assert_eq!(
        ids_of(&server.query(&format!("agent={actor}"))),
        [voids.as_str()]
    );
    wait_until_indexed(&clickhouse, &db);
    assert_eq!(
        ids_of(&server.query(&format!("agent={actor}"))),
        [voids.as_str()]
    );
}

#[test]
fn with_one_writer_a_page_by_agent_finds_a_statement_or_a_voiding_past_the_index_as_soon_as_it_is_answered(
) {
    let clickhouse = ClickHouse::start();
    let db = database();
    let server = start_writing(&clickhouse, &db, "one");
    let s = statement();
    let actor = enc(&s["actor"].to_string());
    let first = id_of(server.post(&s));
    wait_until_indexed(&clickhouse, &db);
    // Nothing past the index: the page comes from the index alone.
    assert_eq!(
        ids_of(&server.query(&format!("agent={actor}"))),
        [first.as_str()]
    );
    // A statement just answered is past the index, and on the page at once.
    let second = id_of(server.post(&s));
    assert_eq!(
        ids_of(&server.query(&format!("agent={actor}"))),
        [second.as_str(), first.as_str()]
    );
    wait_until_indexed(&clickhouse, &db);
    assert_eq!(
        ids_of(&server.query(&format!("agent={actor}"))),
        [second.as_str(), first.as_str()]
    );
    // The first StatementRef it writes is seen by the next page: the voided statement leaves
    // it, the voiding one comes in.
    let voids = id_of(server.post(&voiding(&first)));
    assert_eq!(
        ids_of(&server.query(&format!("agent={actor}"))),
        [voids.as_str(), second.as_str()]
    );
}

/// Pages by agent asked for at the same time are read in one query (bench/RESULTS.md,
/// 2026-12-05): each still holds exactly its own agent's statements, with its own filters,
/// order, limit and cursor, from the index and past it, with one writer or many.
#[test]
fn pages_by_agent_asked_for_together_each_hold_their_own_agents_statements_with_their_own_filters()
{
    let clickhouse = ClickHouse::start();
    for writers in ["one", "many"] {
        let db = database();
        let server = start_writing(&clickhouse, &db, writers);
        let agents = six_agents();
        let registration = uuid::Uuid::new_v4().to_string();
        // Per agent, its statements in stored order: (id, experienced, in the registration).
        let mut stored: Vec<Vec<(String, bool, bool)>> = vec![Vec::new(); agents.len()];
        for round in 0..6 {
            if round == 3 {
                // The older half in the index, the newer past it.
                wait_until_indexed(&clickhouse, &db);
            }
            let (experienced, registered) = (round % 2 == 0, round == 4);
            let batch: Vec<Value> = agents
                .iter()
                .map(|agent| {
                    let mut s = statement();
                    s["actor"] = agent.clone();
                    if experienced {
                        s["verb"]["id"] = json!(EXPERIENCED);
                    }
                    if registered {
                        s["context"] = json!({ "registration": registration });
                    }
                    s
                })
                .collect();
            let response = server.post(&json!(batch));
            assert_eq!(response.status(), 200);
            let ids: Vec<String> = response.json().unwrap();
            for (of_agent, id) in stored.iter_mut().zip(ids) {
                of_agent.push((id, experienced, registered));
            }
        }
        let newest_first = |of: &[(String, bool, bool)],
                            keep: &dyn Fn(&(String, bool, bool)) -> bool|
         -> Vec<String> {
            of.iter()
                .rev()
                .filter(|s| keep(s))
                .map(|s| s.0.clone())
                .collect()
        };
        // Each agent's pages: the query, and the ids it must hold in order.
        let mut cases: Vec<(String, Vec<String>)> = Vec::new();
        for (agent, of) in agents.iter().zip(&stored) {
            let a = enc(&agent.to_string());
            let all = newest_first(of, &|_| true);
            let first_two = server.query(&format!("agent={a}&limit=2"));
            let more = first_two["more"].as_str().unwrap();
            cases.extend([
                (format!("agent={a}"), all.clone()),
                (format!("agent={a}&limit=2"), all[..2].to_vec()),
                (
                    more.strip_prefix("/xAPI/statements?").unwrap().to_string(),
                    all[2..4].to_vec(),
                ),
                (
                    format!("agent={a}&verb={}", enc(EXPERIENCED)),
                    newest_first(of, &|s| s.1),
                ),
                (
                    format!("agent={a}&registration={registration}"),
                    newest_first(of, &|s| s.2),
                ),
                (
                    format!("agent={a}&ascending=true&limit=3"),
                    of[..3].iter().map(|s| s.0.clone()).collect(),
                ),
            ]);
        }
        asked_together_each_page_is(&server, &cases, writers);
    }
}

/// The verb some statements of the pages-together tests have.
const EXPERIENCED: &str = "http://adlnet.gov/expapi/verbs/experienced";

/// Six agents of their own.
fn six_agents() -> Vec<Value> {
    (0..6).map(|_| statement()["actor"].clone()).collect()
}

/// Asks for the pages of `cases` (query, ids in order) all at once, until some were read
/// together (the first round almost always), and checks each page every time.
fn asked_together_each_page_is(server: &Server, cases: &[(String, Vec<String>)], writers: &str) {
    let together = || metric(server, "xlrs_clickhouse_pages_read_together_total").unwrap_or(0);
    let before = together();
    for _ in 0..20 {
        let barrier = std::sync::Barrier::new(cases.len());
        std::thread::scope(|scope| {
            for (query, expected) in cases {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    let page = server.query(query);
                    assert_eq!(ids_of(&page), *expected, "{writers}: {query}");
                });
            }
        });
        if together() > before {
            break;
        }
    }
    assert!(
        together() > before,
        "{writers}: no pages were read together"
    );
}

/// Once a statement voids or refers to another, pages by agent read together still follow
/// the xAPI rules each page read alone follows: a voided statement is on no page, and a
/// statement whose StatementRef targets a statement on an agent's page (by its filters) is on
/// that page too.
#[test]
fn pages_by_agent_asked_for_together_after_statement_refs_leave_voided_statements_out_and_take_those_referring_to_their_matches(
) {
    let clickhouse = ClickHouse::start();
    for writers in ["one", "many"] {
        let db = database();
        let server = start_writing(&clickhouse, &db, writers);
        let agents = six_agents();
        let mut stored: Vec<Vec<String>> = vec![Vec::new(); agents.len()];
        for round in 0..4 {
            if round == 3 {
                wait_until_indexed(&clickhouse, &db);
            }
            let batch: Vec<Value> = agents
                .iter()
                .map(|agent| {
                    let mut s = statement();
                    s["actor"] = agent.clone();
                    if round % 2 == 1 {
                        s["verb"]["id"] = json!(EXPERIENCED);
                    }
                    s
                })
                .collect();
            let ids: Vec<String> = server.post(&json!(batch)).json().unwrap();
            for (of_agent, id) in stored.iter_mut().zip(ids) {
                of_agent.push(id);
            }
        }
        // Agent 0's newest statement voided; a statement of someone else referring to agent
        // 2's oldest (in the index) and one to agent 3's newest experienced (past it).
        let voided = stored[0][3].clone();
        let voids = id_of(server.post(&voiding(&voided)));
        let refers_to = |target: &str| {
            let mut s = statement();
            s["object"] = json!({"objectType": "StatementRef", "id": target});
            id_of(server.post(&s))
        };
        let to_2 = refers_to(&stored[2][0]);
        let to_3 = refers_to(&stored[3][3]);
        let mut cases: Vec<(String, Vec<String>)> = Vec::new();
        for agent in &agents {
            let a = enc(&agent.to_string());
            let first_two = server.query(&format!("agent={a}&limit=2"));
            let more = first_two["more"].as_str().unwrap();
            for query in [
                format!("agent={a}"),
                format!("agent={a}&limit=2"),
                more.strip_prefix("/xAPI/statements?").unwrap().to_string(),
                format!("agent={a}&verb={}", enc(EXPERIENCED)),
                format!("agent={a}&ascending=true&limit=3"),
            ] {
                // Each page as read alone (one query of its own) is what it must be together.
                let alone = ids_of(&server.query(&query))
                    .into_iter()
                    .map(String::from)
                    .collect();
                cases.push((query, alone));
            }
        }
        // What the pages read alone hold, by the rules.
        let page_of = |agent: usize| &cases[agent * 5].1;
        assert!(!page_of(0).contains(&voided) && page_of(0).contains(&voids));
        assert!(page_of(2).contains(&to_2));
        assert!(page_of(3).contains(&to_3));
        assert!(cases[3 * 5 + 3].1.contains(&to_3), "by the target's verb");
        asked_together_each_page_is(&server, &cases, writers);
    }
}
