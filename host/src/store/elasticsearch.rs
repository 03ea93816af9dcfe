//! Elasticsearch (or OpenSearch) as the statement store (`XLRS_STORE=elasticsearch`).
//!
//! Three indices. Ralph's index (`index`, default `statements`) holds each statement exactly as
//! Ralph writes it: `_id` the statement id, `_source` the statement, so Ralph's readers and
//! Kibana dashboards keep working. xlrs queries its own index (`query_index`): per statement
//! its query fields as `keyword`s, its position `stored` (µs, unique, increasing: one writer
//! per process hands them out) and the statement JSON in a field that is not indexed. A
//! separate index keeps Ralph's documents free of fields an xAPI statement must not have. Its
//! `target` object copies the filter fields of the statement a StatementRef points at, so the
//! filters that follow references are one query; `voided_at` is the position of the voiding
//! statement. Statements found in Ralph's index at start-up that the query index lacks are
//! indexed then, so a Ralph deployment switches without a migration.
//!
//! Elasticsearch has no multi-document transactions. Inserts are group-committed one round at a
//! time under the writer lock: ids are checked with one `_mget`, the round is written in one
//! `_bulk` with `refresh=wait_for`. While a round is in flight, queries and GETs only see
//! positions (`stored`, `voided_at`, `target.stored`) up to the committed watermark, the last
//! position of the rounds fully written; otherwise they are unbounded, so statements other xlrs
//! processes wrote are seen too (a read a round overlapped runs again, bounded). When any item
//! fails, every item written is taken back before the answer, and until
//! that undo succeeds no other round is written. Documents live in a third index
//! (`elasticsearch_documents`); attachments and canonical activity definitions in the embedded
//! store.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use elasticsearch::http::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use super::elasticsearch_client::EsClient;
use super::elasticsearch_write::Op;
use super::group_commit::{self, GroupCommit, Job};
use super::sqlite::{merge_page, SqliteStore};
use super::{Attachment, Page, StatementStore, StoreError, StoredStatement};
use crate::config::ElasticsearchSettings;
use crate::xapi::query::StatementQuery;
use crate::xapi::statement::PreparedStatement;

/// Layout version of the query index (in its mapping's `_meta`); bump with a migration.
const LAYOUT_VERSION: u64 = 1;

/// Documents read per round when adopting Ralph's index or finding referring statements.
pub(super) const CHUNK: usize = 1000;

/// Statements in Elasticsearch; attachments and definitions in the embedded store.
pub struct ElasticsearchStore {
    /// Shared with the commit tasks.
    pub(super) inner: Arc<Inner>,
}

/// What the store holds; shared with the commit task.
pub(super) struct Inner {
    /// The server.
    pub(super) es: EsClient,
    /// Ralph's index, when written.
    pub(super) ralph: Option<String>,
    /// The index xlrs queries.
    pub(super) query_index: String,
    /// The documents index.
    pub(super) documents_index: String,
    /// The embedded store: attachments and activity definitions.
    pub(super) side: Arc<SqliteStore>,
    /// The writer: held by the commit in progress, so commits never overlap.
    pub(super) writer: tokio::sync::Mutex<Writer>,
    /// Insert calls waiting for the next commit, which writes them all at once.
    pub(super) queue: std::sync::Mutex<Vec<Job>>,
    /// The highest position of a round of this process fully written: while another round
    /// is in flight, reads see nothing above it (see [`Inner::bounded`]).
    pub(super) committed: AtomicI64,
    /// Rounds started, so a read can tell that one started while it ran.
    pub(super) rounds: AtomicU64,
    /// A failed round is not taken back yet: reads stay bounded until it is.
    pub(super) undo_pending: AtomicBool,
    /// `stored` of the insert in progress (0 when none), for Consistent-Through.
    pub(super) pending_since: AtomicI64,
    /// Held by each document write, so a precondition is checked and acted on at once.
    pub(super) documents: tokio::sync::Mutex<()>,
}

/// The writer's state.
pub(super) struct Writer {
    /// The last position handed out.
    pub(super) last: i64,
    /// Writes of a failed round not yet taken back; no round is written before they are.
    pub(super) undo: Vec<Op>,
}

