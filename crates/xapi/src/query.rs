//! Statement GET requests: parameters parsed and checked into a typed request.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::agent::ifi_key;
use super::format::Format;
use super::validate::{is_iri, parse_timestamp, validate_agent, Rule, ValidationError};
use super::version::XapiVersion;

/// A statement query, as filters the store applies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatementQuery {
    /// Agent key (see [`super::agent::ifi_key`]).
    pub agent: Option<String>,
    /// Verb IRI.
    pub verb: Option<String>,
    /// Activity IRI.
    pub activity: Option<String>,
    /// Registration (lowercase UUID).
    pub registration: Option<String>,
    /// Match activities in context and sub-statements too.
    pub related_activities: bool,
    /// Match agents in authority, context and sub-statements too.
    pub related_agents: bool,
    /// Only statements stored after this instant (µs since the epoch, exclusive).
    pub since: Option<i64>,
    /// Only statements stored at or before this instant (µs since the epoch, inclusive).
    pub until: Option<i64>,
    /// Page size (already capped by the server maximum).
    pub limit: usize,
    /// Oldest first.
    pub ascending: bool,
    /// How statements are returned.
    pub format: Format,
    /// Return attachments as multipart/mixed.
    pub attachments: bool,
    /// Only statements of this authority key (`statements/read/mine`).
    pub authority: Option<String>,
    /// Resume after this store position (from a `more` cursor).
    pub after: Option<i64>,
    /// Voided statements too (the server's own reads, such as forwarding; never a request's).
    #[serde(skip)]
    pub include_voided: bool,
}

/// What a statements GET asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum StatementRequest {
    /// One statement by id (`voided`: by `voidedStatementId`).
    Single {
        /// The id.
        id: Uuid,
        /// Asked by `voidedStatementId`.
        voided: bool,
        /// How it is returned.
        format: Format,
        /// Return attachments.
        attachments: bool,
    },
    /// A filtered, paged list.
    Query(StatementQuery),
}

const QUERY_PARAMS: [&str; 15] = [
    "statementId",
    "voidedStatementId",
    "agent",
    "verb",
    "activity",
    "registration",
    "related_activities",
    "related_agents",
    "since",
    "until",
    "limit",
    "format",
    "attachments",
    "ascending",
    "more",
];

fn bad(path: &str, message: impl Into<String>) -> ValidationError {
    ValidationError {
        rule: Rule::Parameter,
        path: path.to_string(),
        message: message.into(),
    }
}

fn boolean(name: &str, value: &str) -> Result<bool, ValidationError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad(name, "must be true or false")),
    }
}

