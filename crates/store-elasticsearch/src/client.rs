//! The few Elasticsearch REST calls the store makes, over the `elasticsearch` crate's
//! transport: JSON in, JSON out, failures mapped to [`StoreError`] (unreachable, 429 and 5xx
//! are [`StoreError::Unavailable`]). Only APIs that Elasticsearch 8 and OpenSearch 2 both
//! document are used: index create/exists/mapping, `_doc`, `_mget`, `_bulk`, `_search`
//! (with `search_after`), `_count` and scroll.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use elasticsearch::auth::Credentials;
use elasticsearch::cert::{Certificate, CertificateValidation};
use elasticsearch::http::headers::{HeaderMap, HeaderValue, CONTENT_TYPE};
use elasticsearch::http::transport::{SingleNodeConnectionPool, TransportBuilder};
use elasticsearch::http::{Method, Url};
use elasticsearch::Elasticsearch;
use serde_json::Value;

use xlrs_store::StoreError;

use crate::ElasticsearchSettings;

/// How long one call may take before the server counts as unavailable.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection to one Elasticsearch (or OpenSearch) server.
pub(crate) struct EsClient {
    client: Elasticsearch,
    /// The server's URL, for messages.
    pub(crate) url: String,
    /// Cleared when a call finds the server gone or an index missing, so the store makes
    /// sure of its indices again before the next call.
    pub(crate) layout_ok: AtomicBool,
}

/// An answer: HTTP status and JSON body (`Null` when there is none).
pub(crate) struct Reply {
    /// The HTTP status.
    pub(crate) status: u16,
    /// The body.
    pub(crate) body: Value,
}

