//! Pages by agent read together: concurrent GETs by different agents, each a page the agent
//! index serves alone, share one query (`agent = a OR agent = b …`, `LIMIT n BY agent`). Most
//! of a page's engine CPU is the cost of any query and of each part it opens, not of its
//! rows: eight pages in one query cost the engine 8.5 ms against 3.6 each alone
//! (`bench/clickhouse-pages-together.sh`, bench/RESULTS.md, 2026-12-05).
//!
//! A task of the store's own takes the pages asked for while at most [`READING`] queries are
//! in progress and reads them together in the next, so a page alone is read at once and
//! pages asked together wait at most for the query before them.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use clickhouse::Row;
use serde::Deserialize;
use tokio::sync::{mpsc, oneshot, Semaphore};
use xlrs_store::StoreError;
use xlrs_xapi::query::StatementQuery;

use crate::query::stored_range;
use crate::{failed, ClickHouse};

/// Queries of pages in progress at once, per process (one per engine core here: each runs
/// on one engine thread).
const READING: usize = 2;
/// The most pages one query reads.
const MOST: usize = 32;

/// A page asked for: its query, and where its rows (position and body, in the page's order,
/// at most `limit + 1`) go.
struct Asked {
    q: StatementQuery,
    answer: oneshot::Sender<Result<Vec<(i64, String)>, StoreError>>,
}

/// The way to the task reading pages by agent (see the module).
pub(crate) struct AgentPages {
    asks: mpsc::UnboundedSender<Asked>,
    /// Pages answered by a query of several (for /metrics).
    pub(crate) together: AtomicU64,
}

/// A row of a query of several pages: the agent whose page it belongs to.
#[derive(Row, Deserialize)]
struct AgentRow {
    agent: String,
    stored: i64,
    body: String,
}

impl AgentPages {
    /// The way to a task not yet running ([`AgentPages::run`] starts it).
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
    /// the agent index does not hold), read with the pages asked for meanwhile.
    pub(crate) async fn read(&self, q: &StatementQuery) -> Result<Vec<(i64, String)>, StoreError> {
        let (answer, rows) = oneshot::channel();
        let gone = || StoreError::Internal("the reader of pages by agent has stopped".into());
        self.asks
            .send(Asked {
                q: q.clone(),
                answer,
            })
            .map_err(|_| gone())?;
        rows.await.map_err(|_| gone())?
    }
}

/// The pages asked for before the task reading them starts.
pub(crate) struct Pending(mpsc::UnboundedReceiver<Asked>);

