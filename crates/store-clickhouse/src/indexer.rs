//! The agent and activity index tables, filled behind the writes. A round's insert writes the
//! statements table alone (and Ralph's events table); every [`INDEX_EVERY`], and as soon as
//! the process's own writes pause for [`QUIET`] ([`QUIET_MANY`] with many writers; at most one
//! pass per [`MIN_GAP`]), a pass of
//! each process copies the agents and activities of the rows past the *indexed-through*
//! position into the index tables, in one insert each, and records the new position in
//! `<statements>_indexed`. Reads take the index for positions up to that position and test the
//! rows past it (the tail, ordered by `stored`, so read as a range) on their own columns. The
//! index is only a source of candidates: every statement it hands over is tested again on its
//! row, so an entry written twice, late, or for a statement since rewritten changes no answer.
//!
//! Index views filling the tables in every insert cost each round two more parts and their
//! merges: 40 % of the engine's CPU for a batch load (bench/RESULTS.md, 2026-12-04 16:55).
//! A database whose views exist (made by an xlrs before this one) keeps them: its index is
//! complete at every insert and there is no tail.
//!
//! The agent index of a database made by this xlrs also holds, in each row for an agent the
//! statement names directly, the statement's body and the columns the filters test (id, verb,
//! registration, authority): a page by agent then reads its rows in key order, one or two
//! granules, instead of its statements scattered over the statements table (bench/RESULTS.md,
//! 2026-12-04 19:45). Such rows are the statement as of their `written` version: an erasure
//! adds newer ones, then removes the older, and reads take the newest of a position.
//!
//! A pass indexes only rows through which every row is visible: with one writing process,
//! rounds are written in position order, so every row before the newest one seen is visible;
//! with many, also not past the ledger's first open reservation (see
//! [`xlrs_store::ledger::LedgerState::through`]). Passes of several processes may index the
//! same rows: the index tables collapse such doubles when they merge, and reads take
//! positions once.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Weak};
use std::time::{Duration, Instant};

use xlrs_store::ledger::{self, Writers};
use xlrs_store::{StoreError, StoreGauges};

use crate::{failed, ClickHouse};

/// How often a process runs a pass.
pub(crate) const INDEX_EVERY: Duration = Duration::from_secs(1);

/// How long the process's writes must pause for a pass to run before its time: the rows of
/// a burst are indexed right after it, not up to [`INDEX_EVERY`] later (until then every page
/// by agent or activity reads them from the statements table: 13 ms of engine CPU a page
/// after 12,000 statements, against 5; bench/RESULTS.md, 2026-12-04 21:50).
pub(crate) const QUIET: Duration = Duration::from_millis(50);

/// [`QUIET`] with many writers: a process's rounds wait for the ledger between them, and
/// passes of every process 50 ms into such waits cost three processes' batch load a quarter
/// of its throughput (bench/RESULTS.md, 2026-12-04 22:35).
pub(crate) const QUIET_MANY: Duration = Duration::from_millis(200);

/// The least time between two passes, which bounds the parts a trickle of writes makes.
pub(crate) const MIN_GAP: Duration = Duration::from_millis(250);

/// The process's clock for [`Indexed::last_write`] (microseconds since this instant).
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

/// Microseconds since [`EPOCH`].
fn now_micros() -> u64 {
    EPOCH.elapsed().as_micros() as u64
}

/// What a process knows of the index: a position through which the index tables hold every
/// row (a lower bound: another process may have indexed further).
#[derive(Debug, Default)]
pub(crate) struct Indexed {
    /// The position; `i64::MAX` while index views fill the tables at every insert.
    through: AtomicI64,
    /// The newest position this process saw written (by its rounds or at a pass).
    newest: AtomicI64,
    /// Passes that failed.
    failures: AtomicU64,
    /// When this process last ended writing a round ([`now_micros`]; 0 before any).
    last_write: AtomicU64,
    /// Rounds this process is writing now.
    writing: AtomicU64,
    /// Whether the agent index holds bodies (tables made before it did keep positions only).
    bodies: AtomicBool,
    /// Whether this process is the only one writing (`writers = "one"`).
    sole_writer: bool,
}

