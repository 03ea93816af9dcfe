//! Forwarding (Ralph's `XAPI_FORWARDINGS`): the id of every statement the LRS accepts is queued
//! in a durable outbox for each configured target LRS, and one task per target POSTs the queued
//! statements, read back from the store as stored, in order, retrying with backoff while the
//! target is unreachable or failing.

pub mod outbox;
mod send;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

use uuid::Uuid;

use crate::settings::{ForwardingTarget, Settings};
use outbox::{Outbox, OutboxError};
use xlrs_store::StatementStore;

/// Why forwarding could not start or queue statements.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// The outbox failed.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// The HTTP client could not be built.
    #[error("forwarding client: {0}")]
    Client(String),
    /// Statements could not be queued in the outbox.
    #[error("forwarding outbox: {0}")]
    Queue(String),
}

/// Ids to queue, and where to say whether they were.
type PushJob = (
    Vec<String>,
    tokio::sync::oneshot::Sender<Result<(), String>>,
);

/// The outbox writer: each round commits every push waiting, in one transaction, so
/// concurrent requests share a disk flush (group commit).
fn group_commit(outbox: &Outbox, urls: Vec<String>, jobs: std::sync::mpsc::Receiver<PushJob>) {
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    while let Ok(first) = jobs.recv() {
        let mut ids = Vec::new();
        let mut replies = Vec::new();
        for (mut job_ids, reply) in std::iter::once(first).chain(jobs.try_iter()) {
            ids.append(&mut job_ids);
            replies.push(reply);
        }
        let done = outbox.push(&urls, &ids).map_err(|e| e.to_string());
        for reply in replies {
            let _ = reply.send(done.clone());
        }
    }
}

/// One target's configuration and counters.
struct Target {
    /// The target's key in the outbox: its base URL without a trailing `/`.
    url: String,
    settings: ForwardingTarget,
    /// Woken when statements are queued.
    wake: Notify,
    waiting: AtomicU64,
    forwarded: AtomicU64,
    refused: AtomicU64,
}

/// The outbox and the active targets; statements are queued with [`Forwarder::enqueue`].
pub struct Forwarder {
    /// To the thread writing the outbox.
    pushes: std::sync::mpsc::Sender<PushJob>,
    targets: Vec<Arc<Target>>,
}

impl Forwarder {
    /// Opens the outbox and starts one forwarding task per active target, reading statements
    /// from `statements`; `None` when no target is active.
    pub fn start(
        settings: &Settings,
        statements: Arc<dyn StatementStore>,
    ) -> Result<Option<Arc<Self>>, ForwardError> {
        let active: Vec<&ForwardingTarget> =
            settings.forwarding.iter().filter(|t| t.is_active).collect();
        if active.is_empty() {
            return Ok(None);
        }
        let outbox = Arc::new(Outbox::open(&settings.forwarding_outbox())?);
        let counts = outbox.counts()?;
        let targets: Vec<Arc<Target>> = active
            .into_iter()
            .map(|t| {
                let url = t.url.trim_end_matches('/').to_string();
                let (waiting, refused) = counts
                    .iter()
                    .find(|(target, ..)| *target == url)
                    .map_or((0, 0), |(_, w, r)| (*w, *r));
                Arc::new(Target {
                    url,
                    settings: t.clone(),
                    wake: Notify::new(),
                    waiting: AtomicU64::new(waiting),
                    forwarded: AtomicU64::new(0),
                    refused: AtomicU64::new(refused),
                })
            })
            .collect();
        for (url, waiting, _) in &counts {
            if *waiting > 0 && !targets.iter().any(|t| t.url == *url) {
                tracing::warn!(
                    target_url = %url,
                    waiting,
                    "statements wait in the forwarding outbox for a target no longer configured"
                );
            }
        }
        for target in &targets {
            let client = send::client(&target.settings)?;
            tokio::spawn(send::run(
                outbox.clone(),
                statements.clone(),
                target.clone(),
                client,
            ));
            tracing::info!(target_url = %target.url, waiting = target.waiting.load(Ordering::Relaxed), "forwarding");
        }
        let (pushes, jobs) = std::sync::mpsc::channel();
        let urls = targets.iter().map(|t| t.url.clone()).collect();
        std::thread::Builder::new()
            .name("xlrs-outbox".into())
            .spawn(move || group_commit(&outbox, urls, jobs))
            .map_err(|e| ForwardError::Queue(format!("starting the outbox writer: {e}")))?;
        Ok(Some(Arc::new(Self { pushes, targets })))
    }

    /// Queues accepted statements for every target; durable when it returns.
    pub async fn enqueue(&self, ids: &[Uuid]) -> Result<(), ForwardError> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let count = ids.len() as u64;
        // Counted first: a task may forward them before this call returns.
        for target in &self.targets {
            target.waiting.fetch_add(count, Ordering::Relaxed);
        }
        let (reply, answer) = tokio::sync::oneshot::channel();
        let pushed = match self.pushes.send((ids, reply)) {
            Ok(()) => answer
                .await
                .unwrap_or_else(|_| Err("the outbox writer stopped".into())),
            Err(_) => Err("the outbox writer stopped".into()),
        }
        .map_err(ForwardError::Queue);
        for target in &self.targets {
            if pushed.is_err() {
                target.waiting.fetch_sub(count, Ordering::Relaxed);
            }
            target.wake.notify_one();
        }
        pushed
    }

    /// Prometheus lines: statements waiting, forwarded and refused, per target.
    pub fn metrics(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        type Read = fn(&Target) -> u64;
        let rows: [(&str, &str, &str, Read); 3] = [
            (
                "xlrs_forwarding_waiting",
                "gauge",
                "Statements in the outbox waiting for a target.",
                |t| t.waiting.load(Ordering::Relaxed),
            ),
            (
                "xlrs_forwarded_total",
                "counter",
                "Statements a target acknowledged since start.",
                |t| t.forwarded.load(Ordering::Relaxed),
            ),
            (
                "xlrs_forwarding_refused",
                "gauge",
                "Statements a target refused for good (kept in the outbox's refused table).",
                |t| t.refused.load(Ordering::Relaxed),
            ),
        ];
        for (name, kind, help, value) in rows {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for target in &self.targets {
                let _ = writeln!(out, "{name}{{target=\"{}\"}} {}", target.url, value(target));
            }
        }
        out
    }
}
