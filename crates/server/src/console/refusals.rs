//! Refused requests of the last minutes, kept in memory for the console (bounded), and how
//! many were refused for each reason since start: the first thing an operator looks at when a
//! producer misbehaves.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use base64::Engine;
use serde::Serialize;

/// How long a refused request stays listed.
const KEPT_MICROS: i64 = 15 * 60 * 1_000_000;

/// One refused request.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    /// When it was answered (RFC 3339).
    pub at: String,
    #[serde(skip)]
    at_micros: i64,
    /// Its method.
    pub method: String,
    /// Its path (never the query, which may name a person).
    pub path: String,
    /// The status it was answered with.
    pub status: u16,
    /// The kind of error (`bad_request`, `conflict`, …).
    pub error: String,
    /// The error's message.
    pub message: String,
    /// The offending field, when the error names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The credential key the request named (as sent: it may be the wrong one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The request id (`x-request-id`), as in the logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// What a refusal is counted under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Reason {
    /// The status.
    pub status: u16,
    /// The kind of error.
    pub error: String,
    /// The offending field without statement indexes (`actor.mbox`), or empty.
    pub field: String,
}

/// The refusals kept, and the counts by reason.
pub struct Refusals {
    kept: usize,
    recent: Mutex<VecDeque<Refusal>>,
    counts: Mutex<BTreeMap<Reason, u64>>,
}

/// What a request looked like, for its refusal.
pub struct Asked<'a> {
    /// Its method.
    pub method: &'a str,
    /// Its path.
    pub path: &'a str,
    /// Its `Authorization` header.
    pub authorization: Option<&'a str>,
    /// Its request id.
    pub request_id: Option<&'a str>,
}

impl Refusals {
    /// Keeps at most `kept` refusals.
    pub fn new(kept: usize) -> Self {
        Self {
            kept,
            recent: Mutex::new(VecDeque::new()),
            counts: Mutex::new(BTreeMap::new()),
        }
    }

    /// Records a refused request from its answer's JSON body (`{"error", "message", "field"}`).
    pub fn record(&self, asked: &Asked<'_>, status: u16, body: &serde_json::Value) {
        let text = |name: &str| body.get(name).and_then(|v| v.as_str()).map(str::to_string);
        let field = text("field");
        let now = xlrs_store::positions::now_micros();
        let refusal = Refusal {
            at: xlrs_xapi::time::format_micros(now),
            at_micros: now,
            method: asked.method.to_string(),
            path: asked.path.to_string(),
            status,
            error: text("error").unwrap_or_else(|| "error".into()),
            message: text("message").unwrap_or_default(),
            field: field.clone(),
            key: asked.authorization.and_then(key_named),
            request_id: asked.request_id.map(str::to_string),
        };
        let reason = Reason {
            status,
            error: refusal.error.clone(),
            field: field.map(|f| without_indexes(&f)).unwrap_or_default(),
        };
        *self
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(reason)
            .or_default() += 1;
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.push_back(refusal);
        while recent.len() > self.kept {
            recent.pop_front();
        }
    }

    /// The refusals of the last fifteen minutes, newest first.
    pub fn recent(&self) -> Vec<Refusal> {
        let since = xlrs_store::positions::now_micros() - KEPT_MICROS;
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        while recent.front().is_some_and(|r| r.at_micros < since) {
            recent.pop_front();
        }
        recent.iter().rev().cloned().collect()
    }

    /// How many requests were refused for each reason since start.
    pub fn counts(&self) -> Vec<(Reason, u64)> {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.iter().map(|(r, n)| (r.clone(), *n)).collect()
    }
}

/// The key a Basic `Authorization` header names (not checked), or that it is a bearer token.
fn key_named(authorization: &str) -> Option<String> {
    let (scheme, rest) = authorization.trim().split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some("(bearer token)".into());
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    Some(
        text.split_once(':')
            .map_or(text.as_str(), |(k, _)| k)
            .to_string(),
    )
}

/// `statements[3].actor.mbox` → `statements[].actor.mbox`: one reason for every statement.
fn without_indexes(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut in_index = false;
    for c in field.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            c if in_index && c.is_ascii_digit() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked<'a>(authorization: Option<&'a str>) -> Asked<'a> {
        Asked {
            method: "POST",
            path: "/xAPI/statements",
            authorization,
            request_id: Some("r-1"),
        }
    }

    #[test]
    fn a_refusal_is_listed_newest_first_with_the_key_it_named_and_never_a_secret() {
        let refusals = Refusals::new(10);
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("producer:s3cret")
        );
        refusals.record(
            &asked(Some(&basic)),
            400,
            &serde_json::json!({"error": "bad_request", "message": "first", "field": "statements[0].actor"}),
        );
        refusals.record(
            &asked(None),
            409,
            &serde_json::json!({"error": "conflict", "message": "second"}),
        );
        let listed = refusals.recent();
        assert_eq!(listed[0].message, "second");
        assert_eq!(listed[1].key.as_deref(), Some("producer"));
        let shown = serde_json::to_string(&listed).unwrap_or_default();
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn only_the_newest_refusals_are_kept_but_every_one_is_counted_by_reason() {
        let refusals = Refusals::new(3);
        for i in 0..5 {
            refusals.record(
                &asked(None),
                400,
                &serde_json::json!({"error": "bad_request", "message": format!("m{i}"), "field": format!("statements[{i}].verb.id")}),
            );
        }
        assert_eq!(refusals.recent().len(), 3);
        let counts = refusals.counts();
        assert_eq!(counts.len(), 1, "{counts:?}");
        assert_eq!(counts[0].0.field, "statements[].verb.id");
        assert_eq!(counts[0].1, 5);
    }
}
