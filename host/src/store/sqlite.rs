//! The embedded default store: one SQLite file (WAL), one writer thread that commits queued
//! batches together (group commit), a syncer thread that answers each committed round once the
//! log is on disk (durable when acknowledged), and a pool of read connections.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{
    params, CachedStatement, Connection, OptionalExtension, Transaction, TransactionBehavior,
};
use serde_json::Value;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::group_commit::{self, accept_known, Job};
use super::{Attachment, Page, StatementStore, StoreError, StoredStatement};
use crate::xapi::activity;
use crate::xapi::query::StatementQuery;
use crate::xapi::statement::{finish_body, PreparedStatement};
use crate::xapi::time::{format_micros, now_micros};

/// Schema version written to `meta`; bump with a migration when the layout changes.
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS statements (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    stored INTEGER NOT NULL,
    verb TEXT NOT NULL,
    registration TEXT,
    ref_target TEXT,
    voids TEXT,
    voided INTEGER NOT NULL DEFAULT 0,
    authority TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS statements_verb ON statements(verb, seq);
CREATE INDEX IF NOT EXISTS statements_registration ON statements(registration, seq) WHERE registration IS NOT NULL;
CREATE INDEX IF NOT EXISTS statements_ref ON statements(ref_target) WHERE ref_target IS NOT NULL;
CREATE INDEX IF NOT EXISTS statements_voids ON statements(voids) WHERE voids IS NOT NULL;
CREATE INDEX IF NOT EXISTS statements_stored ON statements(stored);
CREATE INDEX IF NOT EXISTS statements_authority ON statements(authority, seq);
CREATE TABLE IF NOT EXISTS statement_agents (
    agent TEXT NOT NULL, seq INTEGER NOT NULL, direct INTEGER NOT NULL,
    PRIMARY KEY (agent, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS statement_activities (
    activity TEXT NOT NULL, seq INTEGER NOT NULL, direct INTEGER NOT NULL,
    PRIMARY KEY (activity, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS documents (
    kind TEXT NOT NULL, activity_id TEXT NOT NULL, agent TEXT NOT NULL,
    registration TEXT NOT NULL, id TEXT NOT NULL,
    content_type TEXT NOT NULL, etag TEXT NOT NULL, updated INTEGER NOT NULL, content BLOB NOT NULL,
    PRIMARY KEY (kind, activity_id, agent, registration, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS activities (
    id TEXT PRIMARY KEY, definition TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS attachments (
    sha2 TEXT PRIMARY KEY, content_type TEXT NOT NULL, content BLOB NOT NULL
);
";

/// Most queued batches committed in one transaction.
const GROUP_COMMIT_JOBS: usize = 64;

fn internal(e: rusqlite::Error) -> StoreError {
    StoreError::Internal(e.to_string())
}

/// The SQLite statement store.
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<mpsc::Sender<Job>>,
    readers: Mutex<Vec<Connection>>,
    max_readers: usize,
    /// The connection document writes use, opened on first use.
    documents: Arc<Mutex<Option<Connection>>>,
    /// Smallest `stored` of the transaction being written, or 0 when none is in flight.
    pending_since: Arc<AtomicI64>,
    /// Dropping it stops the checkpointer thread.
    _checkpointer: mpsc::Sender<()>,
}

/// How often the checkpointer copies committed WAL frames into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// WAL size (pages, 64 MiB) past which the writer makes the next commit start the log over
/// (a RESTART checkpoint between two rounds): under constant load a passive checkpoint never
/// catches the writer, and a log that only grows costs every commit new file blocks and every
/// reader a longer search. The checkpointer cannot do it itself: the writer, always busy,
/// would starve its wait for the write lock.
const WAL_RESTART_PAGES: i64 = 16_384;

/// Copies WAL frames into the database off the writer thread (so commits do not wait for it),
/// asking the writer for a restart when the log has grown, until the store is dropped.
fn checkpointer(conn: Connection, restart: Arc<AtomicBool>, stop: mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY) {
        let wal_pages = conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1))
            .unwrap_or(0);
        if wal_pages > WAL_RESTART_PAGES {
            restart.store(true, Ordering::Relaxed);
        }
    }
}

/// Page cache of the writer's connection (KiB): the index pages its inserts touch.
const WRITER_CACHE_KIB: i64 = 65_536;

/// Page cache of every other connection (KiB): reads go through the OS page cache as well.
const READER_CACHE_KIB: i64 = 8_192;

fn open(path: &Path, cache_kib: i64) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(internal)?;
    // No mmap: mapped pages count in the server's RSS, and reads were no faster with it.
    conn.execute_batch(&format!(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;
         PRAGMA cache_size=-{cache_kib}; PRAGMA temp_store=MEMORY;"
    ))
    .map_err(internal)?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and starts the writer thread.
    pub fn open(path: &Path, readers: usize) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let conn = open(path, WRITER_CACHE_KIB)?;
        migrate(&conn)?;
        let last_stored: i64 = conn
            .query_row("SELECT COALESCE(MAX(stored), 0) FROM statements", [], |r| {
                r.get(0)
            })
            .map_err(internal)?;
        // The log file keeps its blocks between restarts (up to 256 MiB): rewriting allocated
        // blocks is cheaper than growing the file again.
        conn.execute_batch("PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=268435456")
            .map_err(internal)?;
        let checkpoint_conn = open(path, READER_CACHE_KIB)?;
        let (stop_checkpoints, stopped) = mpsc::channel::<()>();
        let restart = Arc::new(AtomicBool::new(false));
        let restart_wanted = restart.clone();
        std::thread::Builder::new()
            .name("xlrs-sqlite-checkpoint".into())
            .spawn(move || checkpointer(checkpoint_conn, restart_wanted, stopped))
            .map_err(|e| StoreError::Internal(format!("cannot start checkpointer: {e}")))?;
        // Commits do not sync; the syncer thread does, before any answer (see `syncer`).
        conn.execute_batch("PRAGMA synchronous=NORMAL")
            .map_err(internal)?;
        let (synced, rounds) = mpsc::channel::<Vec<Job>>();
        let wal = wal_path(path);
        std::thread::Builder::new()
            .name("xlrs-sqlite-sync".into())
            .spawn(move || syncer(wal, rounds))
            .map_err(|e| StoreError::Internal(format!("cannot start the log syncer: {e}")))?;
        let (tx, rx) = mpsc::channel::<Job>();
        let pending_since = Arc::new(AtomicI64::new(0));
        let pending = pending_since.clone();
        std::thread::Builder::new()
            .name("xlrs-sqlite-writer".into())
            .spawn(move || {
                Writer {
                    conn,
                    last_stored,
                    pending,
                    definitions: HashMap::new(),
                    synced,
                    restart,
                }
                .run(rx)
            })
            .map_err(|e| StoreError::Internal(format!("cannot start writer: {e}")))?;
        Ok(Self {
            path: path.to_owned(),
            writer: Mutex::new(tx),
            readers: Mutex::new(Vec::new()),
            max_readers: readers,
            documents: Arc::new(Mutex::new(None)),
            pending_since,
            _checkpointer: stop_checkpoints,
        })
    }

    /// Runs `f` on the document-writing connection, off the async runtime.
    pub(super) async fn write_documents<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let slot = self.documents.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = slot.lock().unwrap_or_else(|p| p.into_inner());
            if guard.is_none() {
                *guard = Some(open(&path, READER_CACHE_KIB)?);
            }
            match guard.as_mut() {
                Some(conn) => f(conn),
                None => Err(StoreError::Internal("no document connection".into())),
            }
        })
        .await
        .map_err(|e| StoreError::Internal(format!("document writer task failed: {e}")))?
    }

    /// Keeps attachments and merges activity definitions beside statements stored elsewhere
    /// (a backend plugin): the embedded store then holds only what the statements refer to.
    pub async fn keep_side_data(
        &self,
        attachments: Vec<Attachment>,
        definitions: Vec<(String, Value)>,
    ) -> Result<(), StoreError> {
        if attachments.is_empty() && definitions.is_empty() {
            return Ok(());
        }
        self.write_documents(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(internal)?;
            insert_attachments(&tx, &attachments)?;
            merge_definitions(&tx, &definitions)?;
            tx.commit().map_err(internal)
        })
        .await
    }

    /// Runs `f` on a pooled read connection, off the async runtime.
    pub(super) async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let pooled = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(c) => c,
            None => open(&self.path, READER_CACHE_KIB)?,
        };
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let r = f(&conn);
            (conn, r)
        })
        .await
        .map_err(|e| StoreError::Internal(format!("reader task failed: {e}")))?;
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < self.max_readers {
            pool.push(conn);
        }
        result
    }
}

