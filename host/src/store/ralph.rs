//! Statements Ralph wrote (its ClickHouse events table, its MongoDB collection), made ready to
//! be indexed by xlrs, so a Ralph deployment switches over without migrating data.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::xapi::statement::{prepare, PreparedStatement};
use crate::xapi::validate::parse_timestamp;
use crate::xapi::version::XapiVersion;

/// The statement Ralph stored, prepared for indexing, with its `stored` (µs): its own `stored`
/// when it has one, else `fallback_stored`. `expected_id` is the id Ralph filed it under; a
/// statement without an id gets it. Ralph keeps the authority it was sent with; one without
/// gets an account naming Ralph.
pub(super) fn adopt(
    mut statement: Value,
    expected_id: Option<Uuid>,
    fallback_stored: i64,
) -> Result<(i64, PreparedStatement), String> {
    if !statement.is_object() {
        return Err("not a JSON object".into());
    }
    let stored = statement
        .get("stored")
        .and_then(Value::as_str)
        .and_then(parse_timestamp)
        .map(|t| t.timestamp_micros())
        .unwrap_or(fallback_stored);
    let authority = statement
        .get("authority")
        .filter(|a| a.is_object())
        .cloned()
        .unwrap_or_else(|| {
            json!({"objectType": "Agent", "account": {"homePage": "http://localhost", "name": "ralph"}})
        });
    if let (None, Some(id)) = (statement.get("id"), expected_id) {
        statement["id"] = Value::String(id.to_string());
    }
    let prepared =
        prepare(statement, &authority, XapiVersion::V1_0_3).map_err(|e| e.to_string())?;
    if let Some(expected) = expected_id.filter(|id| *id != prepared.id) {
        return Err(format!("its id is {}, not {expected}", prepared.id));
    }
    Ok((stored, prepared))
}
