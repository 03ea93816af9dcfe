//! MongoDB as the statement store (`XLRS_STORE=mongodb`).
//!
//! Statements are kept in Ralph's layout: one document per statement, `_source` the statement
//! and `_id` the ObjectId Ralph derives from its timestamp and id, so Ralph's readers and the
//! data of a Ralph deployment keep working. xlrs adds `xlrs`: its query fields and the
//! statement's position (`stored`, µs, unique and increasing), with compound indexes that
//! serve each filter in position order. Documents found without it at start-up (written by
//! Ralph) are indexed then and served without a migration.
//!
//! One writer per process: inserts are group-committed one round at a time, each round in one
//! transaction, so a batch is kept and visible whole or not at all. Transactions need a replica
//! set or a sharded cluster (a single-member replica set will do); a standalone server is
//! refused at start-up. State and profile documents live in a collection of their own
//! (`mongo_documents`); attachments and canonical activity definitions in the embedded store.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mongodb::bson::{doc, oid::ObjectId, Bson, Document as Doc};
use mongodb::error::{Error as MongoError, ErrorKind, WriteFailure};
use mongodb::options::{Acknowledgment, ClientOptions, IndexOptions, WriteConcern};
use mongodb::{Client, ClientSession, Collection, Cursor, IndexModel};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::group_commit::{self, accept, adoptable, GroupCommit, Job};
use super::sqlite::{merge_page, SqliteStore};
use super::{Attachment, Page, StatementStore, StoreError, StoredStatement};
use crate::config::MongoSettings;
use crate::xapi::query::StatementQuery;
use crate::xapi::statement::{finish_body, PreparedStatement};
use crate::xapi::time::{format_micros, now_micros};
use crate::xapi::validate::parse_timestamp;

/// Layout version of the collections; bump with a migration when it changes.
const SCHEMA_VERSION: i64 = 1;

/// Statements Ralph wrote indexed per round at start-up.
const ADOPT_CHUNK: i64 = 10_000;

/// How long an operation waits for a reachable server before the API answers 500, unless the
/// connection string sets `serverSelectionTimeoutMS`.
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// Statements in MongoDB; attachments and definitions in the embedded store.
pub struct MongoStore {
    pub(super) inner: Arc<Inner>,
}

/// What the store holds; shared with the commit task.
pub(super) struct Inner {
    client: Client,
    statements: Collection<Doc>,
    /// State, Activity Profile and Agent Profile documents.
    pub(super) documents: Collection<Doc>,
    side: Arc<SqliteStore>,
    /// The last `stored` handed out; held by the commit in progress, so commits never overlap.
    last_stored: tokio::sync::Mutex<i64>,
    /// Insert calls waiting for the next commit, which writes them all at once.
    queue: std::sync::Mutex<Vec<Job>>,
    /// `stored` of the insert in progress (0 when none), for Consistent-Through.
    pending_since: AtomicI64,
}

/// What a round needs to know of the ids it writes.
#[derive(Default)]
struct Known {
    /// Content hash of each id already stored.
    hashes: HashMap<Uuid, String>,
    /// Those that are voiding statements.
    voiding: HashSet<Uuid>,
    /// Those a stored statement voids.
    voided: HashSet<Uuid>,
}

/// A MongoDB failure as a store error: no server reachable is [`StoreError::Unavailable`].
pub(super) fn failed(e: MongoError) -> StoreError {
    let unreachable = matches!(
        *e.kind,
        ErrorKind::ServerSelection { .. }
            | ErrorKind::Io(_)
            | ErrorKind::ConnectionPoolCleared { .. }
            | ErrorKind::DnsResolve { .. }
    ) || e.contains_label("TransientTransactionError");
    if unreachable {
        StoreError::Unavailable(format!("MongoDB: {e}"))
    } else {
        StoreError::Internal(format!("MongoDB: {e}"))
    }
}

/// True when the write failed on a unique index (E11000).
pub(super) fn duplicate_key(e: &MongoError) -> bool {
    const DUPLICATE_KEY: i32 = 11000;
    match &*e.kind {
        ErrorKind::Write(WriteFailure::WriteError(w)) => w.code == DUPLICATE_KEY,
        ErrorKind::InsertMany(m) => m
            .write_errors
            .iter()
            .flatten()
            .any(|w| w.code == DUPLICATE_KEY),
        ErrorKind::Command(c) => c.code == DUPLICATE_KEY,
        _ => false,
    }
}

