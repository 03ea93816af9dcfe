//! Reactions (plugin contract v0.2, `reactor` world): a reactor named as a forwarding target
//! (`url = "plugin:<name>"`) is called with the statements after they are durably stored, at
//! least once, in order, retried with backoff while it fails. Checked with `plugins/webhook`
//! against a receiver run by the test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use xlrs_tests::{id_of, statement, Server};

use crate::forwarding::{eventually_within, metric};
use crate::XLRS;

const PASSED: &str = "http://adlnet.gov/expapi/verbs/passed";
const SECRET: &str = "s3cret-for-the-test";

/// One request the receiver got: its signature header and body.
#[derive(Clone, Debug)]
struct Delivery {
    signature: Option<String>,
    body: String,
}

/// A webhook receiver on a free port. `answer` gives the status line for each request body.
struct Receiver {
    port: u16,
    got: Arc<Mutex<Vec<Delivery>>>,
}

impl Receiver {
    fn start(answer: impl Fn(usize, &str) -> &'static str + Send + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let log = got.clone();
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let (mut length, mut signature) = (0usize, None);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if lower.starts_with("x-xlrs-signature:") {
                        signature = line.split_once(':').map(|(_, v)| v.trim().to_string());
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let body = String::from_utf8_lossy(&body).to_string();
                let status = answer(n, &body);
                if status.starts_with("200") {
                    log.lock().unwrap().push(Delivery { signature, body });
                }
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                );
            }
        });
        Self { port, got }
    }

    /// The ids of the statements delivered (answered 200), in the order they arrived.
    fn delivered_ids(&self) -> Vec<String> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .flat_map(|d| serde_json::from_str::<Vec<Value>>(&d.body).unwrap_or_default())
            .filter_map(|s| s["id"].as_str().map(str::to_string))
            .collect()
    }
}

/// A server whose one forwarding target is the webhook reactor (installed now when
/// `install`), sending passed statements to `receiver`.
fn server_with_webhook(receiver: &Receiver, install: bool) -> Server {
    let forwarding = json!([{"url": "plugin:webhook", "batch_size": 10}]).to_string();
    let s = Server::start_with(XLRS, &[("XLRS_FORWARDING", &forwarding)]);
    if install {
        install_webhook(&s, receiver);
    }
    s
}

fn install_webhook(s: &Server, receiver: &Receiver) {
    let port = receiver.port;
    let manifest = format!(
        "kind = \"reactor\"\n[capabilities]\nhttp = [\"127.0.0.1:{port}\"]\n[limits]\ntimeout_ms = 5000\n\
         [config]\nurl = \"http://127.0.0.1:{port}/hooks\"\nverbs = \"{PASSED}\"\nsecret = \"{SECRET}\"\n"
    );
    crate::plugins::install(s, "webhook", "webhook", &manifest);
    crate::plugins::wait_for(s, "webhook", crate::plugins::serving("webhook"));
}

fn with_verb(verb: &str) -> Value {
    let mut s = statement();
    s["verb"] = json!({"id": verb});
    s
}

fn within_a_minute(what: &str, done: impl FnMut() -> bool) {
    eventually_within(Duration::from_secs(60), what, done);
}

#[test]
fn each_stored_statement_with_the_verb_reaches_the_webhook_once_signed_and_in_order() {
    let receiver = Receiver::start(|_, _| "200 OK");
    let s = server_with_webhook(&receiver, true);
    let first = id_of(s.post(&with_verb(PASSED)));
    id_of(s.post(&with_verb("http://adlnet.gov/expapi/verbs/completed")));
    let second = id_of(s.post(&with_verb(PASSED)));
    within_a_minute("both passed statements delivered", || {
        receiver.delivered_ids().len() >= 2
    });
    assert_eq!(receiver.delivered_ids(), vec![first.clone(), second]);
    for delivery in receiver.got.lock().unwrap().iter() {
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(delivery.body.as_bytes());
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(delivery.signature.as_deref(), Some(expected.as_str()));
        let statements: Vec<Value> = serde_json::from_str(&delivery.body).unwrap();
        assert!(
            statements.iter().all(|st| st["stored"].is_string()),
            "as stored"
        );
    }
    within_a_minute("counted as forwarded to the reactor", || {
        metric(&s, "xlrs_forwarded_total").unwrap_or(0) >= 3
    });
}

#[test]
fn while_the_receiver_fails_statements_wait_and_then_arrive_in_order() {
    // The first three requests fail; the reactor asks to retry and the host waits longer.
    let receiver = Receiver::start(|n, _| {
        if n < 3 {
            "503 Service Unavailable"
        } else {
            "200 OK"
        }
    });
    let s = server_with_webhook(&receiver, true);
    let ids: Vec<String> = (0..3).map(|_| id_of(s.post(&with_verb(PASSED)))).collect();
    within_a_minute("every statement delivered after the failures", || {
        receiver.delivered_ids().len() >= 3
    });
    assert_eq!(
        receiver.delivered_ids(),
        ids,
        "in order, each once when answered 200"
    );
}

