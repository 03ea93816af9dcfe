//! `edx-to-xapi` — converts Open edX tracking-log events to xAPI statements, the statements
//! Open edX's event-routing-backends (ERB) makes of them.
//!
//! The mapping is ERB's xAPI backend (65 event names: verbs, objects, results, context,
//! statement ids), specified by ERB's test fixtures and documentation; the implementation is
//! original. What ERB looks up in the LMS (external user ids, e-mails, course names, the LMS
//! URL, its own version) comes from [`Options`]. See the README for the event table and the
//! few differences.
//!
//! The crate is pure conversion logic (std + `serde_json` + `uuid`, no I/O, no clock), so
//! that it builds for a WebAssembly guest (`src/plugin.rs`).

mod actor;
mod convert;
mod error;
mod event;
mod options;
mod parts;
mod pyfmt;
mod statement;
mod timefmt;
mod vocab;

#[cfg(target_arch = "wasm32")]
mod plugin;

use serde_json::Value;

pub use error::ConvertError;
pub use options::{AgentIfi, Options, DEFAULT_TRANSFORMER_VERSION};

/// Converts one tracking-log event: `Ok(None)` when its name has no converter, else its statement, or a JSON array of statements when ERB makes several (a multi-question `problem_check`).
pub fn convert(event: &Value, options: &Options) -> Result<Option<Value>, ConvertError> {
    let mut statements = convert_all(event, options)?;
    Ok(match statements.len() {
        0 => None,
        1 => statements.pop(),
        _ => Some(Value::Array(statements)),
    })
}

/// Converts one tracking-log event to every statement ERB makes of it (empty when its name has no converter).
pub fn convert_all(event: &Value, options: &Options) -> Result<Vec<Value>, ConvertError> {
    convert::statements(event, options)
}

/// Converts one raw tracking-log line as [`convert`] does; a line that is not JSON is an error.
pub fn convert_line(line: &str, options: &Options) -> Result<Option<Value>, ConvertError> {
    let event: Value =
        serde_json::from_str(line).map_err(|e| ConvertError::InvalidJson(e.to_string()))?;
    convert(&event, options)
}

/// The event names this crate converts: those ERB's xAPI backend registers.
pub fn event_names() -> impl Iterator<Item = &'static str> {
    convert::names()
}

/// Whether a JSON value looks like an edX tracking-log event rather than an xAPI statement (has `event_type` and `event_source`/`context` and no `actor`/`verb`).
pub fn is_edx_event(value: &Value) -> bool {
    let Some(object) = value.as_object() else {
        return false;
    };
    object.contains_key("event_type")
        && (object.contains_key("event_source") || object.contains_key("context"))
        && !object.contains_key("actor")
        && !object.contains_key("verb")
}

/// Whether every statement has an object id; ERB's router drops an event's statements otherwise.
pub fn has_object_ids(statements: &[Value]) -> bool {
    statements
        .iter()
        .all(|s| s.pointer("/object/id").and_then(Value::as_str).is_some())
}
