//! The administration API under `/admin`, for credentials holding the `admin` scope:
//! credentials listed, created (key and secret generated unless given; the secret shown once),
//! changed, removed and given a new secret. Every call is logged for audit (who, what, which
//! key; never a secret). Browsers cannot reach it across origins (see [`no_cors`]).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use rand::distr::{Alphanumeric, SampleString};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{ApiError, AppState, Authenticated};
use crate::auth::home::HomeError;
use crate::auth::{hash_password, Credential, CredentialError, Scope, Source};
use xlrs_xapi::version::XapiVersion;

/// The paths of the admin API, as docs/admin-openapi.yaml describes them.
const PATHS: [&str; 7] = [
    "/admin/credentials",
    "/admin/credentials/{key}",
    "/admin/credentials/{key}/rotate",
    "/admin/status",
    "/admin/erasure",
    "/admin/erasure/{id}",
    "/admin/retention",
];

/// The `/admin` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATHS[0], get(list).post(create))
        .route(PATHS[1], put(update).delete(remove))
        .route(PATHS[2], post(rotate))
        .route(PATHS[3], get(status))
        .route(PATHS[4], post(erase))
        .route(PATHS[5], get(erasure_receipt))
        .route(PATHS[6], get(retention).post(retention_pass))
}

/// Keeps `/admin` out of cross-origin requests: any request a browser marks as coming from
/// another origin (`Origin` naming another host, or `Sec-Fetch-Site` other than `same-origin`
/// or `none`) is refused with 403 before it runs, whatever its method, so a page elsewhere can
/// neither read the API nor act through it with an operator's browser credentials (a "simple"
/// cross-origin POST needs no preflight); and no response carries `Access-Control-*` headers.
pub async fn no_cors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if !request.uri().path().starts_with("/admin") {
        return next.run(request).await;
    }
    if let Some(why) = cross_origin(request.headers()) {
        return ApiError::Forbidden(format!(
            "the admin API answers no cross-origin request ({why})"
        ))
        .into_response();
    }
    let mut response = next.run(request).await;
    let cors: Vec<_> = response
        .headers()
        .keys()
        .filter(|k| k.as_str().starts_with("access-control-"))
        .cloned()
        .collect();
    for name in cors {
        response.headers_mut().remove(name);
    }
    response
}

/// Why a request comes from another origin, by what the browser said; `None` for a same-origin
/// request or a client that is not a browser (no `Origin`, no `Sec-Fetch-Site`).
fn cross_origin(headers: &axum::http::HeaderMap) -> Option<String> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        if site != "same-origin" && site != "none" {
            return Some(format!("Sec-Fetch-Site: {site}"));
        }
    }
    let origin = text("origin")?;
    let origin_host = origin.split_once("://").map_or(origin, |(_, host)| host);
    let own = [text("x-forwarded-host"), text("host")];
    match own
        .iter()
        .flatten()
        .any(|host| host.eq_ignore_ascii_case(origin_host))
    {
        true => None,
        false => Some(format!("Origin: {origin}")),
    }
}
/// A new credential, as the admin API takes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewCredential {
    key: Option<String>,
    secret: Option<String>,
    scopes: Vec<String>,
    agent: Option<Value>,
}

/// A change of a credential's scopes or agent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialChange {
    scopes: Option<Vec<String>>,
    agent: Option<Value>,
}

/// A rotation, optionally with the new secret.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rotation {
    secret: Option<String>,
}

fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::BadRequest {
        message: format!("{field}: {}", message.into()),
        field: Some(field.into()),
        statement_index: None,
    }
}

/// A JSON body of type `T`, or a 400 saying what is wrong with it.
fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| bad("body", e.to_string()))
}

fn scopes_of(names: &[String]) -> Result<Vec<Scope>, ApiError> {
    if names.is_empty() {
        return Err(bad("scopes", "give at least one scope"));
    }
    names
        .iter()
        .map(|n| n.parse().map_err(|e: String| bad("scopes", e)))
        .collect()
}

