//! Inserts a cluster refuses while the previous insert into their table waits for its quorum
//! (code 286, `UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE`, with `insert_quorum_parallel = 0`):
//! xlrs sends them again, for up to 5 s. One engine without Keeper cannot give that code
//! itself, so here a table constraint throws it (`throwIf` with an error code) until a given
//! instant: checked before anything of the insert is written, as a cluster refuses it.

use super::*;

/// Now, in ms since the epoch (the engine runs on this machine's clock).
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
}

/// Makes `table` of `db` refuse every insert with code 286 until `until_ms`.
fn refuse_until(clickhouse: &ClickHouse, db: &str, table: &str, until_ms: i64) {
    clickhouse.sql(&format!(
        "ALTER TABLE {db}.{table} ADD CONSTRAINT in_turn CHECK \
         throwIf(now64(3) < fromUnixTimestamp64Milli(toInt64({until_ms})), \
         'the previous insert waits for its quorum', toInt32(286)) = 0"
    ));
}

/// Rows of `table` of `db` whose `column` is the UUID `id`.
fn rows_of(clickhouse: &ClickHouse, db: &str, table: &str, column: &str, id: &str) -> u64 {
    clickhouse
        .sql(&format!(
            "SELECT count() FROM {db}.{table} WHERE {column} = toUUID('{id}')"
        ))
        .trim()
        .parse()
        .expect("a count")
}

/// While the ledger's, the events', the statements' and the definitions' tables refuse
/// inserts for a previous insert's quorum, a POST waits its turn: acknowledged once they take
/// inserts again, its statement stored once in each table and its definition kept.
#[test]
fn inserts_refused_while_the_previous_insert_waits_for_its_quorum_are_sent_again() {
    let clickhouse = ClickHouse::start_with_throwif_codes();
    let db = database();
    // Several writers: each round also reserves its positions in the ledger's table.
    let server = start_on(&clickhouse, &db);
    let until = now_ms() + 1_500;
    for table in [
        "xlrs_statements_positions",
        "xapi_events_all",
        "xlrs_statements",
        "xlrs_statements_definitions",
    ] {
        refuse_until(&clickhouse, &db, table, until);
    }
    let activity = format!("http://example.org/activity/in-turn-{}", unique());
    let name = json!({"en-US": "in turn"});
    let r = server.post(&defining(&activity, name.clone()));
    assert_eq!(r.status(), 200, "acknowledged in its turn");
    let id = id_of(r);
    assert!(
        metric(&server, "xlrs_clickhouse_inserts_in_turn_total").is_some_and(|n| n > 0),
        "inserts were refused and sent again"
    );
    assert_eq!(server.get_statement(&id).status(), 200);
    assert_eq!(rows_of(&clickhouse, &db, "xlrs_statements", "id", &id), 1);
    assert_eq!(
        rows_of(&clickhouse, &db, "xapi_events_all", "event_id", &id),
        1
    );
    assert_eq!(definition(&server, &activity)["name"], name);
}

/// Refused for longer than xlrs waits its turn (5 s), a POST is answered 500 "unavailable"
/// with `Retry-After`, and leaves nothing: not served, and not in Ralph's events table either
/// (written first, taken back). Once the table takes inserts, the client's re-send is stored
/// once.
#[test]
fn an_insert_refused_for_longer_than_xlrs_waits_is_answered_unavailable_and_leaves_nothing() {
    let clickhouse = ClickHouse::start_with_throwif_codes();
    let db = database();
    let server = start_writing(&clickhouse, &db, "one");
    refuse_until(&clickhouse, &db, "xlrs_statements", now_ms() + 3_600_000);
    let id = uuid::Uuid::new_v4().to_string();
    let mut s = statement();
    s["id"] = json!(id);
    let r = server.post(&s);
    assert_eq!(r.status(), 500);
    assert_eq!(
        r.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    let body: Value = r.json().expect("a JSON error");
    assert_eq!(body["error"], "unavailable", "{body}");
    assert_eq!(server.get_statement(&id).status(), 404);
    assert_eq!(
        rows_of(&clickhouse, &db, "xapi_events_all", "event_id", &id),
        0
    );

    clickhouse.sql(&format!(
        "ALTER TABLE {db}.xlrs_statements DROP CONSTRAINT in_turn"
    ));
    assert_eq!(server.post(&s).status(), 200, "the re-send is stored");
    assert_eq!(server.get_statement(&id).status(), 200);
    assert_eq!(rows_of(&clickhouse, &db, "xlrs_statements", "id", &id), 1);
    assert_eq!(
        rows_of(&clickhouse, &db, "xapi_events_all", "event_id", &id),
        1
    );
}

/// Three processes writing one database while the ledger's and the statements' tables refuse
/// inserts for a previous insert's quorum, as a cluster's do when several processes write it:
/// every batch each process is sent at once is acknowledged in its turn, and a listing walked
/// through all three holds each of the statements once.
#[test]
fn three_processes_writing_at_once_each_wait_their_turn_and_store_everything_once() {
    // Three processes: once, in the pass without `TEST_STORE` (like the replicas tests).
    if std::env::var("TEST_STORE").is_ok() {
        return;
    }
    let clickhouse = ClickHouse::start_with_throwif_codes();
    let db = database();
    let p: Vec<Server> = (0..3).map(|_| start_on(&clickhouse, &db)).collect();
    let registration = uuid::Uuid::new_v4().to_string();
    let batch = || -> Vec<Value> {
        (0..10)
            .map(|_| {
                let mut s = statement();
                s["id"] = json!(uuid::Uuid::new_v4().to_string());
                s["context"] = json!({"registration": registration});
                s
            })
            .collect()
    };
    let batches: Vec<Vec<Value>> = (0..9).map(|_| batch()).collect();
    let until = now_ms() + 1_500;
    for table in ["xlrs_statements_positions", "xlrs_statements"] {
        refuse_until(&clickhouse, &db, table, until);
    }
    std::thread::scope(|scope| {
        for (i, b) in batches.iter().enumerate() {
            let server = &p[i % p.len()];
            scope.spawn(move || {
                let r = server.post(&json!(b));
                assert_eq!(r.status(), 200, "batch {i} acknowledged in its turn");
            });
        }
    });
    assert!(
        p.iter()
            .any(|s| metric(s, "xlrs_clickhouse_inserts_in_turn_total").is_some_and(|n| n > 0)),
        "inserts were refused and sent again"
    );
    let sent: std::collections::BTreeSet<String> = batches
        .iter()
        .flatten()
        .map(|s| s["id"].as_str().expect("an id").to_owned())
        .collect();
    let listed = crate::replicas::walk(
        &p,
        &format!("registration={registration}&ascending=true&limit=7"),
        100,
    );
    let listed_ids: Vec<&str> = listed.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(listed_ids.len(), sent.len(), "each statement listed once");
    assert_eq!(
        listed_ids
            .iter()
            .map(|id| id.to_string())
            .collect::<std::collections::BTreeSet<_>>(),
        sent
    );
}
