//! The SQL of pages by agent read together (see the parent module): each page's statements
//! from the agent index (and the statements table past it) and, while the StatementRefs table
//! may hold rows, the statements whose StatementRef targets one of them, told apart by agent.

use xlrs_xapi::query::StatementQuery;

use crate::query::{stored_range, voided_condition};
use crate::references::Refs;

/// [`super::AgentRow::kind`] of a statement on its agent's page.
pub(super) const PAGE: u8 = 1;
/// [`super::AgentRow::kind`] of a pair (agent, position of a statement whose StatementRef
/// targets one of that agent's matches), its body in a [`REFERRING`] row.
pub(super) const PAIR: u8 = 2;
/// [`super::AgentRow::kind`] of the body of a statement a [`PAIR`] names (agent empty).
pub(super) const REFERRING: u8 = 3;
/// [`super::AgentRow::kind`] of a row naming an agent one of whose matches a StatementRef
/// targets (with [`Refs::Sets`]: its page is read again alone with [`Refs::Pairs`]).
pub(super) const TARGETED: u8 = 4;

/// The SQL of the pages of `queries` (each by another agent, all in one order) from the agent
/// index through `indexed` and, when there may be rows `past` it, from the statements table
/// past it (the i-th query's parameters are `agent{i}`, `verb{i}`, `registration{i}` and
/// `authority{i}`: [`crate::query::with_filters`]): each agent's [`PAGE`] rows in the page's
/// order, at most the longest page's limit plus one; while the StatementRefs table may hold
/// rows (`refs`; no query has an authority), voided statements left out and, with
/// [`Refs::Tables`], the [`PAIR`] and [`REFERRING`] rows of the statements whose StatementRef
/// targets a match (xAPI "Filter Conditions for StatementRefs"), as many; with
/// [`Refs::Sets`], a [`TARGETED`] row for each agent with a match among the targets instead.
pub(super) fn together_sql(
    queries: &[&StatementQuery],
    t: &str,
    indexed: i64,
    past: bool,
    refs: &Refs,
) -> String {
    let order = if queries.first().is_some_and(|q| q.ascending) {
        "ASC"
    } else {
        "DESC"
    };
    let limit = queries.iter().map(|q| q.limit).max().unwrap_or(0) + 1;
    let any = |condition: &dyn Fn(usize, &StatementQuery) -> String| {
        queries
            .iter()
            .enumerate()
            .map(|(i, q)| condition(i, q))
            .collect::<Vec<_>>()
            .join(" OR ")
    };
    let pages = any(&|i, q| format!("({}{})", matching(i, q), returned(i, q)));
    let agents = (0..queries.len())
        .map(|i| format!("{{agent{i}:String}}"))
        .collect::<Vec<_>>()
        .join(", ");
    // The agents' rows in the statements table past the index, one per agent named.
    let tail = |columns: &str| {
        format!(
            "SELECT arrayJoin(arrayIntersect(direct_agents, [{agents}])) AS agent, {columns} \
             FROM {t} WHERE stored > {indexed} AND hasAny(direct_agents, [{agents}])"
        )
    };
    let voided = voided_condition(t, refs)
        .map(|c| format!(" AND {c}"))
        .unwrap_or_default();
    // The newest version of each of the agents' index rows.
    let mut rows = format!(
        "SELECT agent, stored, body FROM {t}_by_agent \
         WHERE direct = 1 AND stored <= {indexed} AND ({pages}){voided} \
         ORDER BY agent, stored, written DESC LIMIT 1 BY agent, stored"
    );
    if past {
        rows.push_str(&format!(
            " UNION ALL SELECT agent, stored, body FROM ({}) WHERE ({pages}){voided}",
            tail("stored, body, id, verb, registration, authority")
        ));
    }
    let page = format!(
        "SELECT agent, stored, body, toUInt8({PAGE}) AS kind FROM ({rows}) \
         ORDER BY agent, stored {order} LIMIT {limit} BY agent"
    );
    let targets = match refs {
        Refs::None => return page,
        Refs::Sets(_) => true,
        // (Pages with pairs are read alone: `agent_page_sql`.)
        Refs::Pairs(_) | Refs::Tables => false,
    };
    // The ids each agent's page matches (its filters, not its window)...
    let matches = any(&|i, q| format!("({})", matching(i, q)));
    let mut ids = format!(
        "SELECT agent, id FROM {t}_by_agent WHERE direct = 1 AND stored <= {indexed} AND ({matches})"
    );
    if past {
        ids.push_str(&format!(
            " UNION ALL SELECT agent, id FROM ({}) WHERE {matches}",
            tail("id, verb, registration")
        ));
    }
    if targets {
        // ...any of them a StatementRef targets.
        return format!(
            "SELECT * FROM ({page}) UNION ALL SELECT agent, toInt64(0) AS stored, '' AS body, \
             toUInt8({TARGETED}) AS kind FROM ({ids}) WHERE has({{targets:Array(UUID)}}, id) \
             LIMIT 1 BY agent"
        );
    }
    // ...the statements referring to one, in the page's window and not voided, per agent...
    let windows = any(&|i, q| format!("(agent = {{agent{i}:String}}{})", returned(i, q)));
    let pairs = format!(
        "SELECT DISTINCT i.agent AS agent, r.stored AS stored FROM {t}_refs AS r \
         INNER JOIN ({ids}) AS i ON r.target = i.id WHERE ({windows}) \
         AND r.stored NOT IN (SELECT stored FROM {t} \
         WHERE id IN (SELECT target FROM {t}_refs WHERE voiding = 1)) \
         ORDER BY agent, stored {order} LIMIT {limit} BY agent"
    );
    // ...and their bodies.
    format!(
        "SELECT * FROM ({page}) \
         UNION ALL SELECT agent, stored, '' AS body, toUInt8({PAIR}) AS kind FROM ({pairs}) \
         UNION ALL SELECT '' AS agent, stored, body, toUInt8({REFERRING}) AS kind FROM {t} \
         WHERE stored IN (SELECT stored FROM ({pairs}))"
    )
}

