//! Where a plugin call runs. A v0.2 validator or transformer granted nothing (no HTTP host, no
//! directory) runs on the request's own thread, within a budget of [`INLINE_TICKS`] epoch ticks
//! (10–20 ms): handing a batch to a plugin thread and back cost more than such a plugin's own
//! work (bench/RESULTS.md). A call that runs past the budget is interrupted and made again on a
//! plugin thread with the plugin's whole deadline. When the plugin itself used the time (at
//! least [`INLINE_CPU`] of CPU in the call), or its calls ran past the budget
//! [`OVERRUNS`] times in a row (a loaded machine's threads wait for a core too), its calls run
//! on the plugin threads, where a plugin that spins takes only the CPU the server leaves
//! (`threads`), until [`RETURN_AFTER`] calls there in a row each used less than
//! [`RETURN_CPU`]: then it runs on the request's thread again, so one odd call does not cost
//! a cheap plugin its place for good. Every other call runs on the plugin threads.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// The inline budget, in epoch ticks of [`crate::engine::EPOCH_TICK`]: a call is interrupted at
/// the second tick after it starts, 10 to 20 ms.
pub const INLINE_TICKS: u64 = 2;

/// CPU time a call past the budget must have used for its plugin to leave the request's
/// thread at once: half a tick (a call the OS kept waiting for a core used less).
pub const INLINE_CPU: Duration = Duration::from_millis(5);

/// Calls past the budget in a row after which a plugin leaves the request's thread whatever
/// CPU they used.
pub const OVERRUNS: u32 = 3;

/// Calls in a row on the plugin threads, each cheap ([`RETURN_CPU`]), after which a plugin
/// that left the request's thread runs there again.
pub const RETURN_AFTER: u32 = 1_000;

/// CPU time under which a call on the plugin threads counts towards its plugin's return: a
/// fifth of [`INLINE_CPU`].
pub const RETURN_CPU: Duration = Duration::from_millis(1);

/// Where a call runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// On the caller's thread, within the inline budget.
    Inline,
    /// On a plugin thread, with the plugin's whole deadline.
    Threads,
}

/// A plugin's standing for inline calls.
#[derive(Debug)]
pub(crate) struct Inline {
    /// Whether it may ever run on the caller's thread (a v0.2 field plugin granted nothing).
    eligible: bool,
    /// Whether its calls may run on the caller's thread.
    allowed: AtomicBool,
    /// Its cheap calls on the plugin threads since it left the caller's thread, or since its
    /// last call there that was not cheap.
    cheap_in_a_row: AtomicU32,
    /// Its calls past the budget since its last inline call that ended in time.
    in_a_row: AtomicU32,
    /// Its calls past the budget, made again on a plugin thread.
    pub(crate) handed_over: AtomicU64,
}

impl Inline {
    /// The standing of a plugin that may (`eligible`) run inline or may not.
    pub(crate) fn new(eligible: bool) -> Self {
        Inline {
            eligible,
            allowed: AtomicBool::new(eligible),
            cheap_in_a_row: AtomicU32::new(0),
            in_a_row: AtomicU32::new(0),
            handed_over: AtomicU64::new(0),
        }
    }

    /// Whether its calls may run on the caller's thread now.
    pub(crate) fn allowed(&self) -> bool {
        self.allowed.load(Ordering::Relaxed)
    }

    /// An inline call ended within the budget.
    pub(crate) fn in_time(&self) {
        if self.in_a_row.load(Ordering::Relaxed) != 0 {
            self.in_a_row.store(0, Ordering::Relaxed);
        }
    }

    /// An inline call ran past the budget having used `cpu` (None: unknown); true when the
    /// plugin's calls leave the request's thread now.
    pub(crate) fn overran(&self, cpu: Option<Duration>) -> bool {
        self.handed_over.fetch_add(1, Ordering::Relaxed);
        let in_a_row = self.in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
        let moves = cpu.is_none_or(|cpu| cpu >= INLINE_CPU) || in_a_row >= OVERRUNS;
        if !moves {
            return false;
        }
        self.cheap_in_a_row.store(0, Ordering::Relaxed);
        self.allowed.swap(false, Ordering::Relaxed)
    }

