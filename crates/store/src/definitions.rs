//! Canonical activity definitions kept as contributions, for stores shared by several
//! processes: each distinct definition of an activity is one row with the last position it was
//! stored at, and the canonical definition is every row merged in position order. No process
//! reads before it writes, so processes never race on a definition.
//!
//! Merging only the last occurrence of each distinct definition gives what merging every
//! occurrence gives: [`activity::merge`] keeps, for each property (and each language or
//! extension key), the value of the last definition that has it, and the last occurrence of
//! every definition is kept.

use std::collections::HashMap;

use serde_json::Value;
use sha2::{Digest, Sha256};
use xlrs_xapi::activity;

use crate::group_commit::Positioned;
use crate::{Definition, StoreError};

/// The key of a definition among the contributions to its activity: SHA-256 of the activity id
/// and the definition's JSON, lowercase hex.
pub fn contribution_key(activity: &str, definition: &Value) -> String {
    let mut hash = Sha256::new();
    hash.update(activity.as_bytes());
    hash.update([0]);
    hash.update(definition.to_string().as_bytes());
    hex::encode(hash.finalize())
}

/// The canonical definition made of contributions given in position order.
pub fn canonical(contributions: impl IntoIterator<Item = Value>) -> Option<Value> {
    contributions.into_iter().reduce(|mut canonical, newer| {
        activity::merge(&mut canonical, &newer);
        canonical
    })
}

/// The canonical definition made of contributions kept as JSON text, given in position order.
pub fn canonical_of_texts<'a>(
    texts: impl IntoIterator<Item = &'a str>,
) -> Result<Option<Value>, StoreError> {
    let contributions = texts
        .into_iter()
        .map(|text| {
            serde_json::from_str(text)
                .map_err(|e| StoreError::Internal(format!("a stored activity definition: {e}")))
        })
        .collect::<Result<Vec<Value>, _>>()?;
    Ok(canonical(contributions))
}

/// The definitions a round's statements carry, at their positions, in position order.
pub fn of_round(round: &[Positioned<'_>]) -> Vec<Definition> {
    round
        .iter()
        .flat_map(|p| {
            p.statement
                .index
                .definitions
                .iter()
                .map(|(activity, definition)| Definition {
                    activity: activity.clone(),
                    definition: definition.clone(),
                    stored: p.stored,
                })
        })
        .collect()
}

/// The last occurrence of each distinct definition among `definitions` (in position order),
/// with its contribution key.
pub fn last_occurrences(definitions: Vec<Definition>) -> Vec<(String, Definition)> {
    let mut last: HashMap<String, Definition> = HashMap::new();
    for d in definitions {
        let key = contribution_key(&d.activity, &d.definition);
        last.insert(key, d);
    }
    let mut out: Vec<(String, Definition)> = last.into_iter().collect();
    out.sort_by_key(|(_, d)| d.stored);
    out
}

/// Most distinct definitions kept waiting ([`Waiting`]); past it the lowest positions are given
/// up, logged.
pub const WAITING_MOST: usize = 100_000;

/// Definitions of written rounds the database refused after it stored their statements: the
/// statements are acknowledged, and a task keeps the definitions again until the database
/// takes them. Each is a contribution at its statement's position, and every store keeps a
/// contribution's highest position, so keeping one late changes nothing of the order; only the
/// highest position of each distinct definition waits.
#[derive(Default)]
pub struct Waiting {
    /// The definitions by contribution key, and how many an attempt holds now.
    inner: std::sync::Mutex<WaitingInner>,
    /// Whether a task is trying them again.
    retrying: std::sync::atomic::AtomicBool,
}

/// What [`Waiting`] guards.
#[derive(Default)]
struct WaitingInner {
    definitions: HashMap<String, Definition>,
    trying: usize,
}

impl WaitingInner {
    /// Adds `d`, keeping the highest position of its definition.
    fn add(&mut self, d: Definition) {
        let key = contribution_key(&d.activity, &d.definition);
        match self.definitions.get_mut(&key) {
            Some(kept) if kept.stored >= d.stored => {}
            Some(kept) => *kept = d,
            None => {
                self.definitions.insert(key, d);
            }
        }
    }
}

impl Waiting {
    /// Adds definitions to wait (giving up the lowest positions past [`WAITING_MOST`]).
    pub fn add(&self, definitions: Vec<Definition>) {
        let Ok(mut waiting) = self.inner.lock() else {
            return;
        };
        for d in definitions {
            waiting.add(d);
        }
        let over = waiting.definitions.len().saturating_sub(WAITING_MOST);
        if over > 0 {
            let mut by_position: Vec<(i64, String)> = waiting
                .definitions
                .iter()
                .map(|(key, d)| (d.stored, key.clone()))
                .collect();
            by_position.sort_unstable();
            for (_, key) in by_position.into_iter().take(over) {
                waiting.definitions.remove(&key);
            }
            tracing::error!(
                given_up = over,
                "activity definitions waiting to be kept were given up: the canonical definitions of their activities may lack them"
            );
        }
    }

    /// How many distinct definitions wait, those an attempt holds now included.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .map_or(0, |w| w.definitions.len() + w.trying)
    }

    /// Whether no definition waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps the waiting definitions with `keep` (in position order); those it refuses wait
    /// on. True when none waits any more.
    pub async fn keep_again<F>(&self, keep: F) -> bool
    where
        F: AsyncFnOnce(Vec<Definition>) -> Result<(), StoreError>,
    {
        let mut taken: Vec<Definition> = match self.inner.lock() {
            Ok(mut waiting) => {
                let taken: Vec<Definition> = waiting.definitions.drain().map(|(_, d)| d).collect();
                waiting.trying = taken.len();
                taken
            }
            Err(_) => return false,
        };
        if taken.is_empty() {
            return true;
        }
        taken.sort_by_key(|d| d.stored);
        let count = taken.len();
        let outcome = keep(taken.clone()).await;
        let Ok(mut waiting) = self.inner.lock() else {
            return false;
        };
        waiting.trying = 0;
        match outcome {
            Ok(()) => {
                tracing::info!(count, "activity definitions that waited are kept");
                waiting.definitions.is_empty()
            }
            Err(_) => {
                for d in taken {
                    waiting.add(d);
                }
                false
            }
        }
    }

    /// Marks a task trying the definitions again as started: false when one already runs.
    pub fn start_retrying(&self) -> bool {
        !self
            .retrying
            .swap(true, std::sync::atomic::Ordering::AcqRel)
    }

    /// Marks that task ended; true when definitions still wait and it should go on (it is
    /// marked started again).
    pub fn stop_retrying(&self) -> bool {
        self.retrying
            .store(false, std::sync::atomic::Ordering::Release);
        !self.is_empty() && self.start_retrying()
    }
}

