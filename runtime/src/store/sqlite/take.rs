//! `cascadia_take(...)`: the SQL function that keeps a set-based write
//! within its row and byte limits in the same pass as the write itself.
//!
//! A set-based `DELETE` or `UPDATE` ends its `WHERE` clause with
//! `cascadia_take(c1, c2, ...)`, the columns of the row (for an `UPDATE`,
//! those it does not set). SQLite evaluates it once for each row that
//! matches the rest of the clause, in the order it visits them; the function
//! adds the row's size ([`Value::size_bytes`] summed, plus the size of the
//! values an `UPDATE` writes) and answers whether the row still fits: so the
//! statement writes at most the limits, counts what it wrote, and says
//! whether it left any row out — without reading the rows back with
//! `RETURNING`.
//!
//! [`Value::size_bytes`]: crate::Value::size_bytes

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;

/// The function's name in SQL.
pub(super) const NAME: &str = "cascadia_take";

/// The limits and the tally of the statement running now.
#[derive(Debug, Clone, Default)]
pub(super) struct Take {
    /// Most rows to take.
    pub(super) rows: u64,
    /// Most bytes to take (`None`: no limit).
    pub(super) bytes: Option<u64>,
    /// Take the first row whatever its size.
    pub(super) first_always: bool,
    /// Bytes each row gets besides its arguments (an `UPDATE`'s new
    /// values).
    pub(super) extra: u64,
    /// Rows taken so far.
    pub(super) taken: u64,
    /// Their bytes.
    pub(super) taken_bytes: u64,
    /// Whether a row was left out (a limit was reached).
    pub(super) refused: bool,
}

impl Take {
    /// Whether a row of `size` bytes fits; counts it if it does.
    fn offer(&mut self, size: u64) -> bool {
        let size = size + self.extra;
        let first = self.first_always && self.taken == 0;
        let rows_fit = self.taken < self.rows;
        let bytes_fit = self
            .bytes
            .is_none_or(|limit| self.taken_bytes + size <= limit);
        if (rows_fit && bytes_fit) || first {
            self.taken += 1;
            self.taken_bytes += size;
            true
        } else {
            self.refused = true;
            false
        }
    }
}

/// The state shared by the connection's `cascadia_take` and the store.
#[derive(Debug, Clone, Default)]
pub(super) struct Tally(Arc<Mutex<Take>>);

impl Tally {
    /// The state, for setting up a statement or reading its tally.
    pub(super) fn lock(&self) -> MutexGuard<'_, Take> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The size of a value as budgets count it: 1 for NULL, 8 for a number,
/// the length in bytes of text and blobs.
fn size(value: ValueRef<'_>) -> u64 {
    match value {
        ValueRef::Null => 1,
        ValueRef::Integer(_) | ValueRef::Real(_) => 8,
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => bytes.len() as u64,
    }
}

/// Registers `cascadia_take` on `conn`, sharing `tally`.
pub(super) fn register(conn: &Connection, tally: &Tally) -> rusqlite::Result<()> {
    let tally = tally.clone();
    // Not deterministic: it counts, so SQLite must call it once per row.
    conn.create_scalar_function(NAME, -1, FunctionFlags::SQLITE_UTF8, move |ctx| {
        let row: u64 = (0..ctx.len()).map(|i| size(ctx.get_raw(i))).sum();
        Ok(tally.lock().offer(row))
    })
}