/// Parses the query string pairs of a statements GET. `max_limit` caps `limit` (and is what 0 means).
pub fn parse_request(
    params: &[(String, String)],
    version: XapiVersion,
    max_limit: usize,
) -> Result<StatementRequest, ValidationError> {
    let mut seen = std::collections::HashSet::new();
    for (name, _) in params {
        if !QUERY_PARAMS.contains(&name.as_str()) {
            return Err(bad(name, "is not a statements query parameter"));
        }
        if !seen.insert(name.as_str()) {
            return Err(bad(name, "is given more than once"));
        }
    }
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let format = match get("format") {
        Some(f) => {
            Format::parse(f).ok_or_else(|| bad("format", "must be ids, exact or canonical"))?
        }
        None => Format::Exact,
    };
    let attachments = get("attachments")
        .map(|v| boolean("attachments", v))
        .transpose()?
        .unwrap_or(false);

    if let Some(token) = get("more") {
        if params.len() > 1 {
            return Err(bad(
                "more",
                "a more cursor cannot be combined with other parameters",
            ));
        }
        return decode_cursor(token).map(StatementRequest::Query);
    }

    for (name, voided) in [("statementId", false), ("voidedStatementId", true)] {
        if let Some(id) = get(name) {
            if params
                .iter()
                .any(|(n, _)| n != name && n != "format" && n != "attachments")
            {
                return Err(bad(
                    name,
                    "only format and attachments may accompany statementId or voidedStatementId",
                ));
            }
            let id = Uuid::parse_str(id).map_err(|_| bad(name, "must be a UUID"))?;
            return Ok(StatementRequest::Single {
                id,
                voided,
                format,
                attachments,
            });
        }
    }

    let agent = match get("agent") {
        Some(json) => {
            let value: Value = serde_json::from_str(json)
                .map_err(|_| bad("agent", "must be an Agent or Group as JSON"))?;
            validate_agent(&value, "agent", version)?;
            Some(ifi_key(&value).ok_or_else(|| {
                bad(
                    "agent",
                    "must have an identifier (mbox, mbox_sha1sum, openid or account)",
                )
            })?)
        }
        None => None,
    };
    let iri = |name: &str| -> Result<Option<String>, ValidationError> {
        match get(name) {
            Some(v) if is_iri(v) => Ok(Some(v.to_string())),
            Some(_) => Err(bad(name, "must be an IRI")),
            None => Ok(None),
        }
    };
    let time = |name: &str| -> Result<Option<i64>, ValidationError> {
        match get(name) {
            Some(v) => parse_timestamp(v)
                .map(|t| Some(t.timestamp_micros()))
                .ok_or_else(|| bad(name, "must be an ISO 8601 timestamp with a time zone")),
            None => Ok(None),
        }
    };
    let registration = match get("registration") {
        Some(r) => Some(
            Uuid::parse_str(r)
                .map_err(|_| bad("registration", "must be a UUID"))?
                .to_string(),
        ),
        None => None,
    };
    let limit = match get("limit") {
        Some(l) => l
            .parse::<usize>()
            .map_err(|_| bad("limit", "must be a non-negative integer"))?,
        None => 0,
    };
    let limit = if limit == 0 {
        max_limit
    } else {
        limit.min(max_limit)
    };
    let flag = |name: &str| -> Result<bool, ValidationError> {
        get(name)
            .map(|v| boolean(name, v))
            .transpose()
            .map(Option::unwrap_or_default)
    };
    Ok(StatementRequest::Query(StatementQuery {
        agent,
        verb: iri("verb")?,
        activity: iri("activity")?,
        registration,
        related_activities: flag("related_activities")?,
        related_agents: flag("related_agents")?,
        since: time("since")?,
        until: time("until")?,
        limit,
        ascending: flag("ascending")?,
        format,
        attachments,
        authority: None,
        after: None,
        include_voided: false,
    }))
}

/// The opaque `more` token for the page after `position`.
pub fn encode_cursor(query: &StatementQuery, position: i64) -> String {
    let next = StatementQuery {
        after: Some(position),
        ..query.clone()
    };
    let json = serde_json::to_vec(&next).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor(token: &str) -> Result<StatementQuery, ValidationError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| bad("more", "is not a cursor this server issued"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn an_unknown_parameter_is_rejected() {
        assert!(parse_request(&p(&[("foo", "1")]), XapiVersion::V2_0_0, 100).is_err());
    }

    #[test]
    fn statement_id_with_a_filter_is_rejected() {
        let id = Uuid::new_v4().to_string();
        assert!(parse_request(
            &p(&[("statementId", &id), ("verb", "http://v")]),
            XapiVersion::V2_0_0,
            100
        )
        .is_err());
        assert!(parse_request(
            &p(&[("statementId", &id), ("format", "ids")]),
            XapiVersion::V2_0_0,
            100
        )
        .is_ok());
    }

    #[test]
    fn limit_zero_means_the_server_maximum() {
        match parse_request(&p(&[("limit", "0")]), XapiVersion::V2_0_0, 77).unwrap() {
            StatementRequest::Query(q) => assert_eq!(q.limit, 77),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_cursor_round_trips_the_query() {
        let q = StatementQuery {
            verb: Some("http://v".into()),
            limit: 5,
            ..Default::default()
        };
        let token = encode_cursor(&q, 42);
        match parse_request(&p(&[("more", &token)]), XapiVersion::V2_0_0, 100).unwrap() {
            StatementRequest::Query(back) => {
                assert_eq!(back.verb, q.verb);
                assert_eq!(back.after, Some(42));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_agent_without_identifier_is_rejected() {
        assert!(parse_request(
            &p(&[("agent", r#"{"name":"x"}"#)]),
            XapiVersion::V2_0_0,
            100
        )
        .is_err());
    }
}
