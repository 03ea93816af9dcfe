//! Statement queries as SQL: the agent and activity filters through their index tables, the
//! voided set and StatementRefs through theirs, the rest on the statements table, and the
//! statements referring to matches in the same round trip.

use clickhouse::query::Query;
use clickhouse::Row;
use serde::Deserialize;
use xlrs_store::page::merge_page;
use xlrs_store::{Page, StoreError};
use xlrs_xapi::query::StatementQuery;

use crate::references::Refs;
use crate::{failed, ClickHouse};

/// A row of a page's answer: a statement (its position and body) matching the filters itself
/// or referring to one that does, or the count of the positions in the first index filter's
/// window.
#[derive(Row, Deserialize)]
pub(crate) struct Found {
    /// The statement's position.
    pub(crate) stored: i64,
    /// The statement.
    pub(crate) body: String,
    kind: u8,
    windowed: u64,
}

/// [`Found::kind`] of a statement matching the filters itself.
const DIRECT: u8 = 1;
/// [`Found::kind`] of the row counting the window's positions (in `windowed`).
const WINDOW: u8 = 2;
/// [`Found::kind`] of a row saying a StatementRef targets one of the page's matches (with
/// [`Refs::Sets`]: the page is then read again with [`Refs::Pairs`]).
const TARGETED: u8 = 3;

/// The positions the first index filter (agent, else activity) hands the statements table:
/// at most this many times the page (plus one), the newest (or oldest) first. Reading a page
/// of 100 of one agent's 5,000 statements then costs 12.9 ms instead of 19.2 (1,000,000
/// statements; bench/RESULTS.md). The page is complete when it fills or the window held
/// fewer positions than it could; otherwise it is read again without a window.
const WINDOW_PAGES: usize = 2;

impl ClickHouse {
    /// A page of the statements matching `q`, with those whose StatementRef targets one.
    pub(crate) async fn query_page(&self, q: &StatementQuery) -> Result<Page, StoreError> {
        let window = (q.limit + 1) * WINDOW_PAGES;
        let refs = if takes_references(q) {
            self.refs().await?
        } else {
            Refs::None
        };
        let alone = refs.any() && (q.authority.is_some() || q.include_voided);
        if !alone && self.indexed.serves_bodies() && by_direct_agent(q) {
            // Read with the other pages by agent asked for meanwhile (crate::agent_pages).
            let rows = self.agent_pages.read(q, refs).await?;
            let rows = rows.into_iter().map(|(s, body)| (s, s, body)).collect();
            return Ok(merge_page(q, rows, Vec::new()));
        }
        let rows = self.fetch(q, Some(window), &refs).await?;
        let direct = rows.iter().filter(|r| r.kind == DIRECT).count();
        let windowed = rows.iter().find(|r| r.kind == WINDOW).map(|r| r.windowed);
        // Filters past the window's (verb, voided, another index filter) may have left the
        // page short while older candidates exist: read it again without a window. A window
        // that held fewer positions than it could held every candidate.
        let short = direct <= q.limit && windowed.is_some_and(|w| w as usize >= window);
        let rows = if short {
            self.fetch(q, None, &refs).await?
        } else {
            rows
        };
        let rows = rows
            .into_iter()
            .filter(|r| r.kind != WINDOW)
            .map(|r| (r.stored, r.stored, r.body))
            .collect();
        Ok(merge_page(q, rows, Vec::new()))
    }

    /// Reads the page of `q` ([`page_sql`], with `window`) with the parameters of its filters,
    /// taking the StatementRefs table into account as `refs` says (a page by agent with a
    /// targeted match among [`Refs::Sets`] is read again with [`Refs::Pairs`]).
    pub(crate) async fn fetch(
        &self,
        q: &StatementQuery,
        window: Option<usize>,
        refs: &Refs,
    ) -> Result<Vec<Found>, StoreError> {
        let rows = self.fetch_once(q, window, refs).await?;
        if rows.iter().any(|r| r.kind == TARGETED) {
            return self.fetch_once(q, window, &refs.pairs()).await;
        }
        Ok(rows)
    }

