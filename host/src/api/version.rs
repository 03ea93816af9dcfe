//! `X-Experience-API-Version`: required on requests, echoed on every response.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use crate::xapi::version::{XapiVersion, VERSION_HEADER};

/// Checks the request's version (About needs none), stores it for the handlers, and sets the
/// served version on the response.
pub async fn negotiate(mut request: Request, next: Next) -> Response {
    let header = request
        .headers()
        .get(VERSION_HEADER)
        .map(|v| v.to_str().unwrap_or(""));
    let is_about = request.uri().path().ends_with("/about");
    let version = match header {
        Some(v) => match XapiVersion::from_header(v) {
            Some(version) => Ok(version),
            None if is_about => Ok(XapiVersion::V2_0_0),
            None => Err(ApiError::bad(format!(
                "{VERSION_HEADER} `{v}` is not supported (use 2.0.0 or 1.0.3)"
            ))),
        },
        None if is_about || request.method() == axum::http::Method::OPTIONS => {
            Ok(XapiVersion::V2_0_0)
        }
        None => Err(ApiError::bad(format!(
            "the {VERSION_HEADER} header is required (2.0.0 or 1.0.3)"
        ))),
    };
    let (served, mut response) = match version {
        Ok(version) => {
            request.extensions_mut().insert(version);
            (version, next.run(request).await)
        }
        Err(e) => (XapiVersion::V2_0_0, e.into_response()),
    };
    response
        .headers_mut()
        .insert(VERSION_HEADER, HeaderValue::from_static(served.as_str()));
    response
}
