//! The forwarding outbox: one SQLite file holding, per target, the ids of the statements
//! accepted but not yet forwarded, and those a target refused for good. Rows leave it only once a target has
//! acknowledged them, so a target that is down, or a restart, loses nothing.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection};

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
CREATE TABLE IF NOT EXISTS refused (
    seq INTEGER PRIMARY KEY,
    target TEXT NOT NULL,
    statement_id TEXT NOT NULL,
    status INTEGER NOT NULL,
    answer TEXT NOT NULL,
    refused_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
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
