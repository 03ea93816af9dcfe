//! Storage backends of `wit/v0.2` (feature `storage`): a backend keeps and finds records and
//! the host applies every xAPI rule on top. [`Storage`] is the world's functions;
//! [`Index`] keeps records in memory and answers every one of them, so a backend that keeps
//! its data in files (`jsonl-store`) loads them into an `Index` and writes what it is given.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

pub use super::bindings::storage::xlrs::plugin::types::{
    IdStatus, IndexKey, Row, ScanFilter, StatementRecord, StoreError,
};

/// A storage backend: the `storage` world's functions on the instance's one value (kept
/// across calls while the host keeps the instance).
pub trait Storage: 'static {
    /// Makes the backend on an instance's first call.
    fn new() -> Self;
    /// One entry per id stored or marked voided.
    fn status(&mut self, ids: Vec<String>) -> Result<Vec<IdStatus>, StoreError>;
    /// Keeps new statements and marks `voided` voided: all or nothing.
    fn append(
        &mut self,
        statements: Vec<StatementRecord>,
        voided: Vec<String>,
    ) -> Result<(), StoreError>;
    /// Replaces stored statements by id; ids not stored are skipped.
    fn rewrite(&mut self, statements: Vec<StatementRecord>) -> Result<(), StoreError>;
    /// Removes statements and their voided marks; ids not stored are skipped.
    fn remove(&mut self, ids: Vec<String>) -> Result<(), StoreError>;
    /// One statement by id.
    fn get(&mut self, id: String) -> Result<Option<Row>, StoreError>;
    /// What a filter selects, in its order, at most its limit.
    fn scan(&mut self, filter: ScanFilter) -> Result<Vec<Row>, StoreError>;
}

/// Records in memory, by position, with what `status`, `get` and `scan` need.
#[derive(Default)]
pub struct Index {
    by_position: BTreeMap<i64, StatementRecord>,
    positions: HashMap<String, i64>,
    voided: HashSet<String>,
    /// The positions of statements with a StatementRef: what a `referring` scan visits.
    referring: BTreeSet<i64>,
}

fn has(list: &[IndexKey], key: &str, related: bool) -> bool {
    list.iter().any(|k| k.key == key && (k.direct || related))
}

impl Index {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of statements held.
    pub fn len(&self) -> usize {
        self.by_position.len()
    }

    /// Whether no statement is held.
    pub fn is_empty(&self) -> bool {
        self.by_position.is_empty()
    }

    /// Whether a statement with this id is stored.
    pub fn contains(&self, id: &str) -> bool {
        self.positions.contains_key(id)
    }

    /// `status` of the storage world.
    pub fn status(&self, ids: &[String]) -> Vec<IdStatus> {
        ids.iter()
            .filter_map(|id| {
                let record = self.positions.get(id).map(|p| &self.by_position[p]);
                let voided = self.voided.contains(id);
                (record.is_some() || voided).then(|| IdStatus {
                    id: id.clone(),
                    content_hash: record.map(|r| r.content_hash.clone()),
                    voiding: record.is_some_and(|r| r.voiding),
                    voided,
                })
            })
            .collect()
    }

    /// Keeps a record, replacing the one stored with its id.
    pub fn put(&mut self, record: StatementRecord) {
        if let Some(old) = self.positions.insert(record.id.clone(), record.stored) {
            self.by_position.remove(&old);
            self.referring.remove(&old);
        }
        if record.statement_ref.is_some() {
            self.referring.insert(record.stored);
        }
        self.by_position.insert(record.stored, record);
    }

    /// Marks ids voided.
    pub fn void(&mut self, ids: impl IntoIterator<Item = String>) {
        self.voided.extend(ids);
    }

    /// `append` of the storage world.
    pub fn append(&mut self, records: Vec<StatementRecord>, voided: Vec<String>) {
        for r in records {
            self.put(r);
        }
        self.void(voided);
    }

    /// `rewrite` of the storage world: only ids already stored.
    pub fn rewrite(&mut self, records: Vec<StatementRecord>) {
        for r in records {
            if self.contains(&r.id) {
                self.put(r);
            }
        }
    }

    /// `remove` of the storage world.
    pub fn remove(&mut self, ids: &[String]) {
        for id in ids {
            if let Some(p) = self.positions.remove(id) {
                self.by_position.remove(&p);
                self.referring.remove(&p);
            }
            self.voided.remove(id);
        }
    }

    fn row(&self, r: &StatementRecord) -> Row {
        Row {
            id: r.id.clone(),
            body: r.body.clone(),
            stored: r.stored,
            voided: self.voided.contains(&r.id),
            statement_ref: r.statement_ref.clone(),
        }
    }

    /// `get` of the storage world.
    pub fn get(&self, id: &str) -> Option<Row> {
        let r = &self.by_position[self.positions.get(id)?];
        Some(self.row(r))
    }