fn migrate(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(SCHEMA).map_err(internal)?;
    let version: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(internal)?;
    match version.as_deref().map(str::parse::<i64>) {
        None => {
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
                params![SCHEMA_VERSION.to_string()],
            )
            .map_err(internal)?;
        }
        Some(Ok(SCHEMA_VERSION)) => {}
        Some(Ok(1)) => {
            // Version 2 added the canonical activity definitions: rebuild them.
            let tx = conn.unchecked_transaction().map_err(internal)?;
            backfill_activities(&tx)?;
            tx.execute(
                "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
                params![SCHEMA_VERSION.to_string()],
            )
            .map_err(internal)?;
            tx.commit().map_err(internal)?;
        }
        Some(other) => {
            return Err(StoreError::Unavailable(format!(
            "database schema version {other:?} is not {SCHEMA_VERSION}; this xlrs cannot open it"
        )))
        }
    }
    Ok(())
}

/// Builds the activities table from every stored statement, in commit order.
fn backfill_activities(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let mut st = tx
        .prepare("SELECT body FROM statements ORDER BY seq")
        .map_err(internal)?;
    let mut rows = st.query([]).map_err(internal)?;
    while let Some(row) = rows.next().map_err(internal)? {
        let body: String = row.get(0).map_err(internal)?;
        if let Ok(statement) = serde_json::from_str::<Value>(&body) {
            merge_definitions(tx, &activity::definitions(&statement))?;
        }
    }
    Ok(())
}