impl EsClient {
    /// A client for the configured server (nothing is sent yet).
    pub(crate) fn new(settings: &ElasticsearchSettings) -> Result<Self, StoreError> {
        let url = Url::parse(&settings.url)
            .map_err(|e| StoreError::Internal(format!("Elasticsearch URL: {e}")))?;
        let mut transport =
            TransportBuilder::new(SingleNodeConnectionPool::new(url)).timeout(CALL_TIMEOUT);
        if let Some(ca) = &settings.ca_file {
            let pem = std::fs::read(ca).map_err(|e| {
                StoreError::Internal(format!("Elasticsearch CA file {}: {e}", ca.display()))
            })?;
            let ca = Certificate::from_pem(&pem)
                .map_err(|e| StoreError::Internal(format!("Elasticsearch CA file: {e}")))?;
            transport = transport.cert_validation(CertificateValidation::Full(ca));
        }
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            transport = transport.auth(Credentials::Basic(user.clone(), password.clone()));
        } else if let Some(key) = &settings.api_key {
            transport = transport.auth(Credentials::EncodedApiKey(key.clone()));
        }
        let transport = transport
            .build()
            .map_err(|e| StoreError::Internal(format!("Elasticsearch client: {e}")))?;
        Ok(Self {
            client: Elasticsearch::new(transport),
            url: settings.url.clone(),
            layout_ok: AtomicBool::new(true),
        })
    }

    /// Sends one request. Statuses below 300 and 404 are answers; the others are errors.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<String>,
        ndjson: bool,
    ) -> Result<Reply, StoreError> {
        let mut headers = HeaderMap::new();
        if ndjson {
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-ndjson"),
            );
        }
        let response = self
            .client
            .send(method, path, headers, Some(query), body, None)
            .await
            .map_err(|e| {
                self.layout_ok.store(false, Ordering::SeqCst);
                StoreError::Unavailable(format!("Elasticsearch at {}: {e}", self.url))
            })?;
        let status = response.status_code().as_u16();
        let text = response.text().await.map_err(|e| {
            self.layout_ok.store(false, Ordering::SeqCst);
            StoreError::Unavailable(format!("Elasticsearch at {}: {e}", self.url))
        })?;
        let body: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if status < 300 || status == 404 {
            if status == 404 && error_type(&body) == Some("index_not_found_exception") {
                self.layout_ok.store(false, Ordering::SeqCst);
            }
            return Ok(Reply { status, body });
        }
        let why = format!(
            "Elasticsearch at {} answered {status} to {path}: {}",
            self.url,
            reason(&body)
        );
        if status == 429 || status >= 500 {
            self.layout_ok.store(false, Ordering::SeqCst);
        }
        Err(refused(status.into(), why))
    }

    /// Sends a JSON body and expects success (a 404 is an error too).
    pub(crate) async fn json(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: &Value,
    ) -> Result<Value, StoreError> {
        let reply = self
            .call(method, path, query, Some(body.to_string()), false)
            .await?;
        if reply.status == 404 {
            return Err(StoreError::Internal(format!(
                "Elasticsearch at {} answered 404 to {path}: {}",
                self.url,
                reason(&reply.body)
            )));
        }
        Ok(reply.body)
    }

    /// The `_source` of document `id` of `index` (real-time: a write is seen at once), only
    /// the fields `includes` names when given; `None` when there is no such document.
    pub(crate) async fn source(
        &self,
        index: &str,
        id: &str,
        includes: Option<&str>,
    ) -> Result<Option<Value>, StoreError> {
        let query: Vec<(&str, &str)> = includes
            .map(|fields| ("_source_includes", fields))
            .into_iter()
            .collect();
        let mut reply = self
            .call(
                Method::Get,
                &format!("/{index}/_doc/{id}"),
                &query,
                None,
                false,
            )
            .await?;
        if reply.status == 404 || reply.body.get("found").and_then(Value::as_bool) != Some(true) {
            return Ok(None);
        }
        Ok(Some(
            reply
                .body
                .get_mut("_source")
                .map_or(Value::Null, Value::take),
        ))
    }

    /// The hits of a search of `index`.
    pub(crate) async fn hits(&self, index: &str, body: &Value) -> Result<Vec<Value>, StoreError> {
        let mut page = self
            .json(Method::Post, &format!("/{index}/_search"), &[], body)
            .await?;
        Ok(match page.pointer_mut("/hits/hits").map(Value::take) {
            Some(Value::Array(hits)) => hits,
            _ => Vec::new(),
        })
    }

    /// Runs a bulk request (`lines`: NDJSON, each line ending in `\n`); the per-item results.
    pub(crate) async fn bulk(
        &self,
        lines: String,
        refresh: &str,
    ) -> Result<Vec<Value>, StoreError> {
        let reply = self
            .call(
                Method::Post,
                "/_bulk",
                &[("refresh", refresh)],
                Some(lines),
                true,
            )
            .await?;
        match reply.body.get("items").and_then(Value::as_array) {
            Some(items) if reply.status < 300 => Ok(items
                .iter()
                .map(|item| item.as_object().and_then(|o| o.values().next()).cloned())
                .map(Option::unwrap_or_default)
                .collect()),
            _ => Err(StoreError::Internal(format!(
                "Elasticsearch at {} answered {} to a bulk request: {}",
                self.url,
                reply.status,
                reason(&reply.body)
            ))),
        }
    }

    /// True when the index (or alias) exists.
    pub(crate) async fn exists(&self, index: &str) -> Result<bool, StoreError> {
        let reply = self
            .call(Method::Head, &format!("/{index}"), &[], None, false)
            .await?;
        Ok(reply.status < 300)
    }
}

/// A refusal with HTTP `status` as a store error: the server busy or failing (429, 5xx) is
/// [`StoreError::Unavailable`], worth retrying; anything else is [`StoreError::Internal`].
pub(crate) fn refused(status: u64, why: String) -> StoreError {
    if status == 429 || status >= 500 {
        StoreError::Unavailable(why)
    } else {
        StoreError::Internal(why)
    }
}

/// The `error.type` of an error answer.
pub(crate) fn error_type(body: &Value) -> Option<&str> {
    body.pointer("/error/type").and_then(Value::as_str)
}

/// What an error answer says, shortly.
pub(crate) fn reason(body: &Value) -> String {
    match (
        error_type(body),
        body.pointer("/error/reason").and_then(Value::as_str),
    ) {
        (Some(t), Some(r)) => format!("{t}: {r}"),
        (Some(t), None) => t.to_string(),
        _ => {
            let mut text = body.to_string();
            text.truncate(300);
            text
        }
    }
}
