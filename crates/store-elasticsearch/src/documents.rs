//! Documents (State, Activity Profile, Agent Profile) in an Elasticsearch index: one document
//! per xAPI document, `_id` a hash of its scope and id, the content base64 in a `binary` field.
//! Writes are serialized in the process, so a precondition is checked and acted on at once; they
//! use `refresh=wait_for`, so a listing after a write sees it (single reads are real-time).

use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use xlrs_store::{Document, DocumentScope, DocumentStore, Precondition, StoreError};

use crate::client::reason;
use crate::Elasticsearch;

/// Documents listed or deleted per request.
const CHUNK: usize = 1000;

/// The documents index.
pub(crate) fn mapping() -> Value {
    json!({"mappings": {
        "dynamic": "strict",
        "properties": {
            "kind": {"type": "keyword"},
            "activity_id": {"type": "keyword"},
            "agent": {"type": "keyword"},
            "registration": {"type": "keyword"},
            "id": {"type": "keyword"},
            "content_type": {"type": "keyword", "index": false},
            "etag": {"type": "keyword", "index": false},
            "updated": {"type": "long"},
            "content": {"type": "binary"},
        },
    }})
}

/// The `_id` of a document: its scope and id can be longer than an `_id` may be (512 bytes).
fn doc_id(scope: &DocumentScope, registration: &str, id: &str) -> String {
    let mut hash = Sha256::new();
    for part in [
        scope.kind.as_str(),
        &scope.activity_id,
        &scope.agent,
        registration,
        id,
    ] {
        hash.update(part.len().to_le_bytes());
        hash.update(part.as_bytes());
    }
    hex::encode(hash.finalize())
}

