//! Documents (State, Activity Profile, Agent Profile) in MongoDB: one document per xAPI
//! document, unique by scope and id. Preconditions are checked by the server in the write
//! itself (a replace or delete that names the ETag it expects, an insert that must not find
//! one), so several xlrs processes may share the collection.

use async_trait::async_trait;
use mongodb::bson::{doc, spec::BinarySubtype, Binary, Bson, Document as Doc};

use xlrs_store::{Document, DocumentScope, DocumentStore, Precondition, StoreError};

use crate::{collect, duplicate_key, failed, Mongo};

/// The filter of one document.
pub(crate) fn key(scope: &DocumentScope, id: &str) -> Doc {
    doc! {
        "kind": scope.kind.as_str(),
        "activity_id": &scope.activity_id,
        "agent": &scope.agent,
        "registration": &scope.registration,
        "id": id,
    }
}

/// A document as stored.
fn record(scope: &DocumentScope, id: &str, document: &Document) -> Doc {
    let mut record = key(scope, id);
    record.insert("content_type", &document.content_type);
    record.insert("etag", &document.etag);
    record.insert("updated", document.updated);
    record.insert(
        "content",
        Binary {
            subtype: BinarySubtype::Generic,
            bytes: document.content.clone(),
        },
    );
    record
}

/// A concurrent write changed the document between the precondition check and the write.
fn changed() -> StoreError {
    StoreError::PreconditionFailed("the document changed while the request was handled".into())
}

impl Mongo {
    async fn current_etag(
        &self,
        scope: &DocumentScope,
        id: &str,
    ) -> Result<Option<String>, StoreError> {
        let found = self
            .documents
            .find_one(key(scope, id))
            .projection(doc! { "_id": 0, "etag": 1 })
            .await
            .map_err(failed)?;
        Ok(found.and_then(|d| d.get_str("etag").ok().map(str::to_string)))
    }
}

#[async_trait]
impl DocumentStore for Mongo {
    async fn get_document(
        &self,
        scope: &DocumentScope,
        id: &str,
    ) -> Result<Option<Document>, StoreError> {
        let found = self
            .documents
            .find_one(key(scope, id))
            .await
            .map_err(failed)?;
        Ok(found.map(|mut d| Document {
            content: match d.remove("content") {
                Some(Bson::Binary(b)) => b.bytes,
                _ => Vec::new(),
            },
            content_type: d.get_str("content_type").unwrap_or_default().to_string(),
            etag: d.get_str("etag").unwrap_or_default().to_string(),
            updated: d.get_i64("updated").unwrap_or_default(),
        }))
    }

    async fn list_documents(
        &self,
        scope: &DocumentScope,
        since: Option<i64>,
    ) -> Result<(Vec<String>, Option<i64>), StoreError> {
        let mut filter = doc! {
            "kind": scope.kind.as_str(),
            "activity_id": &scope.activity_id,
            "agent": &scope.agent,
            "registration": &scope.registration,
        };
        if let Some(since) = since {
            filter.insert("updated", doc! { "$gt": since });
        }
        let cursor = self
            .documents
            .find(filter)
            .sort(doc! { "id": 1 })
            .projection(doc! { "_id": 0, "id": 1, "updated": 1 })
            .await
            .map_err(failed)?;
        let docs = collect(cursor).await?;
        let newest = docs.iter().filter_map(|d| d.get_i64("updated").ok()).max();
        let ids = docs
            .iter()
            .filter_map(|d| d.get_str("id").ok().map(str::to_string))
            .collect();
        Ok((ids, newest))
    }

    async fn put_document(
        &self,
        scope: &DocumentScope,
        id: &str,
        document: Document,
        precondition: Precondition,
    ) -> Result<(), StoreError> {
        let documents = &self.documents;
        let record = record(scope, id, &document);
        if precondition == Precondition::None {
            documents
                .replace_one(key(scope, id), record)
                .upsert(true)
                .await
                .map_err(failed)?;
            return Ok(());
        }
        let current = self.current_etag(scope, id).await?;
        precondition.check(current.as_deref())?;
        match current {
            // Replaced only if still the version the precondition was checked against.
            Some(etag) => {
                let mut expected = key(scope, id);
                expected.insert("etag", etag);
                let replaced = documents
                    .replace_one(expected, record)
                    .await
                    .map_err(failed)?;
                if replaced.matched_count == 0 {
                    return Err(changed());
                }
            }
            // Inserted only if still absent: the unique index refuses a concurrent twin.
            None => {
                if let Err(e) = documents.insert_one(record).await {
                    return Err(if duplicate_key(&e) {
                        changed()
                    } else {
                        failed(e)
                    });
                }
            }
        }
        Ok(())
    }

    async fn delete_document(
        &self,
        scope: &DocumentScope,
        id: &str,
        precondition: Precondition,
    ) -> Result<bool, StoreError> {
        let current = self.current_etag(scope, id).await?;
        precondition.check(current.as_deref())?;
        let Some(etag) = current else {
            return Ok(false);
        };
        let mut expected = key(scope, id);
        if precondition != Precondition::None {
            expected.insert("etag", etag);
        }
        let deleted = self.documents.delete_one(expected).await.map_err(failed)?;
        if deleted.deleted_count == 0 && precondition != Precondition::None {
            return Err(changed());
        }
        Ok(deleted.deleted_count > 0)
    }

    async fn delete_documents(&self, scope: &DocumentScope) -> Result<(), StoreError> {
        let mut filter = doc! {
            "kind": scope.kind.as_str(),
            "activity_id": &scope.activity_id,
            "agent": &scope.agent,
        };
        // For State without a registration: the documents of every registration.
        if !scope.registration.is_empty() {
            filter.insert("registration", &scope.registration);
        }
        self.documents.delete_many(filter).await.map_err(failed)?;
        Ok(())
    }
}
