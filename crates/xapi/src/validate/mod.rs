//! Statement validation against the xAPI rules (1.0.3 and 2.0.0): every property's type and
//! form, identifiers, language maps, timestamps, durations, scores, context and SubStatement
//! rules, and no unknown properties. Errors name the JSON path and the rule.

mod activity;
mod agent;
mod formats;

use serde_json::{Map, Value};

use crate::signature::{SIGNATURE_CONTENT_TYPE, SIGNATURE_USAGE};
use crate::version::XapiVersion;

use activity::validate_activity;
#[cfg(test)]
use activity::INTERACTION_TYPES;
pub use agent::{validate_agent, validate_agent_parameter};
use agent::{validate_agent_or_group, validate_authority};
pub use formats::{is_duration, is_iri, is_language_tag, is_uuid, parse_timestamp};

/// A rule a statement (or query parameter) breaks: where, and which rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// JSON path of the offending field, e.g. `actor.mbox`; empty for the whole value.
    pub path: String,
    /// The rule broken, as a sentence for a client developer.
    pub message: String,
}

impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ValidationError {}

type Result<T = ()> = std::result::Result<T, ValidationError>;

fn fail<T>(path: &str, message: impl Into<String>) -> Result<T> {
    Err(ValidationError {
        path: path.to_string(),
        message: message.into(),
    })
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>> {
    v.as_object()
        .map_or_else(|| fail(path, "must be a JSON object"), Ok)
}

fn string<'a>(v: &'a Value, path: &str) -> Result<&'a str> {
    v.as_str()
        .map_or_else(|| fail(path, "must be a string"), Ok)
}

fn only_keys(map: &Map<String, Value>, path: &str, allowed: &[&str]) -> Result {
    for key in map.keys() {
        if !allowed.contains(&key.as_str()) {
            return fail(&join(path, key), "is not a property allowed here");
        }
    }
    Ok(())
}

fn no_nulls(map: &Map<String, Value>, path: &str) -> Result {
    for (key, value) in map {
        if value.is_null() {
            return fail(&join(path, key), "must not be null");
        }
    }
    Ok(())
}

/// Checks one statement as submitted by a client.
pub fn validate_statement(statement: &Value, version: XapiVersion) -> Result {
    let map = object(statement, "")?;
    let allowed: &[&str] = &[
        "id",
        "actor",
        "verb",
        "object",
        "result",
        "context",
        "timestamp",
        "stored",
        "authority",
        "version",
        "attachments",
    ];
    only_keys(map, "", allowed)?;
    no_nulls(map, "")?;
    if let Some(id) = map.get("id") {
        if !is_uuid(string(id, "id")?) {
            return fail("id", "must be a UUID");
        }
    }
    if let Some(v) = map.get("version") {
        let v = string(v, "version")?;
        let ok = match version {
            XapiVersion::V1_0_3 => is_version_of(v, "1.0"),
            XapiVersion::V2_0_0 => is_version_of(v, "1.0") || is_version_of(v, "2.0"),
        };
        if !ok {
            return fail(
                "version",
                "must be a supported xAPI version such as 1.0.3 or 2.0.0",
            );
        }
    }
    if let Some(a) = map.get("authority") {
        validate_authority(a, version)?;
    }
    if let Some(s) = map.get("stored") {
        timestamp(s, "stored")?;
    }
    statement_body(map, "", version, false)
}

fn is_version_of(v: &str, major_minor: &str) -> bool {
    v == major_minor
        || v.strip_prefix(major_minor)
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|patch| !patch.is_empty() && patch.chars().all(|c| c.is_ascii_digit()))
}

