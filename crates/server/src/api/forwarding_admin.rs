//! Forwarding under `/admin/forwarding`: each target's queue, the statements targets refused
//! with their answers, and sending those again.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{ApiError, AppState, Authenticated};
use crate::auth::Scope;

/// The paths, as docs/admin-openapi.yaml describes them (after the plugins').
pub const PATHS: [&str; 2] = ["/admin/forwarding", "/admin/forwarding/retry"];

/// Refused statements listed per target.
const LISTED: usize = 100;

/// The `/admin/forwarding` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATHS[0], get(show))
        .route(PATHS[1], post(retry))
}

fn forwarder(state: &AppState) -> Result<&crate::forward::Forwarder, ApiError> {
    state
        .forwarder
        .as_deref()
        .ok_or_else(|| ApiError::NotFound("no forwarding target is configured".into()))
}

/// `GET /admin/forwarding`: the targets as `/admin/status` shows them, and the statements
/// they refused (the newest hundred per target).
async fn show(State(state): State<AppState>, auth: Authenticated) -> Result<Json<Value>, ApiError> {
    auth.require(&[Scope::Admin], false)?;
    let Some(forwarder) = state.forwarder.as_deref() else {
        return Ok(Json(json!({ "targets": [], "refused": [] })));
    };
    let refused = forwarder
        .refused(LISTED)
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(Json(
        json!({ "targets": forwarder.status(), "refused": refused }),
    ))
}

/// Which target to retry; every one when absent.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetryRequest {
    target: Option<String>,
}

/// `POST /admin/forwarding/retry` (`{"target": url}` or `{}`): sends the refused statements
/// again — queued again on the outbox, sent at once over a database store's log;
/// `{"requeued", "sent", "refused_again"}`.
async fn retry(
    State(state): State<AppState>,
    auth: Authenticated,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    auth.require(&[Scope::Admin], true)?;
    let request: RetryRequest = if bytes.iter().all(u8::is_ascii_whitespace) {
        RetryRequest::default()
    } else {
        serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::bad(format!("the body must be {{\"target\": url}} or {{}}: {e}"))
        })?
    };
    let forwarder = forwarder(&state)?;
    if let Some(target) = &request.target {
        if !forwarder.has_target(target) {
            return Err(ApiError::NotFound(format!(
                "no forwarding target `{target}`"
            )));
        }
    }
    let retried = forwarder
        .retry(request.target.as_deref())
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    tracing::info!(target: "xlrs::audit", by = %auth.0.username, action = "retry refused",
                   requeued = retried.requeued, sent = retried.sent, "admin API");
    Ok(Json(json!(retried)))
}
