//! Inserts taking turns on a cluster. With `insert_quorum_parallel = 0` (see [`crate::cluster`])
//! a replicated table takes one quorum insert at a time: while the previous insert into it
//! waits for its quorum, the server refuses the next with code 286,
//! `UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE`, before writing any of it into that table. Several
//! xlrs processes writing one cluster meet that all the time (the ledger's reservations, the
//! rounds, the claims), so every insert is sent again while it is refused so, from 5 ms apart,
//! doubling up to 200 ms, for up to [`PATIENCE`]; a refusal that lasts longer is answered as
//! the database being unavailable (the client may send again). A block already written by an
//! earlier try (an insert of several blocks, or one whose view's table refused it after its
//! own table took it) is deduplicated by the replicated table when sent again, and its views
//! still get theirs ([`crate::cluster::CLIENT_SETTINGS`]).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// ClickHouse's code for an insert refused because the previous one into the table still
/// waits for its quorum.
const UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE: u32 = 286;

/// How long an insert refused for a previous one's quorum is sent again: a round makes four
/// inserts one after the other while its positions are reserved (the reservation, its
/// admissions, its events, its statements), which then stay within the reservation's 30 s
/// lease ([`xlrs_store::ledger::LEASE_MICROS`]) unless the round also raced another process
/// and is written again (a round written after its lease is logged as a warning).
pub(crate) const PATIENCE: Duration = Duration::from_secs(5);

/// The first wait before an insert is sent again, and the longest.
const FIRST_WAIT: Duration = Duration::from_millis(5);
const LONGEST_WAIT: Duration = Duration::from_millis(200);

/// The server's error code in `e`, when `e` is an exception the server sent.
fn code(e: &clickhouse::error::Error) -> Option<u32> {
    let clickhouse::error::Error::BadResponse(message) = e else {
        return None;
    };
    let rest = message.trim_start().strip_prefix("Code: ")?;
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..digits].parse().ok()
}

/// Whether `e` is an insert refused while the previous one waits for its quorum.
pub(crate) fn waits_for_quorum(e: &clickhouse::error::Error) -> bool {
    code(e) == Some(UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE)
}

/// Runs `insert` (which makes its insert anew each time it is called) until the server
/// stops refusing it for a previous insert's quorum, or [`PATIENCE`] runs out; counts each
/// time it is sent again in `again`. A refused insert wrote nothing into the table that
/// refused it, so sending it again writes it once (a deduplication token it carries still
/// names it; see the module for blocks an earlier try wrote).
pub(crate) async fn in_turn<T, F, Fut>(
    again: &AtomicU64,
    mut insert: F,
) -> Result<T, clickhouse::error::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, clickhouse::error::Error>>,
{
    let until = tokio::time::Instant::now() + PATIENCE;
    let mut wait = FIRST_WAIT;
    loop {
        match insert().await {
            Err(e) if waits_for_quorum(&e) && tokio::time::Instant::now() + wait < until => {
                again.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(error = %e, "an insert waits for the previous one's quorum");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(LONGEST_WAIT);
            }
            outcome => return outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clickhouse::error::Error;

    /// What the engine (26.9) answers for an insert refused so, as the client reports it.
    fn refused() -> Error {
        Error::BadResponse(
            "Code: 286. DB::Exception: Quorum for previous write has not been satisfied yet. \
             Status: version: 1 (UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE) (version 26.9.2.1)"
                .into(),
        )
    }

    #[test]
    fn the_server_s_code_is_read_from_its_exception() {
        assert_eq!(code(&refused()), Some(286));
        assert!(waits_for_quorum(&refused()));
        let other = Error::BadResponse(
            "Code: 2860. DB::Exception: something else (SOMETHING) (version 26.9.2.1)".into(),
        );
        assert_eq!(code(&other), Some(2860));
        assert!(!waits_for_quorum(&other));
        assert_eq!(code(&Error::BadResponse("bad gateway".into())), None);
        assert_eq!(code(&Error::TimedOut), None);
    }

    #[tokio::test(start_paused = true)]
    async fn an_insert_refused_for_a_previous_quorum_is_sent_again_until_it_is_taken() {
        let again = AtomicU64::new(0);
        let mut calls = 0;
        let outcome = in_turn(&again, || {
            calls += 1;
            let n = calls;
            async move {
                if n < 4 {
                    Err(refused())
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(outcome.ok(), Some(4), "the fourth try is taken");
        assert_eq!(again.load(Ordering::Relaxed), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn any_other_failure_is_answered_at_once() {
        let again = AtomicU64::new(0);
        let mut calls = 0;
        let outcome: Result<(), Error> = in_turn(&again, || {
            calls += 1;
            async {
                Err(Error::BadResponse(
                    "Code: 60. DB::Exception: no table (UNKNOWN_TABLE)".into(),
                ))
            }
        })
        .await;
        assert_eq!(outcome.err().and_then(|e| code(&e)), Some(60));
        assert_eq!(calls, 1);
        assert_eq!(again.load(Ordering::Relaxed), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_that_outlasts_the_patience_is_answered() {
        let again = AtomicU64::new(0);
        let started = tokio::time::Instant::now();
        let outcome: Result<(), Error> = in_turn(&again, || async { Err(refused()) }).await;
        assert!(outcome.as_ref().is_err_and(waits_for_quorum));
        let waited = started.elapsed();
        assert!(
            waited <= PATIENCE && waited >= PATIENCE - LONGEST_WAIT,
            "gave up after {waited:?}"
        );
    }
}
