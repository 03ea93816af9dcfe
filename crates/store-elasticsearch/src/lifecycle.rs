//! Erasure and retention in Elasticsearch: statements deleted from the query index, Ralph's
//! index (else adopted again at the next start) and the admissions index, or rewritten there;
//! the copies of their filter fields that referring statements hold (`target`) cleared or
//! rewritten too, so no index keeps an erased agent key; attachment contents no statement names
//! any more deleted; an agent's documents found and deleted.

use async_trait::async_trait;
use elasticsearch::http::Method;
use serde_json::{json, Value};
use uuid::Uuid;
use xlrs_store::group_commit::Positioned;
use xlrs_store::lifecycle::{xapi_kind, Lifecycle, Located, XAPI_KINDS};
use xlrs_store::{DocumentScope, StoreError};

use crate::client::{reason, refused};
use crate::write::{line, query_doc, update};
use crate::Elasticsearch;

/// Fails unless every bulk item succeeded or found nothing to delete.
fn check(items: Vec<Value>) -> Result<(), StoreError> {
    for item in items {
        let status = item.get("status").and_then(Value::as_u64).unwrap_or(0);
        if !(200..300).contains(&status) && status != 404 {
            let why = format!("Elasticsearch refused a removal: {}", reason(&item));
            return Err(refused(status, why));
        }
    }
    Ok(())
}

impl Elasticsearch {
    /// How many query-index documents may name attachment `sha2`: those that name it, and
    /// those written before the lists were (which may name anything).
    async fn naming(&self, sha2: &str) -> Result<u64, StoreError> {
        let body = json!({"query": {"bool": {"should": [
            {"term": {"attachments": sha2}},
            {"bool": {"must_not": {"term": {"attachments_listed": true}}}},
        ]}}});
        let reply = self
            .es
            .json(
                Method::Post,
                &format!("/{}/_count", self.query_index),
                &[],
                &body,
            )
            .await?;
        Ok(reply.get("count").and_then(Value::as_u64).unwrap_or(1))
    }

    /// Deletes the contents of `attachments` no statement names any more; how many.
    async fn remove_unreferenced(&self, attachments: &[String]) -> Result<u64, StoreError> {
        let mut lines = String::new();
        let mut removed = 0;
        for sha2 in attachments {
            if self.naming(sha2).await? == 0 {
                line(
                    &mut lines,
                    &json!({"delete": {"_index": self.attachments_index(), "_id": sha2}}),
                );
                removed += 1;
            } else {
                tracing::info!(
                    sha2,
                    "an attachment of an erased statement is kept: other statements may name it"
                );
            }
        }
        if !lines.is_empty() {
            check(self.es.bulk(lines, "true").await?)?;
        }
        Ok(removed)
    }
}

impl Elasticsearch {
    /// The documents the `filter` clauses select (at most `limit`, oldest update first).
    async fn scoped_documents(
        &self,
        filter: Value,
        limit: usize,
    ) -> Result<Vec<(DocumentScope, String)>, StoreError> {
        let body = json!({
            "size": limit,
            "_source": ["kind", "activity_id", "agent", "registration", "id"],
            "query": {"bool": {"filter": filter}},
            "sort": [{"updated": "asc"}],
        });
        let hits = self.es.hits(&self.documents_index, &body).await?;
        let text = |source: &Value, field: &str| {
            source
                .get(field)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Ok(hits
            .iter()
            .filter_map(|hit| {
                let source = hit.get("_source")?;
                let scope = DocumentScope {
                    kind: xapi_kind(source.get("kind")?.as_str()?)?,
                    activity_id: text(source, "activity_id"),
                    agent: text(source, "agent"),
                    registration: text(source, "registration"),
                };
                Some((scope, text(source, "id")))
            })
            .collect())
    }
}

#[async_trait]
impl Lifecycle for Elasticsearch {
    async fn remove_statements(
        &self,
        statements: &[Located],
        attachments: &[String],
    ) -> Result<u64, StoreError> {
        for chunk in statements.chunks(crate::CHUNK) {
            let ids: Vec<Uuid> = chunk.iter().map(|s| s.id).collect();
            // Ralph's index and the admissions first: should this stop half-way, the query
            // index still finds the statements for the next run (a statement left in Ralph's
            // index alone would be adopted again at start).
            let mut copies = String::new();
            for id in &ids {
                let admissions = self.admissions_index();
                for index in self.ralph.iter().chain([&admissions]) {
                    line(
                        &mut copies,
                        &json!({"delete": {"_index": index, "_id": id.to_string()}}),
                    );
                }
            }
            check(self.es.bulk(copies, "true").await?)?;
            let mut lines = String::new();
            for id in &ids {
                line(
                    &mut lines,
                    &json!({"delete": {"_index": self.query_index, "_id": id.to_string()}}),
                );
            }
            for referrer in self.referring(&ids).await? {
                if !ids.contains(&referrer.id) {
                    update(
                        &mut lines,
                        &self.query_index,
                        &referrer.id,
                        json!({"target": null}),
                    );
                }
            }
            check(self.es.bulk(lines, "true").await?)?;
        }
        self.remove_unreferenced(attachments).await
    }

