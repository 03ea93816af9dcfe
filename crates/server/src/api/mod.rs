//! The HTTP API: axum routers, one module per resource, merged in [`router`].

mod about;
mod admin;
mod admission;
mod agents;
mod alternate;
mod auth;
mod documents;
mod error;
mod error_format;
mod forwarding_admin;
mod metrics;
pub(crate) mod multipart;
mod plugins_admin;
pub(crate) mod reactions;
mod statements;
mod version;

use std::sync::Arc;

use axum::http::{header, HeaderName, Method};
use axum::Router;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

pub use admission::LogLimit;
pub use alternate::rewrite as alternate_syntax;
pub use auth::Authenticated;
pub use error::ApiError;
pub use metrics::Metrics;

use xlrs_store::{AdmissionLog, ContentStore, DocumentStore, StatementStore};
use xlrs_xapi::version::XapiVersion;

use crate::auth::CredentialsFile;
use crate::settings::Settings;

/// Everything a handler needs, shared by all requests.
#[derive(Clone)]
pub struct AppState {
    /// The xAPI versions served, the default first.
    pub versions: Arc<[XapiVersion]>,
    /// The statement store chosen by the settings.
    pub statements: Arc<dyn StatementStore>,
    /// The document store chosen by the settings.
    pub documents: Arc<dyn DocumentStore>,
    /// Where attachments and canonical activity definitions are kept.
    pub content: Arc<dyn ContentStore>,
    /// Where admission records are kept.
    pub admissions: Arc<dyn AdmissionLog>,
    /// Removing and rewriting stored data; `None` for a store that cannot.
    pub lifecycle: Option<Arc<dyn xlrs_store::lifecycle::Lifecycle>>,
    /// The credentials file.
    pub credentials: Arc<CredentialsFile>,
    /// Where the admin API keeps the credentials it manages.
    pub credential_home: Arc<crate::auth::home::CredentialHome>,
    /// The validated settings.
    pub settings: Arc<Settings>,
    /// The plugins and the pipeline in force.
    pub plugins: Arc<xlrs_plugin_host::PluginRegistry>,
    /// Request and statement counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// What the store reports in `/metrics`, if anything.
    pub store_gauges: Option<Arc<dyn xlrs_store::StoreGauges>>,
    /// Bearer-token verification, when `[oidc]` is configured.
    pub oidc: Option<Arc<crate::auth::oidc::Oidc>>,
    /// The forwarding outbox, when forwarding targets are configured.
    pub forwarder: Option<Arc<crate::forward::Forwarder>>,
    /// Limits the log lines of statements stored by admission.
    pub admission_log: Arc<LogLimit>,
    /// When this process started serving (µs since the epoch).
    pub started_at: i64,
    /// Refused requests of the last minutes and counts by reason, for the console.
    pub refusals: Arc<crate::console::Refusals>,
}

/// The whole application: `/health`, and the xAPI resources under `/xAPI`.
pub fn router(state: AppState) -> Router {
    let xapi = Router::new()
        .merge(statements::router(state.clone()))
        .merge(documents::router())
        .merge(agents::router())
        .merge(about::xapi_router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            version::negotiate,
        ));
    Router::new()
        .nest("/xAPI", xapi)
        .merge(about::ops_router())
        .route("/metrics", axum::routing::get(metrics::metrics))
        .route("/plugins", axum::routing::get(plugins_status))
        .route("/admissions", axum::routing::get(admission::list))
        .merge(admin::router())
        .merge(plugins_admin::router(
            state.settings.console.max_plugin_bytes,
        ))
        .merge(forwarding_admin::router())
        .merge(crate::console::router(state.settings.console.enabled))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            std::time::Duration::from_secs(state.settings.request_timeout_secs),
        ))
        .layer(
            tower::ServiceBuilder::new()
                .layer(axum::error_handling::HandleErrorLayer::new(
                    |_: tower::BoxError| async {
                        ApiError::Overloaded(
                            "the server is at max_concurrent_requests; retry shortly".into(),
                        )
                    },
                ))
                .load_shed()
                // Global: `Router::layer` wraps each route apart, and the cap is for all of them.
                .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
                    state.settings.max_concurrent_requests,
                )),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            json_errors,
        ))
        // Every request gets an id (or keeps the client's `x-request-id`), returned in the
        // response and carried by every log line of the request.
        .layer(
            tower::ServiceBuilder::new()
                .layer(tower_http::request_id::SetRequestIdLayer::x_request_id(
                    tower_http::request_id::MakeRequestUuid,
                ))
                .layer(
                    tower_http::trace::TraceLayer::new_for_http().make_span_with(
                        |request: &axum::http::Request<axum::body::Body>| {
                            let id = request
                                .headers()
                                .get("x-request-id")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("");
                            tracing::info_span!(
                                "request",
                                request_id = %id,
                                method = %request.method(),
                                path = %request.uri().path(),
                            )
                        },
                    ),
                )
                .layer(tower_http::request_id::PropagateRequestIdLayer::x_request_id()),
        )
        .layer(axum::extract::DefaultBodyLimit::max(
            state.settings.max_body_bytes,
        ))
        .layer(cors())
        .layer(axum::middleware::from_fn(admin::no_cors))
        .with_state(state)
}

