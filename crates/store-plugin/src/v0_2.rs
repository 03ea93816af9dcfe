//! The v0.2 `storage` contract: the backend keeps and finds records; the host applies the
//! xAPI rules on top. Duplicates, conflicts and voiding a voiding statement are checked with
//! [`Stored::check`] from what `status` answers, exactly as the database stores check them;
//! a query is a scan of the statements matching its filters merged with a scan of the
//! statements whose StatementRef targets one (xAPI "Filter Conditions for StatementRefs").

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::Value;
use uuid::Uuid;
use xlrs_plugin_host::bindings::v0_2::{
    IndexKey, Row, ScanFilter, StatementRecord, StoreError as E,
};
use xlrs_plugin_host::PluginInstance;
use xlrs_store::definitions::of_round;
use xlrs_store::group_commit::Positioned;
use xlrs_store::page::merge_page;
use xlrs_store::rules::{ids_of, Stored};
use xlrs_store::{Definition, Page, StoreError, StoredStatement};
use xlrs_xapi::query::StatementQuery;
use xlrs_xapi::statement::PreparedStatement;

use crate::{place, PluginStore};

/// How many referring statements one scan reads while looking for those whose target matches.
const REFERRING_CHUNK: u32 = 500;

impl PluginStore {
    /// Stores a batch through a v0.2 storage backend under the host's rules; the definitions
    /// the statements it kept carry.
    pub(crate) async fn insert_v0_2(
        &self,
        plugin: Arc<PluginInstance>,
        batch: &[PreparedStatement],
        last: &mut i64,
    ) -> Result<Vec<Definition>, StoreError> {
        if *last == 0 {
            // The first insert of this process: positions continue after the newest the
            // backend holds, whatever the clock did meanwhile.
            *last = self.newest(plugin.clone()).await?;
        }
        let asked: Vec<String> = ids_of(&batch.iter().collect::<Vec<_>>())
            .iter()
            .map(Uuid::to_string)
            .collect();
        let answer = self
            .call(plugin.clone(), move |p| p.status(&asked), from_plugin)
            .await?;
        let mut known = Vec::with_capacity(answer.len());
        for status in answer {
            let Ok(id) = Uuid::parse_str(&status.id) else {
                return Err(self.bad_answer(
                    &plugin,
                    &format!("answered the status of `{}`, which is not an id", status.id),
                ));
            };
            // An id only marked voided is not stored: nothing to compare it with.
            if let Some(hash) = status.content_hash {
                known.push((id, hash, status.voiding));
            }
        }
        let keep = Stored::from_iter(known).check(batch)?;
        if keep.is_empty() {
            return Ok(Vec::new());
        }
        let mut positions = self.positions.start(*last);
        let round = place(&mut positions, keep.iter().map(|&i| &batch[i]));
        let records: Vec<StatementRecord> = round.iter().copied().map(record).collect();
        let voided: Vec<String> = round
            .iter()
            .filter_map(|p| p.statement.index.voids.map(|t| t.to_string()))
            .collect();
        let definitions = of_round(&round);
        self.call(plugin, move |p| p.append(&records, &voided), from_plugin)
            .await?;
        *last = positions.last();
        Ok(definitions)
    }

    /// One statement by id from a v0.2 storage backend.
    pub(crate) async fn get_v0_2(
        &self,
        plugin: Arc<PluginInstance>,
        id: Uuid,
    ) -> Result<Option<StoredStatement>, StoreError> {
        let id = id.to_string();
        let found = self.call(plugin, move |p| p.row(&id), from_plugin).await?;
        Ok(found.map(|row| StoredStatement {
            body: row.body,
            voided: row.voided,
            stored: row.stored,
        }))
    }

    /// A page of a query over a v0.2 storage backend: its positions are `stored`.
    pub(crate) async fn query_v0_2(
        &self,
        plugin: Arc<PluginInstance>,
        q: &StatementQuery,
    ) -> Result<Page, StoreError> {
        let limit = q.limit.clamp(1, u32::MAX as usize - 1) as u32;
        let mut direct = window(q);
        with_filters(&mut direct, q);
        direct.limit = limit + 1;
        let direct = self.scan(plugin.clone(), direct).await?;
        let filtered = q.agent.is_some()
            || q.verb.is_some()
            || q.activity.is_some()
            || q.registration.is_some();
        let referring = if filtered {
            self.referring(plugin, q, limit + 1).await?
        } else {
            Vec::new()
        };
        let rows = |rows: Vec<Row>| {
            rows.into_iter()
                .map(|r| (r.stored, r.stored, r.body))
                .collect()
        };
        Ok(merge_page(q, rows(direct), rows(referring)))
    }

    /// Up to `wanted` statements in the query's window whose StatementRef targets a statement
    /// matching its filters, in query order: referring statements are scanned in chunks, and
    /// their targets checked with one scan per chunk.
    async fn referring(
        &self,
        plugin: Arc<PluginInstance>,
        q: &StatementQuery,
        wanted: u32,
    ) -> Result<Vec<Row>, StoreError> {
        let mut found = Vec::new();
        let mut next = window(q);
        next.referring = true;
        next.limit = REFERRING_CHUNK;
        loop {
            let chunk = self.scan(plugin.clone(), next.clone()).await?;
            let Some(last) = chunk.last().map(|r| r.stored) else {
                break;
            };
            let full = chunk.len() as u32 >= REFERRING_CHUNK;
            let targets: Vec<String> = chunk
                .iter()
                .filter_map(|r| r.statement_ref.clone())
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            let mut on_targets = ScanFilter {
                limit: targets.len().max(1) as u32,
                ids: Some(targets),
                voided: true,
                ..unfiltered(true)
            };
            with_filters(&mut on_targets, q);
            let matching: HashSet<String> = self
                .scan(plugin.clone(), on_targets)
                .await?
                .into_iter()
                .map(|r| r.id)
                .collect();
            for row in chunk {
                if row
                    .statement_ref
                    .as_ref()
                    .is_some_and(|t| matching.contains(t))
                {
                    found.push(row);
                    if found.len() as u32 >= wanted {
                        return Ok(found);
                    }
                }
            }
            if !full {
                break;
            }
            if q.ascending {
                next.since = Some(last);
            } else {
                next.until = Some(last - 1);
            }
        }
        Ok(found)
    }

