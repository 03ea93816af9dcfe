//! Pages by agent read together: concurrent GETs by different agents, each a page the agent
//! index serves alone, share one query (`agent = a OR agent = b …`, `LIMIT n BY agent`). Most
//! of a page's engine CPU is the cost of any query and of each part it opens, not of its
//! rows: eight pages in one query cost the engine 8.5 ms against 3.6 each alone
//! (`bench/clickhouse-pages-together.sh`, bench/RESULTS.md, 2026-12-05).
//!
//! A task of the store's own takes the pages asked for while at most `clickhouse.page_queries`
//! queries are in progress and reads them together in the next, so a page alone is read at
//! once and pages asked together wait at most for the query before them. While the StatementRefs
//! table may hold rows, the query also leaves voided statements out and, as sets
//! ([`crate::references`]), names the agents with a match a StatementRef targets, whose pages
//! are read again alone with the sets' pairs; reading the table itself, it takes the
//! statements referring to each page's matches (`sql`).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use clickhouse::Row;
use serde::Deserialize;
use tokio::sync::{mpsc, oneshot, Semaphore};
use xlrs_store::StoreError;
use xlrs_xapi::query::StatementQuery;

use crate::query::{with_filters, with_sets};
use crate::references::Refs;
use crate::{failed, ClickHouse};

mod sql;

/// The most pages one query reads.
const MOST: usize = 32;

/// A page asked for: its query, how it takes the StatementRefs table into account, and where
/// its rows (position and body: the page's candidates, in no order) go.
struct Asked {
    q: StatementQuery,
    refs: Refs,
    answer: oneshot::Sender<Result<Vec<(i64, String)>, StoreError>>,
}

/// The way to the task reading pages by agent (see the module).
pub(crate) struct AgentPages {
    asks: mpsc::UnboundedSender<Asked>,
    /// Pages answered by a query of several (for /metrics).
    pub(crate) together: AtomicU64,
}

/// A row of a query of several pages: the agent whose page it belongs to, and what it is
/// (`sql::PAGE`, `sql::PAIR`, `sql::REFERRING`).
#[derive(Row, Deserialize)]
struct AgentRow {
    agent: String,
    stored: i64,
    body: String,
    kind: u8,
}

impl AgentPages {
    /// The way to a task not yet running ([`Pending::run`] starts it).
    pub(crate) fn new() -> (Self, Pending) {
        let (asks, pending) = mpsc::unbounded_channel();
        (
            Self {
                asks,
                together: AtomicU64::new(0),
            },
            Pending(pending),
        )
    }

    /// The rows of `q`'s page (`q` filters by one agent as actor or object, and by nothing
    /// the agent index does not hold; while the StatementRefs table may hold rows, `q` has no
    /// authority), read with the pages asked for meanwhile, taking the StatementRefs table
    /// into account as `refs` says: its candidates, in no order, for
    /// [`xlrs_store::page::merge_page`].
    pub(crate) async fn read(
        &self,
        q: &StatementQuery,
        refs: Refs,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let (answer, rows) = oneshot::channel();
        let gone = || StoreError::Internal("the reader of pages by agent has stopped".into());
        self.asks
            .send(Asked {
                q: q.clone(),
                refs,
                answer,
            })
            .map_err(|_| gone())?;
        rows.await.map_err(|_| gone())?
    }
}

/// The pages asked for before the task reading them starts.
pub(crate) struct Pending(mpsc::UnboundedReceiver<Asked>);

