//! Retention: statements older than `statements_max_age` (by `stored`, or by `timestamp`) and
//! documents not updated for `documents_max_age` are removed, by a pass every
//! `retention_interval`, in batches of `retention_batch` with a pause between them so
//! ingestion goes on. Positions are kept, so `more` cursors and Consistent-Through stay valid.
//! With several processes over one database, one runs each pass (a lease in a server record);
//! the last pass's report is kept there for `/admin/status`. A dry run reports what the next
//! pass removes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;
use xlrs_store::lifecycle::{Lifecycle, Located};
use xlrs_store::positions::now_micros;
use xlrs_store::{DocumentStore, StatementStore, StoreError};
use xlrs_xapi::format::Format;
use xlrs_xapi::query::StatementQuery;
use xlrs_xapi::time::format_micros;

use super::{AgeBy, Context, LifecycleError, LifecycleSettings};
use crate::forward::Forwarder;
use crate::records;

/// The pause between two batches of a pass.
const PAUSE: Duration = Duration::from_millis(20);

/// How long a process holds the pass it runs before another may run one.
const LEASE: Duration = Duration::from_secs(900);

/// Most documents a dry run counts.
const DRY_RUN_DOCUMENTS: usize = 10_000;

/// What a pass removed, or (dry run) would remove.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PassReport {
    /// When it started.
    pub at: String,
    /// Whether it only counted.
    pub dry_run: bool,
    /// Statements stored (or, by timestamp, made) before this went.
    pub statements_before: Option<String>,
    /// Documents last updated before this went.
    pub documents_before: Option<String>,
    /// Statements removed.
    pub statements: u64,
    /// Attachment contents removed (no statement left named them).
    pub attachments: u64,
    /// Documents removed.
    pub documents: u64,
    /// True when the dry run stopped counting documents at its bound.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub documents_counted_up_to_bound: bool,
    /// Forwarding queue entries of removed statements taken out.
    pub forwarding_entries: u64,
    /// How long it took (ms).
    pub took_ms: u64,
    /// Why it stopped early, when it did (what it removed before stays removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Runs one pass (or a dry run of it): what it removed.
pub async fn pass(cx: &Context<'_>, dry_run: bool) -> Result<PassReport, LifecycleError> {
    let lifecycle = cx.lifecycle.ok_or_else(|| {
        LifecycleError::Unsupported(
            "this store cannot remove statements: a v0.1 backend plugin (world `backend`) has no removal; a v0.2 `storage` backend has".into(),
        )
    })?;
    let started = Instant::now();
    let now = now_micros();
    let mut report = PassReport {
        at: format_micros(now),
        dry_run,
        ..PassReport::default()
    };
    let outcome = async {
        if let Some(age) = cx.settings.statements_max_age {
            let before = now - age.0.as_micros() as i64;
            report.statements_before = Some(format_micros(before));
            statements(cx, lifecycle, before, dry_run, &mut report).await?;
        }
        if let Some(age) = cx.settings.documents_max_age {
            let before = now - age.0.as_micros() as i64;
            report.documents_before = Some(format_micros(before));
            documents(cx, lifecycle, before, dry_run, &mut report).await?;
        }
        Ok::<_, LifecycleError>(())
    }
    .await;
    report.took_ms = started.elapsed().as_millis() as u64;
    if let Err(e) = outcome {
        report.error = Some(e.to_string());
    }
    Ok(report)
}

