//! The backend rules over statements held in memory: duplicates, conflicts, voiding and the
//! query filters (with the StatementRef rule). A backend that keeps its data elsewhere loads
//! it into a [`MemoryStore`], checks a batch with it, and writes what [`MemoryStore::check`]
//! returns.

use std::collections::{HashMap, HashSet};

use super::{IndexKey, Page, StatementQuery, StatementRecord, StoreError, StoredStatement};

/// Statements in insertion order with the indexes the rules need. Positions (`Page::more`,
/// `StatementQuery::after`) are 1-based insertion numbers.
#[derive(Default)]
pub struct MemoryStore {
    records: Vec<StatementRecord>,
    by_id: HashMap<String, usize>,
    voided: HashSet<String>,
}

fn has(list: &[IndexKey], key: &str, related: bool) -> bool {
    list.iter().any(|k| k.key == key && (k.direct || related))
}

/// Whether a record matches the query's own filters (not the StatementRef rule).
fn matches(r: &StatementRecord, q: &StatementQuery) -> bool {
    q.agent
        .as_deref()
        .is_none_or(|a| has(&r.agents, a, q.related_agents))
        && q.verb.as_deref().is_none_or(|v| r.verb == v)
        && q.activity
            .as_deref()
            .is_none_or(|a| has(&r.activities, a, q.related_activities))
        && q.registration
            .as_deref()
            .is_none_or(|g| r.registration.as_deref() == Some(g))
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of statements held.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no statement is held.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Applies the insert rules to a batch: the records to add (duplicates of stored
    /// statements left out), or the error failing the whole batch.
    pub fn check(&self, batch: Vec<StatementRecord>) -> Result<Vec<StatementRecord>, StoreError> {
        // id → (content hash, is a voiding statement) of the statements earlier in the batch.
        let mut earlier: HashMap<&str, (&str, bool)> = HashMap::new();
        let mut keep = Vec::with_capacity(batch.len());
        for r in &batch {
            let known = |id: &str| earlier.get(id).copied().or_else(|| self.stored(id));
            if let Some((hash, _)) = known(&r.id) {
                if hash != r.content_hash {
                    return Err(StoreError::Conflict(r.id.clone()));
                }
                keep.push(false);
                continue;
            }
            if let Some(target) = &r.voids {
                if let Some((_, true)) = known(target) {
                    return Err(StoreError::Rejected(format!(
                        "statement {} voids {target}, which is itself a voiding statement; a voiding statement cannot be voided",
                        r.id
                    )));
                }
            }
            earlier.insert(&r.id, (&r.content_hash, r.voids.is_some()));
            keep.push(true);
        }
        Ok(batch
            .into_iter()
            .zip(keep)
            .filter_map(|(r, keep)| keep.then_some(r))
            .collect())
    }

    /// The content hash of a stored statement and whether it is a voiding statement.
    fn stored(&self, id: &str) -> Option<(&str, bool)> {
        let r = &self.records[*self.by_id.get(id)?];
        Some((&r.content_hash, r.voids.is_some()))
    }

    /// Adds records that passed [`MemoryStore::check`] (or were stored before).
    pub fn add(&mut self, records: impl IntoIterator<Item = StatementRecord>) {
        for r in records {
            if let Some(target) = &r.voids {
                self.voided.insert(target.clone());
            }
            self.by_id.insert(r.id.clone(), self.records.len());
            self.records.push(r);
        }
    }

    /// Checks a batch and adds it: `insert` of a backend that lives in memory only.
    pub fn insert(&mut self, batch: Vec<StatementRecord>) -> Result<(), StoreError> {
        let fresh = self.check(batch)?;
        self.add(fresh);
        Ok(())
    }

    /// One statement by id, voided or not.
    pub fn get(&self, id: &str) -> Option<StoredStatement> {
        let r = &self.records[*self.by_id.get(id)?];
        Some(StoredStatement {
            body: r.body.clone(),
            stored: r.stored,
            voided: self.voided.contains(&r.id),
        })
    }

    /// A page of matching statements, as `query` of the backend world defines it.
    pub fn query(&self, q: &StatementQuery) -> Page {
        let filtered = q.agent.is_some()
            || q.verb.is_some()
            || q.activity.is_some()
            || q.registration.is_some();
        let selected = |(i, r): &(usize, &StatementRecord)| -> bool {
            let position = *i as i64 + 1;
            !self.voided.contains(&r.id)
                && q.since.is_none_or(|s| r.stored > s)
                && q.until.is_none_or(|u| r.stored <= u)
                && q.authority.as_deref().is_none_or(|a| r.authority == a)
                && q.after.is_none_or(|a| {
                    if q.ascending {
                        position > a
                    } else {
                        position < a
                    }
                })
                && (matches(r, q)
                    || (filtered
                        && r.statement_ref
                            .as_deref()
                            .and_then(|t| self.by_id.get(t))
                            .is_some_and(|t| matches(&self.records[*t], q))))
        };
        let limit = q.limit.max(1) as usize;
        // Paging starts where the last page ended: an unfiltered page costs O(page).
        let after = q
            .after
            .map(|a| a.clamp(0, self.records.len() as i64) as usize);
        let mut hits: Vec<(usize, &StatementRecord)> = if q.ascending {
            let from = after.unwrap_or(0);
            self.records
                .iter()
                .enumerate()
                .skip(from)
                .filter(selected)
                .take(limit + 1)
                .collect()
        } else {
            let to = after.map_or(self.records.len(), |a| a.saturating_sub(1));
            self.records[..to]
                .iter()
                .enumerate()
                .rev()
                .filter(selected)
                .take(limit + 1)
                .collect()
        };
        let more = (hits.len() > limit).then(|| hits[limit - 1].0 as i64 + 1);
        hits.truncate(limit);
        Page {
            statements: hits
                .into_iter()
                .map(|(_, r)| StoredStatement {
                    body: r.body.clone(),
                    stored: r.stored,
                    voided: false,
                })
                .collect(),
            more,
        }
    }
}