fn check_agent(agent: &Option<Value>) -> Result<(), ApiError> {
    match agent {
        Some(agent) => xlrs_xapi::validate::validate_agent(agent, "agent", XapiVersion::V2_0_0)
            .map_err(|e| bad("agent", format!("is not an Agent or Group: {e}"))),
        None => Ok(()),
    }
}

fn check_key(key: &str) -> Result<(), ApiError> {
    let fine = !key.is_empty()
        && key.len() <= 128
        && key.chars().all(|c| c.is_ascii_graphic() && c != ':');
    match fine {
        true => Ok(()),
        false => Err(bad(
            "key",
            "must be 1 to 128 printable ASCII characters without ':'",
        )),
    }
}

fn check_secret(secret: &str) -> Result<(), ApiError> {
    match secret.chars().count() >= 12 {
        true => Ok(()),
        false => Err(bad("secret", "must be at least 12 characters")),
    }
}

/// A secret hashed off the async workers (argon2 is slow by design).
async fn hashed(secret: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password(&secret))
        .await
        .map_err(|e| ApiError::Internal(format!("hashing task: {e}")))?
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// A credential as the API shows it: never its hash.
fn shown(credential: &Credential, source: Source) -> Value {
    json!({
        "key": credential.username,
        "scopes": credential.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "agent": credential.agent,
        "source": source.as_str(),
    })
}

impl From<HomeError> for ApiError {
    fn from(e: HomeError) -> Self {
        match e {
            HomeError::Refused(CredentialError::Invalid(m)) => ApiError::NotFound(m),
            HomeError::Refused(other) => ApiError::Internal(other.to_string()),
            HomeError::Store(store) => store.into(),
        }
    }
}

/// Fails unless `key` is one the API manages (not a line of another process's file).
fn managed(state: &AppState, key: &str) -> Result<(), ApiError> {
    let home = state.credential_home.source();
    match state.credentials.list().into_iter().find(|(c, _)| c.username == key) {
        None => Err(ApiError::NotFound(format!("no credential `{key}`"))),
        Some((_, source)) if source != home => Err(ApiError::Conflict(format!(
            "credential `{key}` is in this process's credentials file, not the database: change it with `xlrs auth` on each process"
        ))),
        Some(_) => Ok(()),
    }
}

/// Changes credential `key` where the API keeps credentials; the credential as changed.
async fn edit(
    state: &AppState,
    key: &str,
    edit: impl Fn(&mut Credential),
) -> Result<Credential, ApiError> {
    let edited = state
        .credential_home
        .change(Some(&state.credentials), |all| {
            let mut credential = all
                .get(key)
                .cloned()
                .ok_or_else(|| CredentialError::Invalid(format!("no credential `{key}`")))?;
            edit(&mut credential);
            all.put(credential.clone());
            Ok(credential)
        })
        .await?;
    Ok(edited)
}

fn audit(auth: &Authenticated, action: &str, key: &str) {
    tracing::info!(target: "xlrs::audit", by = %auth.0.username, action, key, "admin");
}

/// `GET /admin/credentials`.
async fn list(State(state): State<AppState>, auth: Authenticated) -> Result<Json<Value>, ApiError> {
    auth.require(&[Scope::Admin], true)?;
    let all: Vec<Value> = state
        .credentials
        .list()
        .iter()
        .map(|(c, source)| shown(c, *source))
        .collect();
    Ok(Json(json!({ "credentials": all })))
}