/// The statements part of a pass: pages in position order (by `stored`: only those before
/// `before`; by `timestamp`: every statement, keeping those that happened later).
async fn statements(
    cx: &Context<'_>,
    lifecycle: &dyn Lifecycle,
    before: i64,
    dry_run: bool,
    report: &mut PassReport,
) -> Result<(), LifecycleError> {
    let by = cx.settings.statements_age_by;
    if by == AgeBy::Stored && !dry_run {
        if let Some((statements, attachments)) = lifecycle.remove_stored_before(before).await? {
            report.statements += statements;
            report.attachments += attachments;
            return Ok(());
        }
    }
    let mut after = None;
    loop {
        let query = StatementQuery {
            until: (by == AgeBy::Stored).then_some(before - 1),
            after,
            ascending: true,
            include_voided: true,
            limit: cx.settings.retention_batch,
            format: Format::Exact,
            ..StatementQuery::default()
        };
        let page = cx.statements.query(&query).await?;
        let mut old: Vec<Located> = Vec::new();
        let mut bodies: Vec<Value> = Vec::new();
        for body in &page.statements {
            let (located, statement) = super::erasure::located(body)?;
            let happened = statement
                .get("timestamp")
                .and_then(Value::as_str)
                .and_then(xlrs_xapi::validate::parse_timestamp)
                .map_or(located.stored, |t| t.timestamp_micros());
            if by == AgeBy::Stored || happened < before {
                old.push(located);
                bodies.push(statement);
            }
        }
        if !old.is_empty() {
            let ids: Vec<Uuid> = old.iter().map(|l| l.id).collect();
            if let Some(forwarder) = cx.forwarder {
                report.forwarding_entries += forwarder
                    .forget(&ids, dry_run)
                    .await
                    .map_err(|e| LifecycleError::Forwarding(e.to_string()))?;
            }
            if !dry_run {
                let attachments = super::attachments_of(&bodies);
                report.attachments += lifecycle.remove_statements(&old, &attachments).await?;
            }
            report.statements += old.len() as u64;
        }
        match page.more {
            Some(more) if !page.statements.is_empty() => after = Some(more),
            _ => return Ok(()),
        }
        if !dry_run {
            tokio::time::sleep(PAUSE).await;
        }
    }
}

/// The documents part of a pass: batches of the oldest until none is old enough.
async fn documents(
    cx: &Context<'_>,
    lifecycle: &dyn Lifecycle,
    before: i64,
    dry_run: bool,
    report: &mut PassReport,
) -> Result<(), LifecycleError> {
    if dry_run {
        let found = lifecycle
            .documents_before(before, DRY_RUN_DOCUMENTS)
            .await?;
        report.documents = found.len() as u64;
        report.documents_counted_up_to_bound = found.len() == DRY_RUN_DOCUMENTS;
        return Ok(());
    }
    let batch = cx.settings.retention_batch;
    loop {
        let found = lifecycle.documents_before(before, batch).await?;
        if found.is_empty() {
            return Ok(());
        }
        lifecycle.remove_documents(&found, Some(before)).await?;
        report.documents += found.len() as u64;
        if found.len() < batch {
            return Ok(());
        }
        tokio::time::sleep(PAUSE).await;
    }
}

/// How often a running pass renews its lease.
const RENEW_EVERY: Duration = Duration::from_secs(300);

/// Runs `work`, every `every` until it is done handing `state` to `renew` and keeping what it
/// gives back; the output and the last state.
async fn renewing<T, S, R: std::future::Future<Output = S>>(
    work: impl std::future::Future<Output = T>,
    every: Duration,
    mut state: S,
    mut renew: impl FnMut(S) -> R,
) -> (T, S) {
    tokio::pin!(work);
    loop {
        tokio::select! {
            done = &mut work => return (done, state),
            _ = tokio::time::sleep(every) => state = renew(state).await,
        }
    }
}

/// The record the processes share: who runs a pass now, the last pass's report, and when the
/// last pass ended.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Shared {
    holder: String,
    until: i64,
    last: Option<PassReport>,
    /// When the last pass ended (µs since the epoch; 0 before any, or in a record an earlier
    /// xlrs wrote).
    #[serde(default)]
    ended: i64,
}

/// Whether a scheduled pass is due at `now`: none ended within the last `every` (less a tenth,
/// so that processes waking a little early do not wait a whole interval more). Each process
/// wakes every `every`, so with several processes one of them runs a pass about every `every`,
/// not each of them.
fn due(ended: i64, now: i64, every: Duration) -> bool {
    let every = every.as_micros() as i64;
    now - ended >= every - every / 10
}

fn scope() -> xlrs_store::DocumentScope {
    records::scope("retention", "")
}

/// The last pass's report, wherever it ran.
pub async fn last_pass(documents: &dyn DocumentStore) -> Result<Option<PassReport>, StoreError> {
    Ok(records::read::<Shared>(documents, &scope(), "pass")
        .await?
        .and_then(|(shared, _)| shared.last))
}

