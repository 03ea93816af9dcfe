//! The embedded default store: one SQLite file (WAL), one writer thread that commits queued
//! batches together (group commit), a syncer thread that answers each committed round once the
//! log is on disk (durable when acknowledged), and a pool of read connections. It also keeps
//! the attachments and canonical activity definitions of a backend plugin's statements
//! ([`ContentStore`](xlrs_store::ContentStore)), and the admission records of every store
//! ([`AdmissionLog`](xlrs_store::AdmissionLog)).
//!
//! Files: `schema` (tables and migrations), `writer` (the writer, syncer and checkpointer
//! threads), `statements` (the statement store), `query` (statement queries as SQL),
//! `documents`, `side` (attachments, activity definitions and admission records), `handover`
//! (moving attachments and definitions into a database store).

mod documents;
mod handover;
mod lifecycle;
mod query;
mod schema;
mod side;
mod statements;
mod writer;

pub use handover::Handover;

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use xlrs_store::group_commit::Job;
use xlrs_store::positions::Positions;
use xlrs_store::{StoreError, Stores};

/// Settings of the embedded SQLite store.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SqliteSettings {
    /// Database file (default `<data_dir>/xlrs.sqlite3`).
    pub path: Option<PathBuf>,
    /// Read connections kept open for queries.
    pub readers: usize,
}

impl Default for SqliteSettings {
    fn default() -> Self {
        Self {
            path: None,
            readers: 4,
        }
    }
}

fn internal(e: rusqlite::Error) -> StoreError {
    StoreError::Internal(e.to_string())
}

/// Page cache of the writer's connection (KiB): the index pages its inserts touch.
const WRITER_CACHE_KIB: i64 = 65_536;

/// Page cache of every other connection (KiB): reads go through the OS page cache as well.
const READER_CACHE_KIB: i64 = 8_192;

/// Opens a connection to the database file with the store's settings.
fn connect(path: &Path, cache_kib: i64) -> Result<Connection, StoreError> {
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

/// The SQLite store: statements, documents, attachments and activity definitions.
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<mpsc::Sender<Job>>,
    readers: Mutex<Vec<Connection>>,
    max_readers: usize,
    /// The connection document and side writes use, opened on first use.
    documents: Arc<Mutex<Option<Connection>>>,
    /// The positions the writer hands out, for Consistent-Through.
    positions: Arc<Positions>,
    /// Dropping it stops the checkpointer thread.
    _checkpointer: mpsc::Sender<()>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and starts the writer thread.
    pub fn open(path: &Path, readers: usize) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let conn = connect(path, WRITER_CACHE_KIB)?;
        schema::migrate(&conn)?;
        let positions = Arc::new(Positions::default());
        let threads = writer::start(conn, path, positions.clone())?;
        Ok(Self {
            path: path.to_owned(),
            writer: Mutex::new(threads.jobs),
            readers: Mutex::new(Vec::new()),
            max_readers: readers,
            documents: Arc::new(Mutex::new(None)),
            positions,
            _checkpointer: threads.stop_checkpoints,
        })
    }

    /// The store as every store the server needs.
    pub fn stores(store: Arc<Self>) -> Stores {
        Stores {
            statements: store.clone(),
            documents: store.clone(),
            content: store.clone(),
            admissions: store.clone(),
            lifecycle: Some(store),
            gauges: None,
        }
    }

    /// Runs `f` on the connection documents and side data are written with, off the async
    /// runtime.
    async fn write_aside<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let slot = self.documents.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = slot.lock().unwrap_or_else(|p| p.into_inner());
            if guard.is_none() {
                *guard = Some(connect(&path, READER_CACHE_KIB)?);
            }
            match guard.as_mut() {
                Some(conn) => f(conn),
                None => Err(StoreError::Internal("no document connection".into())),
            }
        })
        .await
        .map_err(|e| StoreError::Internal(format!("document writer task failed: {e}")))?
    }

    /// Runs `f` on a pooled read connection, off the async runtime.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let pooled = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(c) => c,
            None => connect(&self.path, READER_CACHE_KIB)?,
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
