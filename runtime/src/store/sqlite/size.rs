//! `cascadia_size(...)`: the SQL function that gives a row's size as
//! budgets count it, so that a set-based write learns how many rows fit its
//! byte limit without copying the rows out of SQLite.
//!
//! A limited set-based `DELETE` or `UPDATE` runs in two statements (see
//! [`children`](super::children)): a `SELECT cascadia_size(c1, c2, ...)`
//! of the candidate rows in scan order, stepped only until a limit is
//! reached, then the write of exactly the rows that fit, picked by the same
//! scan with a `LIMIT`. The function stays out of the write itself: any
//! function call in a statement that writes several rows makes SQLite open
//! a statement journal, a copy of every page the statement changes.

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;

/// The function's name in SQL.
pub(super) const NAME: &str = "cascadia_size";

/// The size of a value as budgets count it ([`Value::size_bytes`]): 1 for
/// NULL, 8 for a number, the length in bytes of text and blobs.
///
/// [`Value::size_bytes`]: crate::Value::size_bytes
fn size(value: ValueRef<'_>) -> i64 {
    match value {
        ValueRef::Null => 1,
        ValueRef::Integer(_) | ValueRef::Real(_) => 8,
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => bytes.len() as i64,
    }
}

/// Registers `cascadia_size` on `conn`: the sum of its arguments' sizes.
pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function(NAME, -1, flags, |ctx| {
        Ok((0..ctx.len()).map(|i| size(ctx.get_raw(i))).sum::<i64>())
    })
}