impl Pending {
    /// Starts the task reading pages for `database` while it is open.
    pub(crate) fn run(self, database: &Arc<ClickHouse>) {
        let database: Weak<ClickHouse> = Arc::downgrade(database);
        let mut asks = self.0;
        tokio::spawn(async move {
            let reading = Arc::new(Semaphore::new(READING));
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
                    if fits(&taken, &next.q) {
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

/// Whether a page of `q` can be read in the query of `taken`'s: in the same order, and by
/// another agent (rows are told apart by agent).
fn fits(taken: &[Asked], q: &StatementQuery) -> bool {
    taken
        .iter()
        .all(|t| t.q.ascending == q.ascending && t.q.agent != q.agent)
}

impl ClickHouse {
    /// Reads the pages `taken` in one query and answers each.
    async fn read_together(&self, mut taken: Vec<Asked>) {
        if taken.len() == 1 {
            // Alone, the page's own query: nesting the agents' pages in one costs the engine
            // a millisecond more, which pays only for two pages or more.
            if let Some(asked) = taken.pop() {
                let rows = self
                    .fetch(&asked.q, None, false)
                    .await
                    .map(|rows| rows.into_iter().map(|r| (r.stored, r.body)).collect());
                let _ = asked.answer.send(rows);
            }
            return;
        }
        self.agent_pages
            .together
            .fetch_add(taken.len() as u64, Ordering::Relaxed);
        let through = self.indexed.through();
        let past = self.indexed.past(through);
        let queries: Vec<&StatementQuery> = taken.iter().map(|a| &a.q).collect();
        let mut query = self
            .client
            .query(&together_sql(&queries, &self.statements, through, past))
            .with_setting("max_threads", "1");
        for (i, q) in queries.iter().enumerate() {
            query = query.param(&format!("a{i}"), q.agent.as_deref().unwrap_or_default());
            if let Some(verb) = &q.verb {
                query = query.param(&format!("v{i}"), verb);
            }
            if let Some(registration) = &q.registration {
                query = query.param(&format!("r{i}"), registration);
            }
            if let Some(authority) = &q.authority {
                query = query.param(&format!("u{i}"), authority);
            }
        }
        match query.fetch_all::<AgentRow>().await.map_err(failed) {
            Ok(rows) => {
                let mut pages: HashMap<String, Vec<(i64, String)>> = HashMap::new();
                for row in rows {
                    pages
                        .entry(row.agent)
                        .or_default()
                        .push((row.stored, row.body));
                }
                for asked in taken {
                    let mut rows = asked
                        .q
                        .agent
                        .as_ref()
                        .and_then(|agent| pages.remove(agent))
                        .unwrap_or_default();
                    rows.truncate(asked.q.limit + 1);
                    let _ = asked.answer.send(Ok(rows));
                }
            }
            Err(e) => {
                for asked in taken {
                    let _ = asked.answer.send(Err(e.clone()));
                }
            }
        }
    }
}

/// The SQL of the pages of `queries` (each by another agent, all in one order) from the agent
/// index through `indexed` and, when there may be rows `past` it, from the statements table
/// past it: each agent's rows (parameters `a{i}`, `v{i}`, `r{i}`, `u{i}` of the i-th query),
/// in the page's order, at most the longest page's limit plus one.
fn together_sql(queries: &[&StatementQuery], t: &str, indexed: i64, past: bool) -> String {
    let order = if queries.first().is_some_and(|q| q.ascending) {
        "ASC"
    } else {
        "DESC"
    };
    let limit = queries.iter().map(|q| q.limit).max().unwrap_or(0) + 1;
    let pages = queries
        .iter()
        .enumerate()
        .map(|(i, q)| page_condition(i, q))
        .collect::<Vec<_>>()
        .join(" OR ");
    // The newest version of each of the agents' index rows.
    let mut rows = format!(
        "SELECT agent, stored, body FROM {t}_by_agent \
         WHERE direct = 1 AND stored <= {indexed} AND ({pages}) \
         ORDER BY agent, stored, written DESC LIMIT 1 BY agent, stored"
    );
    if past {
        let agents = (0..queries.len())
            .map(|i| format!("{{a{i}:String}}"))
            .collect::<Vec<_>>()
            .join(", ");
        rows.push_str(&format!(
            " UNION ALL SELECT agent, stored, body FROM (\
             SELECT arrayJoin(arrayIntersect(direct_agents, [{agents}])) AS agent, stored, body, \
             verb, registration, authority FROM {t} \
             WHERE stored > {indexed} AND hasAny(direct_agents, [{agents}])) WHERE {pages}"
        ));
    }
    format!("SELECT agent, stored, body FROM ({rows}) ORDER BY agent, stored {order} LIMIT {limit} BY agent")
}

/// The conditions of the i-th query's page on a row holding its agent, verb, registration,
/// authority and position.
fn page_condition(i: usize, q: &StatementQuery) -> String {
    let mut c = format!("(agent = {{a{i}:String}}");
    if q.verb.is_some() {
        c.push_str(&format!(" AND verb = {{v{i}:String}}"));
    }
    if q.registration.is_some() {
        c.push_str(&format!(" AND registration = {{r{i}:String}}"));
    }
    for range in stored_range(q) {
        c.push_str(" AND ");
        c.push_str(&range);
    }
    if q.authority.is_some() {
        c.push_str(&format!(" AND authority = {{u{i}:String}}"));
    }
    c.push(')');
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by(agent: &str) -> StatementQuery {
        StatementQuery {
            agent: Some(agent.into()),
            limit: 10,
            ..StatementQuery::default()
        }
    }

    #[test]
    fn a_page_joins_a_query_only_in_its_order_and_by_another_agent() {
        let (answer, _) = oneshot::channel();
        let taken = [Asked { q: by("a"), answer }];
        assert!(fits(&taken, &by("b")));
        assert!(!fits(&taken, &by("a")), "rows are told apart by agent");
        let ascending = StatementQuery {
            ascending: true,
            ..by("b")
        };
        assert!(!fits(&taken, &ascending), "one order per query");
    }

    #[test]
    fn each_page_keeps_its_own_filters_and_the_query_reads_the_longest() {
        let q0 = StatementQuery {
            verb: Some("v".into()),
            after: Some(42),
            ..by("a")
        };
        let q1 = StatementQuery {
            limit: 100,
            registration: Some("r".into()),
            authority: Some("u".into()),
            since: Some(7),
            ..by("b")
        };
        let sql = together_sql(&[&q0, &q1], "s", 1000, false);
        assert!(sql.contains("(agent = {a0:String} AND verb = {v0:String} AND stored < 42)"));
        assert!(sql.contains(
            "(agent = {a1:String} AND registration = {r1:String} AND stored > 7 AND authority = {u1:String})"
        ));
        assert!(sql.ends_with("ORDER BY agent, stored DESC LIMIT 101 BY agent"));
        assert!(!sql.contains("UNION"), "nothing past the index to read");
        let past = together_sql(&[&q0, &q1], "s", 1000, true);
        assert!(past.contains(
            "FROM s WHERE stored > 1000 AND hasAny(direct_agents, [{a0:String}, {a1:String}])"
        ));
    }
}
