//! Page events: browser `page_close` → terminated the page (Ralph's
//! `navigational.py`), and server page requests → viewed the page (Ralph's
//! `server.py`).

use serde_json::{json, Value};

use crate::common::{base_statement, platform_base, required_str, ACTIVITY_TYPE_PAGE};
use crate::{ConvertError, Options};

/// Verb of `page_close`.
const VERB_TERMINATED: &str = "http://adlnet.gov/expapi/verbs/terminated";
/// Verb of a server page request.
const VERB_VIEWED: &str = "http://id.tincanapi.com/verb/viewed";

/// Converts a browser `page_close` event: the object is the event's `page` URL as is.
pub(crate) fn page_close(
    event: &Value,
    id_source: &[u8],
    options: &Options,
) -> Result<Value, ConvertError> {
    let mut statement = base_statement(event, id_source, options)?;
    let page = required_str(event, &["page"], "page")?;
    if page.is_empty() {
        return Err(ConvertError::invalid(
            "page",
            "expected the URL of the page",
        ));
    }
    statement.insert("verb".into(), json!({ "id": VERB_TERMINATED }));
    statement.insert(
        "object".into(),
        json!({ "id": page, "definition": { "type": ACTIVITY_TYPE_PAGE } }),
    );
    Ok(Value::Object(statement))
}

/// Converts a server event whose `event_type` is the requested path (equal to `context.path`).
pub(crate) fn page_viewed(
    event: &Value,
    id_source: &[u8],
    options: &Options,
) -> Result<Value, ConvertError> {
    let mut statement = base_statement(event, id_source, options)?;
    let path = required_str(event, &["event_type"], "event_type")?;
    statement.insert("verb".into(), json!({ "id": VERB_VIEWED }));
    statement.insert(
        "object".into(),
        json!({
            "id": format!("{}{path}", platform_base(options)),
            "definition": { "type": ACTIVITY_TYPE_PAGE },
        }),
    );
    Ok(Value::Object(statement))
}
