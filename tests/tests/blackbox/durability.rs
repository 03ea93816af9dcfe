//! Durability of the embedded store: a statement acknowledged with 200 survives the server
//! being killed (SIGKILL, no shutdown) in the middle of sustained ingest.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use xlrs_tests::{statement, Server, ADMIN_PASSWORD};

use crate::XLRS;

#[test]
fn every_acknowledged_statement_survives_a_sigkill_during_ingest() {
    let s = Server::start(XLRS);
    let url = format!("{}/xAPI/statements", s.base());
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let (url, acknowledged, stop) = (url.clone(), acknowledged.clone(), stop.clone());
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::new();
                while !stop.load(Ordering::Relaxed) {
                    let batch: Vec<Value> = (0..20).map(|_| statement()).collect();
                    // A request cut by the kill gets no answer: only a 200 acknowledges.
                    let answer = http
                        .post(&url)
                        .basic_auth("admin", Some(ADMIN_PASSWORD))
                        .header("X-Experience-API-Version", "2.0.0")
                        .json(&json!(batch))
                        .send();
                    match answer {
                        Ok(r) if r.status() == 200 => {
                            if let Ok(ids) = r.json::<Vec<String>>() {
                                acknowledged.lock().unwrap().extend(ids);
                            }
                        }
                        Ok(_) => {}
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let data = s.stop(); // SIGKILL while the writers keep posting
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 20,
        "ingest ran before the kill ({} acknowledged)",
        acknowledged.len()
    );

    eprintln!(
        "{} statements acknowledged before the kill",
        acknowledged.len()
    );
    let s = Server::start_in(XLRS, data, &[]);
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|id| s.get_statement(id).status() != 200)
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged statements were lost, e.g. {:?}",
        missing.len(),
        acknowledged.len(),
        missing.first()
    );
}
