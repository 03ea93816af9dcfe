//! Attachments and canonical activity definitions in two indices of their own, so every process
//! over the cluster sees them. Attachments: `_id` the SHA-256, the content base64 in a `binary`
//! field, written with `create` (a repeat is a conflict, ignored) and read with `_mget`
//! (real-time). Definitions are contributions (`xlrs_store::definitions`): `_id` the
//! contribution key, written with the position as an external version, so the document keeps
//! the last position it was stored at whichever process writes last.

use async_trait::async_trait;
use base64::Engine;
use elasticsearch::http::Method;
use serde_json::{json, Value};
use xlrs_store::definitions::{canonical_of_texts, last_occurrences};
use xlrs_store::{Attachment, ContentStore, Definition, StoreError};

use crate::client::reason;
use crate::Elasticsearch;

/// The most contributions to one activity's definition read back.
const MAX_CONTRIBUTIONS: usize = 10_000;

/// The attachments index.
pub(crate) fn attachments_mapping() -> Value {
    json!({"mappings": {
        "dynamic": "strict",
        "properties": {
            "content_type": {"type": "keyword", "index": false},
            "content": {"type": "binary"},
        },
    }})
}

/// The definitions index.
pub(crate) fn definitions_mapping() -> Value {
    json!({"mappings": {
        "dynamic": "strict",
        "properties": {
            "activity": {"type": "keyword"},
            "stored": {"type": "long"},
            "definition": {"type": "text", "index": false},
        },
    }})
}

/// Fails unless every item of a bulk answer succeeded or met a version conflict (the document
/// already there, or there at a later position: both mean nothing is left to write).
fn check_items(items: &[Value]) -> Result<(), StoreError> {
    for item in items {
        let status = item.get("status").and_then(Value::as_u64).unwrap_or(500);
        if status >= 300 && status != 409 {
            return Err(StoreError::Internal(format!(
                "Elasticsearch refused a write of {}: {}",
                item.get("_id").and_then(Value::as_str).unwrap_or("?"),
                reason(item)
            )));
        }
    }
    Ok(())
}

impl Elasticsearch {
    /// The attachments index.
    pub(crate) fn attachments_index(&self) -> String {
        format!("{}_attachments", self.query_index)
    }

    /// The definitions index.
    pub(crate) fn definitions_index(&self) -> String {
        format!("{}_definitions", self.query_index)
    }
}

#[async_trait]
impl ContentStore for Elasticsearch {
    async fn keep_attachments(&self, attachments: Vec<Attachment>) -> Result<(), StoreError> {
        if attachments.is_empty() {
            return Ok(());
        }
        self.ready().await?;
        let index = self.attachments_index();
        let mut lines = String::new();
        for a in &attachments {
            lines.push_str(&json!({"create": {"_index": index, "_id": a.sha2}}).to_string());
            lines.push('\n');
            let content = base64::engine::general_purpose::STANDARD.encode(&a.content);
            lines
                .push_str(&json!({"content_type": a.content_type, "content": content}).to_string());
            lines.push('\n');
        }
        // Read back by `_mget`, which is real-time: no refresh needed.
        check_items(&self.es.bulk(lines, "false").await?)
    }

    async fn keep_definitions(&self, definitions: Vec<Definition>) -> Result<(), StoreError> {
        let rows = last_occurrences(definitions);
        if rows.is_empty() {
            return Ok(());
        }
        self.ready().await?;
        let index = self.definitions_index();
        let mut lines = String::new();
        for (key, d) in rows {
            lines.push_str(
                &json!({"index": {
                    "_index": index, "_id": key,
                    "version": d.stored, "version_type": "external",
                }})
                .to_string(),
            );
            lines.push('\n');
            lines.push_str(
                &json!({
                    "activity": d.activity,
                    "stored": d.stored,
                    "definition": d.definition.to_string(),
                })
                .to_string(),
            );
            lines.push('\n');
        }
        // Read by a search: refreshed now, so the next GET of the activity sees it.
        check_items(&self.es.bulk(lines, "true").await?)
    }

    async fn attachments(&self, sha2s: &[String]) -> Result<Vec<Attachment>, StoreError> {
        if sha2s.is_empty() {
            return Ok(Vec::new());
        }
        self.ready().await?;
        let reply = self
            .es
            .json(
                Method::Post,
                &format!("/{}/_mget", self.attachments_index()),
                &[],
                &json!({"ids": sha2s}),
            )
            .await?;
        let docs = reply
            .get("docs")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut found = Vec::new();
        for doc in docs {
            if doc.get("found").and_then(Value::as_bool) != Some(true) {
                continue;
            }
            let sha2 = doc.get("_id").and_then(Value::as_str).unwrap_or_default();
            let source = doc.get("_source").cloned().unwrap_or_default();
            let content = base64::engine::general_purpose::STANDARD
                .decode(source.get("content").and_then(Value::as_str).unwrap_or(""))
                .map_err(|e| StoreError::Internal(format!("attachment {sha2}: {e}")))?;
            found.push(Attachment {
                sha2: sha2.to_string(),
                content_type: source
                    .get("content_type")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                content,
            });
        }
        Ok(found)
    }

    async fn activity_definition(&self, id: &str) -> Result<Option<Value>, StoreError> {
        self.ready().await?;
        let hits = self
            .es
            .hits(
                &self.definitions_index(),
                &json!({
                    "size": MAX_CONTRIBUTIONS,
                    "query": {"term": {"activity": id}},
                    "sort": [{"stored": "asc"}],
                }),
            )
            .await?;
        canonical_of_texts(hits.iter().map(|hit| {
            hit.pointer("/_source/definition")
                .and_then(Value::as_str)
                .unwrap_or("null")
        }))
    }
}
