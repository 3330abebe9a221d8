//! `Wakeup`: how a database tells its idle workers that a job was queued,
//! so they start on it now instead of at their next poll.
//!
//! A counter of wake-ups under a mutex, and a condition variable: a worker
//! reads the counter before it looks for jobs, and after finding none waits
//! until the counter moves past what it read (or its poll interval ends).
//! A job queued while the worker was looking therefore still wakes it. The
//! async worker (cargo feature `tokio`) waits on a `tokio::sync::Notify`
//! raised by the same call.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Wake-ups shared by a database and the workers made from it.
#[derive(Debug, Default)]
pub(crate) struct Wakeup {
    /// How many wake-ups there have been.
    count: Mutex<u64>,
    raised: Condvar,
    #[cfg(feature = "tokio")]
    pub(crate) notify: ::tokio::sync::Notify,
}

impl Wakeup {
    /// The number of wake-ups so far: pass it to [`Wakeup::wait_past`].
    pub(crate) fn seen(&self) -> u64 {
        *self.count.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wakes every worker waiting on this.
    pub(crate) fn raise(&self) {
        let mut count = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        *count = count.wrapping_add(1);
        drop(count);
        self.raised.notify_all();
        #[cfg(feature = "tokio")]
        self.notify.notify_waiters();
    }

    /// Waits until there has been a wake-up after the `seen`-th, or for
    /// `timeout`, whichever comes first; `true` when woken.
    pub(crate) fn wait_past(&self, seen: u64, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut count = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        while *count == seen {
            // No deadline: a timeout too long to represent waits for a wake-up.
            let left = match deadline {
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left,
                    _ => return false,
                },
                None => Duration::from_secs(3600),
            };
            count = self
                .raised
                .wait_timeout(count, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_wakeup_raised_before_the_wait_is_not_missed() {
        let wakeup = Wakeup::default();
        let seen = wakeup.seen();
        wakeup.raise();
        let start = Instant::now();
        assert!(wakeup.wait_past(seen, Duration::from_secs(10)));
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn a_wait_without_a_wakeup_times_out() {
        let wakeup = Wakeup::default();
        let start = Instant::now();
        assert!(!wakeup.wait_past(wakeup.seen(), Duration::from_millis(30)));
        assert!(start.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn a_wakeup_from_another_thread_ends_the_wait() {
        let wakeup = Arc::new(Wakeup::default());
        let seen = wakeup.seen();
        let other = wakeup.clone();
        let raiser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            other.raise();
        });
        let start = Instant::now();
        assert!(wakeup.wait_past(seen, Duration::from_secs(10)));
        assert!(start.elapsed() < Duration::from_secs(5));
        raiser.join().expect("raiser");
    }
}
