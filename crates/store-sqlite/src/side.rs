//! Attachments (content-addressed), canonical activity definitions (every stored definition of
//! an activity merged in commit order) and admission records, for this store's statements and
//! for backend plugins' statements (the database stores keep attachments and definitions in
//! their database).

use std::collections::HashMap;

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};
use serde_json::Value;
use uuid::Uuid;
use xlrs_store::{AdmissionLog, AdmissionRecord, Attachment, ContentStore, Definition, StoreError};
use xlrs_xapi::activity;

use crate::{internal, SqliteStore};

/// Merges definitions into the activities table, writing only what changes.
pub(crate) fn merge_definitions(
    tx: &Transaction<'_>,
    definitions: &[(String, Value)],
) -> Result<(), StoreError> {
    let mut cache = HashMap::new();
    for (id, definition) in definitions {
        merge_cached(tx, &mut cache, id, definition)?;
    }
    Ok(())
}

/// Canonical activity definitions the writer keeps in memory, so a statement repeating a known
/// definition costs a map lookup instead of a read and a parse.
pub(crate) const CACHED_DEFINITIONS: usize = 100_000;

/// Merges one definition into the activities table, starting from the canonical definition in
/// `cache` or else the table, and keeps the result in `cache`.
pub(crate) fn merge_cached(
    tx: &Transaction<'_>,
    cache: &mut HashMap<String, Value>,
    id: &str,
    definition: &Value,
) -> Result<(), StoreError> {
    let merged = match cache.get_mut(id) {
        Some(canonical) => {
            if !activity::merge(canonical, definition) {
                return Ok(());
            }
            canonical.to_string()
        }
        None => {
            let (canonical, changed) = match stored_definition(tx, id)? {
                Some(mut canonical) => {
                    let changed = activity::merge(&mut canonical, definition);
                    (canonical, changed)
                }
                None => (definition.clone(), true),
            };
            let text = changed.then(|| canonical.to_string());
            if cache.len() >= CACHED_DEFINITIONS {
                cache.clear();
            }
            cache.insert(id.to_string(), canonical);
            match text {
                Some(text) => text,
                None => return Ok(()),
            }
        }
    };
    tx.prepare_cached("INSERT OR REPLACE INTO activities (id, definition) VALUES (?1, ?2)")
        .and_then(|mut put| put.execute(params![id, merged]))
        .map_err(internal)?;
    Ok(())
}

/// The canonical definition stored for an activity, if any.
fn stored_definition(tx: &Transaction<'_>, id: &str) -> Result<Option<Value>, StoreError> {
    let text: Option<String> = tx
        .prepare_cached("SELECT definition FROM activities WHERE id = ?1")
        .and_then(|mut get| get.query_row([id], |r| r.get(0)).optional())
        .map_err(internal)?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

/// Keeps attachment contents (content-addressed: a repeat is a no-op).
pub(crate) fn insert_attachments(
    tx: &Transaction<'_>,
    attachments: &[Attachment],
) -> Result<(), StoreError> {
    let mut attach = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO attachments (sha2, content_type, content) VALUES (?1, ?2, ?3)",
        )
        .map_err(internal)?;
    for a in attachments {
        attach
            .execute(params![a.sha2, a.content_type, a.content])
            .map_err(internal)?;
    }
    Ok(())
}

#[async_trait]
impl ContentStore for SqliteStore {
    async fn keep_attachments(&self, attachments: Vec<Attachment>) -> Result<(), StoreError> {
        if attachments.is_empty() {
            return Ok(());
        }
        self.write_aside(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(internal)?;
            insert_attachments(&tx, &attachments)?;
            tx.commit().map_err(internal)
        })
        .await
    }

    async fn keep_definitions(&self, definitions: Vec<Definition>) -> Result<(), StoreError> {
        if definitions.is_empty() {
            return Ok(());
        }
        // One process writes this file: merged in place, in the order given (position order).
        let definitions: Vec<(String, Value)> = definitions
            .into_iter()
            .map(|d| (d.activity, d.definition))
            .collect();
        self.write_aside(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(internal)?;
            merge_definitions(&tx, &definitions)?;
            tx.commit().map_err(internal)
        })
        .await
    }

    async fn attachments(&self, sha2s: &[String]) -> Result<Vec<Attachment>, StoreError> {
        let sha2s = sha2s.to_vec();
        self.read(move |conn| {
            let mut st = conn
                .prepare_cached("SELECT content_type, content FROM attachments WHERE sha2 = ?1")
                .map_err(internal)?;
            let mut out = Vec::new();
            for sha2 in sha2s {
                if let Some((content_type, content)) = st
                    .query_row([&sha2], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
                    .map_err(internal)?
                {
                    out.push(Attachment {
                        sha2,
                        content_type,
                        content,
                    });
                }
            }
            Ok(out)
        })
        .await
    }

    async fn activity_definition(&self, id: &str) -> Result<Option<Value>, StoreError> {
        let id = id.to_string();
        let text: Option<String> = self
            .read(move |conn| {
                conn.prepare_cached("SELECT definition FROM activities WHERE id = ?1")
                    .and_then(|mut st| st.query_row([&id], |r| r.get(0)).optional())
                    .map_err(internal)
            })
            .await?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Internal(e.to_string())))
            .transpose()
    }
}

#[async_trait]
impl AdmissionLog for SqliteStore {
    async fn keep_admissions(&self, records: Vec<AdmissionRecord>) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        self.write_aside(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(internal)?;
            {
                let mut put = tx
                    .prepare_cached(
                        "INSERT INTO admissions (statement_id, plugin, rules, repaired, credential, at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )
                    .map_err(internal)?;
                for r in &records {
                    put.execute(params![
                        r.statement.to_string(),
                        r.plugin,
                        r.rules.join(","),
                        r.repaired,
                        r.credential,
                        r.at
                    ])
                    .map_err(internal)?;
                }
            }
            tx.commit().map_err(internal)
        })
        .await
    }

    async fn admissions(
        &self,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AdmissionRecord>, StoreError> {
        self.read(move |conn| {
            let mut st = conn
                .prepare_cached(
                    "SELECT seq, statement_id, plugin, rules, repaired, credential, at
                     FROM admissions WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                )
                .map_err(internal)?;
            let rows = st
                .query_map(params![after.unwrap_or(0), limit as i64], admission_record)
                .map_err(internal)?;
            rows.collect::<Result<_, _>>().map_err(internal)
        })
        .await
    }
}

/// An admission record of a row of the admissions table.
fn admission_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<AdmissionRecord> {
    let id: String = r.get(1)?;
    let rules: String = r.get(3)?;
    Ok(AdmissionRecord {
        seq: r.get(0)?,
        statement: Uuid::parse_str(&id).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
        })?,
        plugin: r.get(2)?,
        rules: rules
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect(),
        repaired: r.get(4)?,
        credential: r.get(5)?,
        at: r.get(6)?,
    })
}
