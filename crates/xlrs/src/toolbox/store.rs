//! The built-in stores as toolbox backends (`sqlite`, `clickhouse`, `mongodb`,
//! `elasticsearch`): opened with the same settings and code as the server, so statements
//! written here land in exactly the layout the server (and Ralph, for the database stores)
//! reads. Statements are read in store order, each voided one just before the statement that
//! voids it.

use std::io::{BufRead, Write};
use std::sync::Arc;

use anyhow::Context;
use serde_json::{json, Value};

use uuid::Uuid;
use xlrs_plugin_host::PluginRegistry;
use xlrs_server::settings::Settings;
use xlrs_store::{StatementStore, StoreError};
use xlrs_xapi::query::StatementQuery;
use xlrs_xapi::statement::{prepare, PreparedStatement};
use xlrs_xapi::validate::validate_statement;
use xlrs_xapi::version::XapiVersion;

use super::backends::AsyncBackend;
use super::lines::batches;
use super::progress::Progress;
use super::{ReadFrom, WriteTo, Written};

/// Statements per page when reading.
const PAGE: usize = 1000;

/// Opens the statement store `settings` name.
pub async fn open(settings: &Settings) -> anyhow::Result<Arc<dyn StatementStore>> {
    let plugins = PluginRegistry::open(settings.plugin_paths(), false)?;
    let stores = xlrs_server::open_stores(settings, &plugins).await?;
    Ok(stores.statements)
}

/// A built-in store, opened with the server's settings.
pub struct Store {
    /// Its statements.
    pub statements: Arc<dyn StatementStore>,
    /// Its name (`sqlite`, `clickhouse`, …).
    pub name: &'static str,
    /// The authority of statements written without one.
    pub authority: Value,
}

impl AsyncBackend for Store {
    async fn read(&self, from: &ReadFrom, out: &mut dyn Write) -> anyhow::Result<u64> {
        read(self.statements.as_ref(), from.after, out).await
    }

    async fn write(&self, to: &WriteTo, input: &mut dyn BufRead) -> anyhow::Result<Written> {
        let count = write(
            self.statements.clone(),
            input,
            to.chunk.max(1),
            &self.authority,
        )
        .await?;
        Ok(Written {
            count,
            place: format!("written to the {} store", self.name),
        })
    }
}

/// Writes every statement of the store to `out` as JSON lines, oldest first (a voided one
/// before the statement voiding it), resuming after store position `after` when given. On
/// failure the error names the position to resume from.
pub async fn read(
    store: &dyn StatementStore,
    after: Option<i64>,
    out: &mut dyn Write,
) -> anyhow::Result<u64> {
    let progress = Progress::new("read");
    let mut after = after;
    let mut count = 0u64;
    loop {
        let query = StatementQuery {
            limit: PAGE,
            ascending: true,
            after,
            ..StatementQuery::default()
        };
        let page = store.query(&query).await.with_context(|| match after {
            Some(a) => format!("resume with --after {a}"),
            None => "nothing read yet".to_string(),
        })?;
        for statement in &page.statements {
            if let Some(target) = super::voided::target_of(statement) {
                if let Some(voided) = store.get(target).await?.filter(|s| s.voided) {
                    writeln!(out, "{}", voided.body)?;
                    count += 1;
                    progress.add(1);
                }
            }
            writeln!(out, "{statement}")?;
        }
        count += page.statements.len() as u64;
        progress.add(page.statements.len() as u64);
        match page.more {
            Some(position) => after = Some(position),
            None => break,
        }
    }
    progress.finish();
    Ok(count)
}

/// Stores the JSON lines of `input` in batches of `chunk`, each checked against the xAPI
/// rules first. A statement keeps its `authority` (else `authority` is set); its `stored` is
/// the store's. Identical statements already stored are skipped, so a re-run stores nothing
/// twice (a statement without an id gets a new one each run: give ids to copy safely). The
/// next batch is checked while the store commits the previous one.
pub async fn write(
    store: Arc<dyn StatementStore>,
    input: &mut dyn BufRead,
    chunk: usize,
    authority: &Value,
) -> anyhow::Result<u64> {
    let progress = Progress::new("written");
    let mut count = 0u64;
    let mut committing: Option<(u64, tokio::task::JoinHandle<_>)> = None;
    for batch in batches(input, chunk) {
        let prepared = batch.map_err(anyhow::Error::from).and_then(|batch| {
            batch
                .into_iter()
                .map(|(n, line)| checked(n, &line, authority))
                .collect()
        });
        // The batch before is settled first, so the error of an earlier batch comes first.
        if let Some((n, insert)) = committing.take() {
            settle(insert, &mut count, n, &progress).await?;
        }
        let prepared: Vec<_> = prepared?;
        let n = prepared.len() as u64;
        let store = store.clone();
        committing = Some((
            n,
            tokio::spawn(async move { store.insert(prepared, Vec::new()).await }),
        ));
    }
    if let Some((n, insert)) = committing {
        settle(insert, &mut count, n, &progress).await?;
    }
    progress.finish();
    Ok(count)
}

/// Waits for a batch's commit and counts it.
async fn settle(
    insert: tokio::task::JoinHandle<Result<(), StoreError>>,
    count: &mut u64,
    n: u64,
    progress: &Progress,
) -> anyhow::Result<()> {
    insert
        .await?
        .with_context(|| format!("storing a batch ({count} statements stored before it)"))?;
    *count += n;
    progress.add(n);
    Ok(())
}

/// Input line `number` as a statement ready to store: checked against the xAPI rules of its
/// version, keeping its own authority.
fn checked(number: usize, line: &str, authority: &Value) -> anyhow::Result<PreparedStatement> {
    let mut statement: Value =
        serde_json::from_str(line).with_context(|| format!("input line {number}: not JSON"))?;
    let version = XapiVersion::of_statement(&statement);
    // What an LRS sets is not the client's to send; a copy carries it, and keeps its authority.
    let own_authority = statement.as_object_mut().and_then(|map| {
        map.remove("stored");
        map.remove("authority")
    });
    validate_statement(&statement, version)
        .map_err(|e| anyhow::anyhow!("input line {number}: {e}"))?;
    prepare(
        statement,
        own_authority.as_ref().unwrap_or(authority),
        version,
        Uuid::new_v4,
    )
    .map_err(|e| anyhow::anyhow!("input line {number}: {e}"))
}

/// The authority given to statements that arrive without one.
pub fn toolbox_authority(settings: &Settings) -> Value {
    json!({
        "objectType": "Agent",
        "name": "xlrs toolbox",
        "account": {"homePage": settings.authority_home_page, "name": "xlrs-toolbox"},
    })
}