    /// Whether a record passes every filter (not the window of positions).
    fn selects(&self, r: &StatementRecord, f: &ScanFilter) -> bool {
        (f.voided || !self.voided.contains(&r.id))
            && (!f.referring || r.statement_ref.is_some())
            && f.agent
                .as_deref()
                .is_none_or(|a| has(&r.agents, a, f.related_agents))
            && f.verb.as_deref().is_none_or(|v| r.verb == v)
            && f.activity
                .as_deref()
                .is_none_or(|a| has(&r.activities, a, f.related_activities))
            && f.registration
                .as_deref()
                .is_none_or(|g| r.registration.as_deref() == Some(g))
            && f.authority.as_deref().is_none_or(|a| r.authority == a)
            && f.attachment
                .as_deref()
                .is_none_or(|a| r.attachments.iter().any(|x| x == a))
    }

    /// `scan` of the storage world: O(page) for a scan that filters on positions only.
    pub fn scan(&self, f: &ScanFilter) -> Vec<Row> {
        let limit = f.limit.max(1) as usize;
        let lower = f
            .since
            .map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        let upper = f
            .until
            .map_or(std::ops::Bound::Unbounded, std::ops::Bound::Included);
        if f.since.zip(f.until).is_some_and(|(s, u)| s >= u) {
            return Vec::new();
        }
        let in_window = |r: &&StatementRecord| {
            f.since.is_none_or(|s| r.stored > s) && f.until.is_none_or(|u| r.stored <= u)
        };
        let selected: Box<dyn Iterator<Item = &StatementRecord>> = match &f.ids {
            Some(ids) => {
                let mut found: Vec<&StatementRecord> = ids
                    .iter()
                    .filter_map(|id| self.positions.get(id))
                    .map(|p| &self.by_position[p])
                    .filter(in_window)
                    .collect();
                found.sort_by_key(|r| r.stored);
                found.dedup_by_key(|r| r.stored);
                if f.ascending {
                    Box::new(found.into_iter())
                } else {
                    Box::new(found.into_iter().rev())
                }
            }
            // Statements with a StatementRef through their own set: O(referring), not O(all).
            None if f.referring => {
                let range = self
                    .referring
                    .range((lower, upper))
                    .map(|p| &self.by_position[p]);
                if f.ascending {
                    Box::new(range)
                } else {
                    Box::new(range.rev())
                }
            }
            None => {
                let range = self.by_position.range((lower, upper)).map(|(_, r)| r);
                if f.ascending {
                    Box::new(range)
                } else {
                    Box::new(range.rev())
                }
            }
        };
        selected
            .filter(|r| self.selects(r, f))
            .take(limit)
            .map(|r| self.row(r))
            .collect()
    }
}

/// The body of every exported storage function: the instance's backend.
#[doc(hidden)]
pub fn with_storage<T: Storage, R>(f: impl FnOnce(&mut T) -> R) -> R {
    super::with_instance(T::new, f)
}

/// Exports a type implementing [`Storage`] as the plugin's `records` (`wit/v0.2`).
#[macro_export]
macro_rules! export_storage {
    ($ty:ty) => {
        #[doc(hidden)]
        struct __XlrsExport;
        impl $crate::guest::bindings::storage::exports::records::Guest for __XlrsExport {
            fn status(
                ids: ::std::vec::Vec<::std::string::String>,
            ) -> ::std::result::Result<
                ::std::vec::Vec<$crate::guest::storage::IdStatus>,
                $crate::guest::storage::StoreError,
            > {
                $crate::guest::storage::with_storage(|b: &mut $ty| {
                    $crate::guest::storage::Storage::status(b, ids)
                })
            }
            fn append(
                statements: ::std::vec::Vec<$crate::guest::storage::StatementRecord>,
                voided: ::std::vec::Vec<::std::string::String>,
            ) -> ::std::result::Result<(), $crate::guest::storage::StoreError> {
                $crate::guest::storage::with_storage(|b: &mut $ty| {
                    $crate::guest::storage::Storage::append(b, statements, voided)
                })
            }
            fn rewrite(
                statements: ::std::vec::Vec<$crate::guest::storage::StatementRecord>,
            ) -> ::std::result::Result<(), $crate::guest::storage::StoreError> {
                $crate::guest::storage::with_storage(|b: &mut $ty| {
                    $crate::guest::storage::Storage::rewrite(b, statements)
                })
            }
            fn remove(
                ids: ::std::vec::Vec<::std::string::String>,
            ) -> ::std::result::Result<(), $crate::guest::storage::StoreError> {
                $crate::guest::storage::with_storage(|b: &mut $ty| {
                    $crate::guest::storage::Storage::remove(b, ids)
                })
            }
            fn get(
                id: ::std::string::String,
            ) -> ::std::result::Result<
                ::std::option::Option<$crate::guest::storage::Row>,
                $crate::guest::storage::StoreError,
            > {
                $crate::guest::storage::with_storage(|b: &mut $ty| {
                    $crate::guest::storage::Storage::get(b, id)
                })
            }
            fn scan(
                filter: $crate::guest::storage::ScanFilter,
            ) -> ::std::result::Result<
                ::std::vec::Vec<$crate::guest::storage::Row>,
                $crate::guest::storage::StoreError,
            > {
                $crate::guest::storage::with_storage(|b: &mut $ty| {
                    $crate::guest::storage::Storage::scan(b, filter)
                })
            }
        }
        $crate::guest::bindings::storage::export_storage_bindings!(
            __XlrsExport with_types_in $crate::guest::bindings::storage
        );
    };
}
