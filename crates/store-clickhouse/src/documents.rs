//! Documents (State, Activity Profile, Agent Profile) in ClickHouse. One row per write in a
//! ReplacingMergeTree keyed by the document's scope and id: the row with the highest version
//! is the document, a row marked `deleted` its absence; reads use `FINAL` (documents are looked
//! up by key, never scanned on a hot path).
//!
//! ClickHouse has no compare-and-set, so writes to one document are ordered by claims: a writer
//! reads the document's latest version V, checks the precondition against it, and claims "the
//! write that follows V" by inserting a row into `xlrs_document_claims` with the insert
//! deduplication token `<document>:<V>`. ClickHouse keeps only the first block inserted with a
//! token (the table's deduplication window holds the last 100,000 claims), so exactly one
//! writer's claim is there when each reads it back: that writer writes, with a version above V;
//! the others find the document changed (412 under a precondition; without one they read again
//! and claim anew). This holds across every process over the database. A writer killed between
//! its claim and its write would leave the version claimed for ever: a claim 30 s old whose
//! document is still at V is taken over by one writer (its token names the abandoned claim), so
//! such a document refuses conditional writes for at most 30 s; a writer that stalls more than
//! 30 s between its claim and its write could then lose its write to the one that took over.

use async_trait::async_trait;
use clickhouse::Row;
use serde::{Deserialize, Serialize};

use uuid::Uuid;
use xlrs_store::positions::now_micros;
use xlrs_store::{Document, DocumentScope, DocumentStore, Precondition, StoreError};

use crate::{failed, ClickHouse};

/// The documents table.
pub(crate) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS xlrs_documents (
    kind LowCardinality(String),
    activity_id String,
    agent String,
    registration String,
    id String,
    version Int64,
    deleted UInt8,
    content_type String,
    etag String,
    updated Int64,
    content String
) ENGINE = ReplacingMergeTree(version) ORDER BY (kind, activity_id, agent, registration, id)";

/// The claims table: which writer got the write that follows each version of a document.
pub(crate) const CLAIMS_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS xlrs_document_claims (
    document String,
    follows Int64,
    writer UUID,
    at Int64
) ENGINE = MergeTree ORDER BY (document, follows)
TTL toDateTime(intDiv(at, 1000000)) + INTERVAL 7 DAY
SETTINGS non_replicated_deduplication_window = 100000";

/// How many times a write without a precondition claims again after losing to another writer.
const UNCONDITIONAL_TRIES: usize = 20;

const KEY: &str = "kind = {kind:String} AND activity_id = {activity:String} \
                   AND agent = {agent:String} AND registration = {registration:String}";

/// One write of a document.
#[derive(Row, Serialize)]
struct DocumentRow<'a> {
    kind: &'a str,
    activity_id: &'a str,
    agent: &'a str,
    registration: &'a str,
    id: &'a str,
    version: i64,
    deleted: u8,
    content_type: &'a str,
    etag: &'a str,
    updated: i64,
    #[serde(with = "serde_bytes")]
    content: &'a [u8],
}

/// A document as read.
#[derive(Row, Deserialize)]
struct Found {
    content_type: String,
    etag: String,
    updated: i64,
    #[serde(with = "serde_bytes")]
    content: Vec<u8>,
}

/// The latest row of a document, tombstone or not.
#[derive(Row, Deserialize)]
struct Latest {
    version: i64,
    deleted: u8,
    etag: String,
}

/// A row of the claims table.
#[derive(Row, Serialize)]
struct Claim<'a> {
    document: &'a str,
    follows: i64,
    #[serde(with = "clickhouse::serde::uuid")]
    writer: Uuid,
    at: i64,
}

/// A claim as read back.
#[derive(Debug, Row, Deserialize)]
struct Claimant {
    #[serde(with = "clickhouse::serde::uuid")]
    writer: Uuid,
    at: i64,
}

/// What a claim came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Claimed {
    /// This writer's claim is the first.
    Won,
    /// This writer took over a claim whose writer never wrote (to check: still unwritten).
    TookOver,
    /// Another writer has the write.
    Lost,
}

/// How old (µs) a claim whose writer has not written is taken to be abandoned.
const ABANDONED_AFTER_MICROS: i64 = 30_000_000;

/// The claim that holds among the claims on one version, oldest first: the first, or the
/// claim that took over an abandoned one (made more than [`ABANDONED_AFTER_MICROS`] after
/// it). A later claim made sooner is a duplicate that slipped past the deduplication window
/// and is ignored, so every reader picks the same one.
fn winner_of(claims: &[Claimant]) -> Option<&Claimant> {
    let mut claims = claims.iter();
    let mut winner = claims.next()?;
    for next in claims {
        if next.at - winner.at > ABANDONED_AFTER_MICROS {
            winner = next;
        }
    }
    Some(winner)
}

/// A conditional write found the document changed by another writer since it was read.
fn changed() -> StoreError {
    StoreError::PreconditionFailed("the document changed while the request was handled".into())
}

