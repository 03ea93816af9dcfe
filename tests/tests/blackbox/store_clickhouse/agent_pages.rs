//! Queries by agent and activity over ClickHouse: the index filled behind the writes and the rows
//! past it, a pseudonymized statement's index rows, and pages by agent asked for together.

use super::*;

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
            let ids = post_one_each(&server, &agents, |s| {
                if experienced {
                    s["verb"]["id"] = json!(EXPERIENCED);
                }
                if registered {
                    s["context"] = json!({ "registration": registration });
                }
            });
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

/// With `clickhouse.page_queries = 1` a process runs one query of pages by agent at a time:
/// pages asked for while it runs wait, and are read together in the next, each still its
/// own agent's. Checked in the engine's query log: no such query began before the one before
/// it had ended (the engine logs a query's end before it sends the end of its answer). With
/// 2 the same check found overlaps of up to 9 ms.
#[test]
fn with_one_page_query_at_a_time_pages_asked_for_meanwhile_wait_and_are_read_together() {
    let clickhouse = ClickHouse::start_with_query_log();
    let db = database();
    let server = start_writing_with(
        &clickhouse,
        &db,
        "one",
        &[("XLRS_CLICKHOUSE__PAGE_QUERIES", "1")],
    );
    let agents = six_agents();
    let mut stored: Vec<Vec<String>> = vec![Vec::new(); agents.len()];
    for _ in 0..3 {
        let ids = post_one_each(&server, &agents, |_| {});
        for (of_agent, id) in stored.iter_mut().zip(ids) {
            of_agent.insert(0, id);
        }
    }
    wait_until_indexed(&clickhouse, &db);
    let cases: Vec<(String, Vec<String>)> = agents
        .iter()
        .zip(&stored)
        .flat_map(|(agent, newest_first)| {
            let a = enc(&agent.to_string());
            [
                (format!("agent={a}"), newest_first.clone()),
                (format!("agent={a}&limit=2"), newest_first[..2].to_vec()),
            ]
        })
        .collect();
    for _ in 0..5 {
        asked_together_each_page_is(&server, &cases, "one");
    }
    clickhouse.sql("SYSTEM FLUSH LOGS");
    let spans: Vec<(i64, i64)> = clickhouse
        .sql(&format!(
            "SELECT toUnixTimestamp64Micro(query_start_time_microseconds), \
             toUnixTimestamp64Micro(event_time_microseconds) FROM system.query_log \
             WHERE type = 'QueryFinish' AND query_kind = 'Select' \
             AND has(tables, '{db}.xlrs_statements_by_agent') ORDER BY 1 FORMAT TSV"
        ))
        .lines()
        .map(|line| {
            let (start, end) = line.split_once('\t').expect("two columns");
            (
                start.parse().expect("a start"),
                end.parse().expect("an end"),
            )
        })
        .collect();
    assert!(spans.len() > 1, "pages were read: {spans:?}");
    let overlaps: Vec<i64> = spans.windows(2).map(|w| w[0].1 - w[1].0).collect();
    assert!(
        overlaps.iter().all(|&o| o <= 0),
        "a page query began before the one before it ended (µs): {overlaps:?}"
    );
}

/// Unset, `clickhouse.page_queries` is half the threads the engine gives a query
/// (`max_threads`, one per core by default), at least 1; set, it is what it says. An engine
/// giving each query one thread still serves pages (one query at a time).
#[test]
fn unset_the_page_queries_at_once_are_half_the_engines_threads_at_least_one() {
    let page_queries =
        |server: &Server| metric(server, "xlrs_clickhouse_page_queries").expect("the gauge");
    let eight = ClickHouse::start_with_max_threads(8);
    let db = database();
    assert_eq!(page_queries(&start_writing(&eight, &db, "one")), 4);
    let set = start_writing_with(
        &eight,
        &db,
        "one",
        &[("XLRS_CLICKHOUSE__PAGE_QUERIES", "3")],
    );
    assert_eq!(page_queries(&set), 3);
    let one = ClickHouse::start_with_max_threads(1);
    let server = start_writing(&one, &db, "one");
    assert_eq!(page_queries(&server), 1);
    let s = statement();
    let response = server.post(&s);
    assert_eq!(response.status(), 200);
    let ids: Vec<String> = response.json().expect("ids");
    let page = server.query(&format!("agent={}", enc(&s["actor"].to_string())));
    assert_eq!(ids_of(&page), ids);
}

/// The verb some statements of the pages-together tests have.
const EXPERIENCED: &str = "http://adlnet.gov/expapi/verbs/experienced";

/// Six agents of their own.
fn six_agents() -> Vec<Value> {
    (0..6).map(|_| statement()["actor"].clone()).collect()
}

