//! Budgets: how much one transaction of a batched delete may do.

use serde::{Deserialize, Serialize};

/// Limits on the work of one transaction (one batch) of a batched delete;
/// `None` is unlimited.
///
/// - `rows_written`: rows deleted plus rows updated (SET NULL / SET DEFAULT).
///   A batch stops *before* the write that would pass it: it deletes part of
///   a frame if it must, so a batch never writes more rows than this.
/// - `bytes_written`: the serialised size of the rows written, as
///   [`Value::size_bytes`](crate::Value::size_bytes) counts it (8 per
///   number, the length of text and blobs, 1 per NULL). Checked like
///   `rows_written`. Without it, a store need not read row sizes at all:
///   the SQLite store then lists the rows a set-based write takes from the
///   foreign key's index alone, without reading the rows (faster on wide
///   rows), and the bytes [`Progress`](crate::Progress) reports for those
///   writes are 0. Set a byte limit (even `u64::MAX`) to have every byte
///   counted.
/// - `rows_read`: rows read (child scans, row loads). Checked between steps,
///   so a batch may read up to one page (`batch_rows`) past it. The check
///   pass of a batched delete uses it too: one read transaction per budget.
///
/// Two exceptions, both documented where they apply: a batch always writes
/// at least one row (a budget of 0 still makes progress), and it never
/// commits while a data cycle (rows referencing each other through CASCADE
/// foreign keys) is half deleted, so the rows of one cycle are deleted in one
/// transaction whatever the budget.
///
/// Defaults ([`Budget::DEFAULT`]): 1,000 rows written, 4 MiB written, 10,000
/// rows read. A schema carries its own default
/// ([`Schema::with_budget`](crate::Schema::with_budget)), and each delete may
/// override it ([`DeleteOptions::budget`](crate::DeleteOptions::budget)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Budget {
    /// Most rows written (deleted plus updated) per transaction.
    pub rows_written: Option<u64>,
    /// Most bytes written (serialised row sizes) per transaction.
    pub bytes_written: Option<u64>,
    /// Most rows read per transaction.
    pub rows_read: Option<u64>,
}

impl Budget {
    /// 1,000 rows written, 4 MiB written, 10,000 rows read per transaction.
    pub const DEFAULT: Budget = Budget {
        rows_written: Some(1_000),
        bytes_written: Some(4 << 20),
        rows_read: Some(10_000),
    };

    /// No limit at all: the whole delete in one transaction.
    pub const UNLIMITED: Budget = Budget {
        rows_written: None,
        bytes_written: None,
        rows_read: None,
    };

    /// Sets [`rows_written`](Self::rows_written).
    pub const fn rows_written(mut self, rows: u64) -> Self {
        self.rows_written = Some(rows);
        self
    }

    /// Sets [`bytes_written`](Self::bytes_written).
    pub const fn bytes_written(mut self, bytes: u64) -> Self {
        self.bytes_written = Some(bytes);
        self
    }

    /// Sets [`rows_read`](Self::rows_read).
    pub const fn rows_read(mut self, rows: u64) -> Self {
        self.rows_read = Some(rows);
        self
    }
}

impl Default for Budget {
    /// [`Budget::DEFAULT`].
    fn default() -> Self {
        Budget::DEFAULT
    }
}