/// Every document a cursor yields.
pub(super) async fn collect(mut cursor: Cursor<Doc>) -> Result<Vec<Doc>, StoreError> {
    let mut docs = Vec::new();
    while cursor.advance().await.map_err(failed)? {
        docs.push(cursor.deserialize_current().map_err(failed)?);
    }
    Ok(docs)
}

/// A JSON value as BSON, and whether BSON holds it exactly (integers beyond `i64` become
/// doubles; keys holding NUL, which BSON cannot name, are left out).
fn to_bson(value: &Value, exact: &mut bool) -> Bson {
    match value {
        Value::Null => Bson::Null,
        Value::Bool(b) => Bson::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Bson::Int64(i),
            None => {
                *exact &= n.is_f64();
                Bson::Double(n.as_f64().unwrap_or(f64::NAN))
            }
        },
        Value::String(s) => Bson::String(s.clone()),
        Value::Array(items) => Bson::Array(items.iter().map(|v| to_bson(v, exact)).collect()),
        Value::Object(map) => {
            let mut doc = Doc::new();
            for (k, v) in map {
                if k.contains('\0') {
                    *exact = false;
                } else {
                    doc.insert(k.clone(), to_bson(v, exact));
                }
            }
            Bson::Document(doc)
        }
    }
}

/// BSON as JSON: the statement types exactly, anything else as relaxed Extended JSON.
fn to_json(value: Bson) -> Value {
    match value {
        Bson::Null => Value::Null,
        Bson::Boolean(b) => Value::Bool(b),
        Bson::Int32(i) => Value::from(i),
        Bson::Int64(i) => Value::from(i),
        Bson::Double(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        Bson::String(s) => Value::String(s),
        Bson::Array(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Bson::Document(doc) => {
            Value::Object(doc.into_iter().map(|(k, v)| (k, to_json(v))).collect())
        }
        other => other.into_relaxed_extjson(),
    }
}

/// The `_id` Ralph gives a statement: its timestamp in seconds (4 bytes, big-endian) then the
/// first 8 bytes of the SHA-256 of its id, so Ralph's readers page through xlrs's writes.
fn ralph_object_id(statement: &Value, id: Uuid) -> ObjectId {
    let seconds = statement
        .get("timestamp")
        .and_then(Value::as_str)
        .and_then(parse_timestamp)
        .and_then(|t| u32::try_from(t.timestamp()).ok())
        .unwrap_or(0);
    let digest = Sha256::digest(id.to_string().as_bytes());
    let mut bytes = [0u8; 12];
    bytes[..4].copy_from_slice(&seconds.to_be_bytes());
    bytes[4..].copy_from_slice(&digest[..8]);
    ObjectId::from_bytes(bytes)
}

/// The `xlrs` field of a statement: its query fields and position.
fn index_fields(s: &PreparedStatement, stored: i64, voided: bool) -> Doc {
    let keys = |list: &[(String, bool)], direct_only: bool| -> Vec<String> {
        list.iter()
            .filter(|(_, direct)| *direct || !direct_only)
            .map(|(key, _)| key.clone())
            .collect()
    };
    let mut fields = doc! {
        "id": s.id.to_string(),
        "stored": stored,
        "verb": &s.index.verb,
        "agents": keys(&s.index.agents, false),
        "direct_agents": keys(&s.index.agents, true),
        "activities": keys(&s.index.activities, false),
        "direct_activities": keys(&s.index.activities, true),
        "authority": &s.index.authority,
        "hash": &s.content_hash,
        "voided": voided,
    };
    if let Some(registration) = &s.index.registration {
        fields.insert("registration", registration);
    }
    if let Some(target) = s.index.statement_ref {
        fields.insert("ref", target.to_string());
    }
    if let Some(target) = s.index.voids {
        fields.insert("voids", target.to_string());
    }
    fields
}

/// The statement (`body`, with `stored` set) as `_source`, plus `body` in `xlrs` when BSON
/// cannot hold it exactly.
fn source_of(body: &str) -> Result<(Value, Bson, Option<String>), StoreError> {
    let value: Value = serde_json::from_str(body)
        .map_err(|e| StoreError::Internal(format!("a prepared statement is not JSON: {e}")))?;
    let mut exact = true;
    let source = to_bson(&value, &mut exact);
    Ok((value, source, (!exact).then(|| body.to_string())))
}

/// A statement's document in Ralph's layout with xlrs's fields.
fn statement_doc(
    s: &PreparedStatement,
    stored: i64,
    body: &str,
    voided: bool,
) -> Result<Doc, StoreError> {
    let (value, source, inexact) = source_of(body)?;
    let mut fields = index_fields(s, stored, voided);
    if let Some(body) = inexact {
        fields.insert("body", body);
    }
    Ok(doc! {
        "_id": ralph_object_id(&value, s.id),
        "_source": source,
        "xlrs": fields,
    })
}

/// `(stored, body)` of a found statement document.
fn found(mut doc: Doc) -> Result<(i64, String), StoreError> {
    let mut fields = doc
        .get_document_mut("xlrs")
        .map(std::mem::take)
        .unwrap_or_default();
    let stored = fields.get_i64("stored").unwrap_or_default();
    if let Some(Bson::String(body)) = fields.remove("body") {
        return Ok((stored, body));
    }
    let source = doc.remove("_source").unwrap_or(Bson::Null);
    let body = serde_json::to_string(&to_json(source))
        .map_err(|e| StoreError::Internal(format!("a stored statement: {e}")))?;
    Ok((stored, body))
}

/// What queries read of a statement document.
fn projection() -> Doc {
    doc! { "_id": 0, "_source": 1, "xlrs.stored": 1, "xlrs.body": 1, "xlrs.voided": 1 }
}

impl MongoStore {
    /// Connects, checks the server can run transactions, creates the indexes, and indexes the
    /// statements Ralph wrote. An unreachable server is [`StoreError::Unavailable`].
    pub async fn open(
        settings: &MongoSettings,
        side: Arc<SqliteStore>,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            inner: Arc::new(Inner::open(settings, side).await?),
        })
    }
}

