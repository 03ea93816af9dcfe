//! Storage contract: one object-safe async trait per concern, and the built-in backends.

pub mod clickhouse;
mod clickhouse_documents;
#[cfg(any(test, feature = "contract"))]
pub mod contract;
pub mod elasticsearch;
mod elasticsearch_adopt;
mod elasticsearch_client;
mod elasticsearch_documents;
mod elasticsearch_query;
mod elasticsearch_write;
mod group_commit;
pub mod mongo;
mod mongo_documents;
pub mod plugin;
pub mod sqlite;
mod sqlite_documents;

use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;

use crate::xapi::query::StatementQuery;
use crate::xapi::statement::PreparedStatement;

/// What a store can fail with; the API maps each kind to an HTTP status.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A statement with this id exists with different content (409).
    #[error("statement {0} already exists with different content")]
    Conflict(Uuid),
    /// The batch breaks a rule only the store can check, e.g. voiding a voiding statement (400).
    #[error("{0}")]
    Rejected(String),
    /// The database cannot be reached now (500 with Retry-After); nothing of the batch was kept.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A concurrency precondition (If-Match / If-None-Match) does not hold (412).
    #[error("{0}")]
    PreconditionFailed(String),
    /// Anything else (500).
    #[error("store failure: {0}")]
    Internal(String),
}

/// Store failures the API has answered with a 5xx, by kind, since start.
pub struct StoreErrorCounts {
    /// [`StoreError::Unavailable`] (500 with Retry-After).
    pub unavailable: std::sync::atomic::AtomicU64,
    /// [`StoreError::Internal`] (500).
    pub internal: std::sync::atomic::AtomicU64,
}

/// Process-wide store failure counts, for `/metrics`.
pub static STORE_ERRORS: StoreErrorCounts = StoreErrorCounts {
    unavailable: std::sync::atomic::AtomicU64::new(0),
    internal: std::sync::atomic::AtomicU64::new(0),
};

/// Consistent-Through for a store whose writer marks `pending_since` (the first `stored` of
/// the write in progress, 0 when none): every statement stored before it is visible.
pub(crate) fn consistent_through(pending_since: &std::sync::atomic::AtomicI64) -> i64 {
    // Read the clock before the pending marker: a write that starts after the marker was
    // read assigns `stored` values at or after `now`.
    let now = crate::xapi::time::now_micros();
    let pending = pending_since.load(std::sync::atomic::Ordering::SeqCst);
    if pending == 0 {
        now - 1
    } else {
        pending.min(now) - 1
    }
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
    /// The newest `stored` (µs) among the page's statements, for `Last-Modified`.
    pub last_stored: Option<i64>,
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
    /// The canonical definition of an activity: every stored definition of it merged in
    /// commit order (see `xapi::activity::merge`); `None` when no statement defined it.
    async fn activity_definition(&self, id: &str) -> Result<Option<Value>, StoreError>;
}

/// The three document resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// `/activities/state`: per activity, agent and optional registration.
    State,
    /// `/activities/profile`: per activity.
    ActivityProfile,
    /// `/agents/profile`: per agent.
    AgentProfile,
}

impl DocumentKind {
    /// A short stable name, used as a storage key.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::State => "state",
            Self::ActivityProfile => "activity_profile",
            Self::AgentProfile => "agent_profile",
        }
    }
}

/// Where documents live: the kind plus the identifiers that scope it ("" where unused).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocumentScope {
    /// Which resource.
    pub kind: DocumentKind,
    /// Activity IRI (State, Activity Profile).
    pub activity_id: String,
    /// Agent key (State, Agent Profile), see `xapi::agent::ifi_key`.
    pub agent: String,
    /// Registration UUID (State, optional).
    pub registration: String,
}

/// A stored document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The bytes as sent.
    pub content: Vec<u8>,
    /// The media type it was sent with.
    pub content_type: String,
    /// Its ETag value (unquoted hex).
    pub etag: String,
    /// When it was last written (µs since the epoch).
    pub updated: i64,
}

/// A write's concurrency condition, checked atomically with the write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// No condition.
    None,
    /// The document must exist with this ETag.
    IfMatch(String),
    /// The document must not exist (`If-None-Match: *`).
    IfNoneMatch,
    /// The document must not exist, or exist with this ETag (merge after a read).
    Unchanged(Option<String>),
}

impl Precondition {
    /// Checks the condition against the document's current ETag (`None`: no document).
    pub fn check(&self, current: Option<&str>) -> Result<(), StoreError> {
        let ok = match self {
            Self::None => true,
            Self::IfMatch(etag) => current == Some(etag.as_str()),
            Self::IfNoneMatch => current.is_none(),
            Self::Unchanged(expected) => current == expected.as_deref(),
        };
        if ok {
            Ok(())
        } else {
            Err(StoreError::PreconditionFailed(match self {
                Self::IfNoneMatch => "the document already exists (If-None-Match: *)".into(),
                Self::Unchanged(_) => "the document changed while it was being merged".into(),
                _ => "the document's ETag does not match If-Match".into(),
            }))
        }
    }
}

/// Document storage: State, Activity Profile and Agent Profile.
#[async_trait]
pub trait DocumentStore: Send + Sync {
    /// One document.
    async fn get_document(
        &self,
        scope: &DocumentScope,
        id: &str,
    ) -> Result<Option<Document>, StoreError>;
    /// Ids of the documents in a scope, updated after `since` (µs) when given, with the time
    /// (µs) the newest of them was updated.
    async fn list_documents(
        &self,
        scope: &DocumentScope,
        since: Option<i64>,
    ) -> Result<(Vec<String>, Option<i64>), StoreError>;
    /// Creates or replaces a document if the precondition holds.
    async fn put_document(
        &self,
        scope: &DocumentScope,
        id: &str,
        document: Document,
        precondition: Precondition,
    ) -> Result<(), StoreError>;
    /// Deletes one document if the precondition holds; false when there was none.
    async fn delete_document(
        &self,
        scope: &DocumentScope,
        id: &str,
        precondition: Precondition,
    ) -> Result<bool, StoreError>;
    /// Deletes every document of a scope; for State without registration, of every registration.
    async fn delete_documents(&self, scope: &DocumentScope) -> Result<(), StoreError>;
}
