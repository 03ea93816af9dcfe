//! What a page needs of the StatementRefs table: whether it may hold rows, and while it holds
//! few, its voided ids and targets as sets a page's query takes as parameters. A page by agent
//! then leaves voided statements out and tests whether any of its matches is a target without
//! reading the table in the query (6 against 18 ms of engine CPU for a query of two pages,
//! bench/RESULTS.md, 2026-12-05 12:40); only a page with a targeted match is read again,
//! taking the statements referring to its matches from the sets' (position, target) pairs,
//! as filtered pages do at once.
//!
//! Sets must be as new as the page: a process that alone writes drops the sets it keeps at
//! each insert with a StatementRef (done or failed, before answering it) and around each
//! deletion (a voided id kept after its voiding statement was erased would hide the statement
//! from filtered pages), and with many writers every page, or group of pages asked together,
//! reads them anew. The sets are read just before the page: a voiding stored in between, not
//! yet answered, may show on the page beside its target as not voided, as with any write
//! concurrent with a read.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use clickhouse::Row;
use serde::Deserialize;
use xlrs_store::StoreError;

use crate::{failed, ClickHouse};

/// [`ClickHouse::references`]: not known whether the StatementRefs table holds a row.
pub(crate) const REFERENCES_UNKNOWN: u8 = 0;
/// [`ClickHouse::references`]: it holds none, and this process writes every row.
pub(crate) const REFERENCES_NONE: u8 = 1;
/// [`ClickHouse::references`]: it holds a row (or did).
pub(crate) const REFERENCES_SEEN: u8 = 2;

/// The most StatementRefs rows taken as sets; with more, queries read the table themselves.
const MOST_AS_SETS: u64 = 1_000;

/// With many writers, how long a read that found more rows than sets hold spares the next
/// pages the read: they read the table themselves meanwhile, which is right whatever it holds.
const TOO_MANY_FOR: std::time::Duration = std::time::Duration::from_secs(60);

/// The StatementRefs table's rows, as sets (ids as text, for `Array(UUID)` parameters).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct RefSets {
    /// The read's number, in the order reads began: a later read's sets serve every page an
    /// earlier read's serve.
    pub(crate) read: u64,
    /// The ids of voided statements.
    pub(crate) voided: Vec<String>,
    /// The ids a StatementRef targets (voided ones too).
    pub(crate) targets: Vec<String>,
    /// The position of each statement whose object is a StatementRef...
    pub(crate) referring: Vec<i64>,
    /// ...and the id it targets (the same order).
    pub(crate) referred: Vec<String>,
}

/// How a page takes the StatementRefs table into account.
#[derive(Debug, Clone)]
pub(crate) enum Refs {
    /// The table holds no row: no voided set, no StatementRef rule.
    None,
    /// Its rows as sets, as new as the page (read after it was asked for, or kept by a process
    /// that alone writes since its last change).
    Sets(Arc<RefSets>),
    /// The sets, for a page by agent with a match a StatementRef targets: the statements
    /// referring to its matches come from the sets' pairs, in a query of its own.
    Pairs(Arc<RefSets>),
    /// The query reads the table itself (too many rows for sets).
    Tables,
}

impl Refs {
    /// Whether the table may hold rows.
    pub(crate) fn any(&self) -> bool {
        !matches!(self, Refs::None)
    }

    /// The sets, if any.
    pub(crate) fn sets(&self) -> Option<&RefSets> {
        match self {
            Refs::Sets(sets) | Refs::Pairs(sets) => Some(sets),
            Refs::None | Refs::Tables => None,
        }
    }

    /// How a page by agent that has a targeted match among `self`'s sets is read again.
    pub(crate) fn pairs(&self) -> Refs {
        match self {
            Refs::Sets(sets) | Refs::Pairs(sets) => Refs::Pairs(sets.clone()),
            Refs::None | Refs::Tables => Refs::Tables,
        }
    }

    /// Whether pages with `self` and `other` can share one query: both without rows, both
    /// reading the table, or both with sets (the query takes the latest, [`Refs::latest`]).
    pub(crate) fn same(&self, other: &Refs) -> bool {
        matches!(
            (self, other),
            (Refs::None, Refs::None)
                | (Refs::Tables, Refs::Tables)
                | (Refs::Sets(_), Refs::Sets(_))
        )
    }

    /// The view a read gives: its sets, none when they target nothing (the table holds no row
    /// now), or the table itself when it held too many rows for sets.
    fn of(sets: Option<Arc<RefSets>>) -> Refs {
        match sets {
            Some(sets) if sets.targets.is_empty() => Refs::None,
            Some(sets) => Refs::Sets(sets),
            None => Refs::Tables,
        }
    }

    /// Of `self` and `other` (alike, [`Refs::same`]), the one from the later read.
    pub(crate) fn latest(self, other: &Refs) -> Refs {
        match (&self, other) {
            (Refs::Sets(a), Refs::Sets(b)) if b.read > a.read => other.clone(),
            _ => self,
        }
    }
}

/// The table summed up by one read.
#[derive(Row, Deserialize)]
struct Summary {
    /// Its rows, up to one more than sets hold.
    rows: u64,
    /// [`RefSets::voided`].
    voided: Vec<String>,
    /// [`RefSets::targets`].
    targets: Vec<String>,
    /// [`RefSets::referring`].
    referring: Vec<i64>,
    /// [`RefSets::referred`].
    referred: Vec<String>,
}

