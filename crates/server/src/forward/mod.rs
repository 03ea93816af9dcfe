//! Forwarding (Ralph's `XAPI_FORWARDINGS`): every statement the LRS accepts is sent on to each
//! configured target LRS — or handed to a reactor plugin (`plugin:<name>`, [`react`]) — in
//! order, retrying with backoff while the target is unreachable or failing. What waits is kept durably: in the database store itself, read from a cursor per
//! target that one process at a time holds ([`cursor`]), or, on the embedded store, in an
//! outbox file of ids ([`outbox`]).

pub mod cursor;
pub mod outbox;
pub mod queue;
pub mod react;
mod send;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

use uuid::Uuid;

use crate::settings::{ForwardingTarget, Settings};
use queue::Queue;
use xlrs_plugin_host::PluginRegistry;
use xlrs_store::Stores;

/// Why forwarding could not start or queue statements.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// The outbox file failed.
    #[error("forwarding outbox: {0}")]
    Outbox(String),
    /// The database store's forwarding records could not be read or written.
    #[error("forwarding cursors: {0}")]
    Store(#[from] xlrs_store::StoreError),
    /// The HTTP client could not be built.
    #[error("forwarding client: {0}")]
    Client(String),
    /// Statements could not be queued in the outbox.
    #[error("forwarding outbox: {0}")]
    Queue(String),
}

/// One target's configuration and counters.
struct Target {
    /// The target's key in the queue: its base URL without a trailing `/`.
    url: String,
    settings: ForwardingTarget,
    /// Woken when statements are queued.
    wake: Notify,
    waiting: AtomicU64,
    forwarded: AtomicU64,
    refused: AtomicU64,
    /// Whether this process forwards the target now.
    holding: AtomicBool,
    /// `stored` (µs) of the oldest statement waiting, 0 when none is known to wait.
    oldest: AtomicI64,
}

/// The queue and the active targets; statements are queued with [`Forwarder::enqueue`].
pub struct Forwarder {
    queue: Arc<Queue>,
    targets: Vec<Arc<Target>>,
    /// Each target's HTTP client, in the order of `targets`.
    clients: Vec<reqwest::Client>,
    /// Where attachments' contents are (sent with their statements).
    content: Arc<dyn xlrs_store::ContentStore>,
    reactors: Arc<react::Reactors>,
}

/// What sending refused statements again did.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Retried {
    /// Queued again (the outbox), to be sent by the forwarding task at once.
    pub requeued: u64,
    /// Sent now and accepted (a database store's log, which does not queue them again).
    pub sent: u64,
    /// Sent now and refused again (kept, with the new answer).
    pub refused_again: u64,
}

impl Forwarder {
    /// Opens the queue and starts one forwarding task per active target; `None` when no
    /// target is active. A database store is its own queue (any number of processes over it
    /// forward, one at a time per target); the embedded store and a backend plugin queue in
    /// this process's outbox file.
    pub async fn start(
        settings: &Settings,
        stores: &Stores,
        plugins: &Arc<PluginRegistry>,
    ) -> Result<Option<Arc<Self>>, ForwardError> {
        let active: Vec<&ForwardingTarget> =
            settings.forwarding.iter().filter(|t| t.is_active).collect();
        if active.is_empty() {
            return Ok(None);
        }
        let urls: Vec<String> = active
            .iter()
            .map(|t| t.url.trim_end_matches('/').to_string())
            .collect();
        let queue = Arc::new(match settings.store.is_database() {
            true => Queue::Log(
                cursor::StoreLog::open(stores.statements.clone(), stores.documents.clone(), &urls)
                    .await?,
            ),
            false => Queue::File(
                outbox::FileQueue::open(
                    &settings.forwarding_outbox(),
                    urls.clone(),
                    stores.statements.clone(),
                )
                .map_err(ForwardError::Outbox)?,
            ),
        });
        let mut targets = Vec::with_capacity(active.len());
        for (t, url) in active.into_iter().zip(urls) {
            let counts = queue
                .counts(&url, t.batch_size)
                .await
                .map_err(ForwardError::Outbox)?;
            targets.push(Arc::new(Target {
                url,
                settings: t.clone(),
                wake: Notify::new(),
                waiting: AtomicU64::new(counts.waiting),
                forwarded: AtomicU64::new(0),
                refused: AtomicU64::new(counts.refused),
                holding: AtomicBool::new(false),
                oldest: AtomicI64::new(0),
            }));
        }
        let reactors = Arc::new(react::Reactors {
            plugins: plugins.clone(),
            writer: std::sync::Mutex::new(None),
        });
        let mut clients = Vec::with_capacity(targets.len());
        for target in &targets {
            let client = send::client(&target.settings)?;
            clients.push(client.clone());
            tokio::spawn(send::run(
                queue.clone(),
                target.clone(),
                client,
                stores.content.clone(),
                reactors.clone(),
            ));
            tracing::info!(target_url = %target.url, waiting = target.waiting.load(Ordering::Relaxed), "forwarding");
            if let Some(Err(why)) = target.settings.reactor().map(|name| plugins.reactor(name)) {
                tracing::warn!(target_url = %target.url, "statements wait until the reactor serves: {why}");
            }
        }
        Ok(Some(Arc::new(Self {
            queue,
            targets,
            clients,
            content: stores.content.clone(),
            reactors,
        })))
    }

