//! Inserts a cluster refuses while the previous insert into their table waits for its quorum
//! (code 286, `UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE`, with `insert_quorum_parallel = 0`):
//! xlrs sends them again, for up to 5 s. One engine without Keeper cannot give that code
//! itself, so here a table constraint throws it (`throwIf` with an error code): checked
//! before anything of the insert is written, as a cluster refuses it. A table refuses until
//! the test drops its constraint, once it has seen the insert refused.

use std::time::Duration;

use super::*;

/// Makes `table` of `db` refuse every insert with code 286 until [`take_inserts`].
fn refuse(clickhouse: &ClickHouse, db: &str, table: &str) {
    clickhouse.sql(&format!(
        "ALTER TABLE {db}.{table} ADD CONSTRAINT in_turn CHECK \
         throwIf(1, 'the previous insert waits for its quorum', toInt32(286)) = 0"
    ));
}

/// Makes `table` of `db` take inserts again.
fn take_inserts(clickhouse: &ClickHouse, db: &str, table: &str) {
    clickhouse.sql(&format!("ALTER TABLE {db}.{table} DROP CONSTRAINT in_turn"));
}

/// The count `sql` (a `SELECT count()`) answers.
fn count(clickhouse: &ClickHouse, sql: &str) -> u64 {
    clickhouse.sql(sql).trim().parse().expect("a count")
}

/// Rows of `table` of `db`, or those whose `column` is the UUID `id`.
fn rows_of(clickhouse: &ClickHouse, db: &str, table: &str, of: Option<(&str, &str)>) -> u64 {
    let filter = of.map_or(String::new(), |(column, id)| {
        format!(" WHERE {column} = toUUID('{id}')")
    });
    count(
        clickhouse,
        &format!("SELECT count() FROM {db}.{table}{filter}"),
    )
}

/// How many inserts into `table` of `db` the engine refused with code 286.
fn refusals(clickhouse: &ClickHouse, db: &str, table: &str) -> u64 {
    clickhouse.sql("SYSTEM FLUSH LOGS");
    count(
        clickhouse,
        &format!(
            "SELECT count() FROM system.query_log WHERE type = 'ExceptionWhileProcessing' \
             AND exception_code = 286 AND has(tables, '{db}.{table}')"
        ),
    )
}

/// The inserts `server` has sent again so far.
fn sent_again(server: &Server) -> u64 {
    metric(server, "xlrs_clickhouse_inserts_in_turn_total").unwrap_or(0)
}

/// Waits (at most 4 s, inside xlrs's 5 s of patience) until the engine has refused an
/// insert into `table` of `db`. Counted per table from the query log, not from the
/// process's count of inserts sent again: that count also moves for an insert into the
/// previous table refused just before that table took inserts again.
fn refused(clickhouse: &ClickHouse, db: &str, table: &str) {
    eventually_within(Duration::from_secs(4), table, || {
        refusals(clickhouse, db, table) > 0
    });
}

/// While the ledger's, the events', the statements' and the definitions' tables refuse
/// inserts for a previous insert's quorum, a POST waits its turn at each: each table takes
/// inserts again only once the round's insert into it was refused (the round writes them in
/// that order). The POST is acknowledged, its statement stored once in each table and its
/// definition kept.
#[test]
fn inserts_refused_while_the_previous_insert_waits_for_its_quorum_are_sent_again() {
    let clickhouse = ClickHouse::start_with_throwif_codes();
    let db = database();
    // Several writers: each round also reserves its positions in the ledger's table.
    let server = start_on(&clickhouse, &db);
    let tables = [
        "xlrs_statements_positions",
        "xapi_events_all",
        "xlrs_statements",
        "xlrs_statements_definitions",
    ];
    for table in tables {
        refuse(&clickhouse, &db, table);
    }
    let reservations = rows_of(&clickhouse, &db, tables[0], None);
    let activity = format!("http://example.org/activity/in-turn-{}", unique());
    let name = json!({"en-US": "in turn"});
    let id = uuid::Uuid::new_v4().to_string();
    let mut defined = defining(&activity, name.clone());
    defined["id"] = json!(id);
    std::thread::scope(|scope| {
        let posted = scope.spawn(|| server.post(&defined).status());
        refused(&clickhouse, &db, tables[0]);
        take_inserts(&clickhouse, &db, tables[0]);
        eventually_within(Duration::from_secs(4), "the reservation is kept", || {
            rows_of(&clickhouse, &db, tables[0], None) > reservations
        });
        // Each later insert of the round: refused, then taken, before the next.
        for (table, id_column) in [
            (tables[1], Some("event_id")),
            (tables[2], Some("id")),
            (tables[3], None),
        ] {
            refused(&clickhouse, &db, table);
            assert_eq!(
                id_column.map_or(0, |c| rows_of(&clickhouse, &db, table, Some((c, &id)))),
                0,
                "nothing in {table} while it refuses"
            );
            take_inserts(&clickhouse, &db, table);
        }
        assert_eq!(
            posted.join().expect("the POST"),
            200,
            "acknowledged in its turn"
        );
    });
    for table in tables {
        assert!(
            refusals(&clickhouse, &db, table) > 0,
            "{table} refused inserts"
        );
    }
    assert_eq!(server.get_statement(&id).status(), 200);
    assert_eq!(rows_of(&clickhouse, &db, tables[2], Some(("id", &id))), 1);
    assert_eq!(
        rows_of(&clickhouse, &db, tables[1], Some(("event_id", &id))),
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
    refuse(&clickhouse, &db, "xlrs_statements");
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
    assert!(
        refusals(&clickhouse, &db, "xlrs_statements") > 1,
        "the insert was sent again before the answer"
    );
    assert!(sent_again(&server) > 0);
    assert_eq!(server.get_statement(&id).status(), 404);
    let event = Some(("event_id", id.as_str()));
    assert_eq!(rows_of(&clickhouse, &db, "xapi_events_all", event), 0);

    take_inserts(&clickhouse, &db, "xlrs_statements");
    assert_eq!(server.post(&s).status(), 200, "the re-send is stored");
    assert_eq!(server.get_statement(&id).status(), 200);
    let statement_row = Some(("id", id.as_str()));
    assert_eq!(
        rows_of(&clickhouse, &db, "xlrs_statements", statement_row),
        1
    );
    assert_eq!(rows_of(&clickhouse, &db, "xapi_events_all", event), 1);
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
    let tables = ["xlrs_statements_positions", "xlrs_statements"];
    for table in tables {
        refuse(&clickhouse, &db, table);
    }
    std::thread::scope(|scope| {
        let posts: Vec<_> = batches
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let server = &p[i % p.len()];
                scope.spawn(move || server.post(&json!(b)).status())
            })
            .collect();
        // The reservations wait their turn, then the rounds at the statements table.
        refused(&clickhouse, &db, tables[0]);
        take_inserts(&clickhouse, &db, tables[0]);
        eventually_within(
            Duration::from_secs(4),
            "a round reaches the statements",
            || rows_of(&clickhouse, &db, "xapi_events_all", None) > 0,
        );
        refused(&clickhouse, &db, tables[1]);
        take_inserts(&clickhouse, &db, tables[1]);
        for (i, post) in posts.into_iter().enumerate() {
            assert_eq!(post.join().expect("a POST"), 200, "batch {i} acknowledged");
        }
    });
    for table in tables {
        assert!(
            refusals(&clickhouse, &db, table) > 0,
            "{table} refused inserts"
        );
    }
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
