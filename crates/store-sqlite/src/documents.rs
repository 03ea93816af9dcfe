//! Documents (State, Activity Profile, Agent Profile) in the SQLite store. Document writes are
//! rare next to statements: each runs in its own immediate transaction on a dedicated
//! connection, the busy timeout ordering it with the statement writer.

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use xlrs_store::{Document, DocumentScope, DocumentStore, Precondition, StoreError};

use crate::{internal, SqliteStore};

const KEY: &str = "kind = ?1 AND activity_id = ?2 AND agent = ?3 AND registration = ?4 AND id = ?5";

fn current_etag(
    conn: &Connection,
    scope: &DocumentScope,
    id: &str,
) -> Result<Option<String>, StoreError> {
    conn.query_row(
        &format!("SELECT etag FROM documents WHERE {KEY}"),
        params![
            scope.kind.as_str(),
            scope.activity_id,
            scope.agent,
            scope.registration,
            id
        ],
        |r| r.get(0),
    )
    .optional()
    .map_err(internal)
}

#[async_trait]
impl DocumentStore for SqliteStore {
    async fn get_document(
        &self,
        scope: &DocumentScope,
        id: &str,
    ) -> Result<Option<Document>, StoreError> {
        let (scope, id) = (scope.clone(), id.to_string());
        self.read(move |conn| {
            conn.query_row(
                &format!("SELECT content, content_type, etag, updated FROM documents WHERE {KEY}"),
                params![
                    scope.kind.as_str(),
                    scope.activity_id,
                    scope.agent,
                    scope.registration,
                    id
                ],
                |r| {
                    Ok(Document {
                        content: r.get(0)?,
                        content_type: r.get(1)?,
                        etag: r.get(2)?,
                        updated: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(internal)
        })
        .await
    }

    async fn list_documents(
        &self,
        scope: &DocumentScope,
        since: Option<i64>,
    ) -> Result<(Vec<String>, Option<i64>), StoreError> {
        let scope = scope.clone();
        self.read(move |conn| {
            let mut st = conn
                .prepare_cached(
                    "SELECT id, updated FROM documents WHERE kind = ?1 AND activity_id = ?2
                     AND agent = ?3 AND registration = ?4 AND updated > ?5 ORDER BY id",
                )
                .map_err(internal)?;
            let rows = st
                .query_map(
                    params![
                        scope.kind.as_str(),
                        scope.activity_id,
                        scope.agent,
                        scope.registration,
                        since.unwrap_or(i64::MIN)
                    ],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
                )
                .map_err(internal)?;
            let rows: Vec<(String, i64)> = rows.collect::<Result<_, _>>().map_err(internal)?;
            let newest = rows.iter().map(|r| r.1).max();
            Ok((rows.into_iter().map(|r| r.0).collect(), newest))
        })
        .await
    }

    async fn put_document(
        &self,
        scope: &DocumentScope,
        id: &str,
        document: Document,
        precondition: Precondition,
    ) -> Result<(), StoreError> {
        let (scope, id) = (scope.clone(), id.to_string());
        self.write_aside(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(internal)?;
            precondition.check(current_etag(&tx, &scope, &id)?.as_deref())?;
            tx.execute(
                "INSERT OR REPLACE INTO documents (kind, activity_id, agent, registration, id,
                 content_type, etag, updated, content) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    scope.kind.as_str(),
                    scope.activity_id,
                    scope.agent,
                    scope.registration,
                    id,
                    document.content_type,
                    document.etag,
                    document.updated,
                    document.content
                ],
            )
            .map_err(internal)?;
            tx.commit().map_err(internal)
        })
        .await
    }

    async fn delete_document(
        &self,
        scope: &DocumentScope,
        id: &str,
        precondition: Precondition,
    ) -> Result<bool, StoreError> {
        let (scope, id) = (scope.clone(), id.to_string());
        self.write_aside(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(internal)?;
            precondition.check(current_etag(&tx, &scope, &id)?.as_deref())?;
            let n = tx
                .execute(
                    &format!("DELETE FROM documents WHERE {KEY}"),
                    params![
                        scope.kind.as_str(),
                        scope.activity_id,
                        scope.agent,
                        scope.registration,
                        id
                    ],
                )
                .map_err(internal)?;
            tx.commit().map_err(internal)?;
            Ok(n > 0)
        })
        .await
    }

    async fn delete_documents(&self, scope: &DocumentScope) -> Result<(), StoreError> {
        let scope = scope.clone();
        self.write_aside(move |conn| {
            let any_registration = scope.registration.is_empty();
            conn.execute(
                "DELETE FROM documents WHERE kind = ?1 AND activity_id = ?2 AND agent = ?3
                 AND (?5 OR registration = ?4)",
                params![
                    scope.kind.as_str(),
                    scope.activity_id,
                    scope.agent,
                    scope.registration,
                    any_registration
                ],
            )
            .map_err(internal)?;
            Ok(())
        })
        .await
    }
}
