//! An erasure run through one of three processes over one database holds on every process at
//! once, while the other two go on storing statements: what it removed is gone everywhere (by
//! id, from listings by agent, her documents), what it pseudonymized names her nowhere, its
//! record is served by every process, and no statement acknowledged meanwhile is lost (README,
//! "Erasure and retention").

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use xlrs_tests::{enc, post_batches_of_until, unique, Server, ADMIN_PASSWORD};

use crate::erasure::{
    bob, by, erasure, listed, post, post_with_attachment, put_state, state_status,
};
use crate::replicas::{listed_by, walk};

/// The erasure of a person stored through all three processes, run through the third while
/// the first two store other statements.
pub(crate) fn an_erasure_through_one_process_holds_on_every_other_while_they_write(p: &[Server]) {
    let mbox = format!("mailto:erin-{}@example.org", unique());
    let her = json!({"objectType": "Agent", "name": "Erin", "mbox": mbox});
    let (with_attachment, _) = post_with_attachment(&p[0], her.clone(), mbox.as_bytes());
    let hers = post(&p[1], &by(her.clone()));
    let mut instructed = by(bob());
    instructed["context"] = json!({"instructor": her});
    let instructed = post(&p[1], &instructed);
    let mut mentions = by(bob());
    mentions["object"] = json!({"objectType": "SubStatement", "actor": her,
        "verb": {"id": "http://example.org/verbs/helped"}, "object": {"id": "http://example.org/a"}});
    let mentions = post(&p[2], &mentions);
    put_state(&p[0], &her, "erin");
    // Past a pass of ClickHouse's agent index (every second), and one statement after it.
    std::thread::sleep(Duration::from_millis(1500));
    let last = post(&p[2], &by(her.clone()));
    for server in p {
        assert_eq!(
            listed_by(server, &her, false),
            3,
            "her statements, everywhere"
        );
    }

    let other = format!("mailto:meanwhile-{}@example.org", unique());
    let meanwhile = || by(json!({"mbox": other}));
    let stop = AtomicBool::new(false);
    let acknowledged = Mutex::new(Vec::<String>::new());
    let receipt = std::thread::scope(|scope| {
        for server in &p[..2] {
            let (stop, acknowledged, meanwhile) = (&stop, &acknowledged, &meanwhile);
            scope.spawn(move || {
                post_batches_of_until(server.base(), stop, meanwhile, |ids, _| {
                    if let Ok(mut all) = acknowledged.lock() {
                        all.extend(ids);
                    }
                })
            });
        }
        std::thread::sleep(Duration::from_millis(300));
        let erased = erasure(&p[2], &json!({"agent": {"mbox": mbox}, "dry_run": false}));
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::Relaxed);
        erased
    });
    let (status, receipt) = receipt;
    assert_eq!(status, 200, "{receipt}");
    let removed: BTreeSet<String> = [&with_attachment, &hers, &instructed, &last]
        .into_iter()
        .cloned()
        .collect();
    assert_eq!(listed(&receipt, "removed"), removed);
    assert_eq!(
        listed(&receipt, "pseudonymized"),
        BTreeSet::from([mentions.clone()])
    );
    let record = format!(
        "/admin/erasure/{}",
        receipt["id"].as_str().unwrap_or_default()
    );

    for (i, server) in p.iter().enumerate() {
        for id in &removed {
            assert_eq!(
                server.get_statement(id).status(),
                404,
                "{id} is gone through process {i}"
            );
        }
        assert_eq!(
            listed_by(server, &her, true),
            0,
            "process {i} lists nothing of her"
        );
        let reported = server.get_statement(&mentions).text().unwrap_or_default();
        assert!(
            reported.contains("helped") && !reported.contains(&mbox) && !reported.contains("Erin"),
            "process {i}: {reported}"
        );
        assert_eq!(state_status(server, &her, "erin"), 404, "process {i}");
        let r = server
            .raw(Method::GET, &record)
            .basic_auth("admin", Some(ADMIN_PASSWORD))
            .send()
            .expect("GET the erasure's record");
        assert_eq!(r.status(), 200, "process {i} serves the record");
    }
    let acknowledged: BTreeSet<String> = acknowledged
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .collect();
    assert!(!acknowledged.is_empty(), "statements were stored meanwhile");
    let query = format!(
        "agent={}&limit=100",
        enc(&json!({"mbox": other}).to_string())
    );
    let listed: BTreeSet<String> = walk(p, &query, usize::MAX)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        listed, acknowledged,
        "what was stored meanwhile is all there, and only it"
    );
}
