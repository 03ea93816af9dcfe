//! Statement queries as SQL: the most selective filter's index drives the scan in `seq` order.

use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;
use xlrs_store::page::Row;
use xlrs_store::StoreError;
use xlrs_xapi::query::StatementQuery;

use crate::internal;

/// The WHERE conditions of a query's filters on the statements row `alias`.
fn filter_conditions(q: &StatementQuery, alias: &str, args: &mut Vec<SqlValue>) -> Vec<String> {
    let mut conds = Vec::new();
    if let Some(agent) = &q.agent {
        let direct = if q.related_agents {
            ""
        } else {
            " AND direct = 1"
        };
        conds.push(format!(
            "{alias}.seq IN (SELECT seq FROM statement_agents WHERE agent = ?{direct})"
        ));
        args.push(SqlValue::Text(agent.clone()));
    }
    if let Some(verb) = &q.verb {
        conds.push(format!("{alias}.verb = ?"));
        args.push(SqlValue::Text(verb.clone()));
    }
    if let Some(activity) = &q.activity {
        let direct = if q.related_activities {
            ""
        } else {
            " AND direct = 1"
        };
        conds.push(format!(
            "{alias}.seq IN (SELECT seq FROM statement_activities WHERE activity = ?{direct})"
        ));
        args.push(SqlValue::Text(activity.clone()));
    }
    if let Some(registration) = &q.registration {
        conds.push(format!("{alias}.registration = ?"));
        args.push(SqlValue::Text(registration.clone()));
    }
    conds
}

/// Conditions on the returned row `s` itself: voided, time window, cursor, authority.
fn window_conditions(q: &StatementQuery, order_col: &str, args: &mut Vec<SqlValue>) -> Vec<String> {
    let mut conds = Vec::new();
    if !q.include_voided {
        conds.push("s.voided = 0".to_string());
    }
    // `stored` grows with `seq` (one writer assigns both), so a time window is a `seq` range:
    // the scan stays on the driving index instead of filtering row by row.
    let last_seq_at = "(SELECT COALESCE((SELECT seq FROM statements WHERE stored <= ? \
                       ORDER BY stored DESC LIMIT 1), 0))";
    if let Some(since) = q.since {
        conds.push(format!("{order_col} > {last_seq_at}"));
        args.push(SqlValue::Integer(since));
    }
    if let Some(until) = q.until {
        conds.push(format!("{order_col} <= {last_seq_at}"));
        args.push(SqlValue::Integer(until));
    }
    if let Some(after) = q.after {
        conds.push(format!(
            "{order_col} {} ?",
            if q.ascending { ">" } else { "<" }
        ));
        args.push(SqlValue::Integer(after));
    }
    if let Some(authority) = &q.authority {
        conds.push("s.authority = ?".into());
        args.push(SqlValue::Text(authority.clone()));
    }
    conds
}

fn order_limit(q: &StatementQuery, order_col: &str, args: &mut Vec<SqlValue>) -> String {
    args.push(SqlValue::Integer(q.limit as i64 + 1));
    format!(
        " ORDER BY {order_col} {} LIMIT ?",
        if q.ascending { "ASC" } else { "DESC" }
    )
}

/// Statements matching the filters themselves. The most selective index drives the scan in
/// `seq` order, so a page costs the same at 10 k or 10 M stored statements.
pub(crate) fn direct_sql(q: &StatementQuery) -> (String, Vec<SqlValue>) {
    let mut args = Vec::new();
    let (from, order_col, driven) = if let Some(agent) = &q.agent {
        args.push(SqlValue::Text(agent.clone()));
        let direct = if q.related_agents {
            ""
        } else {
            " AND d.direct = 1"
        };
        (
            format!(
                "statement_agents d JOIN statements s ON s.seq = d.seq WHERE d.agent = ?{direct}"
            ),
            "d.seq",
            Some("agent"),
        )
    } else if let Some(activity) = &q.activity {
        args.push(SqlValue::Text(activity.clone()));
        let direct = if q.related_activities {
            ""
        } else {
            " AND d.direct = 1"
        };
        (
            format!("statement_activities d JOIN statements s ON s.seq = d.seq WHERE d.activity = ?{direct}"),
            "d.seq",
            Some("activity"),
        )
    } else {
        ("statements s WHERE 1".to_string(), "s.seq", None)
    };
    let rest = StatementQuery {
        agent: q.agent.clone().filter(|_| driven != Some("agent")),
        activity: q.activity.clone().filter(|_| driven != Some("activity")),
        ..q.clone()
    };
    let mut conds = filter_conditions(&rest, "s", &mut args);
    conds.extend(window_conditions(q, order_col, &mut args));
    let mut sql = format!("SELECT s.seq, s.stored, s.body FROM {from}");
    for c in conds {
        sql.push_str(" AND ");
        sql.push_str(&c);
    }
    sql.push_str(&order_limit(q, order_col, &mut args));
    (sql, args)
}

/// Statements whose StatementRef object targets a statement matching the filters: they match
/// too (xAPI 2.1.3 "Filter Conditions for StatementRefs"). Only statements with a reference are
/// scanned, through their partial index (few in practice: voiding and
/// commenting statements).
pub(crate) fn reference_sql(q: &StatementQuery) -> Option<(String, Vec<SqlValue>)> {
    let mut args = Vec::new();
    let on_target = filter_conditions(q, "t", &mut args);
    if on_target.is_empty() {
        return None;
    }
    let mut conds = on_target;
    conds.extend(window_conditions(q, "s.seq", &mut args));
    let mut sql = String::from(
        "SELECT s.seq, s.stored, s.body FROM statements s INDEXED BY statements_ref \
         CROSS JOIN statements t ON t.id = s.ref_target WHERE s.ref_target IS NOT NULL",
    );
    for c in conds {
        sql.push_str(" AND ");
        sql.push_str(&c);
    }
    sql.push_str(&order_limit(q, "s.seq", &mut args));
    Some((sql, args))
}

/// Runs a query made by [`direct_sql`] or [`reference_sql`]: rows of seq, stored, body.
pub(crate) fn run_query(
    conn: &Connection,
    sql: &str,
    args: Vec<SqlValue>,
) -> Result<Vec<Row>, StoreError> {
    let mut st = conn.prepare_cached(sql).map_err(internal)?;
    let rows = st
        .query_map(rusqlite::params_from_iter(args), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .map_err(internal)?;
    rows.collect::<Result<_, _>>().map_err(internal)
}
