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
//! `_bulk` with `refresh=wait_for`, and it becomes visible when the writer raises the committed
//! watermark: queries and GETs only see positions (`stored`, `voided_at`, `target.stored`) at or
//! below it. When any item fails, every item written is taken back before the answer, and until
//! that undo succeeds no other round is written. Documents live in a third index
//! (`elasticsearch_documents`); attachments and canonical activity definitions in the embedded
//! store.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use elasticsearch::http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::elasticsearch_client::{reason, EsClient};
use super::group_commit::{accept, adoptable, Job};
use super::sqlite::{merge_page, SqliteStore};
use super::{Attachment, Page, StatementStore, StoreError, StoredStatement};
use crate::config::ElasticsearchSettings;
use crate::xapi::query::StatementQuery;
use crate::xapi::statement::{finish_body, PreparedStatement};
use crate::xapi::time::{format_micros, now_micros};
use crate::xapi::validate::parse_timestamp;

/// Layout version of the query index (in its mapping's `_meta`); bump with a migration.
const LAYOUT_VERSION: u64 = 1;

/// Documents read per round when adopting Ralph's index or finding referring statements.
const CHUNK: usize = 1000;

/// Statements in Elasticsearch; attachments and definitions in the embedded store.
pub struct ElasticsearchStore {
    pub(super) inner: Arc<Inner>,
}

/// What the store holds; shared with the commit task.
pub(super) struct Inner {
    pub(super) es: EsClient,
    /// Ralph's index, when written.
    ralph: Option<String>,
    /// The index xlrs queries.
    pub(super) query_index: String,
    /// The documents index.
    pub(super) documents_index: String,
    side: Arc<SqliteStore>,
    /// The writer: held by the commit in progress, so commits never overlap.
    writer: tokio::sync::Mutex<Writer>,
    /// Insert calls waiting for the next commit, which writes them all at once.
    queue: std::sync::Mutex<Vec<Job>>,
    /// The highest position of a fully written round: queries see nothing above it.
    pub(super) committed: AtomicI64,
    /// `stored` of the insert in progress (0 when none), for Consistent-Through.
    pending_since: AtomicI64,
    /// Held by each document write, so a precondition is checked and acted on at once.
    pub(super) documents: tokio::sync::Mutex<()>,
}

/// The writer's state.
struct Writer {
    /// The last position handed out.
    last: i64,
    /// Writes of a failed round not yet taken back; no round is written before they are.
    undo: Vec<Op>,
}

/// The filter fields of a statement, also copied into the statements that reference it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Filters {
    /// Position: `stored` in µs.
    pub(super) stored: i64,
    #[serde(default)]
    verb: String,
    #[serde(default)]
    agents: Vec<String>,
    #[serde(default)]
    direct_agents: Vec<String>,
    #[serde(default)]
    activities: Vec<String>,
    #[serde(default)]
    direct_activities: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    registration: Option<String>,
}

/// A document of the query index.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct QueryDoc {
    #[serde(flatten)]
    filters: Filters,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    statement_ref: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    voids: Option<Uuid>,
    #[serde(default)]
    authority: String,
    #[serde(default)]
    content_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    voided_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target: Option<Filters>,
    #[serde(default)]
    body: String,
}

/// A stored statement whose StatementRef points at a statement being written.
struct Referrer {
    id: Uuid,
    statement_ref: Uuid,
    /// The statement it voids, when it is a voiding statement.
    voids: Option<Uuid>,
    /// Whether its `target` is set already.
    has_target: bool,
    /// Its position.
    stored: i64,
}

