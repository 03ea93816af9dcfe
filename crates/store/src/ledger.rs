//! The position ledger of a database several processes write: one chain of reservations kept
//! in the database, so positions are unique and ordered across every process over it, and
//! reads stop before positions another process is still writing.
//!
//! Before a round is written its writer reads the ledger's last reservation (ending at
//! position L) and records a reservation of the positions after it "following L". The database
//! keeps one reservation per L (a create-if-absent: MongoDB's unique `_id`, Elasticsearch's
//! `op_type=create`, ClickHouse's insert deduplication read back), so of two writers that read
//! the same L one gets it and the other reads again. Each reservation starts after the one it
//! follows, so no two processes ever hand out one position. Once the round is written its
//! reservation is released; a reservation still open marks positions that may yet appear, and
//! [`LedgerState::through`] stays before them. A reservation older than the lease counts as
//! abandoned (its process died): reads pass it.

use async_trait::async_trait;
use uuid::Uuid;

use crate::positions::now_micros;
use crate::StoreError;

/// Who writes a database: which ledger positions are reserved in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Writers {
    /// Any number of processes: the ledger is kept in the database (three more small requests
    /// per round of statements, one more per read).
    #[default]
    Many,
    /// This process alone (the operator guarantees it): the ledger is kept in memory, as fast
    /// as it gets; a second writing process could give positions twice.
    One,
}

/// How long a reservation holds reads back before it counts as abandoned (µs).
pub const LEASE_MICROS: i64 = 30_000_000;

/// How many times a writer reads the ledger again after losing a reservation to another.
const TRIES: usize = 200;

/// One reservation: the positions `first..=last`, following the reservation that ended at
/// `follows`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    /// The last position of the reservation it follows (0 for the first).
    pub follows: i64,
    /// Its first position.
    pub first: i64,
    /// Its last position.
    pub last: i64,
    /// The writer that made it (one per round).
    pub writer: Uuid,
    /// When it was made (µs since the epoch, the writer's clock).
    pub at: i64,
}

/// What a read of the ledger found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LedgerState {
    /// The last position of the newest reservation (0 when there is none).
    pub last: i64,
    /// The lowest first position among the reservations not yet released and younger than
    /// the lease.
    pub open_from: Option<i64>,
}

impl LedgerState {
    /// The position every statement at or before which is visible: before the first open
    /// reservation, and not past what was reserved (or `floor`, the highest position found in
    /// the database when the process started).
    pub fn through(&self, floor: i64) -> i64 {
        let reserved = self.last.max(floor);
        match self.open_from {
            Some(first) => reserved.min(first - 1),
            None => reserved,
        }
    }
}

/// A database's ledger of positions.
#[async_trait]
pub trait Ledger: Send + Sync {
    /// The newest reservation's last position and the first position of the oldest open one
    /// made after `fresh_since` (µs since the epoch).
    async fn ledger_state(&self, fresh_since: i64) -> Result<LedgerState, StoreError>;
    /// Records `reservation` unless another already follows `reservation.follows`: true when
    /// this one is the one the database keeps.
    async fn reserve(&self, reservation: &Reservation) -> Result<bool, StoreError>;
    /// Marks a reservation released: its round is written.
    async fn release(&self, reservation: &Reservation) -> Result<(), StoreError>;
}

/// The ledger of a database one process writes, kept in that process's memory.
#[derive(Debug, Default)]
pub struct InProcess(std::sync::Mutex<InProcessState>);

/// The newest reservation, and the open ones (by the position they follow).
#[derive(Debug, Default)]
pub struct InProcessState {
    last: i64,
    open: std::collections::BTreeMap<i64, Reservation>,
}

impl InProcess {
    fn state(&self) -> Result<std::sync::MutexGuard<'_, InProcessState>, StoreError> {
        self.0
            .lock()
            .map_err(|_| StoreError::Internal("the position ledger is poisoned".into()))
    }
}

#[async_trait]
impl Ledger for InProcess {
    async fn ledger_state(&self, fresh_since: i64) -> Result<LedgerState, StoreError> {
        let state = self.state()?;
        Ok(LedgerState {
            last: state.last,
            open_from: state
                .open
                .values()
                .filter(|r| r.at > fresh_since)
                .map(|r| r.first)
                .min(),
        })
    }

