//! Statement validation against the xAPI rules (1.0.3 and 2.0.0): every property's type and
//! form, identifiers, language maps, timestamps, durations, scores, context and SubStatement
//! rules, and no unknown properties. Errors name the JSON path and the rule.

mod activity;
mod agent;
mod changed;
mod formats;
mod rule;

use std::cell::RefCell;

use serde_json::{Map, Value};

use crate::signature::{SIGNATURE_CONTENT_TYPE, SIGNATURE_USAGE};
use crate::version::XapiVersion;

use activity::validate_activity;
#[cfg(test)]
use activity::INTERACTION_TYPES;
pub use agent::{validate_agent, validate_agent_parameter};
use agent::{validate_agent_or_group, validate_authority};
pub use changed::validate_changed;
pub use formats::{is_duration, is_iri, is_language_tag, is_uuid, parse_timestamp};
pub use rule::Rule;

/// A rule a statement (or query parameter) breaks: where, and which rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// The rule broken.
    pub rule: Rule,
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

fn fail<T>(rule: Rule, path: &str, message: impl Into<String>) -> Result<T> {
    Err(ValidationError {
        rule,
        path: path.to_string(),
        message: message.into(),
    })
}

/// How a validation treats a broken rule it could look past.
#[derive(Debug, Clone, Copy)]
enum Mode<'a> {
    /// The first broken rule ends the validation.
    Strict,
    /// Waivable rules are recorded and looked past; the first other one ends it.
    Collect,
    /// These rules are recorded and looked past; the first other one ends it.
    Waive(&'a [Rule]),
}

/// What a validation knows as it goes: the version's rules, and how it treats waivable ones.
struct Ctx<'a> {
    version: XapiVersion,
    mode: Mode<'a>,
    /// The broken rules looked past so far.
    passed: RefCell<Vec<ValidationError>>,
}

impl<'a> Ctx<'a> {
    fn new(version: XapiVersion, mode: Mode<'a>) -> Self {
        Self {
            version,
            mode,
            passed: RefCell::new(Vec::new()),
        }
    }

    /// A broken rule the LRS can look past (see [`Rule::waivable`]): an error, unless this
    /// validation looks past it, then recorded and `Ok` so the caller goes on.
    fn waivable(&self, rule: Rule, path: &str, message: impl Into<String>) -> Result {
        let look_past = match self.mode {
            Mode::Strict => false,
            Mode::Collect => rule.waivable(),
            Mode::Waive(rules) => rules.contains(&rule),
        };
        let error = ValidationError {
            rule,
            path: path.to_string(),
            message: message.into(),
        };
        if !look_past {
            return Err(error);
        }
        self.passed.borrow_mut().push(error);
        Ok(())
    }

    fn into_passed(self) -> Vec<ValidationError> {
        self.passed.into_inner()
    }
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
        .map_or_else(|| fail(Rule::Type, path, "must be a JSON object"), Ok)
}

fn string<'a>(v: &'a Value, path: &str) -> Result<&'a str> {
    v.as_str()
        .map_or_else(|| fail(Rule::Type, path, "must be a string"), Ok)
}

fn only_keys(map: &Map<String, Value>, path: &str, allowed: &[&str]) -> Result {
    for key in map.keys() {
        if !allowed.contains(&key.as_str()) {
            return fail(
                Rule::UnknownProperty,
                &join(path, key),
                "is not a property allowed here",
            );
        }
    }
    Ok(())
}

fn no_nulls(map: &Map<String, Value>, path: &str) -> Result {
    for (key, value) in map {
        if value.is_null() {
            return fail(Rule::Null, &join(path, key), "must not be null");
        }
    }
    Ok(())
}

/// Checks one statement as submitted by a client.
pub fn validate_statement(statement: &Value, version: XapiVersion) -> Result {
    statement_rules(&Ctx::new(version, Mode::Strict), statement)
}

/// Every rule a statement breaks: the ones the LRS can look past ([`Rule::waivable`]), then,
/// when the statement also breaks one it cannot, that one, last (validation stops there).
/// Empty for a valid statement.
pub fn violations(statement: &Value, version: XapiVersion) -> Vec<ValidationError> {
    let ctx = Ctx::new(version, Mode::Collect);
    let last = statement_rules(&ctx, statement).err();
    let mut found = ctx.into_passed();
    found.extend(last);
    found
}

