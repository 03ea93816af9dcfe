//! Dispatch of an edX event to its converter, on `event_source` and `event_type`,
//! the way Ralph's model selector picks an edX model.

use serde_json::Value;

use crate::common::get;
use crate::video::VideoEvent;
use crate::{enrollment, navigation, problem, video, ConvertError, Options};

/// Converts `event` if its type is handled; `id_source` is the text the statement id is made from.
pub(crate) fn dispatch(
    event: &Value,
    id_source: &[u8],
    options: &Options,
) -> Result<Option<Value>, ConvertError> {
    let Some(event_type) = event.get("event_type").and_then(Value::as_str) else {
        return Ok(None);
    };
    let source = event.get("event_source").and_then(Value::as_str);
    let statement = match (source, event_type) {
        (Some("browser"), "page_close") => navigation::page_close(event, id_source, options)?,
        (Some("browser"), other) => match VideoEvent::from_event_type(other) {
            Some(kind) => video::convert(kind, event, id_source, options)?,
            None => return Ok(None),
        },
        (Some("server"), "edx.course.enrollment.activated") => {
            enrollment::convert(true, event, id_source, options)?
        }
        (Some("server"), "edx.course.enrollment.deactivated") => {
            enrollment::convert(false, event, id_source, options)?
        }
        (Some("server"), "problem_check") => problem::problem_check(event, id_source, options)?,
        // Ralph's `Server` model: a request log, whose event_type is the requested path.
        (Some("server"), path) if is_page_request(event, path) => {
            navigation::page_viewed(event, id_source, options)?
        }
        _ => return Ok(None),
    };
    Ok(Some(statement))
}

/// Whether a server event is a page request: its `event_type` equals `context.path`.
fn is_page_request(event: &Value, event_type: &str) -> bool {
    get(event, &["context", "path"]).and_then(Value::as_str) == Some(event_type)
}