/// The query index: keywords for the filters, longs for positions, the statement unindexed.
fn query_mapping() -> Value {
    let filters = json!({
        "stored": {"type": "long"},
        "verb": {"type": "keyword"},
        "agents": {"type": "keyword"},
        "direct_agents": {"type": "keyword"},
        "activities": {"type": "keyword"},
        "direct_activities": {"type": "keyword"},
        "registration": {"type": "keyword"},
    });
    let mut properties = filters.clone();
    for (name, mapping) in [
        ("statement_ref", json!({"type": "keyword"})),
        ("voids", json!({"type": "keyword"})),
        ("authority", json!({"type": "keyword"})),
        ("content_hash", json!({"type": "keyword", "index": false})),
        ("voided_at", json!({"type": "long"})),
        ("target", json!({"properties": filters})),
        ("body", json!({"type": "text", "index": false})),
    ] {
        properties[name] = mapping;
    }
    json!({"mappings": {
        "_meta": {"xlrs_layout": LAYOUT_VERSION},
        "dynamic": "strict",
        "properties": properties,
    }})
}

/// Ralph's index when xlrs creates it: mapped dynamically as Ralph's own is (so Ralph's
/// `verb.id.keyword` style queries work), with `timestamp` and `stored` as dates (Ralph sorts
/// and filters on `timestamp`) and extensions not indexed: their values may have any type,
/// and a dynamic mapping would refuse a statement whose extension changed type.
fn ralph_mapping() -> Value {
    json!({"mappings": {
        "dynamic_templates": [{"xapi_extensions": {
            "path_match": "*extensions",
            "match_mapping_type": "object",
            "mapping": {"type": "object", "enabled": false},
        }}],
        "properties": {
            "timestamp": {"type": "date"},
            "stored": {"type": "date"},
        },
    }})
}

impl ElasticsearchStore {
    /// Connects, creates the indices when missing, and indexes statements of Ralph's index the
    /// query index lacks. An unreachable server is [`StoreError::Unavailable`].
    pub async fn open(
        settings: &ElasticsearchSettings,
        side: Arc<SqliteStore>,
    ) -> Result<Self, StoreError> {
        let inner = Inner {
            es: EsClient::new(settings)?,
            ralph: (!settings.index.is_empty()).then(|| settings.index.clone()),
            query_index: settings.query_index.clone(),
            documents_index: settings.documents_index.clone(),
            side,
            writer: tokio::sync::Mutex::new(Writer {
                last: 0,
                undo: Vec::new(),
            }),
            queue: std::sync::Mutex::new(Vec::new()),
            committed: AtomicI64::new(0),
            rounds: AtomicU64::new(0),
            undo_pending: AtomicBool::new(false),
            pending_since: AtomicI64::new(0),
            documents: tokio::sync::Mutex::new(()),
        };
        inner.ensure_layout().await.map_err(|e| match e {
            StoreError::Unavailable(m) => {
                StoreError::Unavailable(format!("{m} (is it running at {}?)", settings.url))
            }
            other => other,
        })?;
        let last = inner.max_stored().await?;
        inner.writer.lock().await.last = last;
        inner.committed.store(last, Ordering::SeqCst);
        let adopted = inner.adopt_ralph().await?;
        if adopted > 0 {
            tracing::info!(adopted, "indexed statements found in Ralph's index");
        }
        Ok(Self {
            inner: Arc::new(inner),
        })
    }
}

