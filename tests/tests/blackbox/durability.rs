//! Durability of the embedded store: a statement acknowledged with 200 survives the server
//! being killed (SIGKILL, no shutdown) in the middle of sustained ingest.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use xlrs_tests::{post_batches_until, Server};

use crate::XLRS;

#[test]
fn every_acknowledged_statement_survives_a_sigkill_during_ingest() {
    let s = Server::start(XLRS);
    let base = s.base().to_string();
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let (base, acknowledged, stop) = (base.clone(), acknowledged.clone(), stop.clone());
            std::thread::spawn(move || {
                post_batches_until(&base, &stop, |ids, _| {
                    acknowledged.lock().unwrap().extend(ids)
                })
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