    async fn rewrite_statements(
        &self,
        statements: &[Positioned<'_>],
        _erased: &[String],
    ) -> Result<(), StoreError> {
        for chunk in statements.chunks(crate::CHUNK) {
            let ids: Vec<Uuid> = chunk.iter().map(|p| p.statement.id).collect();
            let mut lines = String::new();
            let mut filters = std::collections::HashMap::new();
            for p in chunk {
                let body = p.body();
                let doc = query_doc(p.statement, p.stored, body.clone());
                let mut changed =
                    serde_json::to_value(&doc).map_err(|e| StoreError::Internal(e.to_string()))?;
                // Marks other statements set on it stay as they are, and so does the content
                // hash (a re-send of the statement as first sent is still the same statement).
                if let Some(map) = changed.as_object_mut() {
                    for kept in ["voided_at", "target", "content_hash"] {
                        map.remove(kept);
                    }
                }
                update(&mut lines, &self.query_index, &p.statement.id, changed);
                if let Some(ralph) = &self.ralph {
                    line(
                        &mut lines,
                        &json!({"index": {"_index": ralph, "_id": p.statement.id.to_string()}}),
                    );
                    lines.push_str(&body);
                    lines.push('\n');
                }
                filters.insert(p.statement.id, doc.filters);
            }
            for referrer in self.referring(&ids).await? {
                if let Some(target) = filters.get(&referrer.statement_ref) {
                    update(
                        &mut lines,
                        &self.query_index,
                        &referrer.id,
                        json!({ "target": target }),
                    );
                }
            }
            check(self.es.bulk(lines, "true").await?)?;
        }
        Ok(())
    }

    async fn agent_documents(
        &self,
        agents: &[String],
    ) -> Result<Vec<(DocumentScope, String)>, StoreError> {
        self.scoped_documents(
            json!([
                {"terms": {"agent": agents}},
                {"terms": {"kind": ["state", "agent_profile"]}},
            ]),
            10_000,
        )
        .await
    }

    async fn documents_before(
        &self,
        before: i64,
        limit: usize,
    ) -> Result<Vec<(DocumentScope, String)>, StoreError> {
        self.scoped_documents(
            json!([
                {"range": {"updated": {"lt": before}}},
                {"terms": {"kind": XAPI_KINDS}},
            ]),
            limit,
        )
        .await
    }

    async fn remove_documents(
        &self,
        documents: &[(DocumentScope, String)],
        // Not checked again here: a document updated between the listing and this delete goes
        // (the listing is of documents idle for the whole retention age).
        _updated_before: Option<i64>,
    ) -> Result<u64, StoreError> {
        if documents.is_empty() {
            return Ok(0);
        }
        let mut lines = String::new();
        for (scope, id) in documents {
            self.delete_line(&mut lines, scope, &scope.registration, id);
        }
        self.write(lines).await?;
        Ok(documents.len() as u64)
    }
}