/// The reads of the sets: shared by pages asking together, kept between writes by a process
/// that alone writes.
#[derive(Debug, Default)]
pub(crate) struct KnownRefs {
    /// Bumped by every change of the table this process makes (a round with a StatementRef,
    /// a deletion): a read begun before a bump is not kept.
    changes: AtomicU64,
    /// The last read (sets, or none: too many rows), as of a number of changes.
    kept: std::sync::Mutex<Option<(u64, Option<Arc<RefSets>>)>>,
    /// The reads, shared by the pages that ask together.
    read: xlrs_store::coalesced::Coalesced<(u64, Option<Arc<RefSets>>)>,
    /// Reads begun.
    reads: AtomicU64,
    /// When a read last found more rows than sets hold.
    too_many: std::sync::Mutex<Option<std::time::Instant>>,
}

impl KnownRefs {
    /// Notes a change of the table (before and after it is made).
    pub(crate) fn changed(&self) {
        self.changes.fetch_add(1, Ordering::AcqRel);
    }
}

impl ClickHouse {
    /// How a page takes the StatementRefs table into account.
    pub(crate) async fn refs(&self) -> Result<Refs, StoreError> {
        if !self.references_exist().await? {
            return Ok(Refs::None);
        }
        let known = &self.known_refs;
        let now = known.changes.load(Ordering::Acquire);
        let sole = self.indexed.sole_writer();
        if sole {
            if let Ok(kept) = known.kept.lock() {
                if let Some((at, sets)) = &*kept {
                    if *at == now {
                        return Ok(Refs::of(sets.clone()));
                    }
                }
            }
        }
        let too_many = known.too_many.lock().ok().and_then(|at| *at);
        if too_many.is_some_and(|at| at.elapsed() < TOO_MANY_FOR) {
            return Ok(Refs::Tables);
        }
        // A read begun after this page was asked for (another process may have written a
        // StatementRef just before), shared by the pages asking together.
        let (at, sets) = known
            .read
            .get(|| async {
                let at = known.changes.load(Ordering::Acquire);
                Ok::<_, StoreError>((at, self.read_ref_sets().await?))
            })
            .await?;
        if sole && at == known.changes.load(Ordering::Acquire) {
            if let Ok(mut kept) = known.kept.lock() {
                *kept = Some((at, sets.clone()));
            }
        } else if !sole && sets.is_none() {
            if let Ok(mut too_many) = known.too_many.lock() {
                *too_many = Some(std::time::Instant::now());
            }
        }
        Ok(Refs::of(sets))
    }

    /// The table's rows as sets, unless it holds more than [`MOST_AS_SETS`].
    async fn read_ref_sets(&self) -> Result<Option<Arc<RefSets>>, StoreError> {
        let read = self.known_refs.reads.fetch_add(1, Ordering::AcqRel) + 1;
        let summary: Summary = self
            .client
            .query(&format!(
                "SELECT count() AS rows, groupUniqArrayIf(toString(target), voiding = 1) AS voided,
                        groupUniqArray(toString(target)) AS targets,
                        groupArray(stored) AS referring, groupArray(toString(target)) AS referred
                 FROM (SELECT target, stored, voiding FROM {}_refs LIMIT {})",
                self.statements,
                MOST_AS_SETS + 1
            ))
            .with_setting("max_threads", "1")
            .fetch_one()
            .await
            .map_err(failed)?;
        Ok((summary.rows <= MOST_AS_SETS).then(|| {
            Arc::new(RefSets {
                read,
                voided: summary.voided,
                targets: summary.targets,
                referring: summary.referring,
                referred: summary.referred,
            })
        }))
    }

    /// Whether the StatementRefs table may hold a row: once seen to, for good (rows leave it
    /// only by erasure and retention). Until then, with many writers, asked before each page;
    /// with one, asked once (this process then writes every row that could add one). A page
    /// while there is none needs neither the voided set nor the StatementRef rule: 6–7 instead
    /// of 11–13 ms of engine CPU at 20,000 statements, for a question of 1.6
    /// (bench/RESULTS.md, 2026-12-04 19:45).
    async fn references_exist(&self) -> Result<bool, StoreError> {
        match self.references.load(Ordering::Acquire) {
            REFERENCES_SEEN => return Ok(true),
            REFERENCES_NONE => return Ok(false),
            _ => {}
        }
        // A count begun after this page was asked for, shared by the pages asking together.
        let found: u64 = self
            .references_read
            .get(|| async {
                self.client
                    .query(&format!("SELECT count() FROM {}_refs", self.statements))
                    .fetch_one()
                    .await
                    .map_err(failed)
            })
            .await?;
        if found > 0 {
            self.references.store(REFERENCES_SEEN, Ordering::Release);
        } else if self.indexed.sole_writer() {
            // Unless a round wrote one meanwhile.
            let _ = self.references.compare_exchange(
                REFERENCES_UNKNOWN,
                REFERENCES_NONE,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
        }
        Ok(found > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_sets_are_the_view_of_no_references_and_too_many_rows_the_table_itself() {
        assert!(
            matches!(Refs::of(Some(Arc::new(RefSets::default()))), Refs::None),
            "empty sets: the page as without references"
        );
        let one = RefSets {
            targets: vec!["t".into()],
            ..RefSets::default()
        };
        assert!(matches!(Refs::of(Some(Arc::new(one))), Refs::Sets(_)));
        assert!(matches!(Refs::of(None), Refs::Tables));
    }
}
