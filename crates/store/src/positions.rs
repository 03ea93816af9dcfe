//! `stored` positions: every statement's `stored` time (µs) is unique and increases with the
//! commit order, never behind the clock; and Consistent-Through, which never passes a position
//! still being written.

use std::sync::atomic::{AtomicI64, Ordering};

/// Microseconds since the Unix epoch, now: the store's clock.
pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// The positions of one store: who hands them out holds the last one given; this marks the
/// round being written, so Consistent-Through stays before it.
#[derive(Debug, Default)]
pub struct Positions {
    /// The first position of the round in progress, or 0 when none is.
    pending_since: AtomicI64,
}

impl Positions {
    /// Starts a round after position `last`: its positions are pending until the round is
    /// dropped (written or not).
    pub fn start(&self, last: i64) -> Round<'_> {
        let last = last.max(now_micros() - 1);
        // Marked before a position is handed out: Consistent-Through never passes one.
        self.pending_since.store(last + 1, Ordering::SeqCst);
        Round {
            positions: self,
            last,
        }
    }

    /// Every statement stored before this instant (µs) is visible.
    pub fn consistent_through(&self) -> i64 {
        // Read the clock before the pending marker: a round that starts after the marker was
        // read hands out positions at or after `now`.
        let now = now_micros();
        match self.pending_since.load(Ordering::SeqCst) {
            0 => now - 1,
            pending => pending.min(now) - 1,
        }
    }
}

/// The positions of one round, handed out in order.
#[derive(Debug)]
pub struct Round<'a> {
    positions: &'a Positions,
    last: i64,
}

impl Round<'_> {
    /// The next position: after the last one and not before the clock.
    pub fn next_position(&mut self) -> i64 {
        self.last = (self.last + 1).max(now_micros());
        self.last
    }

    /// The last position handed out (the one the round started after, when none was).
    pub fn last(&self) -> i64 {
        self.last
    }
}

impl Drop for Round<'_> {
    fn drop(&mut self) {
        self.positions.pending_since.store(0, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_increase_even_when_the_clock_is_behind_the_last_one() {
        let positions = Positions::default();
        let ahead = now_micros() + 10_000_000;
        let mut round = positions.start(ahead);
        let (a, b) = (round.next_position(), round.next_position());
        assert_eq!((a, b), (ahead + 1, ahead + 2));
    }

    #[test]
    fn consistent_through_stays_before_a_round_in_progress_and_catches_up_after() {
        let positions = Positions::default();
        let ahead = now_micros() + 10_000_000;
        let round = positions.start(ahead);
        assert!(positions.consistent_through() < now_micros());
        drop(round);
        let mut round = positions.start(0);
        let first = round.next_position();
        assert!(positions.consistent_through() < first);
        drop(round);
        assert!(positions.consistent_through() >= first - 1);
    }
}
