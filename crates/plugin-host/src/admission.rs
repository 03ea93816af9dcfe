//! Admission: the admission plugins, in order, decide about the statements of a batch that the
//! host's validation refused. The first plugin that does not reject a statement decides; its
//! decision is checked here (a waiver must name every rule broken, and only rules the LRS can
//! look past; a repair is validated again) before the batch goes on.

use std::sync::Arc;

use serde_json::Value;
use xlrs_xapi::validate::{validate_statement, Rule, ValidationError};
use xlrs_xapi::version::XapiVersion;

use crate::bindings::v0_2::{Candidate, Verdict, Violation};
use crate::instance::PluginInstance;
use crate::pipeline::{call_failed, host_found, PipelineError};

/// A statement the host's validation refused, with every rule it breaks.
#[derive(Debug, Clone)]
pub struct Refused {
    /// The statement as sent.
    pub statement: Value,
    /// What it breaks (`xlrs_xapi::validate::violations`), never empty.
    pub violations: Vec<ValidationError>,
}

/// What admission decided for a refused statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// No admission plugin admitted it: it stays refused.
    Refused,
    /// A plugin tried to admit it in a way the host does not allow: refused, with why.
    Disallowed {
        /// The plugin.
        plugin: String,
        /// Why its decision does not stand.
        reason: String,
    },
    /// Stored as sent, these rules waived.
    AsSent {
        /// The plugin that admitted it.
        plugin: String,
        /// The rules waived (every rule the statement breaks), once each.
        rules: Vec<Rule>,
    },
    /// Stored as the plugin's repair, which passed validation.
    Replaced {
        /// The plugin that repaired it.
        plugin: String,
        /// The repaired statement.
        statement: Value,
        /// The rules the statement as sent broke.
        rules: Vec<Rule>,
    },
}

/// Asks the admission plugins, in order, about `refused` statements sent by `credential`
/// (blocking: call it off the async workers). One decision per statement, in order. A plugin
/// that fails or answers the wrong number of verdicts fails the whole batch.
pub fn admit(
    plugins: &[Arc<PluginInstance>],
    credential: &str,
    refused: &[Refused],
    version: XapiVersion,
) -> Result<Vec<Decision>, PipelineError> {
    let mut decisions = vec![Decision::Refused; refused.len()];
    for plugin in plugins {
        let open: Vec<usize> = (0..refused.len())
            .filter(|&i| decisions[i] == Decision::Refused)
            .collect();
        if open.is_empty() {
            break;
        }
        let candidates: Vec<Candidate> = open.iter().map(|&i| candidate(&refused[i])).collect();
        let verdicts = plugin
            .admit(credential, &candidates)
            .map_err(|e| call_failed(plugin, e))?;
        if verdicts.len() != candidates.len() {
            return Err(host_found(
                plugin,
                format!(
                    "answered {} verdicts for {} statements (one verdict per statement)",
                    verdicts.len(),
                    candidates.len()
                ),
            ));
        }
        for (i, verdict) in open.into_iter().zip(verdicts) {
            decisions[i] = decide(plugin, &refused[i], verdict, version)?;
        }
    }
    Ok(decisions)
}

fn candidate(refused: &Refused) -> Candidate {
    Candidate {
        statement: refused.statement.to_string(),
        violations: refused
            .violations
            .iter()
            .map(|v| Violation {
                rule: v.rule.as_str().to_string(),
                path: v.path.clone(),
                message: v.message.clone(),
            })
            .collect(),
    }
}

/// The rules a refused statement breaks, once each, in order.
fn rules_of(refused: &Refused) -> Vec<Rule> {
    let mut rules: Vec<Rule> = Vec::new();
    for v in &refused.violations {
        if !rules.contains(&v.rule) {
            rules.push(v.rule);
        }
    }
    rules
}

/// What a plugin's verdict on one statement comes to.
fn decide(
    plugin: &PluginInstance,
    refused: &Refused,
    verdict: Verdict,
    version: XapiVersion,
) -> Result<Decision, PipelineError> {
    let disallowed = |reason: String| Decision::Disallowed {
        plugin: plugin.name.to_string(),
        reason,
    };
    let rules = rules_of(refused);
    Ok(match verdict {
        Verdict::Reject => Decision::Refused,
        Verdict::Accept(named) => {
            if let Some(fixed) = rules.iter().find(|r| !r.waivable()) {
                disallowed(format!(
                    "accepted it as sent, but it breaks rule `{fixed}`, which the LRS cannot look past (only a repair can admit it)"
                ))
            } else if let Some(unnamed) = rules
                .iter()
                .find(|r| !named.iter().any(|n| n == r.as_str()))
            {
                disallowed(format!(
                    "accepted it as sent without waiving rule `{unnamed}`, which it breaks"
                ))
            } else if let Some(off) = plugin
                .waive
                .as_ref()
                .and_then(|allowed| rules.iter().find(|r| !allowed.contains(r)))
            {
                disallowed(format!(
                    "waived rule `{off}`, which the operator does not let it waive ([admission] waive in its manifest)"
                ))
            } else {
                Decision::AsSent {
                    plugin: plugin.name.to_string(),
                    rules,
                }
            }
        }
        Verdict::Replace(text) => {
            let statement: Value = serde_json::from_str(&text)
                .map_err(|e| host_found(plugin, format!("its repair is not JSON: {e}")))?;
            let id = refused.statement.get("id");
            if id.is_some() && statement.get("id") != id {
                return Err(host_found(plugin, "its repair changed the statement id"));
            }
            match validate_statement(&statement, version) {
                Ok(()) => Decision::Replaced {
                    plugin: plugin.name.to_string(),
                    statement,
                    rules,
                },
                Err(e) => disallowed(format!("repaired it, but the repair is invalid: {e}")),
            }
        }
    })
}