/// Gives every error response the JSON body our own errors have — axum's rejections (a body
/// over `max_body_bytes`, a method a resource lacks, an unknown path, …) come as plain text or
/// empty — or, when the request's `Accept` prefers it, the same message as text or HTML.
async fn json_errors(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = request.method().clone();
    let headers = request.headers();
    let format = error_format::preferred(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    let from_console = headers.contains_key(crate::console::CONSOLE_HEADER);
    // Kept for a refusal's record: reference-counted clones, read only when the answer is one.
    let authorization = headers.get(header::AUTHORIZATION).cloned();
    let request_id = headers.get("x-request-id").cloned();
    let uri = request.uri().clone();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    fn text(v: &Option<axum::http::HeaderValue>) -> Option<&str> {
        v.as_ref().and_then(|v| v.to_str().ok())
    }
    let asked = crate::console::refusals::Asked {
        method: method.as_str(),
        path: uri.path(),
        authorization: text(&authorization),
        request_id: text(&request_id),
    };
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json && from_console {
        let mut response = response;
        response.headers_mut().remove(header::WWW_AUTHENTICATE);
        return error_format::render(response, format).await;
    }
    if is_json {
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20)
            .await
            .unwrap_or_default();
        let json = serde_json::from_slice(&bytes).unwrap_or_default();
        state.refusals.record(&asked, status.as_u16(), &json);
        let response = axum::response::Response::from_parts(parts, axum::body::Body::from(bytes));
        return error_format::render(response, format).await;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let reason = status.canonical_reason().unwrap_or("error");
    let message = match status {
        axum::http::StatusCode::PAYLOAD_TOO_LARGE => format!(
            "the request body is larger than max_body_bytes ({} bytes)",
            state.settings.max_body_bytes
        ),
        axum::http::StatusCode::METHOD_NOT_ALLOWED => {
            format!("this resource does not support {method} (the Allow header lists its methods)")
        }
        axum::http::StatusCode::NOT_FOUND if text.is_empty() => "no such resource".to_string(),
        _ if text.is_empty() => reason.to_lowercase(),
        _ => text,
    };
    let body = serde_json::json!({
        "error": reason.to_lowercase().replace(' ', "_"),
        "message": message,
    });
    if !from_console {
        state.refusals.record(&asked, status.as_u16(), &body);
    }
    let mut json = axum::response::IntoResponse::into_response((status, axum::Json(body)));
    // Keep the version header the inner layers set, and what the status needs (Allow, …).
    for (name, value) in &parts.headers {
        let dropped = name == header::CONTENT_TYPE
            || name == header::CONTENT_LENGTH
            || (from_console && name == header::WWW_AUTHENTICATE);
        if !dropped {
            json.headers_mut().insert(name.clone(), value.clone());
        }
    }
    if matches!(
        status,
        axum::http::StatusCode::PAYLOAD_TOO_LARGE | axum::http::StatusCode::REQUEST_TIMEOUT
    ) {
        // The body was not read to its end: this connection cannot carry another request.
        json.headers_mut().insert(
            header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    error_format::render(json, format).await
}

/// Browser-hosted learning content posts straight to the LRS, with credentials.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_headers(AllowHeaders::mirror_request())
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_credentials(true)
        .expose_headers([
            HeaderName::from_static("x-experience-api-version"),
            HeaderName::from_static("x-experience-api-consistent-through"),
            header::ETAG,
            header::LAST_MODIFIED,
            header::CONTENT_TYPE,
        ])
}

/// The store's kind and whether it answers (its consistent-through, or its error), as
/// `/admin/status` and the console's live view show it.
pub async fn store_health(state: &AppState) -> serde_json::Value {
    let kind = state.settings.store.to_string();
    match state.statements.consistent_through().await {
        Ok(through) => serde_json::json!({
            "kind": kind,
            "answers": true,
            "consistent_through": xlrs_xapi::time::format_micros(through),
        }),
        Err(e) => serde_json::json!({ "kind": kind, "answers": false, "error": e.to_string() }),
    }
}

/// `GET /plugins`: loaded plugins, their versions, counters and last load error.
async fn plugins_status(
    axum::extract::State(state): axum::extract::State<AppState>,
    auth: Authenticated,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    auth.require(&[crate::auth::Scope::AllRead], false)?;
    Ok(axum::Json(state.plugins.status()))
}
