//! `GET /console/api/referring?statementId=…`: the statements whose object is a StatementRef
//! to a statement (its voiding statement among them), for the console's statement view.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use serde_json::{json, Value};

use crate::api::{ApiError, AppState, Authenticated};

/// Referring statements listed at most.
const LISTED: usize = 100;

/// `{"statements": [...], "voided": [ids of those voided]}`, newest first; 501 when the store
/// cannot tell (a backend plugin of contract v0.1).
pub async fn referring(
    State(state): State<AppState>,
    auth: Authenticated,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let mine = auth.statements_readable()?;
    let id = params
        .get("statementId")
        .ok_or_else(|| ApiError::bad("statementId is required"))?;
    let id = uuid::Uuid::parse_str(id).map_err(|_| ApiError::BadRequest {
        message: "statementId must be a UUID".into(),
        field: Some("statementId".into()),
        statement_index: None,
    })?;
    let Some(found) = state.statements.referring_to(id, LISTED).await? else {
        return Err(ApiError::NotImplemented(format!(
            "the store ({}) cannot list the statements referring to another",
            state.settings.store
        )));
    };
    let mut statements = Vec::new();
    let mut voided = Vec::new();
    for stored in found {
        let value: Value = serde_json::from_str(&stored.body)
            .map_err(|e| ApiError::Internal(format!("a stored statement is not JSON: {e}")))?;
        if let Some(mine) = &mine {
            if value
                .get("authority")
                .map(xlrs_xapi::statement::authority_key)
                .as_ref()
                != Some(mine)
            {
                continue;
            }
        }
        if stored.voided {
            voided.push(value["id"].clone());
        }
        statements.push(value);
    }
    Ok(Json(json!({ "statements": statements, "voided": voided })))
}
