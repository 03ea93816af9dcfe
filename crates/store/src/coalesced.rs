//! A read whose concurrent callers share runs: each caller gets the result of a run that
//! started after it called, so what was true when it called is in the result, and callers
//! that arrive while a run is in progress share the next one instead of each making its own.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

/// A coalesced read of a `T` (see the module).
#[derive(Debug, Default)]
pub struct Coalesced<T> {
    /// Runs started so far.
    started: AtomicU64,
    /// The last run that completed (its number, and what it read): held while a run is in
    /// progress, so runs happen one at a time.
    last: tokio::sync::Mutex<Option<(u64, T)>>,
}

impl<T: Clone> Coalesced<T> {
    /// What `read` returns when run after this call began: the result of a run another caller
    /// started after this call began, else of a new run.
    pub async fn get<E, F, Fut>(&self, read: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let arrived = self.started.load(Ordering::Acquire);
        let mut last = self.last.lock().await;
        if let Some((run, value)) = &*last {
            if *run > arrived {
                return Ok(value.clone());
            }
        }
        let run = self.started.fetch_add(1, Ordering::AcqRel) + 1;
        let value = read().await?;
        *last = Some((run, value.clone()));
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    /// A read that counts its runs and answers its run's number once `gate` lets it.
    async fn counted(runs: &AtomicUsize, gate: &tokio::sync::Semaphore) -> Result<usize, ()> {
        let run = runs.fetch_add(1, Ordering::SeqCst) + 1;
        gate.acquire().await.map_err(|_| ())?.forget();
        Ok(run)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn callers_arriving_during_a_run_share_the_next_run_not_the_one_in_progress() {
        let read = Arc::new(Coalesced::<usize>::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let call = || {
            let (read, runs, gate) = (read.clone(), runs.clone(), gate.clone());
            tokio::spawn(async move { read.get(|| counted(&runs, &gate)).await })
        };
        let first = call();
        tokio::task::yield_now().await;
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1,
            "the first caller runs the read"
        );
        let (second, third) = (call(), call());
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1,
            "the others wait for it to end"
        );
        gate.add_permits(10);
        assert_eq!(first.await.unwrap(), Ok(1));
        assert_eq!(
            second.await.unwrap(),
            Ok(2),
            "a run begun before a caller arrived is not its answer"
        );
        assert_eq!(third.await.unwrap(), Ok(2), "the second run serves both");
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert_eq!(
            read.get(|| counted(&runs, &gate)).await,
            Ok(3),
            "a later caller runs the read again"
        );
    }

    #[tokio::test]
    async fn a_failed_run_answers_its_caller_and_the_next_caller_runs_again() {
        let read = Coalesced::<u8>::default();
        assert_eq!(
            read.get(|| async { Err::<u8, &str>("down") }).await,
            Err("down")
        );
        assert_eq!(read.get(|| async { Ok::<u8, &str>(7) }).await, Ok(7));
    }
}
