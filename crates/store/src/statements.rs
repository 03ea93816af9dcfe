//! Statement storage, and what statements refer to that is kept beside them.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;
use xlrs_xapi::query::StatementQuery;
use xlrs_xapi::statement::PreparedStatement;

use crate::{DocumentStore, StoreError};

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

/// A statement stored although it broke rules of the specification, as an admission plugin
/// decided: what an operator looks up to find what was waived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdmissionRecord {
    /// Its position among the records (given by the store; ignored when keeping one).
    pub seq: i64,
    /// The statement.
    pub statement: Uuid,
    /// The admission plugin that decided.
    pub plugin: String,
    /// The rules the statement as sent broke (waived, or repaired), by name.
    pub rules: Vec<String>,
    /// True when it was stored as the plugin's repair, false when as sent.
    pub repaired: bool,
    /// The credential that sent it.
    pub credential: String,
    /// When it was stored (µs since the epoch).
    pub at: i64,
}

/// An admission record as kept with its statement: everything but the statement and its
/// position.
#[derive(serde::Serialize, serde::Deserialize)]
struct Note {
    plugin: String,
    rules: Vec<String>,
    repaired: bool,
    credential: String,
    at: i64,
}

impl AdmissionRecord {
    /// The record as the JSON note a database store keeps with the statement
    /// ([`PreparedStatement::admission`]).
    pub fn note(&self) -> String {
        let note = Note {
            plugin: self.plugin.clone(),
            rules: self.rules.clone(),
            repaired: self.repaired,
            credential: self.credential.clone(),
            at: self.at,
        };
        serde_json::to_string(&note).unwrap_or_default()
    }

    /// The record of a note kept with statement `statement` at position `seq`.
    pub fn from_note(seq: i64, statement: Uuid, note: &str) -> Result<Self, StoreError> {
        let note: Note = serde_json::from_str(note).map_err(|e| {
            StoreError::Internal(format!("the admission record of {statement}: {e}"))
        })?;
        Ok(Self {
            seq,
            statement,
            plugin: note.plugin,
            rules: note.rules,
            repaired: note.repaired,
            credential: note.credential,
            at: note.at,
        })
    }
}

/// Statement storage.
#[async_trait]
pub trait StatementStore: Send + Sync {
    /// Stores a batch atomically: all of it or nothing. Re-sent identical statements are
    /// skipped; a conflicting id fails the whole batch. Attachments are kept (in the
    /// [`ContentStore`]) before the statements, definitions after.
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
    /// The statements whose object is a StatementRef to `target` (a voiding statement among
    /// them), voided or not, newest first, at most `limit`; `None` when the store cannot tell.
    async fn referring_to(
        &self,
        target: Uuid,
        limit: usize,
    ) -> Result<Option<Vec<StoredStatement>>, StoreError>;
}

/// An activity definition a committed statement carries, at the statement's position.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    /// The activity's id.
    pub activity: String,
    /// The definition as the statement gave it.
    pub definition: Value,
    /// The statement's position (`stored`, µs).
    pub stored: i64,
}

/// What statements refer to, kept with them: attachment contents by SHA-256, and the canonical
/// definition of each activity (every stored definition merged in position order, see
/// `xlrs_xapi::activity::merge`). A database store keeps them in its database, where every
/// process sees them at once.
#[async_trait]
pub trait ContentStore: Send + Sync {
    /// Keeps attachment contents. Content-addressed: kept before the statements that refer to
    /// them, a failed batch leaves only unreferenced bytes, never a missing attachment.
    async fn keep_attachments(&self, attachments: Vec<Attachment>) -> Result<(), StoreError>;
    /// Keeps the activity definitions of committed statements, in position order.
    async fn keep_definitions(&self, definitions: Vec<Definition>) -> Result<(), StoreError>;
    /// Attachment contents by SHA-256; unknown hashes are left out.
    async fn attachments(&self, sha2s: &[String]) -> Result<Vec<Attachment>, StoreError>;
    /// The canonical definition of an activity; `None` when no statement defined it.
    async fn activity_definition(&self, id: &str) -> Result<Option<Value>, StoreError>;
}

/// The records of statements stored by admission.
#[async_trait]
pub trait AdmissionLog: Send + Sync {
    /// Keeps the records of statements stored by admission.
    async fn keep_admissions(&self, records: Vec<AdmissionRecord>) -> Result<(), StoreError>;
    /// Admission records after position `after`, oldest first, at most `limit`.
    async fn admissions(
        &self,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AdmissionRecord>, StoreError>;
}

/// The stores a server runs on.
#[derive(Clone)]
pub struct Stores {
    /// Statements.
    pub statements: Arc<dyn StatementStore>,
    /// State, Activity Profile and Agent Profile documents.
    pub documents: Arc<dyn DocumentStore>,
    /// Attachments and canonical activity definitions.
    pub content: Arc<dyn ContentStore>,
    /// Admission records.
    pub admissions: Arc<dyn AdmissionLog>,
    /// Removing and rewriting statements (erasure, retention); `None` for a store that cannot
    /// (a v0.1 backend plugin: its contract has no removal).
    pub lifecycle: Option<Arc<dyn crate::lifecycle::Lifecycle>>,
    /// What the store reports in `/metrics` beyond the server's own figures, if anything.
    pub gauges: Option<Arc<dyn StoreGauges>>,
}

/// Figures a store reports in `/metrics`.
pub trait StoreGauges: Send + Sync {
    /// Its lines of the Prometheus text exposition, each family with its HELP and TYPE.
    fn render(&self) -> String;
}

/// The figures of several parts of a store, one after the other.
impl StoreGauges for Vec<Arc<dyn StoreGauges>> {
    fn render(&self) -> String {
        self.iter().map(|g| g.render()).collect()
    }
}
