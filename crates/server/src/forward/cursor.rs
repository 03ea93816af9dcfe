//! Forwarding from a database store read as a log. The statements are the queue: a target's
//! cursor (the position, `stored`, of the last statement it acknowledged) is a record in the
//! database, written only with an `If-Match` on its last version, and with it a lease naming
//! the process that forwards the target. Every process over the database keeps the cursor;
//! one holds the lease and renews it while it forwards; when it dies the lease runs out and
//! another takes the target over from the cursor. Statements a target refuses are set aside as
//! records too. Reads stop before any position still being written (the store's ledger), so
//! the cursor never passes a statement that becomes visible later.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;
use xlrs_store::positions::now_micros;
use xlrs_store::{DocumentScope, DocumentStore, Precondition, StatementStore, StoreError};
use xlrs_xapi::format::Format;
use xlrs_xapi::query::StatementQuery;

use super::queue::{Counts, Next, Waiting};
use crate::records;

/// How long a lease lasts after it is taken or renewed (µs).
pub const LEASE_MICROS: i64 = 15_000_000;
/// The holder renews its lease once less than this is left (µs).
const RENEW_BELOW_MICROS: i64 = 10_000_000;

/// A target's cursor and lease, as kept in the database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cursor {
    /// The target's base URL.
    target: String,
    /// The position (`stored`, µs) of the last statement the target acknowledged or refused.
    position: i64,
    /// The process forwarding the target.
    holder: String,
    /// Until when (µs) the holder's lease runs.
    lease_until: i64,
}

/// A lease this process holds: the cursor and the version it was written as.
#[derive(Debug, Clone)]
struct Held {
    cursor: Cursor,
    etag: String,
}

/// The database store as every target's queue.
pub struct StoreLog {
    statements: Arc<dyn StatementStore>,
    documents: Arc<dyn DocumentStore>,
    /// The targets' URLs.
    targets: Vec<String>,
    /// This process, as a lease names it.
    me: String,
    held: Mutex<HashMap<String, Held>>,
    /// Set once the process stops: it takes no lease any more.
    stopping: std::sync::atomic::AtomicBool,
}

/// Where the cursors live.
fn cursors() -> DocumentScope {
    records::scope("forwarding", "")
}

/// Where the statements `target` refused live.
fn refusals(target: &str) -> DocumentScope {
    records::scope("forwarding-refused", target)
}

