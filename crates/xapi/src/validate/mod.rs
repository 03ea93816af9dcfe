//! Statement validation against the xAPI rules (1.0.3 and 2.0.0): every property's type and
//! form, identifiers, language maps, timestamps, durations, scores, context and SubStatement
//! rules, and no unknown properties. Errors name the JSON path and the rule.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::signature::{SIGNATURE_CONTENT_TYPE, SIGNATURE_USAGE};
use crate::version::XapiVersion;

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

fn validate_authority(authority: &Value, version: XapiVersion) -> Result {
    validate_agent_or_group(authority, "authority", version)?;
    // A Group authority stands for three-legged OAuth: an anonymous Group of exactly two
    // Agents, the application and the user.
    if authority.get("objectType").and_then(Value::as_str) == Some("Group") {
        if ["mbox", "mbox_sha1sum", "openid", "account"]
            .iter()
            .any(|ifi| authority.get(ifi).is_some())
        {
            return fail("authority", "an authority Group must be anonymous (no IFI)");
        }
        let members = authority.get("member").and_then(Value::as_array);
        if members.is_none_or(|m| m.len() != 2) {
            return fail(
                "authority.member",
                "an authority Group must have exactly two members",
            );
        }
    }
    Ok(())
}

/// Checks an Agent or Group object.
pub fn validate_agent(agent: &Value, path: &str, version: XapiVersion) -> Result {
    validate_agent_or_group(agent, path, version)
}

/// Checks the `agent` parameter of the State, Agent Profile and Agents resources: an Agent,
/// never a Group (Communication 2.3, 2.4, 2.6: "The "agent" parameter is an Agent Object and
/// not a Group").
pub fn validate_agent_parameter(agent: &Value, path: &str, version: XapiVersion) -> Result {
    if agent.get("objectType").and_then(Value::as_str) == Some("Group") {
        return fail(
            &join(path, "objectType"),
            "must be Agent, not Group: to keep data about an identified Group, send its identifier in an Agent",
        );
    }
    validate_agent(agent, path, version)
}

fn validate_agent_or_group(value: &Value, path: &str, version: XapiVersion) -> Result {
    let map = object(value, path)?;
    no_nulls(map, path)?;
    match map.get("objectType") {
        None => agent_body(map, path),
        Some(t) => match string(t, &join(path, "objectType"))? {
            "Agent" => agent_body(map, path),
            "Group" => group_body(map, path, version),
            _ => fail(&join(path, "objectType"), "must be Agent or Group"),
        },
    }
}

fn agent_body(map: &Map<String, Value>, path: &str) -> Result {
    only_keys(
        map,
        path,
        &[
            "objectType",
            "name",
            "mbox",
            "mbox_sha1sum",
            "openid",
            "account",
        ],
    )?;
    let count = ifis(map, path)?;
    if count != 1 {
        return fail(
            path,
            "an Agent must have exactly one identifier: mbox, mbox_sha1sum, openid or account",
        );
    }
    if let Some(name) = map.get("name") {
        string(name, &join(path, "name"))?;
    }
    Ok(())
}

fn group_body(map: &Map<String, Value>, path: &str, _version: XapiVersion) -> Result {
    only_keys(
        map,
        path,
        &[
            "objectType",
            "name",
            "mbox",
            "mbox_sha1sum",
            "openid",
            "account",
            "member",
        ],
    )?;
    let count = ifis(map, path)?;
    if count > 1 {
        return fail(path, "a Group must have at most one identifier");
    }
    if let Some(name) = map.get("name") {
        string(name, &join(path, "name"))?;
    }
    let member_path = join(path, "member");
    match map.get("member") {
        Some(Value::Array(members)) => {
            if count == 0 && members.is_empty() {
                return fail(&member_path, "an anonymous Group must list its members");
            }
            for (i, m) in members.iter().enumerate() {
                let p = format!("{member_path}[{i}]");
                let mm = object(m, &p)?;
                no_nulls(mm, &p)?;
                match mm.get("objectType").and_then(Value::as_str) {
                    None | Some("Agent") => agent_body(mm, &p)?,
                    Some(_) => {
                        return fail(&join(&p, "objectType"), "a Group's members must be Agents")
                    }
                }
            }
        }
        Some(_) => return fail(&member_path, "must be an array of Agents"),
        None if count == 0 => {
            return fail(&member_path, "an anonymous Group must list its members")
        }
        None => {}
    }
    Ok(())
}