    async fn reserve(&self, reservation: &Reservation) -> Result<bool, StoreError> {
        let mut state = self.state()?;
        if reservation.follows != state.last {
            return Ok(false);
        }
        state.last = reservation.last;
        state.open.retain(|_, r| r.at > now_micros() - LEASE_MICROS);
        state.open.insert(reservation.follows, *reservation);
        Ok(true)
    }

    async fn release(&self, reservation: &Reservation) -> Result<(), StoreError> {
        self.state()?.open.remove(&reservation.follows);
        Ok(())
    }
}

/// How old a reservation is when a store prunes it (µs): a day, far beyond any writer's
/// view of the newest one, so a pruned reservation is never followed again.
pub const KEEP_MICROS: i64 = 24 * 3600 * 1_000_000;

/// When a store whose ledger has no TTL prunes it: every [`Pruning::EVERY`]th release of
/// this process.
#[derive(Debug, Default)]
pub struct Pruning(std::sync::atomic::AtomicU64);

impl Pruning {
    /// Releases between two prunings.
    pub const EVERY: u64 = 1024;

    /// Counts a release; true when this one should prune.
    pub fn due(&self) -> bool {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % Self::EVERY == Self::EVERY - 1
    }
}

/// The ledger's state, reading reservations younger than the lease as open.
pub async fn current(ledger: &dyn Ledger) -> Result<LedgerState, StoreError> {
    ledger.ledger_state(now_micros() - LEASE_MICROS).await
}

/// How long the end of a reservation seen is worth trying to follow without reading the
/// ledger first (far below the day ClickHouse keeps ledger rows).
pub const HINT_FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(10);

/// Reserves the positions `place` gives: `place(floor)` returns increasing positions, the
/// first at or after `floor` (which is after the newest reservation and the process's own
/// last position `own_last`). The first try follows `hint` without reading the ledger, when
/// given: the end of a reservation seen less than [`HINT_FRESH_FOR`] ago (a reservation this
/// process made, or the newest a read found). Following it succeeds only while it is the
/// newest, since the chain of reservations runs through every one. Reads again and retries
/// when another writer got there first.
pub async fn reserve(
    ledger: &dyn Ledger,
    own_last: i64,
    hint: Option<i64>,
    place: impl Fn(i64) -> Vec<i64>,
) -> Result<(Reservation, Vec<i64>), StoreError> {
    if let Some(hint) = hint {
        if let Some(done) = try_following(ledger, hint, own_last, &place).await? {
            return Ok(done);
        }
    }
    for attempt in 0..TRIES as u64 {
        if attempt > 0 {
            // Another writer got there first: back off a random while, longer each time, so
            // no writer keeps losing to the same others.
            let jitter = u64::from(Uuid::new_v4().as_u128() as u16);
            let ceiling = 200 * attempt.min(50);
            tokio::time::sleep(std::time::Duration::from_micros(jitter % ceiling)).await;
        }
        let newest = current(ledger).await?.last;
        if let Some(done) = try_following(ledger, newest, own_last, &place).await? {
            return Ok(done);
        }
    }
    Err(StoreError::Unavailable(format!(
        "no positions could be reserved in {TRIES} tries: too many writers at once"
    )))
}

/// Tries to record the reservation of the positions `place` gives that follows the one
/// ending at `newest`; `None` when another one already follows it.
async fn try_following(
    ledger: &dyn Ledger,
    newest: i64,
    own_last: i64,
    place: &impl Fn(i64) -> Vec<i64>,
) -> Result<Option<(Reservation, Vec<i64>)>, StoreError> {
    let positions = place(newest.max(own_last) + 1);
    let (Some(&first), Some(&last)) = (positions.first(), positions.last()) else {
        return Err(StoreError::Internal("a reservation of no positions".into()));
    };
    let reservation = Reservation {
        follows: newest,
        first,
        last,
        writer: Uuid::new_v4(),
        at: now_micros(),
    };
    Ok(ledger
        .reserve(&reservation)
        .await?
        .then_some((reservation, positions)))
}