/// Activities whose last definition this process remembers before it forgets them all: about
/// a kilobyte each, so at most about 16 MiB.
const REMEMBERED: usize = 16_384;

/// The definition this process wrote last for each activity, for a process that alone writes
/// its database (`writers = "one"`): a definition given again while it is still its activity's
/// last contribution is not written again. Only the order of an activity's distinct
/// definitions decides its canonical definition, and no other contribution can have come after
/// it. Open edX and most LMSs send an activity's unchanged definition with every statement,
/// so after the first rounds a round writes no definitions at all, and compares each with the
/// last one instead of hashing it.
#[derive(Default)]
pub struct LastWritten {
    /// Activity id → its last definition written; held by the round whose [`Turn`] it is.
    last: tokio::sync::Mutex<HashMap<String, Value>>,
}

/// A round's turn to keep its definitions. Rounds must take their turns in the order of their
/// positions (a round takes it before the next round may write): a later round deciding first
/// could leave out a definition an earlier round is about to displace.
pub struct Turn<'a>(tokio::sync::MutexGuard<'a, HashMap<String, Value>>);

impl LastWritten {
    /// Waits for the rounds before to have kept their definitions.
    pub async fn turn(&self) -> Turn<'_> {
        Turn(self.last.lock().await)
    }
}

impl Turn<'_> {
    /// Writes the definitions `given` (activity, definition, position; a round's, in position
    /// order) with `keep`, leaving out those already their activity's last contribution;
    /// remembers what was written once it is.
    pub async fn keep<'a, F>(
        mut self,
        given: impl IntoIterator<Item = (&'a str, &'a Value, i64)>,
        keep: F,
    ) -> Result<(), StoreError>
    where
        F: AsyncFnOnce(Vec<Definition>) -> Result<(), StoreError>,
    {
        let (changed, now_last) = changed(&self.0, given);
        if changed.is_empty() {
            return Ok(());
        }
        if let Err(e) = keep(changed).await {
            // What was last written of these activities is no longer known: the refused
            // definitions wait and are written later, so a definition given again must be
            // written again rather than taken for the last.
            for activity in now_last.keys() {
                self.0.remove(activity);
            }
            return Err(e);
        }
        if self.0.len() + now_last.len() > REMEMBERED {
            self.0.clear();
        }
        self.0.extend(now_last);
        Ok(())
    }
}

