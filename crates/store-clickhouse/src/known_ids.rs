//! Which of a round's ids may already be stored: a Bloom filter of every id in the statements
//! table, kept in memory by each process. ClickHouse cannot look an id up by key (the table is
//! ordered by position), so `WHERE id IN (…)` with a round's hundreds of ids reads the whole id
//! column, a cost that grows with the table. With the filter a round asks the database only
//! about ids that may be stored: re-sends, and a few in a thousand new ids.
//!
//! The filter never misses an id it should hold:
//! - it is filled by one scan of the table, taken after every write that did not add its ids
//!   to it has finished (writes add their ids before they insert, under a shared guard the
//!   scan waits on);
//! - with other writing processes (`writers = "many"`), each lookup also reads the rows past a
//!   cursor: the position through which every row was visible before the previous lookup (see
//!   [`xlrs_store::ledger::LedgerState::through`]). A row written by another process is either
//!   before that position, so visible then and read by an earlier lookup or the scan, or after
//!   it and read now. An acknowledged statement is visible, so a conflicting re-send through
//!   any process is found.
//!
//! When more ids are stored than the filter was sized for, it is built again, twice as large
//! (within `clickhouse.id_filter_mib`); until then more lookups go to the database.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use clickhouse::{Client, Row};
use serde::Deserialize;
use uuid::Uuid;
use xlrs_store::StoreError;

use crate::failed;

/// Bits of filter per id it is sized for (with [`PROBES`] probes in one 512-bit block:
/// about 0.5 % of new ids answer "maybe").
const BITS_PER_ID: u64 = 12;

/// Bits set per id, all in one 512-bit block (one cache line).
const PROBES: u32 = 8;

/// How long after a failed scan the next is tried (by the next write).
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// The fewest ids a filter is sized for.
const MIN_CAPACITY: u64 = 1 << 20;

/// A blocked Bloom filter of statement ids: no false negatives; about 0.5 % false positives
/// while it holds no more ids than it was sized for.
pub(crate) struct Bloom {
    /// Blocks of 8 words (512 bits).
    words: Vec<AtomicU64>,
    /// How many ids it was sized for.
    capacity: u64,
    /// How many ids were added (an id it already answered "maybe" to is not counted again).
    added: AtomicU64,
}

