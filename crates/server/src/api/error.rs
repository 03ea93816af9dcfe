//! One error type for every handler, rendered as a JSON body with the right status.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use xlrs_plugin_host::Rejection;
use xlrs_store::StoreError;
use xlrs_xapi::validate::ValidationError;

/// An error a request ends with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request breaks a rule (400).
    #[error("{message}")]
    BadRequest {
        /// What is wrong.
        message: String,
        /// JSON path of the offending field, when there is one.
        field: Option<String>,
        /// Index of the offending statement in a batch.
        statement_index: Option<usize>,
    },
    /// A plugin refused statements (400): every error it gave, in its order.
    #[error("{message}")]
    PluginRejected {
        /// The first error, naming the plugin, and how many more there are.
        message: String,
        /// Every error.
        errors: Vec<Rejection>,
    },
    /// No or bad credentials (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Credentials lack the scope (403).
    #[error("{0}")]
    Forbidden(String),
    /// Nothing there (404).
    #[error("{0}")]
    NotFound(String),
    /// Conflicts with what is stored (409).
    #[error("{0}")]
    Conflict(String),
    /// A concurrency precondition failed (412).
    #[error("{0}")]
    PreconditionFailed(String),
    /// The body is larger than allowed (413).
    #[error("{0}")]
    TooLarge(String),
    /// A plugin failed: trap, timeout, memory, or invalid output (500, naming the plugin).
    #[error("{0}")]
    PluginFailed(String),
    /// The store is out of reach (500: xAPI Communication 3.2 says the code comes from its list,
    /// which has no 503; `Retry-After` says the condition is temporary).
    #[error("{0}")]
    Unavailable(String),
    /// The server is at `max_concurrent_requests` (429, with `Retry-After`).
    #[error("{0}")]
    Overloaded(String),
    /// The configured store cannot do this (501).
    #[error("{0}")]
    NotImplemented(String),
    /// A fault of ours (500).
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 with just a message.
    pub fn bad(message: impl Into<String>) -> Self {
        Self::BadRequest {
            message: message.into(),
            field: None,
            statement_index: None,
        }
    }

    /// A 400 from a broken rule, optionally in the statement at `index` of a batch.
    pub fn invalid(e: ValidationError, index: Option<usize>) -> Self {
        let message = match index {
            Some(i) => format!("statement {i}: {e}"),
            None => e.to_string(),
        };
        Self::BadRequest {
            message,
            field: Some(e.path),
            statement_index: index,
        }
    }

    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest { .. } | Self::PluginRejected { .. } => {
                (StatusCode::BAD_REQUEST, "bad_request")
            }
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::PreconditionFailed(_) => (StatusCode::PRECONDITION_FAILED, "precondition_failed"),
            Self::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::PluginFailed(_) => (StatusCode::INTERNAL_SERVER_ERROR, "plugin_failure"),
            Self::Unavailable(_) => (StatusCode::INTERNAL_SERVER_ERROR, "unavailable"),
            Self::Overloaded(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            Self::NotImplemented(_) => (StatusCode::NOT_IMPLEMENTED, "not_implemented"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(_) => Self::Conflict(e.to_string()),
            StoreError::Rejected(m) => Self::bad(m),
            StoreError::PreconditionFailed(m) => Self::PreconditionFailed(m),
            // Counted where the store produced them (`xlrs_store::metered`).
            StoreError::Unavailable(m) => Self::Unavailable(m),
            StoreError::Raced(_) => Self::Unavailable(e.to_string()),
            StoreError::Internal(m) => Self::Internal(m),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind) = self.parts();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut body = Map::new();
        body.insert("error".into(), json!(kind));
        body.insert("message".into(), json!(self.to_string()));
        if let Self::BadRequest {
            field,
            statement_index,
            ..
        } = &self
        {
            if let Some(f) = field {
                body.insert("field".into(), json!(f));
            }
            if let Some(i) = statement_index {
                body.insert("statement_index".into(), json!(i));
            }
        }
        if let Self::PluginRejected { errors, .. } = &self {
            // The first one's index is the statement_index of any other 400.
            if let Some(i) = errors.first().and_then(|e| e.index) {
                body.insert("statement_index".into(), json!(i));
            }
            let listed: Vec<Value> = errors
                .iter()
                .map(|e| match e.index {
                    Some(i) => json!({"statement_index": i, "message": e.message}),
                    None => json!({"message": e.message}),
                })
                .collect();
            body.insert("errors".into(), Value::Array(listed));
        }
        let mut response = (status, axum::Json(Value::Object(body))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"xlrs\""),
            );
        }
        if matches!(self, Self::Unavailable(_) | Self::Overloaded(_)) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