/// Of `definitions` (in position order), those that differ from their activity's last
/// contribution according to `last` and those before them; and each changed activity's last
/// definition once they are written.
fn changed<'a>(
    last: &HashMap<String, Value>,
    given: impl IntoIterator<Item = (&'a str, &'a Value, i64)>,
) -> (Vec<Definition>, HashMap<String, Value>) {
    let mut now_last: HashMap<String, Value> = HashMap::new();
    let mut changed = Vec::new();
    for (activity, definition, stored) in given {
        let current = now_last.get(activity).or_else(|| last.get(activity));
        if current == Some(definition) {
            continue;
        }
        now_last.insert(activity.to_string(), definition.clone());
        changed.push(Definition {
            activity: activity.to_string(),
            definition: definition.clone(),
            stored,
        });
    }
    (changed, now_last)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn merged_in_full(all: &[Value]) -> Option<Value> {
        canonical(all.iter().cloned())
    }

    fn at(stored: i64) -> Definition {
        Definition {
            activity: "http://act".into(),
            definition: json!({"name": {"en": stored.to_string()}}),
            stored,
        }
    }

    #[tokio::test]
    async fn definitions_the_database_refused_wait_at_their_highest_position_until_it_takes_them() {
        let waiting = Waiting::default();
        waiting.add(vec![at(1), at(2)]);
        let refused = waiting
            .keep_again(async |_| Err(StoreError::Unavailable("down".into())))
            .await;
        assert!(!refused && waiting.len() == 2, "refused: they wait on");
        let mut again = at(1);
        again.stored = 5;
        waiting.add(vec![at(3), again]);
        assert_eq!(waiting.len(), 3, "one definition given twice waits once");
        let mut kept = Vec::new();
        let done = waiting
            .keep_again(async |d: Vec<Definition>| {
                kept = d.iter().map(|d| d.stored).collect();
                Ok(())
            })
            .await;
        assert!(done && waiting.is_empty());
        assert_eq!(kept, [2, 3, 5], "in position order, each at its highest");
    }

    #[tokio::test]
    async fn definitions_an_attempt_holds_still_count_as_waiting() {
        let waiting = Waiting::default();
        waiting.add(vec![at(1)]);
        waiting
            .keep_again(async |_| {
                assert_eq!(waiting.len(), 1, "held by the attempt");
                Ok(())
            })
            .await;
        assert!(waiting.is_empty());
    }

    #[test]
    fn one_task_at_a_time_tries_the_waiting_definitions_again() {
        let waiting = Waiting::default();
        assert!(waiting.start_retrying());
        assert!(!waiting.start_retrying(), "one runs");
        assert!(!waiting.stop_retrying(), "none waits: it ends");
        waiting.add(vec![at(1)]);
        assert!(waiting.start_retrying());
        assert!(
            waiting.stop_retrying(),
            "one was added as it ended: it goes on"
        );
        assert!(!waiting.start_retrying());
    }

    #[test]
    fn past_the_most_the_lowest_waiting_positions_are_given_up() {
        let waiting = Waiting::default();
        waiting.add((2..WAITING_MOST as i64 + 2).map(at).collect());
        waiting.add(vec![at(0), at(1)]);
        assert_eq!(waiting.len(), WAITING_MOST);
        let lowest = waiting
            .inner
            .lock()
            .ok()
            .and_then(|w| w.definitions.values().map(|d| d.stored).min());
        assert_eq!(lowest, Some(2), "positions 0 and 1 went");
    }

    #[tokio::test]
    async fn a_definition_the_database_refused_is_not_taken_for_its_activitys_last() {
        let last = LastWritten::default();
        let (w, x) = (json!({"name": {"en": "w"}}), json!({"name": {"en": "x"}}));
        let keep_all = async |_| Ok(());
        last.turn().await.keep([("a", &w, 1)], keep_all).await.ok();
        let refused = last
            .turn()
            .await
            .keep([("a", &x, 2)], async |_| {
                Err(StoreError::Unavailable("down".into()))
            })
            .await;
        assert!(refused.is_err());
        let mut written = Vec::new();
        last.turn()
            .await
            .keep([("a", &w, 3)], async |d: Vec<Definition>| {
                written = d;
                Ok(())
            })
            .await
            .ok();
        assert_eq!(
            written.len(),
            1,
            "w again is written: x, refused, waits and will land after the first w"
        );
    }

    #[test]
    fn merging_last_occurrences_gives_what_merging_every_occurrence_gives() {
        let a = json!({"name": {"en": "a"}, "type": "http://t/a"});
        let b = json!({"name": {"en": "b", "fr": "b"}, "extensions": {"http://x": 1}});
        let c = json!({"description": {"en": "c"}, "type": "http://t/c"});
        let sequence = [
            a.clone(),
            b.clone(),
            a.clone(),
            c.clone(),
            b.clone(),
            a.clone(),
        ];
        let definitions: Vec<Definition> = sequence
            .iter()
            .enumerate()
            .map(|(i, d)| Definition {
                activity: "http://act".into(),
                definition: d.clone(),
                stored: i as i64 + 1,
            })
            .collect();
        let kept = last_occurrences(definitions);
        assert_eq!(kept.len(), 3, "one row per distinct definition");
        let from_rows = canonical(kept.into_iter().map(|(_, d)| d.definition));
        assert_eq!(from_rows, merged_in_full(&sequence));
        assert_eq!(
            from_rows,
            Some(json!({
                "name": {"en": "a", "fr": "b"},
                "type": "http://t/a",
                "extensions": {"http://x": 1},
                "description": {"en": "c"}
            }))
        );
    }

    /// Definitions as a round gives them.
    fn as_given(definitions: &[Definition]) -> impl Iterator<Item = (&str, &Value, i64)> {
        definitions
            .iter()
            .map(|d| (d.activity.as_str(), &d.definition, d.stored))
    }

    /// The canonical definition of `activity` from contributions kept as a database keeps
    /// them: each key once, at the last position written.
    fn canonical_of(rows: &HashMap<String, Definition>, activity: &str) -> Option<Value> {
        let mut of: Vec<&Definition> = rows.values().filter(|d| d.activity == activity).collect();
        of.sort_by_key(|d| d.stored);
        canonical(of.into_iter().map(|d| d.definition.clone()))
    }

    #[tokio::test]
    async fn leaving_out_a_definition_still_last_for_its_activity_changes_no_canonical_definition()
    {
        let choices = [
            json!({"name": {"en": "a"}}),
            json!({"name": {"en": "b"}, "type": "http://t/b"}),
            json!({"description": {"en": "c"}}),
        ];
        let activities = ["http://one", "http://two"];
        let last = LastWritten::default();
        let mut every = HashMap::new();
        let mut kept = HashMap::new();
        let (mut written, mut given, mut seed, mut stored) = (0, 0, 7u64, 0i64);
        for _round in 0..300 {
            let mut round = Vec::new();
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            for i in 0..(seed >> 61) {
                let pick = (seed >> (8 * i + 8)) as usize;
                stored += 1;
                round.push(Definition {
                    activity: activities[pick % 2].into(),
                    definition: choices[(pick / 2) % 3].clone(),
                    stored,
                });
            }
            given += round.len();
            for (key, d) in last_occurrences(round.clone()) {
                every.insert(key, d);
            }
            last.turn()
                .await
                .keep(as_given(&round), async |changed: Vec<Definition>| {
                    written += changed.len();
                    for (key, d) in last_occurrences(changed) {
                        kept.insert(key, d);
                    }
                    Ok(())
                })
                .await
                .expect("keeps");
            for activity in activities {
                assert_eq!(
                    canonical_of(&kept, activity),
                    canonical_of(&every, activity),
                    "after {given} definitions given"
                );
            }
        }
        assert!(
            written < given,
            "a definition still last is left out: {written} written of {given}"
        );
    }

    #[tokio::test]
    async fn an_activity_defined_alike_by_every_round_is_written_once() {
        let last = LastWritten::default();
        let mut written = 0;
        for stored in 1..=10 {
            let d = Definition {
                activity: "http://one".into(),
                definition: json!({"name": {"en": "a"}}),
                stored,
            };
            last.turn()
                .await
                .keep(
                    as_given(&[d.clone(), d]),
                    async |changed: Vec<Definition>| {
                        written += changed.len();
                        Ok(())
                    },
                )
                .await
                .expect("keeps");
        }
        assert_eq!(written, 1);
    }

    #[tokio::test]
    async fn what_failed_to_be_written_is_written_again() {
        let last = LastWritten::default();
        let d = Definition {
            activity: "http://one".into(),
            definition: json!({"name": {"en": "a"}}),
            stored: 1,
        };
        let failed = last
            .turn()
            .await
            .keep(as_given(std::slice::from_ref(&d)), async |_| {
                Err(StoreError::Internal("down".into()))
            })
            .await;
        assert!(failed.is_err());
        let mut written = 0;
        last.turn()
            .await
            .keep(as_given(&[d]), async |changed: Vec<Definition>| {
                written = changed.len();
                Ok(())
            })
            .await
            .expect("keeps");
        assert_eq!(written, 1);
    }

    #[test]
    fn the_key_tells_activities_and_definitions_apart() {
        let d = json!({"name": {"en": "x"}});
        assert_ne!(
            contribution_key("http://a", &d),
            contribution_key("http://b", &d)
        );
        assert_ne!(
            contribution_key("http://a", &d),
            contribution_key("http://a", &json!({"name": {"en": "y"}}))
        );
        assert_eq!(contribution_key("http://a", &d).len(), 64);
    }
}