/// `POST /admin/credentials`: 201 with the key and the secret (shown only here).
async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    auth.require(&[Scope::Admin], true)?;
    let new: NewCredential = body(&bytes)?;
    let scopes = scopes_of(&new.scopes)?;
    check_agent(&new.agent)?;
    let key = new
        .key
        .unwrap_or_else(|| Alphanumeric.sample_string(&mut rand::rng(), 20));
    check_key(&key)?;
    let secret = new
        .secret
        .unwrap_or_else(|| Alphanumeric.sample_string(&mut rand::rng(), 40));
    check_secret(&secret)?;
    if state
        .credentials
        .list()
        .iter()
        .any(|(c, _)| c.username == key)
    {
        return Err(ApiError::Conflict(format!("credential `{key}` exists")));
    }
    let credential = Credential {
        username: key.clone(),
        hash: hashed(secret.clone()).await?,
        scopes,
        agent: new.agent,
    };
    let source = state.credential_home.source();
    let shown_credential = shown(&credential, source);
    state
        .credential_home
        .change(Some(&state.credentials), |all| match all.get(&key) {
            Some(_) => Err(CredentialError::Invalid(format!(
                "credential `{key}` exists"
            ))),
            None => {
                all.put(credential.clone());
                Ok(())
            }
        })
        .await
        .map_err(|e| match e {
            HomeError::Refused(CredentialError::Invalid(m)) => ApiError::Conflict(m),
            other => other.into(),
        })?;
    audit(&auth, "credential.create", &key);
    let mut answer = shown_credential;
    answer["secret"] = json!(secret);
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `PUT /admin/credentials/{key}`: new scopes and/or agent.
async fn update(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(key): Path<String>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    auth.require(&[Scope::Admin], true)?;
    let change: CredentialChange = body(&bytes)?;
    let scopes = change.scopes.as_deref().map(scopes_of).transpose()?;
    check_agent(&change.agent)?;
    managed(&state, &key)?;
    let updated = edit(&state, &key, |credential| {
        if let Some(scopes) = &scopes {
            credential.scopes = scopes.clone();
        }
        if change.agent.is_some() {
            credential.agent = change.agent.clone();
        }
    })
    .await?;
    audit(&auth, "credential.update", &key);
    Ok(Json(shown(&updated, state.credential_home.source())))
}

