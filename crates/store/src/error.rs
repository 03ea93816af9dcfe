//! What a store can fail with.

use uuid::Uuid;

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
    /// Another process stored one of a round's ids while the round was written, and the
    /// database kept nothing of the round: group commit checks the round again (500 with
    /// Retry-After, should it race every time).
    #[error("another process stored the same statement id at the same moment: {0}")]
    Raced(String),
    /// Anything else (500).
    #[error("store failure: {0}")]
    Internal(String),
}

impl StoreError {
    /// Adds where the database was expected to an [`StoreError::Unavailable`] met at start-up.
    pub fn unreachable_at(self, place: &str) -> Self {
        match self {
            Self::Unavailable(m) => Self::Unavailable(format!("{m} (is it running at {place}?)")),
            other => other,
        }
    }
}
