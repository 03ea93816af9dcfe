//! Storage contract: one object-safe async trait per concern, and the built-in backends.

pub mod sqlite;

use async_trait::async_trait;
use uuid::Uuid;

use crate::xapi::query::StatementQuery;
use crate::xapi::statement::PreparedStatement;

/// What a store can fail with; the API maps each kind to an HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A statement with this id exists with different content (409).
    #[error("statement {0} already exists with different content")]
    Conflict(Uuid),
    /// The batch breaks a rule only the store can check, e.g. voiding a voiding statement (400).
    #[error("{0}")]
    Rejected(String),
    /// The database cannot be reached now (503); nothing of the batch was kept.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else (500).
    #[error("store failure: {0}")]
    Internal(String),
}

/// An attachment's content, addressed by its SHA-256.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    /// SHA-256 of the content, lowercase hex.
    pub sha2: String,
    /// Its media type.
    pub content_type: String,
    /// The bytes.
    pub content: Vec<u8>,
}

/// One stored statement as a single GET sees it.
#[derive(Debug, Clone)]
pub struct StoredStatement {
    /// The statement JSON as stored.
    pub body: String,
    /// Whether a voiding statement voided it.
    pub voided: bool,
    /// Its `stored` time (µs since the epoch).
    pub stored: i64,
}

/// One page of a statement query.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Statement JSON bodies, in the requested order.
    pub statements: Vec<String>,
    /// The position to resume after, when more statements match.
    pub more: Option<i64>,
}

/// Statement storage.
#[async_trait]
pub trait StatementStore: Send + Sync {
    /// Stores a batch atomically: all of it or nothing. Re-sent identical statements are
    /// skipped; a conflicting id fails the whole batch.
    async fn insert(
        &self,
        batch: Vec<PreparedStatement>,
        attachments: Vec<Attachment>,
    ) -> Result<(), StoreError>;
    /// One statement by id, voided or not.
    async fn get(&self, id: Uuid) -> Result<Option<StoredStatement>, StoreError>;
    /// A page of non-voided statements matching the query.
    async fn query(&self, query: &StatementQuery) -> Result<Page, StoreError>;
    /// Every statement stored at or before this instant (µs) is visible to queries.
    async fn consistent_through(&self) -> Result<i64, StoreError>;
    /// Attachment contents by SHA-256; unknown hashes are left out.
    async fn attachments(&self, sha2s: &[String]) -> Result<Vec<Attachment>, StoreError>;
}
