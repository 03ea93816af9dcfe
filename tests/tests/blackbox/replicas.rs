//! Several xlrs processes over one database, as replicas behind a load balancer: whatever one
//! process stores, every other serves at once — statements, attachments, canonical activity
//! definitions, voiding, conflicts, document preconditions (acted on by the database), and no
//! acknowledged statement lost when one process is killed under load. Each test starts its
//! database and three processes, each with a data dir of its own; they run in the pass without
//! `TEST_STORE`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Barrier, Mutex, OnceLock};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_tests::databases::{ClickHouse, Elasticsearch, Mongo};
use xlrs_tests::{
    attachment_statement, enc, id_of, multipart_body, post_batches_of_until, post_batches_until,
    statement, unique, RequestBuilder, Server,
};

use crate::admission::install_admission;
use crate::forwarding::{eventually_within, forwarding_to, metric};
use crate::replicas_admissions::{
    statements_admitted_through_every_process_at_once_are_listed_once_by_each, WAIVER,
};
use crate::replicas_erasure::an_erasure_through_one_process_holds_on_every_other_while_they_write;
use crate::replicas_races::one_id_sent_at_once_through_every_process;
use crate::replicas_retention::{
    a_retention_pass_asked_of_every_process_at_once_runs_once, RETENTION,
};
use crate::XLRS;

/// Whether these tests run in this pass: each starts the store it names, so they run
/// once, in the pass without `TEST_STORE` (the `TEST_STORE` passes would only repeat them).
fn runs_here() -> bool {
    std::env::var("TEST_STORE").is_err()
}

/// Three processes over the database `settings` name, each forwarding to `target`,
/// retaining as [`RETENTION`] says and with the admission plugin [`WAIVER`] installed, as an
/// operator installs a plugin on every replica; the first, started first, takes the
/// forwarding lease.
fn three_over(settings: &[(&str, String)], target: &Server) -> Vec<Server> {
    let forwarding = forwarding_to(target.base());
    let mut env: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("XLRS_FORWARDING", &forwarding));
    env.extend(RETENTION);
    let start = || {
        let dir = tempfile::tempdir().expect("temp dir");
        install_admission(dir.path(), WAIVER, "waive-all", 1);
        Server::start_in(XLRS, dir, &env)
    };
    let first = start();
    eventually_within(
        Duration::from_secs(30),
        "the first process forwards",
        || metric(&first, "xlrs_forwarding_holder") == Some(1),
    );
    let mut p = vec![first];
    p.extend((0..2).map(|_| start()));
    p
}

/// Which of the processes forward now.
fn holders(p: &[Server]) -> Vec<usize> {
    (0..p.len())
        .filter(|i| metric(&p[*i], "xlrs_forwarding_holder") == Some(1))
        .collect()
}

