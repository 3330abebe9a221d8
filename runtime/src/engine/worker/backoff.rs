//! `Backoff`: how long a background worker waits before trying again after
//! its store failed — doubling from a first delay up to a cap, so a store
//! that is down is not hammered and one that is back is not left waiting
//! long.

use std::time::Duration;

/// The default first delay after a store error (100 ms).
pub const DEFAULT_RETRY_FIRST: Duration = Duration::from_millis(100);

/// The default longest delay between retries (30 s).
pub const DEFAULT_RETRY_MAX: Duration = Duration::from_secs(30);

/// Capped exponential backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    /// The delay after the first failure.
    pub(crate) first: Duration,
    /// The longest delay.
    pub(crate) max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            first: DEFAULT_RETRY_FIRST,
            max: DEFAULT_RETRY_MAX,
        }
    }
}

impl Backoff {
    /// The delay after `failures` failures in a row (1 for the first):
    /// `first × 2^(failures − 1)`, at most `max`.
    pub(crate) fn delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.first
            .checked_mul(1 << doublings)
            .unwrap_or(self.max)
            .min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_then_stays_at_the_cap() {
        let backoff = Backoff {
            first: Duration::from_millis(10),
            max: Duration::from_millis(80),
        };
        let delays: Vec<u128> = (1..=7).map(|n| backoff.delay(n).as_millis()).collect();
        assert_eq!(delays, [10, 20, 40, 80, 80, 80, 80]);
        assert_eq!(backoff.delay(u32::MAX), Duration::from_millis(80));
        assert_eq!(backoff.delay(0), Duration::from_millis(10));
    }

    #[test]
    fn a_huge_first_delay_does_not_overflow() {
        let backoff = Backoff {
            first: Duration::MAX,
            max: Duration::from_secs(5),
        };
        assert_eq!(backoff.delay(40), Duration::from_secs(5));
    }
}