/// One write of a round, remembered to take it back.
#[derive(Debug, Clone)]
enum Op {
    /// A statement created in an index at a position.
    Create {
        index: String,
        id: Uuid,
        stored: i64,
    },
    /// `voided_at` set on a statement that had none.
    SetVoided { id: Uuid },
    /// `target` set on a statement that had none.
    SetTarget { id: Uuid },
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

fn query_doc(s: &PreparedStatement, stored: i64, body: String) -> QueryDoc {
    let pick = |list: &[(String, bool)], direct_only: bool| -> Vec<String> {
        list.iter()
            .filter(|(_, direct)| *direct || !direct_only)
            .map(|(key, _)| key.clone())
            .collect()
    };
    QueryDoc {
        filters: Filters {
            stored,
            verb: s.index.verb.clone(),
            agents: pick(&s.index.agents, false),
            direct_agents: pick(&s.index.agents, true),
            activities: pick(&s.index.activities, false),
            direct_activities: pick(&s.index.activities, true),
            registration: s.index.registration.clone(),
        },
        statement_ref: s.index.statement_ref,
        voids: s.index.voids,
        authority: s.index.authority.clone(),
        content_hash: s.content_hash.clone(),
        voided_at: None,
        target: None,
        body,
    }
}

/// One NDJSON line.
fn line(out: &mut String, value: &Value) {
    out.push_str(&value.to_string());
    out.push('\n');
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

    async fn count(&self, index: &str) -> Result<u64, StoreError> {
        let reply = self
            .es
            .json(Method::Post, &format!("/{index}/_count"), &[], &json!({}))
            .await?;
        Ok(reply.get("count").and_then(Value::as_u64).unwrap_or(0))
    }

    /// Indexes the statements of Ralph's index the query index lacks (Ralph wrote them, or a
    /// round failed between the two); returns how many. Skipped when the query index holds as
    /// many statements (every statement xlrs writes is in both).
    async fn adopt_ralph(&self) -> Result<u64, StoreError> {
        let Some(ralph) = &self.ralph else {
            return Ok(0);
        };
        if self.count(ralph).await? <= self.count(&self.query_index).await? {
            return Ok(0);
        }
        let mut writer = self.writer.lock().await;
        let mut adopted = 0;
        let mut page = self
            .es
            .json(
                Method::Post,
                &format!("/{ralph}/_search"),
                &[("scroll", "2m")],
                &json!({"size": CHUNK, "sort": ["_doc"]}),
            )
            .await?;
        loop {
            let hits = page
                .pointer("/hits/hits")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let scroll_id = page
                .get("_scroll_id")
                .and_then(Value::as_str)
                .map(str::to_string);
            if hits.is_empty() {
                if let Some(id) = scroll_id {
                    // Frees the scroll early; it expires anyway.
                    let _ = self
                        .es
                        .call(
                            Method::Delete,
                            "/_search/scroll",
                            &[],
                            Some(json!({"scroll_id": id}).to_string()),
                            false,
                        )
                        .await;
                }
                return Ok(adopted);
            }
            adopted += self.adopt_hits(hits, &mut writer).await?;
            let Some(id) = scroll_id else {
                return Ok(adopted);
            };
            page = self
                .es
                .json(
                    Method::Post,
                    "/_search/scroll",
                    &[],
                    &json!({"scroll": "2m", "scroll_id": id}),
                )
                .await?;
        }
    }

    /// Indexes the hits of Ralph's index that the query index lacks, oldest first.
    async fn adopt_hits(&self, hits: Vec<Value>, writer: &mut Writer) -> Result<u64, StoreError> {
        let mut candidates = Vec::with_capacity(hits.len());
        for hit in hits {
            let source = hit.get("_source").cloned().unwrap_or(Value::Null);
            let id = hit
                .get("_id")
                .and_then(Value::as_str)
                .and_then(|id| Uuid::parse_str(id).ok())
                .or_else(|| {
                    source
                        .get("id")
                        .and_then(Value::as_str)
                        .and_then(|id| Uuid::parse_str(id).ok())
                });
            let Some(id) = id else {
                tracing::warn!(doc = ?hit.get("_id"), "a document of Ralph's index without a statement id is not served");
                continue;
            };
            candidates.push((id, source));
        }
        let known = self
            .known(candidates.iter().map(|(id, _)| *id).collect())
            .await?;
        let mut prepared: Vec<(i64, PreparedStatement)> = Vec::new();
        for (id, source) in candidates {
            if known.contains_key(&id) {
                continue;
            }
            let fallback = source
                .get("timestamp")
                .and_then(Value::as_str)
                .and_then(parse_timestamp)
                .map_or_else(now_micros, |t| t.timestamp_micros());
            match adoptable(source, id, fallback, "ralph") {
                Ok(found) => prepared.push(found),
                Err(why) => {
                    tracing::warn!(%id, "a statement of Ralph's index is not served: {why}")
                }
            }
        }
        if prepared.is_empty() {
            return Ok(0);
        }
        prepared.sort_by_key(|(stored, s)| (*stored, s.id));
        let mut positioned = Vec::with_capacity(prepared.len());
        let mut last = writer.last;
        for (stored, s) in &prepared {
            last = (*stored).max(last + 1);
            positioned.push((s, last));
        }
        let targets = positioned
            .iter()
            .flat_map(|(s, _)| s.index.statement_ref)
            .collect();
        let known = self.known(targets).await?;
        // Ralph's index has them already: only the query index is written.
        self.write_round(&positioned, &known, writer, false).await?;
        let adopted = positioned.len() as u64;
        let definitions: Vec<(String, Value)> = positioned
            .iter()
            .flat_map(|(s, _)| s.index.definitions.clone())
            .collect();
        self.side.keep_side_data(Vec::new(), definitions).await?;
        Ok(adopted)
    }

    /// Query-index documents of these ids (without the statement), by id.
    async fn known(&self, ids: Vec<Uuid>) -> Result<HashMap<Uuid, QueryDoc>, StoreError> {
        let ids: HashSet<Uuid> = ids.into_iter().collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let reply = self
            .es
            .json(
                Method::Post,
                &format!("/{}/_mget", self.query_index),
                &[("_source_excludes", "body")],
                &json!({"ids": ids}),
            )
            .await?;
        let mut known = HashMap::new();
        for doc in reply
            .get("docs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if doc.get("found").and_then(Value::as_bool) != Some(true) {
                continue;
            }
            let id = doc
                .get("_id")
                .and_then(Value::as_str)
                .and_then(|id| Uuid::parse_str(id).ok());
            let source = doc.get("_source").cloned().unwrap_or(Value::Null);
            match (id, serde_json::from_value::<QueryDoc>(source)) {
                (Some(id), Ok(found)) => {
                    known.insert(id, found);
                }
                (_, Err(e)) => {
                    return Err(StoreError::Internal(format!(
                        "a document of {} is not what xlrs wrote: {e}",
                        self.query_index
                    )))
                }
                (None, _) => {}
            }
        }
        Ok(known)
    }

