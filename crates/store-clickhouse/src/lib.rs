//! ClickHouse as the statement and document store (`store = "clickhouse"`).
//!
//! Tables in one database. The statements table holds each statement with its query fields,
//! ordered by `stored` (the cursor position), with skipping indexes for ids, registrations and
//! the sparse reference columns; two index tables, filled behind the writes (`indexer`), list
//! each agent's and each activity's statements in `stored` order for the filters (the
//! agent's, with the bodies of the statements naming it as actor or object). The
//! events table has Ralph's layout (`event_id`, `emission_time`, `event`), which Open edX
//! Aspects builds its reports on: every statement is written there too, and rows found there
//! at start-up that the statements table lacks (a Ralph deployment switching to xlrs) are
//! indexed then, so they are served without a migration.
//!
//! Inserts are group-committed one round at a time per process ([`GroupCommitted`]), their
//! positions reserved in the database's ledger (any number of processes may write), and a
//! round becomes visible in one INSERT of one block (ClickHouse keeps such an insert whole).
//! Documents, attachments and canonical activity definitions are in ClickHouse too.
//!
//! Files: `schema` (tables and migrations), `statements` (rows, reads and round writes),
//! `query` (statement queries as SQL), `agent_pages` (pages by agent asked for together, read
//! in one query), `indexer` (filling the index tables), `documents`, `content` (attachments
//! and definitions), `admissions` (records of admitted statements), `adopt` (Ralph's events),
//! `cluster` and `turns` (a replicated cluster, whose tables take quorum inserts in turn).

mod admissions;
mod adopt;
mod agent_pages;
mod cluster;
mod content;
mod documents;
mod indexer;
mod known_ids;
mod ledger;
mod lifecycle;
mod query;
mod races;
mod references;
mod schema;
mod statements;
mod turns;

use std::sync::Arc;

use clickhouse::Client;
use serde::{Deserialize, Serialize};
use xlrs_store::group_commit::GroupCommitted;
use xlrs_store::ledger::Writers;
use xlrs_store::settings::{check_http_url, SettingError};
use xlrs_store::{StoreError, Stores};

/// Settings of the ClickHouse store.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClickHouseSettings {
    /// The server's HTTP interface, `http://` or `https://` (default `http://127.0.0.1:8123`).
    pub url: String,
    /// Database holding the tables; created when missing (nothing is created that exists, so a
    /// user with only INSERT and SELECT on it can run xlrs once the tables exist).
    pub database: String,
    /// User name (the server's `default` user when unset).
    pub user: Option<String>,
    /// Password of `user`.
    pub password: Option<String>,
    /// Ralph's table of events (`event_id`, `emission_time`, `event`), which Open edX Aspects
    /// reads: every stored statement is written there too, and rows found there at start-up
    /// are indexed and served. Empty: not written.
    pub events_table: String,
    /// The table xlrs queries: each statement with its query fields.
    pub statements_table: String,
    /// A cluster (`remote_servers`) to create everything on, with replicated engines, quorum
    /// inserts and sequentially consistent reads. Empty: one server.
    pub cluster: String,
    /// How inserts and answers travel: LZ4-compressed (for a server across a network) or not
    /// (for one on the same host, where compressing only costs CPU on both sides).
    pub compression: Compression,
    /// The most memory (MiB) each process gives its filter of stored ids, which spares a batch
    /// reading the table's whole id column to find which of its ids are stored (sized for
    /// twice the statements stored, 1.5 bytes each: 256 MiB serves about 90 million). 0: no
    /// filter.
    pub id_filter_mib: u64,
    /// Queries of pages by agent each process runs at once, each on one engine thread; pages
    /// asked for meanwhile wait and are read together in the next (about one per engine core
    /// the LRS may use). Unset: half the engine's `max_threads`, at least 1 ([`page_queries`]).
    pub page_queries: Option<usize>,
}

/// How data travels between xlrs and ClickHouse.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// LZ4 both ways.
    #[default]
    Lz4,
    /// Uncompressed.
    None,
}

