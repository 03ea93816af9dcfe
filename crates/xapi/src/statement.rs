//! Turning a validated, client-submitted statement into what a store keeps: the final JSON
//! (id, authority, version set by the LRS) and the fields the queries filter on.

use serde_json::{Map, Value};
use uuid::Uuid;

use super::activity::definitions;
use super::agent::{ifi_key, keys_with_members};
use super::canonical::{content_hash, legacy_content_hash};
use super::time::timestamp_in_utc;
use super::validate::parse_timestamp;
use super::version::XapiVersion;

/// The verb that voids the statement its StatementRef object points at.
pub const VOIDED_VERB: &str = "http://adlnet.gov/expapi/verbs/voided";

/// A statement ready for a store. `stored` (and `timestamp` when the client gave none) are
/// filled in by the store when it commits, so `stored` is monotonic with the commit order.
#[derive(Debug, Clone)]
pub struct PreparedStatement {
    /// The statement id (lowercase UUID).
    pub id: Uuid,
    /// The statement's JSON object without `stored`, serialized. Never empty; starts with `{`.
    pub body: String,
    /// True when the client gave no `timestamp`: the store sets it to `stored`.
    pub needs_timestamp: bool,
    /// Hash of the statement as submitted, for the identical-re-send rule.
    pub content_hash: String,
    /// The query fields.
    pub index: StatementIndex,
    /// What an admission plugin waived or repaired to let it in, as the JSON record a database
    /// store writes in the same round as the statement (`None`: admitted as valid).
    pub admission: Option<String>,
}

impl PreparedStatement {
    /// True if `stored_hash`, the content hash of the statement stored under this id, says it
    /// is this statement: the same [`content_hash`], or for a statement stored by an xlrs
    /// before the comparison rules, the same [`legacy_content_hash`].
    pub fn same_content(&self, stored_hash: &str) -> bool {
        self.content_hash == stored_hash
            || serde_json::from_str::<Value>(&self.body)
                .is_ok_and(|body| legacy_content_hash(&body) == stored_hash)
    }
}

/// The fields a statement query filters on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatementIndex {
    /// Verb IRI.
    pub verb: String,
    /// Agent keys with `true` when the agent is the actor or object (the plain `agent` filter),
    /// `false` when only related (authority, instructor, team, sub-statement, context agents).
    pub agents: Vec<(String, bool)>,
    /// Activity ids with `true` for the object, `false` for context and sub-statement activities.
    pub activities: Vec<(String, bool)>,
    /// context.registration (lowercase).
    pub registration: Option<String>,
    /// The target of a StatementRef object (lowercase), for filters that follow references.
    pub statement_ref: Option<Uuid>,
    /// The statement this one voids, when its verb is `voided`.
    pub voids: Option<Uuid>,
    /// The authority as a key, for `statements/read/mine`.
    pub authority: String,
    /// Activity definitions the statement carries, for the canonical definitions.
    pub definitions: Vec<(String, Value)>,
    /// The statement's `timestamp` in µs since the epoch (`None` when the client gave none:
    /// the store makes it `stored`).
    pub timestamp: Option<i64>,
}

impl StatementIndex {
    /// The agent keys: every one, or (`direct_only`) those the plain `agent` filter matches.
    pub fn agent_keys(&self, direct_only: bool) -> Vec<String> {
        keys(&self.agents, direct_only)
    }

    /// The activity ids: every one, or (`direct_only`) the object's.
    pub fn activity_keys(&self, direct_only: bool) -> Vec<String> {
        keys(&self.activities, direct_only)
    }
}

fn keys(list: &[(String, bool)], direct_only: bool) -> Vec<String> {
    list.iter()
        .filter(|(_, direct)| *direct || !direct_only)
        .map(|(key, _)| key.clone())
        .collect()
}

/// The SHA-256 of every attachment the statements declare, lowercase, each once.
pub fn attachment_hashes<'a>(statements: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    let mut wanted: Vec<String> = Vec::new();
    for s in statements {
        let declared = s.get("attachments").and_then(Value::as_array);
        for a in declared.into_iter().flatten() {
            if let Some(sha2) = a.get("sha2").and_then(Value::as_str) {
                let sha2 = sha2.to_ascii_lowercase();
                if !wanted.contains(&sha2) {
                    wanted.push(sha2);
                }
            }
        }
    }
    wanted
}

/// Why a statement could not be prepared (it passed validation, so this is rare).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PrepareError(pub String);