impl Inner {
    async fn open(settings: &MongoSettings, side: Arc<SqliteStore>) -> Result<Self, StoreError> {
        let mut options = ClientOptions::parse(&settings.uri).await.map_err(|e| {
            StoreError::Internal(format!(
                "mongodb.uri is not a usable connection string: {e}"
            ))
        })?;
        options
            .server_selection_timeout
            .get_or_insert(SERVER_SELECTION_TIMEOUT);
        options.app_name.get_or_insert_with(|| "xlrs".into());
        let hosts: Vec<String> = options.hosts.iter().map(ToString::to_string).collect();
        let client = Client::with_options(options).map_err(failed)?;
        let hello = client
            .database("admin")
            .run_command(doc! { "hello": 1 })
            .await
            .map_err(|e| match failed(e) {
                StoreError::Unavailable(m) => {
                    StoreError::Unavailable(format!("{m} (is it running at {}?)", hosts.join(",")))
                }
                other => other,
            })?;
        if !hello.contains_key("setName") && hello.get_str("msg") != Ok("isdbgrid") {
            return Err(StoreError::Internal(format!(
                "MongoDB at {} is a standalone server: xlrs writes each batch in a transaction, \
                 which needs a replica set or a sharded cluster (a single-member replica set \
                 will do: start mongod with --replSet NAME and run rs.initiate() once)",
                hosts.join(",")
            )));
        }
        let db = client.database(&settings.database);
        let store = Inner {
            statements: db.collection(&settings.collection),
            documents: db.collection(&settings.documents_collection),
            client,
            side,
            last_stored: tokio::sync::Mutex::new(0),
            queue: std::sync::Mutex::new(Vec::new()),
            pending_since: AtomicI64::new(0),
        };
        store.migrate(&db).await?;
        let newest = store
            .statements
            .find_one(doc! { "xlrs.stored": { "$exists": true } })
            .sort(doc! { "xlrs.stored": -1 })
            .projection(doc! { "xlrs.stored": 1 })
            .await
            .map_err(failed)?;
        *store.last_stored.lock().await = newest
            .and_then(|d| d.get_document("xlrs").ok()?.get_i64("stored").ok())
            .unwrap_or(0);
        let adopted = store.adopt_ralph_documents().await?;
        if adopted > 0 {
            tracing::info!(adopted, "indexed statements Ralph wrote");
        }
        Ok(store)
    }

