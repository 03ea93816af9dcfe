//! OpenID Connect bearer tokens (as Ralph accepts them): a JWT signed by the issuer's key (from
//! a JWKS file or URL), checked for issuer, audience and expiry; its scope claim gives the xAPI
//! scopes and its subject the authority (an account on the issuer).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{Principal, Scope};

/// Signature algorithms accepted: asymmetric only (an HMAC "key" would be the public JWK).
const ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Least time between two fetches of the JWKS URL for an unknown key id.
const REFRESH_EVERY: Duration = Duration::from_secs(60);

/// The `[oidc]` settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OidcSettings {
    /// The `iss` tokens must carry; also the authority account's `homePage`.
    pub issuer: String,
    /// An `aud` tokens must carry.
    pub audience: String,
    /// The issuer's keys as a JWKS file …
    pub jwks_file: Option<PathBuf>,
    /// … or URL (fetched at start-up, and again for a key id it does not know).
    pub jwks_url: Option<String>,
    /// The claim holding the xAPI scopes (space-separated string or array; default `scope`).
    pub scope_claim: String,
}

/// Why OIDC could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("oidc: {0}")]
pub struct OidcError(String);

/// Verifies bearer tokens.
pub struct Oidc {
    settings: OidcSettings,
    keys: RwLock<JwkSet>,
    fetched: Mutex<Option<Instant>>,
    http: reqwest::Client,
}

impl Oidc {
    /// Checks the settings and loads the keys.
    pub async fn load(settings: OidcSettings) -> Result<Arc<Self>, OidcError> {
        if settings.issuer.is_empty() || settings.audience.is_empty() {
            return Err(OidcError("issuer and audience are required".into()));
        }
        if settings.jwks_file.is_some() == settings.jwks_url.is_some() {
            return Err(OidcError("set one of jwks_file and jwks_url".into()));
        }
        let oidc = Arc::new(Self {
            settings,
            keys: RwLock::new(JwkSet { keys: Vec::new() }),
            fetched: Mutex::new(None),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .map_err(|e| OidcError(format!("HTTP client: {e}")))?,
        });
        let keys = oidc.read_keys().await?;
        *oidc.keys.write().unwrap_or_else(|p| p.into_inner()) = keys;
        Ok(oidc)
    }

    async fn read_keys(&self) -> Result<JwkSet, OidcError> {
        let text = match (&self.settings.jwks_file, &self.settings.jwks_url) {
            (Some(path), _) => std::fs::read_to_string(path)
                .map_err(|e| OidcError(format!("cannot read {}: {e}", path.display())))?,
            (None, Some(url)) => {
                *self.fetched.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
                self.http
                    .get(url)
                    .send()
                    .await
                    .and_then(|r| r.error_for_status())
                    .map_err(|e| OidcError(format!("cannot fetch {url}: {e}")))?
                    .text()
                    .await
                    .map_err(|e| OidcError(format!("cannot read {url}: {e}")))?
            }
            (None, None) => String::new(),
        };
        serde_json::from_str(&text).map_err(|e| OidcError(format!("not a JWKS document: {e}")))
    }

    /// The key for `kid`, fetching the JWKS URL again (at most once a minute) when unknown.
    async fn key(&self, kid: Option<&str>) -> Result<jsonwebtoken::jwk::Jwk, String> {
        let find = |keys: &JwkSet| match kid {
            Some(kid) => keys.find(kid).cloned(),
            None if keys.keys.len() == 1 => keys.keys.first().cloned(),
            None => None,
        };
        if let Some(jwk) = find(&self.keys.read().unwrap_or_else(|p| p.into_inner())) {
            return Ok(jwk);
        }
        let due = self.settings.jwks_url.is_some()
            && self
                .fetched
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_none_or(|at| at.elapsed() >= REFRESH_EVERY);
        if due {
            match self.read_keys().await {
                Ok(keys) => {
                    let found = find(&keys);
                    *self.keys.write().unwrap_or_else(|p| p.into_inner()) = keys;
                    if let Some(jwk) = found {
                        return Ok(jwk);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "refreshing the OIDC keys failed"),
            }
        }
        Err(format!(
            "the token's key {} is not among the issuer's keys",
            kid.unwrap_or("(no kid)")
        ))
    }

    /// The principal a valid token stands for, or why the token is refused.
    pub async fn verify(&self, token: &str) -> Result<Principal, String> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| format!("malformed token: {e}"))?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(format!(
                "tokens signed with {:?} are not accepted",
                header.alg
            ));
        }
        let jwk = self.key(header.kid.as_deref()).await?;
        let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("unusable issuer key: {e}"))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map_err(|e| format!("token refused: {e}"))?
            .claims;
        let subject = claims["sub"]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or("the token has no subject")?;
        let claim = if self.settings.scope_claim.is_empty() {
            "scope"
        } else {
            &self.settings.scope_claim
        };
        let names: Vec<String> = match &claims[claim] {
            Value::String(s) => s.split_whitespace().map(str::to_string).collect(),
            Value::Array(items) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        // Other scopes an identity provider issues (openid, email, …) are not ours: skip them.
        let scopes: Vec<Scope> = names.iter().filter_map(|n| n.parse().ok()).collect();
        Ok(Principal {
            username: format!("oidc:{subject}"),
            scopes,
            authority: json!({
                "objectType": "Agent",
                "account": {"homePage": self.settings.issuer, "name": subject}
            }),
        })
    }
}