    /// Statements already stored whose StatementRef points at one of `ids`.
    async fn referring(&self, ids: &[Uuid]) -> Result<Vec<Referrer>, StoreError> {
        let mut out = Vec::new();
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let mut after: Option<i64> = None;
        loop {
            let mut body = json!({
                "size": CHUNK,
                "_source": ["stored", "voids", "statement_ref", "target.stored"],
                "query": {"terms": {"statement_ref": ids}},
                "sort": [{"stored": "asc"}],
            });
            if let Some(after) = after {
                body["search_after"] = json!([after]);
            }
            let page = self
                .es
                .json(
                    Method::Post,
                    &format!("/{}/_search", self.query_index),
                    &[],
                    &body,
                )
                .await?;
            let hits = page
                .pointer("/hits/hits")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let uuid = |v: Option<&Value>| {
                v.and_then(Value::as_str)
                    .and_then(|s| Uuid::parse_str(s).ok())
            };
            for hit in &hits {
                let source = hit.get("_source").unwrap_or(&Value::Null);
                let stored = source.get("stored").and_then(Value::as_i64).unwrap_or(0);
                if let (Some(id), Some(statement_ref)) =
                    (uuid(hit.get("_id")), uuid(source.get("statement_ref")))
                {
                    out.push(Referrer {
                        id,
                        statement_ref,
                        voids: uuid(source.get("voids")),
                        has_target: source.get("target").is_some_and(|t| !t.is_null()),
                        stored,
                    });
                }
                after = Some(stored);
            }
            if hits.len() < CHUNK {
                return Ok(out);
            }
        }
    }

    /// Writes one round: the statements at their positions (in Ralph's index too when
    /// `ralph`), the voided marks and reference targets they set on stored statements, in one
    /// bulk request; then raises the watermark. On any failure, takes everything back.
    async fn write_round(
        &self,
        statements: &[(&PreparedStatement, i64)],
        known: &HashMap<Uuid, QueryDoc>,
        writer: &mut Writer,
        ralph: bool,
    ) -> Result<(), StoreError> {
        let Some(first) = statements.first().map(|(_, stored)| *stored) else {
            return Ok(());
        };
        self.pending_since.store(first, Ordering::SeqCst);
        let outcome = self
            .write_positioned(statements, known, writer, ralph)
            .await;
        self.pending_since.store(0, Ordering::SeqCst);
        outcome
    }