impl Default for ClickHouseSettings {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:8123".into(),
            database: "xapi".into(),
            user: None,
            password: None,
            events_table: "xapi_events_all".into(),
            statements_table: "xlrs_statements".into(),
            cluster: String::new(),
            compression: Compression::Lz4,
            id_filter_mib: 256,
            page_queries: None,
        }
    }
}

/// True for a plain SQL identifier: a letter or `_`, then letters, digits or `_`.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl ClickHouseSettings {
    /// Refuses values that cannot work: the URL, and table names spliced into SQL.
    pub fn validate(&self) -> Result<(), SettingError> {
        check_http_url("clickhouse.url", &self.url)?;
        for (key, name, may_be_empty) in [
            ("clickhouse.database", &self.database, false),
            ("clickhouse.events_table", &self.events_table, true),
            ("clickhouse.statements_table", &self.statements_table, false),
            ("clickhouse.cluster", &self.cluster, true),
        ] {
            if !(is_identifier(name) || may_be_empty && name.is_empty()) {
                return Err(SettingError::new(
                    key,
                    format!(
                        "`{name}` is not a plain identifier (a letter or `_`, then letters, digits, `_`)"
                    ),
                ));
            }
        }
        if self.id_filter_mib > 65_536 {
            return Err(SettingError::new(
                "clickhouse.id_filter_mib",
                "at most 65536 (64 GiB)",
            ));
        }
        if self
            .page_queries
            .is_some_and(|n| !(1..=MOST_PAGE_QUERIES).contains(&n))
        {
            return Err(SettingError::new(
                "clickhouse.page_queries",
                format!("from 1 to {MOST_PAGE_QUERIES}"),
            ));
        }
        if self.events_table == self.statements_table {
            return Err(SettingError::new(
                "clickhouse.statements_table",
                "must differ from clickhouse.events_table",
            ));
        }
        Ok(())
    }
}

/// A ClickHouse failure as a store error: the server out of reach, and an insert a cluster
/// kept refusing while the previous one waited for its quorum ([`turns`]), are
/// [`StoreError::Unavailable`].
fn failed(e: clickhouse::error::Error) -> StoreError {
    match e {
        clickhouse::error::Error::Network(_) | clickhouse::error::Error::TimedOut => {
            StoreError::Unavailable(format!("ClickHouse: {e}"))
        }
        e if turns::waits_for_quorum(&e) => StoreError::Unavailable(format!(
            "ClickHouse: the previous insert still waited for its quorum after {} s: {e}",
            turns::PATIENCE.as_secs()
        )),
        e => StoreError::Internal(format!("ClickHouse: {e}")),
    }
}

/// The database: statements, events and documents tables.
pub struct ClickHouse {
    /// A client of the configured database: table names below are unqualified.
    client: Client,
    /// The statements table.
    statements: String,
    /// The events table, when written.
    events: Option<String>,
    /// The cluster everything is created on, when there is one.
    cluster: Option<String>,
    /// The filter of stored ids, unless turned off.
    known_ids: Option<Arc<known_ids::KnownIds>>,
    /// How far the agent and activity index tables are filled.
    indexed: indexer::Indexed,
    /// What this process knows of the StatementRefs table's rows (`references::REFERENCES_…`).
    references: std::sync::atomic::AtomicU8,
    /// The StatementRefs question's reads, shared by the pages that ask together.
    references_read: xlrs_store::coalesced::Coalesced<u64>,
    /// The StatementRefs table's rows as sets, kept while this process alone writes.
    known_refs: references::KnownRefs,
    /// Pages by agent, read together when asked for together.
    agent_pages: agent_pages::AgentPages,
    /// The queries of pages by agent this process runs at once (`clickhouse.page_queries`).
    page_queries: usize,
    /// Whether the statements table numbers each row's block, so a round can tell whether
    /// another process's row of one of its ids landed first ([`races`]).
    block_numbers: std::sync::atomic::AtomicBool,
    /// Inserts sent again because a cluster refused them while the previous insert into their
    /// table waited for its quorum ([`turns`]).
    inserts_in_turn: std::sync::atomic::AtomicU64,
}

