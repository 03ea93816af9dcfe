//! The statement rules only a store can check, because they depend on what is stored: an id
//! stored again must be the same statement (else 409), and a voiding statement cannot be
//! voided. Checked the same way by every store, before a batch is written.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;
use xlrs_xapi::statement::PreparedStatement;

use crate::StoreError;

/// What a store knows of the ids a batch asks about.
#[derive(Debug, Clone, Default)]
pub struct Stored {
    /// The content hash of every id already stored.
    pub hashes: HashMap<Uuid, String>,
    /// The ids of stored voiding statements.
    pub voiding: HashSet<Uuid>,
}

impl FromIterator<(Uuid, String, bool)> for Stored {
    /// From each stored statement as (id, content hash, whether it is a voiding statement).
    fn from_iter<I: IntoIterator<Item = (Uuid, String, bool)>>(stored: I) -> Self {
        let mut known = Self::default();
        for (id, hash, is_voiding) in stored {
            if is_voiding {
                known.voiding.insert(id);
            }
            known.hashes.insert(id, hash);
        }
        known
    }
}

impl Stored {
    /// The indexes of `batch`'s statements to write, or why the batch fails. An identical
    /// re-send (of a stored statement or one earlier in the batch) is skipped.
    pub fn check(&self, batch: &[PreparedStatement]) -> Result<Vec<usize>, StoreError> {
        let mut in_batch: HashMap<Uuid, &str> = HashMap::new();
        let mut voiding_in_batch: HashSet<Uuid> = HashSet::new();
        let mut keep = Vec::with_capacity(batch.len());
        for (i, s) in batch.iter().enumerate() {
            let known = self
                .hashes
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
                if self.voiding.contains(&target) || voiding_in_batch.contains(&target) {
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

    /// Records the statements of `batch` at `keep` as stored, for the batches after it.
    pub fn add(&mut self, batch: &[PreparedStatement], keep: &[usize]) {
        for &i in keep {
            let s = &batch[i];
            self.hashes.insert(s.id, s.content_hash.clone());
            if s.index.voids.is_some() {
                self.voiding.insert(s.id);
            }
        }
    }
}

/// Every statement id `batch` holds or voids, sorted, once each.
pub fn ids_of(batch: &[&PreparedStatement]) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = batch
        .iter()
        .flat_map(|s| std::iter::once(s.id).chain(s.index.voids))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}
