//! The statements as group commit and the API see them: what a round needs to know, the round
//! handed to [`Elasticsearch::write_round`], and the reads, bounded while a round is in flight.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;
use xlrs_store::group_commit::{Positioned, RoundWriter, StatementReader};
use xlrs_store::page::merge_page;
use xlrs_store::rules::Stored;
use xlrs_store::{Page, StoreError, StoredStatement};
use xlrs_xapi::query::StatementQuery;
use xlrs_xapi::statement::PreparedStatement;

use crate::write::QueryDoc;
use crate::Elasticsearch;

impl RoundWriter for Elasticsearch {
    /// A bulk request may fail part-way: the round's positions stay reserved until the lease ends.
    const FAILS_WHOLE: bool = false;

    /// The query-index documents of the ids, by id.
    type Known = HashMap<Uuid, QueryDoc>;

    /// Its own id, the one it voids, and the one its StatementRef points at (whose filter
    /// fields it copies).
    fn ids(statement: &PreparedStatement) -> impl Iterator<Item = Uuid> {
        std::iter::once(statement.id)
            .chain(statement.index.voids)
            .chain(statement.index.statement_ref)
    }

    /// Takes back a failed round first, if one is left, so nothing is written before it is.
    async fn known(&self, ids: Vec<Uuid>) -> Result<(Stored, Self::Known), StoreError> {
        {
            let mut undo = self.undo.lock().await;
            if !undo.is_empty() {
                self.undo(&undo).await?;
                undo.clear();
                self.undo_pending.store(false, Ordering::SeqCst);
            }
        }
        self.ready().await?;
        let known = self.known_docs(ids).await?;
        let stored = known
            .iter()
            .map(|(id, k)| (*id, k.content_hash.clone(), k.voids.is_some()))
            .collect();
        Ok((stored, known))
    }

    async fn write(&self, round: &[Positioned<'_>], known: &Self::Known) -> Result<(), StoreError> {
        self.write_round(round, known, true).await
    }
}

#[async_trait]
impl StatementReader for Elasticsearch {
    async fn get(&self, id: Uuid) -> Result<Option<StoredStatement>, StoreError> {
        self.ready().await?;
        let Some(source) = self
            .es
            .source(
                &self.query_index,
                &id.to_string(),
                Some("stored,voided_at,body"),
            )
            .await?
        else {
            return Ok(None);
        };
        let stored = source
            .get("stored")
            .and_then(Value::as_i64)
            .unwrap_or(i64::MAX);
        let voided_at = source.get("voided_at").and_then(Value::as_i64);
        let body = source
            .get("body")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        // A real-time GET: the bound is checked on what it returned.
        self.bounded(|bound| {
            let found = (stored <= bound).then(|| StoredStatement {
                body: body.clone(),
                voided: voided_at.is_some_and(|at| at <= bound),
                stored,
            });
            async move { Ok(found) }
        })
        .await
    }

    async fn query(&self, q: &StatementQuery) -> Result<Page, StoreError> {
        self.ready().await?;
        let rows = self.bounded(|bound| self.search(q, bound)).await?;
        Ok(merge_page(q, rows, Vec::new()))
    }

    async fn referring_to(
        &self,
        target: Uuid,
        limit: usize,
    ) -> Result<Vec<StoredStatement>, StoreError> {
        self.ready().await?;
        self.bounded(|bound| async move {
            let body = serde_json::json!({
                "size": limit,
                "_source": ["stored", "voided_at", "body"],
                "track_total_hits": false,
                "query": {"bool": {"filter": [
                    {"term": {"statement_ref": target.to_string()}},
                    {"range": {"stored": {"lte": bound}}},
                ]}},
                "sort": [{"stored": {"order": "desc"}}],
            });
            let hits = self.es.hits(&self.query_index, &body).await?;
            Ok(hits
                .iter()
                .filter_map(|hit| {
                    let source = hit.get("_source")?;
                    Some(StoredStatement {
                        body: source.get("body")?.as_str()?.to_string(),
                        stored: source.get("stored")?.as_i64()?,
                        voided: source
                            .get("voided_at")
                            .and_then(Value::as_i64)
                            .is_some_and(|at| at <= bound),
                    })
                })
                .collect())
        })
        .await
    }
}