impl Pending {
    /// Starts the task reading pages for `database` while it is open, with at most `reading`
    /// queries in progress at once.
    pub(crate) fn run(self, database: &Arc<ClickHouse>, reading: usize) {
        let database: Weak<ClickHouse> = Arc::downgrade(database);
        let mut asks = self.0;
        tokio::spawn(async move {
            let reading = Arc::new(Semaphore::new(reading));
            // Pages taken but left for the next query (same agent as one in it, or the
            // other order).
            let mut held: VecDeque<Asked> = VecDeque::new();
            loop {
                let Ok(permit) = reading.clone().acquire_owned().await else {
                    return;
                };
                let first = match held.pop_front() {
                    Some(first) => first,
                    None => match asks.recv().await {
                        Some(first) => first,
                        None => return,
                    },
                };
                let mut taken = vec![first];
                let mut later = VecDeque::new();
                while taken.len() < MOST {
                    let next = match held.pop_front() {
                        Some(next) => next,
                        None => match asks.try_recv() {
                            Ok(next) => next,
                            Err(_) => break,
                        },
                    };
                    if fits(&taken, &next) {
                        taken.push(next);
                    } else {
                        later.push_back(next);
                    }
                }
                later.extend(held.drain(..));
                held = later;
                let Some(database) = database.upgrade() else {
                    return;
                };
                tokio::spawn(async move {
                    database.read_together(taken).await;
                    drop(permit);
                });
            }
        });
    }
}

/// Whether page `asked` can be read in the query of `taken`'s: in the same order, with a like
/// view of the StatementRefs table, and by another agent (rows are told apart by agent).
fn fits(taken: &[Asked], asked: &Asked) -> bool {
    taken.iter().all(|t| {
        t.q.ascending == asked.q.ascending && t.refs.same(&asked.refs) && t.q.agent != asked.q.agent
    })
}

impl ClickHouse {
    /// Reads the pages `taken` in one query and answers each; those with a match a
    /// StatementRef targets ([`sql::TARGETED`]) are read again, each alone, with
    /// [`Refs::Pairs`].
    async fn read_together(&self, mut taken: Vec<Asked>) {
        if taken.len() == 1 {
            // Alone, the page's own query: nesting the agents' pages in one costs the engine
            // a millisecond more, which pays only for two pages or more.
            if let Some(asked) = taken.pop() {
                self.read_alone(asked).await;
            }
            return;
        }
        self.agent_pages
            .together
            .fetch_add(taken.len() as u64, Ordering::Relaxed);
        let through = self.indexed.through();
        let past = self.indexed.past(through);
        // One view of the StatementRefs table per query ([`fits`]): the latest.
        let refs = taken
            .iter()
            .map(|a| a.refs.clone())
            .reduce(|r, a| r.latest(&a))
            .unwrap_or(Refs::None);
        let queries: Vec<&StatementQuery> = taken.iter().map(|a| &a.q).collect();
        let sql = sql::together_sql(&queries, &self.statements, through, past, &refs);
        let mut query = with_sets(self.client.query(&sql), &refs).with_setting("max_threads", "1");
        for (i, q) in queries.iter().enumerate() {
            query = with_filters(query, q, &i.to_string());
        }
        match query.fetch_all::<AgentRow>().await.map_err(failed) {
            Ok(rows) => {
                let (mut pages, targeted) = answers(rows);
                let mut again = Vec::new();
                for asked in taken {
                    let agent = asked.q.agent.as_ref();
                    if agent.is_some_and(|a| targeted.contains(a)) {
                        again.push(asked);
                        continue;
                    }
                    let rows = agent.and_then(|a| pages.remove(a)).unwrap_or_default();
                    let _ = asked.answer.send(Ok(rows));
                }
                for mut asked in again {
                    asked.refs = refs.pairs();
                    self.read_alone(asked).await;
                }
            }
            Err(e) => {
                for asked in taken {
                    let _ = asked.answer.send(Err(e.clone()));
                }
            }
        }
    }

    /// Reads page `asked` by its own query and answers it.
    async fn read_alone(&self, asked: Asked) {
        let rows = self
            .fetch(&asked.q, None, &asked.refs)
            .await
            .map(|rows| rows.into_iter().map(|r| (r.stored, r.body)).collect());
        let _ = asked.answer.send(rows);
    }
}

/// Each agent's candidates (position and body), by agent.
type Pages = HashMap<String, Vec<(i64, String)>>;