/// A text field of a document's source ("" when missing).
fn text(source: &Value, field: &str) -> String {
    source
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Term conditions selecting a scope's documents (`registration: None`: any registration).
fn scope_terms(scope: &DocumentScope, registration: Option<&str>) -> Vec<Value> {
    let mut terms = vec![
        json!({"term": {"kind": scope.kind.as_str()}}),
        json!({"term": {"activity_id": scope.activity_id}}),
        json!({"term": {"agent": scope.agent}}),
    ];
    if let Some(registration) = registration {
        terms.push(json!({"term": {"registration": registration}}));
    }
    terms
}

impl Elasticsearch {
    async fn find(&self, scope: &DocumentScope, id: &str) -> Result<Option<Document>, StoreError> {
        let inner = self;
        inner.ready().await?;
        let Some(source) = inner
            .es
            .source(
                &inner.documents_index,
                &doc_id(scope, &scope.registration, id),
                None,
            )
            .await?
        else {
            return Ok(None);
        };
        let text = |field: &str| text(&source, field);
        let content = base64::engine::general_purpose::STANDARD
            .decode(text("content"))
            .map_err(|e| StoreError::Internal(format!("a stored document is not base64: {e}")))?;
        Ok(Some(Document {
            content,
            content_type: text("content_type"),
            etag: text("etag"),
            updated: source.get("updated").and_then(Value::as_i64).unwrap_or(0),
        }))
    }

    /// `(registration, id)` of a scope's documents updated after `since`, by id, with `updated`.
    async fn listed(
        &self,
        scope: &DocumentScope,
        registration: Option<&str>,
        since: Option<i64>,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        let inner = self;
        inner.ready().await?;
        let mut filter = scope_terms(scope, registration);
        if let Some(since) = since {
            filter.push(json!({"range": {"updated": {"gt": since}}}));
        }
        let mut out = Vec::new();
        let mut after: Option<Value> = None;
        loop {
            let mut body = json!({
                "size": CHUNK,
                "_source": ["registration", "id", "updated"],
                "query": {"bool": {"filter": filter}},
                "sort": [{"id": "asc"}, {"registration": "asc"}],
            });
            if let Some(after) = after.take() {
                body["search_after"] = after;
            }
            let hits = inner.es.hits(&inner.documents_index, &body).await?;
            for hit in &hits {
                let source = hit.get("_source").unwrap_or(&Value::Null);
                let text = |field: &str| text(source, field);
                out.push((
                    text("registration"),
                    text("id"),
                    source.get("updated").and_then(Value::as_i64).unwrap_or(0),
                ));
                after = hit.get("sort").cloned();
            }
            if hits.len() < CHUNK {
                return Ok(out);
            }
        }
    }

    /// Runs bulk items on the documents index; any failed item fails the call.
    async fn write(&self, lines: String) -> Result<(), StoreError> {
        for item in self.es.bulk(lines, "wait_for").await? {
            let status = item.get("status").and_then(Value::as_u64).unwrap_or(0);
            if !(200..300).contains(&status) && status != 404 {
                let why = format!("Elasticsearch refused a document write: {}", reason(&item));
                return Err(if status == 429 || status >= 500 {
                    StoreError::Unavailable(why)
                } else {
                    StoreError::Internal(why)
                });
            }
        }
        Ok(())
    }

    fn delete_line(&self, lines: &mut String, scope: &DocumentScope, registration: &str, id: &str) {
        lines.push_str(
            &json!({"delete": {"_index": self.documents_index, "_id": doc_id(scope, registration, id)}})
                .to_string(),
        );
        lines.push('\n');
    }
}

#[async_trait::async_trait]
impl DocumentStore for Elasticsearch {
    async fn get_document(
        &self,
        scope: &DocumentScope,
        id: &str,
    ) -> Result<Option<Document>, StoreError> {
        self.find(scope, id).await
    }

    async fn list_documents(
        &self,
        scope: &DocumentScope,
        since: Option<i64>,
    ) -> Result<(Vec<String>, Option<i64>), StoreError> {
        let rows = self.listed(scope, Some(&scope.registration), since).await?;
        let newest = rows.iter().map(|r| r.2).max();
        Ok((rows.into_iter().map(|r| r.1).collect(), newest))
    }

    async fn put_document(
        &self,
        scope: &DocumentScope,
        id: &str,
        document: Document,
        precondition: Precondition,
    ) -> Result<(), StoreError> {
        let _writing = self.documents.lock().await;
        let current = self.find(scope, id).await?;
        precondition.check(current.as_ref().map(|d| d.etag.as_str()))?;
        let mut lines = json!({"index": {
            "_index": self.documents_index,
            "_id": doc_id(scope, &scope.registration, id),
        }})
        .to_string();
        lines.push('\n');
        lines.push_str(
            &json!({
                "kind": scope.kind.as_str(),
                "activity_id": scope.activity_id,
                "agent": scope.agent,
                "registration": scope.registration,
                "id": id,
                "content_type": document.content_type,
                "etag": document.etag,
                "updated": document.updated,
                "content": base64::engine::general_purpose::STANDARD.encode(&document.content),
            })
            .to_string(),
        );
        lines.push('\n');
        self.write(lines).await
    }

    async fn delete_document(
        &self,
        scope: &DocumentScope,
        id: &str,
        precondition: Precondition,
    ) -> Result<bool, StoreError> {
        let _writing = self.documents.lock().await;
        let current = self.find(scope, id).await?;
        precondition.check(current.as_ref().map(|d| d.etag.as_str()))?;
        if current.is_none() {
            return Ok(false);
        }
        let mut lines = String::new();
        self.delete_line(&mut lines, scope, &scope.registration, id);
        self.write(lines).await?;
        Ok(true)
    }

    async fn delete_documents(&self, scope: &DocumentScope) -> Result<(), StoreError> {
        let _writing = self.documents.lock().await;
        // For State without a registration: the documents of every registration.
        let registration = (!scope.registration.is_empty()).then_some(scope.registration.as_str());
        let rows = self.listed(scope, registration, None).await?;
        for chunk in rows.chunks(CHUNK) {
            let mut lines = String::new();
            for (registration, id, _) in chunk {
                self.delete_line(&mut lines, scope, registration, id);
            }
            self.write(lines).await?;
        }
        Ok(())
    }
}
