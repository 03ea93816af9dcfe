//! `GET /xAPI/agents` (the Person object) and `GET /xAPI/activities` (an activity's definition).

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::{json, Map, Value};

use super::{ApiError, AppState, Authenticated};
use crate::auth::Scope;
use xlrs_xapi::validate::{is_iri, validate_agent_parameter};
use xlrs_xapi::version::XapiVersion;

/// Routes of the Agents and Activities resources.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/agents", get(person))
        .route("/activities", get(activity))
}

/// Scopes that may read identities and definitions.
const READERS: [Scope; 3] = [Scope::Define, Scope::StatementsRead, Scope::Profile];

/// The single parameter `name` of the query string, refusing any other.
fn only_param(raw: Option<&str>, name: &str) -> Result<String, ApiError> {
    let mut value = None;
    for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        if k != name {
            return Err(ApiError::BadRequest {
                message: format!("{k}: is not a parameter of this resource"),
                field: Some(k.into_owned()),
                statement_index: None,
            });
        }
        value = Some(v.into_owned());
    }
    value.ok_or_else(|| ApiError::BadRequest {
        message: format!("{name}: is required"),
        field: Some(name.to_string()),
        statement_index: None,
    })
}

/// The Person object for an agent: every identifier and name known, as arrays. xlrs links no
/// identities across agents, so it holds what the request's agent says.
async fn person(
    Extension(version): Extension<XapiVersion>,
    auth: Authenticated,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    auth.require(&READERS, false)?;
    let text = only_param(query.as_deref(), "agent")?;
    let agent: Value = serde_json::from_str(&text).map_err(|_| ApiError::BadRequest {
        message: "agent: must be an Agent as JSON".into(),
        field: Some("agent".into()),
        statement_index: None,
    })?;
    validate_agent_parameter(&agent, "agent", version).map_err(|e| ApiError::invalid(e, None))?;
    let mut person = Map::new();
    person.insert("objectType".into(), json!("Person"));
    for key in ["name", "mbox", "mbox_sha1sum", "openid", "account"] {
        if let Some(v) = agent.get(key) {
            person.insert(key.into(), json!([v]));
        }
    }
    Ok(Json(Value::Object(person)).into_response())
}

/// The activity with its canonical definition, merged from every statement that defined it.
async fn activity(
    State(state): State<AppState>,
    auth: Authenticated,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    auth.require(&READERS, false)?;
    let id = only_param(query.as_deref(), "activityId")?;
    if !is_iri(&id) {
        return Err(ApiError::BadRequest {
            message: "activityId: must be an IRI".into(),
            field: Some("activityId".into()),
            statement_index: None,
        });
    }
    let definition = state.content.activity_definition(&id).await?;
    let mut activity = json!({ "objectType": "Activity", "id": id });
    if let Some(definition) = definition {
        activity["definition"] = definition;
    }
    Ok(Json(activity).into_response())
}