/// Prepares a validated statement: sets `id` (from `new_id` when missing: this crate has no
/// source of randomness), `authority` and `version`.
pub fn prepare(
    mut statement: Value,
    authority: &Value,
    version: XapiVersion,
    new_id: impl FnOnce() -> Uuid,
) -> Result<PreparedStatement, PrepareError> {
    normalize_context_activities(&mut statement);
    timestamps_in_utc(&mut statement);
    if let Some(sub) = statement.get_mut("object") {
        if sub.get("objectType").and_then(Value::as_str) == Some("SubStatement") {
            normalize_context_activities(sub);
            timestamps_in_utc(sub);
        }
    }
    let hash = content_hash(&statement);
    let map = statement
        .as_object_mut()
        .ok_or_else(|| PrepareError("a statement must be a JSON object".into()))?;
    let id = match map.get("id").and_then(Value::as_str) {
        Some(s) => {
            Uuid::parse_str(s).map_err(|_| PrepareError(format!("id `{s}` is not a UUID")))?
        }
        None => new_id(),
    };
    map.insert("id".into(), Value::String(id.to_string()));
    map.remove("stored");
    map.insert("authority".into(), authority.clone());
    if !map.contains_key("version") {
        map.insert(
            "version".into(),
            Value::String(version.default_statement_version().into()),
        );
    }
    let needs_timestamp = !map.contains_key("timestamp");
    let mut index = index_of(map);
    index.authority = authority_key(authority);
    index.definitions = definitions(&statement);
    index.timestamp = statement
        .get("timestamp")
        .and_then(Value::as_str)
        .and_then(parse_timestamp)
        .map(|t| t.timestamp_micros());
    let body = serde_json::to_string(&statement).map_err(|e| PrepareError(e.to_string()))?;
    Ok(PreparedStatement {
        id,
        body,
        needs_timestamp,
        content_hash: hash,
        index,
        admission: None,
    })
}

/// Stores every context activity list as an array: the spec lets a client send a single
/// object, and an LRS returns an array even then.
fn normalize_context_activities(statement: &mut Value) {
    let Some(lists) = statement
        .get_mut("context")
        .and_then(|c| c.get_mut("contextActivities"))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for list in lists.values_mut() {
        if list.is_object() {
            *list = Value::Array(vec![list.take()]);
        }
    }
}

/// Stores a timestamp sent with another offset as the same instant in UTC (xAPI Data 4.5: the
/// LRS SHOULD return timestamps in UTC; their serialization is not part of the immutable
/// statement, and the content hash compares instants).
fn timestamps_in_utc(statement: &mut Value) {
    if let Some(Value::String(timestamp)) = statement.get_mut("timestamp") {
        if let Some(utc) = timestamp_in_utc(timestamp) {
            *timestamp = utc;
        }
    }
}

/// The key identifying an authority for `statements/read/mine`.
pub fn authority_key(authority: &Value) -> String {
    ifi_key(authority).unwrap_or_else(|| authority.to_string())
}

/// Adds `stored` (and `timestamp` when missing) to a prepared body at commit time.
pub fn finish_body(body: &str, stored: &str, needs_timestamp: bool) -> String {
    let inner = body.strip_prefix('{').unwrap_or(body);
    let mut out = String::with_capacity(body.len() + 80);
    out.push('{');
    if needs_timestamp {
        out.push_str("\"timestamp\":\"");
        out.push_str(stored);
        out.push_str("\",");
    }
    out.push_str("\"stored\":\"");
    out.push_str(stored);
    out.push('"');
    if inner.trim_start() != "}" {
        out.push(',');
    }
    out.push_str(inner);
    out
}

