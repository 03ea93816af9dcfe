//! Handing attachments and canonical activity definitions over to a database store. Before
//! database stores kept them in their database, a server over ClickHouse, MongoDB or
//! Elasticsearch kept them in this file; at start the server moves what is here into the
//! database, then deletes it here. A start cut short copies again (every write is idempotent).

use rusqlite::params;
use serde_json::Value;
use xlrs_store::{Attachment, ContentStore, Definition, StoreError};

use crate::{internal, SqliteStore};

/// Attachments copied per write.
const ATTACHMENTS_PER_WRITE: i64 = 64;
/// Definitions copied per write.
const DEFINITIONS_PER_WRITE: i64 = 1000;

/// What a handover moved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Handover {
    /// Attachments moved.
    pub attachments: u64,
    /// Canonical activity definitions moved.
    pub definitions: u64,
}

impl SqliteStore {
    /// Moves the attachments and canonical definitions kept here into `into`: copied in
    /// bounded batches, then deleted here. The definitions go in at position 1, before every
    /// statement `into` will store, so later definitions merge over them as before.
    pub async fn hand_over_content(&self, into: &dyn ContentStore) -> Result<Handover, StoreError> {
        let mut moved = Handover::default();
        if std::ptr::addr_eq(self as *const Self, into as *const dyn ContentStore) {
            // Kept here (a backend plugin's content): nothing to move.
            return Ok(moved);
        }
        let mut after = String::new();
        loop {
            let from = after.clone();
            let batch: Vec<Attachment> = self
                .read(move |conn| {
                    let mut st = conn
                        .prepare_cached(
                            "SELECT sha2, content_type, content FROM attachments
                             WHERE sha2 > ?1 ORDER BY sha2 LIMIT ?2",
                        )
                        .map_err(internal)?;
                    let rows = st
                        .query_map(params![from, ATTACHMENTS_PER_WRITE], |r| {
                            Ok(Attachment {
                                sha2: r.get(0)?,
                                content_type: r.get(1)?,
                                content: r.get(2)?,
                            })
                        })
                        .map_err(internal)?;
                    rows.collect::<Result<_, _>>().map_err(internal)
                })
                .await?;
            let Some(last) = batch.last() else { break };
            after = last.sha2.clone();
            moved.attachments += batch.len() as u64;
            into.keep_attachments(batch).await?;
        }
        let mut after = String::new();
        loop {
            let from = after.clone();
            let batch: Vec<(String, String)> = self
                .read(move |conn| {
                    let mut st = conn
                        .prepare_cached(
                            "SELECT id, definition FROM activities
                             WHERE id > ?1 ORDER BY id LIMIT ?2",
                        )
                        .map_err(internal)?;
                    let rows = st
                        .query_map(params![from, DEFINITIONS_PER_WRITE], |r| {
                            Ok((r.get(0)?, r.get(1)?))
                        })
                        .map_err(internal)?;
                    rows.collect::<Result<_, _>>().map_err(internal)
                })
                .await?;
            let Some((last, _)) = batch.last() else { break };
            after = last.clone();
            moved.definitions += batch.len() as u64;
            let definitions = batch
                .into_iter()
                .map(|(activity, text)| {
                    let definition: Value = serde_json::from_str(&text).map_err(|e| {
                        StoreError::Internal(format!("definition of {activity}: {e}"))
                    })?;
                    Ok(Definition {
                        activity,
                        definition,
                        stored: 1,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            into.keep_definitions(definitions).await?;
        }
        if moved != Handover::default() {
            self.write_aside(|conn| {
                conn.execute_batch("DELETE FROM attachments; DELETE FROM activities;")
                    .map_err(internal)
            })
            .await?;
        }
        Ok(moved)
    }
}
