//! What the three runs must agree on: the end state of every table, no
//! orphan, and the rows changed.

use std::hash::{DefaultHasher, Hash, Hasher};

use cascadia::Schema;
use rusqlite::Connection;
use rusqlite::types::ValueRef;

/// One table at the end of a run: its rows, and a digest of every row in
/// key order (every column's type and value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableState {
    /// The table.
    pub table: String,
    /// Rows it holds.
    pub rows: u64,
    /// The digest of its rows.
    pub digest: u64,
}

/// Every table of `schema` in the database of `conn`, in schema order.
pub fn end_state(conn: &Connection, schema: &Schema) -> rusqlite::Result<Vec<TableState>> {
    schema
        .tables()
        .map(|table| {
            let columns: Vec<&str> = table.columns.iter().map(|c| &*c.name).collect();
            let key: Vec<&str> = table.primary_key.iter().map(|c| &**c).collect();
            table_state(conn, &table.name, &columns, &key)
        })
        .collect()
}

/// One table's [`TableState`].
fn table_state(
    conn: &Connection,
    table: &str,
    columns: &[&str],
    key: &[&str],
) -> rusqlite::Result<TableState> {
    let sql = format!(
        "SELECT {} FROM {table} ORDER BY {}",
        columns.join(", "),
        key.join(", ")
    );
    let mut statement = conn.prepare(&sql)?;
    let mut query = statement.query([])?;
    let (mut rows, mut hasher) = (0u64, DefaultHasher::new());
    while let Some(row) = query.next()? {
        rows += 1;
        for i in 0..columns.len() {
            hash_value(row.get_ref(i)?, &mut hasher);
        }
    }
    Ok(TableState {
        table: table.to_owned(),
        rows,
        digest: hasher.finish(),
    })
}

/// Feeds one value, with its type, to `hasher`.
fn hash_value(value: ValueRef<'_>, hasher: &mut DefaultHasher) {
    match value {
        ValueRef::Null => 0u8.hash(hasher),
        ValueRef::Integer(integer) => (1u8, integer).hash(hasher),
        ValueRef::Real(real) => (2u8, real.to_bits()).hash(hasher),
        ValueRef::Text(text) => (3u8, text).hash(hasher),
        ValueRef::Blob(blob) => (4u8, blob).hash(hasher),
    }
}

/// Rows `PRAGMA foreign_key_check` reports (orphans).
pub fn orphans(conn: &Connection) -> rusqlite::Result<u64> {
    let mut statement = conn.prepare("PRAGMA foreign_key_check")?;
    let mut query = statement.query([])?;
    let mut count = 0;
    while query.next()?.is_some() {
        count += 1;
    }
    Ok(count)
}

/// Rows in `table`.
pub fn count(conn: &Connection, table: &str) -> rusqlite::Result<u64> {
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
        row.get::<_, i64>(0)
    })
    .map(|n| n as u64)
}
