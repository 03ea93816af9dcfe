//! The admission log with three processes over one database (README, "Real producers" and
//! "Several processes over one database"): statements admitted through every process at once
//! are each recorded once, at their statement's position, and every process lists them all,
//! a listing begun through one process continuing through another.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_tests::{statement_with_id, Server, ADMIN_PASSWORD};

use crate::admission::group_activity;
use crate::replicas::statuses_at_once;

/// The admission plugin every process of the suite has installed: fault-admission admitting
/// what validation refuses as sent, waiving the rules it breaks.
pub(crate) const WAIVER: &str = "waiver";

/// A page of `GET /admissions` through `server`: its records and its `after`.
fn admissions_page(server: &Server, after: Option<i64>, limit: usize) -> (Vec<Value>, Option<i64>) {
    let mut path = format!("/admissions?limit={limit}");
    if let Some(after) = after {
        path.push_str(&format!("&after={after}"));
    }
    let r = server
        .raw(Method::GET, &path)
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .expect("GET /admissions");
    assert_eq!(r.status(), 200);
    let page: Value = r.json().expect("JSON");
    let records = page["admissions"].as_array().expect("a list").clone();
    (records, page["after"].as_i64())
}

/// The whole admission log, a page of `limit` through each process in turn from `first`.
fn walk_admissions(p: &[Server], first: usize, limit: usize) -> Vec<Value> {
    let (mut all, mut after, mut page) = (Vec::new(), None, first);
    loop {
        let (records, next) = admissions_page(&p[page % p.len()], after, limit);
        all.extend(records);
        match next {
            Some(next) => after = Some(next),
            None => return all,
        }
        page += 1;
    }
}

/// Nine batches sent at once, three through each process, each mixing statements validation
/// refuses (an activity that says it is a `GroupActivity`, which the waiver admits) with valid
/// ones; then one admitted statement sent again, identical, through another process. Every
/// admitted statement is listed exactly once, by each process and by a listing that moves
/// from process to process, in ascending order of position, naming the plugin and the rule;
/// the re-send, which stored nothing, adds no record.
pub(crate) fn statements_admitted_through_every_process_at_once_are_listed_once_by_each(
    p: &[Server],
) {
    let batches: Vec<Value> = (0..3 * p.len())
        .map(|_| {
            json!((0..6)
                .map(|i| {
                    if i % 2 == 0 {
                        group_activity()
                    } else {
                        statement_with_id(&uuid::Uuid::new_v4().to_string())
                    }
                })
                .collect::<Vec<_>>())
        })
        .collect();
    let admitted: Vec<String> = batches
        .iter()
        .flat_map(|b| b.as_array().expect("a batch").iter())
        .filter(|s| s["object"]["objectType"] == "GroupActivity")
        .map(|s| s["id"].as_str().expect("id").to_string())
        .collect();
    let posts = batches
        .iter()
        .enumerate()
        .map(|(i, batch)| p[i % p.len()].xapi(Method::POST, "/statements").json(batch))
        .collect();
    let statuses = statuses_at_once(posts);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    // The first batch went through the first process; its first statement, again, through
    // the second.
    let again = &batches[0][0];
    assert_eq!(p[1].post(again).status(), 200, "an identical re-send");

    let ours = |records: Vec<Value>| -> Vec<Value> {
        records
            .into_iter()
            .filter(|r| admitted.iter().any(|id| r["statement"] == id.as_str()))
            .collect()
    };
    let listings = (0..p.len())
        .map(|first| ours(walk_admissions(p, first, 4)))
        .chain(std::iter::once(ours(admissions_page(&p[2], None, 1000).0)));
    for listed in listings {
        let mut times: HashMap<&str, usize> = HashMap::new();
        for record in &listed {
            *times
                .entry(record["statement"].as_str().expect("statement"))
                .or_default() += 1;
            assert_eq!(record["plugin"], WAIVER);
            assert_eq!(record["rules"], json!(["object-type"]));
            assert_eq!(record["repaired"], false);
        }
        assert_eq!(
            times.len(),
            admitted.len(),
            "every admitted statement is listed"
        );
        assert!(
            times.values().all(|n| *n == 1),
            "each once, the re-send adding none: {times:?}"
        );
        let seqs: Vec<i64> = listed
            .iter()
            .map(|r| r["seq"].as_i64().expect("seq"))
            .collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "in ascending order of position: {seqs:?}"
        );
    }
}
