//! `edx-to-xapi` — converts Open edX tracking-log events to xAPI statements.
//!
//! The mapping follows Ralph's edX → xAPI converters (openfun/ralph,
//! `ralph/models/edx/converters/xapi/`): same verbs, activity types, object ids,
//! extension keys and actor, and the same statement id recipe (UUIDv5 of the event
//! text in a configured namespace). See the crate README for the table of event
//! types and for the few places where this crate deliberately differs from Ralph.
//!
//! This crate holds only the pure conversion logic (std + `serde_json` + `uuid`), so
//! that it can be built for a WebAssembly guest: no filesystem and no clock, the
//! statement `timestamp` comes from the event's `time`.

mod common;
mod convert;
mod enrollment;
mod error;
mod navigation;
mod problem;
mod video;

#[cfg(target_arch = "wasm32")]
mod plugin;

use serde_json::Value;

pub use error::ConvertError;

/// Settings of the conversion (from the plugin's config).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Base URL of the Open edX platform: the actor's `account.homePage` and the prefix of object ids.
    pub platform_url: String,
    /// UUID namespace of statement ids; `None` derives one from `platform_url` (see README).
    pub uuid_namespace: Option<String>,
}

/// Converts one edX event (a parsed tracking-log line). Ok(None): an event type this converter does not handle (the caller skips/keeps it); Err: a handled type whose event is malformed, with a message naming the missing/invalid field.
///
/// The statement id is the UUIDv5, in the configured namespace, of the event's
/// canonical JSON text (object keys sorted, no whitespace), so it does not depend
/// on the key order or spacing of the original line.
pub fn convert(event: &Value, options: &Options) -> Result<Option<Value>, ConvertError> {
    let text = common::canonical_json(event);
    convert::dispatch(event, text.as_bytes(), options)
}

/// Converts one raw tracking-log line, making the statement id from the line's exact bytes as Ralph does.
///
/// Ralph computes `uuid5(namespace, line)` over the line as it read it (its CLI
/// keeps the trailing newline); pass the line exactly so to get Ralph's ids.
/// A line that is not JSON is an error ([`ConvertError::InvalidJson`]).
pub fn convert_line(line: &str, options: &Options) -> Result<Option<Value>, ConvertError> {
    let event: Value =
        serde_json::from_str(line).map_err(|e| ConvertError::InvalidJson(e.to_string()))?;
    convert::dispatch(&event, line.as_bytes(), options)
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
