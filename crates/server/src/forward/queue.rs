//! Where a target's statements wait: in this process's outbox file (the embedded store and
//! backend plugins), or in the database store itself, read as a log from a cursor that one
//! process at a time holds (ClickHouse, MongoDB, Elasticsearch), so that any number of
//! processes over one database forward each statement, and a process that dies is taken over.

use serde_json::Value;
use uuid::Uuid;

use super::cursor::StoreLog;
use super::outbox::FileQueue;

/// A statement waiting for a target.
#[derive(Debug, Clone)]
pub struct Waiting {
    /// Its place in the queue: the outbox row, or its position (`stored`, µs) in the log.
    pub ticket: i64,
    /// Its `stored` (µs).
    pub stored: i64,
    /// The statement as stored, without `stored` (the target sets its own).
    pub statement: Value,
}

/// What a forwarding task is to do next.
#[derive(Debug)]
pub enum Next {
    /// This process forwards the target: its oldest waiting statements (none: nothing waits).
    Batch(Vec<Waiting>),
    /// Another process forwards the target now (its lease has not run out).
    HeldElsewhere,
}

/// How many statements wait for a target, and how many it refused for good.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Waiting (the database log counts at most one batch past its cursor).
    pub waiting: u64,
    /// Set aside as refused.
    pub refused: u64,
}

/// A statement a target refused for good, with its answer.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Refused {
    /// The statement's id.
    pub statement: String,
    /// The status the target answered.
    pub status: u16,
    /// The target's answer (its body).
    pub answer: String,
    /// When (RFC 3339).
    pub refused_at: String,
}

/// The queue of every target of this process.
pub enum Queue {
    /// The outbox file: ids queued by this process as it accepts statements.
    File(FileQueue),
    /// The database store read as a log.
    Log(StoreLog),
}

impl Queue {
    /// Queues statements this process accepted; durable when it returns. The log needs
    /// nothing: the statements are in the database already.
    pub async fn push(&self, ids: &[Uuid]) -> Result<(), String> {
        match self {
            Self::File(file) => file.push(ids).await,
            Self::Log(_) => Ok(()),
        }
    }

    /// The oldest `limit` statements waiting for `target`.
    pub async fn next(&self, target: &str, limit: usize) -> Result<Next, String> {
        match self {
            Self::File(file) => file.next(target, limit).await.map(Next::Batch),
            Self::Log(log) => log.next(target, limit).await,
        }
    }

    /// Takes a batch out of the queue once the target acknowledged it, or sets it aside with
    /// the target's refusal (status, answer).
    pub async fn settle(
        &self,
        target: &str,
        batch: &[Waiting],
        refused: Option<(u16, &str)>,
    ) -> Result<(), String> {
        match self {
            Self::File(file) => file.settle(batch, refused).await,
            Self::Log(log) => log.settle(target, batch, refused).await,
        }
    }

    /// What waits for `target` (`batch`: its batch size), and what it refused.
    pub async fn counts(&self, target: &str, batch: usize) -> Result<Counts, String> {
        match self {
            Self::File(file) => file.counts(target).await,
            Self::Log(log) => log.counts(target, batch).await,
        }
    }

    /// Takes erased statements out of the queue: outbox entries and refusals (`dry_run`:
    /// counts them); how many.
    pub async fn forget(&self, ids: &[Uuid], dry_run: bool) -> Result<u64, String> {
        match self {
            Self::File(file) => file.forget(ids, dry_run).await,
            Self::Log(log) => log.forget(ids, dry_run).await,
        }
    }

    /// The statements `target` refused, newest first (at most `limit`).
    pub async fn refused(&self, target: &str, limit: usize) -> Result<Vec<Refused>, String> {
        match self {
            Self::File(file) => file.refused(target, limit).await,
            Self::Log(log) => log.refused(target, limit).await,
        }
    }

    /// This process stops: the log hands its targets over to another process at once.
    pub async fn stop(&self) {
        if let Self::Log(log) = self {
            log.release_all().await;
        }
    }

    /// Whether a statement accepted by this process is counted as waiting when it is pushed
    /// (the outbox), or when a task next reads the log.
    pub fn counts_pushes(&self) -> bool {
        matches!(self, Self::File(_))
    }

    /// The longest wait between attempts while a target fails: over the log, shorter than
    /// the lease (the next attempt renews it), so a failing target keeps its holder instead
    /// of passing from process to process.
    pub fn longest_wait(&self) -> std::time::Duration {
        match self {
            Self::File(_) => std::time::Duration::from_secs(30),
            Self::Log(_) => std::time::Duration::from_secs(8),
        }
    }

    /// How long an idle task waits before it looks again without being woken: statements
    /// other processes store reach the log without waking this one.
    pub fn idle_check(&self) -> std::time::Duration {
        match self {
            Self::File(_) => std::time::Duration::from_secs(5),
            Self::Log(_) => std::time::Duration::from_secs(1),
        }
    }
}
