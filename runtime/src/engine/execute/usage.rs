//! Work done in one transaction, against its [`Budget`].

use crate::model::budget::Budget;

/// Work done so far against a [`Budget`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    pub(crate) rows_written: u64,
    pub(crate) bytes_written: u64,
    pub(crate) rows_read: u64,
}

impl Budget {
    /// Whether `usage` reached any limit.
    pub(crate) fn exhausted(&self, usage: &Usage) -> bool {
        let over = |limit: Option<u64>, used: u64| limit.is_some_and(|limit| used >= limit);
        over(self.rows_written, usage.rows_written)
            || over(self.bytes_written, usage.bytes_written)
            || over(self.rows_read, usage.rows_read)
    }

    /// How many more rows may be written after `usage` (`u64::MAX` when
    /// unlimited).
    pub(crate) fn rows_left(&self, usage: &Usage) -> u64 {
        self.rows_written
            .map_or(u64::MAX, |limit| limit.saturating_sub(usage.rows_written))
    }

    /// How many more bytes may be written after `usage`.
    pub(crate) fn bytes_left(&self, usage: &Usage) -> u64 {
        self.bytes_written
            .map_or(u64::MAX, |limit| limit.saturating_sub(usage.bytes_written))
    }
}