/// `ddl` as run on `cluster`, when there is one.
fn on_cluster(ddl: &str, cluster: Option<&str>) -> String {
    cluster.map_or_else(|| ddl.to_owned(), |c| cluster::clustered(ddl, c))
}

/// Connects, creates or migrates the tables, and indexes the events the statements table
/// lacks. An unreachable server is
/// [`StoreError::Unavailable`].
pub async fn open(settings: &ClickHouseSettings, writers: Writers) -> Result<Stores, StoreError> {
    let mut client =
        Client::default()
            .with_url(&settings.url)
            .with_compression(match settings.compression {
                Compression::Lz4 => clickhouse::Compression::Lz4,
                Compression::None => clickhouse::Compression::None,
            });
    if let Some(user) = &settings.user {
        client = client.with_user(user);
    }
    if let Some(password) = &settings.password {
        client = client.with_password(password);
    }
    let cluster = (!settings.cluster.is_empty()).then(|| settings.cluster.clone());
    if cluster.is_some() {
        for (name, value) in cluster::CLIENT_SETTINGS {
            client = client.with_setting(name, value);
        }
    }
    let db = &settings.database;
    let exists: u8 = client
        .query(&format!("EXISTS DATABASE {db}"))
        .fetch_one()
        .await
        .map_err(|e| failed(e).unreachable_at(&settings.url))?;
    if exists == 0 {
        client
            .query(&on_cluster(
                &format!("CREATE DATABASE IF NOT EXISTS {db}"),
                cluster.as_deref(),
            ))
            .execute()
            .await
            .map_err(failed)?;
    }
    let client = client.with_database(db);
    let known_ids = (settings.id_filter_mib > 0).then(|| {
        Arc::new(known_ids::KnownIds::new(
            client.clone(),
            settings.statements_table.clone(),
            settings.id_filter_mib << 20,
            writers == Writers::Many,
        ))
    });
    let page_queries = match settings.page_queries {
        Some(n) => n,
        None => page_queries(&client).await?,
    };
    let (agent_pages, pending_pages) = agent_pages::AgentPages::new();
    let database = Arc::new(ClickHouse {
        client,
        statements: settings.statements_table.clone(),
        events: (!settings.events_table.is_empty()).then(|| settings.events_table.clone()),
        cluster,
        known_ids,
        indexed: indexer::Indexed::new(writers),
        references: Default::default(),
        references_read: Default::default(),
        known_refs: Default::default(),
        agent_pages,
        page_queries,
        block_numbers: Default::default(),
        inserts_in_turn: Default::default(),
    });
    pending_pages.run(&database, page_queries);
    database.migrate().await?;
    let last = database.last_stored().await?;
    database.load_indexed(last).await?;
    indexer::spawn(&database, writers);
    let statements = GroupCommitted::new(database.clone(), last, writers);
    let adopted = database.adopt_events(&statements).await?;
    if adopted > 0 {
        tracing::info!(adopted, "indexed statements found in the events table");
    }
    database.build_known_ids(last).await?;
    let stores = statements.into_stores();
    let mut gauges: Vec<Arc<dyn xlrs_store::StoreGauges>> = vec![database];
    gauges.extend(stores.gauges.clone());
    Ok(Stores {
        gauges: Some(Arc::new(gauges)),
        ..stores
    })
}

/// The most `clickhouse.page_queries` may be, set or derived.
const MOST_PAGE_QUERIES: usize = 1024;

