//! `verb-allowlist-rust` — the Python `verb-allowlist` in Rust: accepts only statements whose
//! verb is in a list. A v0.2 field validator: it reads each statement's `/verb/id` through the
//! host and parses nothing. The xAPI `voided` verb is always allowed, so statements can still
//! be voided.
//!
//! Config (`[config]` in plugin.toml): `verbs`, the allowed verb IRIs separated by commas or
//! whitespace.

use std::collections::HashSet;

use xlrs_plugin_sdk::{config, export_field_validator, FieldValidator, Fields, Rejection};

/// The verb that voids a statement: never refused.
const VOIDED: &str = "http://adlnet.gov/expapi/verbs/voided";

struct VerbAllowlist {
    /// The allowed verb IRIs, read once per instance.
    allowed: HashSet<String>,
}

impl FieldValidator for VerbAllowlist {
    fn new() -> Self {
        let mut allowed: HashSet<String> = config("verbs")
            .unwrap_or_default()
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|verb| !verb.is_empty())
            .map(str::to_string)
            .collect();
        allowed.insert(VOIDED.to_string());
        VerbAllowlist { allowed }
    }

    fn check_batch(&mut self, statements: &[Fields]) -> Vec<Rejection> {
        statements
            .iter()
            .filter_map(|s| {
                let verb = s.string("/verb/id").unwrap_or_default();
                (!self.allowed.contains(&verb)).then(|| {
                    Rejection::of(
                        s.index(),
                        format!("the verb {verb} is not in this LRS's allow-list"),
                    )
                })
            })
            .collect()
    }
}

export_field_validator!(VerbAllowlist);
