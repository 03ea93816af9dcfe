//! Group commit, as the database stores (ClickHouse, MongoDB, Elasticsearch) do it: insert
//! calls wait in a queue, and whoever takes the writer next commits every queued call in one
//! round: each call's batch is checked against what is stored and the calls before it (a
//! refused call is answered at once), the accepted statements get positions reserved in the
//! database's ledger (so every process over the database hands out unique ones, see
//! [`crate::ledger`]) and are written together, and every accepted call shares the round's
//! outcome. Reads stop before positions still being written by any process. A database store
//! supplies only its reads and writes ([`RoundWriter`], [`StatementReader`], [`Ledger`]).

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;
use xlrs_xapi::query::StatementQuery;
use xlrs_xapi::statement::{finish_body, PreparedStatement};
use xlrs_xapi::time::format_micros;

use crate::coalesced::Coalesced;
use crate::definitions::{of_round, LastWritten, Turn, Waiting};
use crate::ledger::{self, Ledger, Reservation, Writers};
use crate::rules::Stored;
use crate::{
    AdmissionLog, AdmissionRecord, Attachment, ContentStore, Definition, DocumentStore, Page,
    StatementStore, StoreError, StoredStatement, Stores,
};

/// One insert call waiting for its round.
pub struct Job {
    /// The statements, in request order.
    pub batch: Vec<PreparedStatement>,
    /// Their attachments.
    pub attachments: Vec<Attachment>,
    /// Where the outcome goes.
    pub reply: tokio::sync::oneshot::Sender<Result<(), StoreError>>,
}

/// Answers every job with the same outcome.
pub fn answer(jobs: impl IntoIterator<Item = Job>, outcome: &Result<(), StoreError>) {
    for job in jobs {
        let _ = job.reply.send(outcome.clone());
    }
}

/// Checks each job of a round against what is stored and the jobs before it; the refused
/// ones get their answer at once. Returns the accepted jobs with the indexes to write.
pub fn accept(jobs: Vec<Job>, mut stored: Stored) -> Vec<(Job, Vec<usize>)> {
    let mut accepted: Vec<(Job, Vec<usize>)> = Vec::with_capacity(jobs.len());
    for job in jobs {
        match stored.check(&job.batch) {
            Ok(keep) => {
                stored.add(&job.batch, &keep);
                accepted.push((job, keep));
            }
            Err(e) => {
                let _ = job.reply.send(Err(e));
            }
        }
    }
    accepted
}

/// The statements of accepted jobs, in commit order.
pub fn accepted_statements(accepted: &[(Job, Vec<usize>)]) -> Vec<&PreparedStatement> {
    accepted
        .iter()
        .flat_map(|(job, keep)| keep.iter().map(|&i| &job.batch[i]))
        .collect()
}

/// A statement of a round at the position it is written at.
#[derive(Debug, Clone, Copy)]
pub struct Positioned<'a> {
    /// The statement.
    pub statement: &'a PreparedStatement,
    /// Its position: `stored`, µs since the epoch.
    pub stored: i64,
}

impl Positioned<'_> {
    /// The statement as stored: with `stored`, and `timestamp` when the client gave none.
    pub fn body(&self) -> String {
        finish_body(
            &self.statement.body,
            &format_micros(self.stored),
            self.statement.needs_timestamp,
        )
    }
}