    /// The statements whose StatementRef targets `target`, newest first (at most `limit`):
    /// the referring statements scanned in chunks.
    pub(crate) async fn referring_to_v0_2(
        &self,
        plugin: Arc<PluginInstance>,
        target: Uuid,
        limit: usize,
    ) -> Result<Vec<StoredStatement>, StoreError> {
        let target = target.to_string();
        let mut found = Vec::new();
        let mut next = ScanFilter {
            referring: true,
            voided: true,
            limit: REFERRING_CHUNK,
            ..unfiltered(false)
        };
        loop {
            let chunk = self.scan(plugin.clone(), next.clone()).await?;
            let Some(last) = chunk.last().map(|r| r.stored) else {
                break;
            };
            let full = chunk.len() as u32 >= REFERRING_CHUNK;
            for row in chunk {
                if row.statement_ref.as_deref() == Some(target.as_str()) {
                    found.push(StoredStatement {
                        body: row.body,
                        voided: row.voided,
                        stored: row.stored,
                    });
                    if found.len() >= limit {
                        return Ok(found);
                    }
                }
            }
            if !full {
                break;
            }
            next.until = Some(last - 1);
        }
        Ok(found)
    }

    /// One scan, its answer checked: no more rows than asked for.
    pub(crate) async fn scan(
        &self,
        plugin: Arc<PluginInstance>,
        filter: ScanFilter,
    ) -> Result<Vec<Row>, StoreError> {
        let limit = filter.limit as usize;
        let rows = self
            .call(plugin.clone(), move |p| p.scan(&filter), from_plugin)
            .await?;
        if rows.len() > limit {
            return Err(self.bad_answer(
                &plugin,
                &format!(
                    "answered a scan of at most {limit} with {} statements",
                    rows.len()
                ),
            ));
        }
        Ok(rows)
    }

    /// The newest position the backend holds (0 when empty).
    async fn newest(&self, plugin: Arc<PluginInstance>) -> Result<i64, StoreError> {
        let filter = ScanFilter {
            voided: true,
            limit: 1,
            ..unfiltered(false)
        };
        let newest = self.scan(plugin, filter).await?;
        Ok(newest.first().map_or(0, |r| r.stored))
    }
}

/// A v0.2 backend's error as the store's.
pub(crate) fn from_plugin(name: &str, e: E) -> StoreError {
    match e {
        E::Unavailable(m) => StoreError::Unavailable(format!("backend plugin `{name}`: {m}")),
        E::Failure(m) => StoreError::Internal(format!("backend plugin `{name}` failed: {m}")),
    }
}

/// A scan of everything, in this order.
pub(crate) fn unfiltered(ascending: bool) -> ScanFilter {
    ScanFilter {
        agent: None,
        related_agents: false,
        verb: None,
        activity: None,
        related_activities: false,
        registration: None,
        authority: None,
        attachment: None,
        ids: None,
        referring: false,
        voided: false,
        since: None,
        until: None,
        ascending,
        limit: 1,
    }
}

/// What a query asks of the statements it returns themselves: its window of positions (with
/// the cursor), authority, and whether voided ones count.
fn window(q: &StatementQuery) -> ScanFilter {
    let mut since = q.since;
    let mut until = q.until;
    if let Some(after) = q.after {
        if q.ascending {
            since = Some(since.map_or(after, |s| s.max(after)));
        } else {
            until = Some(until.map_or(after - 1, |u| u.min(after - 1)));
        }
    }
    ScanFilter {
        authority: q.authority.clone(),
        voided: q.include_voided,
        since,
        until,
        ..unfiltered(q.ascending)
    }
}

/// Adds the query's filters (agent, verb, activity, registration) to a scan.
fn with_filters(scan: &mut ScanFilter, q: &StatementQuery) {
    scan.agent = q.agent.clone();
    scan.related_agents = q.related_agents;
    scan.verb = q.verb.clone();
    scan.activity = q.activity.clone();
    scan.related_activities = q.related_activities;
    scan.registration = q.registration.clone();
}

fn keys(list: &[(String, bool)]) -> Vec<IndexKey> {
    list.iter()
        .map(|(key, direct)| IndexKey {
            key: key.clone(),
            direct: *direct,
        })
        .collect()
}

/// The record of a positioned statement.
pub(crate) fn record(positioned: Positioned<'_>) -> StatementRecord {
    let (s, stored) = (positioned.statement, positioned.stored);
    let body = positioned.body();
    let attachments = if body.contains("\"attachments\"") {
        serde_json::from_str::<Value>(&body)
            .map(|v| xlrs_xapi::statement::attachment_hashes([&v]))
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    StatementRecord {
        id: s.id.to_string(),
        body,
        stored,
        content_hash: s.content_hash.clone(),
        verb: s.index.verb.clone(),
        agents: keys(&s.index.agents),
        activities: keys(&s.index.activities),
        registration: s.index.registration.clone(),
        statement_ref: s.index.statement_ref.map(|u| u.to_string()),
        voiding: s.index.voids.is_some(),
        authority: s.index.authority.clone(),
        attachments,
    }
}
