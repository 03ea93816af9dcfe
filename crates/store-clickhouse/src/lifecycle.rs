//! Erasure and retention in ClickHouse, by the engine's lightweight `DELETE`: statements leave
//! the statements table, its agent and activity index tables, Ralph's events table (else they
//! would be adopted again at the next start) and the admissions table. A rewrite inserts the
//! new rows first, then deletes the old ones by the agent keys only they are indexed under, so
//! a reader meanwhile may see a statement twice but never misses it. An agent index holding
//! bodies gets the rewritten rows as a newer version, then loses every older one.

use async_trait::async_trait;
use clickhouse::Row;
use serde::Deserialize;
use uuid::Uuid;
use xlrs_store::group_commit::Positioned;
use xlrs_store::lifecycle::{xapi_kind, Lifecycle, Located};
use xlrs_store::{DocumentScope, StoreError};

use crate::statements::{statement_row, StatementRow};
use crate::{failed, ClickHouse};

/// A document found by scope and id.
#[derive(Row, Deserialize)]
struct AgentDocument {
    kind: String,
    activity_id: String,
    agent: String,
    registration: String,
    id: String,
}

/// The documents a query of (kind, activity_id, agent, registration, id) finds.
async fn scoped_documents(
    query: clickhouse::query::Query,
) -> Result<Vec<(DocumentScope, String)>, StoreError> {
    let found: Vec<AgentDocument> = query.fetch_all().await.map_err(failed)?;
    Ok(found
        .into_iter()
        .filter_map(|d| {
            let scope = DocumentScope {
                kind: xapi_kind(&d.kind)?,
                activity_id: d.activity_id,
                agent: d.agent,
                registration: d.registration,
            };
            Some((scope, d.id))
        })
        .collect())
}

fn uuids(ids: impl Iterator<Item = Uuid>) -> Vec<String> {
    ids.map(|id| id.to_string()).collect()
}

impl ClickHouse {
    /// Runs a lightweight `DELETE FROM {table} WHERE {condition}` with one array parameter,
    /// done when it returns; the StatementRefs sets kept are stale from its start to its end.
    pub(crate) async fn delete_where<T: serde::Serialize>(
        &self,
        table: &str,
        condition: &str,
        name: &str,
        values: T,
    ) -> Result<(), StoreError> {
        self.known_refs.changed();
        let outcome = self
            .client
            .query(&format!("DELETE FROM {table} WHERE {condition}"))
            .param(name, values)
            .with_setting("lightweight_deletes_sync", "2")
            .execute()
            .await
            .map_err(failed);
        self.known_refs.changed();
        outcome
    }

