//! Puts a converter's [`Parts`] into whole statements: id, actor, verb, timestamp, version
//! and context (course parent activity, session and transformer version extensions), plus
//! one statement per question for multi-question problems.
//!
//! Statement ids are ERB's: UUIDv5 in the namespace `uuid5(NAMESPACE_DNS, <verb JSON>)` of
//! `<actor JSON>-<event time>`, both JSON texts as Python's `json.dumps` writes them; a
//! question's namespace is made from `<verb JSON>-<question key>`.

use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::event::Event;
use crate::parts::{course_activity, extension_map, Parts};
use crate::pyfmt::json_dumps;
use crate::vocab::{Verb, EXT_SESSION_ID, EXT_TRANSFORMER_VERSION};
use crate::{actor, timefmt, ConvertError, Options};

/// The xAPI version ERB writes.
const XAPI_VERSION: &str = "1.0.3";
/// Language of the course name in context activities.
const EN_US: &str = "en-US";

/// The statements of one event: the main one, then one per question (if any).
pub(crate) fn assemble(
    event: &Event,
    options: &Options,
    verb: Verb,
    parts: Parts,
) -> Result<Vec<Value>, ConvertError> {
    let (actor, actor_text) = actor::agent(event, options)?;
    let time = event
        .timestamp()
        .ok_or_else(|| ConvertError::missing("time"))?;
    let timestamp = timefmt::isoformat(time)
        .ok_or_else(|| ConvertError::invalid("time", "not an ISO 8601 time with a time zone"))?;
    let verb_json = json!({"id": verb.id, "display": {"en": verb.display}});
    let verb_text = json_dumps(&verb_json, true);
    let id_name = format!("{actor_text}-{time}");
    let id = statement_id(&verb_text, &id_name);

    let mut extensions = vec![
        (
            EXT_TRANSFORMER_VERSION,
            Some(Value::String(options.transformer_version.clone())),
        ),
        (EXT_SESSION_ID, event.session().cloned()),
    ];
    let course = match event.course_id() {
        Some(course_id) if parts.course_parent => {
            Some(course_activity(options, course_id, EN_US).to_json())
        }
        _ => None,
    };
    let base_extensions = extension_map(&extensions);
    extensions.extend(parts.extensions.iter().cloned());

    let mut activities = Map::new();
    if let Some(course) = &course {
        activities.insert("parent".into(), Value::Array(vec![course.clone()]));
    }
    if !parts.grouping.is_empty() {
        let grouping = parts.grouping.iter().map(|a| a.to_json()).collect();
        activities.insert("grouping".into(), Value::Array(grouping));
    }
    let mut context = Map::new();
    if !activities.is_empty() {
        context.insert("contextActivities".into(), Value::Object(activities));
    }
    context.insert("extensions".into(), extension_map(&extensions));

    let object = parts.object.to_json();
    let common = |id: &str, object: Value, context: Map<String, Value>| {
        let mut statement = Map::new();
        statement.insert("id".into(), Value::String(id.to_string()));
        statement.insert("actor".into(), actor.clone());
        statement.insert("verb".into(), verb_json.clone());
        statement.insert("object".into(), object);
        statement.insert("context".into(), Value::Object(context));
        statement.insert("timestamp".into(), Value::String(timestamp.clone()));
        statement.insert("version".into(), Value::String(XAPI_VERSION.into()));
        statement
    };

    let mut main = common(&id, object.clone(), context);
    if let Some(result) = &parts.result {
        main.insert("result".into(), result.to_json());
    }
    let mut statements = vec![Value::Object(main)];
    for child in &parts.children {
        let child_id = statement_id(&format!("{verb_text}-{}", child.key), &id_name);
        let mut activities = Map::new();
        activities.insert("parent".into(), Value::Array(vec![object.clone()]));
        if let Some(course) = &course {
            activities.insert("grouping".into(), Value::Array(vec![course.clone()]));
        }
        let mut context = Map::new();
        context.insert("contextActivities".into(), Value::Object(activities));
        context.insert(
            "statement".into(),
            json!({"objectType": "StatementRef", "id": id}),
        );
        context.insert("extensions".into(), base_extensions.clone());
        let mut statement = common(&child_id, child.object.to_json(), context);
        statement.insert("result".into(), child.result.to_json());
        statements.push(Value::Object(statement));
    }
    Ok(statements)
}

/// `uuid5(uuid5(NAMESPACE_DNS, namespace_key), name)`, as text.
fn statement_id(namespace_key: &str, name: &str) -> String {
    let namespace = Uuid::new_v5(&Uuid::NAMESPACE_DNS, namespace_key.as_bytes());
    Uuid::new_v5(&namespace, name.as_bytes()).to_string()
}