/// Counts and checks the identifiers present.
fn ifis(map: &Map<String, Value>, path: &str) -> Result<usize> {
    let mut count = 0;
    if let Some(v) = map.get("mbox") {
        let p = join(path, "mbox");
        let s = string(v, &p)?;
        let email = s
            .strip_prefix("mailto:")
            .map_or_else(|| fail(&p, "must be a mailto: IRI"), Ok)?;
        if !is_email(email) {
            return fail(&p, "must be mailto: followed by an email address");
        }
        count += 1;
    }
    if let Some(v) = map.get("mbox_sha1sum") {
        let p = join(path, "mbox_sha1sum");
        let s = string(v, &p)?;
        if s.len() != 40 || !s.chars().all(|c| c.is_ascii_hexdigit()) {
            return fail(&p, "must be the 40 hex digits of a SHA-1");
        }
        count += 1;
    }
    if let Some(v) = map.get("openid") {
        let p = join(path, "openid");
        if !is_iri(string(v, &p)?) {
            return fail(&p, "must be a URI");
        }
        count += 1;
    }
    if let Some(v) = map.get("account") {
        let p = join(path, "account");
        let account = object(v, &p)?;
        only_keys(account, &p, &["homePage", "name"])?;
        let home = account
            .get("homePage")
            .map_or_else(|| fail(&join(&p, "homePage"), "is required"), Ok)?;
        if !is_iri(string(home, &join(&p, "homePage"))?) {
            return fail(&join(&p, "homePage"), "must be an IRL");
        }
        let name = account
            .get("name")
            .map_or_else(|| fail(&join(&p, "name"), "is required"), Ok)?;
        string(name, &join(&p, "name"))?;
        count += 1;
    }
    Ok(count)
}

fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !s.chars().any(|c| c.is_whitespace() || c.is_control())
                && !domain.contains('@')
        }
        None => false,
    }
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

const INTERACTION_TYPES: [&str; 10] = [
    "true-false",
    "choice",
    "fill-in",
    "long-fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
    "other",
];