    /// Removes the contents of `attachments` no statement's body names any more; how many.
    async fn remove_unreferenced(&self, attachments: &[String]) -> Result<u64, StoreError> {
        let mut removed = 0;
        for sha2 in attachments {
            let referenced: u64 = self
                .client
                .query(&format!(
                    "SELECT count() FROM {} WHERE positionCaseInsensitive(body, {{sha2:String}}) > 0",
                    self.statements
                ))
                .param("sha2", sha2)
                .fetch_one()
                .await
                .map_err(failed)?;
            if referenced == 0 {
                self.delete_where(
                    &self.attachments_table(),
                    "sha2 = {sha2:String}",
                    "sha2",
                    sha2,
                )
                .await?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[async_trait]
impl Lifecycle for ClickHouse {
    async fn remove_statements(
        &self,
        statements: &[Located],
        attachments: &[String],
    ) -> Result<u64, StoreError> {
        // Ralph's table and the admissions first, the statements after (what a run that
        // failed half-way leaves is found again by the next), their index rows last (their
        // agent keys an erasure also sweeps by key: `forget_agents`).
        for chunk in statements.chunks(10_000) {
            let ids = uuids(chunk.iter().map(|s| s.id));
            let stored: Vec<i64> = chunk.iter().map(|s| s.stored).collect();
            if let Some(events) = &self.events {
                self.delete_where(events, "event_id IN {ids:Array(UUID)}", "ids", &ids)
                    .await?;
            }
            self.delete_where(
                &self.admissions_table(),
                "statement IN {ids:Array(UUID)}",
                "ids",
                &ids,
            )
            .await?;
            self.delete_where(&self.statements, "id IN {ids:Array(UUID)}", "ids", &ids)
                .await?;
            for index in ["by_agent", "by_activity", "refs"] {
                self.delete_where(
                    &format!("{}_{index}", self.statements),
                    "stored IN {stored:Array(Int64)}",
                    "stored",
                    &stored,
                )
                .await?;
            }
        }
        self.remove_unreferenced(attachments).await
    }

    async fn remove_stored_before(&self, before: i64) -> Result<Option<(u64, u64)>, StoreError> {
        let t = &self.statements;
        let count: u64 = self
            .client
            .query(&format!(
                "SELECT count() FROM {t} WHERE stored < {{before:Int64}}"
            ))
            .param("before", before)
            .fetch_one()
            .await
            .map_err(failed)?;
        if count == 0 {
            return Ok(Some((0, 0)));
        }
        let with_attachments: Vec<String> = self
            .client
            .query(&format!(
                "SELECT body FROM {t} WHERE stored < {{before:Int64}} AND position(body, '\"attachments\"') > 0"
            ))
            .param("before", before)
            .fetch_all()
            .await
            .map_err(failed)?;
        let statements: Vec<serde_json::Value> = with_attachments
            .iter()
            .filter_map(|body| serde_json::from_str(body).ok())
            .collect();
        let attachments = xlrs_xapi::statement::attachment_hashes(&statements);
        // Ralph's table first: a statement left there alone would be adopted again at start.
        if let Some(events) = &self.events {
            self.client
                .query(&format!(
                    "DELETE FROM {events} WHERE event_id IN (SELECT id FROM {t} WHERE stored < {{before:Int64}})"
                ))
                .param("before", before)
                .execute()
                .await
                .map_err(failed)?;
        }
        let by_stored = [
            t.clone(),
            format!("{t}_by_agent"),
            format!("{t}_by_activity"),
            format!("{t}_refs"),
            self.admissions_table(),
        ];
        for table in by_stored {
            self.delete_where(&table, "stored < {before:Int64}", "before", before)
                .await?;
        }
        let removed = self.remove_unreferenced(&attachments).await?;
        Ok(Some((count, removed)))
    }

    async fn rewrite_statements(
        &self,
        statements: &[Positioned<'_>],
        erased: &[String],
    ) -> Result<(), StoreError> {
        for chunk in statements.chunks(10_000) {
            let ids = uuids(chunk.iter().map(|p| p.statement.id));
            // The content hash stays: a re-send of the statement as first sent is still the
            // same statement.
            let hashes = self.existing(ids.clone()).await?;
            let rows: Vec<StatementRow> = chunk
                .iter()
                .filter_map(|p| {
                    let mut row = statement_row(p.statement, p.stored, p.body());
                    row.content_hash = hashes.get(&p.statement.id)?.content_hash.clone();
                    Some(row)
                })
                .collect();
            let stored: Vec<i64> = chunk.iter().map(|p| p.stored).collect();
            if let Some(events) = &self.events {
                self.delete_where(events, "event_id IN {ids:Array(UUID)}", "ids", &ids)
                    .await?;
                self.insert_events(events, &rows).await?;
            }
            // New rows an earlier run inserted before it failed: replaced, not doubled.
            self.client
                .query(&format!(
                    "DELETE FROM {} WHERE id IN {{ids:Array(UUID)}} AND NOT hasAny(agents, {{erased:Array(String)}})",
                    self.statements
                ))
                .param("ids", &ids)
                .param("erased", erased)
                .execute()
                .await
                .map_err(failed)?;
            self.insert_statement_rows(&rows).await?;
            self.client
                .query(&format!(
                    "DELETE FROM {} WHERE id IN {{ids:Array(UUID)}} AND hasAny(agents, {{erased:Array(String)}})",
                    self.statements
                ))
                .param("ids", &ids)
                .param("erased", erased)
                .execute()
                .await
                .map_err(failed)?;
            // The new index rows, as of a version newer than the old ones; then the old rows
            // go: those under the erased agents' keys and, in an agent index holding bodies,
            // every older version (its bodies name the erased agents).
            let written = xlrs_store::positions::now_micros();
            self.index_rewritten(&stored, written).await?;
            let older = if self.indexed.serves_bodies() {
                " OR written < {written:Int64}"
            } else {
                ""
            };
            let mut delete = self
                .client
                .query(&format!(
                    "DELETE FROM {}_by_agent WHERE stored IN {{stored:Array(Int64)}} \
                     AND (agent IN {{erased:Array(String)}}{older})",
                    self.statements
                ))
                .param("stored", &stored)
                .param("erased", erased);
            if !older.is_empty() {
                delete = delete.param("written", written);
            }
            delete.execute().await.map_err(failed)?;
        }
        Ok(())
    }

    async fn forget_agents(&self, agents: &[String]) -> Result<(), StoreError> {
        self.delete_where(
            &format!("{}_by_agent", self.statements),
            "agent IN {agents:Array(String)}",
            "agents",
            agents,
        )
        .await
    }

    async fn agent_documents(
        &self,
        agents: &[String],
    ) -> Result<Vec<(DocumentScope, String)>, StoreError> {
        let query = self.client.query(
            // Every version, tombstones too: their keys name the agent as well.
            "SELECT DISTINCT kind, activity_id, agent, registration, id FROM xlrs_documents
             WHERE agent IN {agents:Array(String)} AND kind IN ('state', 'agent_profile')
             ORDER BY kind, activity_id, registration, id",
        );
        scoped_documents(query.param("agents", agents)).await
    }

    async fn documents_before(
        &self,
        before: i64,
        limit: usize,
    ) -> Result<Vec<(DocumentScope, String)>, StoreError> {
        let query = self.client.query(
            "SELECT kind, activity_id, agent, registration, id FROM xlrs_documents FINAL
             WHERE updated < {before:Int64} AND deleted = 0
             AND kind IN ('state', 'activity_profile', 'agent_profile')
             ORDER BY updated LIMIT {limit:UInt64}",
        );
        scoped_documents(query.param("before", before).param("limit", limit as u64)).await
    }

    async fn remove_documents(
        &self,
        documents: &[(DocumentScope, String)],
        updated_before: Option<i64>,
    ) -> Result<u64, StoreError> {
        // Every version goes, tombstones too (their key names the agent), and the claims on
        // them, so the next write of such a document starts a new history; for retention,
        // only versions older than the cut-off (a version written meanwhile stays).
        let before = updated_before.unwrap_or(i64::MAX);
        for (scope, id) in documents {
            self.client
                .query(
                    "DELETE FROM xlrs_documents WHERE kind = {kind:String}
                     AND activity_id = {activity:String} AND agent = {agent:String}
                     AND registration = {registration:String} AND id = {id:String}
                     AND updated < {before:Int64}",
                )
                .param("kind", scope.kind.as_str())
                .param("activity", &scope.activity_id)
                .param("agent", &scope.agent)
                .param("registration", &scope.registration)
                .param("id", id)
                .param("before", before)
                .execute()
                .await
                .map_err(failed)?;
            self.client
                .query(
                    "DELETE FROM xlrs_document_claims WHERE document = {document:String}
                     AND follows < {before:Int64}",
                )
                .param("document", scope.hashed_key(&scope.registration, id))
                .param("before", before)
                .execute()
                .await
                .map_err(failed)?;
        }
        Ok(documents.len() as u64)
    }
}