/// What a database store writes with: what it holds of a round's ids, and the round itself.
pub trait RoundWriter: Send + Sync + 'static {
    /// What the writes need to know of the stored statements a round asks about, beyond
    /// the content hashes and voiding statements every store checks.
    type Known: Send + Sync;

    /// The ids a round asks about for `statement`: its own and the one it voids.
    fn ids(statement: &PreparedStatement) -> impl Iterator<Item = Uuid> {
        std::iter::once(statement.id).chain(statement.index.voids)
    }

    /// Whether a failed [`RoundWriter::write`] leaves nothing of the round visible (one
    /// insert or one transaction). Its positions are then released at once; otherwise reads on
    /// every process stay before them until the lease ends.
    const FAILS_WHOLE: bool = true;

    /// What is stored of `ids`.
    fn known(
        &self,
        ids: Vec<Uuid>,
    ) -> impl Future<Output = Result<(Stored, Self::Known), StoreError>> + Send;

    /// Writes a round's statements at their positions: all of them or none.
    fn write(
        &self,
        round: &[Positioned<'_>],
        known: &Self::Known,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The reads of a database store.
#[async_trait]
pub trait StatementReader: Send + Sync + 'static {
    /// One statement by id, voided or not.
    async fn get(&self, id: Uuid) -> Result<Option<StoredStatement>, StoreError>;
    /// A page of non-voided statements matching the query.
    async fn query(&self, query: &StatementQuery) -> Result<Page, StoreError>;
    /// The statements referring to `target`, newest first (see
    /// [`StatementStore::referring_to`]).
    async fn referring_to(
        &self,
        target: Uuid,
        limit: usize,
    ) -> Result<Vec<StoredStatement>, StoreError>;
}

/// How a database store lists the admission records it wrote with their statements
/// ([`PreparedStatement::admission`]).
#[async_trait]
pub trait AdmissionReader: Send + Sync + 'static {
    /// (position, statement, note) of the admitted statements at positions in
    /// `(after, through]`, oldest first, at most `limit`; only statements that are stored.
    async fn admitted(
        &self,
        after: i64,
        through: i64,
        limit: usize,
    ) -> Result<Vec<(i64, Uuid, String)>, StoreError>;
}

/// What a group-committed store holds, shared with the round tasks.
struct Shared<D> {
    database: Arc<D>,
    /// Insert calls waiting for the next round.
    queue: std::sync::Mutex<Vec<Job>>,
    /// The last position this process handed out; held by the round in progress, so the
    /// process's rounds never overlap.
    last: tokio::sync::Mutex<i64>,
    /// The highest position in the database when the process started.
    floor: i64,
    /// Where positions are reserved: the database's ledger, or this process's.
    ledger: Arc<dyn Ledger>,
    /// Who writes the database.
    writers: Writers,
    /// Each activity's last definition written, when this process alone writes.
    last_definitions: Option<LastWritten>,
    /// The end of the newest reservation seen, and when: the next round tries to follow it
    /// without reading the ledger first.
    hint: std::sync::Mutex<Option<(std::time::Instant, i64)>>,
    /// The last bound reads found, and when: still true later (what was visible stays so),
    /// so `X-Experience-API-Consistent-Through` reuses it for a while.
    recent_through: std::sync::Mutex<(std::time::Instant, i64)>,
    /// Whether a caller of [`Shared::recent_through`] is reading a new bound.
    refreshing: AtomicBool,
    /// The reads of the bound, shared by callers arriving together (see [`Shared::through`]).
    through_read: Coalesced<i64>,
    /// Resolves when the latest round has answered its callers; the next waits for it.
    answered: std::sync::Mutex<Option<tokio::sync::oneshot::Receiver<()>>>,
    /// Rounds that raced another process for an id and were checked again, since start.
    raced: std::sync::atomic::AtomicU64,
    /// Definitions of written rounds the database refused, to keep again.
    waiting: Arc<Waiting>,
}

/// How long a bound found by a read serves `X-Experience-API-Consistent-Through`.
const THROUGH_REUSED_FOR: std::time::Duration = std::time::Duration::from_millis(100);

/// The group commit's figures in `/metrics`.
impl<D: Send + Sync + 'static> crate::StoreGauges for GroupCommitted<D> {
    fn render(&self) -> String {
        format!(
            "# HELP xlrs_statement_rounds_raced_total Rounds of statements this process wrote while another process stored one of their ids, taken back and checked again.\n\
             # TYPE xlrs_statement_rounds_raced_total counter\n\
             xlrs_statement_rounds_raced_total {}\n\
             # HELP xlrs_definitions_waiting Activity definitions of acknowledged statements the database refused, waiting to be kept again.\n\
             # TYPE xlrs_definitions_waiting gauge\n\
             xlrs_definitions_waiting {}\n",
            self.shared.raced.load(Ordering::Relaxed),
            self.shared.waiting.len()
        )
    }
}

/// How many times a round that raced another process ([`StoreError::Raced`]) is checked
/// again before its callers get the error.
const RACES_CHECKED: usize = 3;

/// The accepted statements of a round at `positions`, in commit order.
fn positioned<'a>(accepted: &'a [(Job, Vec<usize>)], positions: &[i64]) -> Vec<Positioned<'a>> {
    accepted_statements(accepted)
        .into_iter()
        .zip(positions.iter().copied())
        .map(|(statement, stored)| Positioned { statement, stored })
        .collect()
}

/// A database store's statements: its reads, and its writes by group commit.
pub struct GroupCommitted<D> {
    shared: Arc<Shared<D>>,
}

