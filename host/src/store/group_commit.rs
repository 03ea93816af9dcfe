//! What the group-committing stores (ClickHouse, Elasticsearch) share: queueing insert calls
//! and committing them in rounds, the duplicate-id and voiding rules checked before a round is
//! written, and turning a statement another program wrote (Ralph) into one to index.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};
use uuid::Uuid;

use super::{Attachment, StoreError};
use crate::xapi::statement::{prepare, PreparedStatement};
use crate::xapi::validate::parse_timestamp;
use crate::xapi::version::XapiVersion;

/// One insert call waiting for the writer.
pub(super) struct Job {
    /// The statements, in request order.
    pub(super) batch: Vec<PreparedStatement>,
    /// Their attachments.
    pub(super) attachments: Vec<Attachment>,
    /// Where the outcome goes.
    pub(super) reply: tokio::sync::oneshot::Sender<Result<(), StoreError>>,
}

/// The indexes of a batch's statements to write, or why the batch fails: `hashes` holds the
/// content hash of every id already stored, `voiding` the ids of voiding statements.
pub(super) fn check(
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
            if s.same_content(hash) {
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

/// Checks each job of a round against what is stored and the jobs before it; the rejected
/// ones get their answer at once. Returns the accepted jobs with the indexes to write.
pub(super) fn accept(
    jobs: Vec<Job>,
    mut hashes: HashMap<Uuid, String>,
    mut voiding: HashSet<Uuid>,
) -> Vec<(Job, Vec<usize>)> {
    let mut accepted: Vec<(Job, Vec<usize>)> = Vec::with_capacity(jobs.len());
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

/// [`accept`] given each stored statement the round asks about as (id, content hash, whether
/// it is a voiding statement).
pub(super) fn accept_known(
    jobs: Vec<Job>,
    stored: impl IntoIterator<Item = (Uuid, String, bool)>,
) -> Vec<(Job, Vec<usize>)> {
    let mut hashes = HashMap::new();
    let mut voiding = HashSet::new();
    for (id, hash, is_voiding) in stored {
        if is_voiding {
            voiding.insert(id);
        }
        hashes.insert(id, hash);
    }
    accept(jobs, hashes, voiding)
}

/// Keeps the attachments of a round's accepted jobs in the embedded store, before the round
/// is written: content-addressed, so a failed round leaves only unreferenced bytes, never a
/// statement whose attachment is missing.
pub(super) async fn keep_attachments(
    side: &super::sqlite::SqliteStore,
    accepted: &mut [(Job, Vec<usize>)],
) -> Result<(), StoreError> {
    let attachments: Vec<Attachment> = accepted
        .iter_mut()
        .flat_map(|(job, _)| std::mem::take(&mut job.attachments))
        .collect();
    side.keep_side_data(attachments, Vec::new()).await
}

/// Answers every job of a round with the same outcome.
pub(super) fn answer(jobs: impl IntoIterator<Item = Job>, outcome: &Result<(), StoreError>) {
    for job in jobs {
        let _ = job.reply.send(outcome.clone());
    }
}

/// A statement another program stored (Ralph) as one to index, with its `stored` (µs): the
/// statement's own `stored` when it has one, else `fallback`. `source` names where it was
/// found, for the authority of statements that have none.
pub(super) fn adoptable(
    mut event: Value,
    id: Uuid,
    fallback: i64,
    source: &str,
) -> Result<(i64, PreparedStatement), String> {
    let stored = event
        .get("stored")
        .and_then(Value::as_str)
        .and_then(parse_timestamp)
        .map(|t| t.timestamp_micros())
        .unwrap_or(fallback);
    let authority = event
        .get("authority")
        .filter(|a| a.is_object())
        .cloned()
        .unwrap_or_else(|| {
            json!({"objectType": "Agent", "account": {"homePage": "http://localhost", "name": source}})
        });
    if !event.is_object() {
        return Err("not a JSON object".into());
    }
    if event.get("id").is_none() {
        event["id"] = Value::String(id.to_string());
    }
    let prepared = prepare(event, &authority, XapiVersion::V1_0_3).map_err(|e| e.to_string())?;
    if prepared.id != id {
        return Err(format!("its id is {}, not {id}", prepared.id));
    }
    Ok((stored, prepared))
}

/// A store that commits queued insert calls in rounds, one round at a time.
pub(super) trait GroupCommit: Send + Sync + 'static {
    /// What the round in progress holds exclusively (e.g. the last position handed out).
    type Writer: Send;
    /// Insert calls waiting for the next round.
    fn queue(&self) -> &std::sync::Mutex<Vec<Job>>;
    /// The writer, held by the round in progress.
    fn writer(&self) -> &tokio::sync::Mutex<Self::Writer>;
    /// Commits the jobs in one round and answers each.
    fn commit(
        &self,
        jobs: Vec<Job>,
        writer: &mut Self::Writer,
    ) -> impl std::future::Future<Output = ()> + Send;
}

/// Inserts a batch by group commit: queues the job; whoever gets the writer next commits every
/// queued job in one round. The round runs as a task of its own, so a caller that goes away
/// (client gone, request deadline) never cuts a commit short for the others.
pub(super) async fn insert<S: GroupCommit>(
    store: &std::sync::Arc<S>,
    batch: Vec<PreparedStatement>,
    attachments: Vec<Attachment>,
) -> Result<(), StoreError> {
    let (reply, outcome) = tokio::sync::oneshot::channel();
    store
        .queue()
        .lock()
        .map_err(|_| StoreError::Internal("the insert queue is poisoned".into()))?
        .push(Job {
            batch,
            attachments,
            reply,
        });
    let store = store.clone();
    tokio::spawn(async move {
        let mut writer = store.writer().lock().await;
        let jobs = match store.queue().lock() {
            Ok(mut queue) => std::mem::take(&mut *queue),
            Err(_) => return,
        };
        if !jobs.is_empty() {
            store.commit(jobs, &mut writer).await;
        }
    });
    outcome
        .await
        .unwrap_or_else(|_| Err(StoreError::Internal("the insert was dropped".into())))
}
