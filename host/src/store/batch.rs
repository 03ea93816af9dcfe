//! What the stores with a group-committing writer share (ClickHouse, MongoDB): the queue of
//! insert calls, committed one round at a time by a task of its own, and the duplicate-id and
//! voiding rules each queued batch is checked against.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use uuid::Uuid;

use super::{Attachment, StoreError};
use crate::xapi::statement::PreparedStatement;

/// One insert call waiting for the writer.
pub(super) struct Job {
    /// The statements, in request order.
    pub batch: Vec<PreparedStatement>,
    /// Their attachments.
    pub attachments: Vec<Attachment>,
    /// Where the outcome goes.
    pub reply: tokio::sync::oneshot::Sender<Result<(), StoreError>>,
}

/// A statement already stored, as the rules need to know it.
pub(super) struct Known {
    /// Its content hash (identical re-sends are skipped, others conflict).
    pub hash: String,
    /// Whether it is a voiding statement (which cannot be voided).
    pub voiding: bool,
}

/// A store's writer: its queue, its last `stored` (held by the round in progress, so rounds
/// never overlap) and how it commits a round.
pub(super) trait GroupWriter: Send + Sync + 'static {
    /// Insert calls waiting for the next round.
    fn queue(&self) -> &std::sync::Mutex<Vec<Job>>;
    /// The last `stored` handed out.
    fn last_stored(&self) -> &tokio::sync::Mutex<i64>;
    /// Commits the jobs of one round, answering each.
    fn commit(&self, jobs: Vec<Job>, last: &mut i64) -> impl Future<Output = ()> + Send;
}

/// Queues a batch and waits for the round that commits it. Whoever gets the writer lock next
/// commits every queued job; it runs as a task of its own, so a caller that goes away (client
/// gone, request deadline) never cuts a round short for the others.
pub(super) async fn submit<W: GroupWriter>(
    writer: &Arc<W>,
    batch: Vec<PreparedStatement>,
    attachments: Vec<Attachment>,
) -> Result<(), StoreError> {
    let (reply, outcome) = tokio::sync::oneshot::channel();
    writer
        .queue()
        .lock()
        .map_err(|_| StoreError::Internal("the insert queue is poisoned".into()))?
        .push(Job {
            batch,
            attachments,
            reply,
        });
    let writer = writer.clone();
    tokio::spawn(async move {
        let mut last = writer.last_stored().lock().await;
        let jobs = match writer.queue().lock() {
            Ok(mut queue) => std::mem::take(&mut *queue),
            Err(_) => return,
        };
        if !jobs.is_empty() {
            writer.commit(jobs, &mut last).await;
        }
    });
    outcome
        .await
        .unwrap_or_else(|_| Err(StoreError::Internal("the insert was dropped".into())))
}

/// The ids a round must look up: every statement's and every voiding target's.
pub(super) fn ids_to_check(jobs: &[Job]) -> Vec<Uuid> {
    jobs.iter()
        .flat_map(|j| &j.batch)
        .flat_map(|s| std::iter::once(s.id).chain(s.index.voids))
        .collect()
}

/// Checks each job against the stored statements (`known`) and the jobs accepted before it;
/// answers the refused ones and returns the others with the indexes of the statements to
/// write (re-sent identical statements are left out).
pub(super) fn accept(jobs: Vec<Job>, known: HashMap<Uuid, Known>) -> Vec<(Job, Vec<usize>)> {
    let mut voiding: HashSet<Uuid> = known
        .iter()
        .filter(|(_, k)| k.voiding)
        .map(|(id, _)| *id)
        .collect();
    let mut hashes: HashMap<Uuid, String> = known.into_iter().map(|(id, k)| (id, k.hash)).collect();
    let mut accepted = Vec::with_capacity(jobs.len());
    for job in jobs {
        match check(&job.batch, &hashes, &voiding) {
            Ok(keep) => {
                for &i in &keep {
                    let s = &job.batch[i];
                    hashes.insert(s.id, s.content_hash.clone());
                    if s.index.voids.is_some() {
                        voiding.insert(s.id);
                    }
                }
                accepted.push((job, keep));
            }
            Err(e) => {
                let _ = job.reply.send(Err(e));
            }
        }
    }
    accepted
}

/// Answers every job with the same outcome.
pub(super) fn answer(jobs: impl IntoIterator<Item = Job>, outcome: &Result<(), StoreError>) {
    for job in jobs {
        let _ = job.reply.send(outcome.clone());
    }
}

/// The indexes of a batch's statements to write, or why the batch fails: `hashes` holds the
/// content hash of every id already stored, `voiding` the ids of voiding statements.
fn check(
    batch: &[PreparedStatement],
    hashes: &HashMap<Uuid, String>,
    voiding: &HashSet<Uuid>,
) -> Result<Vec<usize>, StoreError> {
    let mut in_batch: HashMap<Uuid, &str> = HashMap::new();
    let mut voiding_in_batch: HashSet<Uuid> = HashSet::new();
    let mut keep = Vec::with_capacity(batch.len());
    for (i, s) in batch.iter().enumerate() {
        let known = hashes
            .get(&s.id)
            .map(String::as_str)
            .or_else(|| in_batch.get(&s.id).copied());
        if let Some(hash) = known {
            if hash == s.content_hash {
                continue;
            }
            return Err(StoreError::Conflict(s.id));
        }
        if let Some(target) = s.index.voids {
            if voiding.contains(&target) || voiding_in_batch.contains(&target) {
                return Err(StoreError::Rejected(format!(
                    "statement {} voids {target}, which is itself a voiding statement; a voiding statement cannot be voided",
                    s.id
                )));
            }
            voiding_in_batch.insert(s.id);
        }
        in_batch.insert(s.id, &s.content_hash);
        keep.push(i);
    }
    Ok(keep)
}