/// A listed document.
#[derive(Row, Deserialize)]
struct Listed {
    id: String,
    updated: i64,
}

fn scoped(query: clickhouse::query::Query, scope: &DocumentScope) -> clickhouse::query::Query {
    query
        .param("kind", scope.kind.as_str())
        .param("activity", &scope.activity_id)
        .param("agent", &scope.agent)
        .param("registration", &scope.registration)
}

impl ClickHouse {
    async fn find(&self, scope: &DocumentScope, id: &str) -> Result<Option<Found>, StoreError> {
        let query = self.client.query(&format!(
            "SELECT content_type, etag, updated, content FROM xlrs_documents FINAL
             WHERE {KEY} AND id = {{id:String}} AND deleted = 0 LIMIT 1"
        ));
        scoped(query, scope)
            .param("id", id)
            .fetch_optional()
            .await
            .map_err(failed)
    }

    /// The latest row of a document (its version, and whether it is a tombstone).
    async fn latest(&self, scope: &DocumentScope, id: &str) -> Result<Option<Latest>, StoreError> {
        let query = self.client.query(&format!(
            "SELECT version, deleted, etag FROM xlrs_documents FINAL
             WHERE {KEY} AND id = {{id:String}} LIMIT 1"
        ));
        scoped(query, scope)
            .param("id", id)
            .fetch_optional()
            .await
            .map_err(failed)
    }

    /// Claims the write that follows version `follows` of a document; true when this writer
    /// got it (see the module's documentation). A claim whose writer never wrote (its process
    /// died between claim and write) is taken over once it is [`ABANDONED_AFTER_MICROS`] old,
    /// by one writer: the takeover's token names the claim it follows.
    async fn claim(&self, document: &str, follows: i64) -> Result<Claimed, StoreError> {
        let writer = Uuid::new_v4();
        let mut token = format!("{document}:{follows}");
        for attempt in 0..3 {
            self.insert_claim(document, follows, writer, &token).await?;
            let claims: Vec<Claimant> = self
                .client
                .query(
                    "SELECT writer, at FROM xlrs_document_claims
                     WHERE document = {document:String} AND follows = {follows:Int64}
                     ORDER BY at, writer",
                )
                .param("document", document)
                .param("follows", follows)
                .fetch_all()
                .await
                .map_err(failed)?;
            let Some(winner) = winner_of(&claims) else {
                return Ok(Claimed::Lost);
            };
            if winner.writer == writer {
                return Ok(match attempt {
                    0 => Claimed::Won,
                    _ => Claimed::TookOver,
                });
            }
            if now_micros() - winner.at <= ABANDONED_AFTER_MICROS {
                return Ok(Claimed::Lost);
            }
            tracing::warn!(
                document,
                follows,
                "a claim on a document was never written (its process died?); taking it over"
            );
            token = format!("{document}:{follows}:{}", winner.writer);
        }
        Ok(Claimed::Lost)
    }

    /// Inserts a claim under the deduplication token `token`.
    async fn insert_claim(
        &self,
        document: &str,
        follows: i64,
        writer: Uuid,
        token: &str,
    ) -> Result<(), StoreError> {
        let client = self
            .client
            .clone()
            .with_setting("insert_deduplication_token", token);
        let claim = Claim {
            document,
            follows,
            writer,
            at: now_micros(),
        };
        self.insert_rows::<Claim>(&client, "xlrs_document_claims", &[claim])
            .await
    }

    /// Writes `document` (or its tombstone, `None`) once `precondition` holds and this writer
    /// has the claim on the version it was checked against. Whether a document was there.
    async fn write_claimed(
        &self,
        scope: &DocumentScope,
        id: &str,
        document: Option<&Document>,
        precondition: &Precondition,
    ) -> Result<bool, StoreError> {
        let key = scope.hashed_key(&scope.registration, id);
        for _ in 0..UNCONDITIONAL_TRIES {
            let latest = self.latest(scope, id).await?;
            let live = latest.as_ref().filter(|l| l.deleted == 0);
            precondition.check(live.map(|l| l.etag.as_str()))?;
            if document.is_none() && live.is_none() {
                return Ok(false);
            }
            let follows = latest.as_ref().map_or(0, |l| l.version);
            let mut won = self.claim(&key, follows).await?;
            if won == Claimed::TookOver {
                // The abandoned claim's writer may have written after all: only while the
                // document is still at `follows` is the write this one's.
                let now = self.latest(scope, id).await?;
                if now.map_or(0, |l| l.version) != follows {
                    won = Claimed::Lost;
                }
            }
            if won != Claimed::Lost {
                let mut version = follows;
                self.write_documents(&mut version, scope, &[(&scope.registration, id, document)])
                    .await?;
                return Ok(live.is_some());
            }
            if *precondition != Precondition::None {
                return Err(changed());
            }
        }
        Err(StoreError::Unavailable(format!(
            "document {id}: {UNCONDITIONAL_TRIES} other writers got in first; try again"
        )))
    }