impl<D: RoundWriter + StatementReader + ContentStore + Ledger> GroupCommitted<D> {
    /// Commits to `database`, whose last position is `last`; the database keeps attachments,
    /// definitions and, when `writers` are many, the ledger of positions too.
    pub fn new(database: Arc<D>, last: i64, writers: Writers) -> Self {
        let ledger: Arc<dyn Ledger> = match writers {
            Writers::Many => database.clone(),
            Writers::One => Arc::new(ledger::InProcess::default()),
        };
        Self {
            shared: Arc::new(Shared {
                ledger,
                writers,
                last_definitions: (writers == Writers::One).then(LastWritten::default),
                hint: std::sync::Mutex::new(None),
                database,
                queue: std::sync::Mutex::new(Vec::new()),
                last: tokio::sync::Mutex::new(last),
                floor: last,
                recent_through: std::sync::Mutex::new((std::time::Instant::now(), last)),
                refreshing: AtomicBool::new(false),
                through_read: Coalesced::default(),
                answered: std::sync::Mutex::new(None),
                raced: Default::default(),
                waiting: Arc::default(),
            }),
        }
    }

    /// The stores of a database that keeps documents too: its statements by group commit, its
    /// documents and content, and the admission records written with the statements.
    pub fn into_stores(self) -> Stores
    where
        D: DocumentStore + AdmissionReader + crate::lifecycle::Lifecycle,
    {
        let this = Arc::new(self);
        Stores {
            lifecycle: Some(this.shared.database.clone()),
            documents: this.shared.database.clone(),
            content: this.shared.database.clone(),
            admissions: this.clone(),
            gauges: Some(this.clone()),
            statements: this,
        }
    }

    /// Writes statements found in the database that it does not serve yet (written by Ralph,
    /// say) with `write`, each at its position: after the last one and not before its hint,
    /// oldest (by hint) first; returns how many.
    pub async fn adopt<W>(
        &self,
        mut found: Vec<(i64, PreparedStatement)>,
        write: W,
    ) -> Result<u64, StoreError>
    where
        W: AsyncFnOnce(&[Positioned<'_>]) -> Result<(), StoreError>,
    {
        if found.is_empty() {
            return Ok(0);
        }
        found.sort_by_key(|(hint, s)| (*hint, s.id));
        let mut last = self.shared.last.lock().await;
        let (reservation, positions) = self
            .shared
            .reserve(*last, |floor| {
                let mut position = floor - 1;
                found
                    .iter()
                    .map(|(hint, _)| {
                        position = (*hint).max(position + 1);
                        position
                    })
                    .collect()
            })
            .await?;
        let round: Vec<Positioned> = found
            .iter()
            .zip(positions)
            .map(|((_, statement), stored)| Positioned { statement, stored })
            .collect();
        if let Err(e) = write(&round).await {
            if D::FAILS_WHOLE {
                self.shared.release(&reservation).await;
            }
            return Err(e);
        }
        self.shared.advance(&reservation, &mut last);
        self.shared.release(&reservation).await;
        let turn = self.shared.definitions_turn().await;
        if let Err(e) = self.shared.keep_definitions(turn, &round).await {
            self.shared.definitions_wait(of_round(&round), &e);
        }
        Ok(round.len() as u64)
    }
}

impl<D: RoundWriter + ContentStore + Ledger + 'static> Shared<D> {
    /// With one writer, the round's turn to keep its definitions (see [`Turn`]).
    async fn definitions_turn(&self) -> Option<Turn<'_>> {
        match &self.last_definitions {
            Some(last) => Some(last.turn().await),
            None => None,
        }
    }