    /// Checks the layout version and creates the indexes (a no-op when they exist).
    async fn migrate(&self, db: &mongodb::Database) -> Result<(), StoreError> {
        let meta: Collection<Doc> = db.collection("xlrs_meta");
        let version = meta
            .find_one(doc! { "_id": "schema_version" })
            .await
            .map_err(failed)?
            .and_then(|d| d.get_i64("value").ok());
        if let Some(v) = version.filter(|v| *v > SCHEMA_VERSION) {
            return Err(StoreError::Internal(format!(
                "the database has layout version {v}, newer than this xlrs knows ({SCHEMA_VERSION}); upgrade xlrs"
            )));
        }
        let partial = |field: &str| {
            IndexOptions::builder()
                .partial_filter_expression(doc! { field: { "$exists": true } })
                .build()
        };
        let unique = |field: &str| {
            IndexOptions::builder()
                .unique(true)
                .partial_filter_expression(doc! { field: { "$exists": true } })
                .build()
        };
        let by_stored = |field: &str| doc! { field: 1, "xlrs.stored": 1 };
        // Each filter's index lists its key's statements in position order, so a page reads
        // only the documents it returns. Partial where Ralph's documents lack the field.
        let indexes = vec![
            IndexModel::builder()
                .keys(doc! { "xlrs.id": 1 })
                .options(unique("xlrs.id"))
                .build(),
            IndexModel::builder()
                .keys(doc! { "xlrs.stored": 1 })
                .options(unique("xlrs.stored"))
                .build(),
            IndexModel::builder().keys(by_stored("xlrs.agents")).build(),
            IndexModel::builder()
                .keys(by_stored("xlrs.direct_agents"))
                .build(),
            IndexModel::builder()
                .keys(by_stored("xlrs.activities"))
                .build(),
            IndexModel::builder()
                .keys(by_stored("xlrs.direct_activities"))
                .build(),
            IndexModel::builder().keys(by_stored("xlrs.verb")).build(),
            IndexModel::builder()
                .keys(by_stored("xlrs.registration"))
                .options(partial("xlrs.registration"))
                .build(),
            IndexModel::builder()
                .keys(by_stored("xlrs.authority"))
                .build(),
            // Statements referring to others, in position order (few), and voiding ones.
            IndexModel::builder()
                .keys(doc! { "xlrs.stored": 1, "xlrs.ref": 1 })
                .options(partial("xlrs.ref"))
                .build(),
            IndexModel::builder()
                .keys(doc! { "xlrs.voids": 1 })
                .options(partial("xlrs.voids"))
                .build(),
        ];
        self.statements
            .create_indexes(indexes)
            .await
            .map_err(failed)?;
        self.documents
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "kind": 1, "activity_id": 1, "agent": 1, "registration": 1, "id": 1 })
                    .options(IndexOptions::builder().unique(true).build())
                    .build(),
            )
            .await
            .map_err(failed)?;
        if version != Some(SCHEMA_VERSION) {
            meta.replace_one(
                doc! { "_id": "schema_version" },
                doc! { "_id": "schema_version", "value": SCHEMA_VERSION },
            )
            .upsert(true)
            .await
            .map_err(failed)?;
        }
        Ok(())
    }

    /// What the collection knows of these ids: content hashes, which are voiding statements,
    /// and which a stored statement voids.
    async fn known(&self, ids: &[Uuid]) -> Result<Known, StoreError> {
        let mut known = Known::default();
        if ids.is_empty() {
            return Ok(known);
        }
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let cursor = self
            .statements
            .find(doc! { "$or": [ { "xlrs.id": { "$in": &ids } }, { "xlrs.voids": { "$in": &ids } } ] })
            .projection(doc! { "_id": 0, "xlrs.id": 1, "xlrs.hash": 1, "xlrs.voids": 1 })
            .await
            .map_err(failed)?;
        let asked: HashSet<&str> = ids.iter().map(String::as_str).collect();
        for doc in collect(cursor).await? {
            let Ok(fields) = doc.get_document("xlrs") else {
                continue;
            };
            let voids = fields.get_str("voids").ok();
            if let Some(target) = voids.filter(|t| asked.contains(t)) {
                known.voided.extend(Uuid::parse_str(target).ok());
            }
            let Some(id) = fields.get_str("id").ok().filter(|id| asked.contains(id)) else {
                continue;
            };
            let Ok(id) = Uuid::parse_str(id) else {
                continue;
            };
            let hash = fields.get_str("hash").unwrap_or_default().to_string();
            known.hashes.insert(id, hash);
            if voids.is_some() {
                known.voiding.insert(id);
            }
        }
        Ok(known)
    }

    /// Writes a round's documents and marks the statements they void, in one transaction.
    async fn write(&self, docs: Vec<Doc>, voided: Vec<String>) -> Result<(), StoreError> {
        let mut session = self.client.start_session().await.map_err(failed)?;
        // Acknowledged once a majority of the replica set has it in its journal: durable on
        // acknowledgement, as the embedded store is.
        let durable = WriteConcern::builder()
            .w(Acknowledgment::Majority)
            .journal(true)
            .build();
        session
            .start_transaction()
            .write_concern(durable)
            .await
            .map_err(failed)?;
        let outcome = self.write_in(&mut session, docs, voided).await;
        if let Err(e) = outcome {
            let _ = session.abort_transaction().await;
            return Err(e);
        }
        // The driver's advice: a commit whose outcome is unknown (connection lost meanwhile)
        // may be retried; the server answers the retry with the first commit's outcome.
        let mut attempts = 0;
        loop {
            match session.commit_transaction().await {
                Ok(()) => return Ok(()),
                Err(e) if e.contains_label("UnknownTransactionCommitResult") && attempts < 3 => {
                    attempts += 1;
                }
                Err(e) => return Err(failed(e)),
            }
        }
    }

    async fn write_in(
        &self,
        session: &mut ClientSession,
        docs: Vec<Doc>,
        voided: Vec<String>,
    ) -> Result<(), StoreError> {
        self.statements
            .insert_many(docs)
            .session(&mut *session)
            .await
            .map_err(|e| {
                if duplicate_key(&e) {
                    // Our checks passed, so another process wrote the same id or position.
                    StoreError::Internal(format!(
                        "MongoDB: {e} (does another xlrs write to this collection? one writer per collection)"
                    ))
                } else {
                    failed(e)
                }
            })?;
        if !voided.is_empty() {
            self.statements
                .update_many(
                    doc! { "xlrs.id": { "$in": voided } },
                    doc! { "$set": { "xlrs.voided": true } },
                )
                .session(&mut *session)
                .await
                .map_err(failed)?;
        }
        Ok(())
    }

    async fn write_jobs(
        &self,
        accepted: &mut [(Job, Vec<usize>)],
        already_voided: &HashSet<Uuid>,
        last: &mut i64,
    ) -> Result<(), StoreError> {
        group_commit::keep_attachments(&self.side, accepted).await?;
        let statements: Vec<&PreparedStatement> = accepted
            .iter()
            .flat_map(|(job, keep)| keep.iter().map(|&i| &job.batch[i]))
            .collect();
        if statements.is_empty() {
            return Ok(());
        }
        // A statement is voided when a stored statement or one of this round voids it.
        let targets: HashSet<Uuid> = statements.iter().filter_map(|s| s.index.voids).collect();
        let mut stored = (*last).max(now_micros() - 1);
        self.pending_since.store(stored + 1, Ordering::SeqCst);
        let mut docs = Vec::with_capacity(statements.len());
        for s in &statements {
            stored = (stored + 1).max(now_micros());
            let body = finish_body(&s.body, &format_micros(stored), s.needs_timestamp);
            let voided = already_voided.contains(&s.id) || targets.contains(&s.id);
            match statement_doc(s, stored, &body, voided) {
                Ok(doc) => docs.push(doc),
                Err(e) => {
                    self.pending_since.store(0, Ordering::SeqCst);
                    return Err(e);
                }
            }
        }
        let outcome = self
            .write(docs, targets.iter().map(Uuid::to_string).collect())
            .await;
        self.pending_since.store(0, Ordering::SeqCst);
        outcome?;
        *last = stored;
        let definitions: Vec<(String, Value)> = statements
            .iter()
            .flat_map(|s| s.index.definitions.clone())
            .collect();
        self.side.keep_side_data(Vec::new(), definitions).await
    }

    /// Indexes the documents Ralph wrote (those without `xlrs`), oldest first; returns how
    /// many. One that cannot be served (not a valid statement, an id already served) is
    /// marked with why, and logged.
    async fn adopt_ralph_documents(&self) -> Result<u64, StoreError> {
        let mut last = self.last_stored.lock().await;
        let mut adopted = 0;
        loop {
            let cursor = self
                .statements
                .find(doc! { "xlrs": { "$exists": false } })
                .sort(doc! { "_id": 1 })
                .limit(ADOPT_CHUNK)
                .await
                .map_err(failed)?;
            let docs = collect(cursor).await?;
            if docs.is_empty() {
                return Ok(adopted);
            }
            let mut ready: Vec<(Bson, i64, PreparedStatement)> = Vec::with_capacity(docs.len());
            let mut skipped: Vec<(Bson, String)> = Vec::new();
            for mut doc in docs {
                let id = doc.remove("_id").unwrap_or(Bson::Null);
                let created = match &id {
                    Bson::ObjectId(oid) => oid.timestamp().timestamp_millis() * 1000,
                    _ => 0,
                };
                let source = to_json(doc.remove("_source").unwrap_or(Bson::Null));
                let statement_id = source
                    .get("id")
                    .and_then(Value::as_str)
                    .and_then(|id| Uuid::parse_str(id).ok());
                let Some(statement_id) = statement_id else {
                    skipped.push((id, "its statement has no valid id".into()));
                    continue;
                };
                match adoptable(source, statement_id, created, "ralph") {
                    Ok((stored, s)) => ready.push((id, stored, s)),
                    Err(why) => skipped.push((id, why)),
                }
            }
            let ids: Vec<Uuid> = ready.iter().map(|(_, _, s)| s.id).collect();
            let known = self.known(&ids).await?;
            ready.sort_by_key(|(_, stored, s)| (*stored, s.id));
            let mut seen = HashSet::new();
            let targets: HashSet<Uuid> =
                ready.iter().filter_map(|(_, _, s)| s.index.voids).collect();
            let mut definitions = Vec::new();
            for (id, stored, s) in ready {
                if known.hashes.contains_key(&s.id) || !seen.insert(s.id) {
                    skipped.push((id, format!("statement {} is already served", s.id)));
                    continue;
                }
                let stored = stored.max(*last + 1);
                let body = finish_body(&s.body, &format_micros(stored), s.needs_timestamp);
                let (_, source, inexact) = source_of(&body)?;
                let voided = known.voided.contains(&s.id) || targets.contains(&s.id);
                let mut fields = index_fields(&s, stored, voided);
                if let Some(body) = inexact {
                    fields.insert("body", body);
                }
                self.statements
                    .update_one(
                        doc! { "_id": id },
                        doc! { "$set": { "_source": source, "xlrs": fields } },
                    )
                    .await
                    .map_err(failed)?;
                *last = stored;
                adopted += 1;
                definitions.extend(s.index.definitions);
            }
            if !targets.is_empty() {
                let targets: Vec<String> = targets.iter().map(Uuid::to_string).collect();
                self.statements
                    .update_many(
                        doc! { "xlrs.id": { "$in": targets } },
                        doc! { "$set": { "xlrs.voided": true } },
                    )
                    .await
                    .map_err(failed)?;
            }
            for (id, why) in skipped {
                tracing::warn!(%id, "a statement Ralph wrote is not served: {why}");
                self.statements
                    .update_one(doc! { "_id": id }, doc! { "$set": { "xlrs.skipped": why } })
                    .await
                    .map_err(failed)?;
            }
            self.side.keep_side_data(Vec::new(), definitions).await?;
        }
    }

    /// Statements matching `filter`, sorted and limited as the query asks.
    async fn find_page(
        &self,
        filter: Doc,
        q: &StatementQuery,
    ) -> Result<Vec<(i64, i64, String)>, StoreError> {
        let cursor = self
            .statements
            .find(filter)
            .sort(doc! { "xlrs.stored": direction(q) })
            .limit(q.limit as i64 + 1)
            .projection(projection())
            .await
            .map_err(failed)?;
        rows(collect(cursor).await?)
    }

    /// Statements whose StatementRef targets a statement matching the query's filters (xAPI
    /// "Filter Conditions for StatementRefs"), scanned in position order through the index
    /// of referring statements.
    async fn referring_page(
        &self,
        filters: Doc,
        q: &StatementQuery,
    ) -> Result<Vec<(i64, i64, String)>, StoreError> {
        let mut window = window(q);
        window.insert("xlrs.ref", doc! { "$exists": true });
        let mut on_target = Doc::new();
        for (k, v) in filters {
            on_target.insert(format!("target.{k}"), v);
        }
        let pipeline = vec![
            doc! { "$match": window },
            doc! { "$sort": { "xlrs.stored": direction(q) } },
            doc! { "$lookup": {
                "from": self.statements.name(),
                "localField": "xlrs.ref",
                "foreignField": "xlrs.id",
                "as": "target",
            } },
            doc! { "$match": on_target },
            doc! { "$limit": q.limit as i64 + 1 },
            doc! { "$project": projection() },
        ];
        let cursor = self.statements.aggregate(pipeline).await.map_err(failed)?;
        rows(collect(cursor).await?)
    }
}