    /// [`ClickHouse::fetch`], one query.
    async fn fetch_once(
        &self,
        q: &StatementQuery,
        window: Option<usize>,
        refs: &Refs,
    ) -> Result<Vec<Found>, StoreError> {
        let through = self.indexed.through();
        let (sql, narrow) = if self.indexed.serves_bodies() && by_direct_agent(q) {
            (
                agent_page_sql(
                    q,
                    &self.statements,
                    through,
                    self.indexed.past(through),
                    refs,
                ),
                true,
            )
        } else {
            page_sql(q, &self.statements, window, through, refs)
        };
        let mut query = with_sets(with_filters(self.client.query(&sql), q, ""), refs);
        if narrow {
            // A windowed page, or one from the agent index, reads a few hundred rows: one
            // engine thread does it with less CPU than several (15.6 against 19.4 ms a page at
            // 1,000,000 statements), which concurrent GETs share.
            query = query.with_setting("max_threads", "1");
        }
        query.fetch_all().await.map_err(failed)
    }
}

/// Whether the page of `q` depends on the StatementRefs table: it leaves voided statements
/// out, or it filters (the StatementRef rule). A page of every statement, voided ones too,
/// does not, so it spares the read of the sets.
fn takes_references(q: &StatementQuery) -> bool {
    !q.include_voided || !filter_conditions(q, None, None).conditions.is_empty()
}

/// `query` with the values of `q`'s filters as its parameters `agent`, `verb`, `activity`,
/// `registration` and `authority`, each name followed by `suffix` (a query of several pages
/// numbers each page's).
pub(crate) fn with_filters(mut query: Query, q: &StatementQuery, suffix: &str) -> Query {
    for (name, value) in [
        ("agent", &q.agent),
        ("verb", &q.verb),
        ("activity", &q.activity),
        ("registration", &q.registration),
        ("authority", &q.authority),
    ] {
        if let Some(value) = value {
            query = query.param(&format!("{name}{suffix}"), value);
        }
    }
    query
}

/// `query` with the sets of [`Refs::Sets`] as the parameters its SQL may name: `voided`,
/// `targets`, and the pairs `referring` (positions) and `referred` (their targets).
pub(crate) fn with_sets(query: Query, refs: &Refs) -> Query {
    match refs.sets() {
        Some(sets) => query
            .param("voided", &sets.voided)
            .param("targets", &sets.targets)
            .param("referring", &sets.referring)
            .param("referred", &sets.referred),
        None => query,
    }
}

/// The condition that a statement's position is one whose StatementRef targets an id in `m`,
/// the ids `SELECT groupArray(id) AS m FROM {source}` finds: from the sets' pairs
/// ([`with_sets`]), without reading the StatementRefs table.
fn referring_from_pairs(source: &str) -> String {
    format!(
        "stored IN (SELECT arrayJoin(arrayFilter((s, g) -> has(m, g), {{referring:Array(Int64)}}, \
         {{referred:Array(UUID)}})) FROM (SELECT groupArray(id) AS m FROM {source}))"
    )
}

/// The condition leaving voided statements out, as `refs` knows them (none: empty).
pub(crate) fn voided_condition(table: &str, refs: &Refs) -> Option<String> {
    match refs {
        Refs::None => None,
        Refs::Tables => Some(format!(
            "id NOT IN (SELECT target FROM {table}_refs WHERE voiding = 1)"
        )),
        Refs::Sets(sets) | Refs::Pairs(sets) if sets.voided.is_empty() => None,
        Refs::Sets(_) | Refs::Pairs(_) => Some("NOT has({voided:Array(UUID)}, id)".into()),
    }
}

/// Whether `q` filters by an agent as actor or object (not `related_agents`), and not by an
/// activity: a page the agent index holding bodies serves alone.
fn by_direct_agent(q: &StatementQuery) -> bool {
    q.agent.is_some() && !q.related_agents && q.activity.is_none()
}

