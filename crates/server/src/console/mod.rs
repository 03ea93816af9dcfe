//! The operator console: a web UI served by the binary itself at `/console/` (its files are
//! compiled in; see `build.rs`), and the few JSON and event-stream resources only it needs —
//! the live counters, the refused requests of the last minutes, a live tail of statements.
//! Everything else it shows comes from the xAPI resources and the admin API.

mod live;
mod referring;
pub mod refusals;
mod tail;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::api::{ApiError, AppState, Authenticated};
use crate::auth::Scope;

pub use refusals::Refusals;

/// The header the console sends with each of its requests: a 401 then carries no
/// `WWW-Authenticate` (no browser prompt over the console's own sign-in form), and its
/// refusals are not listed among the producers'.
pub const CONSOLE_HEADER: &str = "x-xlrs-console";

mod assets {
    include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));
}

/// The console's routes (none when `console.enabled` is false).
pub fn router(enabled: bool) -> Router<AppState> {
    if !enabled {
        return Router::new();
    }
    Router::new()
        .route("/", get(|| async { Redirect::to("console/") }))
        // `/console/` arrives as `/console`: the server drops a trailing slash before routing,
        // and [`slash`] sent `/console` itself to `/console/`.
        .route(
            "/console",
            get(|State(state): State<AppState>| async move { asset(&state, "index.html").await }),
        )
        .route("/console/{file}", get(file))
        .route("/console/api/live", get(live::live))
        .route("/console/api/refusals", get(recent_refusals))
        .route("/console/api/tail", get(tail::tail))
        .route("/console/api/referring", get(referring::referring))
}

/// Sends `/console` to `/console/` (relative, so it works behind a path prefix): the page's
/// own links are relative to that folder. Runs before the trailing slash is dropped.
pub async fn slash(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if request.uri().path() == "/console" {
        return Redirect::permanent("console/").into_response();
    }
    next.run(request).await
}

async fn file(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    asset(&state, &name).await
}

/// One of the console's files, from the binary or, when `console.dir` is set, from there.
async fn asset(state: &AppState, name: &str) -> Response {
    let Some((_, media, bytes)) = assets::FILES.iter().find(|(n, _, _)| *n == name) else {
        return ApiError::NotFound(format!("the console has no file `{name}`")).into_response();
    };
    let body = match &state.settings.console.dir {
        Some(dir) => match tokio::fs::read(dir.join(name)).await {
            Ok(bytes) => bytes,
            Err(e) => {
                return ApiError::Internal(format!("console file `{name}`: {e}")).into_response()
            }
        },
        None => bytes.to_vec(),
    };
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    // Always asked again: an upgraded server serves its own console, not a cached one.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// `GET /console/api/refusals`: refused requests of the last fifteen minutes, newest first.
async fn recent_refusals(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require(&[Scope::AllRead], false)?;
    Ok(Json(
        serde_json::json!({ "refusals": state.refusals.recent() }),
    ))
}

#[cfg(test)]
mod tests {
    use super::assets::FILES;

    #[test]
    fn the_console_is_compiled_in_with_its_index_page() {
        assert!(FILES
            .iter()
            .any(|(name, media, bytes)| *name == "index.html"
                && media.starts_with("text/html")
                && !bytes.is_empty()));
    }
}