fn index_of(map: &Map<String, Value>) -> StatementIndex {
    let mut index = StatementIndex {
        verb: map
            .get("verb")
            .and_then(|v| v.get("id"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        ..StatementIndex::default()
    };
    let object = map.get("object").unwrap_or(&Value::Null);
    if let Some(actor) = map.get("actor") {
        push_agents(&mut index.agents, actor, true);
    }
    match object_type(object) {
        "Agent" | "Group" => push_agents(&mut index.agents, object, true),
        "StatementRef" => {
            index.statement_ref = statement_ref_target(object);
            index.voids = voided_target(&index.verb, object);
        }
        "SubStatement" => index_sub_statement(&mut index, object),
        _ => {
            if let Some(id) = object.get("id").and_then(Value::as_str) {
                index.activities.push((id.to_string(), true));
            }
        }
    }
    if let Some(authority) = map.get("authority") {
        push_agents(&mut index.agents, authority, false);
    }
    if let Some(context) = map.get("context") {
        index_context(&mut index, context);
        index.registration = context
            .get("registration")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase);
    }
    dedup(&mut index.agents);
    dedup(&mut index.activities);
    index
}

/// The statement a StatementRef object points at.
fn statement_ref_target(object: &Value) -> Option<Uuid> {
    if object_type(object) != "StatementRef" {
        return None;
    }
    Uuid::parse_str(object.get("id")?.as_str()?).ok()
}

/// The statement a statement with `verb` and `object` voids: the target of its StatementRef
/// object when the verb is `voided`.
pub fn voided_target(verb: &str, object: &Value) -> Option<Uuid> {
    if verb != VOIDED_VERB {
        return None;
    }
    statement_ref_target(object)
}

fn object_type(object: &Value) -> &str {
    object
        .get("objectType")
        .and_then(Value::as_str)
        .unwrap_or("Activity")
}

fn index_sub_statement(index: &mut StatementIndex, sub: &Value) {
    if let Some(actor) = sub.get("actor") {
        push_agents(&mut index.agents, actor, false);
    }
    let object = sub.get("object").unwrap_or(&Value::Null);
    match object_type(object) {
        "Agent" | "Group" => push_agents(&mut index.agents, object, false),
        "StatementRef" => {}
        _ => {
            if let Some(id) = object.get("id").and_then(Value::as_str) {
                index.activities.push((id.to_string(), false));
            }
        }
    }
    if let Some(context) = sub.get("context") {
        index_context(index, context);
    }
}

fn index_context(index: &mut StatementIndex, context: &Value) {
    for key in ["instructor", "team"] {
        if let Some(agent) = context.get(key) {
            push_agents(&mut index.agents, agent, false);
        }
    }
    for (list, key) in [("contextAgents", "agent"), ("contextGroups", "group")] {
        for entry in context
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(agent) = entry.get(key) {
                push_agents(&mut index.agents, agent, false);
            }
        }
    }
    if let Some(activities) = context.get("contextActivities").and_then(Value::as_object) {
        for value in activities.values() {
            let items = match value {
                Value::Array(items) => items.as_slice(),
                single => std::slice::from_ref(single),
            };
            for item in items {
                if let Some(id) = item.get("id").and_then(Value::as_str) {
                    index.activities.push((id.to_string(), false));
                }
            }
        }
    }
}

fn push_agents(out: &mut Vec<(String, bool)>, agent: &Value, direct: bool) {
    out.extend(keys_with_members(agent).into_iter().map(|k| (k, direct)));
}