impl StoreLog {
    /// The log over `statements`, with cursors in `documents`; makes sure each target has a
    /// cursor before this process serves, starting at what is stored now (statements stored
    /// before a target was first configured are not sent to it).
    pub async fn open(
        statements: Arc<dyn StatementStore>,
        documents: Arc<dyn DocumentStore>,
        targets: &[String],
    ) -> Result<Self, StoreError> {
        let log = Self {
            me: Uuid::new_v4().to_string(),
            statements,
            documents,
            targets: targets.to_vec(),
            held: Mutex::default(),
            stopping: std::sync::atomic::AtomicBool::new(false),
        };
        let start = log.statements.consistent_through().await?;
        for target in targets {
            let cursor = Cursor {
                target: target.clone(),
                position: start,
                holder: String::new(),
                lease_until: 0,
            };
            let created = log.write(cursor, None).await;
            match created {
                Ok(_) => tracing::info!(target_url = %target, "forwarding starts from now"),
                Err(StoreError::PreconditionFailed(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(log)
    }

    /// A target's cursor as stored, with its ETag.
    async fn read(&self, target: &str) -> Result<Option<Held>, StoreError> {
        let found = records::read(self.documents.as_ref(), &cursors(), target).await?;
        Ok(found.map(|(cursor, etag)| Held { cursor, etag }))
    }

    /// Writes `cursor` if it is still at `etag` (`None`: not there yet).
    async fn write(&self, cursor: Cursor, etag: Option<String>) -> Result<Held, StoreError> {
        let target = cursor.target.clone();
        let etag =
            records::write(self.documents.as_ref(), &cursors(), &target, &cursor, etag).await?;
        Ok(Held { cursor, etag })
    }

    fn remember(&self, target: &str, held: Option<Held>) {
        if let Ok(mut map) = self.held.lock() {
            match held {
                Some(held) => map.insert(target.to_string(), held),
                None => map.remove(target),
            };
        }
    }

    fn remembered(&self, target: &str) -> Option<Held> {
        self.held.lock().ok()?.get(target).cloned()
    }

    /// The lease on `target`: kept while it has long to run, renewed when it runs short,
    /// taken when its holder's ran out; `None` while another process holds it.
    async fn lease(&self, target: &str) -> Result<Option<Held>, StoreError> {
        if self.stopping.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(None);
        }
        let now = now_micros();
        if let Some(held) = self.remembered(target) {
            if held.cursor.lease_until - now > RENEW_BELOW_MICROS {
                return Ok(Some(held));
            }
        }
        let found = self.read(target).await?;
        let (position, etag) = match &found {
            Some(h) if h.cursor.holder != self.me && h.cursor.lease_until > now => {
                self.remember(target, None);
                return Ok(None);
            }
            Some(h) => (h.cursor.position, Some(h.etag.clone())),
            None => (self.statements.consistent_through().await?, None),
        };
        if let Some(h) = &found {
            if h.cursor.holder != self.me {
                tracing::info!(target_url = %target, position, "taking over forwarding");
            }
        }
        let cursor = Cursor {
            target: target.to_string(),
            position,
            holder: self.me.clone(),
            lease_until: now + LEASE_MICROS,
        };
        match self.write(cursor, etag).await {
            Ok(held) => {
                self.remember(target, Some(held.clone()));
                Ok(Some(held))
            }
            // Another process took or renewed it first.
            Err(StoreError::PreconditionFailed(_)) => {
                self.remember(target, None);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Up to `limit` statements after `position`, voided ones too, oldest first.
    async fn after(&self, position: i64, limit: usize) -> Result<Vec<Waiting>, StoreError> {
        let query = StatementQuery {
            after: Some(position),
            ascending: true,
            include_voided: true,
            limit,
            format: Format::Exact,
            ..StatementQuery::default()
        };
        let page = self.statements.query(&query).await?;
        page.statements.iter().map(|body| waiting(body)).collect()
    }

    /// The oldest `limit` statements after `target`'s cursor, while this process holds it.
    pub async fn next(&self, target: &str, limit: usize) -> Result<Next, String> {
        let Some(held) = self.lease(target).await.map_err(|e| e.to_string())? else {
            return Ok(Next::HeldElsewhere);
        };
        let batch = self
            .after(held.cursor.position, limit)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Next::Batch(batch))
    }

    /// Moves `target`'s cursor past a batch (after setting refused statements aside); fails
    /// when another process took the target over meanwhile (it sends from the cursor it read,
    /// and the target takes a statement sent twice as an identical re-send).
    pub async fn settle(
        &self,
        target: &str,
        batch: &[Waiting],
        refused: Option<(u16, &str)>,
    ) -> Result<(), String> {
        let Some(position) = batch.iter().map(|w| w.ticket).max() else {
            return Ok(());
        };
        let held = self
            .remembered(target)
            .ok_or_else(|| format!("forwarding to {target}: the lease was lost"))?;
        if let Some((status, answer)) = refused {
            for waiting in batch {
                let id = waiting.statement["id"].as_str().unwrap_or_default();
                self.refuse(target, id, status, answer).await?;
            }
        }
        let cursor = Cursor {
            position: position.max(held.cursor.position),
            lease_until: now_micros() + LEASE_MICROS,
            ..held.cursor.clone()
        };
        match self.write(cursor, Some(held.etag)).await {
            Ok(held) => {
                self.remember(target, Some(held));
                Ok(())
            }
            Err(e) => {
                self.remember(target, None);
                Err(match e {
                    StoreError::PreconditionFailed(_) => format!(
                        "forwarding to {target}: another process took it over; it sends on from the cursor"
                    ),
                    e => e.to_string(),
                })
            }
        }
    }

    /// Removes the refusal records of erased statements for every target (`dry_run`: counts
    /// them); how many. Nothing else of theirs is kept: the statements are the queue.
    pub async fn forget(&self, ids: &[Uuid], dry_run: bool) -> Result<u64, String> {
        let mut entries = 0;
        for target in &self.targets {
            let scope = refusals(target);
            for id in ids {
                let id = id.to_string();
                let found = match dry_run {
                    true => self
                        .documents
                        .get_document(&scope, &id)
                        .await
                        .map(|d| d.is_some()),
                    false => {
                        self.documents
                            .delete_document(&scope, &id, Precondition::None)
                            .await
                    }
                };
                entries += u64::from(found.map_err(|e| e.to_string())?);
            }
        }
        Ok(entries)
    }

    /// The statements `target` refused, newest first (at most `limit`).
    pub async fn refused(
        &self,
        target: &str,
        limit: usize,
    ) -> Result<Vec<super::queue::Refused>, String> {
        let scope = refusals(target);
        let (ids, _) = self
            .documents
            .list_documents(&scope, None)
            .await
            .map_err(|e| e.to_string())?;
        let mut found = Vec::new();
        for id in ids {
            if let Some((record, _)) =
                records::read::<super::queue::Refused>(self.documents.as_ref(), &scope, &id)
                    .await
                    .map_err(|e| e.to_string())?
            {
                found.push(record);
            }
        }
        found.sort_by(|a, b| b.refused_at.cmp(&a.refused_at));
        found.truncate(limit);
        Ok(found)
    }

    /// The statements `target` refused, as they are sent (one no longer stored, erased, is
    /// left out).
    pub async fn refused_statements(&self, target: &str) -> Result<Vec<Waiting>, String> {
        let (ids, _) = self
            .documents
            .list_documents(&refusals(target), None)
            .await
            .map_err(|e| e.to_string())?;
        let mut found = Vec::new();
        for id in ids.iter().filter_map(|id| Uuid::parse_str(id).ok()) {
            if let Some(stored) = self.statements.get(id).await.map_err(|e| e.to_string())? {
                found.push(waiting(&stored.body).map_err(|e| e.to_string())?);
            }
        }
        found.sort_by_key(|w| w.stored);
        Ok(found)
    }

    /// Takes statement `id` off `target`'s refusals (sent again and accepted).
    pub async fn forgive(&self, target: &str, id: &str) -> Result<(), String> {
        self.documents
            .delete_document(&refusals(target), id, Precondition::None)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Records `target`'s (new) refusal of statement `id`.
    pub async fn refuse(
        &self,
        target: &str,
        id: &str,
        status: u16,
        answer: &str,
    ) -> Result<(), String> {
        let record = super::queue::Refused {
            statement: id.to_string(),
            status,
            answer: answer.to_string(),
            refused_at: xlrs_xapi::time::format_micros(now_micros()),
        };
        self.documents
            .put_document(
                &refusals(target),
                id,
                records::document(&record),
                Precondition::None,
            )
            .await
            .map_err(|e| e.to_string())
    }

    /// What waits after `target`'s cursor (counted up to one `batch`), and what it refused.
    pub async fn counts(&self, target: &str, batch: usize) -> Result<Counts, String> {
        let fail = |e: StoreError| e.to_string();
        let position = match self.read(target).await.map_err(fail)? {
            Some(held) => held.cursor.position,
            None => return Ok(Counts::default()),
        };
        let waiting = self.after(position, batch).await.map_err(fail)?.len() as u64;
        let (refused, _) = self
            .documents
            .list_documents(&refusals(target), None)
            .await
            .map_err(fail)?;
        Ok(Counts {
            waiting,
            refused: refused.len() as u64,
        })
    }

    /// Gives up every lease this process holds (it is stopping), so that another process
    /// takes its targets over at once instead of when the leases run out.
    pub async fn release_all(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let held: Vec<Held> = match self.held.lock() {
            Ok(mut map) => map.drain().map(|(_, h)| h).collect(),
            Err(_) => return,
        };
        for held in held {
            let target = held.cursor.target.clone();
            let free = Cursor {
                holder: String::new(),
                lease_until: 0,
                ..held.cursor
            };
            match self.write(free, Some(held.etag)).await {
                Ok(_) => tracing::info!(target_url = %target, "forwarding handed over"),
                Err(error) => {
                    tracing::warn!(target_url = %target, %error, "the forwarding lease could not be handed over; it runs out")
                }
            }
        }
    }

    /// Whether this process forwards `target` now.
    pub fn holds(&self, target: &str) -> bool {
        self.remembered(target)
            .is_some_and(|h| h.cursor.lease_until > now_micros())
    }
}

/// A stored statement as it is sent: without `stored` (the target sets its own), at its
/// position.
fn waiting(body: &str) -> Result<Waiting, StoreError> {
    let mut statement: Value = serde_json::from_str(body)
        .map_err(|e| StoreError::Internal(format!("a stored statement: {e}")))?;
    let stored = statement
        .as_object_mut()
        .and_then(|map| map.remove("stored"))
        .and_then(|s| s.as_str().and_then(xlrs_xapi::validate::parse_timestamp))
        .map(|t| t.timestamp_micros())
        .ok_or_else(|| StoreError::Internal("a stored statement without `stored`".into()))?;
    Ok(Waiting {
        ticket: stored,
        stored,
        statement,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use xlrs_store_sqlite::SqliteStore;

    const TARGET: &str = "http://lrs.example.org/xAPI";

    /// Two processes' logs over one store.
    async fn two_logs(dir: &std::path::Path) -> (StoreLog, StoreLog, Arc<dyn DocumentStore>) {
        let store = Arc::new(SqliteStore::open(&dir.join("x.sqlite3"), 2).expect("opens"));
        let stores = SqliteStore::stores(store);
        let targets = [TARGET.to_string()];
        let open = || {
            StoreLog::open(
                stores.statements.clone(),
                stores.documents.clone(),
                &targets,
            )
        };
        let (a, b) = (open().await.expect("a"), open().await.expect("b"));
        (a, b, stores.documents)
    }

    fn sent(position: i64) -> Waiting {
        Waiting {
            ticket: position,
            stored: position,
            statement: json!({"id": Uuid::new_v4().to_string()}),
        }
    }

    #[tokio::test]
    async fn one_process_holds_a_target_until_its_lease_runs_out_and_then_cannot_move_the_cursor() {
        let dir = tempfile::tempdir().expect("dir");
        let (a, b, documents) = two_logs(dir.path()).await;
        assert!(matches!(a.next(TARGET, 10).await, Ok(Next::Batch(_))));
        assert!(a.holds(TARGET));
        assert!(matches!(b.next(TARGET, 10).await, Ok(Next::HeldElsewhere)));
        let start = a.read(TARGET).await.expect("reads").expect("a cursor");
        a.settle(TARGET, &[sent(start.cursor.position + 5)], None)
            .await
            .expect("the holder moves the cursor");

        // A's lease runs out (its process stalled): B takes the target over from the cursor.
        let mut stalled = a.read(TARGET).await.expect("reads").expect("a cursor");
        stalled.cursor.lease_until = now_micros() - 1;
        documents
            .put_document(
                &cursors(),
                TARGET,
                records::document(&stalled.cursor),
                Precondition::IfMatch(stalled.etag),
            )
            .await
            .expect("written");
        assert!(matches!(b.next(TARGET, 10).await, Ok(Next::Batch(_))));
        let taken = b.read(TARGET).await.expect("reads").expect("a cursor");
        assert_eq!(taken.cursor.position, start.cursor.position + 5);
        assert_eq!(taken.cursor.holder, b.me);

        let late = a
            .settle(TARGET, &[sent(start.cursor.position + 9)], None)
            .await;
        assert!(late.is_err(), "the old holder's If-Match fails: {late:?}");
        let kept = b.read(TARGET).await.expect("reads").expect("a cursor");
        assert_eq!(kept.cursor.position, start.cursor.position + 5);
        assert!(!a.holds(TARGET));
        assert!(matches!(a.next(TARGET, 10).await, Ok(Next::HeldElsewhere)));
    }

    #[tokio::test]
    async fn a_process_that_stops_hands_its_targets_over_at_once() {
        let dir = tempfile::tempdir().expect("dir");
        let (a, b, _) = two_logs(dir.path()).await;
        assert!(matches!(a.next(TARGET, 10).await, Ok(Next::Batch(_))));
        assert!(matches!(b.next(TARGET, 10).await, Ok(Next::HeldElsewhere)));
        a.release_all().await;
        assert!(
            matches!(b.next(TARGET, 10).await, Ok(Next::Batch(_))),
            "long before A's lease would run out"
        );
        assert!(
            matches!(a.next(TARGET, 10).await, Ok(Next::HeldElsewhere)),
            "and the stopping process takes none back"
        );
    }

    #[tokio::test]
    async fn a_refused_statement_is_set_aside_and_counted() {
        let dir = tempfile::tempdir().expect("dir");
        let (a, _, _) = two_logs(dir.path()).await;
        assert!(matches!(a.next(TARGET, 10).await, Ok(Next::Batch(_))));
        let position = a.read(TARGET).await.expect("reads").expect("cursor").cursor;
        a.settle(TARGET, &[sent(position.position + 1)], Some((400, "no")))
            .await
            .expect("set aside");
        let counts = a.counts(TARGET, 10).await.expect("counts");
        assert_eq!(counts.refused, 1);
    }
}
