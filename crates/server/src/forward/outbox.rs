//! The forwarding outbox: one SQLite file holding, per target, the ids of the statements
//! accepted but not yet forwarded, and those a target refused for good. Rows leave it only once a target has
//! acknowledged them, so a target that is down, or a restart, loses nothing.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection};
use serde_json::Value;
use uuid::Uuid;
use xlrs_store::StatementStore;

use super::queue::{Counts, Refused, Waiting};

/// Why the outbox could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// SQLite failed.
    #[error("forwarding outbox: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Another thread panicked while holding the connection.
    #[error("forwarding outbox: the connection is poisoned")]
    Poisoned,
}

/// A statement waiting for one target.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    /// Position in the outbox (forwarding order).
    pub seq: i64,
    /// The statement's id.
    pub id: String,
}

/// The outbox file.
pub struct Outbox {
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,
    statement_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_by_target ON outbox (target, seq);
CREATE INDEX IF NOT EXISTS outbox_by_statement ON outbox (statement_id);
CREATE TABLE IF NOT EXISTS refused (
    seq INTEGER PRIMARY KEY,
    target TEXT NOT NULL,
    statement_id TEXT NOT NULL,
    status INTEGER NOT NULL,
    answer TEXT NOT NULL,
    refused_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS refused_by_statement ON refused (statement_id);
";

impl Outbox {
    /// Opens (or creates) the outbox at `path`.
    pub fn open(path: &Path) -> Result<Self, OutboxError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>, OutboxError> {
        self.conn.lock().map_err(|_| OutboxError::Poisoned)
    }

    /// Queues every statement id for every target, in one transaction (durable when it returns).
    pub fn push(&self, targets: &[&str], ids: &[String]) -> Result<(), OutboxError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO outbox (target, statement_id) VALUES (?, ?)")?;
            for target in targets {
                for id in ids {
                    insert.execute(params![target, id])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The oldest `limit` statements waiting for `target`.
    pub fn next(&self, target: &str, limit: usize) -> Result<Vec<Queued>, OutboxError> {
        let conn = self.conn()?;
        let mut select = conn.prepare_cached(
            "SELECT seq, statement_id FROM outbox WHERE target = ? ORDER BY seq LIMIT ?",
        )?;
        let rows = select.query_map(params![target, limit as i64], |r| {
            Ok(Queued {
                seq: r.get(0)?,
                id: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Removes statements a target acknowledged.
    pub fn remove(&self, seqs: &[i64]) -> Result<(), OutboxError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        {
            let mut delete = tx.prepare_cached("DELETE FROM outbox WHERE seq = ?")?;
            for seq in seqs {
                delete.execute([seq])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Moves a statement the target refused for good (a 4xx such as 400 or 409) to the refused
    /// table, with the target's answer, for an operator to inspect.
    pub fn refuse(&self, seq: i64, status: u16, answer: &str) -> Result<(), OutboxError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO refused (seq, target, statement_id, status, answer)
             SELECT seq, target, statement_id, ?, ? FROM outbox WHERE seq = ?",
            params![status, answer, seq],
        )?;
        tx.execute("DELETE FROM outbox WHERE seq = ?", [seq])?;
        tx.commit()?;
        Ok(())
    }

    /// Takes statements out of the outbox (erased): waiting and refused entries for every
    /// target, or (`dry_run`) only counts them; how many entries.
    pub fn forget(&self, ids: &[String], dry_run: bool) -> Result<u64, OutboxError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let mut entries = 0;
        for table in ["outbox", "refused"] {
            let sql = match dry_run {
                true => format!("SELECT count(*) FROM {table} WHERE statement_id = ?"),
                false => format!("DELETE FROM {table} WHERE statement_id = ? RETURNING 1"),
            };
            let mut each = tx.prepare(&sql)?;
            for id in ids {
                entries += match dry_run {
                    true => each.query_row([id], |r| r.get::<_, i64>(0))? as u64,
                    false => each.query_map([id], |_| Ok(()))?.count() as u64,
                };
            }
        }
        tx.commit()?;
        Ok(entries)
    }

    /// The statements `target` refused, newest first (at most `limit`).
    pub fn refused(&self, target: &str, limit: usize) -> Result<Vec<Refused>, OutboxError> {
        let conn = self.conn()?;
        let mut select = conn.prepare(
            "SELECT statement_id, status, answer, refused_at FROM refused
             WHERE target = ? ORDER BY seq DESC LIMIT ?",
        )?;
        let rows = select.query_map(params![target, limit as i64], |r| {
            Ok(Refused {
                statement: r.get(0)?,
                status: r.get::<_, i64>(1)? as u16,
                answer: r.get(2)?,
                refused_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Queues again what `target` refused (after what waits); how many.
    pub fn retry(&self, target: &str) -> Result<u64, OutboxError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let moved = tx.execute(
            "INSERT INTO outbox (target, statement_id)
             SELECT target, statement_id FROM refused WHERE target = ? ORDER BY seq",
            [target],
        )?;
        tx.execute("DELETE FROM refused WHERE target = ?", [target])?;
        tx.commit()?;
        Ok(moved as u64)
    }

    /// How many statements wait, and how many were refused, per target.
    pub fn counts(&self) -> Result<Vec<(String, u64, u64)>, OutboxError> {
        let conn = self.conn()?;
        let mut select = conn.prepare(
            "SELECT target, SUM(waiting), SUM(refused) FROM (
                 SELECT target, 1 AS waiting, 0 AS refused FROM outbox
                 UNION ALL SELECT target, 0, 1 FROM refused)
             GROUP BY target",
        )?;
        let rows = select.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get::<_, i64>(1)? as u64,
                r.get::<_, i64>(2)? as u64,
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Ids to queue, and where to say whether they were.
type PushJob = (
    Vec<String>,
    tokio::sync::oneshot::Sender<Result<(), String>>,
);

/// The outbox writer: each round commits every push waiting, in one transaction, so
/// concurrent requests share a disk flush (group commit).
fn group_commit(outbox: &Outbox, urls: &[String], jobs: std::sync::mpsc::Receiver<PushJob>) {
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    while let Ok(first) = jobs.recv() {
        let mut ids = Vec::new();
        let mut replies = Vec::new();
        for (mut job_ids, reply) in std::iter::once(first).chain(jobs.try_iter()) {
            ids.append(&mut job_ids);
            replies.push(reply);
        }
        let done = outbox.push(&urls, &ids).map_err(|e| e.to_string());
        for reply in replies {
            let _ = reply.send(done.clone());
        }
    }
}

/// The outbox file as a forwarding queue: ids pushed as this process accepts statements,
/// the statements read back from the store when sent.
pub struct FileQueue {
    outbox: Arc<Outbox>,
    /// To the thread writing the outbox.
    pushes: std::sync::mpsc::Sender<PushJob>,
    statements: Arc<dyn StatementStore>,
}

impl FileQueue {
    /// Opens the outbox at `path` for the targets `urls`, and starts its writer thread.
    pub fn open(
        path: &Path,
        urls: Vec<String>,
        statements: Arc<dyn StatementStore>,
    ) -> Result<Self, String> {
        let outbox = Arc::new(Outbox::open(path).map_err(|e| e.to_string())?);
        for (url, waiting, _) in outbox.counts().map_err(|e| e.to_string())? {
            if waiting > 0 && !urls.contains(&url) {
                tracing::warn!(
                    target_url = %url,
                    waiting,
                    "statements wait in the forwarding outbox for a target no longer configured"
                );
            }
        }
        let (pushes, jobs) = std::sync::mpsc::channel();
        let writer = outbox.clone();
        std::thread::Builder::new()
            .name("xlrs-outbox".into())
            .spawn(move || group_commit(&writer, &urls, jobs))
            .map_err(|e| format!("starting the outbox writer: {e}"))?;
        Ok(Self {
            outbox,
            pushes,
            statements,
        })
    }

    /// Queues ids for every target; durable when it returns.
    pub async fn push(&self, ids: &[Uuid]) -> Result<(), String> {
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.pushes
            .send((ids, reply))
            .map_err(|_| "the outbox writer stopped".to_string())?;
        answer
            .await
            .unwrap_or_else(|_| Err("the outbox writer stopped".into()))
    }

    /// Runs `work` on the outbox off the async workers (SQLite blocks).
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Outbox) -> Result<T, OutboxError> + Send + 'static,
    ) -> Result<T, String> {
        let outbox = self.outbox.clone();
        match tokio::task::spawn_blocking(move || work(&outbox)).await {
            Ok(done) => done.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// The oldest `limit` statements waiting for `target`, as stored. A statement the store
    /// does not show yet (a store that makes writes visible after a delay) stays queued for
    /// the next round; none found at all is an error, retried with backoff.
    pub async fn next(&self, target: &str, limit: usize) -> Result<Vec<Waiting>, String> {
        let url = target.to_string();
        let queued = self.blocking(move |o| o.next(&url, limit)).await?;
        let mut loaded = Vec::with_capacity(queued.len());
        for q in &queued {
            let id = Uuid::parse_str(&q.id).map_err(|e| format!("outbox id: {e}"))?;
            let found = self.statements.get(id).await.map_err(|e| e.to_string())?;
            let Some(stored) = found else { continue };
            let mut statement: Value = serde_json::from_str(&stored.body)
                .map_err(|e| format!("stored statement {id}: {e}"))?;
            if let Some(map) = statement.as_object_mut() {
                map.remove("stored");
            }
            loaded.push(Waiting {
                ticket: q.seq,
                stored: stored.stored,
                statement,
            });
        }
        if loaded.is_empty() && !queued.is_empty() {
            return Err("the queued statements are not readable from the store yet".into());
        }
        Ok(loaded)
    }

    /// Removes a batch once acknowledged, or moves it to the refused table.
    pub async fn settle(
        &self,
        batch: &[Waiting],
        refused: Option<(u16, &str)>,
    ) -> Result<(), String> {
        let seqs: Vec<i64> = batch.iter().map(|w| w.ticket).collect();
        let refused = refused.map(|(status, answer)| (status, answer.to_string()));
        self.blocking(move |outbox| match refused {
            None => outbox.remove(&seqs),
            Some((status, answer)) => seqs
                .iter()
                .try_for_each(|seq| outbox.refuse(*seq, status, &answer)),
        })
        .await
    }

    /// Takes erased statements out of the outbox (`dry_run`: counts them); how many entries.
    pub async fn forget(&self, ids: &[Uuid], dry_run: bool) -> Result<u64, String> {
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        self.blocking(move |outbox| outbox.forget(&ids, dry_run))
            .await
    }

    /// The statements `target` refused, newest first (at most `limit`).
    pub async fn refused(&self, target: &str, limit: usize) -> Result<Vec<Refused>, String> {
        let target = target.to_string();
        self.blocking(move |outbox| outbox.refused(&target, limit))
            .await
    }

    /// Queues again what `target` refused; how many.
    pub async fn retry(&self, target: &str) -> Result<u64, String> {
        let target = target.to_string();
        self.blocking(move |outbox| outbox.retry(&target)).await
    }

    /// What waits for `target`, and what it refused.
    pub async fn counts(&self, target: &str) -> Result<Counts, String> {
        let counts = self.blocking(Outbox::counts).await?;
        Ok(counts
            .into_iter()
            .find(|(url, ..)| url == target)
            .map_or_else(Counts::default, |(_, waiting, refused)| Counts {
                waiting,
                refused,
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_statements_survive_a_reopen_and_leave_only_when_acknowledged_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.sqlite3");
        let outbox = Outbox::open(&path).unwrap();
        let statements: Vec<String> = (1..=3).map(|n| format!("{{\"n\":{n}}}")).collect();
        outbox.push(&["a", "b"], &statements).unwrap();
        drop(outbox);

        let outbox = Outbox::open(&path).unwrap();
        let a = outbox.next("a", 2).unwrap();
        assert_eq!(
            a.iter().map(|q| q.id.as_str()).collect::<Vec<_>>(),
            ["{\"n\":1}", "{\"n\":2}"]
        );
        outbox.remove(&[a[0].seq]).unwrap();
        outbox.refuse(a[1].seq, 400, "bad").unwrap();
        assert_eq!(outbox.next("a", 10).unwrap().len(), 1);
        assert_eq!(outbox.next("b", 10).unwrap().len(), 3);
        let mut counts = outbox.counts().unwrap();
        counts.sort();
        assert_eq!(counts, [("a".into(), 1, 1), ("b".into(), 3, 0)]);
    }
}