/// The parts a Statement and a SubStatement share.
fn statement_body(map: &Map<String, Value>, path: &str, version: XapiVersion, sub: bool) -> Result {
    let actor = map
        .get("actor")
        .map_or_else(|| fail(&join(path, "actor"), "is required"), Ok)?;
    validate_agent_or_group(actor, &join(path, "actor"), version)?;
    let verb = map
        .get("verb")
        .map_or_else(|| fail(&join(path, "verb"), "is required"), Ok)?;
    validate_verb(verb, &join(path, "verb"))?;
    let object_value = map
        .get("object")
        .map_or_else(|| fail(&join(path, "object"), "is required"), Ok)?;
    let object_type = validate_object(object_value, &join(path, "object"), version, sub)?;
    if verb.get("id").and_then(Value::as_str) == Some(crate::statement::VOIDED_VERB)
        && object_type != "StatementRef"
    {
        return fail(
            &join(path, "object"),
            "a voiding statement's object must be a StatementRef",
        );
    }
    if let Some(r) = map.get("result") {
        validate_result(r, &join(path, "result"))?;
    }
    if let Some(c) = map.get("context") {
        validate_context(
            c,
            &join(path, "context"),
            version,
            object_type == "Activity",
        )?;
    }
    if let Some(t) = map.get("timestamp") {
        timestamp(t, &join(path, "timestamp"))?;
    }
    if let Some(a) = map.get("attachments") {
        validate_attachments(a, &join(path, "attachments"))?;
    }
    Ok(())
}

fn validate_verb(verb: &Value, path: &str) -> Result {
    let map = object(verb, path)?;
    no_nulls(map, path)?;
    only_keys(map, path, &["id", "display"])?;
    let id = map
        .get("id")
        .map_or_else(|| fail(&join(path, "id"), "is required"), Ok)?;
    if !is_iri(string(id, &join(path, "id"))?) {
        return fail(&join(path, "id"), "must be an IRI");
    }
    if let Some(d) = map.get("display") {
        language_map(d, &join(path, "display"))?;
    }
    Ok(())
}

/// Checks the object; returns its objectType.
fn validate_object<'a>(
    object_value: &'a Value,
    path: &str,
    version: XapiVersion,
    in_sub: bool,
) -> Result<&'a str> {
    let map = object(object_value, path)?;
    no_nulls(map, path)?;
    let object_type = match map.get("objectType") {
        None => "Activity",
        Some(t) => string(t, &join(path, "objectType"))?,
    };
    match object_type {
        "Activity" => validate_activity(map, path)?,
        "Agent" | "Group" => validate_agent_or_group(object_value, path, version)?,
        "StatementRef" => {
            only_keys(map, path, &["objectType", "id"])?;
            let id = map
                .get("id")
                .map_or_else(|| fail(&join(path, "id"), "is required"), Ok)?;
            if !is_uuid(string(id, &join(path, "id"))?) {
                return fail(&join(path, "id"), "must be a UUID");
            }
        }
        "SubStatement" => {
            if in_sub {
                return fail(path, "a SubStatement cannot contain a SubStatement");
            }
            only_keys(
                map,
                path,
                &[
                    "objectType",
                    "actor",
                    "verb",
                    "object",
                    "result",
                    "context",
                    "timestamp",
                    "attachments",
                ],
            )?;
            statement_body(map, path, version, true)?;
        }
        _ => {
            return fail(
                &join(path, "objectType"),
                "must be Activity, Agent, Group, StatementRef or SubStatement",
            )
        }
    }
    Ok(object_type)
}

fn validate_result(result: &Value, path: &str) -> Result {
    let map = object(result, path)?;
    no_nulls(map, path)?;
    only_keys(
        map,
        path,
        &[
            "score",
            "success",
            "completion",
            "response",
            "duration",
            "extensions",
        ],
    )?;
    for key in ["success", "completion"] {
        if let Some(v) = map.get(key) {
            if !v.is_boolean() {
                return fail(&join(path, key), "must be true or false");
            }
        }
    }
    if let Some(v) = map.get("response") {
        string(v, &join(path, "response"))?;
    }
    if let Some(v) = map.get("duration") {
        if !is_duration(string(v, &join(path, "duration"))?) {
            return fail(
                &join(path, "duration"),
                "must be an ISO 8601 duration such as PT1H30M",
            );
        }
    }
    if let Some(e) = map.get("extensions") {
        extensions(e, &join(path, "extensions"))?;
    }
    if let Some(score) = map.get("score") {
        let sp = join(path, "score");
        let s = object(score, &sp)?;
        no_nulls(s, &sp)?;
        only_keys(s, &sp, &["scaled", "raw", "min", "max"])?;
        let num = |key: &str| -> Result<Option<f64>> {
            match s.get(key) {
                Some(v) => v
                    .as_f64()
                    .map(Some)
                    .map_or_else(|| fail(&join(&sp, key), "must be a number"), Ok),
                None => Ok(None),
            }
        };
        let (scaled, raw, min, max) = (num("scaled")?, num("raw")?, num("min")?, num("max")?);
        if let Some(scaled) = scaled {
            if !(-1.0..=1.0).contains(&scaled) {
                return fail(&join(&sp, "scaled"), "must be between -1 and 1");
            }
        }
        if let (Some(min), Some(max)) = (min, max) {
            if min >= max {
                return fail(&join(&sp, "min"), "must be less than max");
            }
        }
        if let Some(raw) = raw {
            if min.is_some_and(|m| raw < m) || max.is_some_and(|m| raw > m) {
                return fail(&join(&sp, "raw"), "must be between min and max");
            }
        }
    }
    Ok(())
}

