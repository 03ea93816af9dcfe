//! The threads that write: the writer, which commits queued batches together (group commit)
//! and hands out positions; the syncer, which answers each committed round once the
//! write-ahead log holding it is on disk; and the checkpointer, which copies the log into the
//! database file off the writer's path.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

use rusqlite::{
    params, CachedStatement, Connection, OptionalExtension, Transaction, TransactionBehavior,
};
use serde_json::Value;
use uuid::Uuid;
use xlrs_store::group_commit::{self, accept, Job, Positioned};
use xlrs_store::positions::{Positions, Round};
use xlrs_store::rules::{ids_of, Stored};
use xlrs_store::StoreError;
use xlrs_xapi::statement::PreparedStatement;

use crate::side::{insert_attachments, merge_cached};
use crate::{connect, internal, READER_CACHE_KIB};

/// The channels of the writing threads.
pub(crate) struct Threads {
    /// Where insert calls queue for the writer.
    pub(crate) jobs: mpsc::Sender<Job>,
    /// Dropping it stops the checkpointer.
    pub(crate) stop_checkpoints: mpsc::Sender<()>,
}

/// Starts the writer on `conn` (migrated) and the syncer and checkpointer beside it.
pub(crate) fn start(
    conn: Connection,
    path: &Path,
    positions: Arc<Positions>,
) -> Result<Threads, StoreError> {
    let last_stored: i64 = conn
        .query_row("SELECT COALESCE(MAX(stored), 0) FROM statements", [], |r| {
            r.get(0)
        })
        .map_err(internal)?;
    // The log file keeps its blocks between restarts (up to 256 MiB): rewriting allocated
    // blocks is cheaper than growing the file again.
    conn.execute_batch("PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=268435456")
        .map_err(internal)?;
    let checkpoint_conn = connect(path, READER_CACHE_KIB)?;
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
    let (jobs, queued) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("xlrs-sqlite-writer".into())
        .spawn(move || {
            Writer {
                conn,
                last_stored,
                positions,
                definitions: HashMap::new(),
                synced,
                restart,
            }
            .run(queued)
        })
        .map_err(|e| StoreError::Internal(format!("cannot start writer: {e}")))?;
    Ok(Threads {
        jobs,
        stop_checkpoints,
    })
}

/// Most queued batches committed in one transaction.
const GROUP_COMMIT_JOBS: usize = 64;

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

/// The one thread that writes.
struct Writer {
    conn: Connection,
    last_stored: i64,
    positions: Arc<Positions>,
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
        let mut positions = self.positions.start(self.last_stored);
        // IMMEDIATE: take the write lock up front (waiting in the busy handler), never upgrade
        // a read snapshot, which SQLite refuses at once while a checkpoint runs.
        let (answered, outcome) = match self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
        {
            Err(e) => (jobs, Err(internal(e))),
            Ok(tx) => match known(&tx, &round_ids(&jobs)) {
                Err(e) => (jobs, Err(e)),
                Ok(stored) => {
                    let accepted = accept(jobs, stored);
                    let outcome = write(&tx, &accepted, &mut self.definitions, &mut positions)
                        .and_then(|()| tx.commit().map_err(internal));
                    (accepted.into_iter().map(|(job, _)| job).collect(), outcome)
                }
            },
        };
        let last = positions.last();
        drop(positions);
        match outcome {
            Ok(()) => {
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

/// Writes a round's accepted statements at the round's next positions, their definitions and
/// attachments.
fn write(
    tx: &Transaction<'_>,
    accepted: &[(Job, Vec<usize>)],
    cache: &mut HashMap<String, Value>,
    positions: &mut Round<'_>,
) -> Result<(), StoreError> {
    let mut inserts = Inserts::prepare(tx)?;
    for (job, keep) in accepted {
        for &i in keep {
            let statement = &job.batch[i];
            inserts.insert(&Positioned {
                statement,
                stored: positions.next_position(),
            })?;
            for (id, definition) in &statement.index.definitions {
                merge_cached(tx, cache, id, definition)?;
            }
        }
        insert_attachments(tx, &job.attachments)?;
    }
    Ok(())
}

/// Every statement id a round's jobs hold or void.
fn round_ids(jobs: &[Job]) -> Vec<Uuid> {
    let statements: Vec<&PreparedStatement> = jobs.iter().flat_map(|job| &job.batch).collect();
    ids_of(&statements)
}

/// What is stored of `ids`: content hashes and voiding statements.
fn known(tx: &Transaction<'_>, ids: &[Uuid]) -> Result<Stored, StoreError> {
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
    Ok(out.into_iter().collect())
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
                // `seq` is one past the last, or past the last removed (erasure, retention):
                // a position is never given twice, so a `more` cursor stays valid.
                "INSERT INTO statements (seq, id, stored, verb, registration, ref_target, voids,
                 voided, authority, content_hash, body) VALUES (1 + MAX(
                     COALESCE((SELECT MAX(seq) FROM statements), 0),
                     COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'removed_through'), 0)),
                 ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
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

    /// Writes one checked statement and its index rows at its position.
    fn insert(&mut self, positioned: &Positioned<'_>) -> Result<(), StoreError> {
        let (s, stored) = (positioned.statement, positioned.stored);
        let id = s.id.to_string();
        let voids = s.index.voids.map(|t| t.to_string());
        let body = positioned.body();
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::oneshot;

    fn statement(id: Uuid, object: &str) -> PreparedStatement {
        xlrs_xapi::statement::prepare(
            serde_json::json!({"id": id, "actor": {"mbox": "mailto:a@example.org"},
                "verb": {"id": "http://v"}, "object": {"id": object}}),
            &serde_json::json!({"mbox": "mailto:auth@example.org"}),
            xlrs_xapi::version::XapiVersion::V2_0_0,
            Uuid::new_v4,
        )
        .expect("prepares")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_conflicting_batch_is_refused_while_the_batches_of_its_round_are_kept() {
        let dir = std::env::temp_dir().join(format!("xlrs-sqlite-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("db.sqlite3");
        let conn = connect(&path, crate::WRITER_CACHE_KIB).expect("opens");
        crate::schema::migrate(&conn).expect("migrates");
        let (synced, rounds) = mpsc::channel();
        let wal = wal_path(&path);
        std::thread::spawn(move || syncer(wal, rounds));
        let mut writer = Writer {
            conn,
            last_stored: 0,
            positions: Arc::default(),
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
