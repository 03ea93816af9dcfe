//! A tracking-log line as the converters read it: its name, its payload (`event`, parsed
//! when it is JSON text, as ERB's log reader does; `data` when there is no `event`), and the
//! fields the shim moved out of `context` (`session`, `referer`, `username`, `event_source`).
//!
//! Lookups follow ERB's rule for a missing value: `null`, `""`, `[]` and `{}` count as
//! absent, while `0` and `false` are values.

use std::borrow::Cow;

use serde_json::{Map, Value};

/// One tracking-log event.
pub(crate) struct Event<'a> {
    line: &'a Map<String, Value>,
    name: &'a str,
    payload: Cow<'a, Value>,
}

/// `value` unless it is one ERB treats as absent (`null`, `""`, `[]`, `{}`).
pub(crate) fn present(value: Option<&Value>) -> Option<&Value> {
    match value? {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::Array(a) if a.is_empty() => None,
        Value::Object(o) if o.is_empty() => None,
        v => Some(v),
    }
}

/// Python's truthiness of a JSON value.
pub(crate) fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

/// The value at `path` below `value`.
pub(crate) fn at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

impl<'a> Event<'a> {
    /// The event of a parsed line: `None` unless it is an object with a `name` or `event_type`.
    pub(crate) fn read(value: &'a Value) -> Option<Self> {
        let line = value.as_object()?;
        let name = [line.get("name"), line.get("event_type")]
            .into_iter()
            .flatten()
            .find_map(|v| v.as_str().filter(|s| !s.is_empty()))?;
        let raw = line.get("event").or_else(|| line.get("data"));
        let payload = match raw {
            Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
                Ok(parsed) => Cow::Owned(parsed),
                Err(_) => Cow::Borrowed(raw.unwrap_or(&Value::Null)),
            },
            Some(v) => Cow::Borrowed(v),
            None => Cow::Owned(Value::Null),
        };
        Some(Event {
            line,
            name,
            payload,
        })
    }

    /// The event name (`name`, else `event_type`).
    pub(crate) fn name(&self) -> &'a str {
        self.name
    }

    /// The whole payload: an object, or the raw text of a browser event that is not JSON.
    pub(crate) fn payload(&self) -> &Value {
        &self.payload
    }

    /// The payload member at `path`, if the payload is an object and the value is present.
    pub(crate) fn data(&self, path: &[&str]) -> Option<&Value> {
        present(at(self.payload(), path))
    }

    /// A `context` member, if present.
    pub(crate) fn context(&self, path: &[&str]) -> Option<&'a Value> {
        present(at(self.line.get("context")?, path))
    }

    /// A top-level field, else the same `context` member (where events not yet through the
    /// shim have it); with `first_only`, a top-level field that is there but empty ends the
    /// search, as ERB's nested lookup does.
    fn moved(&self, key: &str, first_only: bool) -> Option<&'a Value> {
        match self.line.get(key) {
            Some(v) if first_only => present(Some(v)),
            v => present(v).or_else(|| self.context(&[key])),
        }
    }

    /// `context.course_id`, if present.
    pub(crate) fn course_id(&self) -> Option<&'a str> {
        self.context(&["course_id"]).and_then(Value::as_str)
    }

    /// The LMS session id.
    pub(crate) fn session(&self) -> Option<&'a Value> {
        self.moved("session", true)
    }

    /// The page the request came from.
    pub(crate) fn referer(&self) -> Option<&'a str> {
        self.moved("referer", false).and_then(Value::as_str)
    }

    /// Whether the browser emitted the event (`event_source: "browser"`).
    pub(crate) fn is_browser(&self) -> bool {
        self.moved("event_source", false).and_then(Value::as_str) == Some("browser")
    }

    /// A member of `context.module` (`display_name`, `usage_key`).
    pub(crate) fn module(&self, key: &str) -> Option<&'a Value> {
        self.context(&["module", key])
    }

    /// The time text of the event, as written (`timestamp`, else `time`).
    pub(crate) fn timestamp(&self) -> Option<&'a str> {
        [self.line.get("timestamp"), self.line.get("time")]
            .into_iter()
            .flatten()
            .find_map(|v| v.as_str().filter(|s| !s.is_empty()))
    }

    /// Whom the event is about, as ERB looks them up: the payload's `user_id`, its
    /// `username`, then the requesting user's `user_id` and `username`; as text.
    pub(crate) fn user_key(&self) -> Option<String> {
        let first_of = |key: &str| match self.line.get(key) {
            Some(v) => present(Some(v)),
            None => self.line.get("context").and_then(|c| present(c.get(key))),
        };
        let candidates = [
            self.data(&["user_id"]),
            self.data(&["username"]),
            first_of("user_id"),
            first_of("username"),
        ];
        candidates
            .into_iter()
            .flatten()
            .find(|v| truthy(Some(v)))
            .map(crate::pyfmt::py_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_json_text_payload_is_parsed_and_other_text_kept() {
        let line = json!({"event_type": "play_video", "event": "{\"id\": \"v\"}"});
        let event = Event::read(&line).unwrap();
        assert_eq!(event.data(&["id"]), Some(&json!("v")));
        let line = json!({"name": "problem_check", "event": "input_1=a"});
        assert_eq!(Event::read(&line).unwrap().payload(), &json!("input_1=a"));
    }

    #[test]
    fn the_name_wins_over_the_event_type() {
        let line = json!({"name": "edx.video.played", "event_type": "play_video"});
        assert_eq!(Event::read(&line).unwrap().name(), "edx.video.played");
        assert!(Event::read(&json!({"event": {}})).is_none());
    }

    #[test]
    fn the_user_is_the_one_acted_upon_first() {
        let line = json!({"name": "x", "username": "staff", "context": {"user_id": 1},
                          "event": {"user_id": 7}});
        assert_eq!(Event::read(&line).unwrap().user_key().as_deref(), Some("7"));
        let line = json!({"name": "x", "username": "", "context": {"user_id": null}});
        assert_eq!(Event::read(&line).unwrap().user_key(), None);
    }
}