/// The SQL of a page [`by_direct_agent`] from an agent index holding bodies (through
/// `indexed`, see [`crate::indexer`]): the statements matching `q` themselves, from the
/// agent's index rows (the newest version of each position, in key order: one or two
/// granules) and, when there may be rows `past` it, from the statements table past
/// `indexed`; while the StatementRefs table may hold rows (`refs`), voided statements left out
/// and those whose StatementRef targets a match, found by the ids of the same rows (in the
/// table, [`Refs::Tables`], or the sets' pairs, [`Refs::Pairs`]); with [`Refs::Sets`], a
/// [`TARGETED`] row instead when a match is a target.
fn agent_page_sql(q: &StatementQuery, t: &str, indexed: i64, past: bool, refs: &Refs) -> String {
    let order = if q.ascending { "ASC" } else { "DESC" };
    let limit = q.limit + 1;
    let and = |conditions: &[String]| -> String {
        conditions.iter().map(|c| format!(" AND {c}")).collect()
    };
    // Conditions of the statement matching the filters (the index rows hold their columns),
    // and of the statement returned.
    let mut matching = Vec::new();
    if q.verb.is_some() {
        matching.push("verb = {verb:String}".to_string());
    }
    if q.registration.is_some() {
        matching.push("registration = {registration:String}".to_string());
    }
    let matching = and(&matching);
    let returned = and(&window_conditions(q, t, refs));
    let index = format!(
        "{t}_by_agent WHERE agent = {{agent:String}} AND direct = 1 AND stored <= {indexed}{matching}"
    );
    let tail =
        format!("{t} WHERE stored > {indexed} AND has(direct_agents, {{agent:String}}){matching}");
    let columns = format!("stored, body, toUInt8({DIRECT}) AS kind, toUInt64(0) AS windowed");
    let newest_first =
        format!("ORDER BY stored {order}, written DESC LIMIT 1 BY stored LIMIT {limit}");
    // Without a tail, the index's rows are the page: one SELECT (a query nested in another
    // cost the engine 1 ms more of a 5 ms page; bench/RESULTS.md, 2026-12-04 21:50).
    let (direct, ids) = if past {
        (
            format!(
                "SELECT {columns} FROM (SELECT stored, body FROM {index}{returned} {newest_first} \
                 UNION ALL SELECT stored, body FROM {tail}{returned} \
                 ORDER BY stored {order} LIMIT {limit}) ORDER BY stored {order} LIMIT {limit}"
            ),
            format!("SELECT id FROM {index} UNION ALL SELECT id FROM {tail}"),
        )
    } else {
        (
            format!("SELECT {columns} FROM {index}{returned} {newest_first}"),
            format!("SELECT id FROM {index}"),
        )
    };
    let referring = match refs {
        Refs::None => return direct,
        Refs::Sets(_) => {
            // Whether a StatementRef targets one of the matches: the page is then read
            // again with the StatementRef rule.
            return format!(
                "SELECT * FROM ({direct}) UNION ALL SELECT toInt64(0), '', toUInt8({TARGETED}), \
                 toUInt64(0) FROM ({ids}) WHERE has({{targets:Array(UUID)}}, id) LIMIT 1"
            );
        }
        // The positions referring to a match, from the sets' pairs (as in [`page_sql`]).
        Refs::Pairs(_) => format!(
            "SELECT stored, body, toUInt8(0) AS kind, toUInt64(0) AS windowed FROM {t} \
             WHERE {}{returned}{}",
            referring_from_pairs(&format!("({ids}) WHERE has({{targets:Array(UUID)}}, id)")),
            order_limit(q)
        ),
        // As in [`page_sql`]: the guard spares the engine the sets while there are none.
        Refs::Tables => format!(
            "SELECT stored, body, toUInt8(0) AS kind, toUInt64(0) AS windowed FROM {t} \
             WHERE (SELECT count() FROM {t}_refs) > 0 AND stored IN (\
             SELECT stored FROM {t}_refs WHERE target IN ({ids})){returned}{}",
            order_limit(q)
        ),
    };
    format!("SELECT * FROM ({direct}) UNION ALL SELECT * FROM ({referring})")
}