/// Merges definitions into the activities table, writing only what changes.
fn merge_definitions(
    tx: &Transaction<'_>,
    definitions: &[(String, Value)],
) -> Result<(), StoreError> {
    let mut cache = HashMap::new();
    for (id, definition) in definitions {
        merge_cached(tx, &mut cache, id, definition)?;
    }
    Ok(())
}

/// Canonical activity definitions the writer keeps in memory, so a statement repeating a known
/// definition costs a map lookup instead of a read and a parse.
const CACHED_DEFINITIONS: usize = 100_000;

/// The one thread that writes.
struct Writer {
    conn: Connection,
    last_stored: i64,
    pending: Arc<AtomicI64>,
    /// Canonical definitions by activity id, as of the last write (the writer is the only one
    /// that changes them while the server runs).
    definitions: HashMap<String, Value>,
    /// Where committed rounds wait for the log sync that answers them.
    synced: mpsc::Sender<Vec<Job>>,
    /// Set by the checkpointer when the log should start over before the next round.
    restart: Arc<AtomicBool>,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Job>) {
        while let Ok(first) = rx.recv() {
            if self.restart.swap(false, Ordering::Relaxed) {
                // Copies what the last passive pass left (little) and waits for readers of
                // older snapshots; the next commit then writes the log from its start.
                if let Err(e) =
                    self.conn
                        .query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))
                {
                    tracing::warn!(error = %e, "WAL restart failed; retrying later");
                }
            }
            let mut jobs = vec![first];
            while jobs.len() < GROUP_COMMIT_JOBS {
                match rx.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            self.commit(jobs);
        }
    }

    /// Commits every queued job in one transaction: first each job is checked against what is
    /// stored and the jobs before it (a rejected job is answered at once and writes nothing),
    /// then the accepted ones are written together. A committed round goes to the syncer,
    /// which answers it once the log is on disk; a failed one is answered at once.
    fn commit(&mut self, jobs: Vec<Job>) {
        self.pending
            .store(self.last_stored.max(now_micros()), Ordering::SeqCst);
        // IMMEDIATE: take the write lock up front (waiting in the busy handler), never upgrade
        // a read snapshot, which SQLite refuses at once while a checkpoint runs.
        let (answered, outcome) = match self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
        {
            Err(e) => (jobs, Err(internal(e))),
            Ok(tx) => match known(&tx, &jobs_ids(&jobs)) {
                Err(e) => (jobs, Err(e)),
                Ok(stored) => {
                    let accepted = accept_known(jobs, stored);
                    let outcome = write(&tx, &accepted, &mut self.definitions, self.last_stored)
                        .and_then(|last| tx.commit().map(|()| last).map_err(internal));
                    (accepted.into_iter().map(|(job, _)| job).collect(), outcome)
                }
            },
        };
        self.pending.store(0, Ordering::SeqCst);
        match outcome {
            Ok(last) => {
                self.last_stored = last;
                if let Err(mpsc::SendError(jobs)) = self.synced.send(answered) {
                    let stopped = StoreError::Unavailable("the log syncer has stopped".into());
                    group_commit::answer(jobs, &Err(stopped));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "statement transaction failed");
                // The cache may hold definitions the rollback undid.
                self.definitions.clear();
                group_commit::answer(answered, &Err(e));
            }
        }
    }
}

