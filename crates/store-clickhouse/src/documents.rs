//! Documents (State, Activity Profile, Agent Profile) in ClickHouse. One row per write in a
//! ReplacingMergeTree keyed by the document's scope and id: the row with the highest version
//! is the document, a row marked `deleted` its absence. Writes are serialized in the process,
//! so a precondition is checked and acted on at once; reads use `FINAL` (documents are looked
//! up by key, never scanned on a hot path).

use async_trait::async_trait;
use clickhouse::Row;
use serde::{Deserialize, Serialize};

use xlrs_store::positions::now_micros;
use xlrs_store::{Document, DocumentScope, DocumentStore, Precondition, StoreError};

use crate::{failed, ClickHouse};

/// The documents table.
pub(crate) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS xlrs_documents (
    kind LowCardinality(String),
    activity_id String,
    agent String,
    registration String,
    id String,
    version Int64,
    deleted UInt8,
    content_type String,
    etag String,
    updated Int64,
    content String
) ENGINE = ReplacingMergeTree(version) ORDER BY (kind, activity_id, agent, registration, id)";

const KEY: &str = "kind = {kind:String} AND activity_id = {activity:String} \
                   AND agent = {agent:String} AND registration = {registration:String}";

/// One write of a document.
#[derive(Row, Serialize)]
struct DocumentRow<'a> {
    kind: &'a str,
    activity_id: &'a str,
    agent: &'a str,
    registration: &'a str,
    id: &'a str,
    version: i64,
    deleted: u8,
    content_type: &'a str,
    etag: &'a str,
    updated: i64,
    #[serde(with = "serde_bytes")]
    content: &'a [u8],
}

/// A document as read.
#[derive(Row, Deserialize)]
struct Found {
    content_type: String,
    etag: String,
    updated: i64,
    #[serde(with = "serde_bytes")]
    content: Vec<u8>,
}

/// A listed document.
#[derive(Row, Deserialize)]
struct Listed {
    id: String,
    updated: i64,
}

fn scoped(query: clickhouse::query::Query, scope: &DocumentScope) -> clickhouse::query::Query {
    query
        .param("kind", scope.kind.as_str())
        .param("activity", &scope.activity_id)
        .param("agent", &scope.agent)
        .param("registration", &scope.registration)
}

impl ClickHouse {
    async fn find(&self, scope: &DocumentScope, id: &str) -> Result<Option<Found>, StoreError> {
        let query = self.client.query(&format!(
            "SELECT content_type, etag, updated, content FROM xlrs_documents FINAL
             WHERE {KEY} AND id = {{id:String}} AND deleted = 0 LIMIT 1"
        ));
        scoped(query, scope)
            .param("id", id)
            .fetch_optional()
            .await
            .map_err(failed)
    }

    /// Writes rows in one insert, each with the next version: `(registration, id, document)`
    /// of `scope`'s kind, activity and agent; no document writes a tombstone.
    async fn write_documents(
        &self,
        last_version: &mut i64,
        scope: &DocumentScope,
        rows: &[(&str, &str, Option<&Document>)],
    ) -> Result<(), StoreError> {
        let mut insert = self
            .client
            .insert::<DocumentRow>("xlrs_documents")
            .await
            .map_err(failed)?;
        for &(registration, id, document) in rows {
            *last_version = (*last_version + 1).max(now_micros());
            insert
                .write(&DocumentRow {
                    kind: scope.kind.as_str(),
                    activity_id: &scope.activity_id,
                    agent: &scope.agent,
                    registration,
                    id,
                    version: *last_version,
                    deleted: u8::from(document.is_none()),
                    content_type: document.map_or("", |d| d.content_type.as_str()),
                    etag: document.map_or("", |d| d.etag.as_str()),
                    updated: document.map_or(0, |d| d.updated),
                    content: document.map_or(&[], |d| d.content.as_slice()),
                })
                .await
                .map_err(failed)?;
        }
        insert.end().await.map_err(failed)
    }
}

#[async_trait]
impl DocumentStore for ClickHouse {
    async fn get_document(
        &self,
        scope: &DocumentScope,
        id: &str,
    ) -> Result<Option<Document>, StoreError> {
        Ok(self.find(scope, id).await?.map(|f| Document {
            content: f.content,
            content_type: f.content_type,
            etag: f.etag,
            updated: f.updated,
        }))
    }

    async fn list_documents(
        &self,
        scope: &DocumentScope,
        since: Option<i64>,
    ) -> Result<(Vec<String>, Option<i64>), StoreError> {
        let query = self.client.query(&format!(
            "SELECT id, updated FROM xlrs_documents FINAL
             WHERE {KEY} AND deleted = 0 AND updated > {{since:Int64}} ORDER BY id"
        ));
        let rows: Vec<Listed> = scoped(query, scope)
            .param("since", since.unwrap_or(i64::MIN))
            .fetch_all()
            .await
            .map_err(failed)?;
        let newest = rows.iter().map(|r| r.updated).max();
        Ok((rows.into_iter().map(|r| r.id).collect(), newest))
    }

    async fn put_document(
        &self,
        scope: &DocumentScope,
        id: &str,
        document: Document,
        precondition: Precondition,
    ) -> Result<(), StoreError> {
        let mut version = self.documents.lock().await;
        let current = self.find(scope, id).await?;
        precondition.check(current.as_ref().map(|f| f.etag.as_str()))?;
        self.write_documents(
            &mut version,
            scope,
            &[(&scope.registration, id, Some(&document))],
        )
        .await
    }

    async fn delete_document(
        &self,
        scope: &DocumentScope,
        id: &str,
        precondition: Precondition,
    ) -> Result<bool, StoreError> {
        let mut version = self.documents.lock().await;
        let current = self.find(scope, id).await?;
        precondition.check(current.as_ref().map(|f| f.etag.as_str()))?;
        if current.is_none() {
            return Ok(false);
        }
        self.write_documents(&mut version, scope, &[(&scope.registration, id, None)])
            .await?;
        Ok(true)
    }

    async fn delete_documents(&self, scope: &DocumentScope) -> Result<(), StoreError> {
        let mut version = self.documents.lock().await;
        // For State without a registration: the documents of every registration.
        let any_registration = scope.registration.is_empty();
        let query = self.client.query(
            "SELECT registration, id FROM xlrs_documents FINAL
             WHERE kind = {kind:String} AND activity_id = {activity:String}
               AND agent = {agent:String} AND deleted = 0
               AND ({any:UInt8} = 1 OR registration = {registration:String})",
        );
        #[derive(Row, Deserialize)]
        struct Key {
            registration: String,
            id: String,
        }
        let keys: Vec<Key> = scoped(query, scope)
            .param("any", u8::from(any_registration))
            .fetch_all()
            .await
            .map_err(failed)?;
        let rows: Vec<(&str, &str, Option<&Document>)> = keys
            .iter()
            .map(|k| (k.registration.as_str(), k.id.as_str(), None))
            .collect();
        if !rows.is_empty() {
            self.write_documents(&mut version, scope, &rows).await?;
        }
        Ok(())
    }
}
