//! The document resources: `/activities/state`, `/activities/profile`, `/agents/profile`.
//! ETags make concurrent writers safe: `If-Match` / `If-None-Match` are checked atomically with
//! the write (412 when they fail), and a profile PUT over an existing document without either
//! header is a 409, as the specification requires.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::{Extension, Router};
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

use super::{ApiError, AppState, Authenticated};
use crate::auth::Scope;
use xlrs_store::positions::now_micros;
use xlrs_store::{Document, DocumentKind, DocumentScope, Precondition, StoreError};
use xlrs_xapi::agent::ifi_key;
use xlrs_xapi::time::http_date;
use xlrs_xapi::validate::{is_iri, parse_timestamp, validate_agent_parameter};
use xlrs_xapi::version::XapiVersion;

/// Routes of the three document resources.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/activities/state", routes(DocumentKind::State))
        .route("/activities/profile", routes(DocumentKind::ActivityProfile))
        .route("/agents/profile", routes(DocumentKind::AgentProfile))
}

fn routes(kind: DocumentKind) -> MethodRouter<AppState> {
    get(move |s, v, a, q, h| get_document(kind, s, v, a, q, h))
        .put(move |s, v, a, q, h, b| put_document(kind, s, v, a, q, h, b))
        .post(move |s, v, a, q, h, b| post_document(kind, s, v, a, q, h, b))
        .delete(move |s, v, a, q, h| delete_document(kind, s, v, a, q, h))
}

/// The parameters of a document request.
struct DocumentRequest {
    scope: DocumentScope,
    id: Option<String>,
    since: Option<i64>,
}

fn id_param(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::State => "stateId",
        _ => "profileId",
    }
}

fn scope_of(kind: DocumentKind) -> Scope {
    match kind {
        DocumentKind::State => Scope::State,
        _ => Scope::Profile,
    }
}

fn field_error(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::BadRequest {
        message: format!("{field}: {}", message.into()),
        field: Some(field.to_string()),
        statement_index: None,
    }
}

fn parse_request(
    kind: DocumentKind,
    raw_query: Option<&str>,
    version: XapiVersion,
    id_required: bool,
) -> Result<DocumentRequest, ApiError> {
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let id_name = id_param(kind);
    let allowed: &[&str] = match kind {
        DocumentKind::State => &["activityId", "agent", "registration", "stateId", "since"],
        DocumentKind::ActivityProfile => &["activityId", "profileId", "since"],
        DocumentKind::AgentProfile => &["agent", "profileId", "since"],
        // Never routed: no request reaches the server's own records.
        DocumentKind::Internal => &[],
    };
    let mut seen = std::collections::HashSet::new();
    for (name, _) in &pairs {
        if !allowed.contains(&name.as_str()) {
            return Err(field_error(name, "is not a parameter of this resource"));
        }
        if !seen.insert(name.as_str()) {
            return Err(field_error(name, "is given more than once"));
        }
    }
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let activity_id = if allowed.contains(&"activityId") {
        let id = get("activityId").ok_or_else(|| field_error("activityId", "is required"))?;
        if !is_iri(&id) {
            return Err(field_error("activityId", "must be an IRI"));
        }
        id
    } else {
        String::new()
    };
    let agent = if allowed.contains(&"agent") {
        let text = get("agent").ok_or_else(|| field_error("agent", "is required"))?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|_| field_error("agent", "must be an Agent as JSON"))?;
        validate_agent_parameter(&value, "agent", version)
            .map_err(|e| ApiError::invalid(e, None))?;
        ifi_key(&value).ok_or_else(|| field_error("agent", "must have an identifier"))?
    } else {
        String::new()
    };
    let registration = match get("registration") {
        Some(r) => uuid::Uuid::parse_str(&r)
            .map_err(|_| field_error("registration", "must be a UUID"))?
            .to_string(),
        None => String::new(),
    };
    let id = get(id_name);
    if id_required && id.is_none() {
        return Err(field_error(id_name, "is required"));
    }
    let since = match get("since") {
        Some(_) if id.is_some() => {
            return Err(field_error(
                "since",
                format!("cannot be combined with {id_name}"),
            ))
        }
        Some(t) => Some(
            parse_timestamp(&t)
                .ok_or_else(|| field_error("since", "must be an ISO 8601 timestamp"))?
                .timestamp_micros(),
        ),
        None => None,
    };
    Ok(DocumentRequest {
        scope: DocumentScope {
            kind,
            activity_id,
            agent,
            registration,
        },
        id,
        since,
    })
}

/// The precondition the request's `If-Match` / `If-None-Match` headers state.
fn precondition(headers: &HeaderMap) -> Precondition {
    let value = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(etag) = value(header::IF_MATCH) {
        // `If-Match: *` (any existing document) is resolved against the store by `resolve`.
        return Precondition::IfMatch(etag.trim_start_matches("W/").trim_matches('"').to_string());
    }
    if value(header::IF_NONE_MATCH) == Some("*") {
        return Precondition::IfNoneMatch;
    }
    Precondition::None
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string()
}

fn is_json(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .map(|t| t.trim().eq_ignore_ascii_case("application/json"))
        .unwrap_or(false)
}

fn new_document(content: Vec<u8>, content_type: String) -> Document {
    // Communication 3.1: "the ETag … MUST be … a hexadecimal string of the SHA-1 digest of the
    // contents", in lowercase.
    let etag = hex::encode(Sha1::digest(&content));
    Document {
        content,
        content_type,
        etag,
        updated: now_micros(),
    }
}

