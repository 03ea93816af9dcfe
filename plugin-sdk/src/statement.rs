//! Typed xAPI statements (serde). Unknown properties are kept in `extra`, so a plugin that reads
//! and writes a statement never drops what it does not model.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use xlrs_xapi::agent::IfiParts;

/// An xAPI statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// Statement id (UUID), when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Who did it.
    pub actor: Actor,
    /// What was done.
    pub verb: Verb,
    /// To what (Activity, Agent, Group, StatementRef or SubStatement), kept as JSON.
    pub object: Value,
    /// Every other property (result, context, timestamp, …), as JSON.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An Agent or Group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    /// `Agent` or `Group`.
    #[serde(
        rename = "objectType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub object_type: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `mailto:` IRI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mbox: Option<String>,
    /// SHA-1 of the mbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mbox_sha1sum: Option<String>,
    /// OpenID URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openid: Option<String>,
    /// Account on a system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<Account>,
    /// Every other property (e.g. a Group's `member`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An account IFI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// The system's home page.
    #[serde(rename = "homePage")]
    pub home_page: String,
    /// The account name on that system.
    pub name: String,
}

/// A verb.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verb {
    /// Verb IRI.
    pub id: String,
    /// Language map of display names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<Map<String, Value>>,
}

impl Statement {
    /// Parses a statement from JSON text.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Serializes the statement to JSON text.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// A value of `context.extensions` by extension IRI.
    pub fn context_extension(&self, iri: &str) -> Option<&Value> {
        self.extra.get("context")?.get("extensions")?.get(iri)
    }

    /// A value of `result.extensions` by extension IRI.
    pub fn result_extension(&self, iri: &str) -> Option<&Value> {
        self.extra.get("result")?.get("extensions")?.get(iri)
    }
}

impl Actor {
    /// The inverse functional identifier as one string (`mbox:…`, `mbox_sha1sum:…`,
    /// `openid:…`, `account:HOMEPAGE|NAME`), or None for an anonymous Group.
    /// The same key the host gives the agent (`xlrs_xapi::agent::IfiParts::key`): an
    /// `mbox_sha1sum` in lowercase, so an agent has one key whatever the case it was sent in.
    pub fn ifi(&self) -> Option<String> {
        IfiParts {
            mbox: self.mbox.as_deref(),
            mbox_sha1sum: self.mbox_sha1sum.as_deref(),
            openid: self.openid.as_deref(),
            account: self
                .account
                .as_ref()
                .map(|a| (a.home_page.as_str(), a.name.as_str())),
        }
        .key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_round_trips_without_losing_properties() {
        let text = r#"{"actor":{"mbox":"mailto:a@example.org"},"verb":{"id":"http://v"},"object":{"id":"http://a"},"result":{"extensions":{"http://e":1}},"timestamp":"2026-01-01T00:00:00Z"}"#;
        let s = Statement::from_json(text).unwrap();
        assert_eq!(s.result_extension("http://e"), Some(&Value::from(1)));
        let back: Value = serde_json::from_str(&s.to_json().unwrap()).unwrap();
        let orig: Value = serde_json::from_str(text).unwrap();
        assert_eq!(back, orig);
    }

    #[test]
    fn an_agent_is_known_by_its_first_identifier() {
        let a: Actor =
            serde_json::from_str(r#"{"account":{"homePage":"https://lms","name":"7"}}"#).unwrap();
        assert_eq!(a.ifi().as_deref(), Some("account:https://lms|7"));
        let g: Actor = serde_json::from_str(r#"{"objectType":"Group","member":[]}"#).unwrap();
        assert_eq!(g.ifi(), None);
    }

    #[test]
    fn an_agent_has_the_key_the_host_gives_it_whatever_the_case_of_its_sha1sum() {
        let sent = r#"{"mbox_sha1sum":"53D04BC579B8B4D082CA4A530642845E2C0BFE74"}"#;
        let a: Actor = serde_json::from_str(sent).unwrap();
        let host = xlrs_xapi::agent::ifi_key(&serde_json::from_str(sent).unwrap());
        assert_eq!(a.ifi(), host);
        assert_eq!(
            a.ifi().as_deref(),
            Some("mbox_sha1sum:53d04bc579b8b4d082ca4a530642845e2c0bfe74")
        );
    }
}