    /// Queues accepted statements for every target; durable when it returns.
    pub async fn enqueue(&self, ids: &[Uuid]) -> Result<(), ForwardError> {
        if ids.is_empty() {
            return Ok(());
        }
        let count = ids.len() as u64;
        let counted = self.queue.counts_pushes();
        // Counted first: a task may forward them before this call returns.
        for target in self.targets.iter().filter(|_| counted) {
            target.waiting.fetch_add(count, Ordering::Relaxed);
        }
        let pushed = self.queue.push(ids).await.map_err(ForwardError::Queue);
        for target in &self.targets {
            if pushed.is_err() && counted {
                target.waiting.fetch_sub(count, Ordering::Relaxed);
            }
            target.wake.notify_one();
        }
        pushed
    }

    /// The process stops: targets it forwards are handed over to another process over the
    /// same database at once (statements in flight are sent again by the next holder).
    pub async fn stop(&self) {
        self.set_writer(None);
        self.queue.stop().await;
    }

    /// Sets how statements reactors derive are stored (the server's write path, once it is
    /// built); None drops it (the writer holds the server's state).
    pub fn set_writer(&self, writer: Option<react::DerivedWriter>) {
        *self
            .reactors
            .writer
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = writer;
    }

    /// Takes erased statements out of the queue of every target (`dry_run`: counts them); how
    /// many entries.
    pub async fn forget(&self, ids: &[Uuid], dry_run: bool) -> Result<u64, ForwardError> {
        let forgotten = self
            .queue
            .forget(ids, dry_run)
            .await
            .map_err(ForwardError::Queue)?;
        if !dry_run && self.queue.counts_pushes() {
            for target in &self.targets {
                if let Ok(counts) = self.queue.counts(&target.url, 0).await {
                    target.waiting.store(counts.waiting, Ordering::Relaxed);
                    target.refused.store(counts.refused, Ordering::Relaxed);
                }
            }
        }
        Ok(forgotten)
    }

    /// The statements each target refused, newest first (at most `limit` per target).
    pub async fn refused(&self, limit: usize) -> Result<Vec<serde_json::Value>, ForwardError> {
        let mut all = Vec::new();
        for target in &self.targets {
            for refused in self
                .queue
                .refused(&target.url, limit)
                .await
                .map_err(ForwardError::Queue)?
            {
                let mut shown = serde_json::to_value(refused).unwrap_or_default();
                shown["target"] = serde_json::json!(target.url);
                all.push(shown);
            }
        }
        Ok(all)
    }