fn direction(q: &StatementQuery) -> i32 {
    if q.ascending {
        1
    } else {
        -1
    }
}

/// Query rows `(position, stored, body)` of found documents.
fn rows(docs: Vec<Doc>) -> Result<Vec<(i64, i64, String)>, StoreError> {
    docs.into_iter()
        .map(|d| found(d).map(|(stored, body)| (stored, stored, body)))
        .collect()
}

/// Conditions of the query's filters (agent, verb, activity, registration) on `xlrs`.
fn filters(q: &StatementQuery) -> Doc {
    let mut f = Doc::new();
    if let Some(agent) = &q.agent {
        let field = if q.related_agents {
            "xlrs.agents"
        } else {
            "xlrs.direct_agents"
        };
        f.insert(field, agent);
    }
    if let Some(verb) = &q.verb {
        f.insert("xlrs.verb", verb);
    }
    if let Some(activity) = &q.activity {
        let field = if q.related_activities {
            "xlrs.activities"
        } else {
            "xlrs.direct_activities"
        };
        f.insert(field, activity);
    }
    if let Some(registration) = &q.registration {
        f.insert("xlrs.registration", registration);
    }
    f
}

/// Conditions on the returned statement itself: not voided, time window, cursor, authority.
fn window(q: &StatementQuery) -> Doc {
    let mut stored = doc! { "$exists": true };
    // Bounds from below: `since`, and the cursor when ascending (the tighter of the two).
    let mut lower = q.since;
    if let (true, Some(after)) = (q.ascending, q.after) {
        lower = Some(lower.map_or(after, |since| since.max(after)));
    }
    if let Some(lower) = lower {
        stored.insert("$gt", lower);
    }
    if let Some(until) = q.until {
        stored.insert("$lte", until);
    }
    if let (false, Some(after)) = (q.ascending, q.after) {
        stored.insert("$lt", after);
    }
    let mut w = doc! { "xlrs.voided": false, "xlrs.stored": stored };
    if let Some(authority) = &q.authority {
        w.insert("xlrs.authority", authority);
    }
    w
}