/// Each agent's candidates from the rows of a query of several pages (its page's rows, and
/// the statements its pairs name), and the agents with a targeted match.
fn answers(rows: Vec<AgentRow>) -> (Pages, HashSet<String>) {
    let mut pages = Pages::new();
    let mut targeted = HashSet::new();
    let mut pairs: Vec<(String, i64)> = Vec::new();
    let mut bodies: HashMap<i64, String> = HashMap::new();
    for row in rows {
        match row.kind {
            sql::TARGETED => {
                targeted.insert(row.agent);
            }
            sql::PAIR => pairs.push((row.agent, row.stored)),
            sql::REFERRING => {
                bodies.insert(row.stored, row.body);
            }
            _ => pages
                .entry(row.agent)
                .or_default()
                .push((row.stored, row.body)),
        }
    }
    for (agent, stored) in pairs {
        if let Some(body) = bodies.get(&stored) {
            pages.entry(agent).or_default().push((stored, body.clone()));
        }
    }
    (pages, targeted)
}

/// A page of 10 by `agent`.
#[cfg(test)]
pub(crate) fn by(agent: &str) -> StatementQuery {
    StatementQuery {
        agent: Some(agent.into()),
        limit: 10,
        ..StatementQuery::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::references::RefSets;

    fn asked(q: StatementQuery, refs: Refs) -> Asked {
        let (answer, _) = oneshot::channel();
        Asked { q, refs, answer }
    }

    #[test]
    fn a_page_joins_a_query_only_in_its_order_with_its_view_of_references_and_by_another_agent() {
        let taken = [asked(by("a"), Refs::None)];
        assert!(fits(&taken, &asked(by("b"), Refs::None)));
        assert!(
            !fits(&taken, &asked(by("a"), Refs::None)),
            "rows are told apart by agent"
        );
        let ascending = StatementQuery {
            ascending: true,
            ..by("b")
        };
        assert!(
            !fits(&taken, &asked(ascending, Refs::None)),
            "one order per query"
        );
        assert!(
            !fits(&taken, &asked(by("b"), Refs::Tables)),
            "one view of StatementRefs per query"
        );
        let read = |read| {
            Refs::Sets(Arc::new(RefSets {
                read,
                ..RefSets::default()
            }))
        };
        let taken = [asked(by("a"), read(1))];
        assert!(fits(&taken, &asked(by("b"), read(2))));
        assert!(!fits(&taken, &asked(by("b"), Refs::Tables)));
        assert!(
            matches!(read(1).latest(&read(2)), Refs::Sets(s) if s.read == 2),
            "the query takes the sets of the later read: they serve both pages"
        );
    }

    #[test]
    fn a_statement_referring_to_two_agents_matches_is_a_candidate_of_both_pages() {
        let row = |agent: &str, stored, body: &str, kind| AgentRow {
            agent: agent.into(),
            stored,
            body: body.into(),
            kind,
        };
        let (pages, targeted) = answers(vec![
            row("a", 3, "a3", sql::PAGE),
            row("b", 2, "b2", sql::PAGE),
            row("a", 9, "", sql::PAIR),
            row("b", 9, "", sql::PAIR),
            row("b", 8, "", sql::PAIR),
            row("", 9, "r9", sql::REFERRING),
        ]);
        assert_eq!(pages["a"], [(3, "a3".to_string()), (9, "r9".to_string())]);
        assert_eq!(
            pages["b"],
            [(2, "b2".to_string()), (9, "r9".to_string())],
            "a pair whose statement was not read (voided meanwhile) names nothing"
        );
        assert!(targeted.is_empty());
    }

    #[test]
    fn an_agent_with_a_targeted_match_is_told_apart_from_its_page() {
        let (pages, targeted) = answers(vec![
            AgentRow {
                agent: "a".into(),
                stored: 3,
                body: "a3".into(),
                kind: sql::PAGE,
            },
            AgentRow {
                agent: "b".into(),
                stored: 0,
                body: String::new(),
                kind: sql::TARGETED,
            },
        ]);
        assert_eq!(pages["a"], [(3, "a3".to_string())]);
        assert!(!pages.contains_key("b"), "no candidate of b from this row");
        assert_eq!(targeted, HashSet::from(["b".to_string()]));
    }
}
