//! `GET /xAPI/about` and the operations endpoint `GET /health`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::AppState;

/// Routes under `/xAPI`.
pub fn xapi_router() -> Router<AppState> {
    Router::new().route("/about", get(about))
}

/// Routes outside the xAPI (no auth, no version header).
pub fn ops_router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

async fn about(State(state): State<AppState>) -> Json<Value> {
    let versions: Vec<&str> = state.versions.iter().map(|v| v.as_str()).collect();
    Json(json!({
        "version": versions,
        "extensions": {
            "urn:xlrs:server": { "name": "xlrs", "version": env!("CARGO_PKG_VERSION") }
        }
    }))
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}
