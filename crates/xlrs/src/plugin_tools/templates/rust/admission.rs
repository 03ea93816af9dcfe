//! `{{name}}` — an xlrs admission plugin (wit/v0.2): asked only about statements the LRS's
//! validation refused, it stores as sent those whose only broken rule is `waive_rule` in
//! plugin.toml. Replace `admit` with what your producer really sends.

use serde_json::Value;
use xlrs_plugin_sdk::{config, export_admission, Admission, Verdict, Violation};

struct Plugin {
    /// The rule (`object-type`, `score`, `iri`, `activity-id`) this plugin waives.
    waive_rule: String,
}

impl Admission for Plugin {
    fn new() -> Self {
        Plugin {
            waive_rule: config("waive_rule").unwrap_or_else(|| "score".into()),
        }
    }

    fn admit(&mut self, _credential: &str, _statement: &Value, violations: &[Violation]) -> Verdict {
        if violations.iter().all(|v| v.rule == self.waive_rule) {
            Verdict::Accept(vec![self.waive_rule.clone()])
        } else {
            Verdict::Reject
        }
    }
}

export_admission!(Plugin);
