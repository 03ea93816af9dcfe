//! Requests as the tests send them, to a server in a process of its own (over HTTP) or in the
//! test's own process (handed straight to the router with tower's `oneshot`): one builder and
//! one response type for both, with the methods of reqwest's blocking client the tests use.

use std::sync::Arc;

use axum::body::Body;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use tower::ServiceExt;
use xlrs_server::AppService;

/// A server running in the test's process: its runtime and the service answering requests.
pub struct InProcess {
    /// The service; dropped before the runtime its tasks run on.
    pub(crate) service: AppService,
    /// Where the server's tasks run.
    pub(crate) runtime: tokio::runtime::Runtime,
}

impl InProcess {
    fn call(&self, request: reqwest::blocking::Request) -> Response {
        let url = request.url().clone();
        let mut target = url.path().to_string();
        if let Some(query) = url.query() {
            target.push('?');
            target.push_str(query);
        }
        let body = request
            .body()
            .map(|b| {
                b.as_bytes()
                    .expect("in-process requests have whole bodies")
                    .to_vec()
            })
            .unwrap_or_default();
        let mut http = axum::http::Request::builder()
            .method(request.method().clone())
            .uri(target);
        if let Some(headers) = http.headers_mut() {
            headers.extend(request.headers().clone());
            if let Ok(length) = HeaderValue::from_str(&body.len().to_string()) {
                headers.insert(reqwest::header::CONTENT_LENGTH, length);
            }
        }
        let http = http.body(Body::from(body)).expect("a request");
        let response = self.runtime.block_on(async {
            let response = self
                .service
                .clone()
                .oneshot(http)
                .await
                .unwrap_or_else(|never| match never {});
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .expect("the response body");
            (parts, bytes)
        });
        let (parts, body) = response;
        Response::Local {
            status: parts.status,
            headers: parts.headers,
            body: body.to_vec(),
            url,
        }
    }
}

/// A request being built; see reqwest's `RequestBuilder`.
pub struct RequestBuilder {
    inner: reqwest::blocking::RequestBuilder,
    local: Option<Arc<InProcess>>,
}

impl RequestBuilder {
    pub(crate) fn new(
        inner: reqwest::blocking::RequestBuilder,
        local: Option<Arc<InProcess>>,
    ) -> Self {
        Self { inner, local }
    }

    fn map(
        self,
        f: impl FnOnce(reqwest::blocking::RequestBuilder) -> reqwest::blocking::RequestBuilder,
    ) -> Self {
        Self {
            inner: f(self.inner),
            local: self.local,
        }
    }

    /// Adds a header.
    pub fn header<K, V>(self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<axum::http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<axum::http::Error>,
    {
        self.map(|r| r.header(name, value))
    }

    /// Adds headers.
    pub fn headers(self, headers: HeaderMap) -> Self {
        self.map(|r| r.headers(headers))
    }

    /// Basic credentials.
    pub fn basic_auth(self, user: &str, password: Option<&str>) -> Self {
        self.map(|r| r.basic_auth(user, password))
    }

    /// A bearer token.
    pub fn bearer_auth(self, token: &str) -> Self {
        self.map(|r| r.bearer_auth(token))
    }

    /// A JSON body.
    pub fn json<T: serde::Serialize + ?Sized>(self, body: &T) -> Self {
        self.map(|r| r.json(body))
    }

    /// A body as it is.
    pub fn body<T: Into<reqwest::blocking::Body>>(self, body: T) -> Self {
        self.map(|r| r.body(body))
    }

    /// Query parameters.
    pub fn query<T: serde::Serialize + ?Sized>(self, query: &T) -> Self {
        self.map(|r| r.query(query))
    }

    /// A form body.
    pub fn form<T: serde::Serialize + ?Sized>(self, form: &T) -> Self {
        self.map(|r| r.form(form))
    }

    /// A deadline (over HTTP only).
    pub fn timeout(self, timeout: std::time::Duration) -> Self {
        self.map(|r| r.timeout(timeout))
    }

    /// Sends the request and waits for the whole answer.
    pub fn send(self) -> reqwest::Result<Response> {
        match self.local {
            None => self.inner.send().map(Response::Remote),
            Some(local) => Ok(local.call(self.inner.build()?)),
        }
    }
}

/// Why a response body could not be read as asked.
#[derive(Debug)]
pub struct BodyError(String);

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An answer; see reqwest's `Response`.
pub enum Response {
    /// From a server over HTTP.
    Remote(reqwest::blocking::Response),
    /// From a server in this process.
    Local {
        /// The status.
        status: StatusCode,
        /// The headers.
        headers: HeaderMap,
        /// The whole body.
        body: Vec<u8>,
        /// The URL asked.
        url: Url,
    },
}

impl Response {
    /// The status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Remote(r) => r.status(),
            Self::Local { status, .. } => *status,
        }
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        match self {
            Self::Remote(r) => r.headers(),
            Self::Local { headers, .. } => headers,
        }
    }

    /// The URL asked.
    pub fn url(&self) -> &Url {
        match self {
            Self::Remote(r) => r.url(),
            Self::Local { url, .. } => url,
        }
    }

    /// The body.
    pub fn bytes(self) -> Result<Vec<u8>, BodyError> {
        match self {
            Self::Remote(r) => r
                .bytes()
                .map(|b| b.to_vec())
                .map_err(|e| BodyError(e.to_string())),
            Self::Local { body, .. } => Ok(body),
        }
    }

    /// The body as text.
    pub fn text(self) -> Result<String, BodyError> {
        String::from_utf8(self.bytes()?).map_err(|e| BodyError(e.to_string()))
    }

    /// The body as JSON.
    pub fn json<T: DeserializeOwned>(self) -> Result<T, BodyError> {
        serde_json::from_slice(&self.bytes()?).map_err(|e| BodyError(e.to_string()))
    }
}