#[test]
fn a_statement_the_receiver_refuses_is_set_aside_and_the_next_still_arrives() {
    let receiver = Receiver::start(|_, body| {
        if body.contains("poison") {
            "422 Unprocessable Entity"
        } else {
            "200 OK"
        }
    });
    let s = server_with_webhook(&receiver, true);
    let mut poison = with_verb(PASSED);
    poison["result"] = json!({"response": "poison"});
    id_of(s.post(&poison));
    let next = id_of(s.post(&with_verb(PASSED)));
    within_a_minute("the next statement delivered", || {
        receiver.delivered_ids().contains(&next)
    });
    within_a_minute("the refused statement counted", || {
        metric(&s, "xlrs_forwarding_refused") == Some(1)
    });
}

#[test]
fn statements_stored_before_the_reactor_is_installed_wait_for_it() {
    let receiver = Receiver::start(|_, _| "200 OK");
    let s = server_with_webhook(&receiver, false);
    let id = id_of(s.post(&with_verb(PASSED)));
    within_a_minute("the statement waits", || {
        metric(&s, "xlrs_forwarding_waiting").unwrap_or(0) >= 1
    });
    std::thread::sleep(Duration::from_secs(1));
    assert!(receiver.delivered_ids().is_empty());
    install_webhook(&s, &receiver);
    within_a_minute("delivered once the reactor serves", || {
        receiver.delivered_ids() == vec![id.clone()]
    });
}

/// `plugins/derive-statement` as a reactor target: passed → completed about the parent.
fn server_with_derive_statement(env: &[(&str, &str)]) -> Server {
    let forwarding = json!([{"url": "plugin:derive-statement"}]).to_string();
    let mut env = env.to_vec();
    env.push(("XLRS_FORWARDING", &forwarding));
    let s = Server::start_with(XLRS, &env);
    let manifest = format!(
        "kind = \"reactor\"\n[config]\nwhen_verb = \"{PASSED}\"\n\
         then_verb = \"http://adlnet.gov/expapi/verbs/completed\"\nthen_display = \"completed\"\n"
    );
    crate::plugins::install(&s, "derive-statement", "derive-statement", &manifest);
    crate::plugins::wait_for(
        &s,
        "derive-statement",
        crate::plugins::serving("derive-statement"),
    );
    s
}

/// The statements about `activity` with verb `completed`, as the LRS lists them.
fn completions_of(s: &Server, activity: &str) -> Vec<Value> {
    let encode = |v: &str| v.replace(':', "%3A").replace('/', "%2F");
    let query = format!(
        "verb={}&activity={}",
        encode("http://adlnet.gov/expapi/verbs/completed"),
        encode(activity)
    );
    s.query(&query)["statements"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// A passed statement about a fresh course's final exam.
fn passed_in_a_course() -> (Value, String) {
    let course = format!("https://example.org/course/{}", uuid::Uuid::new_v4());
    let mut passed = with_verb(PASSED);
    passed["context"] = json!({"contextActivities": {"parent": [{"id": course}]}});
    (passed, course)
}

#[test]
fn a_reactor_writes_the_statement_it_derives_back_through_the_lrs() {
    let s = server_with_derive_statement(&[]);
    let (passed, course) = passed_in_a_course();
    let source = id_of(s.post(&passed));
    within_a_minute("the course completion derived and stored", || {
        !completions_of(&s, &course).is_empty()
    });
    let derived = completions_of(&s, &course);
    assert_eq!(derived.len(), 1);
    assert_eq!(derived[0]["context"]["statement"]["id"], source.as_str());
    assert_eq!(derived[0]["actor"], passed["actor"]);
    assert_eq!(
        derived[0]["authority"]["account"]["name"], "reactor:derive-statement",
        "written as the reactor"
    );
}

#[test]
fn a_batch_offered_to_a_reactor_again_derives_nothing_twice() {
    // On the embedded store an identical re-send is queued again (the outbox takes every id a
    // POST acknowledges), so the reactor sees the source twice.
    let s = server_with_derive_statement(&[("XLRS_STORE", "sqlite")]);
    let (passed, course) = passed_in_a_course();
    let source = id_of(s.post(&passed));
    within_a_minute("the source and its derived statement handled", || {
        metric(&s, "xlrs_forwarded_total").unwrap_or(0) >= 2
    });
    let mut again = passed.clone();
    again["id"] = json!(source);
    assert_eq!(id_of(s.post(&again)), source);
    within_a_minute("the re-sent source handled", || {
        metric(&s, "xlrs_forwarded_total").unwrap_or(0)
            + metric(&s, "xlrs_forwarding_refused").unwrap_or(0)
            >= 3
    });
    assert_eq!(
        metric(&s, "xlrs_forwarding_refused"),
        Some(0),
        "derived again: accepted"
    );
    assert_eq!(completions_of(&s, &course).len(), 1, "and stored once");
}

#[test]
fn plugin_new_makes_a_rust_reactor_that_is_called_with_the_stored_statements() {
    let forwarding = json!([{"url": "plugin:new-rust-reactor"}]).to_string();
    let s = Server::start_with(XLRS, &[("XLRS_FORWARDING", &forwarding)]);
    let manifest = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../target/scaffolds/new-rust-reactor/plugin.toml"),
    )
    .expect("the template's manifest (scripts/build-plugins.sh)");
    crate::plugins::install(&s, "new-rust-reactor", "new-rust-reactor", &manifest);
    crate::plugins::wait_for(
        &s,
        "new-rust-reactor",
        crate::plugins::serving("new-rust-reactor"),
    );
    id_of(s.post(&with_verb(PASSED)));
    within_a_minute("the template reactor handled the statement", || {
        metric(&s, "xlrs_forwarded_total") == Some(1)
    });
}