fn validate_context(
    context: &Value,
    path: &str,
    version: XapiVersion,
    object_is_activity: bool,
) -> Result {
    let map = object(context, path)?;
    no_nulls(map, path)?;
    let mut allowed = vec![
        "registration",
        "instructor",
        "team",
        "contextActivities",
        "revision",
        "platform",
        "language",
        "statement",
        "extensions",
    ];
    if version == XapiVersion::V2_0_0 {
        allowed.extend(["contextAgents", "contextGroups"]);
    }
    only_keys(map, path, &allowed)?;
    if let Some(r) = map.get("registration") {
        if !is_uuid(string(r, &join(path, "registration"))?) {
            return fail(&join(path, "registration"), "must be a UUID");
        }
    }
    if let Some(i) = map.get("instructor") {
        validate_agent_or_group(i, &join(path, "instructor"), version)?;
    }
    if let Some(t) = map.get("team") {
        let p = join(path, "team");
        validate_agent_or_group(t, &p, version)?;
        if t.get("objectType").and_then(Value::as_str) != Some("Group") {
            return fail(&p, "must be a Group");
        }
    }
    for key in ["revision", "platform"] {
        if let Some(v) = map.get(key) {
            string(v, &join(path, key))?;
            if !object_is_activity {
                return fail(
                    &join(path, key),
                    "is only allowed when the statement's object is an Activity",
                );
            }
        }
    }
    if let Some(l) = map.get("language") {
        if !is_language_tag(string(l, &join(path, "language"))?) {
            return fail(&join(path, "language"), "must be an RFC 5646 language tag");
        }
    }
    if let Some(s) = map.get("statement") {
        let p = join(path, "statement");
        let r = object(s, &p)?;
        only_keys(r, &p, &["objectType", "id"])?;
        if r.get("objectType").and_then(Value::as_str) != Some("StatementRef") {
            return fail(&join(&p, "objectType"), "must be StatementRef");
        }
        if !r.get("id").and_then(Value::as_str).is_some_and(is_uuid) {
            return fail(&join(&p, "id"), "must be a UUID");
        }
    }
    if let Some(e) = map.get("extensions") {
        extensions(e, &join(path, "extensions"))?;
    }
    if let Some(ca) = map.get("contextActivities") {
        let p = join(path, "contextActivities");
        let acts = object(ca, &p)?;
        no_nulls(acts, &p)?;
        only_keys(acts, &p, &["parent", "grouping", "category", "other"])?;
        for (key, value) in acts {
            let kp = join(&p, key);
            match value {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let ip = format!("{kp}[{i}]");
                        activity_value(item, &ip)?;
                    }
                }
                single => activity_value(single, &kp)?,
            }
        }
    }
    for (key, member, object_type) in [
        ("contextAgents", "agent", "contextAgent"),
        ("contextGroups", "group", "contextGroup"),
    ] {
        let Some(list) = map.get(key) else { continue };
        let p = join(path, key);
        let items = list
            .as_array()
            .map_or_else(|| fail(&p, "must be an array"), Ok)?;
        for (i, item) in items.iter().enumerate() {
            let ip = format!("{p}[{i}]");
            let entry = object(item, &ip)?;
            only_keys(entry, &ip, &["objectType", member, "relevantTypes"])?;
            if entry.get("objectType").and_then(Value::as_str) != Some(object_type) {
                return fail(&join(&ip, "objectType"), format!("must be {object_type}"));
            }
            let who = entry
                .get(member)
                .map_or_else(|| fail(&join(&ip, member), "is required"), Ok)?;
            validate_agent_or_group(who, &join(&ip, member), version)?;
            if member == "group" && who.get("objectType").and_then(Value::as_str) != Some("Group") {
                return fail(&join(&ip, member), "must be a Group");
            }
            if let Some(types) = entry.get("relevantTypes") {
                let tp = join(&ip, "relevantTypes");
                let types = types
                    .as_array()
                    .map_or_else(|| fail(&tp, "must be an array of IRIs"), Ok)?;
                if types.is_empty() {
                    return fail(&tp, "must not be empty");
                }
                for (j, t) in types.iter().enumerate() {
                    if !t.as_str().is_some_and(is_iri) {
                        return fail(&format!("{tp}[{j}]"), "must be an IRI");
                    }
                }
            }
        }
    }
    Ok(())
}