/// The i-th query's conditions on a statement matching it: its agent, verb, registration.
fn matching(i: usize, q: &StatementQuery) -> String {
    let mut c = format!("agent = {{agent{i}:String}}");
    if q.verb.is_some() {
        c.push_str(&format!(" AND verb = {{verb{i}:String}}"));
    }
    if q.registration.is_some() {
        c.push_str(&format!(" AND registration = {{registration{i}:String}}"));
    }
    c
}

/// The i-th query's conditions on a statement it returns (each after ` AND `): position
/// (time window and cursor) and authority.
fn returned(i: usize, q: &StatementQuery) -> String {
    let mut c = String::new();
    for range in stored_range(q) {
        c.push_str(" AND ");
        c.push_str(&range);
    }
    if q.authority.is_some() {
        c.push_str(&format!(" AND authority = {{authority{i}:String}}"));
    }
    c
}

#[cfg(test)]
mod tests {
    use super::super::by;
    use super::*;

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
        let sql = together_sql(&[&q0, &q1], "s", 1000, false, &Refs::None);
        assert!(sql.contains("(agent = {agent0:String} AND verb = {verb0:String} AND stored < 42)"));
        assert!(sql.contains(
            "(agent = {agent1:String} AND registration = {registration1:String} AND stored > 7 AND authority = {authority1:String})"
        ));
        assert!(sql.ends_with("ORDER BY agent, stored DESC LIMIT 101 BY agent"));
        assert!(!sql.contains("UNION"), "nothing past the index to read");
        assert!(!sql.contains("_refs"), "no StatementRef to care about");
        let past = together_sql(&[&q0, &q1], "s", 1000, true, &Refs::None);
        assert!(past.contains(
            "FROM s WHERE stored > 1000 AND hasAny(direct_agents, [{agent0:String}, {agent1:String}])"
        ));
    }

    #[test]
    fn with_references_a_page_leaves_voided_statements_out_and_takes_those_referring_to_its_matches_in_its_window(
    ) {
        let q0 = StatementQuery {
            verb: Some("v".into()),
            after: Some(42),
            ..by("a")
        };
        let sql = together_sql(&[&q0, &by("b")], "s", 1000, false, &Refs::Tables);
        assert!(sql.contains("id NOT IN (SELECT target FROM s_refs WHERE voiding = 1)"));
        // Matches by the page's filters, referring statements in its window.
        assert!(sql.contains(
            "((agent = {agent0:String} AND verb = {verb0:String}) OR (agent = {agent1:String}))"
        ));
        assert!(sql.contains(
            "WHERE ((agent = {agent0:String} AND stored < 42) OR (agent = {agent1:String}))"
        ));
    }

    #[test]
    fn with_the_references_as_sets_a_page_leaves_the_voided_set_out_and_names_agents_with_a_targeted_match(
    ) {
        let sets = |voided: &[&str], targets: &[&str]| {
            Refs::Sets(std::sync::Arc::new(crate::references::RefSets {
                voided: voided.iter().map(|s| s.to_string()).collect(),
                targets: targets.iter().map(|s| s.to_string()).collect(),
                read: 1,
                ..Default::default()
            }))
        };
        let sql = together_sql(
            &[&by("a"), &by("b")],
            "s",
            1000,
            true,
            &sets(&["v"], &["v"]),
        );
        assert!(sql.contains("NOT has({voided:Array(UUID)}, id)"));
        assert!(sql.contains("WHERE has({targets:Array(UUID)}, id) LIMIT 1 BY agent"));
        assert!(
            sql.contains("hasAny(direct_agents, [{agent0:String}, {agent1:String}])"),
            "matches past the index are tested too"
        );
        assert!(!sql.contains("_refs"), "the table is not read");
    }
}