    async fn write_positioned(
        &self,
        statements: &[(&PreparedStatement, i64)],
        known: &HashMap<Uuid, QueryDoc>,
        writer: &mut Writer,
        ralph: bool,
    ) -> Result<(), StoreError> {
        let new_ids: Vec<Uuid> = statements.iter().map(|(s, _)| s.id).collect();
        let referring = self.referring(&new_ids).await?;
        let mut docs: Vec<QueryDoc> = Vec::with_capacity(statements.len());
        let mut bodies: Vec<String> = Vec::with_capacity(statements.len());
        let mut by_id: HashMap<Uuid, usize> = HashMap::new();
        for (s, stored) in statements {
            let body = finish_body(&s.body, &format_micros(*stored), s.needs_timestamp);
            by_id.insert(s.id, docs.len());
            docs.push(query_doc(s, *stored, body.clone()));
            bodies.push(body);
        }
        // Voided marks: the earliest voiding statement of each target counts.
        let mut voided_at: HashMap<Uuid, i64> = HashMap::new();
        let voiders = docs
            .iter()
            .filter_map(|d| d.voids.map(|t| (t, d.filters.stored)))
            .chain(
                referring
                    .iter()
                    .filter_map(|r| r.voids.map(|t| (t, r.stored))),
            );
        for (target, at) in voiders {
            let entry = voided_at.entry(target).or_insert(at);
            *entry = (*entry).min(at);
        }
        let filters_of = |id: &Uuid| -> Option<Filters> {
            by_id
                .get(id)
                .map(|&i| docs[i].filters.clone())
                .or_else(|| known.get(id).map(|k| k.filters.clone()))
        };
        let targets: Vec<Option<Filters>> = docs
            .iter()
            .map(|d| d.statement_ref.as_ref().and_then(filters_of))
            .collect();
        for (((s, _), doc), target) in statements.iter().zip(docs.iter_mut()).zip(targets) {
            doc.target = target;
            doc.voided_at = voided_at.get(&s.id).copied();
        }
        let mut lines = String::new();
        let mut ops = Vec::new();
        for ((s, stored), (doc, body)) in statements.iter().zip(docs.iter().zip(&bodies)) {
            if let (true, Some(index)) = (ralph, &self.ralph) {
                line(
                    &mut lines,
                    &json!({"create": {"_index": index, "_id": s.id.to_string()}}),
                );
                lines.push_str(body);
                lines.push('\n');
                ops.push(Op::Create {
                    index: index.clone(),
                    id: s.id,
                    stored: *stored,
                });
            }
            line(
                &mut lines,
                &json!({"create": {"_index": self.query_index, "_id": s.id.to_string()}}),
            );
            let source =
                serde_json::to_value(doc).map_err(|e| StoreError::Internal(e.to_string()))?;
            line(&mut lines, &source);
            ops.push(Op::Create {
                index: self.query_index.clone(),
                id: s.id,
                stored: *stored,
            });
        }
        for (target, at) in &voided_at {
            if known.get(target).is_some_and(|k| k.voided_at.is_none()) {
                update(
                    &mut lines,
                    &self.query_index,
                    target,
                    json!({"voided_at": at}),
                );
                ops.push(Op::SetVoided { id: *target });
            }
        }
        for r in referring.iter().filter(|r| !r.has_target) {
            if let Some(&i) = by_id.get(&r.statement_ref) {
                let target = serde_json::to_value(&docs[i].filters)
                    .map_err(|e| StoreError::Internal(e.to_string()))?;
                update(
                    &mut lines,
                    &self.query_index,
                    &r.id,
                    json!({"target": target}),
                );
                ops.push(Op::SetTarget { id: r.id });
            }
        }
        let outcome = self.es.bulk(lines, "wait_for").await.and_then(|items| {
            match items
                .iter()
                .zip(&ops)
                .find_map(|(item, op)| item_error(item, op, &self.ralph))
            {
                Some(e) => Err(e),
                None => Ok(()),
            }
        });
        match outcome {
            Ok(()) => {
                let last = statements.iter().map(|(_, s)| *s).max().unwrap_or(0);
                writer.last = writer.last.max(last);
                self.committed.store(writer.last, Ordering::SeqCst);
                Ok(())
            }
            Err(e) => {
                if let Err(undo) = self.undo(&ops).await {
                    tracing::error!(error = %e, undo = %undo, "a failed round is not taken back yet; no round is written until it is");
                    writer.undo = ops;
                }
                Err(e)
            }
        }
    }