/// The page's SQL: the statements matching `q` themselves, and (when `q` filters and the
/// StatementRefs table may hold rows, `refs`) those whose StatementRef targets one, in one
/// round trip. With `window`, the first index filter (if any) hands over at most that many
/// positions (see [`WINDOW_PAGES`]); whether one did. The index tables hold every row through
/// `indexed` (see [`crate::indexer`]).
fn page_sql(
    q: &StatementQuery,
    t: &str,
    window: Option<usize>,
    indexed: i64,
    refs: &Refs,
) -> (String, bool) {
    let conditions = window_conditions(q, t, refs);
    let filters = filter_conditions(q, Some((t, indexed)), window);
    let mut direct = format!(
        "SELECT stored, body, toUInt8({DIRECT}) AS kind, toUInt64(0) AS windowed FROM {t} WHERE 1"
    );
    for c in filters.conditions.iter().chain(&conditions) {
        direct.push_str(" AND ");
        direct.push_str(c);
    }
    direct.push_str(&order_limit(q));
    let plain = filter_conditions(q, None, None).conditions;
    if plain.is_empty() {
        return (direct, false);
    }
    let matched = |head: &str| -> String {
        let mut matched = head.to_string();
        for c in &plain {
            matched.push_str(" AND ");
            matched.push_str(c);
        }
        matched
    };
    // Statements whose StatementRef targets a statement matching the filters match too
    // (xAPI "Filter Conditions for StatementRefs"): the targets come from the StatementRefs
    // table (few rows), so this costs next to nothing while references are few; while there
    // are none, the guards spare the engine a search of every granule for an empty set (the
    // inner one) and the sets' planning (the outer one: 1 ms of a 20 ms page at 1,500,000
    // statements, bench/RESULTS.md).
    // With the table's rows as sets, the positions of the statements referring to a match
    // come from the sets' pairs: no read of the table (bench/RESULTS.md, 2026-12-05 13:15).
    let mut referring = match refs {
        Refs::Sets(_) | Refs::Pairs(_) => format!(
            "SELECT stored, body, toUInt8(0) AS kind, toUInt64(0) AS windowed FROM {t}
             WHERE {}",
            referring_from_pairs(&matched(&format!(
                "{t} WHERE id IN {{targets:Array(UUID)}}"
            )))
        ),
        _ => format!(
            "SELECT stored, body, toUInt8(0) AS kind, toUInt64(0) AS windowed FROM {t}
             WHERE (SELECT count() FROM {t}_refs) > 0 AND stored IN (
                SELECT stored FROM {t}_refs WHERE target IN ({}))",
            matched(&format!(
                "SELECT id FROM {t} WHERE (SELECT count() FROM {t}_refs) > 0 \
                 AND id IN (SELECT target FROM {t}_refs)"
            ))
        ),
    };
    for c in &conditions {
        referring.push_str(" AND ");
        referring.push_str(c);
    }
    referring.push_str(&order_limit(q));
    let both = if refs.any() {
        format!("SELECT * FROM ({direct}) UNION ALL SELECT * FROM ({referring})")
    } else {
        direct
    };
    match filters.window {
        // The window (a scalar, computed once) and a row with its count, so a short page
        // from a window that held every candidate is not read again.
        Some(win) => (
            format!(
                "WITH {win} AS win {both} UNION ALL \
                 SELECT toInt64(0), '', toUInt8({WINDOW}), length(win)"
            ),
            true,
        ),
        None => (both, false),
    }
}

/// A query's filter conditions, and the window the first index filter's positions come from.
struct Filters {
    /// Conditions on the statement's row, with parameters.
    conditions: Vec<String>,
    /// A scalar subquery: the array of the first index filter's positions in the window.
    window: Option<String>,
}