/// `DELETE /admin/credentials/{key}`: 204.
async fn remove(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.require(&[Scope::Admin], true)?;
    managed(&state, &key)?;
    state
        .credential_home
        .change(Some(&state.credentials), |all| match all.remove(&key) {
            true => Ok(()),
            false => Err(CredentialError::Invalid(format!("no credential `{key}`"))),
        })
        .await?;
    audit(&auth, "credential.delete", &key);
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /admin/credentials/{key}/rotate`: a new secret (generated unless given), shown once;
/// the old one stops working.
async fn rotate(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(key): Path<String>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    auth.require(&[Scope::Admin], true)?;
    let rotation: Rotation = match bytes.is_empty() {
        true => Rotation::default(),
        false => body(&bytes)?,
    };
    let secret = rotation
        .secret
        .unwrap_or_else(|| Alphanumeric.sample_string(&mut rand::rng(), 40));
    check_secret(&secret)?;
    managed(&state, &key)?;
    let hash = hashed(secret.clone()).await?;
    let rotated = edit(&state, &key, |credential| credential.hash = hash.clone()).await?;
    audit(&auth, "credential.rotate", &key);
    let mut answer = shown(&rotated, state.credential_home.source());
    answer["secret"] = json!(secret);
    Ok(Json(answer))
}

/// `GET /admin/status`: what an operator's dashboard or probe needs in one answer — version,
/// uptime, the store and whether it answers, the plugins, the forwarding queues, statement
/// counts since start.
async fn status(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<Value>, ApiError> {
    auth.require(&[Scope::Admin], false)?;
    let now = xlrs_store::positions::now_micros();
    let store = super::store_health(&state).await;
    let counted = |n: &std::sync::atomic::AtomicU64| n.load(std::sync::atomic::Ordering::Relaxed);
    Ok(Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "started_at": xlrs_xapi::time::format_micros(state.started_at),
        "uptime_seconds": (now - state.started_at).max(0) / 1_000_000,
        "xapi_versions": state.versions.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
        "store": store,
        "credentials": state.credential_home.source().as_str(),
        "plugins": state.plugins.status(),
        "forwarding": state.forwarder.as_ref().map(|f| f.status()).unwrap_or_default(),
        "statements": {
            "stored_since_start": counted(&state.metrics.statements_stored),
            "rejected_since_start": counted(&state.metrics.statements_rejected),
        },
        "retention": retention_status(&state).await,
    })))
}

/// `POST /admin/erasure`: erases a person (or, as a dry run, reports what would go); the
/// receipt, or 202 with its id when the erasure takes longer than 30 s (it goes on).
async fn erase(
    State(state): State<AppState>,
    auth: Authenticated,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    use crate::lifecycle::erasure;
    auth.require(&[Scope::Admin], true)?;
    let request: erasure::ErasureRequest = body(&bytes)?;
    let id = uuid::Uuid::new_v4();
    let by = auth.0.username.clone();
    if request.dry_run != Some(false) {
        let receipt = erasure::erase(&lifecycle(&state), &request, &by, id)
            .await
            .map_err(lifecycle_error)?;
        return Ok((StatusCode::OK, Json(receipt)).into_response());
    }
    // The erasure runs on its own task: a request that times out or goes away does not stop
    // it half-way, and its record is kept when it ends.
    let mut run =
        tokio::spawn(async move { erasure::erase(&lifecycle(&state), &request, &by, id).await });
    match tokio::time::timeout(std::time::Duration::from_secs(30), &mut run).await {
        Ok(Ok(receipt)) => {
            Ok((StatusCode::OK, Json(receipt.map_err(lifecycle_error)?)).into_response())
        }
        Ok(Err(e)) => Err(ApiError::Internal(format!("the erasure failed: {e}"))),
        Err(_) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({"id": id, "running": true,
                        "record": format!("/admin/erasure/{id}: there once it is done")})),
        )
            .into_response()),
    }
}

/// `GET /admin/erasure/{id}`: the kept record of an erasure (no personal data in it).
async fn erasure_receipt(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    auth.require(&[Scope::Admin], false)?;
    let scope = crate::records::scope("erasure-receipts", "");
    match crate::records::read::<Value>(state.documents.as_ref(), &scope, &id).await? {
        Some((record, _)) => Ok(Json(record)),
        None => Err(ApiError::NotFound(format!("no erasure `{id}`"))),
    }
}

/// The lifecycle context of a request.
fn lifecycle(state: &AppState) -> crate::lifecycle::Context<'_> {
    crate::lifecycle::Context {
        statements: state.statements.as_ref(),
        documents: state.documents.as_ref(),
        lifecycle: state.lifecycle.as_deref(),
        forwarder: state.forwarder.as_deref(),
        settings: &state.settings.lifecycle,
    }
}

/// A lifecycle failure as an answer.
fn lifecycle_error(e: crate::lifecycle::LifecycleError) -> ApiError {
    use crate::lifecycle::LifecycleError;
    match e {
        LifecycleError::Bad { field, message } => bad(&field, message),
        LifecycleError::Unsupported(m) => ApiError::NotImplemented(m),
        LifecycleError::Store(e) => e.into(),
        e @ LifecycleError::Forwarding(_) => ApiError::Internal(e.to_string()),
    }
}

/// Retention's settings and its last pass, as `/admin/status` and `/admin/retention` show them.
async fn retention_status(state: &AppState) -> Value {
    let settings = &state.settings.lifecycle;
    let last = crate::lifecycle::retention::last_pass(state.documents.as_ref()).await;
    json!({
        "statements_max_age": settings.statements_max_age,
        "statements_age_by": settings.statements_age_by,
        "documents_max_age": settings.documents_max_age,
        "interval": settings.retention_interval,
        "last_pass": match last {
            Ok(last) => json!(last),
            Err(e) => json!({"error": e.to_string()}),
        },
    })
}

/// `GET /admin/retention`: the settings, the last pass, and what the next pass removes (a
/// dry run).
async fn retention(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<Value>, ApiError> {
    auth.require(&[Scope::Admin], false)?;
    let next = crate::lifecycle::retention::pass(&lifecycle(&state), true)
        .await
        .map_err(lifecycle_error)?;
    let mut answer = retention_status(&state).await;
    answer["next_pass"] = json!(next);
    Ok(Json(answer))
}

/// `POST /admin/retention`: runs a pass now, answering its report (202 when it takes longer
/// than a few seconds: it goes on, and `GET` shows it once done), or with `{"dry_run": true}`
/// reports it; 409 while another process runs one.
async fn retention_pass(
    State(state): State<AppState>,
    auth: Authenticated,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    use crate::lifecycle::retention;
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Run {
        dry_run: bool,
    }
    auth.require(&[Scope::Admin], true)?;
    let run: Run = body(&bytes)?;
    if !state.settings.lifecycle.retains() {
        return Err(bad(
            "lifecycle",
            "no retention is set (lifecycle.statements_max_age, lifecycle.documents_max_age)",
        ));
    }
    audit(
        &auth,
        "retention.pass",
        if run.dry_run { "dry run" } else { "run" },
    );
    if run.dry_run {
        let report = retention::pass(&lifecycle(&state), true)
            .await
            .map_err(lifecycle_error)?;
        return Ok((StatusCode::OK, Json(json!(report))).into_response());
    }
    // The pass runs on its own task: a request that times out or goes away does not stop it
    // half-way (it would keep its lease until the lease ran out).
    // Named for the request alone: a pass asked of another process, or of this one, by the
    // same user must still wait for this one.
    let me = format!("{} ({})", auth.0.username, uuid::Uuid::new_v4());
    let mut pass = tokio::spawn(async move {
        let cx = lifecycle(&state);
        retention::run_pass(&cx, &me, None).await
    });
    let waited = tokio::time::timeout(std::time::Duration::from_secs(5), &mut pass).await;
    match waited {
        Ok(Ok(Ok(Some(report)))) => Ok((StatusCode::OK, Json(json!(report))).into_response()),
        Ok(Ok(Ok(None))) => Err(ApiError::Conflict(
            "another process is running a retention pass".into(),
        )),
        Ok(Ok(Err(e))) => Err(lifecycle_error(e)),
        Ok(Err(e)) => Err(ApiError::Internal(format!("the retention pass failed: {e}"))),
        Err(_) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({"running": true, "report": "GET /admin/retention shows it as the last pass once done"})),
        )
            .into_response()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_document_describes_every_admin_path_and_no_other() {
        let document = include_str!("../../../../docs/admin-openapi.yaml");
        let described: Vec<&str> = document
            .lines()
            .filter_map(|l| l.strip_prefix("  ")?.strip_suffix(':'))
            .filter(|p| p.starts_with("/admin"))
            .collect();
        let served: Vec<&str> = PATHS
            .iter()
            .chain(super::super::plugins_admin::PATHS.iter())
            .chain(super::super::forwarding_admin::PATHS.iter())
            .copied()
            .collect();
        assert_eq!(described, served);
    }

    #[test]
    fn a_request_is_cross_origin_by_what_the_browser_says() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = axum::http::HeaderMap::new();
            for (k, v) in pairs {
                map.insert(*k, axum::http::HeaderValue::from_static(v));
            }
            map
        };
        assert_eq!(cross_origin(&headers(&[])), None, "curl, a script");
        assert_eq!(
            cross_origin(&headers(&[
                ("host", "lrs.example.org"),
                ("origin", "https://lrs.example.org")
            ])),
            None
        );
        assert!(cross_origin(&headers(&[
            ("host", "lrs.example.org"),
            ("origin", "https://evil.example")
        ]))
        .is_some());
        assert!(cross_origin(&headers(&[("sec-fetch-site", "same-site")])).is_some());
        assert_eq!(cross_origin(&headers(&[("sec-fetch-site", "none")])), None);
    }
}