/// Checks a statement as [`validate_statement`] does, looking past the `waived` rules: `Ok`
/// with what was looked past, or the first rule broken that is not waived.
pub fn validate_waiving(
    statement: &Value,
    version: XapiVersion,
    waived: &[Rule],
) -> Result<Vec<ValidationError>> {
    let ctx = Ctx::new(version, Mode::Waive(waived));
    statement_rules(&ctx, statement)?;
    Ok(ctx.into_passed())
}

fn statement_rules(ctx: &Ctx, statement: &Value) -> Result {
    let version = ctx.version;
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
            return fail(Rule::Uuid, "id", "must be a UUID");
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
                Rule::Version,
                "version",
                "must be a supported xAPI version such as 1.0.3 or 2.0.0",
            );
        }
    }
    if let Some(a) = map.get("authority") {
        validate_authority(a)?;
    }
    if let Some(s) = map.get("stored") {
        timestamp(s, "stored")?;
    }
    statement_body(ctx, map, "", false)
}

fn is_version_of(v: &str, major_minor: &str) -> bool {
    v == major_minor
        || v.strip_prefix(major_minor)
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|patch| !patch.is_empty() && patch.chars().all(|c| c.is_ascii_digit()))
}

/// The parts a Statement and a SubStatement share.
fn statement_body(ctx: &Ctx, map: &Map<String, Value>, path: &str, sub: bool) -> Result {
    let actor = map.get("actor").map_or_else(
        || fail(Rule::Required, &join(path, "actor"), "is required"),
        Ok,
    )?;
    validate_agent_or_group(actor, &join(path, "actor"))?;
    let verb = map.get("verb").map_or_else(
        || fail(Rule::Required, &join(path, "verb"), "is required"),
        Ok,
    )?;
    validate_verb(ctx, verb, &join(path, "verb"))?;
    let object_value = map.get("object").map_or_else(
        || fail(Rule::Required, &join(path, "object"), "is required"),
        Ok,
    )?;
    let object_type = validate_object(ctx, object_value, &join(path, "object"), sub)?;
    if verb.get("id").and_then(Value::as_str) == Some(crate::statement::VOIDED_VERB)
        && object_type != "StatementRef"
    {
        return fail(
            Rule::Voiding,
            &join(path, "object"),
            "a voiding statement's object must be a StatementRef",
        );
    }
    if let Some(r) = map.get("result") {
        validate_result(ctx, r, &join(path, "result"))?;
    }
    if let Some(c) = map.get("context") {
        validate_context(ctx, c, &join(path, "context"), object_type == "Activity")?;
    }
    if let Some(t) = map.get("timestamp") {
        timestamp(t, &join(path, "timestamp"))?;
    }
    if let Some(a) = map.get("attachments") {
        validate_attachments(ctx, a, &join(path, "attachments"))?;
    }
    Ok(())
}

fn validate_verb(ctx: &Ctx, verb: &Value, path: &str) -> Result {
    let map = object(verb, path)?;
    no_nulls(map, path)?;
    only_keys(map, path, &["id", "display"])?;
    let id = map.get("id").map_or_else(
        || fail(Rule::Required, &join(path, "id"), "is required"),
        Ok,
    )?;
    if !is_iri(string(id, &join(path, "id"))?) {
        ctx.waivable(Rule::Iri, &join(path, "id"), "must be an IRI")?;
    }
    if let Some(d) = map.get("display") {
        language_map(d, &join(path, "display"))?;
    }
    Ok(())
}

/// Checks the object; returns its objectType.
fn validate_object<'a>(
    ctx: &Ctx,
    object_value: &'a Value,
    path: &str,
    in_sub: bool,
) -> Result<&'a str> {
    let map = object(object_value, path)?;
    no_nulls(map, path)?;
    let object_type = match map.get("objectType") {
        None => "Activity",
        Some(t) => string(t, &join(path, "objectType"))?,
    };
    match object_type {
        "Activity" => validate_activity(ctx, map, path)?,
        "Agent" | "Group" => validate_agent_or_group(object_value, path)?,
        "StatementRef" => {
            only_keys(map, path, &["objectType", "id"])?;
            let id = map.get("id").map_or_else(
                || fail(Rule::Required, &join(path, "id"), "is required"),
                Ok,
            )?;
            if !is_uuid(string(id, &join(path, "id"))?) {
                return fail(Rule::Uuid, &join(path, "id"), "must be a UUID");
            }
        }
        "SubStatement" => {
            if in_sub {
                return fail(
                    Rule::SubStatement,
                    path,
                    "a SubStatement cannot contain a SubStatement",
                );
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
            statement_body(ctx, map, path, true)?;
        }
        _ => {
            ctx.waivable(
                Rule::ObjectType,
                &join(path, "objectType"),
                "must be Activity, Agent, Group, StatementRef or SubStatement",
            )?;
            // Looked past: the rest is checked as the default objectType, an Activity.
            validate_activity(ctx, map, path)?;
        }
    }
    Ok(object_type)
}

