//! Data lifecycle: erasure of a person (GDPR Art. 17), by removal or pseudonymization, with a
//! dry run, a receipt and an audit record that holds no personal data.

pub mod erasure;
mod key;

use serde::{Deserialize, Serialize};

/// `[lifecycle]`: erasure and retention.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LifecycleSettings {
    /// An erasure (not a dry run) matching more statements than this needs `confirm` set to
    /// the number its dry run reported.
    pub erasure_confirm_above: u64,
    /// `homePage` of the opaque account a pseudonymized person becomes.
    pub pseudonym_home_page: String,
}

impl Default for LifecycleSettings {
    fn default() -> Self {
        Self {
            erasure_confirm_above: 1000,
            pseudonym_home_page: "urn:xlrs:pseudonym".into(),
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
        Ok(())
    }
}
