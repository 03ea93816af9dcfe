//! Document storage: State, Activity Profile and Agent Profile.

use async_trait::async_trait;

use crate::StoreError;

/// The three document resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// `/activities/state`: per activity, agent and optional registration.
    State,
    /// `/activities/profile`: per activity.
    ActivityProfile,
    /// `/agents/profile`: per agent.
    AgentProfile,
    /// The server's own records (e.g. forwarding cursors), kept with the documents so they get
    /// the same atomic preconditions; no xAPI resource reaches them.
    Internal,
}

impl DocumentKind {
    /// A short stable name, used as a storage key.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::State => "state",
            Self::ActivityProfile => "activity_profile",
            Self::AgentProfile => "agent_profile",
            Self::Internal => "xlrs_internal",
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

impl DocumentScope {
    /// A key naming one document of this scope's kind, activity and agent, with `registration`
    /// and `id`, short enough for any database key: SHA-256 of each part with its length,
    /// lowercase hex.
    pub fn hashed_key(&self, registration: &str, id: &str) -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for part in [
            self.kind.as_str(),
            &self.activity_id,
            &self.agent,
            registration,
            id,
        ] {
            hash.update(part.len().to_le_bytes());
            hash.update(part.as_bytes());
        }
        hex::encode(hash.finalize())
    }
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