fn validate_result(ctx: &Ctx, result: &Value, path: &str) -> Result {
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
                return fail(Rule::Type, &join(path, key), "must be true or false");
            }
        }
    }
    if let Some(v) = map.get("response") {
        string(v, &join(path, "response"))?;
    }
    if let Some(v) = map.get("duration") {
        if !is_duration(string(v, &join(path, "duration"))?) {
            return fail(
                Rule::Duration,
                &join(path, "duration"),
                "must be an ISO 8601 duration such as PT1H30M",
            );
        }
    }
    if let Some(e) = map.get("extensions") {
        extensions(ctx, e, &join(path, "extensions"))?;
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
                    .map_or_else(|| fail(Rule::Type, &join(&sp, key), "must be a number"), Ok),
                None => Ok(None),
            }
        };
        let (scaled, raw, min, max) = (num("scaled")?, num("raw")?, num("min")?, num("max")?);
        if let Some(scaled) = scaled {
            if !(-1.0..=1.0).contains(&scaled) {
                ctx.waivable(
                    Rule::Score,
                    &join(&sp, "scaled"),
                    "must be between -1 and 1",
                )?;
            }
        }
        if let (Some(min), Some(max)) = (min, max) {
            if min >= max {
                ctx.waivable(Rule::Score, &join(&sp, "min"), "must be less than max")?;
            }
        }
        if let Some(raw) = raw {
            if min.is_some_and(|m| raw < m) || max.is_some_and(|m| raw > m) {
                ctx.waivable(
                    Rule::Score,
                    &join(&sp, "raw"),
                    "must be between min and max",
                )?;
            }
        }
    }
    Ok(())
}

