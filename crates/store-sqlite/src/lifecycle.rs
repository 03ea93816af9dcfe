//! Erasure and retention on the SQLite file: statements removed with their index rows and
//! admission records, or rewritten in place; attachment contents no statement refers to any
//! more removed; an agent's documents found. Each runs in one transaction.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Transaction};
use xlrs_store::group_commit::Positioned;
use xlrs_store::lifecycle::{xapi_kind, Lifecycle, Located};
use xlrs_store::{DocumentScope, StoreError};
use xlrs_xapi::statement::{prepare, StatementIndex};
use xlrs_xapi::version::XapiVersion;

use crate::{internal, SqliteStore};

/// A write transaction begun at once: it waits for the writer thread's round instead of
/// failing when it would have to upgrade a read. Deleted content is overwritten in the file (`secure_delete`), not left in free pages.
fn immediate(conn: &mut rusqlite::Connection) -> Result<Transaction<'_>, StoreError> {
    conn.pragma_update(None, "secure_delete", true)
        .map_err(internal)?;
    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(internal)
}

/// The position of statement `id` and the query fields it is indexed under (from its stored
/// body), `None` when it is not stored.
fn indexed(tx: &Transaction<'_>, id: &str) -> Result<Option<(i64, StatementIndex)>, StoreError> {
    let found: Option<(i64, String)> = tx
        .query_row(
            "SELECT seq, body FROM statements WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(internal)?;
    let Some((seq, body)) = found else {
        return Ok(None);
    };
    let statement: serde_json::Value = serde_json::from_str(&body)
        .map_err(|e| StoreError::Internal(format!("stored statement {id} is not JSON: {e}")))?;
    let authority = statement
        .get("authority")
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    let uuid = uuid::Uuid::parse_str(id).map_err(|e| StoreError::Internal(e.to_string()))?;
    let prepared = prepare(statement, &authority, XapiVersion::V2_0_0, || uuid)
        .map_err(|e| StoreError::Internal(format!("stored statement {id}: {e}")))?;
    Ok(Some((seq, prepared.index)))
}

/// Deletes the rows of index `table` (keyed by `column` and `seq`) of a statement.
fn unindex(
    tx: &Transaction<'_>,
    seq: i64,
    keys: &[(String, bool)],
    table: &str,
    column: &str,
) -> Result<(), StoreError> {
    let mut delete = tx
        .prepare_cached(&format!(
            "DELETE FROM {table} WHERE {column} = ?1 AND seq = ?2"
        ))
        .map_err(internal)?;
    for (key, _) in keys {
        delete.execute(params![key, seq]).map_err(internal)?;
    }
    Ok(())
}

/// Removes the contents of `attachments` that no statement's body names any more; how many.
/// One read of the statements that name any attachment, whatever their number.
pub(crate) fn remove_unreferenced(
    tx: &Transaction<'_>,
    attachments: &[String],
) -> Result<u64, StoreError> {
    if attachments.is_empty() {
        return Ok(0);
    }
    let mut unnamed: std::collections::BTreeSet<&str> =
        attachments.iter().map(String::as_str).collect();
    {
        let mut naming = tx
            .prepare("SELECT lower(body) FROM statements WHERE instr(body, '\"attachments\"') > 0")
            .map_err(internal)?;
        let mut rows = naming.query([]).map_err(internal)?;
        while let Some(row) = rows.next().map_err(internal)? {
            let body: String = row.get(0).map_err(internal)?;
            unnamed.retain(|sha2| !body.contains(sha2));
            if unnamed.is_empty() {
                return Ok(0);
            }
        }
    }
    let mut removed = 0;
    for sha2 in unnamed {
        removed += tx
            .execute("DELETE FROM attachments WHERE sha2 = ?1", [sha2])
            .map_err(internal)? as u64;
    }
    Ok(removed)
}

/// The documents `condition` selects, as scope and id.
fn scoped_documents(
    conn: &rusqlite::Connection,
    condition: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<(DocumentScope, String)>, StoreError> {
    let mut st = conn
        .prepare(&format!(
            "SELECT kind, activity_id, agent, registration, id FROM documents WHERE {condition}"
        ))
        .map_err(internal)?;
    let rows = st
        .query_map(params, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .map_err(internal)?;
    let mut found = Vec::new();
    for row in rows {
        let (kind, activity_id, agent, registration, id) = row.map_err(internal)?;
        if let Some(kind) = xapi_kind(&kind) {
            let scope = DocumentScope {
                kind,
                activity_id,
                agent,
                registration,
            };
            found.push((scope, id));
        }
    }
    Ok(found)
}

#[async_trait]
impl Lifecycle for SqliteStore {
    async fn remove_statements(
        &self,
        statements: &[Located],
        attachments: &[String],
    ) -> Result<u64, StoreError> {
        let ids: Vec<String> = statements.iter().map(|s| s.id.to_string()).collect();
        let attachments = attachments.to_vec();
        self.write_aside(move |conn| {
            let tx = immediate(conn)?;
            for id in &ids {
                let Some((seq, index)) = indexed(&tx, id)? else {
                    continue;
                };
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('removed_through', ?1)
                     ON CONFLICT (key) DO UPDATE SET value = MAX(CAST(value AS INTEGER), ?1)",
                    [seq],
                )
                .map_err(internal)?;
                unindex(&tx, seq, &index.agents, "statement_agents", "agent")?;
                unindex(
                    &tx,
                    seq,
                    &index.activities,
                    "statement_activities",
                    "activity",
                )?;
                tx.execute("DELETE FROM statements WHERE seq = ?1", [seq])
                    .map_err(internal)?;
                tx.execute("DELETE FROM admissions WHERE statement_id = ?1", [id])
                    .map_err(internal)?;
            }
            let removed = remove_unreferenced(&tx, &attachments)?;
            tx.commit().map_err(internal)?;
            Ok(removed)
        })
        .await
    }

    async fn rewrite_statements(
        &self,
        statements: &[Positioned<'_>],
        _erased: &[String],
    ) -> Result<(), StoreError> {
        let rows: Vec<(String, String, String, Vec<(String, bool)>)> = statements
            .iter()
            .map(|p| {
                (
                    p.statement.id.to_string(),
                    p.body(),
                    p.statement.index.authority.clone(),
                    p.statement.index.agents.clone(),
                )
            })
            .collect();
        self.write_aside(move |conn| {
            let tx = immediate(conn)?;
            for (id, body, authority, agents) in &rows {
                let Some((seq, old)) = indexed(&tx, id)? else {
                    continue;
                };
                tx.execute(
                    "UPDATE statements SET body = ?1, authority = ?2 WHERE seq = ?3",
                    params![body, authority, seq],
                )
                .map_err(internal)?;
                unindex(&tx, seq, &old.agents, "statement_agents", "agent")?;
                for (agent, direct) in agents {
                    tx.execute(
                        "INSERT OR IGNORE INTO statement_agents (agent, seq, direct) VALUES (?1, ?2, ?3)",
                        params![agent, seq, direct],
                    )
                    .map_err(internal)?;
                }
            }
            tx.commit().map_err(internal)
        })
        .await
    }

    async fn agent_documents(
        &self,
        agents: &[String],
    ) -> Result<Vec<(DocumentScope, String)>, StoreError> {
        let agents = agents.to_vec();
        self.read(move |conn| {
            let mut found = Vec::new();
            for agent in &agents {
                found.extend(scoped_documents(
                    conn,
                    "agent = ?1 AND kind IN ('state', 'agent_profile')",
                    params![agent],
                )?);
            }
            Ok(found)
        })
        .await
    }

    async fn documents_before(
        &self,
        before: i64,
        limit: usize,
    ) -> Result<Vec<(DocumentScope, String)>, StoreError> {
        self.read(move |conn| {
            scoped_documents(
                conn,
                "updated < ?1 AND kind IN ('state', 'activity_profile', 'agent_profile')
                 ORDER BY updated LIMIT ?2",
                params![before, limit as i64],
            )
        })
        .await
    }

    async fn remove_documents(
        &self,
        documents: &[(DocumentScope, String)],
        updated_before: Option<i64>,
    ) -> Result<u64, StoreError> {
        let documents = documents.to_vec();
        self.write_aside(move |conn| {
            let tx = immediate(conn)?;
            let mut removed = 0;
            for (scope, id) in &documents {
                removed += tx
                    .execute(
                        "DELETE FROM documents WHERE kind = ?1 AND activity_id = ?2 AND agent = ?3
                         AND registration = ?4 AND id = ?5 AND (?6 IS NULL OR updated < ?6)",
                        params![
                            scope.kind.as_str(),
                            scope.activity_id,
                            scope.agent,
                            scope.registration,
                            id,
                            updated_before
                        ],
                    )
                    .map_err(internal)? as u64;
            }
            tx.commit().map_err(internal)?;
            Ok(removed)
        })
        .await
    }
}