/// Runs a pass if no other process runs one now (taking the lease, as `me`: a name no other
/// pass shares) and, for a scheduled pass (`every`), none ended within that interval; its
/// report, or `None` when no pass ran. The lease is renewed while the pass runs and ends with
/// it, whether it failed or not.
pub async fn run_pass(
    cx: &Context<'_>,
    me: &str,
    every: Option<Duration>,
) -> Result<Option<PassReport>, LifecycleError> {
    let found = records::read::<Shared>(cx.documents, &scope(), "pass").await?;
    let now = now_micros();
    let (mut shared, etag) = found.map_or((Shared::default(), None), |(s, e)| (s, Some(e)));
    if !shared.holder.is_empty() && shared.holder != me && shared.until > now {
        return Ok(None);
    }
    if every.is_some_and(|every| !due(shared.ended, now, every)) {
        return Ok(None);
    }
    shared.holder = me.to_string();
    shared.until = now + LEASE.as_micros() as i64;
    let etag = match records::write(cx.documents, &scope(), "pass", &shared, etag).await {
        Ok(etag) => etag,
        Err(StoreError::PreconditionFailed(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    // The lease is renewed while the pass runs (a pass by `timestamp` over a large store
    // outlasts it), so no other process starts one beside it.
    let held = &shared;
    let (report, etag) = renewing(pass(cx, false), RENEW_EVERY, etag, |etag| async move {
        let mut renewed = held.clone();
        renewed.until = now_micros() + LEASE.as_micros() as i64;
        match records::write(cx.documents, &scope(), "pass", &renewed, Some(etag.clone())).await {
            Ok(etag) => etag,
            Err(e) => {
                tracing::warn!(error = %e, "retention: the pass's lease could not be renewed");
                etag
            }
        }
    })
    .await;
    let done = Shared {
        holder: String::new(),
        until: 0,
        last: report.as_ref().ok().cloned().or(shared.last),
        ended: now_micros(),
    };
    if let Err(e) = records::write(cx.documents, &scope(), "pass", &done, Some(etag)).await {
        tracing::warn!(error = %e, "retention: the pass's report was not kept, and its lease runs until it ends");
    }
    report.map(Some)
}

/// What the retention task needs, owned.
pub struct Retention {
    /// Statements.
    pub statements: Arc<dyn StatementStore>,
    /// Documents and the server's records.
    pub documents: Arc<dyn DocumentStore>,
    /// Removal.
    pub lifecycle: Arc<dyn Lifecycle>,
    /// The forwarding queue, when forwarding.
    pub forwarder: Option<Arc<Forwarder>>,
    /// The settings.
    pub settings: LifecycleSettings,
}

impl Retention {
    /// Runs a pass every `retention_interval` for ever.
    pub async fn run(self) {
        let me = Uuid::new_v4().to_string();
        let interval = self.settings.retention_interval.0;
        loop {
            tokio::time::sleep(interval).await;
            let cx = Context {
                statements: self.statements.as_ref(),
                documents: self.documents.as_ref(),
                lifecycle: Some(self.lifecycle.as_ref()),
                forwarder: self.forwarder.as_deref(),
                settings: &self.settings,
            };
            match run_pass(&cx, &me, Some(interval)).await {
                Ok(Some(report)) => tracing::info!(
                    statements = report.statements,
                    documents = report.documents,
                    attachments = report.attachments,
                    took_ms = report.took_ms,
                    error = report.error.as_deref().unwrap_or(""),
                    "retention pass"
                ),
                Ok(None) => tracing::debug!(
                    "retention: another process runs the pass, or ran one within the interval"
                ),
                Err(e) => tracing::warn!(error = %e, "retention pass failed"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_pass_renews_its_lease_every_interval_while_it_runs() {
        let (out, renewed) = renewing(
            async {
                tokio::time::sleep(Duration::from_secs(1000)).await;
                "done"
            },
            RENEW_EVERY,
            0,
            |n| async move { n + 1 },
        )
        .await;
        assert_eq!(out, "done");
        assert_eq!(renewed, 3, "at 300, 600 and 900 s of a 1,000 s pass");
        assert!(
            RENEW_EVERY * 2 < LEASE,
            "renewed well before the lease ends"
        );
    }

    #[test]
    fn a_scheduled_pass_is_due_once_none_ended_within_about_the_interval() {
        let hour = Duration::from_secs(3600);
        let h = 3_600_000_000;
        assert!(due(0, 5 * h, hour), "no pass yet");
        assert!(
            !due(5 * h, 5 * h + h / 2, hour),
            "another process ran one half an hour ago"
        );
        assert!(due(5 * h, 6 * h, hour), "an hour on");
        assert!(
            due(5 * h, 6 * h - h / 20, hour),
            "a process waking three minutes early does not wait another hour"
        );
    }
}
