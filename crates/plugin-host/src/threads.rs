//! The threads plugin code runs on: a pool at a lower CPU priority (nice +10 on Linux) than the
//! server's own threads. A plugin spinning until its deadline then takes the CPU time the
//! server's request handling and store writer leave, instead of half of it.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};

/// Threads in the pool: calls running at once before further calls wait for one to end.
const THREADS: usize = 32;
/// The nice value of plugin threads (the server's own run at 0).
const NICE: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// The pool, started on first use.
static POOL: OnceLock<Sender<Job>> = OnceLock::new();

/// Why a plugin job gave no result.
#[derive(Debug, thiserror::Error)]
pub enum ThreadsError {
    /// The job panicked, or the pool could not take it.
    #[error("the plugin thread failed")]
    Failed,
}

/// Runs `job` on a plugin thread and waits for its result without blocking the async workers.
pub async fn run<T: Send + 'static>(
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ThreadsError> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        if let Ok(value) = std::panic::catch_unwind(AssertUnwindSafe(job)) {
            let _ = reply.send(value);
        }
    });
    POOL.get_or_init(start)
        .send(job)
        .map_err(|_| ThreadsError::Failed)?;
    answer.await.map_err(|_| ThreadsError::Failed)
}

fn start() -> Sender<Job> {
    let (jobs, queue) = channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    for i in 0..THREADS {
        let queue = queue.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("xlrs-plugin-{i}"))
            .spawn(move || work(&queue));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start a plugin thread");
        }
    }
    jobs
}

fn work(queue: &Mutex<Receiver<Job>>) {
    lower_priority();
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

/// Lowers the calling thread's CPU priority (Linux: nice is per thread).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid and setpriority take no pointers; they only read and set this
        // thread's scheduling priority.
        let done = unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::setpriority(libc::PRIO_PROCESS, tid, NICE)
        };
        if done != 0 {
            tracing::warn!("cannot lower the priority of a plugin thread");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_and_a_panicking_job_fails_without_losing_its_thread() {
        assert_eq!(run(|| 6 * 7).await.unwrap(), 42);
        let results = futures::future::join_all((0..THREADS * 2).map(|i| run(move || i))).await;
        assert!(results
            .iter()
            .enumerate()
            .all(|(i, r)| *r.as_ref().unwrap() == i));
        assert!(run(|| panic!("a plugin host bug")).await.is_err());
        assert_eq!(run(|| "still serving").await.unwrap(), "still serving");
    }
}
