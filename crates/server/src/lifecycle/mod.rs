//! Data lifecycle: erasure of a person (GDPR Art. 17), by removal or pseudonymization, with a
//! dry run, a receipt and an audit record that holds no personal data; and retention, old
//! statements and documents removed continuously in bounded batches.

pub mod erasure;
mod key;
pub mod retention;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use xlrs_store::lifecycle::Lifecycle;
use xlrs_store::{DocumentStore, StatementStore, StoreError};

use crate::forward::Forwarder;

/// Why an erasure or a retention pass did not run.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// The request is malformed (400), naming the field.
    #[error("{field}: {message}")]
    Bad {
        /// The field at fault.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The store cannot remove statements (a backend plugin) (501).
    #[error("{0}")]
    Unsupported(String),
    /// The store failed; what was done stays done and running it again finishes it.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The forwarding queue failed.
    #[error("forwarding queue: {0}")]
    Forwarding(String),
}

pub(crate) fn bad(field: &str, message: impl Into<String>) -> LifecycleError {
    LifecycleError::Bad {
        field: field.into(),
        message: message.into(),
    }
}

/// What erasure works on.
pub struct Context<'a> {
    /// Statements, read as a log.
    pub statements: &'a dyn StatementStore,
    /// Documents and the server's records.
    pub documents: &'a dyn DocumentStore,
    /// Removal; `None` for a store that cannot.
    pub lifecycle: Option<&'a dyn Lifecycle>,
    /// The forwarding queue, when forwarding.
    pub forwarder: Option<&'a Forwarder>,
    /// The `[lifecycle]` settings.
    pub settings: &'a LifecycleSettings,
}

/// The SHA-2 hashes (256, 384 or 512) of the attachments the statements name (well-formed
/// ones only).
fn attachments_of<'a>(statements: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    xlrs_xapi::statement::attachment_hashes(statements)
        .into_iter()
        .filter(|sha2| {
            matches!(sha2.len(), 64 | 96 | 128) && sha2.bytes().all(|b| b.is_ascii_hexdigit())
        })
        .collect()
}

/// The longest span: 1000 years (anything longer is "for ever", which is leaving it unset).
const MAX_SPAN_SECS: u64 = 1000 * 366 * 86_400;

/// A span of time as settings write it: a number and a unit, `s`, `m`, `h` or `d` (`365d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Span(pub Duration);

impl TryFrom<String> for Span {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: u64 = number
            .parse()
            .map_err(|_| format!("`{text}` is not a span such as 30s, 15m, 12h or 365d"))?;
        let seconds = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => {
                return Err(format!(
                    "`{text}`: give the unit, s, m, h or d (such as 365d)"
                ))
            }
        };
        match number.checked_mul(seconds) {
            Some(0) => Err(format!("`{text}` must be longer than nothing")),
            Some(s) if s <= MAX_SPAN_SECS => Ok(Self(Duration::from_secs(s))),
            _ => Err(format!(
                "`{text}` is longer than 1000 years: leave it unset to keep for ever"
            )),
        }
    }
}

impl From<Span> for String {
    fn from(span: Span) -> String {
        let seconds = span.0.as_secs();
        match [(86_400, "d"), (3600, "h"), (60, "m")]
            .into_iter()
            .find(|(unit, _)| seconds.is_multiple_of(*unit))
        {
            Some((unit, name)) => format!("{}{name}", seconds / unit),
            None => format!("{seconds}s"),
        }
    }
}

/// Which time a statement's age is counted from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgeBy {
    /// `stored`: when this LRS stored it (the default; found through the store's order).
    #[default]
    Stored,
    /// `timestamp`: when it happened (every statement is read at each pass).
    Timestamp,
}

/// `[lifecycle]`: erasure and retention.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LifecycleSettings {
    /// An erasure (not a dry run) matching more statements than this needs `confirm` set to
    /// the number its dry run reported.
    pub erasure_confirm_above: u64,
    /// `homePage` of the opaque account a pseudonymized person becomes.
    pub pseudonym_home_page: String,
    /// Statements older than this are removed (unset: kept for ever).
    pub statements_max_age: Option<Span>,
    /// What a statement's age counts from: `stored` (default) or `timestamp`.
    pub statements_age_by: AgeBy,
    /// State, Activity Profile and Agent Profile documents not updated for this long are
    /// removed (unset: kept for ever).
    pub documents_max_age: Option<Span>,
    /// How often retention runs a pass.
    pub retention_interval: Span,
    /// Most statements or documents removed at once; a pass pauses between batches so
    /// ingestion goes on.
    pub retention_batch: usize,
}

impl Default for LifecycleSettings {
    fn default() -> Self {
        Self {
            erasure_confirm_above: 1000,
            pseudonym_home_page: "urn:xlrs:pseudonym".into(),
            statements_max_age: None,
            statements_age_by: AgeBy::Stored,
            documents_max_age: None,
            retention_interval: Span(Duration::from_secs(3600)),
            retention_batch: 1000,
        }
    }
}

impl LifecycleSettings {
    /// Refuses values that cannot work.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !xlrs_xapi::validate::is_iri(&self.pseudonym_home_page) {
            return Err((
                "lifecycle.pseudonym_home_page",
                "must be an absolute IRI such as urn:xlrs:pseudonym".into(),
            ));
        }
        if self.retention_batch == 0 {
            return Err(("lifecycle.retention_batch", "must be at least 1".into()));
        }
        Ok(())
    }

    /// Whether retention removes anything.
    pub fn retains(&self) -> bool {
        self.statements_max_age.is_some() || self.documents_max_age.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_is_a_number_and_a_unit() {
        let span = |text: &str| Span::try_from(text.to_string());
        assert_eq!(span("365d"), Ok(Span(Duration::from_secs(365 * 86_400))));
        assert_eq!(span("90s"), Ok(Span(Duration::from_secs(90))));
        assert_eq!(String::from(span("48h").unwrap()), "2d");
        for bad in [
            "",
            "d",
            "10",
            "10y",
            "0d",
            "-1d",
            "999999999d",
            "99999999999999999999s",
        ] {
            assert!(span(bad).is_err(), "{bad}");
        }
    }
}
