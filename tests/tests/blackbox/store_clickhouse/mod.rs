//! ClickHouse as the statement store (`XLRS_STORE=clickhouse`), against the real engine started
//! by the test: the store contract, the API over HTTP, Ralph's table for Open edX Aspects, and
//! what happens when the database is missing or goes away.

use std::process::Command;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_store::ledger::Writers;
use xlrs_store_clickhouse::ClickHouseSettings;
use xlrs_tests::databases::{free_port, ClickHouse};
use xlrs_tests::{
    check_store_contract, enc, id_of, ids_of, statement, unique, voiding, Server, ADMIN_PASSWORD,
};

use crate::forwarding::{eventually_within, metric};
use crate::replicas::definition;
use crate::XLRS;

mod agent_pages;
mod in_turn;

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
    start_writing_with(clickhouse, database, writers, &[])
}

/// A server over `database` with `XLRS_WRITERS` = `writers` and the variables of `more`.
fn start_writing_with(
    clickhouse: &ClickHouse,
    database: &str,
    writers: &str,
    more: &[(&str, &str)],
) -> Server {
    let url = clickhouse.url();
    let mut env = vec![
        ("XLRS_STORE", "clickhouse"),
        ("XLRS_CLICKHOUSE__URL", url.as_str()),
        ("XLRS_CLICKHOUSE__DATABASE", database),
        ("XLRS_WRITERS", writers),
    ];
    env.extend_from_slice(more);
    Server::start_with(XLRS, &env)
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
    assert!(
        !merges_wide(clickhouse, &db, "xapi_events_all"),
        "a table xlrs did not create keeps its settings"
    );
    assert!(merges_wide(clickhouse, &db, "xlrs_statements"));
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

/// Whether the statements table of `db` keeps each row's block number.
fn numbers_blocks(clickhouse: &ClickHouse, db: &str) -> bool {
    let engine = clickhouse.sql(&format!(
        "SELECT engine_full FROM system.tables WHERE database = '{db}' AND name = 'xlrs_statements'"
    ));
    engine.contains("enable_block_number_column = 1")
}

/// Whether `table` of `db` merges its parts in wide merges (`merge_selector_base = 20`).
fn merges_wide(clickhouse: &ClickHouse, db: &str, table: &str) -> bool {
    let engine = clickhouse.sql(&format!(
        "SELECT engine_full FROM system.tables WHERE database = '{db}' AND name = '{table}'"
    ));
    engine.contains("merge_selector_base = 20")
}

/// The two tables every round writes, when xlrs creates them, gather twenty parts of about
/// one size before merging them (README, "ClickHouse"): a round's parts are small, and wider
/// merges rewrite each row fewer times.
#[test]
fn the_tables_every_round_writes_are_created_to_merge_wide() {
    let clickhouse = ClickHouse::start();
    let db = database();
    let server = start_on(&clickhouse, &db);
    id_of(server.post(&statement()));
    for table in ["xlrs_statements", "xapi_events_all"] {
        assert!(merges_wide(&clickhouse, &db, table), "{table}");
    }
}

/// A statements table an earlier xlrs created without block numbers is altered at the next
/// start to keep them (what tells which of two processes' rows of one id landed first), and
/// what it held is served as before.
#[test]
fn a_statements_table_from_before_block_numbers_is_altered_to_keep_them() {
    let clickhouse = ClickHouse::start();
    let db = database();
    let server = start_on(&clickhouse, &db);
    let id = id_of(server.post(&statement()));
    server.stop();
    assert!(numbers_blocks(&clickhouse, &db), "a new table keeps them");
    clickhouse.sql(&format!(
        "ALTER TABLE {db}.xlrs_statements MODIFY SETTING enable_block_number_column = 0"
    ));
    assert!(!numbers_blocks(&clickhouse, &db));

    let server = start_on(&clickhouse, &db);
    assert!(numbers_blocks(&clickhouse, &db), "altered at start-up");
    assert_eq!(server.get_statement(&id).status(), 200);
    id_of(server.post(&statement()));
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

/// A statement whose activity `activity` has the name `name` (a language map).
fn defining(activity: &str, name: Value) -> Value {
    let mut s = statement();
    s["object"] = json!({"objectType": "Activity", "id": activity,
        "definition": {"name": name}});
    s
}

/// When the database stores a round's statements and then refuses its activity definitions
/// (here: their table detached), the statements are acknowledged and served, the definitions
/// wait (`xlrs_definitions_waiting`, one for each distinct definition), and once the database
/// takes them again they are kept at their statements' positions: no acknowledged statement's
/// definition is lost (a re-send stores nothing, so it would not bring it back), and one given
/// again meanwhile still counts as the newest.
#[test]
fn definitions_the_database_refuses_after_the_statements_are_kept_once_it_takes_them() {
    let clickhouse = ClickHouse::start();
    let db = database();
    let server = start_writing(&clickhouse, &db, "one");
    let activity = format!("http://example.org/activity/defined-{}", unique());
    let first = json!({"en-US": "first"});
    assert_eq!(
        server.post(&defining(&activity, first.clone())).status(),
        200
    );
    assert_eq!(definition(&server, &activity)["name"], first);

    clickhouse.sql(&format!("DETACH TABLE {db}.xlrs_statements_definitions"));
    let second = json!({"en-US": "second", "fr-FR": "deuxième"});
    let r = server.post(&defining(&activity, second));
    assert_eq!(r.status(), 200, "the statement is stored, so acknowledged");
    assert_eq!(server.get_statement(&id_of(r)).status(), 200);
    assert_eq!(metric(&server, "xlrs_definitions_waiting"), Some(1));
    assert_eq!(server.post(&defining(&activity, first)).status(), 200);
    assert_eq!(
        metric(&server, "xlrs_definitions_waiting"),
        Some(2),
        "the first definition given again waits too"
    );

    clickhouse.sql(&format!("ATTACH TABLE {db}.xlrs_statements_definitions"));
    eventually_within(
        Duration::from_secs(30),
        "the waiting definitions are kept",
        || metric(&server, "xlrs_definitions_waiting") == Some(0),
    );
    assert_eq!(
        definition(&server, &activity)["name"],
        json!({"en-US": "first", "fr-FR": "deuxième"}),
        "the second merged, then the first given again over it"
    );
}