    /// Takes back the writes of a failed round: the statements it created (those at its
    /// positions: an item that failed may name a document someone else wrote), the marks it
    /// set (they were unset before).
    async fn undo(&self, ops: &[Op]) -> Result<(), StoreError> {
        let creates: Vec<(&String, &Uuid, i64)> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Create { index, id, stored } => Some((index, id, *stored)),
                _ => None,
            })
            .collect();
        let mut lines = String::new();
        if !creates.is_empty() {
            let docs: Vec<Value> = creates
                .iter()
                .map(|(index, id, _)| json!({"_index": index, "_id": id.to_string(), "_source": ["stored"]}))
                .collect();
            let found = self
                .es
                .json(Method::Post, "/_mget", &[], &json!({"docs": docs}))
                .await?;
            let found = found
                .get("docs")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for ((index, id, stored), doc) in creates.iter().zip(found) {
                let theirs = doc.pointer("/_source/stored");
                let ours = theirs.and_then(Value::as_i64) == Some(*stored)
                    || theirs.and_then(Value::as_str) == Some(format_micros(*stored).as_str());
                if ours {
                    line(
                        &mut lines,
                        &json!({"delete": {"_index": index, "_id": id.to_string()}}),
                    );
                }
            }
        }
        for op in ops {
            match op {
                Op::SetVoided { id } => update(
                    &mut lines,
                    &self.query_index,
                    id,
                    json!({"voided_at": null}),
                ),
                Op::SetTarget { id } => {
                    update(&mut lines, &self.query_index, id, json!({"target": null}))
                }
                Op::Create { .. } => {}
            }
        }
        if lines.is_empty() {
            return Ok(());
        }
        let items = self.es.bulk(lines, "true").await?;
        for item in items {
            let status = item.get("status").and_then(Value::as_u64).unwrap_or(0);
            if !(200..300).contains(&status) && status != 404 {
                return Err(StoreError::Unavailable(format!(
                    "Elasticsearch at {}: taking back a failed round: {}",
                    self.es.url,
                    reason(&item)
                )));
            }
        }
        Ok(())
    }

    /// Commits queued jobs in one round: each job is checked (duplicates, voiding rules)
    /// against the index and the jobs before it; the accepted ones are written in one bulk
    /// request and share its outcome.
    async fn commit(&self, jobs: Vec<Job>, writer: &mut Writer) {
        let prepared = async {
            if !writer.undo.is_empty() {
                self.undo(&writer.undo).await?;
                writer.undo.clear();
            }
            self.ready().await?;
            let ids: Vec<Uuid> = jobs
                .iter()
                .flat_map(|j| &j.batch)
                .flat_map(|s| {
                    std::iter::once(s.id)
                        .chain(s.index.voids)
                        .chain(s.index.statement_ref)
                })
                .collect();
            self.known(ids).await
        }
        .await;
        let known = match prepared {
            Ok(known) => known,
            Err(e) => {
                for job in jobs {
                    let _ = job.reply.send(Err(e.clone()));
                }
                return;
            }
        };
        let hashes: HashMap<Uuid, String> = known
            .iter()
            .map(|(id, k)| (*id, k.content_hash.clone()))
            .collect();
        let voiding: HashSet<Uuid> = known
            .iter()
            .filter(|(_, k)| k.voids.is_some())
            .map(|(id, _)| *id)
            .collect();
        let mut accepted = accept(jobs, hashes, voiding);
        let outcome = self.write_jobs(&mut accepted, &known, writer).await;
        for (job, _) in accepted {
            let _ = job.reply.send(outcome.clone());
        }
    }

    async fn write_jobs(
        &self,
        accepted: &mut [(Job, Vec<usize>)],
        known: &HashMap<Uuid, QueryDoc>,
        writer: &mut Writer,
    ) -> Result<(), StoreError> {
        // Attachments first: content-addressed, so a failed round leaves only unreferenced
        // bytes, never a statement whose attachment is missing.
        let attachments: Vec<Attachment> = accepted
            .iter_mut()
            .flat_map(|(job, _)| std::mem::take(&mut job.attachments))
            .collect();
        self.side.keep_side_data(attachments, Vec::new()).await?;
        let mut stored = writer.last.max(now_micros() - 1);
        // Marked before positions are handed out: Consistent-Through never passes them.
        self.pending_since.store(stored + 1, Ordering::SeqCst);
        let mut positioned = Vec::new();
        for (job, keep) in accepted.iter() {
            for &i in keep {
                stored = (stored + 1).max(now_micros());
                positioned.push((&job.batch[i], stored));
            }
        }
        if positioned.is_empty() {
            self.pending_since.store(0, Ordering::SeqCst);
            return Ok(());
        }
        // Resets `pending_since` when done, written or not.
        self.write_round(&positioned, known, writer, true).await?;
        let definitions: Vec<(String, Value)> = positioned
            .iter()
            .flat_map(|(s, _)| s.index.definitions.clone())
            .collect();
        self.side.keep_side_data(Vec::new(), definitions).await
    }
}

