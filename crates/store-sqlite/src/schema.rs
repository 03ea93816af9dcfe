//! The tables, and migrations from the layouts earlier versions wrote.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde_json::Value;
use xlrs_store::StoreError;
use xlrs_xapi::activity;

use crate::internal;
use crate::side::merge_definitions;

/// Schema version written to `meta`; bump with a migration when the layout changes.
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS statements (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    stored INTEGER NOT NULL,
    verb TEXT NOT NULL,
    registration TEXT,
    ref_target TEXT,
    voids TEXT,
    voided INTEGER NOT NULL DEFAULT 0,
    authority TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS statements_verb ON statements(verb, seq);
CREATE INDEX IF NOT EXISTS statements_registration ON statements(registration, seq) WHERE registration IS NOT NULL;
CREATE INDEX IF NOT EXISTS statements_ref ON statements(ref_target) WHERE ref_target IS NOT NULL;
CREATE INDEX IF NOT EXISTS statements_voids ON statements(voids) WHERE voids IS NOT NULL;
CREATE INDEX IF NOT EXISTS statements_stored ON statements(stored);
CREATE INDEX IF NOT EXISTS statements_authority ON statements(authority, seq);
CREATE TABLE IF NOT EXISTS statement_agents (
    agent TEXT NOT NULL, seq INTEGER NOT NULL, direct INTEGER NOT NULL,
    PRIMARY KEY (agent, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS statement_activities (
    activity TEXT NOT NULL, seq INTEGER NOT NULL, direct INTEGER NOT NULL,
    PRIMARY KEY (activity, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS documents (
    kind TEXT NOT NULL, activity_id TEXT NOT NULL, agent TEXT NOT NULL,
    registration TEXT NOT NULL, id TEXT NOT NULL,
    content_type TEXT NOT NULL, etag TEXT NOT NULL, updated INTEGER NOT NULL, content BLOB NOT NULL,
    PRIMARY KEY (kind, activity_id, agent, registration, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS activities (
    id TEXT PRIMARY KEY, definition TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS admissions (
    seq INTEGER PRIMARY KEY, statement_id TEXT NOT NULL, plugin TEXT NOT NULL,
    rules TEXT NOT NULL, repaired INTEGER NOT NULL, credential TEXT NOT NULL, at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS attachments (
    sha2 TEXT PRIMARY KEY, content_type TEXT NOT NULL, content BLOB NOT NULL
);
";

/// Creates the tables, or migrates those of an earlier layout.
pub(crate) fn migrate(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(SCHEMA).map_err(internal)?;
    let version: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(internal)?;
    match version.as_deref().map(str::parse::<i64>) {
        None => {
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
                params![SCHEMA_VERSION.to_string()],
            )
            .map_err(internal)?;
        }
        Some(Ok(SCHEMA_VERSION)) => {}
        Some(Ok(1)) => {
            // Version 2 added the canonical activity definitions: rebuild them.
            let tx = conn.unchecked_transaction().map_err(internal)?;
            backfill_activities(&tx)?;
            tx.execute(
                "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
                params![SCHEMA_VERSION.to_string()],
            )
            .map_err(internal)?;
            tx.commit().map_err(internal)?;
        }
        Some(other) => {
            return Err(StoreError::Unavailable(format!(
            "database schema version {other:?} is not {SCHEMA_VERSION}; this xlrs cannot open it"
        )))
        }
    }
    Ok(())
}

/// Builds the activities table from every stored statement, in commit order.
fn backfill_activities(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let mut st = tx
        .prepare("SELECT body FROM statements ORDER BY seq")
        .map_err(internal)?;
    let mut rows = st.query([]).map_err(internal)?;
    while let Some(row) = rows.next().map_err(internal)? {
        let body: String = row.get(0).map_err(internal)?;
        if let Ok(statement) = serde_json::from_str::<Value>(&body) {
            merge_definitions(tx, &activity::definitions(&statement))?;
        }
    }
    Ok(())
}
