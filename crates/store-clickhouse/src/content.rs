//! Attachments and canonical activity definitions in ClickHouse, so every process over the
//! database sees them: attachments by SHA-256 (a repeat adds a row the engine merges away;
//! reads take one per hash), definitions as contributions (`xlrs_store::definitions`): one row
//! per distinct definition of an activity, with the last position it was stored at.

use async_trait::async_trait;
use clickhouse::Row;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use xlrs_store::definitions::{canonical_of_texts, last_occurrences};
use xlrs_store::{Attachment, ContentStore, Definition, StoreError};

use crate::{failed, ClickHouse};

/// A row of the attachments table.
#[derive(Row, Serialize, Deserialize)]
struct AttachmentRow {
    sha2: String,
    content_type: String,
    #[serde(with = "serde_bytes")]
    content: Vec<u8>,
}

/// A row of the definitions table.
#[derive(Row, Serialize)]
struct DefinitionRow {
    activity: String,
    key: String,
    stored: i64,
    definition: String,
}

impl ClickHouse {
    /// The attachments table.
    pub(crate) fn attachments_table(&self) -> String {
        format!("{}_attachments", self.statements)
    }

    /// The definitions table.
    pub(crate) fn definitions_table(&self) -> String {
        format!("{}_definitions", self.statements)
    }

    /// Creates the content tables when missing.
    pub(crate) async fn migrate_content(&self) -> Result<(), StoreError> {
        let attachments = self.attachments_table();
        self.create_missing(
            &attachments,
            &format!(
                "CREATE TABLE IF NOT EXISTS {} (
                sha2 String,
                content_type String,
                content String CODEC(ZSTD(1))
            ) ENGINE = ReplacingMergeTree ORDER BY sha2",
                attachments
            ),
        )
        .await?;
        // ReplacingMergeTree(stored): merges keep a contribution's last position.
        let definitions = self.definitions_table();
        self.create_missing(
            &definitions,
            &format!(
                "CREATE TABLE IF NOT EXISTS {} (
                activity String,
                key String,
                stored Int64,
                definition String
            ) ENGINE = ReplacingMergeTree(stored) ORDER BY (activity, key)",
                definitions
            ),
        )
        .await
        .map(|_| ())
    }
}

#[async_trait]
impl ContentStore for ClickHouse {
    async fn keep_attachments(&self, attachments: Vec<Attachment>) -> Result<(), StoreError> {
        if attachments.is_empty() {
            return Ok(());
        }
        let table = self.attachments_table();
        let rows: Vec<AttachmentRow> = attachments
            .into_iter()
            .map(|a| AttachmentRow {
                sha2: a.sha2,
                content_type: a.content_type,
                content: a.content,
            })
            .collect();
        self.insert_rows::<AttachmentRow>(&self.client, &table, &rows)
            .await
    }

    async fn keep_definitions(&self, definitions: Vec<Definition>) -> Result<(), StoreError> {
        let rows = last_occurrences(definitions);
        if rows.is_empty() {
            return Ok(());
        }
        let table = self.definitions_table();
        let rows: Vec<DefinitionRow> = rows
            .into_iter()
            .map(|(key, d)| DefinitionRow {
                activity: d.activity,
                key,
                stored: d.stored,
                definition: d.definition.to_string(),
            })
            .collect();
        self.insert_rows::<DefinitionRow>(&self.client, &table, &rows)
            .await
    }

    async fn attachments(&self, sha2s: &[String]) -> Result<Vec<Attachment>, StoreError> {
        if sha2s.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<AttachmentRow> = self
            .client
            .query(&format!(
                "SELECT sha2, content_type, content FROM {} \
                 WHERE sha2 IN {{sha2s:Array(String)}} LIMIT 1 BY sha2",
                self.attachments_table()
            ))
            .param("sha2s", sha2s)
            .fetch_all()
            .await
            .map_err(failed)?;
        // In the order asked for.
        Ok(sha2s
            .iter()
            .filter_map(|sha2| rows.iter().find(|r| &r.sha2 == sha2))
            .map(|r| Attachment {
                sha2: r.sha2.clone(),
                content_type: r.content_type.clone(),
                content: r.content.clone(),
            })
            .collect())
    }

    async fn activity_definition(&self, id: &str) -> Result<Option<Value>, StoreError> {
        let texts: Vec<String> = self
            .client
            .query(&format!(
                "SELECT any(definition) FROM {} WHERE activity = {{activity:String}} \
                 GROUP BY key ORDER BY max(stored), key",
                self.definitions_table()
            ))
            .param("activity", id)
            .fetch_all()
            .await
            .map_err(failed)?;
        canonical_of_texts(texts.iter().map(String::as_str))
    }
}