/// Answers committed rounds once the write-ahead log holding them is on disk: one fdatasync
/// covers every round committed before it started, so the writer goes on with the next round
/// instead of waiting for the disk (`synchronous=FULL` would sync inside each commit).
fn syncer(wal: PathBuf, rounds: mpsc::Receiver<Vec<Job>>) {
    let mut log: Option<(std::fs::File, u64)> = None;
    while let Ok(mut jobs) = rounds.recv() {
        while let Ok(more) = rounds.try_recv() {
            jobs.extend(more);
        }
        let outcome = sync_log(&wal, &mut log).map_err(|e| {
            tracing::error!(error = %e, wal = %wal.display(), "cannot sync the write-ahead log");
            StoreError::Unavailable(format!("cannot make the write durable: {e}"))
        });
        group_commit::answer(jobs, &outcome);
    }
}

/// The write-ahead log SQLite keeps beside the database file.
fn wal_path(database: &Path) -> PathBuf {
    let mut wal = database.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// Syncs the log file, reopening it when SQLite replaced it (a new inode at the same path).
fn sync_log(wal: &Path, log: &mut Option<(std::fs::File, u64)>) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let inode = std::fs::metadata(wal)?.ino();
    if log.as_ref().is_none_or(|(_, open)| *open != inode) {
        *log = Some((std::fs::File::open(wal)?, inode));
    }
    match log {
        Some((file, _)) => file.sync_data(),
        None => Ok(()),
    }
}

/// Writes a round's accepted statements, their definitions and attachments; returns the last
/// `stored` time handed out.
fn write(
    tx: &Transaction<'_>,
    accepted: &[(Job, Vec<usize>)],
    cache: &mut HashMap<String, Value>,
    mut last_stored: i64,
) -> Result<i64, StoreError> {
    let mut inserts = Inserts::prepare(tx)?;
    for (job, keep) in accepted {
        for &i in keep {
            let s = &job.batch[i];
            inserts.insert(s, &mut last_stored)?;
            for (id, definition) in &s.index.definitions {
                merge_cached(tx, cache, id, definition)?;
            }
        }
        insert_attachments(tx, &job.attachments)?;
    }
    Ok(last_stored)
}

/// Every statement id a round's jobs hold or void.
fn jobs_ids(jobs: &[Job]) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = jobs
        .iter()
        .flat_map(|job| &job.batch)
        .flat_map(|s| std::iter::once(s.id).chain(s.index.voids))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Of `ids`, the stored ones, as (id, content hash, whether it is a voiding statement).
fn known(tx: &Transaction<'_>, ids: &[Uuid]) -> Result<Vec<(Uuid, String, bool)>, StoreError> {
    let mut find = tx
        .prepare_cached("SELECT content_hash, voids IS NOT NULL FROM statements WHERE id = ?1")
        .map_err(internal)?;
    let mut out = Vec::new();
    for id in ids {
        let found = find
            .query_row([id.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?))
            })
            .optional()
            .map_err(internal)?;
        if let Some((hash, voiding)) = found {
            out.push((*id, hash, voiding));
        }
    }
    Ok(out)
}

/// The statements a round's inserts run, prepared once per round.
struct Inserts<'t> {
    statement: CachedStatement<'t>,
    agent: CachedStatement<'t>,
    activity: CachedStatement<'t>,
    void: CachedStatement<'t>,
    already_voided: CachedStatement<'t>,
}