impl GroupCommit for Inner {
    type Writer = i64;

    fn queue(&self) -> &std::sync::Mutex<Vec<Job>> {
        &self.queue
    }

    fn writer(&self) -> &tokio::sync::Mutex<i64> {
        &self.last_stored
    }

    /// Checks each job (duplicates, voiding rules) against the collection and the jobs before
    /// it; the accepted ones are written in one transaction and share its outcome.
    async fn commit(&self, jobs: Vec<Job>, last: &mut i64) {
        let ids: Vec<Uuid> = jobs
            .iter()
            .flat_map(|j| &j.batch)
            .flat_map(|s| std::iter::once(s.id).chain(s.index.voids))
            .collect();
        let known = match self.known(&ids).await {
            Ok(known) => known,
            Err(e) => return group_commit::answer(jobs, &Err(e)),
        };
        let mut accepted = accept(jobs, known.hashes, known.voiding);
        let outcome = self.write_jobs(&mut accepted, &known.voided, last).await;
        group_commit::answer(accepted.into_iter().map(|(job, _)| job), &outcome);
    }
}

#[async_trait]
impl StatementStore for MongoStore {
    async fn insert(
        &self,
        batch: Vec<PreparedStatement>,
        attachments: Vec<Attachment>,
    ) -> Result<(), StoreError> {
        group_commit::insert(&self.inner, batch, attachments).await
    }

