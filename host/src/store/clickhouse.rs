//! ClickHouse as the statement store (`XLRS_STORE=clickhouse`).
//!
//! Tables in one database. The statements table holds each statement with its query fields,
//! ordered by `stored` (the cursor position), with skipping indexes for ids, registrations and
//! the sparse reference columns; two index tables, filled by materialized views on every insert,
//! list each agent's and each activity's statements in `stored` order for the filters. The
//! events table has Ralph's layout (`event_id`, `emission_time`, `event`), which Open edX
//! Aspects builds its reports on: every statement is written there too, and rows found there
//! at start-up that the statements table lacks (a Ralph deployment switching to xlrs) are
//! indexed then, so they are served without a migration.
//!
//! One writer per process: inserts are group-committed one round at a time, `stored` increases
//! per statement, and a round becomes visible in one INSERT of one block (ClickHouse keeps such
//! an insert whole). Documents are in ClickHouse too (`clickhouse_documents`); attachments and
//! canonical activity definitions live in the embedded store.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use clickhouse::{Client, Row};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::group_commit::{self, accept_known, adoptable, GroupCommit, Job};
use super::sqlite::{merge_page, SqliteStore};
use super::{Attachment, Page, StatementStore, StoreError, StoredStatement};
use crate::config::ClickHouseSettings;
use crate::xapi::query::StatementQuery;
use crate::xapi::statement::{finish_body, PreparedStatement};
use crate::xapi::time::{format_micros, now_micros};
use crate::xapi::validate::parse_timestamp;

/// Layout version of the tables; bump with a migration when it changes.
const SCHEMA_VERSION: u32 = 1;

/// Rows of the events table indexed per round at start-up.
const ADOPT_CHUNK: u64 = 10_000;

/// Statements in ClickHouse; attachments and definitions in the embedded store.
pub struct ClickHouseStore {
    pub(super) inner: Arc<Inner>,
}

/// What the store holds; shared with the commit task.
pub(super) struct Inner {
    /// A client of the configured database: table names below are unqualified.
    pub(super) client: Client,
    /// The statements table.
    statements: String,
    /// The events table, when written.
    events: Option<String>,
    side: Arc<SqliteStore>,
    /// The last `stored` handed out; held by the commit in progress, so commits never overlap.
    last_stored: tokio::sync::Mutex<i64>,
    /// Insert calls waiting for the next commit, which writes them all at once.
    queue: std::sync::Mutex<Vec<Job>>,
    /// `stored` of the insert in progress (0 when none), for Consistent-Through.
    pending_since: AtomicI64,
    /// Held by each document write, so a precondition is checked and acted on at once, and
    /// the last version handed out (versions order the rows of one document).
    pub(super) documents: tokio::sync::Mutex<i64>,
}

/// A row of the statements table.
#[derive(Row, Serialize)]
struct StatementRow {
    #[serde(with = "clickhouse::serde::uuid")]
    id: Uuid,
    stored: i64,
    verb: String,
    agents: Vec<String>,
    direct_agents: Vec<String>,
    activities: Vec<String>,
    direct_activities: Vec<String>,
    registration: String,
    #[serde(with = "clickhouse::serde::uuid")]
    statement_ref: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    voids: Uuid,
    authority: String,
    content_hash: String,
    body: String,
}

/// A row of Ralph's events table.
#[derive(Row, Serialize, Deserialize)]
struct EventRow {
    #[serde(with = "clickhouse::serde::uuid")]
    event_id: Uuid,
    /// The statement's `timestamp`, µs (DateTime64(6)).
    emission_time: i64,
    event: String,
}

/// What an insert needs to know of an id already stored.
#[derive(Row, Deserialize)]
struct Existing {
    #[serde(with = "clickhouse::serde::uuid")]
    id: Uuid,
    content_hash: String,
    #[serde(with = "clickhouse::serde::uuid")]
    voids: Uuid,
}

/// A statement as queries return it.
#[derive(Row, Deserialize)]
struct Found {
    stored: i64,
    body: String,
}

/// A statement as a single GET returns it.
#[derive(Row, Deserialize)]
struct FoundOne {
    stored: i64,
    body: String,
    voided: u8,
}

pub(super) fn failed(e: clickhouse::error::Error) -> StoreError {
    match e {
        clickhouse::error::Error::Network(_) | clickhouse::error::Error::TimedOut => {
            StoreError::Unavailable(format!("ClickHouse: {e}"))
        }
        e => StoreError::Internal(format!("ClickHouse: {e}")),
    }
}