fn activity_value(value: &Value, path: &str) -> Result {
    let map = object(value, path)?;
    no_nulls(map, path)?;
    if let Some(t) = map.get("objectType") {
        if string(t, &join(path, "objectType"))? != "Activity" {
            return fail(&join(path, "objectType"), "must be Activity");
        }
    }
    validate_activity(map, path)
}

fn validate_attachments(attachments: &Value, path: &str) -> Result {
    let items = attachments
        .as_array()
        .map_or_else(|| fail(path, "must be an array"), Ok)?;
    for (i, item) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let a = object(item, &p)?;
        no_nulls(a, &p)?;
        only_keys(
            a,
            &p,
            &[
                "usageType",
                "display",
                "description",
                "contentType",
                "length",
                "sha2",
                "fileUrl",
            ],
        )?;
        for key in ["usageType", "display", "contentType", "length", "sha2"] {
            if !a.contains_key(key) {
                return fail(&join(&p, key), "is required");
            }
        }
        if !is_iri(string(&a["usageType"], &join(&p, "usageType"))?) {
            return fail(&join(&p, "usageType"), "must be an IRI");
        }
        language_map(&a["display"], &join(&p, "display"))?;
        if let Some(d) = a.get("description") {
            language_map(d, &join(&p, "description"))?;
        }
        let ct = string(&a["contentType"], &join(&p, "contentType"))?;
        if !ct.contains('/') {
            return fail(&join(&p, "contentType"), "must be an Internet media type");
        }
        let essence = ct.split(';').next().unwrap_or("").trim();
        if a["usageType"] == SIGNATURE_USAGE
            && !essence.eq_ignore_ascii_case(SIGNATURE_CONTENT_TYPE)
        {
            return fail(
                &join(&p, "contentType"),
                "a signature attachment must be application/octet-stream",
            );
        }
        if !a["length"].is_u64() {
            return fail(&join(&p, "length"), "must be a non-negative integer");
        }
        let sha2 = string(&a["sha2"], &join(&p, "sha2"))?;
        if ![64, 96, 128].contains(&sha2.len()) || !sha2.chars().all(|c| c.is_ascii_hexdigit()) {
            return fail(
                &join(&p, "sha2"),
                "must be a SHA-256, SHA-384 or SHA-512 in hex",
            );
        }
        if let Some(u) = a.get("fileUrl") {
            if !is_iri(string(u, &join(&p, "fileUrl"))?) {
                return fail(&join(&p, "fileUrl"), "must be an IRL");
            }
        }
    }
    Ok(())
}

fn extensions(value: &Value, path: &str) -> Result {
    let map = object(value, path)?;
    for key in map.keys() {
        if !is_iri(key) {
            return fail(&join(path, key), "extension keys must be IRIs");
        }
    }
    Ok(())
}

fn language_map(value: &Value, path: &str) -> Result {
    let map = object(value, path)?;
    for (key, text) in map {
        if !is_language_tag(key) {
            return fail(&join(path, key), "is not an RFC 5646 language tag");
        }
        string(text, &join(path, key))?;
    }
    Ok(())
}
fn timestamp(value: &Value, path: &str) -> Result {
    let s = string(value, path)?;
    if parse_timestamp(s).is_none() {
        return fail(
            path,
            "must be an ISO 8601 date and time with a time zone, e.g. 2026-01-31T12:00:00.000Z",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests;
