//! `GET /xAPI/about`, and the operations endpoints: `GET /health`, and Ralph's heartbeats
//! (`/__lbheartbeat__`: the process answers; `/__heartbeat__`: and its store does too), so a
//! deployment that probed Ralph probes xlrs unchanged.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use xlrs_store::StoreError;
use xlrs_xapi::query::StatementQuery;

use super::AppState;

/// Routes under `/xAPI`.
pub fn xapi_router() -> Router<AppState> {
    Router::new().route("/about", get(about))
}

/// Routes outside the xAPI (no auth, no version header).
pub fn ops_router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/__lbheartbeat__", get(lb_heartbeat))
        .route("/__heartbeat__", get(heartbeat))
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

/// Ralph's load-balancer heartbeat: 200 while the process serves.
async fn lb_heartbeat() -> Json<Value> {
    Json(Value::Null)
}

/// Ralph's heartbeat: 200 `{"database": "ok"}` when the statement store answers a query,
/// else 500 with `away` (out of reach) or `error`.
async fn heartbeat(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let probe = StatementQuery {
        limit: 1,
        ..StatementQuery::default()
    };
    match state.statements.query(&probe).await {
        Ok(_) => (StatusCode::OK, Json(json!({ "database": "ok" }))),
        Err(StoreError::Unavailable(_)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "database": "away" })),
        ),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "database": "error" })),
        ),
    }
}
