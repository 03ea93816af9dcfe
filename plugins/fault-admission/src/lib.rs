//! An admission plugin that misbehaves, or decides, on purpose, for the black-box tests of the
//! admission stage. Config `mode`:
//! - `trap`, `loop`, `wrong-count`: fail (a panic, a loop past the time limit, one verdict
//!   fewer than candidates);
//! - `reject`: not mine, for every statement;
//! - `waive-all`: accepts every statement as sent, waiving every rule it breaks;
//! - `waive-none`: accepts every statement as sent without naming a rule;
//! - `repair`: replaces the statement with one whose `object.objectType` is `Activity`;
//! - `repair-invalid`: "repairs" each statement by sending it back unchanged.

wit_bindgen::generate!({ world: "admission", path: "../../plugin-sdk/wit/v0.2" });

use xlrs::plugin::host::config;

struct Fault;

fn repaired(statement: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(statement).unwrap_or_default();
    v["object"]["objectType"] = serde_json::Value::String("Activity".into());
    v.to_string()
}

impl Guest for Fault {
    fn admit(_credential: String, candidates: Vec<Candidate>) -> Vec<Verdict> {
        let mode = config("mode").unwrap_or_default();
        match mode.as_str() {
            "trap" => panic!("deliberate trap"),
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "wrong-count" => candidates.iter().skip(1).map(|_| Verdict::Reject).collect(),
            _ => candidates
                .into_iter()
                .map(|c| match mode.as_str() {
                    "waive-all" => Verdict::Accept(c.violations.into_iter().map(|v| v.rule).collect()),
                    "waive-none" => Verdict::Accept(Vec::new()),
                    "repair" => Verdict::Replace(repaired(&c.statement)),
                    "repair-invalid" => Verdict::Replace(c.statement),
                    _ => Verdict::Reject,
                })
                .collect(),
        }
    }
}

export!(Fault);