/// Keeps one entry per key, preferring `direct = true`.
fn dedup(entries: &mut Vec<(String, bool)>) {
    entries.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    entries.dedup_by(|later, first| later.0 == first.0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn authority() -> Value {
        json!({"objectType": "Agent", "account": {"homePage": "http://localhost", "name": "lrs"}})
    }

    #[test]
    fn the_lrs_sets_id_authority_and_version() {
        let s = json!({"actor": {"mbox": "mailto:a@example.org"}, "verb": {"id": "http://v"},
                       "object": {"id": "http://a"}, "authority": {"mbox": "mailto:evil@example.org"}});
        let p = prepare(s, &authority(), XapiVersion::V2_0_0, Uuid::new_v4).unwrap();
        let body: Value = serde_json::from_str(&p.body).unwrap();
        assert_eq!(body["id"], p.id.to_string());
        assert_eq!(body["authority"], authority());
        assert_eq!(body["version"], "2.0.0");
        assert!(p.needs_timestamp);
    }

    #[test]
    fn a_1_0_x_statement_without_version_gets_1_0_0() {
        let s = json!({"actor": {"mbox": "mailto:a@example.org"}, "verb": {"id": "http://v"}, "object": {"id": "http://a"}});
        let p = prepare(s, &authority(), XapiVersion::V1_0_3, Uuid::new_v4).unwrap();
        let body: Value = serde_json::from_str(&p.body).unwrap();
        assert_eq!(body["version"], "1.0.0");
    }

    #[test]
    fn timestamps_are_stored_in_utc_and_compare_as_instants() {
        let s = |timestamp: &str| {
            json!({"actor": {"mbox": "mailto:a@example.org"}, "verb": {"id": "http://v"},
                   "object": {"objectType": "SubStatement", "actor": {"mbox": "mailto:b@example.org"},
                              "verb": {"id": "http://v"}, "object": {"id": "http://a"},
                              "timestamp": timestamp},
                   "timestamp": timestamp})
        };
        let offset = prepare(
            s("2023-05-04T12:00:00.250-05:00"),
            &authority(),
            XapiVersion::V2_0_0,
            Uuid::new_v4,
        )
        .unwrap();
        let body: Value = serde_json::from_str(&offset.body).unwrap();
        assert_eq!(body["timestamp"], "2023-05-04T17:00:00.250Z");
        assert_eq!(body["object"]["timestamp"], "2023-05-04T17:00:00.250Z");
        assert!(!offset.needs_timestamp);
        let utc = prepare(
            s("2023-05-04T17:00:00.250Z"),
            &authority(),
            XapiVersion::V2_0_0,
            Uuid::new_v4,
        )
        .unwrap();
        assert_eq!(
            offset.content_hash, utc.content_hash,
            "the same instant in another time zone is the same statement"
        );
    }

    #[test]
    fn a_statement_stored_with_the_legacy_hash_is_still_recognised() {
        let s = json!({"actor": {"mbox": "mailto:a@example.org"},
                       "verb": {"id": "http://v", "display": {"en-US": "did"}},
                       "object": {"id": "http://a"}, "timestamp": "2026-01-01T00:00:00Z"});
        let p = prepare(s.clone(), &authority(), XapiVersion::V2_0_0, Uuid::new_v4).unwrap();
        assert!(p.same_content(&legacy_content_hash(&s)));
        assert!(p.same_content(&p.content_hash.clone()));
        let mut other = s;
        other["verb"]["id"] = json!("http://other");
        assert!(!p.same_content(&legacy_content_hash(&other)));
    }

    #[test]
    fn stored_and_timestamp_are_spliced_in_at_commit() {
        let done = finish_body(r#"{"id":"x"}"#, "2026-01-01T00:00:00.000Z", true);
        let v: Value = serde_json::from_str(&done).unwrap();
        assert_eq!(v["stored"], "2026-01-01T00:00:00.000Z");
        assert_eq!(v["timestamp"], "2026-01-01T00:00:00.000Z");
        assert_eq!(v["id"], "x");
    }

    #[test]
    fn a_single_context_activity_is_stored_in_an_array() {
        let s = json!({"actor": {"mbox": "mailto:a@example.org"}, "verb": {"id": "http://v"},
                       "object": {"objectType": "SubStatement", "actor": {"mbox": "mailto:b@example.org"},
                                  "verb": {"id": "http://v"}, "object": {"id": "http://a"},
                                  "context": {"contextActivities": {"other": {"id": "http://o"}}}},
                       "context": {"contextActivities": {"parent": {"id": "http://p"}}}});
        let p = prepare(s, &authority(), XapiVersion::V2_0_0, Uuid::new_v4).unwrap();
        let body: Value = serde_json::from_str(&p.body).unwrap();
        assert_eq!(
            body["context"]["contextActivities"]["parent"],
            json!([{"id": "http://p"}])
        );
        assert_eq!(
            body["object"]["context"]["contextActivities"]["other"],
            json!([{"id": "http://o"}])
        );
    }

    #[test]
    fn a_voiding_statement_names_its_target() {
        let target = Uuid::new_v4();
        let s = json!({"actor": {"mbox": "mailto:a@example.org"}, "verb": {"id": VOIDED_VERB},
                       "object": {"objectType": "StatementRef", "id": target.to_string()}});
        let p = prepare(s, &authority(), XapiVersion::V2_0_0, Uuid::new_v4).unwrap();
        assert_eq!(p.index.voids, Some(target));
        assert_eq!(p.index.statement_ref, Some(target));
    }

    #[test]
    fn related_agents_and_activities_are_indexed_apart_from_direct_ones() {
        let s = json!({
            "actor": {"objectType": "Group", "mbox": "mailto:g@example.org", "member": [{"mbox": "mailto:m@example.org"}]},
            "verb": {"id": "http://v"},
            "object": {"id": "http://a"},
            "context": {"instructor": {"mbox": "mailto:i@example.org"},
                        "registration": "AB0D4C56-1234-4abc-8def-0123456789AB",
                        "contextActivities": {"parent": {"id": "http://p"}, "grouping": [{"id": "http://g"}]}}
        });
        let p = prepare(s, &authority(), XapiVersion::V2_0_0, Uuid::new_v4).unwrap();
        let a = &p.index.agents;
        assert!(a.contains(&("mbox:mailto:g@example.org".into(), true)));
        assert!(a.contains(&("mbox:mailto:m@example.org".into(), true)));
        assert!(a.contains(&("mbox:mailto:i@example.org".into(), false)));
        assert!(a.contains(&("account:http://localhost|lrs".into(), false)));
        let acts = &p.index.activities;
        assert!(acts.contains(&("http://a".into(), true)));
        assert!(acts.contains(&("http://p".into(), false)));
        assert!(acts.contains(&("http://g".into(), false)));
        assert_eq!(
            p.index.registration.as_deref(),
            Some("ab0d4c56-1234-4abc-8def-0123456789ab")
        );
    }
}
