//! The statement store: inserts go to the writer thread, reads to pooled connections.

use async_trait::async_trait;
use rusqlite::OptionalExtension;
use tokio::sync::oneshot;
use uuid::Uuid;
use xlrs_store::group_commit::Job;
use xlrs_store::page::merge_page;
use xlrs_store::{Attachment, Page, StatementStore, StoreError, StoredStatement};
use xlrs_xapi::query::StatementQuery;
use xlrs_xapi::statement::PreparedStatement;

use crate::query::{direct_sql, reference_sql, run_query};
use crate::{internal, SqliteStore};

#[async_trait]
impl StatementStore for SqliteStore {
    async fn insert(
        &self,
        batch: Vec<PreparedStatement>,
        attachments: Vec<Attachment>,
    ) -> Result<(), StoreError> {
        let (reply, outcome) = oneshot::channel();
        self.writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(Job {
                batch,
                attachments,
                reply,
            })
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?;
        outcome
            .await
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?
    }

    async fn get(&self, id: Uuid) -> Result<Option<StoredStatement>, StoreError> {
        self.read(move |conn| {
            conn.prepare_cached("SELECT body, voided, stored FROM statements WHERE id = ?1")
                .and_then(|mut st| {
                    st.query_row([id.to_string()], |r| {
                        Ok(StoredStatement {
                            body: r.get(0)?,
                            voided: r.get::<_, i64>(1)? != 0,
                            stored: r.get(2)?,
                        })
                    })
                    .optional()
                })
                .map_err(internal)
        })
        .await
    }

    async fn referring_to(
        &self,
        target: Uuid,
        limit: usize,
    ) -> Result<Option<Vec<StoredStatement>>, StoreError> {
        self.read(move |conn| {
            let mut select = conn
                .prepare_cached(
                    "SELECT body, voided, stored FROM statements WHERE ref_target = ?1
                     ORDER BY seq DESC LIMIT ?2",
                )
                .map_err(internal)?;
            let rows = select
                .query_map(rusqlite::params![target.to_string(), limit as i64], |r| {
                    Ok(StoredStatement {
                        body: r.get(0)?,
                        voided: r.get::<_, i64>(1)? != 0,
                        stored: r.get(2)?,
                    })
                })
                .map_err(internal)?;
            rows.collect::<Result<Vec<_>, _>>()
                .map(Some)
                .map_err(internal)
        })
        .await
    }

    async fn query(&self, query: &StatementQuery) -> Result<Page, StoreError> {
        let q = query.clone();
        self.read(move |conn| {
            let (sql, args) = direct_sql(&q);
            let direct = run_query(conn, &sql, args)?;
            let referring = match reference_sql(&q) {
                Some((sql, args)) => run_query(conn, &sql, args)?,
                None => Vec::new(),
            };
            Ok(merge_page(&q, direct, referring))
        })
        .await
    }

    async fn consistent_through(&self) -> Result<i64, StoreError> {
        Ok(self.positions.consistent_through())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_store() -> (SqliteStore, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("xlrs-sqlite-{}", Uuid::new_v4()));
        let store = SqliteStore::open(&dir.join("db.sqlite3"), 2).expect("opens");
        (store, dir)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_passes_the_statement_store_contract() {
        let (store, dir) = temp_store();
        xlrs_store::contract::statement_store(&store, &store).await;
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_passes_the_document_store_contract() {
        let (store, dir) = temp_store();
        xlrs_store::contract::document_store(&store).await;
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_passes_the_lifecycle_contract() {
        let (store, dir) = temp_store();
        xlrs_store::contract::lifecycle(&store, &store, &store).await;
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn statements_survive_a_reopen() {
        let (store, dir) = temp_store();
        let s = xlrs_xapi::statement::prepare(
            serde_json::json!({"actor": {"mbox": "mailto:a@example.org"}, "verb": {"id": "http://v"}, "object": {"id": "http://a"}}),
            &serde_json::json!({"mbox": "mailto:auth@example.org"}),
            xlrs_xapi::version::XapiVersion::V2_0_0,
            Uuid::new_v4,
        )
        .expect("prepares");
        let id = s.id;
        store.insert(vec![s], vec![]).await.expect("insert");
        drop(store);
        let again = SqliteStore::open(&dir.join("db.sqlite3"), 2).expect("reopens");
        assert!(again.get(id).await.expect("get").is_some());
        std::fs::remove_dir_all(dir).ok();
    }
}