fn statement_row(s: &PreparedStatement, stored: i64, body: String) -> StatementRow {
    let pick = |list: &[(String, bool)], direct_only: bool| -> Vec<String> {
        list.iter()
            .filter(|(_, direct)| *direct || !direct_only)
            .map(|(key, _)| key.clone())
            .collect()
    };
    StatementRow {
        id: s.id,
        stored,
        verb: s.index.verb.clone(),
        agents: pick(&s.index.agents, false),
        direct_agents: pick(&s.index.agents, true),
        activities: pick(&s.index.activities, false),
        direct_activities: pick(&s.index.activities, true),
        registration: s.index.registration.clone().unwrap_or_default(),
        statement_ref: s.index.statement_ref.unwrap_or(Uuid::nil()),
        voids: s.index.voids.unwrap_or(Uuid::nil()),
        authority: s.index.authority.clone(),
        content_hash: s.content_hash.clone(),
        body,
    }
}

/// The statement's `timestamp` in µs (Ralph's `emission_time`); `stored` when it has none.
fn emission_time(body: &str, stored: i64) -> i64 {
    #[derive(Deserialize)]
    struct Timestamp<'a> {
        #[serde(borrow)]
        timestamp: Option<std::borrow::Cow<'a, str>>,
    }
    serde_json::from_str::<Timestamp>(body)
        .ok()
        .and_then(|t| t.timestamp)
        .and_then(|t| parse_timestamp(&t))
        .map(|t| t.timestamp_micros())
        .unwrap_or(stored)
}

impl ClickHouseStore {
    /// Connects, creates or migrates the tables, and indexes events the statements table
    /// lacks. An unreachable server is [`StoreError::Unavailable`].
    pub async fn open(
        settings: &ClickHouseSettings,
        side: Arc<SqliteStore>,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            inner: Arc::new(Inner::open(settings, side).await?),
        })
    }
}

impl Inner {
    /// See [`ClickHouseStore::open`].
    pub async fn open(
        settings: &ClickHouseSettings,
        side: Arc<SqliteStore>,
    ) -> Result<Self, StoreError> {
        let mut client = Client::default().with_url(&settings.url);
        if let Some(user) = &settings.user {
            client = client.with_user(user);
        }
        if let Some(password) = &settings.password {
            client = client.with_password(password);
        }
        let db = &settings.database;
        client
            .query(&format!("CREATE DATABASE IF NOT EXISTS {db}"))
            .execute()
            .await
            .map_err(|e| match failed(e) {
                StoreError::Unavailable(m) => {
                    StoreError::Unavailable(format!("{m} (is it running at {}?)", settings.url))
                }
                other => other,
            })?;
        let store = Inner {
            client: client.with_database(db),
            statements: settings.statements_table.clone(),
            events: (!settings.events_table.is_empty()).then(|| settings.events_table.clone()),
            side,
            last_stored: tokio::sync::Mutex::new(0),
            queue: std::sync::Mutex::new(Vec::new()),
            documents: tokio::sync::Mutex::new(0),
            pending_since: AtomicI64::new(0),
        };
        store.migrate().await?;
        let last: i64 = store
            .client
            .query(&format!("SELECT max(stored) FROM {}", store.statements))
            .fetch_one()
            .await
            .map_err(failed)?;
        *store.last_stored.lock().await = last;
        let adopted = store.adopt_events().await?;
        if adopted > 0 {
            tracing::info!(adopted, "indexed statements found in the events table");
        }
        Ok(store)
    }