    /// Whether it left the caller's thread and may come back: its calls on the plugin threads
    /// are then timed ([`Inline::on_threads`]).
    pub(crate) fn away(&self) -> bool {
        self.eligible && !self.allowed()
    }

    /// A call on the plugin threads ended having used `cpu`; true when the plugin runs on the
    /// caller's thread again from now on.
    pub(crate) fn on_threads(&self, cpu: Duration) -> bool {
        if !self.away() {
            return false;
        }
        if cpu >= RETURN_CPU {
            self.cheap_in_a_row.store(0, Ordering::Relaxed);
            return false;
        }
        if self.cheap_in_a_row.fetch_add(1, Ordering::Relaxed) + 1 < RETURN_AFTER {
            return false;
        }
        self.cheap_in_a_row.store(0, Ordering::Relaxed);
        self.in_a_row.store(0, Ordering::Relaxed);
        !self.allowed.swap(true, Ordering::Relaxed)
    }
}

/// The CPU time the calling thread has used (None where it cannot be read).
pub(crate) fn thread_cpu() -> Option<Duration> {
    #[cfg(target_os = "linux")]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes the calling thread's CPU clock into `ts`, which lives
        // through the call.
        let done = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        if done == 0 {
            return Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_that_used_the_budgets_cpu_moves_its_plugin_off_the_requests_thread_at_once() {
        let inline = Inline::new(true);
        assert!(inline.overran(Some(Duration::from_millis(12))));
        assert!(!inline.allowed());
        assert!(
            !inline.overran(Some(Duration::from_millis(12))),
            "it moves once"
        );
    }

    #[test]
    fn calls_kept_waiting_for_a_core_move_it_only_when_they_overrun_three_times_in_a_row() {
        let inline = Inline::new(true);
        let waited = Some(Duration::from_millis(1));
        assert!(!inline.overran(waited));
        assert!(!inline.overran(waited));
        inline.in_time();
        assert!(!inline.overran(waited));
        assert!(!inline.overran(waited));
        assert!(inline.allowed());
        assert!(inline.overran(waited));
        assert!(!inline.allowed());
        assert_eq!(inline.handed_over.load(Ordering::Relaxed), 5);
    }

    #[test]
    fn a_plugin_that_left_comes_back_after_a_thousand_cheap_calls_on_the_plugin_threads() {
        let inline = Inline::new(true);
        assert!(inline.overran(Some(INLINE_CPU)));
        let cheap = RETURN_CPU / 2;
        for _ in 1..RETURN_AFTER {
            assert!(!inline.on_threads(cheap));
        }
        assert!(!inline.allowed());
        assert!(
            inline.on_threads(cheap),
            "the thousandth cheap call brings it back"
        );
        assert!(inline.allowed());
        assert!(!inline.on_threads(cheap), "a plugin inline is not away");
    }

    #[test]
    fn a_call_on_the_plugin_threads_that_was_not_cheap_starts_the_count_again() {
        let inline = Inline::new(true);
        inline.overran(None);
        let cheap = RETURN_CPU / 2;
        for _ in 1..RETURN_AFTER {
            inline.on_threads(cheap);
        }
        assert!(!inline.on_threads(RETURN_CPU));
        for _ in 1..RETURN_AFTER {
            assert!(!inline.on_threads(cheap));
        }
        assert!(inline.on_threads(cheap));
        // Having come back, one more overrun of the budget's CPU sends it away again.
        assert!(inline.overran(Some(INLINE_CPU)));
        assert!(inline.away());
    }

    #[test]
    fn a_plugin_not_eligible_never_runs_inline_and_the_thread_clock_runs() {
        let never = Inline::new(false);
        assert!(!never.allowed());
        assert!(!never.away());
        for _ in 0..=RETURN_AFTER {
            assert!(!never.on_threads(Duration::ZERO));
        }
        assert!(!never.allowed());
        let before = thread_cpu().unwrap();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = std::hint::black_box(x.wrapping_add(i));
        }
        assert!(thread_cpu().unwrap() > before);
    }
}