    async fn get(&self, id: Uuid) -> Result<Option<StoredStatement>, StoreError> {
        let doc = self
            .inner
            .statements
            .find_one(doc! { "xlrs.id": id.to_string(), "xlrs.stored": { "$exists": true } })
            .projection(projection())
            .await
            .map_err(failed)?;
        let Some(doc) = doc else {
            return Ok(None);
        };
        let voided = doc
            .get_document("xlrs")
            .ok()
            .and_then(|f| f.get_bool("voided").ok())
            .unwrap_or(false);
        let (stored, body) = found(doc)?;
        Ok(Some(StoredStatement {
            body,
            voided,
            stored,
        }))
    }

    async fn query(&self, q: &StatementQuery) -> Result<Page, StoreError> {
        let filters = filters(q);
        let mut direct = window(q);
        direct.extend(filters.clone());
        if filters.is_empty() {
            let rows = self.inner.find_page(direct, q).await?;
            return Ok(merge_page(q, rows, Vec::new()));
        }
        let (direct, referring) = tokio::join!(
            self.inner.find_page(direct, q),
            self.inner.referring_page(filters, q)
        );
        Ok(merge_page(q, direct?, referring?))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_reads_back_from_bson_exactly_as_it_was_stored() {
        let body = r#"{"id":"2b3c4d5e-0000-4000-8000-000000000001","actor":{"mbox":"mailto:a@example.org"},"verb":{"id":"http://adlnet.gov/expapi/verbs/scored","display":{"en-US":"scored","zh-Hans":"得分"}},"object":{"id":"http://example.org/a.b?c=d"},"result":{"score":{"scaled":0.5,"raw":1.0,"min":-3,"max":1e+21},"extensions":{"http://example.org/ext.v1":{"$weird":[1,2.5,null,true,"x\u0000y"]}}},"timestamp":"2024-01-01T00:00:00.123456Z","stored":"2024-01-01T00:00:01.000000Z"}"#;
        let (_, source, inexact) = source_of(body).expect("JSON");
        assert!(inexact.is_none(), "BSON holds it exactly");
        assert_eq!(serde_json::to_string(&to_json(source)).expect("JSON"), body);
    }

    #[test]
    fn what_bson_cannot_hold_is_kept_as_text_too() {
        let body = r#"{"result":{"extensions":{"http://e.org/big":18446744073709551615}}}"#;
        let (_, _, inexact) = source_of(body).expect("JSON");
        assert_eq!(inexact.as_deref(), Some(body));
    }

    #[test]
    fn the_object_id_is_the_one_ralph_computes() {
        // Ralph: ObjectId(struct.pack(">I", int(timestamp)) + sha256(id)[:16 hex digits]).
        let id = Uuid::parse_str("2b3c4d5e-0000-4000-8000-000000000001").expect("uuid");
        let oid = ralph_object_id(
            &serde_json::json!({"timestamp": "2024-01-01T00:00:00.9Z"}),
            id,
        );
        let digest = hex::encode(Sha256::digest(id.to_string().as_bytes()));
        assert_eq!(
            oid.to_hex(),
            format!("{:08x}{}", 1_704_067_200u32, &digest[..16])
        );
    }
}