/// Conditions of the query's filters (agent, verb, activity, registration), with parameters.
/// With `indexed` (the statements table and the position through which its index tables hold
/// every row), agents and activities are looked up in their index tables, ordered by key then
/// `stored`, and in the rows past that position, limited to the query's `stored` range, the
/// first of them to `window` positions when given, and tested again on the row (the index
/// filled behind the writes hands over candidates); otherwise (few rows to test) they are
/// tested on the row alone.
fn filter_conditions(
    q: &StatementQuery,
    indexed: Option<(&str, i64)>,
    window: Option<usize>,
) -> Filters {
    let mut conds = Vec::new();
    let mut windowed = None;
    let range: String = stored_range(q)
        .iter()
        .map(|c| format!(" AND {c}"))
        .collect();
    let order = if q.ascending { "ASC" } else { "DESC" };
    let mut lookup = |kind: &str, list: &str, related: bool| {
        let direct = if related { "" } else { " AND direct = 1" };
        let on_row = if related {
            format!("has({list}, {{{kind}:String}})")
        } else {
            format!("has(direct_{list}, {{{kind}:String}})")
        };
        let Some((t, through)) = indexed else {
            return on_row;
        };
        // Filled behind the writes: rows past `through` are not in the index yet.
        let behind_writes = through < i64::MAX;
        let mut positions = format!(
            "SELECT stored FROM {t}_by_{kind} WHERE {kind} = {{{kind}:String}}{direct}{range}"
        );
        if behind_writes {
            positions = format!(
                "SELECT DISTINCT stored FROM ({positions} UNION ALL \
                 SELECT stored FROM {t} WHERE stored > {through} AND {on_row}{range})"
            );
        }
        let candidates = match window {
            Some(n) if windowed.is_none() => {
                windowed = Some(format!(
                    "(SELECT groupArray(stored) FROM ({positions} ORDER BY stored {order} LIMIT {n}))"
                ));
                "stored IN (SELECT arrayJoin(win))".to_string()
            }
            _ => format!("stored IN ({positions})"),
        };
        if behind_writes {
            format!("{candidates} AND {on_row}")
        } else {
            candidates
        }
    };
    if q.agent.is_some() {
        conds.push(lookup("agent", "agents", q.related_agents));
    }
    if q.activity.is_some() {
        conds.push(lookup("activity", "activities", q.related_activities));
    }
    if q.verb.is_some() {
        conds.push("verb = {verb:String}".into());
    }
    if q.registration.is_some() {
        conds.push("registration = {registration:String}".into());
    }
    Filters {
        conditions: conds,
        window: windowed,
    }
}

/// The query's bounds on `stored`: time window and cursor.
pub(crate) fn stored_range(q: &StatementQuery) -> Vec<String> {
    let mut conds = Vec::new();
    if let Some(since) = q.since {
        conds.push(format!("stored > {since}"));
    }
    if let Some(until) = q.until {
        conds.push(format!("stored <= {until}"));
    }
    if let Some(after) = q.after {
        conds.push(format!(
            "stored {} {after}",
            if q.ascending { ">" } else { "<" }
        ));
    }
    conds
}

/// Conditions on the returned statement itself: not voided (as `refs` knows them), time
/// window, cursor, authority.
fn window_conditions(q: &StatementQuery, table: &str, refs: &Refs) -> Vec<String> {
    let mut conds = Vec::new();
    if !q.include_voided {
        conds.extend(voided_condition(table, refs));
    }
    conds.extend(stored_range(q));
    if q.authority.is_some() {
        conds.push("authority = {authority:String}".into());
    }
    conds
}

