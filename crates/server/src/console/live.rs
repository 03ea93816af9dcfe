//! `GET /console/api/live`: the server's own counters in one compact JSON answer, for the
//! console's live view (it polls and charts the differences; no Prometheus needed).

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::api::{ApiError, AppState, Authenticated};
use crate::auth::Scope;

/// The counters, the store's health, the plugins, forwarding and refusals by reason.
pub async fn live(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<Value>, ApiError> {
    auth.require(&[Scope::AllRead], false)?;
    let now = xlrs_store::positions::now_micros();
    let store = crate::api::store_health(&state).await;
    let refusals: Vec<Value> = state
        .refusals
        .counts()
        .into_iter()
        .map(|(reason, count)| {
            json!({"status": reason.status, "error": reason.error, "field": reason.field, "count": count})
        })
        .collect();
    let plugins = state.plugins.status();
    let mut answer = state.metrics.snapshot();
    if let Value::Object(fields) = &mut answer {
        fields.insert("now".into(), json!(xlrs_xapi::time::format_micros(now)));
        fields.insert("now_micros".into(), json!(now));
        fields.insert("version".into(), json!(env!("CARGO_PKG_VERSION")));
        fields.insert(
            "uptime_seconds".into(),
            json!((now - state.started_at).max(0) / 1_000_000),
        );
        fields.insert("store".into(), store);
        fields.insert("refusals".into(), Value::Array(refusals));
        fields.insert(
            "plugins".into(),
            plugins.get("plugins").cloned().unwrap_or(json!([])),
        );
        fields.insert(
            "forwarding".into(),
            json!(state
                .forwarder
                .as_ref()
                .map(|f| f.status())
                .unwrap_or_default()),
        );
    }
    Ok(Json(answer))
}
