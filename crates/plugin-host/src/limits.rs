//! What one call may use: memory, instances and tables, enforced by wasmtime's resource
//! limiter, which also records when it refused memory, so a failed call is classified from
//! what the limiter did and not from an error's text.

use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};

/// The limiter of one call's store.
pub struct CallLimits {
    inner: StoreLimits,
    memory_refused: bool,
}

impl CallLimits {
    /// Limits for a call allowed `memory_mb` MiB of linear memory.
    pub fn new(memory_mb: u64) -> Self {
        Self {
            inner: StoreLimitsBuilder::new()
                .memory_size(memory_mb as usize * 1024 * 1024)
                .instances(16)
                .tables(16)
                .memories(4)
                .trap_on_grow_failure(true)
                .build(),
            memory_refused: false,
        }
    }

    /// Forgets a refusal of an earlier call on the same instance.
    pub fn begin_call(&mut self) {
        self.memory_refused = false;
    }

    /// Whether the call asked for more memory than it is allowed (the growth was refused and
    /// the call trapped).
    pub fn memory_refused(&self) -> bool {
        self.memory_refused
    }
}

impl ResourceLimiter for CallLimits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.inner.memory_growing(current, desired, maximum);
        if !matches!(allowed, Ok(true)) {
            self.memory_refused = true;
        }
        allowed
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        // The engine itself could not grow the memory (its own bound): refused all the same.
        self.memory_refused = true;
        self.inner.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1024 * 1024;

    #[test]
    fn growing_within_the_limit_is_allowed_and_not_recorded() {
        let mut limits = CallLimits::new(32);
        assert!(limits.memory_growing(MIB, 16 * MIB, None).unwrap());
        assert!(!limits.memory_refused());
    }

    #[test]
    fn growing_past_the_limit_traps_and_is_recorded() {
        let mut limits = CallLimits::new(32);
        assert!(limits.memory_growing(16 * MIB, 48 * MIB, None).is_err());
        assert!(limits.memory_refused());
    }
}