    /// Writes rows in one insert, each with the next version: `(registration, id, document)`
    /// of `scope`'s kind, activity and agent; no document writes a tombstone.
    async fn write_documents(
        &self,
        last_version: &mut i64,
        scope: &DocumentScope,
        rows: &[(&str, &str, Option<&Document>)],
    ) -> Result<(), StoreError> {
        let rows: Vec<DocumentRow> = rows
            .iter()
            .map(|&(registration, id, document)| {
                *last_version = (*last_version + 1).max(now_micros());
                DocumentRow {
                    kind: scope.kind.as_str(),
                    activity_id: &scope.activity_id,
                    agent: &scope.agent,
                    registration,
                    id,
                    version: *last_version,
                    deleted: u8::from(document.is_none()),
                    content_type: document.map_or("", |d| d.content_type.as_str()),
                    etag: document.map_or("", |d| d.etag.as_str()),
                    updated: document.map_or(0, |d| d.updated),
                    content: document.map_or(&[], |d| d.content.as_slice()),
                }
            })
            .collect();
        self.insert_rows::<DocumentRow>(&self.client, "xlrs_documents", &rows)
            .await
    }
}

#[async_trait]
impl DocumentStore for ClickHouse {
    async fn get_document(
        &self,
        scope: &DocumentScope,
        id: &str,
    ) -> Result<Option<Document>, StoreError> {
        Ok(self.find(scope, id).await?.map(|f| Document {
            content: f.content,
            content_type: f.content_type,
            etag: f.etag,
            updated: f.updated,
        }))
    }

    async fn list_documents(
        &self,
        scope: &DocumentScope,
        since: Option<i64>,
    ) -> Result<(Vec<String>, Option<i64>), StoreError> {
        let query = self.client.query(&format!(
            "SELECT id, updated FROM xlrs_documents FINAL
             WHERE {KEY} AND deleted = 0 AND updated > {{since:Int64}} ORDER BY id"
        ));
        let rows: Vec<Listed> = scoped(query, scope)
            .param("since", since.unwrap_or(i64::MIN))
            .fetch_all()
            .await
            .map_err(failed)?;
        let newest = rows.iter().map(|r| r.updated).max();
        Ok((rows.into_iter().map(|r| r.id).collect(), newest))
    }

    async fn put_document(
        &self,
        scope: &DocumentScope,
        id: &str,
        document: Document,
        precondition: Precondition,
    ) -> Result<(), StoreError> {
        self.write_claimed(scope, id, Some(&document), &precondition)
            .await
            .map(|_| ())
    }

    async fn delete_document(
        &self,
        scope: &DocumentScope,
        id: &str,
        precondition: Precondition,
    ) -> Result<bool, StoreError> {
        self.write_claimed(scope, id, None, &precondition).await
    }

    async fn delete_documents(&self, scope: &DocumentScope) -> Result<(), StoreError> {
        // No precondition, no claims: each tombstone gets a version above every write so far.
        let mut version = now_micros();
        // For State without a registration: the documents of every registration.
        let any_registration = scope.registration.is_empty();
        let query = self.client.query(
            "SELECT registration, id FROM xlrs_documents FINAL
             WHERE kind = {kind:String} AND activity_id = {activity:String}
               AND agent = {agent:String} AND deleted = 0
               AND ({any:UInt8} = 1 OR registration = {registration:String})",
        );
        #[derive(Row, Deserialize)]
        struct Key {
            registration: String,
            id: String,
        }
        let keys: Vec<Key> = scoped(query, scope)
            .param("any", u8::from(any_registration))
            .fetch_all()
            .await
            .map_err(failed)?;
        let rows: Vec<(&str, &str, Option<&Document>)> = keys
            .iter()
            .map(|k| (k.registration.as_str(), k.id.as_str(), None))
            .collect();
        if !rows.is_empty() {
            self.write_documents(&mut version, scope, &rows).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(writer: u128, at: i64) -> Claimant {
        Claimant {
            writer: Uuid::from_u128(writer),
            at,
        }
    }

    #[test]
    fn the_first_claim_holds_until_it_is_abandoned_and_one_takes_it_over() {
        let second = 1_000;
        let late = ABANDONED_AFTER_MICROS + 2 * second;
        assert_eq!(winner_of(&[]).map(|c| c.writer), None);
        let duplicate = [claim(1, 0), claim(2, second)];
        assert_eq!(
            winner_of(&duplicate).map(|c| c.writer),
            Some(Uuid::from_u128(1))
        );
        let taken_over = [claim(1, 0), claim(2, second), claim(3, late)];
        assert_eq!(
            winner_of(&taken_over).map(|c| c.writer),
            Some(Uuid::from_u128(3))
        );
        let again = [claim(1, 0), claim(3, late), claim(4, late + second)];
        assert_eq!(
            winner_of(&again).map(|c| c.writer),
            Some(Uuid::from_u128(3))
        );
    }
}