/// Posts one statement of each of `agents` in one batch, each as `edit` makes it; their
/// ids, in the agents' order.
fn post_one_each(server: &Server, agents: &[Value], edit: impl Fn(&mut Value)) -> Vec<String> {
    let batch: Vec<Value> = agents
        .iter()
        .map(|agent| {
            let mut s = statement();
            s["actor"] = agent.clone();
            edit(&mut s);
            s
        })
        .collect();
    let response = server.post(&json!(batch));
    assert_eq!(response.status(), 200);
    response.json().expect("ids")
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
            let ids = post_one_each(&server, &agents, |s| {
                if round % 2 == 1 {
                    s["verb"]["id"] = json!(EXPERIENCED);
                }
            });
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

/// A statement by `actor` whose object is a StatementRef to `target`, voiding it or not.
fn referring(actor: &str, target: &str, voids: bool) -> Value {
    let verb = if voids { "voided" } else { "commented" };
    json!({
        "actor": {"mbox": actor},
        "verb": {"id": format!("http://adlnet.gov/expapi/verbs/{verb}")},
        "object": {"objectType": "StatementRef", "id": target}
    })
}

/// `POST /admin/erasure` of the agent with `mbox`, for real; asserts the 200.
fn erase(server: &Server, mbox: &str) {
    let r = server
        .raw(Method::POST, "/admin/erasure")
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .json(&json!({"agent": {"mbox": mbox}, "dry_run": false}))
        .send()
        .expect("POST /admin/erasure");
    assert_eq!(r.status(), 200, "{}", r.text().unwrap_or_default());
}

/// With one writer, a process keeps the StatementRefs table's voided ids and targets between
/// pages; each voiding and StatementRef it writes is on the next page by agent or activity,
/// and so is an erasure of the voider (what was voided is back).
#[test]
fn with_one_writer_the_statement_refs_a_page_by_agent_keeps_follow_every_voiding_reference_and_erasure(
) {
    let clickhouse = ClickHouse::start();
    let db = database();
    let server = start_writing(&clickhouse, &db, "one");
    let voider = format!("mailto:voider-{}@example.org", unique());
    // Another agent's statement voided: the table holds rows, none about this agent.
    let elsewhere = id_of(server.post(&statement()));
    id_of(server.post(&referring(&voider, &elsewhere, true)));
    let s = statement();
    let actor = enc(&s["actor"].to_string());
    let [s1, s2, s3] = [(); 3].map(|_| id_of(server.post(&s)));
    // By agent (the agent index) and by activity (the statements table): the same statements.
    let activity = enc(s["object"]["id"].as_str().expect("an activity id"));
    let pages = || {
        let by_agent = server.query(&format!("agent={actor}"));
        let by_activity = server.query(&format!("activity={activity}"));
        assert_eq!(ids_of(&by_agent), ids_of(&by_activity));
        by_agent
    };
    for _ in 0..2 {
        assert_eq!(ids_of(&pages()), [&s3, &s2, &s1]);
    }
    // The voided statement leaves the page; the voiding one, which targets a match, is on it.
    let v1 = id_of(server.post(&referring(&voider, &s1, true)));
    assert_eq!(ids_of(&pages()), [&v1, &s3, &s2]);
    let other = format!("mailto:commenter-{}@example.org", unique());
    let r3 = id_of(server.post(&referring(&other, &s3, false)));
    assert_eq!(ids_of(&pages()), [&r3, &v1, &s3, &s2]);
    wait_until_indexed(&clickhouse, &db);
    assert_eq!(ids_of(&pages()), [&r3, &v1, &s3, &s2]);
    // Erasing the voider takes its voidings away: what they voided is back.
    erase(&server, &voider);
    assert_eq!(ids_of(&pages()), [&r3, &s3, &s2, &s1]);
}

/// As many StatementRefs as a process takes as sets (1,000: the largest parameters), then
/// more, when pages read the table itself: pages by agent (alone and together) and by
/// activity keep the same rules either way.
#[test]
fn with_as_many_statement_refs_as_a_page_takes_as_sets_and_more_pages_still_leave_voided_statements_out_and_take_referring_ones(
) {
    let clickhouse = ClickHouse::start();
    let db = database();
    let server = start_writing(&clickhouse, &db, "one");
    let elsewhere = format!("mailto:elsewhere-{}@example.org", unique());
    let unrelated = |n: usize| -> Value {
        (0..n)
            .map(|_| referring(&elsewhere, &uuid::Uuid::new_v4().to_string(), false))
            .collect()
    };
    // 996 here and 4 below: 1,000 rows in the StatementRefs table.
    assert_eq!(server.post(&unrelated(996)).status(), 200);
    let agents = [statement(), statement()];
    let mut expected = Vec::new();
    for s in &agents {
        let s1 = id_of(server.post(s));
        let s2 = id_of(server.post(s));
        let v1 = id_of(server.post(&voiding(&s1)));
        let commenter = format!("mailto:commenter-{}@example.org", unique());
        let r2 = id_of(server.post(&referring(&commenter, &s2, false)));
        let activity = enc(s["object"]["id"].as_str().expect("an activity id"));
        expected.push((enc(&s["actor"].to_string()), activity, vec![r2, v1, s2]));
    }
    let server = &server;
    for round in [
        "sets, past the index",
        "sets",
        "the table, past the index",
        "the table",
    ] {
        if round == "the table, past the index" {
            assert_eq!(server.post(&unrelated(1)).status(), 200);
        }
        std::thread::scope(|scope| {
            let asked: Vec<_> = expected
                .iter()
                .map(|(actor, _, _)| scope.spawn(move || server.query(&format!("agent={actor}"))))
                .collect();
            for ((_, activity, ids), page) in expected.iter().zip(asked) {
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                let page = page.join().expect("a page");
                assert_eq!(ids_of(&page), ids, "by agent, {round}");
                let by_activity = server.query(&format!("activity={activity}"));
                assert_eq!(ids_of(&by_activity), ids, "by activity, {round}");
            }
        });
        wait_until_indexed(&clickhouse, &db);
    }
}
