//! Documents (State, Activity Profile, Agent Profile) in an Elasticsearch index: one document
//! per xAPI document, `_id` a hash of its scope and id, the content base64 in a `binary` field.
//! A conditional write is acted on by Elasticsearch itself only if the document is still what
//! the condition was checked against: `create` where there was none, `if_seq_no` /
//! `if_primary_term` of the version read where there was one. So If-Match, If-None-Match and
//! merges hold across every process sharing the index. Writes use `refresh=wait_for`, so a
//! listing after a write sees it (single reads are real-time).

use base64::Engine;
use serde_json::{json, Value};

use xlrs_store::{Document, DocumentScope, DocumentStore, Precondition, StoreError};

use elasticsearch::http::Method;

use crate::client::{reason, refused};
use crate::Elasticsearch;

/// A conditional write found the document changed since it was read.
fn changed() -> StoreError {
    StoreError::PreconditionFailed("the document changed while the request was handled".into())
}

/// Where a stored document is in Elasticsearch's history: a write conditioned on it happens
/// only if nobody wrote the document since.
#[derive(Debug, Clone, Copy)]
struct Version {
    seq_no: i64,
    primary_term: i64,
}

/// How a write is conditioned.
enum Condition {
    /// None: the write happens whatever is stored.
    Always,
    /// Only if there is still no document.
    Absent,
    /// Only if the document is still at this version.
    At(Version),
}

impl Condition {
    /// The condition that keeps `precondition` true up to the write, given what was read.
    fn of(precondition: &Precondition, read: Option<Version>) -> Condition {
        match (precondition, read) {
            (Precondition::None, _) => Condition::Always,
            (_, None) => Condition::Absent,
            (_, Some(version)) => Condition::At(version),
        }
    }

    /// The bulk action line of a write of `op` (`index` or `delete`) under this condition.
    fn action(&self, op: &str, index: &str, id: &str) -> Value {
        match self {
            Self::Always => json!({op: {"_index": index, "_id": id}}),
            Self::Absent if op == "index" => json!({"create": {"_index": index, "_id": id}}),
            Self::Absent => json!({op: {"_index": index, "_id": id}}),
            Self::At(v) => json!({op: {
                "_index": index, "_id": id,
                "if_seq_no": v.seq_no, "if_primary_term": v.primary_term,
            }}),
        }
    }
}

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
        Ok(self.find_versioned(scope, id).await?.map(|(d, _)| d))
    }

    /// A document with the version it was read at (real-time).
    async fn find_versioned(
        &self,
        scope: &DocumentScope,
        id: &str,
    ) -> Result<Option<(Document, Version)>, StoreError> {
        self.ready().await?;
        let path = format!(
            "/{}/_doc/{}",
            self.documents_index,
            scope.hashed_key(&scope.registration, id)
        );
        let reply = self.es.call(Method::Get, &path, &[], None, false).await?;
        if reply.status == 404 || reply.body.get("found").and_then(Value::as_bool) != Some(true) {
            return Ok(None);
        }
        let number = |field: &str| reply.body.get(field).and_then(Value::as_i64).unwrap_or(0);
        let version = Version {
            seq_no: number("_seq_no"),
            primary_term: number("_primary_term"),
        };
        let source = reply.body.get("_source").cloned().unwrap_or_default();
        let text = |field: &str| text(&source, field);
        let content = base64::engine::general_purpose::STANDARD
            .decode(text("content"))
            .map_err(|e| StoreError::Internal(format!("a stored document is not base64: {e}")))?;
        let document = Document {
            content,
            content_type: text("content_type"),
            etag: text("etag"),
            updated: source.get("updated").and_then(Value::as_i64).unwrap_or(0),
        };
        Ok(Some((document, version)))
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

    /// Runs bulk items on the documents index; any failed item fails the call, a version
    /// conflict (the document changed since it was read) as a failed precondition.
    pub(crate) async fn write(&self, lines: String) -> Result<(), StoreError> {
        for item in self.es.bulk(lines, "wait_for").await? {
            let status = item.get("status").and_then(Value::as_u64).unwrap_or(0);
            if status == 409 {
                return Err(changed());
            }
            if !(200..300).contains(&status) && status != 404 {
                let why = format!("Elasticsearch refused a document write: {}", reason(&item));
                return Err(refused(status, why));
            }
        }
        Ok(())
    }

    pub(crate) fn delete_line(
        &self,
        lines: &mut String,
        scope: &DocumentScope,
        registration: &str,
        id: &str,
    ) {
        let id = scope.hashed_key(registration, id);
        lines.push_str(
            &Condition::Always
                .action("delete", &self.documents_index, &id)
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
        let read = match precondition {
            Precondition::None => None,
            _ => self.find_versioned(scope, id).await?,
        };
        precondition.check(read.as_ref().map(|(d, _)| d.etag.as_str()))?;
        let condition = Condition::of(&precondition, read.map(|(_, v)| v));
        let mut lines = condition
            .action(
                "index",
                &self.documents_index,
                &scope.hashed_key(&scope.registration, id),
            )
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
        let read = self.find_versioned(scope, id).await?;
        precondition.check(read.as_ref().map(|(d, _)| d.etag.as_str()))?;
        let Some((_, version)) = read else {
            return Ok(false);
        };
        // Deleted only as read: a document written meanwhile fails a condition, and without
        // one the delete is tried again on what is there now.
        let line = Condition::At(version).action(
            "delete",
            &self.documents_index,
            &scope.hashed_key(&scope.registration, id),
        );
        match self.write(format!("{line}\n")).await {
            Err(StoreError::PreconditionFailed(_)) if precondition == Precondition::None => {
                self.delete_document(scope, id, precondition).await
            }
            outcome => outcome.map(|()| true),
        }
    }

    async fn delete_documents(&self, scope: &DocumentScope) -> Result<(), StoreError> {
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