fn order_limit(q: &StatementQuery) -> String {
    format!(
        " ORDER BY stored {} LIMIT {}",
        if q.ascending { "ASC" } else { "DESC" },
        q.limit + 1
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::agent_pages::by;
    use crate::references::RefSets;

    /// Sets of one voided statement `v` and a target `t`, each referred to once.
    fn sets() -> Refs {
        Refs::Sets(Arc::new(RefSets {
            voided: vec!["v".into()],
            targets: vec!["v".into(), "t".into()],
            referring: vec![7, 8],
            referred: vec!["v".into(), "t".into()],
            read: 1,
        }))
    }

    #[test]
    fn only_a_page_of_every_statement_voided_ones_too_takes_no_references() {
        let every = StatementQuery {
            include_voided: true,
            ..StatementQuery::default()
        };
        assert!(!takes_references(&every));
        let filtered = StatementQuery {
            verb: Some("http://adlnet.gov/expapi/verbs/voided".into()),
            ..every.clone()
        };
        assert!(takes_references(&filtered), "the StatementRef rule");
        assert!(
            takes_references(&StatementQuery::default()),
            "voided statements left out"
        );
    }

    #[test]
    fn a_filtered_page_with_the_references_as_sets_takes_the_referring_positions_from_the_pairs() {
        let q = StatementQuery {
            verb: Some("http://example.org/v".into()),
            limit: 10,
            ..StatementQuery::default()
        };
        let (sql, _) = page_sql(&q, "s", None, 1000, &sets());
        assert!(!sql.contains("_refs"), "the table is not read: {sql}");
        assert!(sql.contains("NOT has({voided:Array(UUID)}, id)"));
        assert!(sql.contains(
            "arrayFilter((s, g) -> has(m, g), {referring:Array(Int64)}, {referred:Array(UUID)})"
        ));
        assert!(sql.contains(
            "SELECT groupArray(id) AS m FROM s WHERE id IN {targets:Array(UUID)} AND verb = {verb:String}"
        ));
        let (tables, _) = page_sql(&q, "s", None, 1000, &Refs::Tables);
        assert!(tables.contains("SELECT stored FROM s_refs WHERE target IN"));
        let (none, _) = page_sql(&q, "s", None, 1000, &Refs::None);
        assert!(!none.contains("UNION"));
    }

    #[test]
    fn a_page_by_agent_with_the_references_as_sets_reads_no_statement_refs_table_and_flags_a_targeted_match(
    ) {
        let sets = sets();
        let sql = agent_page_sql(&by("a"), "s", 1000, false, &sets);
        assert!(!sql.contains("_refs"));
        assert!(sql.contains("NOT has({voided:Array(UUID)}, id)"));
        assert!(sql.contains(&format!(
            "toUInt8({TARGETED}), toUInt64(0) FROM (SELECT id FROM s_by_agent WHERE agent = {{agent:String}} AND direct = 1 AND stored <= 1000) WHERE has({{targets:Array(UUID)}}, id) LIMIT 1"
        )));
        let Refs::Sets(kept) = sets else {
            unreachable!("sets")
        };
        let pairs = agent_page_sql(&by("a"), "s", 1000, true, &Refs::Pairs(kept));
        assert!(!pairs.contains("_refs"), "{pairs}");
        assert!(!pairs.contains(&format!("toUInt8({TARGETED})")));
        assert!(pairs.contains(
            "FROM (SELECT groupArray(id) AS m FROM (SELECT id FROM s_by_agent WHERE agent = {agent:String} AND direct = 1 AND stored <= 1000 UNION ALL SELECT id FROM s WHERE stored > 1000 AND has(direct_agents, {agent:String})) WHERE has({targets:Array(UUID)}, id))"
        ));
        assert!(pairs.contains("NOT has({voided:Array(UUID)}, id)"));
        let tables = agent_page_sql(&by("a"), "s", 1000, false, &Refs::Tables);
        assert!(tables.contains("id NOT IN (SELECT target FROM s_refs WHERE voiding = 1)"));
        assert!(tables.contains("SELECT stored FROM s_refs WHERE target IN"));
        assert!(!tables.contains(&format!("toUInt8({TARGETED})")));
    }
}
