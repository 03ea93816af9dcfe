//! Where a plugin call runs. A v0.2 validator or transformer granted nothing (no HTTP host, no
//! directory) runs on the request's own thread, within a budget of [`INLINE_TICKS`] epoch ticks
//! (10–20 ms): handing a batch to a plugin thread and back cost more than such a plugin's own
//! work (bench/RESULTS.md). A call that runs past the budget is interrupted, made again on a
//! plugin thread with the plugin's whole deadline, and the plugin's calls run there from then
//! on, where a plugin that spins takes only the CPU the server leaves (`threads`). Every other
//! call runs on the plugin threads.

/// The inline budget, in epoch ticks of [`crate::engine::EPOCH_TICK`]: a call is interrupted at
/// the second tick after it starts, 10 to 20 ms.
pub const INLINE_TICKS: u64 = 2;

/// Where a call runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// On the caller's thread, within the inline budget.
    Inline,
    /// On a plugin thread, with the plugin's whole deadline.
    Threads,
}