impl Indexed {
    /// Nothing known yet, for a process writing as `writers` says.
    pub(crate) fn new(writers: Writers) -> Self {
        Self {
            sole_writer: writers == Writers::One,
            ..Self::default()
        }
    }

    /// Whether rows past `through` may exist: with many writers, always; with one, when the
    /// newest position it wrote is past (it writes every row, and notes a round's position
    /// before answering its POSTs).
    pub(crate) fn past(&self, through: i64) -> bool {
        !self.sole_writer || self.newest.load(Ordering::Acquire) > through
    }

    /// Whether this process is the only one writing.
    pub(crate) fn sole_writer(&self) -> bool {
        self.sole_writer
    }

    /// The position through which reads take the index.
    pub(crate) fn through(&self) -> i64 {
        self.through.load(Ordering::Acquire)
    }

    /// Index views fill the tables: every row is indexed as it is inserted.
    pub(crate) fn by_views(&self) {
        self.through.store(i64::MAX, Ordering::Release);
    }

    /// Whether index views fill the tables.
    pub(crate) fn is_by_views(&self) -> bool {
        self.through() == i64::MAX
    }

    /// Notes that the agent index holds bodies.
    pub(crate) fn with_bodies(&self) {
        self.bodies.store(true, Ordering::Release);
    }

    /// Whether reads by agent can take statements from the agent index itself: it holds
    /// bodies and is filled by passes (views fill positions only).
    pub(crate) fn serves_bodies(&self) -> bool {
        self.bodies.load(Ordering::Acquire) && !self.is_by_views()
    }

    /// Notes a position written.
    pub(crate) fn wrote(&self, position: i64) {
        self.newest.fetch_max(position, Ordering::AcqRel);
    }

    /// Notes a round being written until the guard drops (a pass is not early meanwhile),
    /// when its write ends.
    pub(crate) fn writing(&self) -> Writing<'_> {
        self.writing.fetch_add(1, Ordering::AcqRel);
        Writing(self)
    }

    /// Whether this process wrote a round after `pass` (a pass's start, [`now_micros`]), is
    /// writing none and has written nothing since for `quiet`, and its rows may not all be
    /// indexed.
    fn paused_past_index(&self, pass: u64, quiet: Duration) -> bool {
        let last = self.last_write.load(Ordering::Acquire);
        last > pass
            && self.writing.load(Ordering::Acquire) == 0
            && now_micros().saturating_sub(last) >= quiet.as_micros() as u64
            && self.behind() > 0
    }

    /// How far (µs) the newest position this process saw written is past the index.
    fn behind(&self) -> i64 {
        (self.newest.load(Ordering::Acquire) - self.through()).max(0)
    }

    /// Notes a position found indexed.
    fn saw(&self, position: i64) {
        self.through.fetch_max(position, Ordering::AcqRel);
    }
}

/// A round being written (see [`Indexed::writing`]).
pub(crate) struct Writing<'a>(&'a Indexed);

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        self.0.last_write.store(now_micros(), Ordering::Release);
        self.0.writing.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The agent and activity index tables and the list columns they are filled from.
pub(crate) const INDEXES: [(&str, &str); 2] = [("agent", "agents"), ("activity", "activities")];

/// The insert of a kind's index rows, as of version `written`, for the rows of the statements
/// table `t` that meet `condition`; with `bodies`, agent rows of direct agents carry the body
/// and the filters' columns.
fn insert_index_rows(
    kind: &str,
    list: &str,
    t: &str,
    condition: &str,
    bodies: bool,
    written: i64,
) -> String {
    let (columns, values) = if bodies && kind == "agent" {
        (
            ", written, id, verb, registration, authority, body",
            format!(", {written}, id, verb, registration, authority, if(direct = 1, body, '')"),
        )
    } else {
        ("", String::new())
    };
    format!(
        "INSERT INTO {t}_by_{kind} ({kind}, direct, stored{columns}) \
         SELECT arrayJoin({list}) AS {kind}, has(direct_{list}, {kind}) AS direct, stored{values} \
         FROM {t} WHERE {condition}"
    )
}

