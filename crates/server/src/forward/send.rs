//! One target's forwarding task: reads the queued statements from the store and POSTs them in
//! order, removes what the target acknowledges, sets aside what it refuses for good, and waits
//! with backoff while it fails.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::outbox::{Outbox, Queued};
use super::{ForwardError, Target};
use crate::settings::ForwardingTarget;
use xlrs_store::StatementStore;
use xlrs_xapi::version::{XapiVersion, VERSION_HEADER};

/// The first wait after a failure; it doubles up to [`LONGEST_WAIT`].
const FIRST_WAIT: Duration = Duration::from_millis(500);
/// The longest wait between attempts while a target fails.
const LONGEST_WAIT: Duration = Duration::from_secs(30);
/// How often an idle task looks at the outbox even without being woken.
const IDLE_CHECK: Duration = Duration::from_secs(5);

/// What one POST came to.
enum Outcome {
    /// 2xx: stored (or already there).
    Stored,
    /// A 4xx that re-sending cannot change (invalid for the target, conflicting id, too large).
    Refused(StatusCode, String),
    /// Unreachable, timed out, 5xx, 429, or an authentication/URL problem an operator can fix:
    /// kept and retried.
    Failed(String),
}

/// The HTTP client of a target.
pub fn client(target: &ForwardingTarget) -> Result<reqwest::Client, ForwardError> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(target.timeout_secs))
        .build()
        .map_err(|e| ForwardError::Client(e.to_string()))
}

/// Forwards `target`'s queue for ever.
pub async fn run(
    outbox: Arc<Outbox>,
    statements: Arc<dyn StatementStore>,
    target: Arc<Target>,
    client: reqwest::Client,
) {
    let mut wait = FIRST_WAIT;
    loop {
        let (url, size) = (target.url.clone(), target.settings.batch_size);
        let batch = match on_outbox(&outbox, move |outbox| outbox.next(&url, size)).await {
            Ok(batch) => batch,
            Err(error) => {
                tracing::error!(target_url = %target.url, %error, "reading the forwarding outbox");
                tokio::time::sleep(LONGEST_WAIT).await;
                continue;
            }
        };
        if batch.is_empty() {
            let _ = tokio::time::timeout(IDLE_CHECK, target.wake.notified()).await;
            continue;
        }
        let sent = match load(statements.as_ref(), batch).await {
            Ok(loaded) => forward(&outbox, &target, &client, &loaded).await,
            Err(error) => Err(error),
        };
        match sent {
            Ok(()) => wait = FIRST_WAIT,
            Err(error) => {
                tracing::warn!(
                    target_url = %target.url,
                    waiting = target.waiting.load(Ordering::Relaxed),
                    retry_in_ms = wait.as_millis() as u64,
                    %error,
                    "forwarding failed; statements stay in the outbox"
                );
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(LONGEST_WAIT);
            }
        }
    }
}

/// Runs `work` on the outbox off the async workers (SQLite blocks).
async fn on_outbox<T: Send + 'static>(
    outbox: &Arc<Outbox>,
    work: impl FnOnce(&Outbox) -> Result<T, super::outbox::OutboxError> + Send + 'static,
) -> Result<T, String> {
    let outbox = outbox.clone();
    match tokio::task::spawn_blocking(move || work(&outbox)).await {
        Ok(done) => done.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Sends one batch; a refused batch of several is sent again one statement at a time so that
/// only the statements the target refuses are set aside. Errs when the target failed.
async fn forward(
    outbox: &Arc<Outbox>,
    target: &Target,
    client: &reqwest::Client,
    batch: &[(Queued, Value)],
) -> Result<(), String> {
    match post(target, client, batch).await {
        Outcome::Stored => settle(outbox, target, batch, None).await,
        Outcome::Failed(error) => Err(error),
        Outcome::Refused(status, answer) if batch.len() == 1 => {
            tracing::error!(
                target_url = %target.url,
                %status,
                %answer,
                "the target refused a statement; it is kept in the outbox's refused table"
            );
            settle(outbox, target, batch, Some((status, answer))).await
        }
        Outcome::Refused(..) => {
            for one in batch {
                Box::pin(forward(outbox, target, client, std::slice::from_ref(one))).await?;
            }
            Ok(())
        }
    }
}

/// Removes a batch from the outbox once acknowledged, or sets it aside as refused.
async fn settle(
    outbox: &Arc<Outbox>,
    target: &Target,
    batch: &[(Queued, Value)],
    refused: Option<(StatusCode, String)>,
) -> Result<(), String> {
    let seqs: Vec<i64> = batch.iter().map(|(q, _)| q.seq).collect();
    let was_refused = refused.is_some();
    on_outbox(outbox, move |outbox| match refused {
        None => outbox.remove(&seqs),
        Some((status, answer)) => seqs
            .iter()
            .try_for_each(|seq| outbox.refuse(*seq, status.as_u16(), &answer)),
    })
    .await?;
    let n = batch.len() as u64;
    target.waiting.fetch_sub(n, Ordering::Relaxed);
    let counter = if was_refused {
        &target.refused
    } else {
        &target.forwarded
    };
    counter.fetch_add(n, Ordering::Relaxed);
    Ok(())
}

/// The queued statements as stored, without `stored` (the target sets its own). A statement
/// the store does not show yet (a store that makes writes visible after a delay) stays queued
/// for the next round; none found at all is an error, retried with backoff.
async fn load(
    statements: &dyn StatementStore,
    batch: Vec<Queued>,
) -> Result<Vec<(Queued, Value)>, String> {
    let mut loaded = Vec::with_capacity(batch.len());
    for queued in batch {
        let id = uuid::Uuid::parse_str(&queued.id).map_err(|e| format!("outbox id: {e}"))?;
        let Some(stored) = statements.get(id).await.map_err(|e| e.to_string())? else {
            continue;
        };
        let mut statement: Value = serde_json::from_str(&stored.body)
            .map_err(|e| format!("stored statement {id}: {e}"))?;
        if let Some(map) = statement.as_object_mut() {
            map.remove("stored");
        }
        loaded.push((queued, statement));
    }
    if loaded.is_empty() {
        return Err("the queued statements are not readable from the store yet".into());
    }
    Ok(loaded)
}

/// POSTs a batch as one JSON array, as xAPI 2.0.0 when it holds a 2.0 statement.
async fn post(target: &Target, client: &reqwest::Client, batch: &[(Queued, Value)]) -> Outcome {
    let version = XapiVersion::to_send(batch.iter().map(|(_, s)| s));
    let body: Vec<&Value> = batch.iter().map(|(_, s)| s).collect();
    let settings = &target.settings;
    let mut request = client
        .post(format!("{}/statements", target.url))
        .header(VERSION_HEADER, version.as_str())
        .json(&body);
    if let Some(user) = &settings.username {
        request = request.basic_auth(user, settings.password.as_deref());
    }
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let status = response.status();
    if status.is_success() {
        return Outcome::Stored;
    }
    let answer = response.text().await.unwrap_or_default();
    match status {
        StatusCode::BAD_REQUEST
        | StatusCode::CONFLICT
        | StatusCode::PAYLOAD_TOO_LARGE
        | StatusCode::UNPROCESSABLE_ENTITY => Outcome::Refused(status, answer),
        _ => Outcome::Failed(format!("{status}: {answer}")),
    }
}