    /// Sends again what `target` (every target when `None`) refused: the outbox queues them
    /// again; over a database store's log (whose cursor has passed them) they are sent now,
    /// and what the target accepts leaves the refusals.
    pub async fn retry(&self, target: Option<&str>) -> Result<Retried, ForwardError> {
        let mut retried = Retried::default();
        for (t, client) in self
            .targets
            .iter()
            .zip(&self.clients)
            .filter(|(t, _)| target.is_none_or(|u| u.trim_end_matches('/') == t.url))
        {
            match self.queue.as_ref() {
                Queue::File(file) => {
                    retried.requeued += file.retry(&t.url).await.map_err(ForwardError::Queue)?;
                }
                Queue::Log(log) => {
                    let refused = log
                        .refused_statements(&t.url)
                        .await
                        .map_err(ForwardError::Queue)?;
                    for waiting in &refused {
                        let id = waiting.statement["id"].as_str().unwrap_or_default();
                        let outcome = send::send_again(
                            t,
                            client,
                            self.content.as_ref(),
                            &self.reactors,
                            waiting,
                        )
                        .await;
                        match outcome {
                            send::Outcome::Stored => {
                                log.forgive(&t.url, id).await.map_err(ForwardError::Queue)?;
                                t.forwarded.fetch_add(1, Ordering::Relaxed);
                                retried.sent += 1;
                            }
                            send::Outcome::Refused(status, answer) => {
                                log.refuse(&t.url, id, status.as_u16(), &answer)
                                    .await
                                    .map_err(ForwardError::Queue)?;
                                retried.refused_again += 1;
                            }
                            send::Outcome::Failed(e) => {
                                return Err(ForwardError::Queue(format!(
                                "sending to {} failed ({e}); the refused statements stay listed",
                                t.url
                            )))
                            }
                        }
                    }
                }
            }
            if let Ok(counts) = self.queue.counts(&t.url, t.settings.batch_size).await {
                if self.queue.counts_pushes() {
                    t.waiting.store(counts.waiting, Ordering::Relaxed);
                }
                t.refused.store(counts.refused, Ordering::Relaxed);
            }
            t.wake.notify_one();
        }
        Ok(retried)
    }

    /// Whether `url` names a target.
    pub fn has_target(&self, url: &str) -> bool {
        self.targets
            .iter()
            .any(|t| t.url == url.trim_end_matches('/'))
    }

    /// Each target as `/admin/status` shows it.
    pub fn status(&self) -> Vec<serde_json::Value> {
        let now = xlrs_store::positions::now_micros();
        self.targets
            .iter()
            .map(|t| {
                let oldest = t.oldest.load(Ordering::Relaxed);
                serde_json::json!({
                    "target": t.url,
                    "queue": if self.queue.counts_pushes() { "outbox file" } else { "database" },
                    "forwarding_here": t.holding.load(Ordering::Relaxed),
                    "waiting": t.waiting.load(Ordering::Relaxed),
                    "forwarded": t.forwarded.load(Ordering::Relaxed),
                    "refused": t.refused.load(Ordering::Relaxed),
                    "lag_seconds": if oldest == 0 { 0.0 } else { (now - oldest).max(0) as f64 / 1e6 },
                })
            })
            .collect()
    }

    /// Prometheus lines: statements waiting, forwarded and refused, per target.
    pub fn metrics(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        type Read = fn(&Target) -> u64;
        let rows: [(&str, &str, &str, Read); 5] = [
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
                "Statements a target refused for good (set aside with its answer).",
                |t| t.refused.load(Ordering::Relaxed),
            ),
            (
                "xlrs_forwarding_holder",
                "gauge",
                "1 while this process forwards the target (over a database store, one process at a time does).",
                |t| u64::from(t.holding.load(Ordering::Relaxed)),
            ),
            (
                "xlrs_forwarding_lag_seconds",
                "gauge",
                "Age of the oldest statement this process is sending to the target (0: none waits).",
                |t| match t.oldest.load(Ordering::Relaxed) {
                    0 => 0,
                    oldest => (xlrs_store::positions::now_micros() - oldest).max(0) as u64 / 1_000_000,
                },
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
