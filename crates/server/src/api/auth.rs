//! Authentication: HTTP Basic against the credentials file, or an OIDC bearer token.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;

use super::{ApiError, AppState};
use crate::auth::{Principal, Scope};

/// The authenticated caller of a request.
pub struct Authenticated(pub Arc<Principal>);

impl Authenticated {
    /// Fails with 403 unless the caller holds one of `scopes` (or `all`, or `all/read` for
    /// reads, except for `admin`, which only itself grants).
    pub fn require(&self, scopes: &[Scope], write: bool) -> Result<(), ApiError> {
        if self.0.allows(scopes, write) {
            Ok(())
        } else {
            let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
            let including = match (scopes.contains(&Scope::Admin), write) {
                (true, _) => "",
                (false, true) => ", all",
                (false, false) => ", all/read, all",
            };
            Err(ApiError::Forbidden(format!(
                "credential `{}` lacks the scope for this request (needs one of: {}{including})",
                self.0.username,
                names.join(", "),
            )))
        }
    }

    /// Which statements the caller may read: `None` for all (`statements/read`), or the
    /// authority key its own carry (`statements/read/mine`); 403 for neither.
    pub fn statements_readable(&self) -> Result<Option<String>, ApiError> {
        if self.0.allows(&[Scope::StatementsRead], false) {
            return Ok(None);
        }
        self.require(&[Scope::StatementsRead, Scope::StatementsReadMine], false)?;
        Ok(Some(xlrs_xapi::statement::authority_key(&self.0.authority)))
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| ApiError::Unauthorized("HTTP Basic credentials are required".into()))?;
        let text = header.to_str().unwrap_or_default();
        if let Some(token) = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
        {
            let oidc = state.oidc.as_ref().ok_or_else(|| {
                ApiError::Unauthorized(
                    "bearer tokens are not accepted: this LRS has no [oidc] settings".into(),
                )
            })?;
            return oidc
                .verify(token.trim())
                .await
                .map(|p| Authenticated(Arc::new(p)))
                .map_err(ApiError::Unauthorized);
        }
        let encoded = text
            .strip_prefix("Basic ")
            .or_else(|| text.strip_prefix("basic "))
            .ok_or_else(|| {
                ApiError::Unauthorized("use HTTP Basic credentials or an OIDC bearer token".into())
            })?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| ApiError::Unauthorized("malformed Basic credentials".into()))?;
        let (user, password) = decoded
            .split_once(':')
            .ok_or_else(|| ApiError::Unauthorized("malformed Basic credentials".into()))?;
        if let Some(principal) = state.credentials.cached(user, password) {
            return Ok(Authenticated(principal));
        }
        let principal = state
            .credentials
            .verify(user, password)
            .await
            .map_err(|e| ApiError::Internal(format!("authentication task failed: {e}")))?;
        principal
            .map(Authenticated)
            .ok_or_else(|| ApiError::Unauthorized("invalid username or password".into()))
    }
}