impl ClickHouse {
    /// The table recording the indexed-through position.
    pub(crate) fn indexed_table(&self) -> String {
        format!("{}_indexed", self.statements)
    }

    /// The indexed-through position recorded in the database (0 when none is).
    async fn recorded_through(&self) -> Result<i64, StoreError> {
        self.client
            .query(&format!(
                "SELECT max(through) FROM {}",
                self.indexed_table()
            ))
            .fetch_one()
            .await
            .map_err(failed)
    }

    /// One pass: indexes the rows past the recorded position through which every row is
    /// visible, and records it.
    async fn index_pass(&self, writers: Writers) -> Result<(), StoreError> {
        let from = self.recorded_through().await?;
        self.indexed.saw(from);
        let newest = self.last_stored().await?;
        let to = match writers {
            Writers::One => newest,
            Writers::Many => newest.min(ledger::current(self).await?.through(newest)),
        };
        self.indexed.wrote(newest);
        if to <= from {
            return Ok(());
        }
        for (kind, list) in INDEXES {
            self.execute(&insert_index_rows(
                kind,
                list,
                &self.statements,
                &format!("stored > {from} AND stored <= {to}"),
                self.indexed.bodies.load(Ordering::Acquire),
                0,
            ))
            .await?;
        }
        self.execute(&format!(
            "INSERT INTO {} (through) VALUES ({to})",
            self.indexed_table()
        ))
        .await?;
        self.indexed.saw(to);
        Ok(())
    }

    /// Takes the recorded indexed-through position and `last`, the newest position stored (at
    /// start-up, so reads need not wait for the first pass to leave the tail).
    pub(crate) async fn load_indexed(&self, last: i64) -> Result<(), StoreError> {
        if !self.indexed.is_by_views() {
            self.indexed.saw(self.recorded_through().await?);
            self.indexed.wrote(last);
        }
        Ok(())
    }

    /// Indexes rows rewritten in place (erasure) at `stored`, as of version `written` (newer
    /// than any row of theirs in the index): their old index rows stay (reads test every
    /// candidate on its row, or take the newest version of a position), the new ones are added.
    pub(crate) async fn index_rewritten(
        &self,
        stored: &[i64],
        written: i64,
    ) -> Result<(), StoreError> {
        if self.indexed.is_by_views() {
            return Ok(());
        }
        for (kind, list) in INDEXES {
            let sql = insert_index_rows(
                kind,
                list,
                &self.statements,
                "stored IN {stored:Array(Int64)}",
                self.indexed.bodies.load(Ordering::Acquire),
                written,
            );
            self.in_turn(|| self.client.query(&sql).param("stored", stored).execute())
                .await?;
        }
        Ok(())
    }
}

/// Runs a pass every [`INDEX_EVERY`], or sooner when the process's writes pause past the
/// index (see [`QUIET`]), while the database is open (a failed pass is logged and tried again
/// at the next tick; reads stay complete, the tail only grows).
pub(crate) fn spawn(database: &Arc<ClickHouse>, writers: Writers) {
    if database.indexed.is_by_views() {
        return;
    }
    let database: Weak<ClickHouse> = Arc::downgrade(database);
    tokio::spawn(async move {
        let mut failing = false;
        let mut last_pass = now_micros();
        let quiet = match writers {
            Writers::One => QUIET,
            Writers::Many => QUIET_MANY,
        };
        loop {
            tokio::time::sleep(QUIET / 2).await;
            let Some(database) = database.upgrade() else {
                return;
            };
            let since = Duration::from_micros(now_micros().saturating_sub(last_pass));
            // Early only for this process's own writes, once per pause: another process's
            // rows wait for the tick, as do retries of a failing pass.
            let early = !failing
                && since >= MIN_GAP
                && database.indexed.paused_past_index(last_pass, quiet);
            if since < INDEX_EVERY && !early {
                continue;
            }
            last_pass = now_micros();
            match database.index_pass(writers).await {
                Ok(_) if failing => {
                    failing = false;
                    tracing::info!("the agent and activity index is filled again");
                }
                Ok(_) => {}
                Err(e) => {
                    database.indexed.failures.fetch_add(1, Ordering::Relaxed);
                    if !failing {
                        tracing::warn!(error = %e, "the agent and activity index could not be filled; queries by agent and activity read the statements past it until it is");
                    }
                    failing = true;
                }
            }
        }
    });
}