impl Inner {
    /// Creates the indices that are missing and refuses a query index of a newer layout.
    /// Runs at start and again after the server was lost (a server that lost its data gets
    /// empty indices back, so writes work again).
    pub(super) async fn ensure_layout(&self) -> Result<(), StoreError> {
        let q = &self.query_index;
        if self.es.exists(q).await? {
            let mapping = self
                .es
                .json(Method::Get, &format!("/{q}/_mapping"), &[], &Value::Null)
                .await?;
            let version = mapping
                .as_object()
                .and_then(|m| m.values().next())
                .and_then(|m| m.pointer("/mappings/_meta/xlrs_layout"))
                .and_then(Value::as_u64)
                .unwrap_or(0);
            if version > LAYOUT_VERSION {
                return Err(StoreError::Internal(format!(
                    "the index {q} has layout version {version}, newer than this xlrs knows ({LAYOUT_VERSION}); upgrade xlrs"
                )));
            }
        } else {
            self.create_index(q, &query_mapping()).await?;
        }
        if let Some(ralph) = &self.ralph {
            if !self.es.exists(ralph).await? {
                self.create_index(ralph, &ralph_mapping()).await?;
            }
        }
        if !self.es.exists(&self.documents_index).await? {
            self.create_index(
                &self.documents_index,
                &super::elasticsearch_documents::mapping(),
            )
            .await?;
        }
        self.es.layout_ok.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn create_index(&self, index: &str, mapping: &Value) -> Result<(), StoreError> {
        let reply = self
            .es
            .call(
                Method::Put,
                &format!("/{index}"),
                &[],
                Some(mapping.to_string()),
                false,
            )
            .await;
        match reply {
            Ok(_) => Ok(()),
            // Created meanwhile by another process: fine.
            Err(StoreError::Internal(m)) if m.contains("resource_already_exists_exception") => {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Makes sure of the indices again when a call found the server gone or one missing.
    pub(super) async fn ready(&self) -> Result<(), StoreError> {
        if self.es.layout_ok.load(Ordering::SeqCst) {
            Ok(())
        } else {
            self.ensure_layout().await
        }
    }

    /// Runs a read with the highest position it may see. With no round of this process in
    /// flight or waiting to be taken back nothing needs hiding, so the read is unbounded and
    /// sees what other xlrs processes wrote too; if a round started meanwhile, or one is in
    /// flight, it runs bounded by the watermark, so no part of an unfinished round is seen.
    pub(super) async fn bounded<T, F, Fut>(&self, read: F) -> Result<T, StoreError>
    where
        F: Fn(i64) -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let quiet = || {
            self.pending_since.load(Ordering::SeqCst) == 0
                && !self.undo_pending.load(Ordering::SeqCst)
        };
        let round = self.rounds.load(Ordering::SeqCst);
        if quiet() {
            let found = read(i64::MAX).await?;
            if quiet() && self.rounds.load(Ordering::SeqCst) == round {
                return Ok(found);
            }
        }
        read(self.committed.load(Ordering::SeqCst)).await
    }

    /// The highest position in the query index (0 when empty).
    async fn max_stored(&self) -> Result<i64, StoreError> {
        let found = self
            .es
            .json(
                Method::Post,
                &format!("/{}/_search", self.query_index),
                &[],
                &json!({"size": 1, "_source": ["stored"], "sort": [{"stored": "desc"}]}),
            )
            .await?;
        Ok(found
            .pointer("/hits/hits/0/_source/stored")
            .and_then(Value::as_i64)
            .unwrap_or(0))
    }

    pub(super) async fn count(&self, index: &str) -> Result<u64, StoreError> {
        let reply = self
            .es
            .json(Method::Post, &format!("/{index}/_count"), &[], &json!({}))
            .await?;
        Ok(reply.get("count").and_then(Value::as_u64).unwrap_or(0))
    }
}

impl GroupCommit for Inner {
    type Writer = Writer;

    fn queue(&self) -> &std::sync::Mutex<Vec<Job>> {
        &self.queue
    }

    fn writer(&self) -> &tokio::sync::Mutex<Writer> {
        &self.writer
    }

    async fn commit(&self, jobs: Vec<Job>, writer: &mut Writer) {
        self.commit_round(jobs, writer).await
    }
}

#[async_trait]
impl StatementStore for ElasticsearchStore {
    async fn insert(
        &self,
        batch: Vec<PreparedStatement>,
        attachments: Vec<Attachment>,
    ) -> Result<(), StoreError> {
        group_commit::insert(&self.inner, batch, attachments).await
    }

    async fn get(&self, id: Uuid) -> Result<Option<StoredStatement>, StoreError> {
        self.inner.ready().await?;
        let reply = self
            .inner
            .es
            .call(
                Method::Get,
                &format!("/{}/_doc/{id}", self.inner.query_index),
                &[("_source_includes", "stored,voided_at,body")],
                None,
                false,
            )
            .await?;
        if reply.status == 404 || reply.body.get("found").and_then(Value::as_bool) != Some(true) {
            return Ok(None);
        }
        let source = reply.body.get("_source").unwrap_or(&Value::Null);
        let stored = source
            .get("stored")
            .and_then(Value::as_i64)
            .unwrap_or(i64::MAX);
        let voided_at = source.get("voided_at").and_then(Value::as_i64);
        let body = source
            .get("body")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        // A real-time GET: the bound is checked on what it returned.
        self.inner
            .bounded(|bound| {
                let found = (stored <= bound).then(|| StoredStatement {
                    body: body.clone(),
                    voided: voided_at.is_some_and(|at| at <= bound),
                    stored,
                });
                async move { Ok(found) }
            })
            .await
    }

    async fn query(&self, q: &StatementQuery) -> Result<Page, StoreError> {
        self.inner.ready().await?;
        let rows = self
            .inner
            .bounded(|bound| self.inner.search(q, bound))
            .await?;
        Ok(merge_page(q, rows, Vec::new()))
    }

    async fn consistent_through(&self) -> Result<i64, StoreError> {
        Ok(super::consistent_through(&self.inner.pending_since))
    }

    async fn attachments(&self, sha2s: &[String]) -> Result<Vec<Attachment>, StoreError> {
        self.inner.side.attachments(sha2s).await
    }

    async fn activity_definition(&self, id: &str) -> Result<Option<Value>, StoreError> {
        self.inner.side.activity_definition(id).await
    }
}