    /// Keeps the activity definitions of a written round; with one writer (a `turn`), only
    /// those not already their activity's last contribution (compared, and copied only when
    /// they differ).
    async fn keep_definitions(
        &self,
        turn: Option<Turn<'_>>,
        round: &[Positioned<'_>],
    ) -> Result<(), StoreError> {
        match turn {
            Some(turn) => {
                let mut given = Vec::with_capacity(round.len());
                for p in round {
                    for (activity, definition) in &p.statement.index.definitions {
                        given.push((activity.as_str(), definition, p.stored));
                    }
                }
                turn.keep(given, async |changed| {
                    self.database.keep_definitions(changed).await
                })
                .await
            }
            None => self.database.keep_definitions(of_round(round)).await,
        }
    }

    /// Has the definitions of a written round that the database refused (`e`) wait, and a
    /// task try them again, every second at first and at most every 30 s, until it takes
    /// them.
    fn definitions_wait(&self, definitions: Vec<Definition>, e: &StoreError) {
        tracing::warn!(
            error = %e,
            count = definitions.len(),
            "the activity definitions of stored statements could not be kept; they are kept again once the database takes them"
        );
        self.waiting.add(definitions);
        if !self.waiting.start_retrying() {
            return;
        }
        // The task alone keeps them (a round trying them too would wait on the database
        // twice while it refuses); it ends only once none waits.
        let database = Arc::downgrade(&self.database);
        let waiting = self.waiting.clone();
        tokio::spawn(async move {
            let mut pause = std::time::Duration::from_secs(1);
            loop {
                tokio::time::sleep(pause).await;
                let Some(database) = database.upgrade() else {
                    return;
                };
                let done = waiting
                    .keep_again(async |d| database.keep_definitions(d).await)
                    .await;
                if done && !waiting.stop_retrying() {
                    return;
                }
                pause = (pause * 2).min(std::time::Duration::from_secs(30));
            }
        });
    }

    /// The ids a round of `jobs` asks the database about ([`RoundWriter::ids`]).
    fn ids_of(jobs: &[Job]) -> Vec<Uuid> {
        jobs.iter()
            .flat_map(|j| &j.batch)
            .flat_map(D::ids)
            .collect()
    }

    /// Commits queued jobs in one round, answering each. Positions for every statement of the
    /// round are reserved while what is stored of its ids is read (a statement refused or
    /// already stored leaves its position unused); `last` is held until the round is written,
    /// so the next round reserves and writes while this one releases its positions and keeps
    /// its definitions.
    async fn commit(&self, mut jobs: Vec<Job>, mut last: tokio::sync::MutexGuard<'_, i64>) {
        let ids = Self::ids_of(&jobs);
        let count = jobs.iter().map(|j| j.batch.len()).sum::<usize>().max(1);
        // Attachment contents first (content-addressed: a refused job's leave unreferenced
        // bytes), so the reservation's lease does not run while they upload.
        let attachments: Vec<Attachment> = jobs
            .iter_mut()
            .flat_map(|job| std::mem::take(&mut job.attachments))
            .collect();
        if !attachments.is_empty() {
            if let Err(e) = self.database.keep_attachments(attachments).await {
                return answer(jobs, &Err(e));
            }
        }
        let (known, reserved) = tokio::join!(
            self.database.known(ids),
            self.reserve(*last, |floor| ledger::consecutive(floor, count)),
        );
        let (reservation, positions) = match reserved {
            Ok(reserved) => reserved,
            Err(e) => return answer(jobs, &Err(e)),
        };
        let (stored, known) = match known {
            Ok(found) => found,
            Err(e) => {
                self.release(&reservation).await;
                return answer(jobs, &Err(e));
            }
        };
        let mut accepted = accept(jobs, stored);
        let mut known = known;
        let mut raced = 0;
        let written = loop {
            let round = positioned(&accepted, &positions);
            match self.write(&round, &known, &reservation).await {
                // Another process stored one of the ids meanwhile, and nothing of the round
                // was kept: what is stored of the ids is asked again (a re-send now finds the
                // other's statement: stored once, or a 409), and the jobs checked again, at
                // the same positions.
                Err((StoreError::Raced(why), false)) if raced < RACES_CHECKED => {
                    raced += 1;
                    self.raced.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(%why, "a round raced another process; checking it again");
                    let jobs: Vec<Job> = accepted.into_iter().map(|(job, _)| job).collect();
                    match self.database.known(Self::ids_of(&jobs)).await {
                        Ok((stored, again)) => {
                            known = again;
                            accepted = accept(jobs, stored);
                        }
                        Err(e) => {
                            drop(last);
                            self.release(&reservation).await;
                            return answer(jobs, &Err(e));
                        }
                    }
                }
                outcome => break outcome,
            }
        };
        let round = positioned(&accepted, &positions);
        // Rounds are answered in order: a client answered sees its statements in queries,
        // which stop before any earlier round of this process still open.
        let (done, this_round) = tokio::sync::oneshot::channel::<()>();
        let earlier = match self.answered.lock() {
            Ok(mut previous) => previous.replace(this_round),
            Err(_) => None,
        };
        let outcome = match written {
            Ok(()) => {
                let held = crate::positions::now_micros() - reservation.at;
                if held > ledger::LEASE_MICROS {
                    tracing::warn!(
                        seconds = held / 1_000_000,
                        raced,
                        "a round was written after its positions' lease ended: reads may have \
                         passed them, and a listing paged meanwhile may miss its statements"
                    );
                }
                self.advance(&reservation, &mut last);
                // Before the next round may write: rounds keep definitions in position order.
                let turn = self.definitions_turn().await;
                drop(last);
                let (_, kept) = tokio::join!(
                    self.release(&reservation),
                    self.keep_definitions(turn, &round),
                );
                // The statements are stored: their callers are answered so, and the
                // definitions wait to be kept again.
                if let Err(e) = kept {
                    self.definitions_wait(of_round(&round), &e);
                }
                Ok(())
            }
            Err((e, keep_open)) => {
                drop(last);
                if !keep_open {
                    self.release(&reservation).await;
                }
                Err(e)
            }
        };
        if let Some(earlier) = earlier {
            let _ = earlier.await;
        }
        answer(accepted.into_iter().map(|(job, _)| job), &outcome);
        let _ = done.send(());
    }

    /// Writes the accepted statements of a round at their reserved positions; or the error,
    /// and whether the reservation stays open (a failed write that may have left part of the
    /// round: reads on every process stay before its positions until the lease ends).
    async fn write(
        &self,
        round: &[Positioned<'_>],
        known: &D::Known,
        reservation: &Reservation,
    ) -> Result<(), (StoreError, bool)> {
        if round.is_empty() {
            return Ok(());
        }
        debug_assert!(round.len() <= (reservation.last - reservation.first + 1) as usize);
        self.database.write(round, known).await.map_err(|e| {
            // A raced round was taken back whole (see [`StoreError::Raced`]).
            let open = !D::FAILS_WHOLE && !matches!(e, StoreError::Raced(_));
            (e, open)
        })
    }

    /// Reserves the positions `place` gives (see [`ledger::reserve`]) after this process's
    /// `last`, trying the newest reservation seen first.
    async fn reserve(
        &self,
        last: i64,
        place: impl Fn(i64) -> Vec<i64>,
    ) -> Result<(Reservation, Vec<i64>), StoreError> {
        ledger::reserve(self.ledger.as_ref(), last, self.hint(), place).await
    }

    /// A round is written: its end is this process's `last` and the newest reservation seen
    /// (its positions are released next).
    fn advance(&self, reservation: &Reservation, last: &mut i64) {
        *last = reservation.last;
        self.saw(reservation.last);
    }

    /// Releases a written round's reservation; when the database cannot be told, reads wait
    /// for the lease to end instead.
    async fn release(&self, reservation: &Reservation) {
        if let Err(e) = self.ledger.release(reservation).await {
            tracing::warn!(error = %e, "a written round's positions could not be released");
        }
    }

    /// The position through which every statement is visible, on every process, from a read
    /// of the ledger that started after the call: callers arriving while a read is in
    /// progress share the next one (a read begun before a caller arrived could miss a
    /// statement acknowledged just before it). Over ClickHouse with many writers a ledger read
    /// is the costliest part of a page after the page itself (bench/RESULTS.md,
    /// 2026-12-04 22:20).
    async fn through(&self) -> Result<i64, StoreError> {
        self.through_read.get(|| self.read_through()).await
    }

    /// Reads the ledger for [`Shared::through`].
    async fn read_through(&self) -> Result<i64, StoreError> {
        let state = ledger::current(self.ledger.as_ref()).await?;
        self.saw(state.last);
        let through = match (self.writers, state.open_from) {
            // Nobody else writes: what is not being written now is complete, whatever this
            // process wrote (a process that only reads sees every write of the one writer).
            (Writers::One, None) => i64::MAX,
            _ => state.through(self.floor),
        };
        if let Ok(mut recent) = self.recent_through.lock() {
            *recent = (std::time::Instant::now(), through);
        }
        Ok(through)
    }

    /// Notes `end` as the end of the newest reservation seen (a newer one may exist).
    fn saw(&self, end: i64) {
        if let Ok(mut hint) = self.hint.lock() {
            if hint.is_none_or(|(_, seen)| seen <= end) {
                *hint = Some((std::time::Instant::now(), end));
            }
        }
    }

    /// The end of the newest reservation seen, when seen recently enough to try following it.
    fn hint(&self) -> Option<i64> {
        let hint = self.hint.lock().ok().and_then(|h| *h)?;
        (hint.0.elapsed() < ledger::HINT_FRESH_FOR).then_some(hint.1)
    }

    /// A bound found less than [`THROUGH_REUSED_FOR`] ago, or a new one. While one caller
    /// reads a new one, the others answer with the last (still true: what was visible stays
    /// so), so a burst of responses reads the ledger once.
    async fn recent_through(&self) -> Result<i64, StoreError> {
        let recent = self.recent_through.lock().map(|r| *r).ok();
        match recent {
            Some((at, through)) if at.elapsed() < THROUGH_REUSED_FOR => Ok(through),
            Some((_, through)) if self.refreshing.swap(true, Ordering::AcqRel) => Ok(through),
            _ => {
                // Cleared however the read ends, the caller gone included.
                struct Refreshing<'a>(&'a AtomicBool);
                impl Drop for Refreshing<'_> {
                    fn drop(&mut self) {
                        self.0.store(false, Ordering::Release);
                    }
                }
                let _refreshing = Refreshing(&self.refreshing);
                self.through().await
            }
        }
    }
}

