//! One target's forwarding task: takes the oldest statements waiting, POSTs them in order,
//! settles what the target acknowledges, sets aside what it refuses for good, and waits with
//! backoff while it fails. Over a database store it waits while another process holds the
//! target.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;

use super::queue::{Next, Queue, Waiting};
use super::react::Reactors;
use super::{ForwardError, Target};
use crate::api::multipart;
use crate::settings::ForwardingTarget;
use xlrs_store::ContentStore;
use xlrs_xapi::version::{XapiVersion, VERSION_HEADER};

/// The first wait after a failure; it doubles up to the queue's longest wait.
const FIRST_WAIT: Duration = Duration::from_millis(500);
/// How often a process looks whether the holder of a target's lease let it run out.
const HELD_ELSEWHERE_CHECK: Duration = Duration::from_secs(5);

/// What one POST came to.
pub(super) enum Outcome {
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
    queue: Arc<Queue>,
    target: Arc<Target>,
    client: reqwest::Client,
    content: Arc<dyn ContentStore>,
    reactors: Arc<Reactors>,
) {
    let sender = Sender {
        target: &target,
        client: &client,
        content: content.as_ref(),
        reactors: &reactors,
    };
    let mut wait = FIRST_WAIT;
    loop {
        let next = queue.next(&target.url, target.settings.batch_size).await;
        let batch = match next {
            Ok(Next::Batch(batch)) => batch,
            Ok(Next::HeldElsewhere) => {
                if target.holding.swap(false, Ordering::Relaxed) {
                    tracing::info!(target_url = %target.url, "another process forwards the target now");
                }
                target.oldest.store(0, Ordering::Relaxed);
                // What the holder has still to send, as this process sees it.
                if let Ok(counts) = queue.counts(&target.url, target.settings.batch_size).await {
                    target.waiting.store(counts.waiting, Ordering::Relaxed);
                    target.refused.store(counts.refused, Ordering::Relaxed);
                }
                tokio::time::sleep(HELD_ELSEWHERE_CHECK).await;
                continue;
            }
            Err(error) => {
                tracing::error!(target_url = %target.url, %error, "reading what waits for forwarding");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(queue.longest_wait());
                continue;
            }
        };
        target.holding.store(true, Ordering::Relaxed);
        if !queue.counts_pushes() {
            target.waiting.store(batch.len() as u64, Ordering::Relaxed);
        }
        let oldest = batch.iter().map(|w| w.stored).min().unwrap_or(0);
        target.oldest.store(oldest, Ordering::Relaxed);
        if batch.is_empty() {
            let _ = tokio::time::timeout(queue.idle_check(), target.wake.notified()).await;
            continue;
        }
        match forward(&queue, &sender, &batch).await {
            Ok(()) => wait = FIRST_WAIT,
            Err(error) => {
                tracing::warn!(
                    target_url = %target.url,
                    waiting = target.waiting.load(Ordering::Relaxed),
                    retry_in_ms = wait.as_millis() as u64,
                    %error,
                    "forwarding failed; the statements wait"
                );
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(queue.longest_wait());
            }
        }
    }
}

/// Sends one statement a target refused once again, as the forwarding task would.
pub(super) async fn send_again(
    target: &Target,
    client: &reqwest::Client,
    content: &dyn ContentStore,
    reactors: &Reactors,
    statement: &Waiting,
) -> Outcome {
    let sender = Sender {
        target,
        client,
        content,
        reactors,
    };
    post(&sender, std::slice::from_ref(statement)).await
}

/// What a POST to a target needs.
struct Sender<'a> {
    target: &'a Target,
    client: &'a reqwest::Client,
    /// Where the attachments' contents are.
    content: &'a dyn ContentStore,
    /// What a reactor target needs.
    reactors: &'a Reactors,
}

/// Sends one batch; a refused batch of several is sent again one statement at a time so that
/// only the statements the target refuses are set aside. Errs when the target failed.
async fn forward(queue: &Queue, sender: &Sender<'_>, batch: &[Waiting]) -> Result<(), String> {
    let target = sender.target;
    match post(sender, batch).await {
        Outcome::Stored => settle(queue, target, batch, None).await,
        Outcome::Failed(error) => Err(error),
        Outcome::Refused(status, answer) if batch.len() == 1 => {
            tracing::error!(
                target_url = %target.url,
                %status,
                %answer,
                "the target refused a statement; it is set aside with the answer"
            );
            settle(queue, target, batch, Some((status, &answer))).await
        }
        Outcome::Refused(..) => {
            for one in batch {
                Box::pin(forward(queue, sender, std::slice::from_ref(one))).await?;
            }
            Ok(())
        }
    }
}

/// Takes a batch out of the queue once acknowledged, or sets it aside as refused.
async fn settle(
    queue: &Queue,
    target: &Target,
    batch: &[Waiting],
    refused: Option<(StatusCode, &str)>,
) -> Result<(), String> {
    let was_refused = refused.is_some();
    queue
        .settle(
            &target.url,
            batch,
            refused.map(|(status, answer)| (status.as_u16(), answer)),
        )
        .await?;
    let n = batch.len() as u64;
    let counter = if was_refused {
        &target.refused
    } else {
        &target.forwarded
    };
    counter.fetch_add(n, Ordering::Relaxed);
    let _ = target
        .waiting
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |w| {
            Some(w.saturating_sub(n))
        });
    Ok(())
}

/// POSTs a batch as one JSON array, as xAPI 2.0.0 when it holds a 2.0 statement; with the
/// contents of its attachments as multipart/mixed when the store holds them.
async fn post(sender: &Sender<'_>, batch: &[Waiting]) -> Outcome {
    let target = sender.target;
    if let Some(name) = target.settings.reactor() {
        return super::react::call(sender.reactors, name, batch).await;
    }
    let version = XapiVersion::to_send(batch.iter().map(|w| &w.statement));
    let statements: Vec<&serde_json::Value> = batch.iter().map(|w| &w.statement).collect();
    let json = match serde_json::to_vec(&statements) {
        Ok(json) => json,
        Err(e) => return Outcome::Failed(format!("serializing the batch: {e}")),
    };
    let wanted = multipart::attachment_hashes(statements.iter().copied());
    let attachments = match wanted.is_empty() {
        true => Vec::new(),
        false => match sender.content.attachments(&wanted).await {
            Ok(found) => found,
            Err(e) => return Outcome::Failed(format!("reading the batch's attachments: {e}")),
        },
    };
    let (content_type, body) = match attachments.is_empty() {
        true => ("application/json".to_string(), json),
        false => multipart::with_attachments(json, attachments),
    };
    let settings = &target.settings;
    let mut request = sender
        .client
        .post(format!("{}/statements", target.url))
        .header(VERSION_HEADER, version.as_str())
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .body(body);
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
