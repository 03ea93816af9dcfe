//! The write path of statements reactor plugins derive: the same as a POST's (validation,
//! admission, validators and transformers, the store, forwarding), as a principal of the
//! reactor's own, `reactor:<name>`, whose account is the authority of what it writes.

use std::sync::Arc;

use serde_json::{json, Value};

use super::statements::store_batch;
use super::{ApiError, AppState, Authenticated};
use crate::auth::{Principal, Scope};
use crate::forward::react::{DerivedWriter, NotStored};

/// The principal a reactor writes as.
fn reactor_principal(state: &AppState, reactor: &str) -> Authenticated {
    let username = format!("reactor:{reactor}");
    Authenticated(Arc::new(Principal {
        authority: json!({
            "objectType": "Agent",
            "name": username,
            "account": {"homePage": state.settings.authority_home_page, "name": username}
        }),
        scopes: vec![Scope::StatementsWrite],
        username,
    }))
}

/// Stores statements reactor `reactor` derived, as the default xAPI version of the server.
async fn store_derived(
    state: &AppState,
    reactor: &str,
    statements: Vec<Value>,
) -> Result<(), NotStored> {
    let auth = reactor_principal(state, reactor);
    let version = state.versions[0];
    match store_batch(state, &auth, version, statements, Vec::new()).await {
        Ok(ids) => {
            tracing::debug!(reactor, stored = ids.len(), "statements a reactor derived");
            Ok(())
        }
        Err(
            e @ (ApiError::BadRequest { .. }
            | ApiError::PluginRejected { .. }
            | ApiError::Conflict(_)
            | ApiError::TooLarge(_)),
        ) => Err(NotStored::Refused(e.to_string())),
        Err(e) => Err(NotStored::Failed(e.to_string())),
    }
}

/// The writer forwarding calls with what a reactor derived.
pub fn derived_writer(state: AppState) -> DerivedWriter {
    Arc::new(move |reactor: String, statements: Vec<Value>| {
        let state = state.clone();
        Box::pin(async move { store_derived(&state, &reactor, statements).await })
    })
}