#[async_trait]
impl<D: RoundWriter + StatementReader + ContentStore + Ledger> StatementStore
    for GroupCommitted<D>
{
    /// Queues the batch; whoever gets the writer next commits every queued job in one round.
    /// The round runs as a task of its own, so a caller that goes away (client gone, request
    /// deadline) never cuts a commit short for the others.
    async fn insert(
        &self,
        batch: Vec<PreparedStatement>,
        attachments: Vec<Attachment>,
    ) -> Result<(), StoreError> {
        let (reply, outcome) = tokio::sync::oneshot::channel();
        self.shared
            .queue
            .lock()
            .map_err(|_| StoreError::Internal("the insert queue is poisoned".into()))?
            .push(Job {
                batch,
                attachments,
                reply,
            });
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let last = shared.last.lock().await;
            let jobs = match shared.queue.lock() {
                Ok(mut queue) => std::mem::take(&mut *queue),
                Err(_) => return,
            };
            if !jobs.is_empty() {
                shared.commit(jobs, last).await;
            }
        });
        outcome
            .await
            .unwrap_or_else(|_| Err(StoreError::Internal("the insert was dropped".into())))
    }

    async fn get(&self, id: Uuid) -> Result<Option<StoredStatement>, StoreError> {
        self.shared.database.get(id).await
    }

    async fn referring_to(
        &self,
        target: Uuid,
        limit: usize,
    ) -> Result<Option<Vec<StoredStatement>>, StoreError> {
        self.shared
            .database
            .referring_to(target, limit)
            .await
            .map(Some)
    }

    /// Reads only what is complete on every process: nothing after a position still being
    /// written, so a `more` link never passes a statement that appears later.
    async fn query(&self, query: &StatementQuery) -> Result<Page, StoreError> {
        let through = self.shared.through().await?;
        if through == i64::MAX || query.until.is_some_and(|until| until <= through) {
            return self.shared.database.query(query).await;
        }
        let mut bounded = query.clone();
        bounded.until = Some(through);
        self.shared.database.query(&bounded).await
    }

    /// The bound the last read found (within [`THROUGH_REUSED_FOR`]): the query a GET just
    /// made, mostly. Not past the clock, as a time header should be.
    async fn consistent_through(&self) -> Result<i64, StoreError> {
        Ok(self
            .shared
            .recent_through()
            .await?
            .min(crate::positions::now_micros()))
    }
}

/// Admission records live in the statements' rows, written in the same round: nothing to keep
/// apart, and a listing stops, as queries do, before positions still being written.
#[async_trait]
impl<D: RoundWriter + StatementReader + ContentStore + Ledger + AdmissionReader> AdmissionLog
    for GroupCommitted<D>
{
    async fn keep_admissions(&self, _records: Vec<AdmissionRecord>) -> Result<(), StoreError> {
        Ok(())
    }

    async fn admissions(
        &self,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AdmissionRecord>, StoreError> {
        let through = self.shared.through().await?;
        let found = self
            .shared
            .database
            .admitted(after.unwrap_or(i64::MIN), through, limit)
            .await?;
        found
            .into_iter()
            .map(|(seq, statement, note)| AdmissionRecord::from_note(seq, statement, &note))
            .collect()
    }
}