/// The store's figures in `/metrics`: inserts sent again in their turn on a cluster, and the
/// index's (none while views fill it).
impl StoreGauges for ClickHouse {
    fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP xlrs_clickhouse_inserts_in_turn_total Inserts this process sent again because a cluster refused them while the previous insert into their table waited for its quorum.\n\
             # TYPE xlrs_clickhouse_inserts_in_turn_total counter\n\
             xlrs_clickhouse_inserts_in_turn_total {}",
            self.inserts_in_turn.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP xlrs_clickhouse_page_queries The queries of pages by agent this process runs at once (clickhouse.page_queries, or half the engine's max_threads).\n\
             # TYPE xlrs_clickhouse_page_queries gauge\n\
             xlrs_clickhouse_page_queries {}",
            self.page_queries
        );
        if self.indexed.is_by_views() {
            return out;
        }
        let behind = self.indexed.behind() as f64 / 1e6;
        let failures = self.indexed.failures.load(Ordering::Relaxed);
        let together = self.agent_pages.together.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP xlrs_clickhouse_index_behind_seconds How far the newest statement this process saw written is past the agent and activity index (positions, in seconds); queries read the statements past it from the statements table.\n\
             # TYPE xlrs_clickhouse_index_behind_seconds gauge\n\
             xlrs_clickhouse_index_behind_seconds {behind}\n\
             # HELP xlrs_clickhouse_index_pass_failures_total Passes of this process that could not fill the index.\n\
             # TYPE xlrs_clickhouse_index_pass_failures_total counter\n\
             xlrs_clickhouse_index_pass_failures_total {failures}\n\
             # HELP xlrs_clickhouse_pages_read_together_total Pages by agent this process read in one query with others asked for at the same time.\n\
             # TYPE xlrs_clickhouse_pages_read_together_total counter\n\
             xlrs_clickhouse_pages_read_together_total {together}"
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_runs_early_only_once_the_process_wrote_since_the_last_pass_and_then_paused() {
        let indexed = Indexed::new(Writers::One);
        let before = now_micros();
        assert!(
            !indexed.paused_past_index(before, Duration::ZERO),
            "nothing written yet"
        );
        std::thread::sleep(Duration::from_millis(2));
        indexed.wrote(10);
        assert!(
            !indexed.paused_past_index(before, Duration::ZERO),
            "no round has ended writing"
        );
        drop(indexed.writing());
        assert!(
            !indexed.paused_past_index(before, Duration::from_secs(3600)),
            "the writes have not paused for an hour"
        );
        assert!(
            indexed.paused_past_index(before, Duration::ZERO),
            "written after the pass, paused, and past the index"
        );
        assert!(
            !indexed.paused_past_index(now_micros(), Duration::ZERO),
            "a pass started since the last write"
        );
        let writing = indexed.writing();
        assert!(
            !indexed.paused_past_index(before, Duration::ZERO),
            "a round is being written"
        );
        drop(writing);
        assert!(indexed.paused_past_index(before, Duration::ZERO));
        indexed.saw(10);
        assert!(
            !indexed.paused_past_index(before, Duration::ZERO),
            "every row written is indexed"
        );
    }
}
