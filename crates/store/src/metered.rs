//! Store failures counted where they come out of the store, for `/metrics`: every store is
//! wrapped once when the server opens it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;
use xlrs_xapi::query::StatementQuery;
use xlrs_xapi::statement::PreparedStatement;

use crate::{
    AdmissionLog, AdmissionRecord, Attachment, ContentStore, Definition, Document, DocumentScope,
    DocumentStore, Page, Precondition, StatementStore, StoreError, StoredStatement, Stores,
};

/// Store failures of the kinds that are the server's problem, since start.
#[derive(Debug, Default)]
pub struct ErrorCounts {
    /// [`StoreError::Unavailable`]: the database was out of reach.
    pub unavailable: AtomicU64,
    /// [`StoreError::Internal`]: anything else that failed.
    pub internal: AtomicU64,
}

impl ErrorCounts {
    /// Counts `outcome` when it is such a failure, and passes it on.
    fn count<T>(&self, outcome: Result<T, StoreError>) -> Result<T, StoreError> {
        match &outcome {
            Err(StoreError::Unavailable(_)) => {
                self.unavailable.fetch_add(1, Ordering::Relaxed);
            }
            Err(StoreError::Internal(_)) => {
                self.internal.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
        outcome
    }
}

/// A store whose failures are counted in `counts`.
pub struct Metered<S: ?Sized> {
    inner: Arc<S>,
    counts: Arc<ErrorCounts>,
}

impl Stores {
    /// The same stores, their failures counted in `counts`.
    pub fn metered(self, counts: &Arc<ErrorCounts>) -> Stores {
        Stores {
            statements: Arc::new(Metered {
                inner: self.statements,
                counts: counts.clone(),
            }),
            documents: Arc::new(Metered {
                inner: self.documents,
                counts: counts.clone(),
            }),
            content: Arc::new(Metered {
                inner: self.content,
                counts: counts.clone(),
            }),
            admissions: Arc::new(Metered {
                inner: self.admissions,
                counts: counts.clone(),
            }),
            lifecycle: self.lifecycle,
            gauges: self.gauges,
        }
    }
}

#[async_trait]
impl StatementStore for Metered<dyn StatementStore> {
    async fn insert(
        &self,
        batch: Vec<PreparedStatement>,
        attachments: Vec<Attachment>,
    ) -> Result<(), StoreError> {
        self.counts
            .count(self.inner.insert(batch, attachments).await)
    }

    async fn get(&self, id: Uuid) -> Result<Option<StoredStatement>, StoreError> {
        self.counts.count(self.inner.get(id).await)
    }

    async fn query(&self, query: &StatementQuery) -> Result<Page, StoreError> {
        self.counts.count(self.inner.query(query).await)
    }

    async fn referring_to(
        &self,
        target: Uuid,
        limit: usize,
    ) -> Result<Option<Vec<StoredStatement>>, StoreError> {
        self.counts
            .count(self.inner.referring_to(target, limit).await)
    }

    async fn consistent_through(&self) -> Result<i64, StoreError> {
        self.counts.count(self.inner.consistent_through().await)
    }
}

#[async_trait]
impl ContentStore for Metered<dyn ContentStore> {
    async fn keep_attachments(&self, attachments: Vec<Attachment>) -> Result<(), StoreError> {
        self.counts
            .count(self.inner.keep_attachments(attachments).await)
    }

    async fn keep_definitions(&self, definitions: Vec<Definition>) -> Result<(), StoreError> {
        self.counts
            .count(self.inner.keep_definitions(definitions).await)
    }

    async fn attachments(&self, sha2s: &[String]) -> Result<Vec<Attachment>, StoreError> {
        self.counts.count(self.inner.attachments(sha2s).await)
    }

    async fn activity_definition(&self, id: &str) -> Result<Option<Value>, StoreError> {
        self.counts.count(self.inner.activity_definition(id).await)
    }
}

#[async_trait]
impl AdmissionLog for Metered<dyn AdmissionLog> {
    async fn keep_admissions(&self, records: Vec<AdmissionRecord>) -> Result<(), StoreError> {
        self.counts.count(self.inner.keep_admissions(records).await)
    }

    async fn admissions(
        &self,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AdmissionRecord>, StoreError> {
        self.counts.count(self.inner.admissions(after, limit).await)
    }
}

#[async_trait]
impl DocumentStore for Metered<dyn DocumentStore> {
    async fn get_document(
        &self,
        scope: &DocumentScope,
        id: &str,
    ) -> Result<Option<Document>, StoreError> {
        self.counts.count(self.inner.get_document(scope, id).await)
    }

    async fn list_documents(
        &self,
        scope: &DocumentScope,
        since: Option<i64>,
    ) -> Result<(Vec<String>, Option<i64>), StoreError> {
        self.counts
            .count(self.inner.list_documents(scope, since).await)
    }

    async fn put_document(
        &self,
        scope: &DocumentScope,
        id: &str,
        document: Document,
        precondition: Precondition,
    ) -> Result<(), StoreError> {
        self.counts.count(
            self.inner
                .put_document(scope, id, document, precondition)
                .await,
        )
    }

    async fn delete_document(
        &self,
        scope: &DocumentScope,
        id: &str,
        precondition: Precondition,
    ) -> Result<bool, StoreError> {
        self.counts
            .count(self.inner.delete_document(scope, id, precondition).await)
    }

    async fn delete_documents(&self, scope: &DocumentScope) -> Result<(), StoreError> {
        self.counts.count(self.inner.delete_documents(scope).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_servers_own_failures_are_counted() {
        let counts = ErrorCounts::default();
        let _ = counts.count::<()>(Err(StoreError::Unavailable("down".into())));
        let _ = counts.count::<()>(Err(StoreError::Internal("broken".into())));
        let _ = counts.count::<()>(Err(StoreError::Conflict(Uuid::nil())));
        let _ = counts.count::<()>(Err(StoreError::PreconditionFailed("etag".into())));
        let _ = counts.count(Ok(()));
        assert_eq!(counts.unavailable.load(Ordering::Relaxed), 1);
        assert_eq!(counts.internal.load(Ordering::Relaxed), 1);
    }
}