/// A partial update of a query-index document, as a bulk item.
fn update(lines: &mut String, index: &str, id: &Uuid, doc: Value) {
    line(
        lines,
        &json!({"update": {"_index": index, "_id": id.to_string(), "retry_on_conflict": 3}}),
    );
    line(lines, &json!({ "doc": doc }));
}

/// Why a bulk item failed, as the store error to answer with; `None` when it did its part.
fn item_error(item: &Value, op: &Op, ralph: &Option<String>) -> Option<StoreError> {
    let status = item.get("status").and_then(Value::as_u64).unwrap_or(0);
    if (200..300).contains(&status) {
        return None;
    }
    let (index, id) = match op {
        Op::Create { index, id, .. } => (index.as_str(), *id),
        Op::SetVoided { id } | Op::SetTarget { id } => ("", *id),
    };
    // Ralph wrote this statement meanwhile: its copy stays, xlrs indexes its own.
    if status == 409 && Some(index) == ralph.as_deref() {
        return None;
    }
    let why = format!("Elasticsearch refused statement {id}: {}", reason(item));
    Some(match status {
        409 => StoreError::Conflict(id),
        429 | 500.. => StoreError::Unavailable(why),
        _ => StoreError::Internal(why),
    })
}

#[async_trait]
impl StatementStore for ElasticsearchStore {
    async fn insert(
        &self,
        batch: Vec<PreparedStatement>,
        attachments: Vec<Attachment>,
    ) -> Result<(), StoreError> {
        // Group commit, as the ClickHouse store: queue the job; whoever gets the writer next
        // commits every queued job in one round, in a task of its own so that a caller going
        // away never cuts a commit short.
        let (reply, outcome) = tokio::sync::oneshot::channel();
        self.inner
            .queue
            .lock()
            .map_err(|_| StoreError::Internal("the insert queue is poisoned".into()))?
            .push(Job {
                batch,
                attachments,
                reply,
            });
        let inner = self.inner.clone();
        tokio::spawn(async move {
            let mut writer = inner.writer.lock().await;
            let jobs = match inner.queue.lock() {
                Ok(mut queue) => std::mem::take(&mut *queue),
                Err(_) => return,
            };
            if !jobs.is_empty() {
                inner.commit(jobs, &mut writer).await;
            }
        });
        outcome
            .await
            .unwrap_or_else(|_| Err(StoreError::Internal("the insert was dropped".into())))
    }

    async fn get(&self, id: Uuid) -> Result<Option<StoredStatement>, StoreError> {
        self.inner.ready().await?;
        let committed = self.inner.committed.load(Ordering::SeqCst);
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
        if stored > committed {
            return Ok(None);
        }
        let voided = source
            .get("voided_at")
            .and_then(Value::as_i64)
            .is_some_and(|at| at <= committed);
        let body = source
            .get("body")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        Ok(Some(StoredStatement {
            body,
            voided,
            stored,
        }))
    }

    async fn query(&self, q: &StatementQuery) -> Result<Page, StoreError> {
        self.inner.ready().await?;
        let committed = self.inner.committed.load(Ordering::SeqCst);
        let rows = self.inner.search(q, committed).await?;
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