impl<'t> Inserts<'t> {
    fn prepare(tx: &'t Transaction<'_>) -> Result<Self, StoreError> {
        let prepare = |sql: &str| tx.prepare_cached(sql).map_err(internal);
        Ok(Self {
            statement: prepare(
                "INSERT INTO statements (id, stored, verb, registration, ref_target, voids, voided,
                 authority, content_hash, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?,
            agent: prepare(
                "INSERT OR IGNORE INTO statement_agents (agent, seq, direct) VALUES (?1, ?2, ?3)",
            )?,
            activity: prepare(
                "INSERT OR IGNORE INTO statement_activities (activity, seq, direct) VALUES (?1, ?2, ?3)",
            )?,
            void: prepare("UPDATE statements SET voided = 1 WHERE id = ?1")?,
            already_voided: prepare("SELECT 1 FROM statements WHERE voids = ?1 LIMIT 1")?,
        })
    }

    /// Writes one checked statement and its index rows, giving it the next `stored` time.
    fn insert(&mut self, s: &PreparedStatement, last_stored: &mut i64) -> Result<(), StoreError> {
        let id = s.id.to_string();
        let voids = s.index.voids.map(|t| t.to_string());
        let stored = (*last_stored + 1).max(now_micros());
        *last_stored = stored;
        let body = finish_body(&s.body, &format_micros(stored), s.needs_timestamp);
        let voided = self.already_voided.exists([&id]).map_err(internal)?;
        let seq = self
            .statement
            .insert(params![
                id,
                stored,
                s.index.verb,
                s.index.registration,
                s.index.statement_ref.map(|u| u.to_string()),
                voids,
                voided as i64,
                s.index.authority,
                s.content_hash,
                body
            ])
            .map_err(internal)?;
        for (key, direct) in &s.index.agents {
            self.agent
                .execute(params![key, seq, *direct as i64])
                .map_err(internal)?;
        }
        for (key, direct) in &s.index.activities {
            self.activity
                .execute(params![key, seq, *direct as i64])
                .map_err(internal)?;
        }
        if let Some(target) = &voids {
            self.void.execute([target]).map_err(internal)?;
        }
        Ok(())
    }
}

/// Merges one definition into the activities table, starting from the canonical definition in
/// `cache` or else the table, and keeps the result in `cache`.
fn merge_cached(
    tx: &Transaction<'_>,
    cache: &mut HashMap<String, Value>,
    id: &str,
    definition: &Value,
) -> Result<(), StoreError> {
    let merged = match cache.get_mut(id) {
        Some(canonical) => {
            if !activity::merge(canonical, definition) {
                return Ok(());
            }
            canonical.to_string()
        }
        None => {
            let (canonical, changed) = match stored_definition(tx, id)? {
                Some(mut canonical) => {
                    let changed = activity::merge(&mut canonical, definition);
                    (canonical, changed)
                }
                None => (definition.clone(), true),
            };
            let text = changed.then(|| canonical.to_string());
            if cache.len() >= CACHED_DEFINITIONS {
                cache.clear();
            }
            cache.insert(id.to_string(), canonical);
            match text {
                Some(text) => text,
                None => return Ok(()),
            }
        }
    };
    tx.prepare_cached("INSERT OR REPLACE INTO activities (id, definition) VALUES (?1, ?2)")
        .and_then(|mut put| put.execute(params![id, merged]))
        .map_err(internal)?;
    Ok(())
}

/// The canonical definition stored for an activity, if any.
fn stored_definition(tx: &Transaction<'_>, id: &str) -> Result<Option<Value>, StoreError> {
    let text: Option<String> = tx
        .prepare_cached("SELECT definition FROM activities WHERE id = ?1")
        .and_then(|mut get| get.query_row([id], |r| r.get(0)).optional())
        .map_err(internal)?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

/// Keeps attachment contents (content-addressed: a repeat is a no-op).
fn insert_attachments(tx: &Transaction<'_>, attachments: &[Attachment]) -> Result<(), StoreError> {
    let mut attach = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO attachments (sha2, content_type, content) VALUES (?1, ?2, ?3)",
        )
        .map_err(internal)?;
    for a in attachments {
        attach
            .execute(params![a.sha2, a.content_type, a.content])
            .map_err(internal)?;
    }
    Ok(())
}

/// The WHERE conditions of a query's filters on the statements row `alias`.
fn filter_conditions(q: &StatementQuery, alias: &str, args: &mut Vec<SqlValue>) -> Vec<String> {
    let mut conds = Vec::new();
    if let Some(agent) = &q.agent {
        let direct = if q.related_agents {
            ""
        } else {
            " AND direct = 1"
        };
        conds.push(format!(
            "{alias}.seq IN (SELECT seq FROM statement_agents WHERE agent = ?{direct})"
        ));
        args.push(SqlValue::Text(agent.clone()));
    }
    if let Some(verb) = &q.verb {
        conds.push(format!("{alias}.verb = ?"));
        args.push(SqlValue::Text(verb.clone()));
    }
    if let Some(activity) = &q.activity {
        let direct = if q.related_activities {
            ""
        } else {
            " AND direct = 1"
        };
        conds.push(format!(
            "{alias}.seq IN (SELECT seq FROM statement_activities WHERE activity = ?{direct})"
        ));
        args.push(SqlValue::Text(activity.clone()));
    }
    if let Some(registration) = &q.registration {
        conds.push(format!("{alias}.registration = ?"));
        args.push(SqlValue::Text(registration.clone()));
    }
    conds
}

/// Conditions on the returned row `s` itself: voided, time window, cursor, authority.
fn window_conditions(q: &StatementQuery, order_col: &str, args: &mut Vec<SqlValue>) -> Vec<String> {
    let mut conds = vec!["s.voided = 0".to_string()];
    // `stored` grows with `seq` (one writer assigns both), so a time window is a `seq` range:
    // the scan stays on the driving index instead of filtering row by row.
    let last_seq_at = "(SELECT COALESCE((SELECT seq FROM statements WHERE stored <= ? \
                       ORDER BY stored DESC LIMIT 1), 0))";
    if let Some(since) = q.since {
        conds.push(format!("{order_col} > {last_seq_at}"));
        args.push(SqlValue::Integer(since));
    }
    if let Some(until) = q.until {
        conds.push(format!("{order_col} <= {last_seq_at}"));
        args.push(SqlValue::Integer(until));
    }
    if let Some(after) = q.after {
        conds.push(format!(
            "{order_col} {} ?",
            if q.ascending { ">" } else { "<" }
        ));
        args.push(SqlValue::Integer(after));
    }
    if let Some(authority) = &q.authority {
        conds.push("s.authority = ?".into());
        args.push(SqlValue::Text(authority.clone()));
    }
    conds
}

fn order_limit(q: &StatementQuery, order_col: &str, args: &mut Vec<SqlValue>) -> String {
    args.push(SqlValue::Integer(q.limit as i64 + 1));
    format!(
        " ORDER BY {order_col} {} LIMIT ?",
        if q.ascending { "ASC" } else { "DESC" }
    )
}

/// Statements matching the filters themselves. The most selective index drives the scan in
/// `seq` order, so a page costs the same at 10 k or 10 M stored statements.
fn direct_sql(q: &StatementQuery) -> (String, Vec<SqlValue>) {
    let mut args = Vec::new();
    let (from, order_col, driven) = if let Some(agent) = &q.agent {
        args.push(SqlValue::Text(agent.clone()));
        let direct = if q.related_agents {
            ""
        } else {
            " AND d.direct = 1"
        };
        (
            format!(
                "statement_agents d JOIN statements s ON s.seq = d.seq WHERE d.agent = ?{direct}"
            ),
            "d.seq",
            Some("agent"),
        )
    } else if let Some(activity) = &q.activity {
        args.push(SqlValue::Text(activity.clone()));
        let direct = if q.related_activities {
            ""
        } else {
            " AND d.direct = 1"
        };
        (
            format!("statement_activities d JOIN statements s ON s.seq = d.seq WHERE d.activity = ?{direct}"),
            "d.seq",
            Some("activity"),
        )
    } else {
        ("statements s WHERE 1".to_string(), "s.seq", None)
    };
    let rest = StatementQuery {
        agent: q.agent.clone().filter(|_| driven != Some("agent")),
        activity: q.activity.clone().filter(|_| driven != Some("activity")),
        ..q.clone()
    };
    let mut conds = filter_conditions(&rest, "s", &mut args);
    conds.extend(window_conditions(q, order_col, &mut args));
    let mut sql = format!("SELECT s.seq, s.stored, s.body FROM {from}");
    for c in conds {
        sql.push_str(" AND ");
        sql.push_str(&c);
    }
    sql.push_str(&order_limit(q, order_col, &mut args));
    (sql, args)
}

/// Statements whose StatementRef object targets a statement matching the filters: they match
/// too (xAPI 2.1.3 "Filter Conditions for StatementRefs"). Only statements with a reference are
/// scanned, through their partial index (few in practice: voiding and
/// commenting statements).
fn reference_sql(q: &StatementQuery) -> Option<(String, Vec<SqlValue>)> {
    let mut args = Vec::new();
    let on_target = filter_conditions(q, "t", &mut args);
    if on_target.is_empty() {
        return None;
    }
    let mut conds = on_target;
    conds.extend(window_conditions(q, "s.seq", &mut args));
    let mut sql = String::from(
        "SELECT s.seq, s.stored, s.body FROM statements s INDEXED BY statements_ref \
         CROSS JOIN statements t ON t.id = s.ref_target WHERE s.ref_target IS NOT NULL",
    );
    for c in conds {
        sql.push_str(" AND ");
        sql.push_str(&c);
    }
    sql.push_str(&order_limit(q, "s.seq", &mut args));
    Some((sql, args))
}

/// A query row: seq, stored (µs), body.
type Row = (i64, i64, String);

fn run_query(conn: &Connection, sql: &str, args: Vec<SqlValue>) -> Result<Vec<Row>, StoreError> {
    let mut st = conn.prepare_cached(sql).map_err(internal)?;
    let rows = st
        .query_map(rusqlite::params_from_iter(args), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .map_err(internal)?;
    rows.collect::<Result<_, _>>().map_err(internal)
}

/// Merges two lists sorted in query order, dropping repeated positions, into one page.
pub(super) fn merge_page(q: &StatementQuery, a: Vec<Row>, b: Vec<Row>) -> Page {
    let mut rows: Vec<Row> = a.into_iter().chain(b).collect();
    if q.ascending {
        rows.sort_by_key(|r| r.0);
    } else {
        rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    }
    rows.dedup_by_key(|r| r.0);
    let more = (rows.len() > q.limit).then(|| rows[q.limit - 1].0);
    rows.truncate(q.limit);
    Page {
        last_stored: rows.iter().map(|r| r.1).max(),
        statements: rows.into_iter().map(|r| r.2).collect(),
        more,
    }
}

#[async_trait]
impl StatementStore for SqliteStore {
    async fn insert(
        &self,
        batch: Vec<PreparedStatement>,
        attachments: Vec<Attachment>,
    ) -> Result<(), StoreError> {
        let (reply, outcome) = oneshot::channel();
        self.writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(Job {
                batch,
                attachments,
                reply,
            })
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?;
        outcome
            .await
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?
    }

    async fn get(&self, id: Uuid) -> Result<Option<StoredStatement>, StoreError> {
        self.read(move |conn| {
            conn.prepare_cached("SELECT body, voided, stored FROM statements WHERE id = ?1")
                .and_then(|mut st| {
                    st.query_row([id.to_string()], |r| {
                        Ok(StoredStatement {
                            body: r.get(0)?,
                            voided: r.get::<_, i64>(1)? != 0,
                            stored: r.get(2)?,
                        })
                    })
                    .optional()
                })
                .map_err(internal)
        })
        .await
    }

    async fn query(&self, query: &StatementQuery) -> Result<Page, StoreError> {
        let q = query.clone();
        self.read(move |conn| {
            let (sql, args) = direct_sql(&q);
            let direct = run_query(conn, &sql, args)?;
            let referring = match reference_sql(&q) {
                Some((sql, args)) => run_query(conn, &sql, args)?,
                None => Vec::new(),
            };
            Ok(merge_page(&q, direct, referring))
        })
        .await
    }

    async fn consistent_through(&self) -> Result<i64, StoreError> {
        Ok(super::consistent_through(&self.pending_since))
    }

    async fn attachments(&self, sha2s: &[String]) -> Result<Vec<Attachment>, StoreError> {
        let sha2s = sha2s.to_vec();
        self.read(move |conn| {
            let mut st = conn
                .prepare_cached("SELECT content_type, content FROM attachments WHERE sha2 = ?1")
                .map_err(internal)?;
            let mut out = Vec::new();
            for sha2 in sha2s {
                if let Some((content_type, content)) = st
                    .query_row([&sha2], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
                    .map_err(internal)?
                {
                    out.push(Attachment {
                        sha2,
                        content_type,
                        content,
                    });
                }
            }
            Ok(out)
        })
        .await
    }

    async fn activity_definition(&self, id: &str) -> Result<Option<Value>, StoreError> {
        let id = id.to_string();
        let text: Option<String> = self
            .read(move |conn| {
                conn.prepare_cached("SELECT definition FROM activities WHERE id = ?1")
                    .and_then(|mut st| st.query_row([&id], |r| r.get(0)).optional())
                    .map_err(internal)
            })
            .await?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Internal(e.to_string())))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_store() -> (SqliteStore, PathBuf) {
        let dir = std::env::temp_dir().join(format!("xlrs-sqlite-{}", Uuid::new_v4()));
        let store = SqliteStore::open(&dir.join("db.sqlite3"), 2).expect("opens");
        (store, dir)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_passes_the_statement_store_contract() {
        let (store, dir) = temp_store();
        crate::store::contract::statement_store(&store).await;
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_passes_the_document_store_contract() {
        let (store, dir) = temp_store();
        crate::store::contract::document_store(&store).await;
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn statements_survive_a_reopen() {
        let (store, dir) = temp_store();
        let s = crate::xapi::statement::prepare(
            serde_json::json!({"actor": {"mbox": "mailto:a@example.org"}, "verb": {"id": "http://v"}, "object": {"id": "http://a"}}),
            &serde_json::json!({"mbox": "mailto:auth@example.org"}),
            crate::xapi::version::XapiVersion::V2_0_0,
        )
        .expect("prepares");
        let id = s.id;
        store.insert(vec![s], vec![]).await.expect("insert");
        drop(store);
        let again = SqliteStore::open(&dir.join("db.sqlite3"), 2).expect("reopens");
        assert!(again.get(id).await.expect("get").is_some());
        std::fs::remove_dir_all(dir).ok();
    }

    fn statement(id: Uuid, object: &str) -> PreparedStatement {
        crate::xapi::statement::prepare(
            serde_json::json!({"id": id, "actor": {"mbox": "mailto:a@example.org"},
                "verb": {"id": "http://v"}, "object": {"id": object}}),
            &serde_json::json!({"mbox": "mailto:auth@example.org"}),
            crate::xapi::version::XapiVersion::V2_0_0,
        )
        .expect("prepares")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_conflicting_batch_is_refused_while_the_batches_of_its_round_are_kept() {
        let dir = std::env::temp_dir().join(format!("xlrs-sqlite-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("db.sqlite3");
        let conn = open(&path, WRITER_CACHE_KIB).expect("opens");
        migrate(&conn).expect("migrates");
        let (synced, rounds) = mpsc::channel();
        let wal = wal_path(&path);
        std::thread::spawn(move || syncer(wal, rounds));
        let mut writer = Writer {
            conn,
            last_stored: 0,
            pending: Arc::new(AtomicI64::new(0)),
            definitions: HashMap::new(),
            synced,
            restart: Arc::new(AtomicBool::new(false)),
        };
        let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
        let mut answers = Vec::new();
        let jobs = [
            vec![statement(first, "http://a")],
            vec![statement(first, "http://changed")],
            vec![statement(second, "http://b")],
        ]
        .map(|batch| {
            let (reply, answer) = oneshot::channel();
            answers.push(answer);
            Job {
                batch,
                attachments: Vec::new(),
                reply,
            }
        });
        writer.commit(jobs.into());
        let outcomes: Vec<_> = futures::future::join_all(answers).await;
        assert!(matches!(outcomes[0], Ok(Ok(()))), "{:?}", outcomes[0]);
        assert!(
            matches!(outcomes[1], Ok(Err(StoreError::Conflict(id))) if id == first),
            "{:?}",
            outcomes[1]
        );
        assert!(matches!(outcomes[2], Ok(Ok(()))), "{:?}", outcomes[2]);
        let ids: Vec<String> = writer
            .conn
            .prepare("SELECT id FROM statements ORDER BY seq")
            .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
            .expect("reads");
        assert_eq!(ids, [first.to_string(), second.to_string()]);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn the_log_syncer_follows_a_log_file_replaced_at_its_path() {
        use std::os::unix::fs::MetadataExt;
        let dir = std::env::temp_dir().join(format!("xlrs-sqlite-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let wal = dir.join("db.sqlite3-wal");
        std::fs::write(&wal, b"first").expect("writes");
        let mut log = None;
        sync_log(&wal, &mut log).expect("syncs");
        let first = log.as_ref().map(|(_, inode)| *inode);
        let replacement = dir.join("new");
        std::fs::write(&replacement, b"second").expect("writes");
        std::fs::rename(&replacement, &wal).expect("replaces");
        sync_log(&wal, &mut log).expect("syncs again");
        let now = std::fs::metadata(&wal).expect("stat").ino();
        assert_ne!(first, Some(now));
        assert_eq!(log.as_ref().map(|(_, inode)| *inode), Some(now));
        std::fs::remove_dir_all(dir).ok();
    }
}
