//! Statements another program stored (Ralph, in the layouts the database stores share with
//! it) turned into statements to serve, so a Ralph deployment switches without a migration.

use serde_json::{json, Value};
use uuid::Uuid;
use xlrs_xapi::statement::{prepare, PreparedStatement};
use xlrs_xapi::validate::parse_timestamp;
use xlrs_xapi::version::XapiVersion;

/// A statement another program stored as one to index, with the position it asks for (µs):
/// its own `stored` when it has one, else `fallback`. `source` names where it was found, for
/// the authority of statements that have none.
pub fn adoptable(
    mut event: Value,
    id: Uuid,
    fallback: i64,
    source: &str,
) -> Result<(i64, PreparedStatement), String> {
    let stored = event
        .get("stored")
        .and_then(Value::as_str)
        .and_then(parse_timestamp)
        .map(|t| t.timestamp_micros())
        .unwrap_or(fallback);
    let authority = event
        .get("authority")
        .filter(|a| a.is_object())
        .cloned()
        .unwrap_or_else(|| {
            json!({"objectType": "Agent", "account": {"homePage": "http://localhost", "name": source}})
        });
    if !event.is_object() {
        return Err("not a JSON object".into());
    }
    if event.get("id").is_none() {
        event["id"] = Value::String(id.to_string());
    }
    let prepared =
        prepare(event, &authority, XapiVersion::V1_0_3, || id).map_err(|e| e.to_string())?;
    if prepared.id != id {
        return Err(format!("its id is {}, not {id}", prepared.id));
    }
    Ok((stored, prepared))
}
