//! `X-Experience-API-Version`: required on requests, echoed on every response.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use xlrs_xapi::version::{XapiVersion, VERSION_HEADER};

/// Checks the request's version against those served (About needs none), stores it for the
/// handlers, and sets the served version on the response: the default version when the
/// request named none or one not served.
pub async fn negotiate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let versions = &state.versions;
    let default = versions.first().copied().unwrap_or(XapiVersion::V2_0_0);
    let names = || {
        versions
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(" or ")
    };
    let header = request
        .headers()
        .get(VERSION_HEADER)
        .map(|v| v.to_str().unwrap_or(""));
    let lenient =
        request.uri().path().ends_with("/about") || request.method() == axum::http::Method::OPTIONS;
    let version = match header.map(|v| (v, XapiVersion::from_header(v))) {
        Some((_, Some(version))) if versions.contains(&version) => Ok(version),
        Some(_) | None if lenient => Ok(default),
        Some((v, _)) => Err(ApiError::bad(format!(
            "{VERSION_HEADER} `{v}` is not served here (use {})",
            names()
        ))),
        // xAPI requires the header: only an operator's `assume_xapi_version` lets it be missing.
        None => match state.settings.assume_xapi_version {
            Some(assumed) if versions.contains(&assumed) => Ok(assumed),
            _ => Err(ApiError::bad(format!(
                "the {VERSION_HEADER} header is required ({})",
                names()
            ))),
        },
    };
    let (served, mut response) = match version {
        Ok(version) => {
            request.extensions_mut().insert(version);
            (version, next.run(request).await)
        }
        Err(e) => (default, e.into_response()),
    };
    response
        .headers_mut()
        .insert(VERSION_HEADER, HeaderValue::from_static(served.as_str()));
    response
}