/// The SplitMix64 finalizer: spreads every input bit over the output.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Bloom {
    /// A filter for `capacity` ids, in at most `max_bytes` of memory.
    pub(crate) fn new(capacity: u64, max_bytes: u64) -> Self {
        let blocks = (capacity * BITS_PER_ID)
            .div_ceil(512)
            .min(max_bytes / 64)
            .max(1);
        Self {
            words: (0..blocks * 8).map(|_| AtomicU64::new(0)).collect(),
            capacity,
            added: AtomicU64::new(0),
        }
    }

    /// The block's first word and the probes' bits of `id` (ids are chosen by clients, so
    /// hashed first).
    fn probes(&self, id: Uuid) -> (usize, [u16; PROBES as usize]) {
        let (hi, lo) = id.as_u64_pair();
        let a = mix(lo ^ mix(hi));
        let b = mix(a ^ hi);
        let blocks = (self.words.len() / 8) as u64;
        let block = ((u128::from(a) * u128::from(blocks)) >> 64) as usize;
        let mut bits = [0u16; PROBES as usize];
        for (i, bit) in bits.iter_mut().enumerate() {
            *bit = ((b >> (i * 8)) as u16 & 0xff) | (((a >> (i * 2)) as u16 & 1) << 8);
        }
        (block * 8, bits)
    }

    /// Adds an id.
    pub(crate) fn insert(&self, id: Uuid) {
        let (first, bits) = self.probes(id);
        let mut new = false;
        for bit in bits {
            let word = &self.words[first + usize::from(bit >> 6)];
            let mask = 1 << (bit & 63);
            new |= word.fetch_or(mask, Ordering::Relaxed) & mask == 0;
        }
        if new {
            self.added.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// False when the id was never added; true when it was, or rarely when it was not.
    pub(crate) fn may_contain(&self, id: Uuid) -> bool {
        let (first, bits) = self.probes(id);
        bits.iter().all(|bit| {
            self.words[first + usize::from(bit >> 6)].load(Ordering::Relaxed) & (1 << (bit & 63))
                != 0
        })
    }

    /// Whether it holds more ids than it was sized for.
    fn is_full(&self) -> bool {
        self.added.load(Ordering::Relaxed) > self.capacity
    }

    /// Its memory in bytes.
    fn bytes(&self) -> usize {
        self.words.len() * 8
    }
}

/// A row of the scan.
#[derive(Row, Deserialize)]
struct IdRow {
    #[serde(with = "clickhouse::serde::uuid")]
    id: Uuid,
}

/// The filter lookups use (none until the first scan is done), and the one a scan is
/// filling, which writes add their ids to as well.
#[derive(Default)]
struct Filters {
    current: Option<Arc<Bloom>>,
    next: Option<Arc<Bloom>>,
}

/// The filter of one process, how it is kept whole, and the cursor of rows other processes
/// wrote.
pub(crate) struct KnownIds {
    client: Client,
    /// The statements table.
    table: String,
    /// The most memory the filter may take.
    max_bytes: u64,
    /// Whether other processes write the table too (lookups then read past the cursor).
    others_write: bool,
    /// The filters, swapped together so no write adds to neither.
    filters: Mutex<Filters>,
    /// Held shared by each write from adding its ids until its insert is done; a scan takes
    /// it exclusively first, so every write that missed the new filter is visible to the scan.
    writes: tokio::sync::RwLock<()>,
    /// Every row at or before this position was visible before the last lookup.
    cursor: AtomicI64,
    /// Whether a scan is under way.
    scanning: AtomicBool,
    /// When the last scan failed: the next is not tried within [`RETRY_AFTER`].
    failed_at: Mutex<Option<std::time::Instant>>,
}

impl KnownIds {
    /// Keeps no filter yet: [`KnownIds::build`] makes it, after [`KnownIds::advance`] has set
    /// the cursor when others write.
    pub(crate) fn new(client: Client, table: String, max_bytes: u64, others_write: bool) -> Self {
        Self {
            client,
            table,
            max_bytes,
            others_write,
            filters: Mutex::new(Filters::default()),
            writes: tokio::sync::RwLock::new(()),
            cursor: AtomicI64::new(0),
            scanning: AtomicBool::new(false),
            failed_at: Mutex::new(None),
        }
    }

    /// Whether lookups read the rows other processes wrote past the cursor.
    pub(crate) fn others_write(&self) -> bool {
        self.others_write
    }

    /// The filter, once built.
    pub(crate) fn filter(&self) -> Option<Arc<Bloom>> {
        self.filters.lock().ok().and_then(|f| f.current.clone())
    }

    /// The position lookups read past.
    pub(crate) fn cursor(&self) -> i64 {
        self.cursor.load(Ordering::Acquire)
    }

    /// Moves the cursor on to `through` (never back).
    pub(crate) fn advance(&self, through: i64) {
        self.cursor.fetch_max(through, Ordering::AcqRel);
    }

    /// Adds stored ids to the filter and to the one being built.
    pub(crate) fn add(&self, ids: impl IntoIterator<Item = Uuid>) {
        let filters: Vec<Arc<Bloom>> = match self.filters.lock() {
            Ok(f) => f.current.iter().chain(&f.next).cloned().collect(),
            Err(_) => return,
        };
        if filters.is_empty() {
            return;
        }
        for id in ids {
            for f in &filters {
                f.insert(id);
            }
        }
    }

    /// Adds a round's ids (before it is inserted) and holds the guard a scan waits on until
    /// the insert is done.
    pub(crate) async fn writing(
        self: &Arc<Self>,
        ids: impl IntoIterator<Item = Uuid>,
    ) -> tokio::sync::RwLockReadGuard<'_, ()> {
        let guard = self.writes.read().await;
        self.add(ids);
        // A full filter is built again larger; a missing one (its scan failed) again.
        if self.filter().is_none_or(|f| f.is_full()) {
            self.rebuild();
        }
        guard
    }

    /// Builds a larger filter in the background, unless a scan is under way.
    fn rebuild(self: &Arc<Self>) {
        let failed_lately = self
            .failed_at
            .lock()
            .ok()
            .and_then(|f| *f)
            .is_some_and(|at| at.elapsed() < RETRY_AFTER);
        if failed_lately || self.scanning.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(e) = this.scan(None).await {
                tracing::warn!(error = %e, "the filter of stored ids could not be built again; lookups read more of the table until it is");
            }
        });
    }

    /// Builds the filter by one scan of the table, which holds `count` statements (run at
    /// start-up; the first lookups read the table until it is done).
    pub(crate) async fn build(self: &Arc<Self>, count: u64) -> Result<(), StoreError> {
        self.scanning.store(true, Ordering::Release);
        self.scan(Some(count)).await
    }

    /// Sizes a new filter for twice the ids stored (`count`, else counted now), fills it, and
    /// has lookups use it.
    async fn scan(&self, count: Option<u64>) -> Result<(), StoreError> {
        let outcome = self.fill(count).await;
        if outcome.is_err() {
            if let Ok(mut filters) = self.filters.lock() {
                filters.next = None;
            }
            if let Ok(mut failed_at) = self.failed_at.lock() {
                *failed_at = Some(std::time::Instant::now());
            }
        }
        self.scanning.store(false, Ordering::Release);
        outcome
    }

    /// How many statements the table holds.
    pub(crate) async fn count(&self) -> Result<u64, StoreError> {
        self.client
            .query(&format!("SELECT count() FROM {}", self.table))
            .fetch_one()
            .await
            .map_err(failed)
    }

    async fn fill(&self, count: Option<u64>) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        let count = match count {
            Some(count) => count,
            None => self.count().await?,
        };
        let bloom = Arc::new(Bloom::new((count * 2).max(MIN_CAPACITY), self.max_bytes));
        if let Ok(mut filters) = self.filters.lock() {
            filters.next = Some(bloom.clone());
        }
        // Writes that added their ids before the new filter existed finish first.
        drop(self.writes.write().await);
        let mut rows = self
            .client
            .query(&format!("SELECT id FROM {}", self.table))
            .fetch::<IdRow>()
            .map_err(failed)?;
        let mut scanned = 0u64;
        while let Some(row) = rows.next().await.map_err(failed)? {
            bloom.insert(row.id);
            scanned += 1;
        }
        if let Ok(mut filters) = self.filters.lock() {
            filters.current = Some(bloom.clone());
            filters.next = None;
        }
        tracing::info!(
            ids = scanned,
            mib = bloom.bytes() >> 20,
            ms = started.elapsed().as_millis() as u64,
            "the filter of stored ids is built"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_added_id_is_always_found() {
        let bloom = Bloom::new(10_000, u64::MAX);
        let ids: Vec<Uuid> = (0..10_000).map(|_| Uuid::new_v4()).collect();
        ids.iter().for_each(|id| bloom.insert(*id));
        assert!(ids.iter().all(|id| bloom.may_contain(*id)));
    }

    #[test]
    fn few_new_ids_answer_maybe_while_the_filter_is_within_its_size() {
        let bloom = Bloom::new(100_000, u64::MAX);
        (0..100_000).for_each(|_| bloom.insert(Uuid::new_v4()));
        let maybe = (0..100_000)
            .filter(|_| bloom.may_contain(Uuid::new_v4()))
            .count();
        assert!(maybe < 1_000, "{maybe} of 100,000 new ids answered maybe");
        assert!(!bloom.is_full());
    }

    #[test]
    fn ids_that_differ_in_one_half_are_told_apart() {
        let bloom = Bloom::new(1 << 16, u64::MAX);
        (0..1000u64).for_each(|i| bloom.insert(Uuid::from_u64_pair(7, i)));
        let maybe = (1000..101_000u64)
            .filter(|i| bloom.may_contain(Uuid::from_u64_pair(7, *i)))
            .count();
        assert!(
            maybe < 100,
            "{maybe} of 100,000 sequential new ids answered maybe"
        );
    }

    #[test]
    fn an_id_added_again_counts_once() {
        let bloom = Bloom::new(10, u64::MAX);
        let ids: Vec<Uuid> = (0..10).map(|_| Uuid::new_v4()).collect();
        for _ in 0..3 {
            ids.iter().for_each(|id| bloom.insert(*id));
        }
        assert!(!bloom.is_full(), "ten ids, each added three times");
        bloom.insert(Uuid::new_v4());
        assert!(bloom.is_full());
    }

    #[test]
    fn the_memory_cap_holds_and_the_filter_still_finds_every_id() {
        let bloom = Bloom::new(1 << 20, 4096);
        assert_eq!(bloom.bytes(), 4096);
        let ids: Vec<Uuid> = (0..5_000).map(|_| Uuid::new_v4()).collect();
        ids.iter().for_each(|id| bloom.insert(*id));
        assert!(ids.iter().all(|id| bloom.may_contain(*id)));
    }
}