/// `count` consecutive positions from `floor`, not before the clock.
pub fn consecutive(floor: i64, count: usize) -> Vec<i64> {
    let first = floor.max(now_micros());
    (0..count as i64).map(|i| first + i).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A ledger as a database keeps it: one reservation per position followed, first come.
    #[derive(Default)]
    struct Kept(Mutex<BTreeMap<i64, (Reservation, bool)>>);

    #[async_trait]
    impl Ledger for Kept {
        async fn ledger_state(&self, fresh_since: i64) -> Result<LedgerState, StoreError> {
            let kept = self.0.lock().expect("not poisoned");
            Ok(LedgerState {
                last: kept.values().next_back().map_or(0, |(r, _)| r.last),
                open_from: kept
                    .values()
                    .filter(|(r, released)| !released && r.at > fresh_since)
                    .map(|(r, _)| r.first)
                    .min(),
            })
        }

        async fn reserve(&self, r: &Reservation) -> Result<bool, StoreError> {
            tokio::task::yield_now().await; // let other writers read the same state
            let mut kept = self.0.lock().expect("not poisoned");
            if kept.contains_key(&r.follows) {
                return Ok(false);
            }
            kept.insert(r.follows, (*r, false));
            Ok(true)
        }

        async fn release(&self, r: &Reservation) -> Result<(), StoreError> {
            if let Some(kept) = self.0.lock().expect("not poisoned").get_mut(&r.follows) {
                kept.1 = true;
            }
            Ok(())
        }
    }

    /// Eight writers reserve 40 rounds each at once on `ledger`.
    async fn race(ledger: Arc<dyn Ledger>) {
        let writers: Vec<_> = (0..8)
            .map(|_| {
                let ledger = ledger.clone();
                tokio::spawn(async move {
                    let mut mine = Vec::new();
                    let (mut last, mut hint) = (0, None);
                    for _ in 0..40 {
                        let (r, positions) =
                            reserve(ledger.as_ref(), last, hint, |floor| consecutive(floor, 10))
                                .await
                                .expect("reserved");
                        hint = Some(r.last); // often stale: another writer has followed it
                        assert_eq!((positions[0], positions[9]), (r.first, r.last));
                        last = r.last;
                        mine.extend(positions);
                    }
                    mine
                })
            })
            .collect();
        let mut all = Vec::new();
        for writer in writers {
            all.extend(writer.await.expect("writer"));
        }
        let count = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), count, "no position handed out twice");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn writers_racing_for_positions_never_share_one() {
        race(Arc::new(Kept::default())).await;
        race(Arc::new(InProcess::default())).await;
    }

    #[tokio::test]
    async fn reads_stop_before_a_reservation_until_it_is_released() {
        let ledger = InProcess::default();
        let (r, _) = reserve(&ledger, 0, None, |floor| consecutive(floor, 3))
            .await
            .expect("reserved");
        assert_eq!(
            current(&ledger).await.expect("read").through(0),
            r.first - 1
        );
        ledger.release(&r).await.expect("released");
        assert_eq!(current(&ledger).await.expect("read").through(0), r.last);
    }

    #[tokio::test]
    async fn a_reservation_older_than_the_lease_no_longer_holds_reads_back() {
        let ledger = Kept::default();
        let (mut r, _) = reserve(&ledger, 0, None, |floor| consecutive(floor, 3))
            .await
            .expect("reserved");
        r.at -= LEASE_MICROS + 1;
        ledger
            .0
            .lock()
            .expect("not poisoned")
            .insert(r.follows, (r, false));
        assert_eq!(current(&ledger).await.expect("read").through(0), r.last);
    }

    #[test]
    fn reads_stop_before_the_first_open_reservation_and_never_pass_what_was_reserved() {
        let open = LedgerState {
            last: 500,
            open_from: Some(300),
        };
        assert_eq!(open.through(0), 299);
        let quiet = LedgerState {
            last: 500,
            open_from: None,
        };
        assert_eq!(quiet.through(0), 500);
        assert_eq!(
            quiet.through(900),
            900,
            "statements found at start are visible"
        );
        assert_eq!(LedgerState::default().through(42), 42);
    }

    #[test]
    fn a_process_prunes_once_every_1024_releases() {
        let pruning = Pruning::default();
        let due: Vec<usize> = (0..3 * 1024).filter(|_| pruning.due()).collect();
        assert_eq!(due, vec![1023, 2047, 3071]);
    }

    #[test]
    fn consecutive_positions_start_at_the_floor_or_the_clock_whichever_is_later() {
        let ahead = now_micros() + 10_000_000;
        assert_eq!(consecutive(ahead, 3), vec![ahead, ahead + 1, ahead + 2]);
        let behind = consecutive(1, 2);
        assert!(behind[0] > 1 && behind[1] == behind[0] + 1);
    }
}