    pub(super) async fn execute(&self, sql: &str) -> Result<(), StoreError> {
        self.client.query(sql).execute().await.map_err(failed)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let meta = "xlrs_meta";
        self.execute(&format!(
            "CREATE TABLE IF NOT EXISTS {meta} (key String, value UInt32) \
             ENGINE = ReplacingMergeTree ORDER BY key"
        ))
        .await?;
        let version: Option<u32> = self
            .client
            .query(&format!(
                "SELECT max(value) FROM {meta} WHERE key = 'schema_version' HAVING count() > 0"
            ))
            .fetch_optional()
            .await
            .map_err(failed)?;
        if let Some(v) = version.filter(|v| *v > SCHEMA_VERSION) {
            return Err(StoreError::Internal(format!(
                "the database has layout version {v}, newer than this xlrs knows ({SCHEMA_VERSION}); upgrade xlrs"
            )));
        }
        // Skipping indexes: bloom filters for ids and registrations (many values, each in few
        // granules), sets for the sparse reference columns (a granule without any reference is
        // skipped by `!= nil`). Agents and activities have index tables of their own (below);
        // verbs and authorities are few, so a bloom filter would skip nothing.
        self.execute(&format!(
            "CREATE TABLE IF NOT EXISTS {} (
                id UUID,
                stored Int64,
                verb String,
                agents Array(String),
                direct_agents Array(String),
                activities Array(String),
                direct_activities Array(String),
                registration String,
                statement_ref UUID,
                voids UUID,
                authority String,
                content_hash String,
                body String CODEC(ZSTD(1)),
                INDEX id_bf id TYPE bloom_filter GRANULARITY 1,
                INDEX registration_bf registration TYPE bloom_filter GRANULARITY 1,
                INDEX statement_ref_set statement_ref TYPE set(0) GRANULARITY 1,
                INDEX voids_set voids TYPE set(0) GRANULARITY 1
            ) ENGINE = MergeTree ORDER BY (stored, id)",
            self.statements
        ))
        .await?;
        for (kind, list) in [("agent", "agents"), ("activity", "activities")] {
            // The agent and activity filters' index: one row per (key, statement), ordered by
            // key then `stored`, filled by ClickHouse on every insert into the statements table.
            let index = format!("{}_by_{kind}", self.statements);
            let existed: u8 = self
                .client
                .query(&format!("EXISTS TABLE {index}"))
                .fetch_one()
                .await
                .map_err(failed)?;
            self.execute(&format!(
                "CREATE TABLE IF NOT EXISTS {index} ({kind} String, direct UInt8, stored Int64) \
                 ENGINE = MergeTree ORDER BY ({kind}, stored)"
            ))
            .await?;
            let select = format!(
                "SELECT arrayJoin({list}) AS {kind}, has(direct_{list}, {kind}) AS direct, stored FROM {}",
                self.statements
            );
            self.execute(&format!(
                "CREATE MATERIALIZED VIEW IF NOT EXISTS {index}_mv TO {index} AS {select}"
            ))
            .await?;
            if existed == 0 {
                self.execute(&format!("INSERT INTO {index} {select}"))
                    .await?;
            }
        }
        self.execute(super::clickhouse_documents::SCHEMA).await?;
        if let Some(events) = &self.events {
            // Ralph's layout, exactly (https://github.com/openfun/ralph, docs/tutorials/lrs).
            self.execute(&format!(
                "CREATE TABLE IF NOT EXISTS {events} (
                    event_id UUID NOT NULL,
                    emission_time DateTime64(6) NOT NULL,
                    event String NOT NULL
                ) ENGINE MergeTree ORDER BY (emission_time, event_id)
                PRIMARY KEY (emission_time, event_id)"
            ))
            .await?;
        }
        if version != Some(SCHEMA_VERSION) {
            self.execute(&format!(
                "INSERT INTO {meta} (key, value) VALUES ('schema_version', {SCHEMA_VERSION})"
            ))
            .await?;
        }
        Ok(())
    }

    /// Indexes the events the statements table lacks (written by Ralph, or by a batch whose
    /// statements-table insert failed), oldest first; returns how many.
    async fn adopt_events(&self) -> Result<u64, StoreError> {
        let Some(events) = &self.events else {
            return Ok(0);
        };
        let mut last = self.last_stored.lock().await;
        let mut adopted = 0;
        let mut after: Option<(i64, Uuid)> = None;
        loop {
            let resume = if after.is_some() {
                "(emission_time, event_id) > (fromUnixTimestamp64Micro({t:Int64}), {id:UUID}) AND"
            } else {
                ""
            };
            let (t, id) = after.unwrap_or_default();
            let rows: Vec<EventRow> = self
                .client
                .query(&format!(
                    "SELECT event_id, emission_time, event FROM {events}
                     WHERE {resume} event_id NOT IN (SELECT id FROM {})
                     ORDER BY emission_time, event_id LIMIT {ADOPT_CHUNK}",
                    self.statements
                ))
                .param("t", t)
                .param("id", id.to_string())
                .fetch_all()
                .await
                .map_err(failed)?;
            let Some(tail) = rows.last() else {
                return Ok(adopted);
            };
            after = Some((tail.emission_time, tail.event_id));
            let mut prepared: Vec<(i64, PreparedStatement)> = Vec::with_capacity(rows.len());
            for row in &rows {
                let adopted = serde_json::from_str(&row.event)
                    .map_err(|e| format!("not JSON: {e}"))
                    .and_then(|event| {
                        adoptable(event, row.event_id, row.emission_time, "events-table")
                    });
                match adopted {
                    Ok(found) => prepared.push(found),
                    Err(why) => tracing::warn!(event_id = %row.event_id, "event not served: {why}"),
                }
            }
            prepared.sort_by_key(|(stored, s)| (*stored, s.id));
            let mut insert = self
                .client
                .insert::<StatementRow>(&self.statements)
                .await
                .map_err(failed)?;
            for (stored, s) in &prepared {
                let stored = (*stored).max(*last + 1);
                *last = stored;
                let body = finish_body(&s.body, &format_micros(stored), s.needs_timestamp);
                insert
                    .write(&statement_row(s, stored, body))
                    .await
                    .map_err(failed)?;
            }
            insert.end().await.map_err(failed)?;
            adopted += prepared.len() as u64;
            let definitions: Vec<(String, Value)> = prepared
                .into_iter()
                .flat_map(|(_, s)| s.index.definitions)
                .collect();
            self.side.keep_side_data(Vec::new(), definitions).await?;
        }
    }

    /// Rows of the statements table for these ids.
    async fn existing(&self, ids: Vec<String>) -> Result<HashMap<Uuid, Existing>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<Existing> = self
            .client
            .query(&format!(
                "SELECT id, content_hash, voids FROM {} WHERE id IN {{ids:Array(UUID)}}",
                self.statements
            ))
            .param("ids", ids)
            .fetch_all()
            .await
            .map_err(failed)?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }

    /// Writes the rows: events first (Aspects' table), then the statements table, whose one
    /// INSERT makes the batch visible. When the second fails, the events are taken back.
    async fn write(&self, rows: Vec<StatementRow>) -> Result<(), StoreError> {
        if let Some(events) = &self.events {
            let mut insert = self
                .client
                .insert::<EventRow>(events)
                .await
                .map_err(failed)?;
            for r in &rows {
                insert
                    .write(&EventRow {
                        event_id: r.id,
                        emission_time: emission_time(&r.body, r.stored),
                        event: r.body.clone(),
                    })
                    .await
                    .map_err(failed)?;
            }
            insert.end().await.map_err(failed)?;
        }
        let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
        let outcome = async {
            let mut insert = self
                .client
                .insert::<StatementRow>(&self.statements)
                .await
                .map_err(failed)?;
            for r in &rows {
                insert.write(r).await.map_err(failed)?;
            }
            insert.end().await.map_err(failed)
        }
        .await;
        if let (Err(e), Some(events)) = (&outcome, &self.events) {
            let undo = self
                .client
                .query(&format!(
                    "DELETE FROM {events} WHERE event_id IN {{ids:Array(UUID)}}"
                ))
                .param("ids", ids)
                .execute()
                .await;
            if let Err(undo) = undo {
                // Left in the events table; indexed (so served) at the next start.
                tracing::error!(error = %e, undo = %undo, "a failed batch stays in the events table");
            }
        }
        outcome
    }

    /// Commits queued jobs in one round: each job is checked (duplicates, voiding rules)
    /// against the database and the jobs before it; the accepted ones are written in one
    /// insert and share its outcome.
    async fn commit_round(&self, jobs: Vec<Job>, last: &mut i64) {
        let ids: Vec<String> = jobs
            .iter()
            .flat_map(|j| &j.batch)
            .flat_map(|s| std::iter::once(s.id).chain(s.index.voids))
            .map(|id| id.to_string())
            .collect();
        let existing = match self.existing(ids).await {
            Ok(existing) => existing,
            Err(e) => return group_commit::answer(jobs, &Err(e)),
        };
        let known = existing
            .into_values()
            .map(|e| (e.id, e.content_hash, !e.voids.is_nil()));
        let mut accepted = accept_known(jobs, known);
        let outcome = self.write_jobs(&mut accepted, last).await;
        group_commit::answer(accepted.into_iter().map(|(job, _)| job), &outcome);
    }

    async fn write_jobs(
        &self,
        accepted: &mut [(Job, Vec<usize>)],
        last: &mut i64,
    ) -> Result<(), StoreError> {
        group_commit::keep_attachments(&self.side, accepted).await?;
        let count: usize = accepted.iter().map(|(_, keep)| keep.len()).sum();
        if count == 0 {
            return Ok(());
        }
        let mut stored = (*last).max(now_micros() - 1);
        self.pending_since.store(stored + 1, Ordering::SeqCst);
        let mut rows = Vec::with_capacity(count);
        for (job, keep) in accepted.iter() {
            for &i in keep {
                let s = &job.batch[i];
                stored = (stored + 1).max(now_micros());
                let body = finish_body(&s.body, &format_micros(stored), s.needs_timestamp);
                rows.push(statement_row(s, stored, body));
            }
        }
        let outcome = self.write(rows).await;
        self.pending_since.store(0, Ordering::SeqCst);
        outcome?;
        *last = stored;
        let definitions: Vec<(String, Value)> = accepted
            .iter()
            .flat_map(|(job, keep)| keep.iter().map(|&i| &job.batch[i]))
            .flat_map(|s| s.index.definitions.clone())
            .collect();
        self.side.keep_side_data(Vec::new(), definitions).await
    }

    async fn fetch(
        &self,
        sql: &str,
        q: &StatementQuery,
    ) -> Result<Vec<(i64, i64, String)>, StoreError> {
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
    let mut conds = vec![format!(
        "id NOT IN (SELECT voids FROM {table} WHERE voids != toUUID('{}'))",
        Uuid::nil()
    )];
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

impl GroupCommit for Inner {
    type Writer = i64;

    fn queue(&self) -> &std::sync::Mutex<Vec<Job>> {
        &self.queue
    }

    fn writer(&self) -> &tokio::sync::Mutex<i64> {
        &self.last_stored
    }

    async fn commit(&self, jobs: Vec<Job>, writer: &mut i64) {
        self.commit_round(jobs, writer).await
    }
}

#[async_trait]
impl StatementStore for ClickHouseStore {
    async fn insert(
        &self,
        batch: Vec<PreparedStatement>,
        attachments: Vec<Attachment>,
    ) -> Result<(), StoreError> {
        group_commit::insert(&self.inner, batch, attachments).await
    }

    async fn get(&self, id: Uuid) -> Result<Option<StoredStatement>, StoreError> {
        let found: Option<FoundOne> = self
            .inner
            .client
            .query(&format!(
                "SELECT stored, body,
                        id IN (SELECT voids FROM {t} WHERE voids = {{id:UUID}}) AS voided
                 FROM {t} WHERE id = {{id:UUID}} LIMIT 1",
                t = self.inner.statements
            ))
            .param("id", id.to_string())
            .fetch_optional()
            .await
            .map_err(failed)?;
        Ok(found.map(|f| StoredStatement {
            body: f.body,
            voided: f.voided != 0,
            stored: f.stored,
        }))
    }

    async fn query(&self, q: &StatementQuery) -> Result<Page, StoreError> {
        let t = &self.inner.statements;
        let window = window_conditions(q, t);
        let mut direct = format!("SELECT stored, body FROM {t} WHERE 1");
        for c in filter_conditions(q, Some(t)).iter().chain(&window) {
            direct.push_str(" AND ");
            direct.push_str(c);
        }
        direct.push_str(&order_limit(q));
        let filters = filter_conditions(q, None);
        if filters.is_empty() {
            let direct = self.inner.fetch(&direct, q).await?;
            return Ok(merge_page(q, direct, Vec::new()));
        }
        // Statements whose StatementRef targets a statement matching the filters match too
        // (xAPI "Filter Conditions for StatementRefs"); the set index skips granules without
        // references, so this stays cheap while references are few. Both in one round trip.
        let nil = format!("toUUID('{}')", Uuid::nil());
        let mut referring = format!(
            "SELECT stored, body FROM {t} WHERE statement_ref != {nil} AND statement_ref IN (
                SELECT id FROM {t} WHERE id IN (SELECT statement_ref FROM {t} WHERE statement_ref != {nil})"
        );
        for c in &filters {
            referring.push_str(" AND ");
            referring.push_str(c);
        }
        referring.push(')');
        for c in &window {
            referring.push_str(" AND ");
            referring.push_str(c);
        }
        referring.push_str(&order_limit(q));
        let both = format!("SELECT * FROM ({direct}) UNION ALL SELECT * FROM ({referring})");
        let rows = self.inner.fetch(&both, q).await?;
        Ok(merge_page(q, rows, Vec::new()))
    }

    async fn consistent_through(&self) -> Result<i64, StoreError> {
        Ok(super::consistent_through(&self.inner.pending_since))
    }

    async fn attachments(&self, sha2s: &[String]) -> Result<Vec<Attachment>, StoreError> {
        self.inner.side.attachments(sha2s).await
    }

    async fn activity_definition(&self, id: &str) -> Result<Option<Value>, StoreError> {
        self.inner.side.activity_definition(id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emission_time_is_the_timestamp_or_else_stored() {
        assert_eq!(
            emission_time(r#"{"timestamp":"2024-01-01T00:00:00.5Z"}"#, 7),
            1_704_067_200_500_000
        );
        assert_eq!(emission_time(r#"{"id":"x"}"#, 7), 7);
    }
}
