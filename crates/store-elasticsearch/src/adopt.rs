//! Adopting Ralph's index: statements Ralph wrote (or a round that failed between the two
//! indices left) that the query index lacks are indexed at start-up, oldest first, so a Ralph
//! deployment switches to xlrs without a migration.

use elasticsearch::http::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use xlrs_store::adopt::adoptable;
use xlrs_store::group_commit::GroupCommitted;
use xlrs_store::positions::now_micros;
use xlrs_store::StoreError;
use xlrs_xapi::statement::PreparedStatement;
use xlrs_xapi::validate::parse_timestamp;

use crate::{Elasticsearch, CHUNK};

impl Elasticsearch {
    /// Indexes the statements of Ralph's index the query index lacks (Ralph wrote them, or a
    /// round failed between the two); returns how many. Skipped when the query index holds as
    /// many statements (every statement xlrs writes is in both).
    pub(crate) async fn adopt_ralph(
        &self,
        statements: &GroupCommitted<Elasticsearch>,
    ) -> Result<u64, StoreError> {
        let Some(ralph) = &self.ralph else {
            return Ok(0);
        };
        if self.count(ralph).await? <= self.count(&self.query_index).await? {
            return Ok(0);
        }
        let mut adopted = 0;
        let mut page = self
            .es
            .json(
                Method::Post,
                &format!("/{ralph}/_search"),
                &[("scroll", "2m")],
                &json!({"size": CHUNK, "sort": ["_doc"]}),
            )
            .await?;
        loop {
            let hits = page
                .pointer("/hits/hits")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let scroll_id = page
                .get("_scroll_id")
                .and_then(Value::as_str)
                .map(str::to_string);
            if hits.is_empty() {
                if let Some(id) = scroll_id {
                    // Frees the scroll early; it expires anyway.
                    let _ = self
                        .es
                        .call(
                            Method::Delete,
                            "/_search/scroll",
                            &[],
                            Some(json!({"scroll_id": id}).to_string()),
                            false,
                        )
                        .await;
                }
                return Ok(adopted);
            }
            adopted += self.adopt_hits(hits, statements).await?;
            let Some(id) = scroll_id else {
                return Ok(adopted);
            };
            page = self
                .es
                .json(
                    Method::Post,
                    "/_search/scroll",
                    &[],
                    &json!({"scroll": "2m", "scroll_id": id}),
                )
                .await?;
        }
    }

    /// Indexes the hits of Ralph's index that the query index lacks, oldest first.
    async fn adopt_hits(
        &self,
        hits: Vec<Value>,
        statements: &GroupCommitted<Elasticsearch>,
    ) -> Result<u64, StoreError> {
        let mut candidates = Vec::with_capacity(hits.len());
        for hit in hits {
            let source = hit.get("_source").cloned().unwrap_or(Value::Null);
            let id = hit
                .get("_id")
                .and_then(Value::as_str)
                .and_then(|id| Uuid::parse_str(id).ok())
                .or_else(|| {
                    source
                        .get("id")
                        .and_then(Value::as_str)
                        .and_then(|id| Uuid::parse_str(id).ok())
                });
            let Some(id) = id else {
                tracing::warn!(doc = ?hit.get("_id"), "a document of Ralph's index without a statement id is not served");
                continue;
            };
            candidates.push((id, source));
        }
        let known = self
            .known_docs(candidates.iter().map(|(id, _)| *id).collect())
            .await?;
        let mut prepared: Vec<(i64, PreparedStatement)> = Vec::new();
        for (id, source) in candidates {
            if known.contains_key(&id) {
                continue;
            }
            let fallback = source
                .get("timestamp")
                .and_then(Value::as_str)
                .and_then(parse_timestamp)
                .map_or_else(now_micros, |t| t.timestamp_micros());
            match adoptable(source, id, fallback, "ralph") {
                Ok(found) => prepared.push(found),
                Err(why) => {
                    tracing::warn!(%id, "a statement of Ralph's index is not served: {why}")
                }
            }
        }
        // Ralph's index has them already: only the query index is written.
        statements
            .adopt(prepared, async |round| {
                let targets = round
                    .iter()
                    .flat_map(|p| p.statement.index.statement_ref)
                    .collect();
                let known = self.known_docs(targets).await?;
                self.write_round(round, &known, false).await
            })
            .await
    }
}