fn validate_activity(map: &Map<String, Value>, path: &str) -> Result {
    only_keys(map, path, &["objectType", "id", "definition"])?;
    let id = map
        .get("id")
        .map_or_else(|| fail(&join(path, "id"), "is required"), Ok)?;
    if !is_iri(string(id, &join(path, "id"))?) {
        return fail(&join(path, "id"), "must be an IRI");
    }
    let Some(definition) = map.get("definition") else {
        return Ok(());
    };
    let dp = join(path, "definition");
    let def = object(definition, &dp)?;
    no_nulls(def, &dp)?;
    only_keys(
        def,
        &dp,
        &[
            "name",
            "description",
            "type",
            "moreInfo",
            "extensions",
            "interactionType",
            "correctResponsesPattern",
            "choices",
            "scale",
            "source",
            "target",
            "steps",
        ],
    )?;
    for key in ["name", "description"] {
        if let Some(v) = def.get(key) {
            language_map(v, &join(&dp, key))?;
        }
    }
    for key in ["type", "moreInfo"] {
        if let Some(v) = def.get(key) {
            if !is_iri(string(v, &join(&dp, key))?) {
                return fail(&join(&dp, key), "must be an IRI");
            }
        }
    }
    if let Some(e) = def.get("extensions") {
        extensions(e, &join(&dp, "extensions"))?;
    }
    let interaction = match def.get("interactionType") {
        Some(t) => {
            let t = string(t, &join(&dp, "interactionType"))?;
            if !INTERACTION_TYPES.contains(&t) {
                return fail(
                    &join(&dp, "interactionType"),
                    "must be one of the xAPI interaction types",
                );
            }
            Some(t)
        }
        None => None,
    };
    if let Some(c) = def.get("correctResponsesPattern") {
        let p = join(&dp, "correctResponsesPattern");
        if interaction.is_none() {
            return fail(&p, "needs an interactionType");
        }
        let items = c
            .as_array()
            .map_or_else(|| fail(&p, "must be an array of strings"), Ok)?;
        for (i, item) in items.iter().enumerate() {
            string(item, &format!("{p}[{i}]"))?;
        }
    }
    let allowed: &[&str] = match interaction {
        Some("choice") | Some("sequencing") => &["choices"],
        Some("likert") => &["scale"],
        Some("matching") => &["source", "target"],
        Some("performance") => &["steps"],
        _ => &[],
    };
    for key in ["choices", "scale", "source", "target", "steps"] {
        let Some(list) = def.get(key) else { continue };
        let p = join(&dp, key);
        if interaction.is_none() {
            return fail(&p, "interaction components need an interactionType");
        }
        if !allowed.contains(&key) {
            return fail(&p, "is not a component of this interactionType");
        }
        let items = list
            .as_array()
            .map_or_else(|| fail(&p, "must be an array"), Ok)?;
        let mut ids = std::collections::HashSet::new();
        for (i, item) in items.iter().enumerate() {
            let ip = format!("{p}[{i}]");
            let component = object(item, &ip)?;
            only_keys(component, &ip, &["id", "description"])?;
            let id = component
                .get("id")
                .map_or_else(|| fail(&join(&ip, "id"), "is required"), Ok)?;
            let id = string(id, &join(&ip, "id"))?;
            if !ids.insert(id) {
                return fail(&join(&ip, "id"), "must be unique within the list");
            }
            if let Some(d) = component.get("description") {
                language_map(d, &join(&ip, "description"))?;
            }
        }
    }
    Ok(())
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

/// True for a well-formed RFC 5646 language tag (structure, not registry membership).
pub fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let Some(primary) = parts.next() else {
        return false;
    };
    let primary_ok = (primary.len() >= 2
        && primary.len() <= 8
        && primary.chars().all(|c| c.is_ascii_alphabetic()))
        || ((primary == "i" || primary == "x") && tag.len() > 2);
    primary_ok
        && parts
            .all(|p| !p.is_empty() && p.len() <= 8 && p.chars().all(|c| c.is_ascii_alphanumeric()))
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

/// Parses an ISO 8601 / RFC 3339 timestamp with a time zone; None if not acceptable. `-00:00`
/// (RFC 3339's "unknown offset") is refused, as xAPI 2.0 requires.
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    if s.ends_with("-00:00") || s.ends_with("-0000") || s.ends_with("-00") {
        return None;
    }
    // ISO 8601 separates date and time with `T` (RFC 3339 also allows `t`); chrono would
    // accept a space too.
    if !matches!(s.as_bytes().get(10), Some(b'T' | b't')) {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    // ISO 8601 forms RFC 3339 lacks: basic offsets (+0100), hour-only offsets (+01).
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(s, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    None
}

/// True if s is an ISO 8601 duration as xAPI allows (e.g. "PT1H30M", "P1DT2.5S", "P4W").
pub fn is_duration(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('P') else {
        return false;
    };
    if let Some(weeks) = rest.strip_suffix('W') {
        return is_number(weeks);
    }
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => {
            if t.is_empty() {
                return false;
            }
            (d, Some(t))
        }
        None => (rest, None),
    };
    let mut any = false;
    let mut check = |part: &str, units: &[char]| -> bool {
        let mut number = String::new();
        let mut next_unit = 0;
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' || c == ',' {
                number.push(c);
                continue;
            }
            let Some(pos) = units[next_unit..].iter().position(|u| *u == c) else {
                return false;
            };
            if !is_number(&number) {
                return false;
            }
            number.clear();
            next_unit += pos + 1;
            any = true;
        }
        number.is_empty()
    };
    check(date, &['Y', 'M', 'D']) && time.is_none_or(|t| check(t, &['H', 'M', 'S'])) && any
}

fn is_number(s: &str) -> bool {
    let s = s.replace(',', ".");
    !s.is_empty() && s.parse::<f64>().is_ok() && !s.starts_with('.') && !s.ends_with('.')
}

/// True if s is an absolute IRI: a scheme, a colon, and no whitespace or control characters.
pub fn is_iri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'));
    let forbidden = |c: char| {
        c.is_whitespace()
            || c.is_control()
            || matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '\\' | '^' | '`')
    };
    scheme_ok && !rest.is_empty() && !s.chars().any(forbidden)
}

/// True if s is a UUID in the 8-4-4-4-12 hex form.
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::parse_str(s).is_ok() && s.as_bytes()[8] == b'-'
}

#[cfg(test)]
mod tests;