/// Forwarding from a database store (xAPI is silent; Ralph's `XAPI_FORWARDINGS`): the three
/// processes keep one cursor per target in the database and one of them at a time forwards.
fn one_process_at_a_time_forwards(p: &[Server], target: &Server) {
    assert_eq!(
        holders(p),
        [0],
        "the first process holds the target; the others wait"
    );
    let id = id_of(p[2].post(&statement()));
    eventually_within(
        Duration::from_secs(60),
        "a statement another process stored is forwarded",
        || target.get_statement(&id).status() == 200,
    );
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
pub(crate) fn definition(server: &Server, activity: &str) -> Value {
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
    // The StatementRef filter rule (xAPI Data 2.4.4.1.1): a statement referring to one that
    // matches a filter matches too, whichever process stored each and whichever reads.
    let target = statement();
    let target_id = id_of(p[0].post(&target));
    let referring = json!({
        "actor": {"mbox": format!("mailto:{}@example.org", unique())},
        "verb": {"id": "http://example.org/verbs/commented"},
        "object": {"objectType": "StatementRef", "id": target_id},
    });
    let referring_id = id_of(p[1].post(&referring));
    let by_target_agent = format!("agent={}", enc(&target["actor"].to_string()));
    for server in p {
        let ids: Vec<String> = server.query(&by_target_agent)["statements"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s["id"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            ids,
            [referring_id.clone(), target_id.clone()],
            "the target and what refers to it"
        );
    }
    id_of(p[1].post(&voiding));
    assert_eq!(p[2].get_statement(&id).status(), 404, "voided everywhere");
    let r = p[0]
        .xapi(Method::GET, &format!("/statements?voidedStatementId={id}"))
        .send()
        .expect("GET");
    assert_eq!(r.status(), 200, "found as voided through the first");
}

/// A State document of its own (a new agent's).
fn document_path() -> String {
    let agent = enc(&json!({"mbox": format!("mailto:{}@example.org", unique())}).to_string());
    format!(
        "/activities/state?activityId={}&agent={agent}&stateId=progress",
        enc("http://example.org/replicas/course")
    )
}

/// PUTs of the document at `path` under the precondition `(header, value)`, `per_process`
/// through each process, all released at once, each with content of its own (`{field: i}`;
/// an ETag is the content's SHA-1, so a write of the same content keeps the version); their
/// statuses, sorted.
fn write_one_document_through_each_at_once(
    p: &[Server],
    per_process: usize,
    path: &str,
    (header, value): (&str, &str),
    field: &str,
) -> Vec<u16> {
    let puts = p
        .iter()
        .flat_map(|server| std::iter::repeat_n(server, per_process))
        .enumerate()
        .map(|(i, server)| {
            server
                .xapi(Method::PUT, path)
                .header(header, value)
                .header("Content-Type", "application/json")
                .body(json!({ field: i }).to_string())
        })
        .collect();
    let mut statuses = statuses_at_once(puts);
    statuses.sort_unstable();
    statuses
}

/// Sends `requests` all at once, each from a thread of its own, released together: their
/// statuses, in the order of `requests`.
pub(crate) fn statuses_at_once(requests: Vec<RequestBuilder>) -> Vec<u16> {
    let start = Barrier::new(requests.len());
    std::thread::scope(|scope| {
        let sent: Vec<_> = requests
            .into_iter()
            .map(|request| {
                let start = &start;
                scope.spawn(move || {
                    start.wait();
                    request.send().expect("sent").status().as_u16()
                })
            })
            .collect();
        sent.into_iter()
            .map(|t| t.join().expect("sender"))
            .collect()
    })
}

/// Concurrency control (xAPI Communication 2.2.3.4): of simultaneous creations of one document
/// (`If-None-Match: *`) through different processes, and of simultaneous updates of one
/// version (`If-Match` with its ETag), the database lets exactly one succeed.
fn one_of_many_simultaneous_creations_wins_the_others_get_412(p: &[Server]) {
    let per_process = 8;
    let mut expected = vec![412; p.len() * per_process];
    expected[0] = 204;
    for _ in 0..30 {
        let path = document_path();
        assert_eq!(
            write_one_document_through_each_at_once(
                p,
                per_process,
                &path,
                ("If-None-Match", "*"),
                "created_by"
            ),
            expected,
            "creations"
        );
        let etag = p[1]
            .xapi(Method::GET, &path)
            .send()
            .expect("GET")
            .headers()
            .get("ETag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .expect("an ETag");
        assert_eq!(
            write_one_document_through_each_at_once(
                p,
                per_process,
                &path,
                ("If-Match", &etag),
                "updated_by"
            ),
            expected,
            "updates of one version"
        );
    }
}

/// One of three processes killed (SIGKILL) while all three take writes: every statement any
/// process acknowledged is served by the two left, and they kept taking writes. The one killed
/// was forwarding: one of the two left takes the target over once its lease runs out, and
/// every acknowledged statement reaches the target.
fn a_process_killed_under_load_loses_nothing_acknowledged(mut p: Vec<Server>, target: &Server) {
    let (stop, killed) = (AtomicBool::new(false), OnceLock::<Instant>::new());
    // Each acknowledged id, with whether its batch was sent after the kill.
    let acknowledged = Mutex::new(Vec::<(String, bool)>::new());
    let victim = p.remove(0);
    let bases: Vec<String> = std::iter::once(&victim)
        .chain(&p)
        .map(|s| s.base().to_string())
        .collect();
    std::thread::scope(|scope| {
        for base in &bases {
            for _ in 0..2 {
                let (stop, killed, acknowledged) = (&stop, &killed, &acknowledged);
                scope.spawn(move || {
                    post_batches_until(base, stop, |ids, sent| {
                        let after_kill = killed.get().is_some_and(|kill| sent > *kill);
                        let mut acknowledged = acknowledged.lock().expect("not poisoned");
                        acknowledged.extend(ids.into_iter().map(|id| (id, after_kill)));
                    })
                });
            }
        }
        std::thread::sleep(Duration::from_millis(1500));
        let _ = killed.set(Instant::now());
        let _ = victim.stop(); // SIGKILL while every process takes writes
                               // Until the two left have acknowledged batches sent after the kill (a slow database
                               // may take seconds per batch), for at most a minute.
        let deadline = Instant::now() + Duration::from_secs(60);
        let after_kill = || {
            let acknowledged = acknowledged.lock().expect("not poisoned");
            acknowledged.iter().filter(|(_, after)| *after).count()
        };
        while after_kill() < 40 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        stop.store(true, Ordering::Relaxed);
    });
    let acknowledged = acknowledged.into_inner().expect("not poisoned");
    assert!(
        acknowledged.iter().any(|(_, after)| *after),
        "the processes left kept taking writes after the kill"
    );
    for (i, server) in p.iter().enumerate() {
        let missing: Vec<&String> = acknowledged
            .iter()
            .map(|(id, _)| id)
            .filter(|id| server.get_statement(id).status() != 200)
            .collect();
        assert!(
            missing.is_empty(),
            "process {i} lacks {} of {} acknowledged statements, e.g. {:?}",
            missing.len(),
            acknowledged.len(),
            missing.first()
        );
    }
    // Within its lease (15 s), and on ClickHouse within the claim it may have left unwritten
    // on the cursor (30 s).
    eventually_within(
        Duration::from_secs(120),
        "one of the two left forwards",
        || holders(&p).len() == 1,
    );
    let mut unsent: Vec<&String> = acknowledged.iter().map(|(id, _)| id).collect();
    eventually_within(
        Duration::from_secs(180),
        "every acknowledged statement reaches the target",
        || {
            unsent.retain(|id| target.get_statement(id).status() != 200);
            unsent.is_empty()
        },
    );
    assert_eq!(holders(&p).len(), 1, "still one process forwards");
}

/// How many statements a listing by `agent` (and, with `related`, everywhere it appears)
/// through `server` holds.
pub(crate) fn listed_by(server: &Server, agent: &Value, related: bool) -> usize {
    let page = server.query(&format!(
        "agent={}&related_agents={related}",
        enc(&agent.to_string())
    ));
    page["statements"].as_array().map_or(usize::MAX, Vec::len)
}

/// A listing of `query` walked through `more` links to its end or for at most `pages` pages,
/// each page asked of the next process in turn: (id, `stored`) in listing order.
pub(crate) fn walk(p: &[Server], query: &str, pages: usize) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut page = p[0].query(query);
    for turn in 1..=pages {
        for s in page["statements"].as_array().expect("statements") {
            found.push((
                s["id"].as_str().expect("id").to_owned(),
                s["stored"].as_str().expect("stored").to_owned(),
            ));
        }
        let more = page["more"].as_str().unwrap_or_default();
        let Some(next) = more.strip_prefix("/xAPI/statements?") else {
            return found;
        };
        page = p[turn % p.len()].query(next);
    }
    found
}

/// Statement positions are unique and ordered across processes (xAPI 2.0 Data 2.4.8: `stored`
/// orders statements; Communication 2.1.3: the `more` IRL gives the rest of the result): while
/// all three take writes, every ascending walk through `more` links (each page from another
/// process) sees, of all statements stored up to the last one it saw, every one: none skipped
/// by a tie or by a write that became visible late; and `stored` never repeats.
fn paging_through_any_process_skips_nothing_while_all_write(p: &[Server]) {
    let registration = uuid::Uuid::new_v4().to_string();
    let make = || {
        let mut s = statement();
        s["context"] = json!({"registration": registration});
        s
    };
    let query = format!("registration={registration}&ascending=true&limit=40");
    let (stop, acknowledged) = (AtomicBool::new(false), Mutex::new(Vec::<String>::new()));
    let walks: Vec<(i64, Vec<(String, String)>)> = std::thread::scope(|scope| {
        for server in p.iter().chain(p) {
            let (stop, acknowledged, make) = (&stop, &acknowledged, &make);
            scope.spawn(move || {
                post_batches_of_until(server.base(), stop, make, |ids, _| {
                    acknowledged.lock().expect("not poisoned").extend(ids);
                })
            });
        }
        let walker = scope.spawn(|| {
            let started = Instant::now();
            let mut walks = Vec::new();
            // Four seconds of walks, and on, while the writers write, until two found
            // something: a slow machine writes less in the same time (bounded by two minutes).
            let found = |walks: &Vec<(i64, Vec<(String, String)>)>| {
                walks.iter().filter(|(_, w)| !w.is_empty()).count()
            };
            while started.elapsed() < Duration::from_secs(4)
                || (found(&walks) < 2 && started.elapsed() < Duration::from_secs(120))
            {
                // From a moment ago, so each walk chases the statements being written.
                let since = chrono::Utc::now() - chrono::Duration::milliseconds(300);
                let since = since.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
                let from = format!("{query}&since={}", enc(&since));
                walks.push((micros(&since), walk(p, &from, 25)));
            }
            walks
        });
        let walks = walker.join();
        stop.store(true, Ordering::Relaxed);
        walks.expect("the walker")
    });
    let all = walk(p, &query, usize::MAX);
    let acknowledged = acknowledged.into_inner().expect("not poisoned");
    assert!(
        acknowledged.len() >= 200,
        "the writers wrote ({})",
        acknowledged.len()
    );
    let mut ids: Vec<&String> = all.iter().map(|(id, _)| id).collect();
    ids.sort_unstable();
    let mut expected: Vec<&String> = acknowledged.iter().collect();
    expected.sort_unstable();
    assert_eq!(
        ids, expected,
        "the final walk lists each acknowledged statement once"
    );
    let mut positions: Vec<i64> = all.iter().map(|(_, stored)| micros(stored)).collect();
    assert!(
        positions.is_sorted(),
        "ascending walks are ordered by stored"
    );
    positions.dedup();
    assert_eq!(
        positions.len(),
        all.len(),
        "no two statements share a stored"
    );
    assert!(
        walks.iter().filter(|(_, w)| !w.is_empty()).count() >= 2,
        "walks were made while the writers wrote"
    );
    for (since, walk) in &walks {
        let Some(reached) = walk.iter().map(|(_, stored)| micros(stored)).max() else {
            continue;
        };
        let seen: std::collections::HashSet<&String> = walk.iter().map(|(id, _)| id).collect();
        let skipped: Vec<&(String, String)> = all
            .iter()
            .filter(|(id, stored)| {
                (since + 1..=reached).contains(&micros(stored)) && !seen.contains(id)
            })
            .collect();
        assert!(
            skipped.is_empty(),
            "a walk of {} statements skipped {} stored before its last, e.g. {:?}",
            walk.len(),
            skipped.len(),
            skipped.first()
        );
    }
    let descending = walk(
        p,
        &format!("registration={registration}&limit=40"),
        usize::MAX,
    );
    assert_eq!(
        descending.len(),
        all.len(),
        "a descending walk lists them all too"
    );
}

/// Microseconds since the epoch of a `stored` timestamp.
pub(crate) fn micros(stored: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(stored)
        .expect("stored is RFC 3339")
        .timestamp_micros()
}

/// Credentials managed through the admin API live in the database: one created, rotated or
/// removed through one process counts on every other within about a second.
fn credentials_changed_through_one_process_count_on_every_other(p: &[Server]) {
    let created = crate::admin::create(&p[0], &json!({"scopes": ["statements/write"]}));
    let key = created["key"].as_str().expect("key");
    let secret = created["secret"].as_str().expect("secret");
    assert_eq!(created["source"], "database");
    for server in &p[1..] {
        eventually_within(
            Duration::from_secs(5),
            "the credential counts there",
            || crate::admin::post_as(server, key, secret) == 200,
        );
    }
    let r = p[2]
        .raw(Method::DELETE, &format!("/admin/credentials/{key}"))
        .basic_auth("admin", Some(xlrs_tests::ADMIN_PASSWORD))
        .send()
        .expect("DELETE");
    assert_eq!(r.status(), 204);
    for server in &p[..2] {
        eventually_within(Duration::from_secs(5), "the removal counts there", || {
            crate::admin::post_as(server, key, secret) == 401
        });
    }
}

fn rules_across(p: &[Server]) {
    credentials_changed_through_one_process_count_on_every_other(p);
    paging_through_any_process_skips_nothing_while_all_write(p);
    an_attachment_stored_through_one_process_is_served_by_the_others(p);
    statements_admitted_through_every_process_at_once_are_listed_once_by_each(p);
    definitions_given_through_different_processes_merge_into_one_everywhere(p);
    statements_voiding_and_conflicts_hold_across_processes(p);
    an_erasure_through_one_process_holds_on_every_other_while_they_write(p);
    a_retention_pass_asked_of_every_process_at_once_runs_once(p);
}

#[test]
fn three_processes_over_one_clickhouse_serve_what_each_stored() {
    if !runs_here() {
        return;
    }
    let clickhouse = ClickHouse::start();
    let database = format!("xlrs_replicas_{}", unique());
    let target = Server::start(XLRS);
    let p = three_over(
        &[
            ("XLRS_STORE", "clickhouse".into()),
            ("XLRS_CLICKHOUSE__URL", clickhouse.url()),
            ("XLRS_CLICKHOUSE__DATABASE", database.clone()),
        ],
        &target,
    );
    rules_across(&p);
    one_id_sent_at_once_through_every_process(
        &p,
        Some(&|id: &str| {
            let count = |table: &str, column: &str| -> usize {
                let sql = format!("SELECT count() FROM {database}.{table} WHERE {column} = '{id}'");
                clickhouse.sql(&sql).trim().parse().unwrap_or(usize::MAX)
            };
            (
                count("xlrs_statements", "id"),
                count("xapi_events_all", "event_id"),
            )
        }),
    );
    one_of_many_simultaneous_creations_wins_the_others_get_412(&p);
    one_process_at_a_time_forwards(&p, &target);
    a_process_killed_under_load_loses_nothing_acknowledged(p, &target);
}

#[test]
fn three_processes_over_one_mongodb_serve_what_each_stored() {
    if !runs_here() {
        return;
    }
    let mongo = Mongo::start();
    let target = Server::start(XLRS);
    let p = three_over(
        &[
            ("XLRS_STORE", "mongodb".into()),
            ("XLRS_MONGODB__URI", mongo.uri()),
            ("XLRS_MONGODB__DATABASE", format!("replicas_{}", unique())),
        ],
        &target,
    );
    rules_across(&p);
    one_id_sent_at_once_through_every_process(&p, None);
    one_of_many_simultaneous_creations_wins_the_others_get_412(&p);
    one_process_at_a_time_forwards(&p, &target);
    a_process_killed_under_load_loses_nothing_acknowledged(p, &target);
}

#[test]
fn three_processes_over_one_elasticsearch_serve_what_each_stored() {
    if !runs_here() {
        return;
    }
    let elasticsearch = Elasticsearch::start();
    let target = Server::start(XLRS);
    let p = three_over(
        &[
            ("XLRS_STORE", "elasticsearch".into()),
            ("XLRS_ELASTICSEARCH__URL", elasticsearch.url()),
        ],
        &target,
    );
    rules_across(&p);
    one_id_sent_at_once_through_every_process(&p, None);
    one_of_many_simultaneous_creations_wins_the_others_get_412(&p);
    one_process_at_a_time_forwards(&p, &target);
    a_process_killed_under_load_loses_nothing_acknowledged(p, &target);
}
