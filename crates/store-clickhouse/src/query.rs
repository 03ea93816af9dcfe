//! Statement queries as SQL: the agent and activity filters through their index tables, the
//! voided set and StatementRefs through theirs, the rest on the statements table, and the
//! statements referring to matches in the same round trip.

use clickhouse::Row;
use serde::Deserialize;
use xlrs_store::page::{merge_page, Row as PageRow};
use xlrs_store::{Page, StoreError};
use xlrs_xapi::query::StatementQuery;

use crate::{failed, ClickHouse};

/// A statement as queries return it.
#[derive(Row, Deserialize)]
struct Found {
    stored: i64,
    body: String,
}

impl ClickHouse {
    /// A page of the statements matching `q`, with those whose StatementRef targets one.
    pub(crate) async fn query_page(&self, q: &StatementQuery) -> Result<Page, StoreError> {
        let t = &self.statements;
        let window = window_conditions(q, t);
        let mut direct = format!("SELECT stored, body FROM {t} WHERE 1");
        for c in filter_conditions(q, Some(t)).iter().chain(&window) {
            direct.push_str(" AND ");
            direct.push_str(c);
        }
        direct.push_str(&order_limit(q));
        let filters = filter_conditions(q, None);
        if filters.is_empty() {
            let direct = self.fetch(&direct, q).await?;
            return Ok(merge_page(q, direct, Vec::new()));
        }
        // Statements whose StatementRef targets a statement matching the filters match too
        // (xAPI "Filter Conditions for StatementRefs"): the targets come from the StatementRefs
        // table (few rows), so this costs next to nothing while references are few. Both in
        // one round trip.
        let mut referring = format!(
            "SELECT stored, body FROM {t} WHERE stored IN (
                SELECT stored FROM {t}_refs WHERE target IN (
                    SELECT id FROM {t} WHERE id IN (SELECT target FROM {t}_refs)"
        );
        for c in &filters {
            referring.push_str(" AND ");
            referring.push_str(c);
        }
        referring.push_str("))");
        for c in &window {
            referring.push_str(" AND ");
            referring.push_str(c);
        }
        referring.push_str(&order_limit(q));
        let both = format!("SELECT * FROM ({direct}) UNION ALL SELECT * FROM ({referring})");
        let rows = self.fetch(&both, q).await?;
        Ok(merge_page(q, rows, Vec::new()))
    }

    /// Runs a query with the parameters of `q`'s filters.
    async fn fetch(&self, sql: &str, q: &StatementQuery) -> Result<Vec<PageRow>, StoreError> {
        let mut query = self.client.query(sql);
        if let Some(agent) = &q.agent {
            query = query.param("agent", agent);
        }
        if let Some(verb) = &q.verb {
            query = query.param("verb", verb);
        }
        if let Some(activity) = &q.activity {
            query = query.param("activity", activity);
        }
        if let Some(registration) = &q.registration {
            query = query.param("registration", registration);
        }
        if let Some(authority) = &q.authority {
            query = query.param("authority", authority);
        }
        let rows: Vec<Found> = query.fetch_all().await.map_err(failed)?;
        Ok(rows
            .into_iter()
            .map(|r| (r.stored, r.stored, r.body))
            .collect())
    }
}

/// Conditions of the query's filters (agent, verb, activity, registration), with parameters.
/// With `indexed` (the statements table), agents and activities are looked up in their index
/// tables, ordered by key then `stored`, limited to the query's `stored` range; otherwise
/// (few rows to test) they are tested on the row.
fn filter_conditions(q: &StatementQuery, indexed: Option<&str>) -> Vec<String> {
    let mut conds = Vec::new();
    let range: String = stored_range(q)
        .iter()
        .map(|c| format!(" AND {c}"))
        .collect();
    let lookup = |kind: &str, list: &str, related: bool| {
        let direct = if related { "" } else { " AND direct = 1" };
        match indexed {
            Some(t) => format!(
                "stored IN (SELECT stored FROM {t}_by_{kind} \
                 WHERE {kind} = {{{kind}:String}}{direct}{range})"
            ),
            None if related => format!("has({list}, {{{kind}:String}})"),
            None => format!("has(direct_{list}, {{{kind}:String}})"),
        }
    };
    if q.agent.is_some() {
        conds.push(lookup("agent", "agents", q.related_agents));
    }
    if q.verb.is_some() {
        conds.push("verb = {verb:String}".into());
    }
    if q.activity.is_some() {
        conds.push(lookup("activity", "activities", q.related_activities));
    }
    if q.registration.is_some() {
        conds.push("registration = {registration:String}".into());
    }
    conds
}

/// The query's bounds on `stored`: time window and cursor.
fn stored_range(q: &StatementQuery) -> Vec<String> {
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

/// Conditions on the returned statement itself: not voided, time window, cursor, authority.
fn window_conditions(q: &StatementQuery, table: &str) -> Vec<String> {
    let mut conds = Vec::new();
    if !q.include_voided {
        conds.push(format!(
            "id NOT IN (SELECT target FROM {table}_refs WHERE voiding = 1)"
        ));
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