/// `clickhouse.page_queries` when unset: half the threads the engine gives a query
/// (`max_threads`, its cores unless the user's profile says otherwise), at least 1, so that
/// pages leave the engine cores for inserts, merges and other clients (on two cores shared
/// with the LRS, 1 served GETs by agent with a lower p99 than 2: bench/RESULTS.md,
/// 2026-12-06 06:33).
async fn page_queries(client: &Client) -> Result<usize, StoreError> {
    let threads: u64 = client
        .query("SELECT toUInt64(getSetting('max_threads'))")
        .fetch_one()
        .await
        .map_err(failed)?;
    let n = (threads / 2).clamp(1, MOST_PAGE_QUERIES as u64) as usize;
    tracing::info!(
        page_queries = n,
        max_threads = threads,
        "queries of pages by agent at once: half the engine's max_threads"
    );
    Ok(n)
}

/// Tables with at most this many statements have their filter of stored ids built before
/// xlrs starts serving (a fraction of a second); larger ones while it serves.
const BUILD_BEFORE_SERVING: u64 = 2_000_000;

impl ClickHouse {
    /// Builds the filter of stored ids (when there is one), from a cursor through which
    /// every row is visible now (the highest position found at start-up is `last`).
    async fn build_known_ids(&self, last: i64) -> Result<(), StoreError> {
        let Some(known) = &self.known_ids else {
            return Ok(());
        };
        if known.others_write() {
            let state = xlrs_store::ledger::current(self).await?;
            known.advance(state.through(last));
        }
        let count = known.count().await?;
        if count <= BUILD_BEFORE_SERVING {
            return known.build(count).await;
        }
        let known = known.clone();
        tokio::spawn(async move {
            if let Err(e) = known.build(count).await {
                tracing::warn!(error = %e, "the filter of stored ids could not be built; batches read the id column until it is");
            }
        });
        Ok(())
    }

    /// Runs one statement that returns nothing; an insert in its turn ([`turns`]: a statement
    /// of another kind is never refused so).
    async fn execute(&self, sql: &str) -> Result<(), StoreError> {
        self.in_turn(|| self.client.query(sql).execute()).await
    }

    /// Runs `insert`, which makes an insert anew each time it is called, in its turn: again
    /// while a cluster refuses it for the previous insert's quorum ([`turns`]).
    async fn in_turn<T, F, Fut>(&self, insert: F) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, clickhouse::error::Error>>,
    {
        turns::in_turn(&self.inserts_in_turn, insert)
            .await
            .map_err(failed)
    }

    /// Inserts `rows` into `table` through `client` in one insert (one block), in its turn.
    async fn insert_rows<T: clickhouse::RowWrite>(
        &self,
        client: &Client,
        table: &str,
        rows: &[T::Value<'_>],
    ) -> Result<(), StoreError> {
        self.in_turn(|| async {
            let mut insert = client.insert::<T>(table).await?;
            for row in rows {
                insert.write(row).await?;
            }
            insert.end().await
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clickhouse_settings_that_cannot_work_are_refused_at_start() {
        assert!(ClickHouseSettings::default().validate().is_ok());
        for (bad, key) in [
            (
                ClickHouseSettings {
                    url: "tcp://127.0.0.1:9000".into(),
                    ..ClickHouseSettings::default()
                },
                "clickhouse.url",
            ),
            (
                ClickHouseSettings {
                    database: "xapi; DROP TABLE x".into(),
                    ..ClickHouseSettings::default()
                },
                "clickhouse.database",
            ),
            (
                ClickHouseSettings {
                    statements_table: "xapi_events_all".into(),
                    ..ClickHouseSettings::default()
                },
                "clickhouse.statements_table",
            ),
            (
                ClickHouseSettings {
                    id_filter_mib: 100_000,
                    ..ClickHouseSettings::default()
                },
                "clickhouse.id_filter_mib",
            ),
            (
                ClickHouseSettings {
                    page_queries: Some(0),
                    ..ClickHouseSettings::default()
                },
                "clickhouse.page_queries",
            ),
        ] {
            assert!(
                matches!(bad.validate(), Err(SettingError { key: k, .. }) if k == key),
                "{key} is checked"
            );
        }
        let without_events = ClickHouseSettings {
            events_table: String::new(),
            ..ClickHouseSettings::default()
        };
        assert!(
            without_events.validate().is_ok(),
            "an empty events table turns it off"
        );
    }
}