fn validate_context(ctx: &Ctx, context: &Value, path: &str, object_is_activity: bool) -> Result {
    let version = ctx.version;
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
            return fail(Rule::Uuid, &join(path, "registration"), "must be a UUID");
        }
    }
    if let Some(i) = map.get("instructor") {
        validate_agent_or_group(i, &join(path, "instructor"))?;
    }
    if let Some(t) = map.get("team") {
        let p = join(path, "team");
        validate_agent_or_group(t, &p)?;
        if t.get("objectType").and_then(Value::as_str) != Some("Group") {
            return fail(Rule::ObjectType, &p, "must be a Group");
        }
    }
    for key in ["revision", "platform"] {
        if let Some(v) = map.get(key) {
            string(v, &join(path, key))?;
            if !object_is_activity {
                return fail(
                    Rule::Context,
                    &join(path, key),
                    "is only allowed when the statement's object is an Activity",
                );
            }
        }
    }
    if let Some(l) = map.get("language") {
        if !is_language_tag(string(l, &join(path, "language"))?) {
            return fail(
                Rule::Language,
                &join(path, "language"),
                "must be an RFC 5646 language tag",
            );
        }
    }
    if let Some(s) = map.get("statement") {
        let p = join(path, "statement");
        let r = object(s, &p)?;
        only_keys(r, &p, &["objectType", "id"])?;
        if r.get("objectType").and_then(Value::as_str) != Some("StatementRef") {
            return fail(
                Rule::ObjectType,
                &join(&p, "objectType"),
                "must be StatementRef",
            );
        }
        if !r.get("id").and_then(Value::as_str).is_some_and(is_uuid) {
            return fail(Rule::Uuid, &join(&p, "id"), "must be a UUID");
        }
    }
    if let Some(e) = map.get("extensions") {
        extensions(ctx, e, &join(path, "extensions"))?;
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
                        activity_value(ctx, item, &ip)?;
                    }
                }
                single => activity_value(ctx, single, &kp)?,
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
            .map_or_else(|| fail(Rule::Type, &p, "must be an array"), Ok)?;
        for (i, item) in items.iter().enumerate() {
            let ip = format!("{p}[{i}]");
            let entry = object(item, &ip)?;
            only_keys(entry, &ip, &["objectType", member, "relevantTypes"])?;
            if entry.get("objectType").and_then(Value::as_str) != Some(object_type) {
                return fail(
                    Rule::ObjectType,
                    &join(&ip, "objectType"),
                    format!("must be {object_type}"),
                );
            }
            let who = entry.get(member).map_or_else(
                || fail(Rule::Required, &join(&ip, member), "is required"),
                Ok,
            )?;
            validate_agent_or_group(who, &join(&ip, member))?;
            if member == "group" && who.get("objectType").and_then(Value::as_str) != Some("Group") {
                return fail(Rule::ObjectType, &join(&ip, member), "must be a Group");
            }
            if let Some(types) = entry.get("relevantTypes") {
                let tp = join(&ip, "relevantTypes");
                let types = types
                    .as_array()
                    .map_or_else(|| fail(Rule::Type, &tp, "must be an array of IRIs"), Ok)?;
                if types.is_empty() {
                    return fail(Rule::Context, &tp, "must not be empty");
                }
                for (j, t) in types.iter().enumerate() {
                    if !t.as_str().is_some_and(is_iri) {
                        ctx.waivable(Rule::Iri, &format!("{tp}[{j}]"), "must be an IRI")?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn activity_value(ctx: &Ctx, value: &Value, path: &str) -> Result {
    let map = object(value, path)?;
    no_nulls(map, path)?;
    if let Some(t) = map.get("objectType") {
        if string(t, &join(path, "objectType"))? != "Activity" {
            ctx.waivable(
                Rule::ObjectType,
                &join(path, "objectType"),
                "must be Activity",
            )?;
        }
    }
    validate_activity(ctx, map, path)
}

fn validate_attachments(ctx: &Ctx, attachments: &Value, path: &str) -> Result {
    let items = attachments
        .as_array()
        .map_or_else(|| fail(Rule::Type, path, "must be an array"), Ok)?;
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
                return fail(Rule::Required, &join(&p, key), "is required");
            }
        }
        if !is_iri(string(&a["usageType"], &join(&p, "usageType"))?) {
            ctx.waivable(Rule::Iri, &join(&p, "usageType"), "must be an IRI")?;
        }
        language_map(&a["display"], &join(&p, "display"))?;
        if let Some(d) = a.get("description") {
            language_map(d, &join(&p, "description"))?;
        }
        let ct = string(&a["contentType"], &join(&p, "contentType"))?;
        if !ct.contains('/') {
            return fail(
                Rule::Attachment,
                &join(&p, "contentType"),
                "must be an Internet media type",
            );
        }
        let essence = ct.split(';').next().unwrap_or("").trim();
        if a["usageType"] == SIGNATURE_USAGE
            && !essence.eq_ignore_ascii_case(SIGNATURE_CONTENT_TYPE)
        {
            return fail(
                Rule::Attachment,
                &join(&p, "contentType"),
                "a signature attachment must be application/octet-stream",
            );
        }
        if !a["length"].is_u64() {
            return fail(
                Rule::Type,
                &join(&p, "length"),
                "must be a non-negative integer",
            );
        }
        let sha2 = string(&a["sha2"], &join(&p, "sha2"))?;
        if ![64, 96, 128].contains(&sha2.len()) || !sha2.chars().all(|c| c.is_ascii_hexdigit()) {
            return fail(
                Rule::Attachment,
                &join(&p, "sha2"),
                "must be a SHA-256, SHA-384 or SHA-512 in hex",
            );
        }
        if let Some(u) = a.get("fileUrl") {
            if !is_iri(string(u, &join(&p, "fileUrl"))?) {
                ctx.waivable(Rule::Iri, &join(&p, "fileUrl"), "must be an IRL")?;
            }
        }
    }
    Ok(())
}

fn extensions(ctx: &Ctx, value: &Value, path: &str) -> Result {
    let map = object(value, path)?;
    for key in map.keys() {
        if !is_iri(key) {
            ctx.waivable(Rule::Iri, &join(path, key), "extension keys must be IRIs")?;
        }
    }
    Ok(())
}

fn language_map(value: &Value, path: &str) -> Result {
    let map = object(value, path)?;
    for (key, text) in map {
        if !is_language_tag(key) {
            return fail(
                Rule::Language,
                &join(path, key),
                "is not an RFC 5646 language tag",
            );
        }
        string(text, &join(path, key))?;
    }
    Ok(())
}
fn timestamp(value: &Value, path: &str) -> Result {
    let s = string(value, path)?;
    if parse_timestamp(s).is_none() {
        return fail(
            Rule::Timestamp,
            path,
            "must be an ISO 8601 date and time with a time zone, e.g. 2026-01-31T12:00:00.000Z",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod waiver_tests;