/// Resolves `If-Match: *` against the current document before a write.
async fn resolve(
    state: &AppState,
    scope: &DocumentScope,
    id: &str,
    precondition: Precondition,
) -> Result<Precondition, ApiError> {
    if precondition != Precondition::IfMatch("*".into()) {
        return Ok(precondition);
    }
    match state.documents.get_document(scope, id).await? {
        Some(current) => Ok(Precondition::IfMatch(current.etag)),
        None => Err(ApiError::PreconditionFailed(
            "no document exists to match If-Match: *".into(),
        )),
    }
}

async fn get_document(
    kind: DocumentKind,
    State(state): State<AppState>,
    Extension(version): Extension<XapiVersion>,
    auth: Authenticated,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    auth.require(&[scope_of(kind)], false)?;
    let request = parse_request(kind, query.as_deref(), version, false)?;
    let Some(id) = request.id else {
        let (ids, newest) = state
            .documents
            .list_documents(&request.scope, request.since)
            .await?;
        let mut response = axum::Json(ids).into_response();
        if let Some(v) = newest.and_then(|t| HeaderValue::from_str(&http_date(t)).ok()) {
            response.headers_mut().insert(header::LAST_MODIFIED, v);
        }
        return Ok(response);
    };
    let document = state
        .documents
        .get_document(&request.scope, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no document `{id}`")))?;
    let etag = format!("\"{}\"", document.etag);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim() == etag || e.trim() == "*"))
    {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let mut response = (StatusCode::OK, document.content).into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&document.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&http_date(document.updated)) {
        h.insert(header::LAST_MODIFIED, v);
    }
    Ok(response)
}

async fn put_document(
    kind: DocumentKind,
    State(state): State<AppState>,
    Extension(version): Extension<XapiVersion>,
    auth: Authenticated,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.require(&[scope_of(kind)], true)?;
    let request = parse_request(kind, query.as_deref(), version, true)?;
    let id = request.id.unwrap_or_default();
    let mut condition = resolve(&state, &request.scope, &id, precondition(&headers)).await?;
    // A PUT must say whether it expects a document (409 without a header): the profile
    // resources in both versions, the State resource too in 2.0.
    let concurrency_controlled = kind != DocumentKind::State || version == XapiVersion::V2_0_0;
    let needs_header = concurrency_controlled && condition == Precondition::None;
    if needs_header {
        // 1.0.3 requires the header on every profile PUT: 409 over a document, 400 otherwise.
        if version == XapiVersion::V1_0_3 && kind != DocumentKind::State {
            let exists = state.documents.get_document(&request.scope, &id).await?;
            return Err(match exists {
                Some(_) => ApiError::Conflict(format!(
                    "document `{id}` exists: send If-Match with its ETag to overwrite it"
                )),
                None => field_error(
                    "If-None-Match",
                    "a profile PUT must send If-Match or If-None-Match (If-None-Match: * to create)",
                ),
            });
        }
        condition = Precondition::IfNoneMatch;
    }
    let document = new_document(body.to_vec(), content_type(&headers));
    match state
        .documents
        .put_document(&request.scope, &id, document, condition)
        .await
    {
        Err(StoreError::PreconditionFailed(_)) if needs_header => Err(ApiError::Conflict(format!(
            "document `{id}` exists: send If-Match with its ETag (or If-None-Match: *) to write it"
        ))),
        other => other
            .map_err(ApiError::from)
            .map(|()| StatusCode::NO_CONTENT.into_response()),
    }
}

async fn post_document(
    kind: DocumentKind,
    State(state): State<AppState>,
    Extension(version): Extension<XapiVersion>,
    auth: Authenticated,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.require(&[scope_of(kind)], true)?;
    let request = parse_request(kind, query.as_deref(), version, true)?;
    let id = request.id.unwrap_or_default();
    let asked = resolve(&state, &request.scope, &id, precondition(&headers)).await?;
    let content_type = content_type(&headers);
    let incoming: Option<Map<String, Value>> = serde_json::from_slice(&body).ok();
    if is_json(&content_type) && incoming.is_none() {
        return Err(ApiError::bad(
            "a POSTed JSON document must be a JSON object",
        ));
    }
    let existing = state.documents.get_document(&request.scope, &id).await?;
    let condition = match (&asked, &existing) {
        (Precondition::None, _) => {
            Precondition::Unchanged(existing.as_ref().map(|d| d.etag.clone()))
        }
        _ => asked,
    };
    let document = match existing {
        None => new_document(body.to_vec(), content_type),
        Some(current) => {
            let (Some(incoming), true) = (incoming, is_json(&content_type)) else {
                return Err(ApiError::bad(
                    "POST merges JSON objects: the document must be sent as an application/json object",
                ));
            };
            let mut merged: Map<String, Value> = match (is_json(&current.content_type), serde_json::from_slice(&current.content)) {
                (true, Ok(Value::Object(m))) => m,
                _ => {
                    return Err(ApiError::bad(
                        "the stored document is not a JSON object, so it cannot be merged: PUT it instead",
                    ))
                }
            };
            merged.extend(incoming);
            let bytes = serde_json::to_vec(&Value::Object(merged))
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            new_document(bytes, "application/json".into())
        }
    };
    state
        .documents
        .put_document(&request.scope, &id, document, condition)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete_document(
    kind: DocumentKind,
    State(state): State<AppState>,
    Extension(version): Extension<XapiVersion>,
    auth: Authenticated,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    auth.require(&[scope_of(kind)], true)?;
    let request = parse_request(kind, query.as_deref(), version, kind != DocumentKind::State)?;
    if request.since.is_some() {
        return Err(field_error("since", "is not a parameter of DELETE"));
    }
    match request.id {
        Some(id) => {
            let condition = resolve(&state, &request.scope, &id, precondition(&headers)).await?;
            state
                .documents
                .delete_document(&request.scope, &id, condition)
                .await?;
        }
        None => state.documents.delete_documents(&request.scope).await?,
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
