//! The alternate request syntax of xAPI 1.0.3 (§7.8, for clients that cannot send custom
//! headers or methods): `POST …?method=PUT` with a form body carrying the headers, the query
//! parameters and the `content`. It is rewritten into the ordinary request before anything else
//! sees it. xAPI 2.0 dropped the syntax, so a 2.0 request using it is refused.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use xlrs_xapi::version::{XapiVersion, VERSION_HEADER};

/// Form fields that are request headers.
const HEADER_FIELDS: [&str; 6] = [
    "authorization",
    "x-experience-api-version",
    "content-type",
    "content-length",
    "if-match",
    "if-none-match",
];

/// Largest form body read for the rewrite.
const MAX_FORM_BYTES: usize = 16 * 1024 * 1024;

/// Rewrites an alternate-syntax request; passes every other request through.
pub async fn rewrite(request: Request, next: Next) -> Response {
    let method_param = request.uri().query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "method")
            .map(|(_, v)| v.into_owned())
    });
    let is_xapi = request.uri().path().starts_with("/xAPI/");
    let Some(method) = method_param.filter(|_| is_xapi) else {
        return next.run(request).await;
    };
    match rebuild(request, &method).await {
        Ok(request) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

async fn rebuild(request: Request, method: &str) -> Result<Request, ApiError> {
    if request.method() != Method::POST {
        return Err(ApiError::bad(
            "the method parameter is only allowed on POST (alternate request syntax)",
        ));
    }
    let only_method = request
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).all(|(k, _)| k == "method"))
        .unwrap_or(true);
    if !only_method {
        return Err(ApiError::bad(
            "with the alternate request syntax every parameter goes in the form body, not the URL",
        ));
    }
    let method: Method = match method.to_ascii_uppercase().as_str() {
        "GET" => Method::GET,
        "PUT" => Method::PUT,
        "POST" => Method::POST,
        "DELETE" => Method::DELETE,
        other => {
            return Err(ApiError::bad(format!(
                "method `{other}` is not GET, PUT, POST or DELETE"
            )))
        }
    };
    let (parts, body) = request.into_parts();
    let is_form = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(ApiError::bad(
            "an alternate-syntax request must have Content-Type application/x-www-form-urlencoded",
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|e| ApiError::bad(format!("cannot read the form body: {e}")))?;
    let mut headers = Vec::new();
    let mut query = form_urlencoded::Serializer::new(String::new());
    let mut content = String::new();
    for (key, value) in form_urlencoded::parse(&bytes) {
        let lower = key.to_ascii_lowercase();
        if lower == "content" {
            content = value.into_owned();
        } else if HEADER_FIELDS.contains(&lower.as_str()) {
            headers.push((lower, value.into_owned()));
        } else {
            query.append_pair(&key, &value);
        }
    }
    let version = headers
        .iter()
        .find(|(k, _)| k == "x-experience-api-version")
        .and_then(|(_, v)| XapiVersion::from_header(v));
    if version == Some(XapiVersion::V2_0_0) {
        return Err(ApiError::bad("xAPI 2.0 has no alternate request syntax"));
    }
    let query = query.finish();
    let path = parts.uri.path();
    let uri = if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    };
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in parts.headers.iter() {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            builder = builder.header(name, value);
        }
    }
    let mut request = builder
        .body(Body::from(content))
        .map_err(|e| ApiError::bad(format!("cannot rebuild the request: {e}")))?;
    for (name, value) in headers {
        if name == "content-length" {
            continue;
        }
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|e| ApiError::bad(e.to_string()))?;
        let value = HeaderValue::from_str(&value)
            .map_err(|_| ApiError::bad(format!("form field {name} is not a valid header value")))?;
        request.headers_mut().insert(name, value);
    }
    // The form's `content` is JSON unless a Content-Type field says otherwise.
    if !request
        .headers()
        .contains_key(axum::http::header::CONTENT_TYPE)
    {
        request.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    if !request.headers().contains_key(VERSION_HEADER) {
        return Err(ApiError::bad(format!(
            "the form must carry {VERSION_HEADER}"
        )));
    }
    Ok(request)
}
