//! Generated rows: every table of every shape has an integer key, perhaps
//! one parent key, then two text columns (a short name and a 70-byte
//! payload), about 100 bytes a row. The texts are a function of the table
//! and the key, so that every database of a shape gets the same rows.

use rusqlite::{Statement, Transaction};

/// Bytes of the payload column.
const PAYLOAD_BYTES: usize = 70;

/// `base × scale`, rounded, and at least 1.
pub fn scaled(base: u64, scale: f64) -> u64 {
    ((base as f64 * scale).round() as u64).max(1)
}

/// The name column of row `id` of `table`.
pub fn name(table: &str, id: i64) -> String {
    format!("{table} {id}")
}

/// The payload column of row `id` of `table`: deterministic text.
pub fn payload(table: &str, id: i64) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789 ";
    let salt = table
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(131).wrapping_add(u64::from(b)));
    let mut state = (salt ^ id as u64)
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1);
    (0..PAYLOAD_BYTES)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ALPHABET[(state >> 33) as usize % ALPHABET.len()] as char
        })
        .collect()
}

/// Inserts generated rows into one table, through one prepared statement.
pub struct Filler<'t> {
    table: &'static str,
    statement: Statement<'t>,
}

impl<'t> Filler<'t> {
    /// A filler for `table` whose columns are `columns`: `[key, name,
    /// payload]` for a root table, `[key, parent, name, payload]` for a
    /// child table.
    pub fn new(
        tx: &'t Transaction<'_>,
        table: &'static str,
        columns: &[&str],
    ) -> rusqlite::Result<Self> {
        let placeholders = (1..=columns.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES ({placeholders})",
            columns.join(", ")
        );
        Ok(Filler {
            table,
            statement: tx.prepare(&sql)?,
        })
    }

    /// Inserts the row with key `id` (a root table's).
    pub fn root(&mut self, id: i64) -> rusqlite::Result<()> {
        let (name, payload) = (name(self.table, id), payload(self.table, id));
        self.statement
            .execute(rusqlite::params![id, name, payload])
            .map(drop)
    }

    /// Inserts the row with key `id` referencing `parent` (a child table's).
    pub fn child(&mut self, id: i64, parent: i64) -> rusqlite::Result<()> {
        let (name, payload) = (name(self.table, id), payload(self.table, id));
        self.statement
            .execute(rusqlite::params![id, parent, name, payload])
            .map(drop)
    }
}
