//! What erasure and retention need of a store: statements removed, or rewritten in place, by
//! id and position; the documents kept for an agent.

use async_trait::async_trait;
use uuid::Uuid;

use crate::group_commit::Positioned;
use crate::{DocumentScope, StoreError};

/// A stored statement by id and position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Located {
    /// Its id.
    pub id: Uuid,
    /// Its position: `stored`, µs since the epoch.
    pub stored: i64,
}

/// Removing and rewriting stored data, for erasure and retention. Every operation may be
/// repeated after a failure: what is gone stays gone, a rewrite done twice is one rewrite.
#[async_trait]
pub trait Lifecycle: Send + Sync {
    /// Removes these statements, voided or not: their rows, their index entries and admission
    /// records, and the contents of the `attachments` (SHA-256) no remaining statement refers
    /// to. Other statements keep their positions, so `more` cursors stay valid. How many
    /// attachment contents went.
    async fn remove_statements(
        &self,
        statements: &[Located],
        attachments: &[String],
    ) -> Result<u64, StoreError>;
    /// Replaces stored statements with new versions at the same id and position (their
    /// `needs_timestamp` false: the stored body has its timestamp). `erased`: agent keys the
    /// old versions are indexed under and the new ones are not.
    async fn rewrite_statements(
        &self,
        statements: &[Positioned<'_>],
        erased: &[String],
    ) -> Result<(), StoreError>;
    /// Removes what is still indexed under these agent keys once their statements are gone
    /// (index rows a removal that failed half-way left); nothing for a store whose index
    /// lives in the statements themselves.
    async fn forget_agents(&self, _agents: &[String]) -> Result<(), StoreError> {
        Ok(())
    }
    /// The State and Agent Profile documents kept for any of these agent keys.
    async fn agent_documents(
        &self,
        agents: &[String],
    ) -> Result<Vec<(DocumentScope, String)>, StoreError>;
    /// Removes documents with every earlier version of them the store keeps; how many were
    /// there. `updated_before` (retention): only if still not updated since then (µs), so a
    /// document written meanwhile stays.
    async fn remove_documents(
        &self,
        documents: &[(DocumentScope, String)],
        updated_before: Option<i64>,
    ) -> Result<u64, StoreError>;
    /// Removes every statement stored before `before` (µs) in one go, for a store with a
    /// cheaper way than batches by id (ClickHouse: a lightweight `DELETE` by its sort key per
    /// table), with the attachment contents no remaining statement names: (statements,
    /// attachments) removed. `None`: no such way; retention removes batches by id.
    async fn remove_stored_before(&self, _before: i64) -> Result<Option<(u64, u64)>, StoreError> {
        Ok(None)
    }
    /// State, Activity Profile and Agent Profile documents last updated before `before` (µs),
    /// at most `limit`.
    async fn documents_before(
        &self,
        before: i64,
        limit: usize,
    ) -> Result<Vec<(DocumentScope, String)>, StoreError>;
}

/// A document kind by its storage name; `None` for the server's own records.
pub fn xapi_kind(name: &str) -> Option<crate::DocumentKind> {
    use crate::DocumentKind;
    [
        DocumentKind::State,
        DocumentKind::ActivityProfile,
        DocumentKind::AgentProfile,
    ]
    .into_iter()
    .find(|k| k.as_str() == name)
}

/// The storage names of the xAPI document kinds (not the server's own records).
pub const XAPI_KINDS: [&str; 3] = ["state", "activity_profile", "agent_profile"];
